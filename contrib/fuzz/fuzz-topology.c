/*
 * fuzz-topology.c: libFuzzer harness for the topology document
 * (daemon/topology_doc.c): topology_doc_parse() on the whole input, and for
 * an accepted document topology_doc_compile() and what it produces.
 *
 * Checks (any violation aborts, which libFuzzer reports as a crash):
 *  - a refused document says where and why (err.msg not empty);
 *  - an accepted document dumps and parses back to an accepted, equal one;
 *  - an accepted document compiles (0, never -EINVAL: whatever the checks
 *    let through must be buildable), and every object it compiles to can be
 *    read back as the start-up restore reads the state: namespaces with
 *    spec_netns_from_json(), links with spec_link_from_json() (and under the
 *    key spec_link_key() gives them), addresses and routes under the keys
 *    links_addr_key() and links_route_key() give them; the paths document
 *    has a path for each object.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "log.h"
#include "spec.h"
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

static void check_objects(json_t *objs, json_t *paths)
{
	const char *key;
	json_t *doc;

	json_object_foreach(json_object_get(objs, "netns"), key, doc) {
		struct netns_spec_buf buf;

		CHECK(spec_netns_from_json(key, doc, &buf) == 0);
		spec_netns_done(&buf);
		CHECK(json_object_get(json_object_get(paths, "netns"), key));
	}
	json_object_foreach(json_object_get(objs, "link"), key, doc) {
		const char *field = NULL, *msg = NULL;
		struct link_desc d;
		char *k = NULL;

		if (spec_link_from_json(doc, &d, &field, &msg) != 0)
			fprintf(stderr, "link %s: %s: %s\n", key, field, msg);
		CHECK(spec_link_from_json(doc, &d, &field, &msg) == 0);
		CHECK(spec_link_key(d.netns, d.name, &k) == 0);
		CHECK(!strcmp(k, key));
		free(k);
		CHECK(json_object_get(json_object_get(paths, "link"), key));
	}
	json_object_foreach(json_object_get(objs, "addr"), key, doc) {
		char *k = NULL;

		CHECK(links_addr_key(doc, &k) == 0);
		CHECK(!strcmp(k, key));
		free(k);
		CHECK(json_object_get(json_object_get(paths, "addr"), key));
	}
	json_object_foreach(json_object_get(objs, "route"), key, doc) {
		char *k = NULL;

		CHECK(links_route_key(doc, &k) == 0);
		CHECK(!strcmp(k, key));
		free(k);
		CHECK(json_object_get(json_object_get(paths, "route"), key));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topology_doc_error err;
	json_t *doc = NULL, *again = NULL, *objs = NULL, *paths = NULL;
	char *text;
	int r;

	log_set_level(LOG_CRIT);
	memset(&err, 0, sizeof(err));
	r = topology_doc_parse((const char *)data, size, &doc, &err);
	if (r < 0) {
		CHECK(r == -EINVAL);
		CHECK(err.msg[0] != '\0');
		return 0;
	}
	CHECK(r == 0 && json_is_object(doc));

	text = json_dumps(doc, JSON_COMPACT);
	CHECK(text);
	r = topology_doc_parse(text, strlen(text), &again, &err);
	if (r != 0)
		fprintf(stderr, "re-parse refused: %s: %s\n", err.path, err.msg);
	CHECK(r == 0);
	CHECK(json_equal(doc, again));
	json_decref(again);
	free(text);

	r = topology_doc_compile(doc, "fuzz", &objs, &paths, &err);
	if (r != 0)
		fprintf(stderr, "compile failed (%d): %s: %s\n", r, err.path, err.msg);
	CHECK(r == 0 || r == -ENOMEM);
	if (r == 0)
		check_objects(objs, paths);
	json_decref(objs);
	json_decref(paths);
	json_decref(doc);
	return 0;
}
