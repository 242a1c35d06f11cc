/*
 * fuzz-topology.c: libFuzzer harness for topology documents
 * (daemon/topology_doc.c), the biggest structure a client hands netnsd in one
 * request.  A hostile document must be refused cleanly with a path and a
 * message, never crash, leak or hang the daemon.
 *
 * Each input goes through topology_doc_parse().  When it is accepted, it must
 * compile (topology_doc_compile()) into the four collections, every object
 * tagged with the topology's name, with a path for every key; checking it
 * again must accept it again; it must dump and parse back equal; and every
 * object it compiles to must read back as the start-up restore reads the
 * state (spec_netns_from_json(), spec_link_from_json(), the address and route
 * keys).  When it is refused, the message must be set.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "spec.h"
#include "topology_doc.h"
#include "fuzz.h"


/* Every compiled object reads back as the start-up restore reads the state. */
static void check_readback(json_t *objs)
{
	const char *key;
	json_t *doc;

	json_object_foreach(json_object_get(objs, "netns"), key, doc) {
		struct netns_spec_buf buf;

		CHECK(spec_netns_from_json(key, doc, &buf) == 0);
		spec_netns_done(&buf);
	}
	json_object_foreach(json_object_get(objs, "link"), key, doc) {
		const char *field = NULL, *msg = NULL;
		struct link_desc d;
		char *k = NULL;

		CHECK(spec_link_from_json(doc, &d, &field, &msg) == 0);
		CHECK(spec_link_key(d.netns, d.name, &k) == 0 && !strcmp(k, key));
		free(k);
	}
	json_object_foreach(json_object_get(objs, "addr"), key, doc) {
		char *k = NULL;

		CHECK(links_addr_key(doc, &k) == 0 && !strcmp(k, key));
		free(k);
	}
	json_object_foreach(json_object_get(objs, "route"), key, doc) {
		char *k = NULL;

		CHECK(links_route_key(doc, &k) == 0 && !strcmp(k, key));
		free(k);
	}
}

/* An accepted document dumps and parses back to an accepted, equal one. */
static void check_round_trip(json_t *doc)
{
	struct topology_doc_error err;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_t *again = NULL;

	CHECK(text);
	CHECK(topology_doc_parse(text, strlen(text), &again, &err) == 0);
	CHECK(json_equal(doc, again));
	json_decref(again);
	free(text);
}

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
	check_round_trip(doc);
	CHECK(topology_doc_compile(doc, "fuzz", &objs, &paths, &err) == 0);
	check_readback(objs);
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
