/*
 * topology_doc.h: the topology document (a declarative lab) as a pure
 * parser, validator and compiler.  No I/O, no state, no kernel: the input is
 * text or JSON, the output a validated document or the set of desired-state
 * objects it stands for, in exactly the shape the netns, link, addr and route
 * collections store.  Every error names the JSON path of the offending member
 * ("links[3].ends[1].node") and says why.  protocol/topology.schema.json and
 * PROTOCOL.md describe the document.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* Limits of a document. */
#define TOPOLOGY_MAX_NODES    10000
#define TOPOLOGY_MAX_LINKS    20000
#define TOPOLOGY_MAX_PER_NODE 1024 /* routes, services, addresses per end */
#define TOPOLOGY_PREFIX_MAX   8

struct topology_doc_error {
	char path[256]; /* JSON path of the offending member; "" for the document itself */
	char msg[256];
};

/*
 * Check a document: members, types, ranges, names, references between
 * nodes, links and bridges, duplicates and routes (see PROTOCOL.md, "Route
 * checks").  Returns 0, or -EINVAL with *err filled.  doc is not changed.
 */
int topology_doc_check(json_t *doc, struct topology_doc_error *err);

/*
 * Parse len bytes of JSON text and check it (the fuzzer's entry point).
 * Returns 0 and the document in *ret (the caller's reference), or -EINVAL
 * with *err filled.
 */
int topology_doc_parse(const char *buf, size_t len, json_t **ret, struct topology_doc_error *err);

/*
 * The desired-state objects a checked document stands for, tagged with the
 * topology's name: {"netns": {KEY: DOC}, "link": {...}, "addr": {...},
 * "route": {...}}, keys and documents as netns.add, link.add, addr.add and
 * route.add store them (minus the bookkeeping members "created" and
 * "identity"), each with "topology": name; and "service" (see below).  *ret_paths has the same shape and
 * maps each key to the JSON path of the member it came from.  Returns 0 or
 * -ENOMEM/-EINVAL.
 */
int topology_doc_compile(json_t *doc, const char *name, json_t **ret_objects, json_t **ret_paths,
			 struct topology_doc_error *err);

/*
 * The services of a topology: {KEY: DOC}, KEY "NAMESPACE/SERVICE", DOC the
 * proc.spawn params of the process "NAMESPACE.SERVICE" plus "service": the
 * service's name in the document, and "topology".
 */
#define TOPOLOGY_SERVICE_COLL	  "service"
#define TOPOLOGY_SERVICE_NAME_MAX 32

/* The desired-state collections a topology fills, in creation order. */
extern const char *const topology_colls[5];
