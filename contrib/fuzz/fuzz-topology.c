/*
 * fuzz-topology.c: libFuzzer harness for topology documents
 * (daemon/topology_doc.c), the biggest structure a client hands netnsd in one
 * request.  A hostile document must be refused cleanly with a path and a
 * message, never crash, leak or hang the daemon.
 *
 * Each input goes through topology_doc_parse().  When it is accepted, it must
 * compile (topology_doc_compile()) into the four collections, every object
 * tagged with the topology's name, with a path for every key; checking it
 * again must accept it again.  When it is refused, the message must be set.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology_doc.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topology_doc_error err;
	json_t *doc = NULL, *objs = NULL, *paths = NULL;

	if (topology_doc_parse((const char *)data, size, &doc, &err) < 0) {
		CHECK(err.msg[0] != '\0');
		CHECK(memchr(err.path, '\0', sizeof(err.path)));
		return 0;
	}
	CHECK(topology_doc_check(doc, &err) == 0);
	CHECK(topology_doc_compile(doc, "fuzz", &objs, &paths, &err) == 0);
	for (size_t c = 0; c < 4; c++) {
		json_t *coll = json_object_get(objs, topology_colls[c]), *v;
		const char *key;

		CHECK(json_is_object(coll));
		json_object_foreach(coll, key, v) {
			CHECK(!strcmp(json_string_value(json_object_get(v, "topology")), "fuzz"));
			CHECK(json_is_string(json_object_get(
			    json_object_get(paths, topology_colls[c]), key)));
		}
	}
	json_decref(objs);
	json_decref(paths);
	json_decref(doc);
	return 0;
}
