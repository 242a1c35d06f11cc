/*
 * test-multihost.c: the pure parts of labs across hosts: the underlay check
 * of peer.add, nodes with hosts and tunnels in topology documents, and what
 * a tunnel compiles to (an underlay vxlan as the link collection stores it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multihost.h"
#include "peer.h"
#include "tap.h"
#include "topology_doc.h"

static json_t *load(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (!v) {
		printf("Bail out! bad test JSON: %s\n", text);
		exit(99);
	}
	return v;
}

static void underlay(const char *text, const char *want_sub, const char *desc)
{
	json_t *v = load(text);
	const char *sub = NULL, *msg = peer_underlay_check(v, &sub);

	if (!want_sub)
		OK(msg == NULL, desc);
	else
		OK(msg && sub && !strcmp(sub, want_sub), desc);
	json_decref(v);
}

static void doc_error(const char *text, const char *want_path, const char *desc)
{
	struct topology_doc_error err;
	json_t *doc = load(text);
	int r = topology_doc_check(doc, &err);

	if (!want_path) {
		OK(r == 0, desc);
		if (r < 0)
			printf("# %s: %s\n", err.path, err.msg);
	} else {
		OK(r == -EINVAL && !strcmp(err.path, want_path), desc);
		if (r == 0 || strcmp(err.path, want_path))
			printf("# got '%s': %s\n", err.path, err.msg);
	}
	json_decref(doc);
}

#define NODES "\"nodes\": [{\"name\": \"n1\"}, {\"name\": \"n2\", \"host\": \"b\"}]"
#define TUN(extra)                                                                                 \
	"{\"nodes\": [{\"name\": \"n1\"}], \"tunnels\": [{\"node\": \"n1\", \"name\": \"e0\", "    \
	"\"vni\": 4242, \"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\"" extra "}]}"

int main(void)
{
	struct topology_doc_error err;
	json_t *doc, *objs = NULL, *paths = NULL, *l;

	underlay("{\"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\"}", NULL, "underlay: v4");
	underlay(
	    "{\"local\": \"fd00::1\", \"remote\": \"fd00::2\", \"dev\": \"eth0\", \"mtu\": 9000}",
	    NULL, "underlay: v6 with dev and mtu");
	underlay("{\"local\": \"198.18.0.1\"}", "remote", "underlay: remote missing");
	underlay("{\"local\": \"x\", \"remote\": \"198.18.0.2\"}", "local", "underlay: bad local");
	underlay("{\"local\": \"::1\", \"remote\": \"198.18.0.2\"}", "remote",
		 "underlay: mixed families");
	underlay("{\"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\", \"mtu\": 100}", "mtu",
		 "underlay: mtu too small for VXLAN");
	underlay("{\"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\", \"dev\": \"a/b\"}", "dev",
		 "underlay: bad dev");
	underlay("{\"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\", \"x\": 1}", "x",
		 "underlay: unknown member");

	doc = load("{" NODES "}");
	OK(multihost_doc_spans(doc), "spans: a node with a host");
	json_decref(doc);
	doc = load("{\"nodes\": [{\"name\": \"n1\"}]}");
	OK(!multihost_doc_spans(doc), "spans: no host");
	json_decref(doc);

	doc_error("{" NODES "}", NULL, "doc: host accepted");
	doc_error("{\"nodes\": [{\"name\": \"n1\", \"host\": \"-x\"}]}", "nodes[0].host",
		  "doc: host must be a peer name");
	doc_error(TUN(""), NULL, "doc: tunnel");
	doc_error(TUN(", \"port\": 8472, \"dev\": \"ul0\", \"mtu\": 1450, \"addresses\": "
		      "[\"10.0.0.1/24\"], \"impair\": {\"rate_kbit\": 1000}"),
		  NULL, "doc: tunnel with every member");
	doc_error(TUN(", \"vni\": 0"), "tunnels[0].vni", "doc: VNI 0");
	doc_error("{\"nodes\": [{\"name\": \"n1\"}], \"tunnels\": [{\"node\": \"n1\", \"name\": "
		  "\"e0\", \"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\"}]}",
		  "tunnels[0].vni", "doc: VNI missing");
	doc_error(TUN(", \"remote\": \"::2\""), "tunnels[0].local", "doc: mixed families");
	doc_error(TUN(", \"port\": 0"), "tunnels[0].port", "doc: port 0");
	doc_error(TUN(", \"bogus\": 1"), "tunnels[0].bogus", "doc: unknown tunnel member");
	doc_error("{\"nodes\": [{\"name\": \"n1\"}], \"tunnels\": [{\"node\": \"n9\", \"name\": "
		  "\"e0\", \"vni\": 1, \"local\": \"198.18.0.1\", \"remote\": \"198.18.0.2\"}]}",
		  "tunnels[0].node", "doc: tunnel in an unknown node");
	doc_error("{\"nodes\": [{\"name\": \"n1\"}, {\"name\": \"n2\"}], \"links\": [{\"ends\": ["
		  "{\"node\": \"n1\", \"name\": \"e0\"}, {\"node\": \"n2\", \"name\": \"e0\"}]}], "
		  "\"tunnels\": [{\"node\": \"n1\", \"name\": \"e0\", \"vni\": 1, \"local\": "
		  "\"198.18.0.1\", \"remote\": \"198.18.0.2\"}]}",
		  "tunnels[0].name", "doc: tunnel name taken by a link end");

	/* What a tunnel compiles to. */
	doc = load(TUN(", \"addresses\": [\"10.0.0.1/24\"], \"mtu\": 1450"));
	OK(topology_doc_compile(doc, "lab", &objs, &paths, &err) == 0, "compile: tunnel");
	l = json_object_get(json_object_get(objs, "link"), "n1/e0");
	OK(l != NULL, "compile: the link n1/e0");
	EQ_STR(json_string_value(json_object_get(l, "kind")), "vxlan", "compile: kind vxlan");
	OK(json_is_true(json_object_get(l, "underlay")), "compile: underlay true");
	EQ_INT(json_integer_value(json_object_get(l, "id")), 4242, "compile: VNI as id");
	EQ_STR(json_string_value(json_object_get(l, "remote")), "198.18.0.2", "compile: remote");
	EQ_STR(json_string_value(json_object_get(l, "local")), "198.18.0.1", "compile: local");
	EQ_INT(json_integer_value(json_object_get(l, "mtu")), 1450, "compile: mtu");
	EQ_STR(json_string_value(json_object_get(l, "topology")), "lab", "compile: tagged");
	OK(json_object_get(json_object_get(objs, "addr"), "n1/e0/10.0.0.1/24") != NULL,
	   "compile: the tunnel's address");
	EQ_STR(json_string_value(json_object_get(json_object_get(paths, "link"), "n1/e0")),
	       "tunnels[0]", "compile: path of the tunnel");
	json_decref(objs);
	json_decref(paths);
	json_decref(doc);
	return tap_done();
}
