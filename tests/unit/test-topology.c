/*
 * test-topology.c: unit tests of the topology document (daemon/topology_doc.c)
 * and of the plan's diff (daemon/topology.c, topology_diff()): what is
 * accepted, what is refused with which path, what a document compiles to, and
 * which steps a change of a document makes.
 */
#include <string.h>

#include "tap.h"
#include "topology.h"
#include "topology_doc.h"
#include "util.h"

#define TWO_NODES                                                                                  \
	"\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],"                                           \
	"\"links\":[{\"ends\":[{\"node\":\"a\",\"name\":\"eth0\",\"addresses\":[\"10.0.0.1/24\"]},"  \
	"{\"node\":\"b\",\"name\":\"eth0\",\"addresses\":[\"10.0.0.2/24\"]}]}]"

static void good(const char *text, const char *desc)
{
	struct topology_doc_error err;
	json_t *doc = NULL;
	char d[512];
	int r = topology_doc_parse(text, strlen(text), &doc, &err);

	snprintf(d, sizeof(d), "accepted: %s", desc);
	OK(r == 0, d);
	if (r < 0)
		printf("# %s: %s\n", err.path, err.msg);
	json_decref(doc);
}

static void bad(const char *text, const char *path, const char *msg_part, const char *desc)
{
	struct topology_doc_error err;
	json_t *doc = NULL;
	char d[512];
	int r = topology_doc_parse(text, strlen(text), &doc, &err);

	snprintf(d, sizeof(d), "refused: %s", desc);
	OK(r == -EINVAL, d);
	snprintf(d, sizeof(d), "refused: %s: path", desc);
	EQ_STR(err.path, path, d);
	snprintf(d, sizeof(d), "refused: %s: says why (%s)", desc, msg_part);
	OK(strstr(err.msg, msg_part) != NULL, d);
	if (!strstr(err.msg, msg_part))
		printf("# message: %s\n", err.msg);
	json_decref(doc);
}

static void documents(void)
{
	good("{" TWO_NODES "}", "two nodes and a veth");
	good("{\"name\":\"core\",\"nodes\":[{\"name\":\"n1\"},{\"name\":\"n2\"}],"
	     "\"bridges\":[{\"name\":\"b.1.1\",\"members\":["
	     "{\"node\":\"n1\",\"name\":\"eth0\",\"port\":\"n1.0.1\",\"addresses\":[\"10.0.0.1/24\"]},"
	     "{\"node\":\"n2\",\"name\":\"eth0\",\"port\":\"n2.0.1\",\"addresses\":[\"10.0.0.2/24\"]}]}]}",
	     "a host bridge with two members (CORE)");
	good("{\"prefix\":\"x1\",\"nodes\":[{\"name\":\"a\",\"routes\":[{\"dst\":\"default\","
	     "\"via\":\"10.0.0.2\"},{\"dst\":\"10.9.0.0/16\",\"via\":\"10.9.0.1\"},{\"dst\":\"10.9.0.0/24\","
	     "\"dev\":\"eth0\"}]},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\",\"name\":\"eth0\","
	     "\"addresses\":[\"10.0.0.1/24\"]},{\"node\":\"b\",\"name\":\"eth0\"}]}]}",
	     "routes through an address prefix and a device route");
	good("{" TWO_NODES ",\"bridges\":[{\"name\":\"br\",\"node\":\"a\",\"members\":[{\"node\":\"b\","
	     "\"name\":\"e1\",\"impair\":{\"delay_ms\":10,\"jitter_ms\":2,\"loss_pct\":0.5,"
	     "\"rate_kbit\":1000}}]}]}",
	     "a bridge in a node, impairments");

	bad("[1]", "", "must be an object", "not an object");
	bad("{\"nodes\":[], \"foo\":1}", "foo", "unknown member", "unknown top-level member");
	bad("{\"nodes\":[{\"name\":\"a\",\"colour\":1}]}", "nodes[0].colour", "unknown member",
	    "unknown node member");
	bad("{" TWO_NODES ",\"links\":[]}", "", "not JSON", "duplicate member in JSON");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "nodes[1].name",
	    "duplicate node name", "duplicate node");
	bad("{\"nodes\":[{\"name\":\"../x\"}]}", "nodes[0].name", "invalid namespace name",
	    "bad node name");
	bad("{\"nodes\":[{\"name\":\"a234567890123456789012345678901234567890123456789012345678901"
	    "234\"}]}",
	    "nodes[0].name", "at most 63 bytes", "over-long node name");
	bad("{\"prefix\":\"abcdefghij\",\"nodes\":[]}", "prefix", "at most 8", "over-long prefix");
	bad("{\"prefix\":\"ho\",\"nodes\":[{\"name\":\"st\"}]}", "nodes[0].name", "reserved",
	    "a node that would be the namespace 'host'");
	bad("{\"nodes\":[{\"name\":\"a\"}],\"links\":[{\"ends\":[{\"node\":\"a\",\"name\":\"e0\"},"
	    "{\"node\":\"zz\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[1].node", "no node named 'zz'", "dangling node reference");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\"},{\"node\":\"b\",\"name\":\"e0\"}]},{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\"},{\"node\":\"b\",\"name\":\"e1\"}]}]}",
	    "links[1].ends[0].name", "duplicate interface name 'e0' in node a (also at links[0].ends[0].name)",
	    "duplicate interface in a node");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"abcdefghijklmnop\"},{\"node\":\"b\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[0].name", "invalid interface name", "over-long interface name");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\"}]}]}",
	    "links[0].ends", "two ends", "a link with one end");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\",\"addresses\":[\"10.0.0.1/33\"]},{\"node\":\"b\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[0].addresses[0]", "ADDRESS/PREFIX", "invalid CIDR");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\",\"addresses\":[\"10.0.0.1/24\"]},{\"node\":\"b\",\"name\":\"e0\","
	    "\"addresses\":[\"10.0.0.1/24\"]}]}]}",
	    "links[0].ends[1].addresses[0]", "duplicate address 10.0.0.1", "duplicate address");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\",\"mtu\":20},{\"node\":\"b\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[0].mtu", "68..65535", "mtu out of range");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\",\"mac\":\"01:00:00:00:00:01\"},{\"node\":\"b\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[0].mac", "unicast MAC", "multicast MAC");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\",\"impair\":{\"loss_pct\":120}},{\"node\":\"b\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[0].impair.loss_pct", "0..100", "impairment out of range");
	bad("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"ends\":[{\"node\":\"a\","
	    "\"name\":\"e0\",\"impair\":{\"jitter_ms\":3}},{\"node\":\"b\",\"name\":\"e0\"}]}]}",
	    "links[0].ends[0].impair.jitter_ms", "needs a delay", "jitter without delay");
	bad("{\"nodes\":[{\"name\":\"a\",\"sysctls\":{\"kernel.panic\":1}}]}",
	    "nodes[0].sysctls.kernel.panic", "under net.", "a sysctl outside net.");
	bad("{\"nodes\":[{\"name\":\"a\"}],\"bridges\":[{\"name\":\"br\",\"members\":[{\"node\":"
	    "\"a\",\"name\":\"e0\"}]},{\"name\":\"br\"}]}",
	    "bridges[1].name", "duplicate interface name 'br' in the host", "duplicate host bridge");
	bad("{\"nodes\":[{\"name\":\"a\"}],\"bridges\":[{\"name\":\"bridge12345678\",\"members\":[{"
	    "\"node\":\"a\",\"name\":\"e0\"}]}]}",
	    "bridges[0].members[0].port", "too long; give one", "default port name too long");
	bad("{\"prefix\":\"abcdefgh\",\"nodes\":[],\"bridges\":[{\"name\":\"bridge12\"}]}",
	    "bridges[0].name", "longer than 15 bytes", "host name too long with the prefix");
}

/* Node a with the services given (a JSON array). */
#define SERVICES(svcs) "{\"nodes\":[{\"name\":\"b\"},{\"name\":\"a\",\"services\":" svcs "}]}"

static void services(void)
{
	good(SERVICES("[]"), "no services");
	good(SERVICES("[{\"name\":\"echo\",\"argv\":[\"/bin/sleep\",\"9\"],\"env\":{\"A\":\"1\"},"
		      "\"cwd\":\"/tmp\",\"user\":0,\"group\":\"root\",\"restart\":\"on-failure\","
		      "\"stdout\":\"log\",\"stderr\":{\"file\":\"/tmp/x.log\"},\"log_max_bytes\":4096,"
		      "\"log_files\":2},{\"name\":\"web-1\",\"argv\":[\"true\"]}]"),
	     "services with every member");
	bad(SERVICES("{}"), "nodes[1].services", "must be an array", "services not an array");
	bad(SERVICES("[{\"argv\":[\"true\"]}]"), "nodes[1].services[0].name", "missing",
	    "service without a name");
	bad(SERVICES("[{\"name\":\"x.y\",\"argv\":[\"true\"]}]"), "nodes[1].services[0].name",
	    "no '.'", "a dot in a service name");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"]},{\"name\":\"x\",\"argv\":[\"true\"]}]"),
	    "nodes[1].services[1].name", "duplicate service name 'x' in the node (also at "
	    "nodes[1].services[0].name)", "duplicate service in a node");
	good("{\"nodes\":[{\"name\":\"a\",\"services\":[{\"name\":\"x\",\"argv\":[\"true\"]}]},"
	     "{\"name\":\"b\",\"services\":[{\"name\":\"x\",\"argv\":[\"true\"]}]}]}",
	     "the same service name in two nodes");
	bad(SERVICES("[{\"name\":\"x\"}]"), "nodes[1].services[0].argv", "missing",
	    "service without argv");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[]}]"), "nodes[1].services[0].argv", "1 to 4096",
	    "empty argv");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"a\",2]}]"), "nodes[1].services[0].argv[1]",
	    "must be a string", "argv with a number");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"\"]}]"), "nodes[1].services[0].argv[0]",
	    "must not be empty", "empty program");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"],\"env\":{\"A=B\":\"1\"}}]"),
	    "nodes[1].services[0].env.A=B", "no '='", "bad variable name");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"],\"cwd\":\"tmp\"}]"),
	    "nodes[1].services[0].cwd", "absolute", "relative cwd");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"],\"user\":-1}]"),
	    "nodes[1].services[0].user", "range", "negative uid");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"],\"restart\":\"sometimes\"}]"),
	    "nodes[1].services[0].restart", "on-failure", "unknown restart policy");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"],\"stdout\":{\"fd\":1}}]"),
	    "nodes[1].services[0].stdout", "expected", "a passed fd (no client to pass one)");
	bad(SERVICES("[{\"name\":\"x\",\"argv\":[\"true\"],\"tty\":true}]"),
	    "nodes[1].services[0].tty", "unknown member", "tty");
	bad("{\"nodes\":[{\"name\":\"a23456789012345678901234567890123456789012345678901234567890\","
	    "\"services\":[{\"name\":\"svc\",\"argv\":[\"true\"]}]}]}",
	    "nodes[0].services[0].name", "longer than 63 bytes", "process name too long");
}

static void routes(void)
{
	/* Node a: 10.0.0.1/24 on eth0. */
#define ROUTED(routes)                                                                             \
	"{\"nodes\":[{\"name\":\"a\",\"routes\":" routes "},{\"name\":\"b\"}],"                    \
	"\"links\":[{\"ends\":[{\"node\":\"a\",\"name\":\"eth0\",\"addresses\":[\"10.0.0.1/24\"]},"  \
	"{\"node\":\"b\",\"name\":\"eth0\"}]}]}"

	good(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.0.0.2\"}]"), "route via a neighbour");
	good(ROUTED("[{\"dst\":\"fd00:1::/64\",\"via\":\"fe80::1\",\"dev\":\"eth0\"}]"),
	     "IPv6 link-local gateway on a device");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.5.0.1\"}]"), "nodes[0].routes[0]",
	    "is not on a link of node a", "unreachable gateway");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.2.0.1\"},{\"dst\":\"10.2.0.0/16\","
		   "\"via\":\"10.1.0.1\"}]"),
	    "nodes[0].routes[0]", "route cycle", "two routes through each other");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.1.0.1\"}]"), "nodes[0].routes[0]",
	    "route cycle", "a route through itself");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.2.0.1\"},{\"dst\":\"10.2.0.0/16\","
		   "\"via\":\"10.0.0.9\"}]"),
	    "nodes[0].routes[0]", "only reachable through nodes[0].routes[1]",
	    "a recursive gateway (no cycle)");
	bad(ROUTED("[{\"dst\":\"10.1.0.1/16\",\"via\":\"10.0.0.2\"}]"), "nodes[0].routes[0].dst",
	    "host bits", "host bits in dst");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"dev\":\"eth9\"}]"), "nodes[0].routes[0].dev",
	    "no interface 'eth9'", "route on a missing device");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\"}]"), "nodes[0].routes[0]", "needs via, dev",
	    "route with neither via nor dev");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"fd00::1\"}]"), "nodes[0].routes[0].via",
	    "family", "mixed families");
	bad(ROUTED("[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.0.0.2\"},{\"dst\":\"10.1.0.0/16\","
		   "\"via\":\"10.0.0.3\"}]"),
	    "nodes[0].routes[1]", "duplicate route", "duplicate route");
}

static json_t *compiled(const char *text, const char *name)
{
	struct topology_doc_error err;
	json_t *doc = NULL, *objs = NULL, *paths = NULL;

	if (topology_doc_parse(text, strlen(text), &doc, &err) < 0 ||
	    topology_doc_compile(doc, name, &objs, &paths, &err) < 0) {
		printf("# %s: %s\n", err.path, err.msg);
		abort();
	}
	json_decref(doc);
	json_decref(paths);
	return objs;
}

static void compile(void)
{
	json_t *o = compiled("{\"prefix\":\"p-\"," TWO_NODES ",\"bridges\":[{\"name\":\"br\","
			     "\"members\":[{\"node\":\"a\",\"name\":\"e1\"}]}]}",
			     "lab");
	json_t *l;

	EQ_INT(json_object_size(json_object_get(o, "netns")), 2, "compile: two namespaces");
	OK(json_object_get(json_object_get(o, "netns"), "p-a"), "compile: prefixed namespace");
	EQ_INT(json_object_size(json_object_get(o, "link")), 5,
	       "compile: bridge and two veth pairs");
	l = json_object_get(json_object_get(o, "link"), "/p-br-0");
	OK(l, "compile: host port prefixed");
	EQ_STR(json_string_value(json_object_get(l, "master")), "p-br", "compile: port's master");
	EQ_STR(json_string_value(json_object_get(l, "topology")), "lab", "compile: tagged");
	l = json_object_get(json_object_get(o, "link"), "p-a/eth0");
	EQ_STR(json_string_value(json_object_get(json_object_get(l, "peer"), "netns")), "p-b",
	       "compile: veth peer");
	OK(json_object_get(json_object_get(o, "addr"), "p-a/eth0/10.0.0.1/24"),
	   "compile: address key as addr.add stores it");
	json_decref(o);

	o = compiled("{\"prefix\":\"p-\",\"nodes\":[{\"name\":\"a\",\"services\":[{\"name\":"
		     "\"echo\",\"argv\":[\"x\"]},{\"name\":\"w\",\"argv\":[\"y\"],\"restart\":"
		     "\"no\"}]}]}",
		     "lab");
	l = json_object_get(json_object_get(o, "service"), "p-a/echo");
	OK(l, "compile: service keyed NAMESPACE/SERVICE");
	EQ_STR(json_string_value(json_object_get(l, "name")), "p-a.echo",
	       "compile: the process is named NAMESPACE.SERVICE");
	EQ_STR(json_string_value(json_object_get(l, "netns")), "p-a", "compile: service's netns");
	EQ_STR(json_string_value(json_object_get(l, "restart")), "always",
	       "compile: restart defaults to always");
	EQ_STR(json_string_value(json_object_get(l, "topology")), "lab", "compile: service tagged");
	l = json_object_get(json_object_get(o, "service"), "p-a/w");
	EQ_STR(json_string_value(json_object_get(l, "restart")), "no",
	       "compile: restart as the document says");
	json_decref(o);
}

static int nsteps(json_t *plan, const char *action)
{
	json_t *steps = json_object_get(plan, "steps"), *s;
	size_t i;
	int n = 0;

	json_array_foreach(steps, i, s)
		n += !strcmp(json_string_value(json_object_get(s, "action")), action);
	return n;
}

static void diff(void)
{
	json_t *a = compiled("{" TWO_NODES "}", "lab");
	json_t *b = compiled("{\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}],"
			     "\"links\":[{\"ends\":[{\"node\":\"a\",\"name\":\"eth0\",\"addresses\":["
			     "\"10.0.0.1/24\"]},{\"node\":\"c\",\"name\":\"eth0\",\"addresses\":["
			     "\"10.0.0.2/24\"]}]}]}",
			     "lab");
	json_t *current = json_object(), *plan;
	const char *coll;
	json_t *objs;

	plan = topology_diff(a, current, "lab", NULL);
	EQ_INT(nsteps(plan, "create"), 2 + 2 + 2, "diff: from nothing, everything is created");
	EQ_INT(nsteps(plan, "delete"), 0, "diff: from nothing, nothing deleted");
	json_decref(plan);

	/* What netnsd would hold after applying a (plus bookkeeping members). */
	json_object_foreach(a, coll, objs) {
		json_t *c = json_deep_copy(objs), *d;
		const char *k;

		json_object_foreach(c, k, d)
			json_object_set_new(d, "created", json_string("yesterday"));
		json_object_set_new(current, coll, c);
	}
	plan = topology_diff(a, current, "lab", NULL);
	EQ_INT(json_array_size(json_object_get(plan, "steps")), 0,
	       "diff: the same document again changes nothing");
	json_decref(plan);

	plan = topology_diff(b, current, "lab", NULL);
	EQ_INT(nsteps(plan, "create"), 3, "diff: node c, its end of the link, its address");
	/* a's end gets a new peer; its address sits on it, so it is made again too. */
	EQ_INT(nsteps(plan, "change"), 2, "diff: a's end and its address are made again");
	EQ_INT(nsteps(plan, "delete"), 2, "diff: b's end and b's address go");
	json_decref(plan);

	/* Only impairments differ: changed in place, nothing follows. */
	{
		json_t *imp = json_deep_copy(a);
		json_t *l = json_object_get(json_object_get(imp, "link"), "a/eth0");
		json_t *s;

		json_object_set_new(l, "impair", json_pack("{s:i}", "rate_kbit", 1000));
		plan = topology_diff(imp, current, "lab", NULL);
		EQ_INT(json_array_size(json_object_get(plan, "steps")), 1,
		       "diff: an impairment alone is one step");
		s = json_array_get(json_object_get(plan, "steps"), 0);
		OK(json_is_true(json_object_get(s, "in_place")), "diff: ... made in place");
		json_decref(plan);
		json_decref(imp);
	}

	/* Services: one added, then its argv changed, then the namespace made again. */
	{
		json_t *sv = json_deep_copy(a), *sv2, *cur2 = json_deep_copy(current);
		json_t *svc = json_pack("{s:s,s:s,s:s,s:[s],s:s,s:s}", "netns", "a", "name", "a.e",
					"service", "e", "argv", "x", "restart", "always",
					"topology", "lab");

		json_object_set_new(sv, "service", json_pack("{s:O}", "a/e", svc));
		plan = topology_diff(sv, current, "lab", NULL);
		EQ_INT(json_array_size(json_object_get(plan, "steps")), 1,
		       "diff: a new service is one step");
		EQ_INT(nsteps(plan, "create"), 1, "diff: ... a creation");
		json_decref(plan);
		json_object_set_new(cur2, "service", json_pack("{s:O}", "a/e", svc));
		plan = topology_diff(sv, cur2, "lab", NULL);
		EQ_INT(json_array_size(json_object_get(plan, "steps")), 0,
		       "diff: an unchanged service stays");
		json_decref(plan);
		sv2 = json_deep_copy(sv);
		json_object_set_new(json_object_get(json_object_get(sv2, "service"), "a/e"), "argv",
				    json_pack("[s]", "z"));
		plan = topology_diff(sv2, cur2, "lab", NULL);
		EQ_INT(nsteps(plan, "change"), 1, "diff: a changed argv is a change of the service");
		EQ_INT(json_array_size(json_object_get(plan, "steps")), 1, "diff: ... alone");
		json_decref(plan);
		json_object_set_new(json_object_get(json_object_get(sv2, "service"), "a/e"), "argv",
				    json_pack("[s]", "x"));
		json_object_set_new(json_object_get(json_object_get(sv2, "netns"), "a"), "nsid",
				    json_integer(7));
		plan = topology_diff(sv2, cur2, "lab", NULL);
		/* a, both ends of the veth, both addresses, and the service. */
		EQ_INT(nsteps(plan, "change"), 6,
		       "diff: a namespace made again takes its links, addresses and service along");
		json_decref(plan);
		plan = topology_diff(a, cur2, "lab", NULL);
		EQ_INT(nsteps(plan, "delete"), 1, "diff: a service no longer in the document goes");
		json_decref(plan);
		json_decref(sv);
		json_decref(sv2);
		json_decref(cur2);
		json_decref(svc);
	}

	/* Someone else's object with one of our keys: a conflict. */
	json_object_set_new(json_object_get(json_object_get(current, "netns"), "b"), "topology",
			    json_string("other"));
	plan = topology_diff(a, current, "lab", NULL);
	OK(plan == NULL, "diff: an object owned by another topology is a conflict");
	json_decref(plan);

	json_decref(a);
	json_decref(b);
	json_decref(current);
}

int main(void)
{
	documents();
	services();
	routes();
	compile();
	diff();
	return tap_done();
}
