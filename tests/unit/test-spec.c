/*
 * test-spec.c: unit tests of the namespace spec <-> JSON translation
 * (daemon/spec.c): sysctl checks, from_json/to_json round trips and the
 * recorded identity; link impairments: validation with field paths, and
 * the conversion to the kernel's units and back.
 */
#include <string.h>

#include "spec.h"
#include "tap.h"
#include "util.h"

/* Check a sysctls object given as JSON text. */
static void sysctls(const char *text, const char *want_err, const char *want_key, const char *desc)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	const char *key = "untouched", *err;
	char d[256];

	if (!v) {
		printf("# bad test input %s: %s\n", text, e.text);
		abort();
	}
	err = spec_sysctls_check(v, &key);
	if (!want_err) {
		snprintf(d, sizeof(d), "sysctls: %s: accepted", desc);
		OK(err == NULL, d);
		if (err)
			printf("# error: %s (key %s)\n", err, key ? key : "(null)");
		snprintf(d, sizeof(d), "sysctls: %s: no key named", desc);
		OK(key == NULL, d);
	} else {
		snprintf(d, sizeof(d), "sysctls: %s: rejected (%s)", desc, want_err);
		OK(err && strstr(err, want_err), d);
		if (!err || !strstr(err, want_err))
			printf("# error: %s\n", err ? err : "(none)");
		snprintf(d, sizeof(d), "sysctls: %s: key named", desc);
		EQ_STR(key, want_key, d);
	}
	json_decref(v);
}

static void test_sysctls_check(void)
{
	char text[512], key[256];

	sysctls("{}", NULL, NULL, "empty object");
	sysctls("{\"net.ipv4.ip_forward\":1}", NULL, NULL, "dotted key, integer");
	sysctls("{\"net/ipv4/ip_forward\":\"1\"}", NULL, NULL, "slashed key, string");
	sysctls("{\"net.ipv6.conf.all.disable_ipv6\":true,\"net.core.somaxconn\":4096}", NULL, NULL,
		"several keys, boolean");
	sysctls("{\"net.ipv4.conf.eth0/100.forwarding\":0}", NULL, NULL,
		"dots with a slash inside (vlan device)");
	sysctls("{\"net.ipv4.ip_local_port_range\":\"1024 65000\"}", NULL, NULL,
		"string value with a space");
	sysctls("{\"net.a_b-c.D9\":-1}", NULL, NULL, "allowed characters, negative integer");
	sysctls("{\"net.ipv4.tcp_rmem\":\"\"}", NULL, NULL, "empty string value");

	sysctls("{\"kernel.hostname\":\"x\"}", "only per-namespace sysctls", "kernel.hostname",
		"outside net.");
	sysctls("{\"net\":1}", "only per-namespace sysctls", "net", "bare net");
	sysctls("{\"netfilter.x\":1}", "only per-namespace sysctls", "netfilter.x", "netfilter.");
	sysctls("{\"NET.ipv4.ip_forward\":1}", "only per-namespace sysctls", "NET.ipv4.ip_forward",
		"uppercase NET.");
	sysctls("{\"/net/ipv4/ip_forward\":1}", "only per-namespace sysctls", "/net/ipv4/ip_forward",
		"leading slash");
	sysctls("{\"net.\":1}", "malformed sysctl name", "net.", "net. alone");
	sysctls("{\"net..ipv4\":1}", "malformed sysctl name", "net..ipv4", "empty component");
	sysctls("{\"net/../../etc/passwd\":1}", "malformed sysctl name", "net/../../etc/passwd",
		"path traversal");
	sysctls("{\"net.ipv4/..\":1}", "malformed sysctl name", "net.ipv4/..", "trailing ..");
	sysctls("{\"net//ipv4\":1}", "malformed sysctl name", "net//ipv4", "double slash");
	sysctls("{\"net.ipv4.\":1}", "malformed sysctl name", "net.ipv4.", "trailing dot");
	sysctls("{\"net/ipv4/\":1}", "malformed sysctl name", "net/ipv4/", "trailing slash");
	sysctls("{\"net.ipv4 .x\":1}", "malformed sysctl name", "net.ipv4 .x", "space in the key");
	sysctls("{\"net.ipv4\\n.x\":1}", "malformed sysctl name", "net.ipv4\n.x", "newline in the key");
	sysctls("{\"net.ipv4.\xc3\xa9\":1}", "malformed sysctl name", "net.ipv4.\xc3\xa9",
		"non-ASCII key");
	sysctls("{\"net.ipv4.*\":1}", "malformed sysctl name", "net.ipv4.*", "glob in the key");

	sysctls("{\"net.a\":1.5}", "must be a string, an integer or a boolean", "net.a", "real value");
	sysctls("{\"net.a\":null}", "must be a string, an integer or a boolean", "net.a", "null value");
	sysctls("{\"net.a\":[1]}", "must be a string, an integer or a boolean", "net.a", "array value");
	sysctls("{\"net.a\":{}}", "must be a string, an integer or a boolean", "net.a", "object value");
	sysctls("{\"net.ok\":1,\"net.bad\":null}", "must be a string", "net.bad",
		"the bad key among good ones is named");

	/* Key length: 200 bytes fine, 201 not. */
	memset(key, 'a', sizeof(key));
	memcpy(key, "net.", 4);
	key[200] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":1}", key);
	sysctls(text, NULL, NULL, "key of 200 bytes");
	key[200] = 'a';
	key[201] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":1}", key);
	sysctls(text, "malformed sysctl name", key, "key of 201 bytes");

	/* Value length: 4096 fine, 4097 not; NUL inside refused. */
	{
		_cleanup_(freep) char *val = malloc(4098);
		json_t *v;
		const char *k = NULL, *err;

		memset(val, '1', 4097);
		val[4096] = '\0';
		v = json_pack("{s:s}", "net.x", val);
		err = spec_sysctls_check(v, &k);
		OK(err == NULL, "sysctls: value of 4096 bytes accepted");
		json_decref(v);
		val[4096] = '1';
		val[4097] = '\0';
		v = json_pack("{s:s}", "net.x", val);
		err = spec_sysctls_check(v, &k);
		OK(err && strstr(err, "too long"), "sysctls: value of 4097 bytes rejected");
		EQ_STR(k, "net.x", "sysctls: long value: key named");
		json_decref(v);
		v = json_pack("{s:o}", "net.y", json_stringn("1\0002", 3));
		err = spec_sysctls_check(v, &k);
		OK(err && strstr(err, "NUL"), "sysctls: value with NUL rejected");
		json_decref(v);
	}
}

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v) {
		printf("# bad test input %s: %s\n", text, e.text);
		abort();
	}
	return v;
}

/* The value of sysctl key in a spec, or NULL. */
static const char *sysctl_value(const struct netns_spec *s, const char *key)
{
	for (size_t i = 0; i < s->n_sysctls; i++)
		if (!strcmp(s->sysctls[i].key, key))
			return s->sysctls[i].value;
	return NULL;
}

static void test_netns_json(void)
{
	struct netns_spec_buf buf, buf2;
	struct netns_id id = { .dev = 0x4, .ino = 4026532000ull }, back;
	json_t *doc, *out, *want;
	int r;

	/* Empty doc: defaults. */
	doc = load("{}");
	r = spec_netns_from_json("blue", doc, &buf);
	EQ_INT(r, 0, "from_json: empty doc");
	EQ_STR(buf.spec.name, "blue", "from_json: name from the argument");
	EQ_INT(buf.spec.nsid, -1, "from_json: no nsid -> -1");
	EQ_INT(buf.spec.n_sysctls, 0, "from_json: no sysctls");
	OK(buf.spec.resolv_conf == NULL && buf.spec.hosts == NULL, "from_json: no /etc files");
	out = spec_netns_to_json(&buf.spec, &id, "0f0e0d0c-0b0a-0908-0706-050403020100",
				 "2024-02-03T04:05:06.789Z");
	want = load("{\"created\":\"2024-02-03T04:05:06.789Z\",\"identity\":{\"dev\":4,"
		    "\"ino\":4026532000,\"boot_id\":\"0f0e0d0c-0b0a-0908-0706-050403020100\"}}");
	OK(json_equal(out, want), "to_json: minimal doc has only created and identity");
	if (!json_equal(out, want)) {
		char *s = json_dumps(out, JSON_COMPACT);
		printf("# got %s\n", s);
		free(s);
	}
	json_decref(want);
	json_decref(out);
	spec_netns_done(&buf);
	spec_netns_done(&buf); /* idempotent: the buffer was reset */
	json_decref(doc);

	/* Everything, with sysctl values of every accepted type. */
	doc = load("{\"nsid\":7,\"sysctls\":{\"net.ipv4.ip_forward\":1,\"net.ipv6.conf.all."
		   "disable_ipv6\":true,\"net.ipv4.conf.all.rp_filter\":false,\"net.core.somaxconn\":"
		   "\"4096\",\"net.ipv4.neigh.default.base_reachable_time_ms\":-1},"
		   "\"resolv_conf\":\"nameserver 10.0.0.1\\n\",\"hosts\":\"127.0.0.1 localhost\\n\"}");
	r = spec_netns_from_json("red", doc, &buf);
	EQ_INT(r, 0, "from_json: full doc");
	EQ_INT(buf.spec.nsid, 7, "from_json: nsid");
	EQ_INT(buf.spec.n_sysctls, 5, "from_json: five sysctls");
	EQ_STR(sysctl_value(&buf.spec, "net.ipv4.ip_forward"), "1", "from_json: integer -> \"1\"");
	EQ_STR(sysctl_value(&buf.spec, "net.ipv6.conf.all.disable_ipv6"), "1",
	       "from_json: true -> \"1\"");
	EQ_STR(sysctl_value(&buf.spec, "net.ipv4.conf.all.rp_filter"), "0",
	       "from_json: false -> \"0\"");
	EQ_STR(sysctl_value(&buf.spec, "net.core.somaxconn"), "4096", "from_json: string kept");
	EQ_STR(sysctl_value(&buf.spec, "net.ipv4.neigh.default.base_reachable_time_ms"), "-1",
	       "from_json: negative integer -> \"-1\"");
	EQ_STR(buf.spec.resolv_conf, "nameserver 10.0.0.1\n", "from_json: resolv_conf");
	EQ_STR(buf.spec.hosts, "127.0.0.1 localhost\n", "from_json: hosts");
	OK(buf.spec.sysctls == buf.sysctls, "from_json: spec points into the buffer");

	out = spec_netns_to_json(&buf.spec, &id, "b00t", "2024-01-01T00:00:00.000Z");
	want = load("{\"nsid\":7,\"sysctls\":{\"net.ipv4.ip_forward\":\"1\",\"net.ipv6.conf.all."
		    "disable_ipv6\":\"1\",\"net.ipv4.conf.all.rp_filter\":\"0\",\"net.core.somaxconn\":"
		    "\"4096\",\"net.ipv4.neigh.default.base_reachable_time_ms\":\"-1\"},"
		    "\"resolv_conf\":\"nameserver 10.0.0.1\\n\",\"hosts\":\"127.0.0.1 localhost\\n\","
		    "\"created\":\"2024-01-01T00:00:00.000Z\",\"identity\":{\"dev\":4,\"ino\":4026532000,"
		    "\"boot_id\":\"b00t\"}}");
	OK(json_equal(out, want), "to_json: full doc, sysctl values normalised to strings");
	if (!json_equal(out, want)) {
		char *s = json_dumps(out, JSON_COMPACT);
		printf("# got %s\n", s);
		free(s);
	}
	json_decref(want);

	/* The stored doc reads back into the same spec, and again into the same doc. */
	r = spec_netns_from_json("red", out, &buf2);
	EQ_INT(r, 0, "round trip: the stored doc is a valid spec doc");
	{
		bool same = buf2.spec.nsid == buf.spec.nsid &&
			    buf2.spec.n_sysctls == buf.spec.n_sysctls &&
			    !strcmp(buf2.spec.resolv_conf, buf.spec.resolv_conf) &&
			    !strcmp(buf2.spec.hosts, buf.spec.hosts);

		for (size_t i = 0; same && i < buf.spec.n_sysctls; i++) {
			const char *v = sysctl_value(&buf2.spec, buf.spec.sysctls[i].key);

			same = v && !strcmp(v, buf.spec.sysctls[i].value);
		}
		OK(same, "round trip: same spec");
	}
	{
		json_t *again = spec_netns_to_json(&buf2.spec, &id, "b00t", "2024-01-01T00:00:00.000Z");

		OK(json_equal(again, out), "round trip: same doc");
		json_decref(again);
	}
	OK(spec_netns_identity(out, &back), "identity: found in the stored doc");
	OK(netns_id_equal(&back, &id), "identity: dev and ino round trip");
	spec_netns_done(&buf2);
	spec_netns_done(&buf);
	json_decref(out);
	json_decref(doc);

	/* Identity edge cases. */
	{
		struct netns_id big = { .dev = 0xfffffffffffffffeull, .ino = 0x8000000000000001ull };
		struct netns_spec s = { .name = "x", .nsid = -1 };

		out = spec_netns_to_json(&s, &big, "", "");
		OK(spec_netns_identity(out, &back) && netns_id_equal(&back, &big),
		   "identity: 64-bit dev and ino survive");
		json_decref(out);
	}
	/* The namespace cookie travels with the identity when known. */
	{
		struct netns_id withc = { .dev = 4, .ino = 5, .cookie = 0x1000000000007ull };
		struct netns_spec s = { .name = "x", .nsid = -1 };

		out = spec_netns_to_json(&s, &withc, "b", "c");
		EQ_INT(json_integer_value(json_object_get(json_object_get(out, "identity"), "cookie")),
		       0x1000000000007ll, "identity: cookie recorded");
		OK(spec_netns_identity(out, &back) && back.cookie == withc.cookie && back.ino == 5,
		   "identity: cookie read back");
		json_decref(out);
		withc.cookie = 0;
		out = spec_netns_to_json(&s, &withc, "b", "c");
		OK(!json_object_get(json_object_get(out, "identity"), "cookie"),
		   "identity: unknown cookie (0) not recorded");
		back.cookie = 99;
		OK(spec_netns_identity(out, &back) && back.cookie == 0,
		   "identity: no cookie reads back as 0");
		json_decref(out);
	}
	back = (struct netns_id){ .dev = 1, .ino = 2 };
	doc = load("{}");
	OK(!spec_netns_identity(doc, &back), "identity: none in an empty doc");
	json_decref(doc);
	doc = load("{\"identity\":{\"dev\":1}}");
	OK(!spec_netns_identity(doc, &back), "identity: ino missing");
	json_decref(doc);
	doc = load("{\"identity\":{\"dev\":\"1\",\"ino\":2}}");
	OK(!spec_netns_identity(doc, &back), "identity: dev a string");
	json_decref(doc);
	doc = load("{\"identity\":[1,2]}");
	OK(!spec_netns_identity(doc, &back), "identity: not an object");
	json_decref(doc);
	OK(back.dev == 1 && back.ino == 2, "identity: ret untouched when absent");
	doc = load("{\"identity\":{\"dev\":9,\"ino\":10}}");
	OK(spec_netns_identity(doc, &back) && back.dev == 9 && back.ino == 10,
	   "identity: boot_id is not required");
	json_decref(doc);

	/* Members of the wrong type are ignored by from_json (params were validated). */
	doc = load("{\"nsid\":\"7\",\"resolv_conf\":1,\"hosts\":null,\"sysctls\":[]}");
	r = spec_netns_from_json("y", doc, &buf);
	OK(r == 0 && buf.spec.nsid == -1 && !buf.spec.resolv_conf && !buf.spec.hosts &&
		   buf.spec.n_sysctls == 0,
	   "from_json: wrong types are ignored");
	spec_netns_done(&buf);
	json_decref(doc);

	/* A sysctl value of a bad type fails cleanly (no leak of earlier values). */
	doc = load("{\"sysctls\":{\"net.a\":\"1\",\"net.b\":2,\"net.c\":1.5}}");
	r = spec_netns_from_json("z", doc, &buf);
	EQ_INT(r, -EINVAL, "from_json: real sysctl value -> -EINVAL");
	OK(buf.sysctls == NULL && buf.values == NULL && buf.spec.n_sysctls == 0,
	   "from_json: buffer reset on failure");
	spec_netns_done(&buf); /* safe after a failure */
	json_decref(doc);
	doc = load("{\"sysctls\":{\"net.a\":null}}");
	r = spec_netns_from_json("z", doc, &buf);
	EQ_INT(r, -EINVAL, "from_json: null sysctl value -> -EINVAL");
	spec_netns_done(&buf);
	json_decref(doc);

	/* nsid 0 is an nsid; extreme values. */
	doc = load("{\"nsid\":0}");
	r = spec_netns_from_json("z", doc, &buf);
	OK(r == 0 && buf.spec.nsid == 0, "from_json: nsid 0 kept");
	out = spec_netns_to_json(&buf.spec, &id, "b", "c");
	EQ_INT(json_integer_value(json_object_get(out, "nsid")), 0, "to_json: nsid 0 written");
	json_decref(out);
	spec_netns_done(&buf);
	json_decref(doc);
	doc = load("{\"nsid\":2147483647}");
	r = spec_netns_from_json("z", doc, &buf);
	OK(r == 0 && buf.spec.nsid == 2147483647, "from_json: nsid 2^31-1 kept");
	spec_netns_done(&buf);
	json_decref(doc);
}

/* Impairments. */

static json_t *load_impair(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v) {
		printf("# bad test input %s: %s\n", text, e.text);
		abort();
	}
	return v;
}

/* An impair object that must be rejected, naming member want (NULL: the object) and why. */
static void impair_bad(const char *text, const char *want_member, const char *want_msg)
{
	json_t *v = load_impair(text);
	struct link_impair imp;
	const char *member = "untouched", *msg = NULL, *sub = "untouched", *err;
	char d[256];
	int r;

	r = spec_impair_from_json(v, &imp, &member, &msg);
	snprintf(d, sizeof(d), "impair %s: rejected", text);
	EQ_INT(r, -EINVAL, d);
	snprintf(d, sizeof(d), "impair %s: names %s", text, want_member ? want_member : "itself");
	if (want_member)
		EQ_STR(member, want_member, d);
	else
		OK(member == NULL, d);
	snprintf(d, sizeof(d), "impair %s: says '%s'", text, want_msg);
	OK(msg && strstr(msg, want_msg), d);
	if (!msg || !strstr(msg, want_msg))
		printf("# message: %s\n", msg ? msg : "(none)");
	/* The dispatch check says the same. */
	err = spec_impair_check(v, &sub);
	snprintf(d, sizeof(d), "impair %s: the param check agrees", text);
	OK(err && msg && !strcmp(err, msg) &&
	       (want_member ? sub && !strcmp(sub, want_member) : sub == NULL),
	   d);
	json_decref(v);
}

static void test_impair_parse(void)
{
	struct link_impair imp;
	const char *member = "untouched", *msg = NULL;
	json_t *v, *out;
	char *text;
	int r;

	v = load_impair("{}");
	r = spec_impair_from_json(v, &imp, &member, &msg);
	OK(r == 0 && !spec_impair_is_set(&imp) && member == NULL, "impair {}: none");
	json_decref(v);
	r = spec_impair_from_json(json_null(), &imp, &member, &msg);
	OK(r == 0 && !spec_impair_is_set(&imp), "impair null: none");
	r = spec_impair_from_json(NULL, &imp, &member, &msg);
	OK(r == 0 && !spec_impair_is_set(&imp), "impair absent: none");

	v = load_impair("{\"delay_ms\":50,\"jitter_ms\":2.5,\"loss_pct\":0.5,\"duplicate_pct\":1,"
			"\"reorder_pct\":25,\"corrupt_pct\":100,\"rate_kbit\":1000}");
	r = spec_impair_from_json(v, &imp, &member, &msg);
	EQ_INT(r, 0, "impair full: accepted");
	OK(imp.delay_ms == 50 && imp.jitter_ms == 2.5 && imp.loss_pct == 0.5 &&
	       imp.duplicate_pct == 1 && imp.reorder_pct == 25 && imp.corrupt_pct == 100 &&
	       imp.rate_kbit == 1000,
	   "impair full: every member read");
	OK(spec_impair_is_set(&imp), "impair full: set");
	out = spec_impair_to_json(&imp);
	text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	EQ_STR(text,
	       "{\"corrupt_pct\":100,\"delay_ms\":50,\"duplicate_pct\":1,\"jitter_ms\":2.5,"
	       "\"loss_pct\":0.5,\"rate_kbit\":1000,\"reorder_pct\":25}",
	       "impair full: to_json writes integers as integers, fractions as reals");
	OK(json_equal(out, v), "impair full: round trip");
	free(text);
	json_decref(out);
	json_decref(v);

	/* Zeros are "none": not written back. */
	v = load_impair("{\"delay_ms\":0,\"loss_pct\":0,\"rate_kbit\":0}");
	r = spec_impair_from_json(v, &imp, &member, &msg);
	OK(r == 0 && !spec_impair_is_set(&imp), "impair zeros: none");
	out = spec_impair_to_json(&imp);
	EQ_INT(json_object_size(out), 0, "impair zeros: to_json is {}");
	json_decref(out);
	json_decref(v);
	/* The bounds themselves are allowed. */
	v = load_impair("{\"delay_ms\":60000,\"jitter_ms\":60000,\"rate_kbit\":1000000000}");
	EQ_INT(spec_impair_from_json(v, &imp, &member, &msg), 0, "impair at the bounds: accepted");
	json_decref(v);

	impair_bad("[]", NULL, "must be an object");
	impair_bad("{\"delay_ms\":-1}", "delay_ms", "range 0..60000");
	impair_bad("{\"delay_ms\":60000.5}", "delay_ms", "range 0..60000");
	impair_bad("{\"delay_ms\":\"10ms\"}", "delay_ms", "must be a number");
	impair_bad("{\"loss_pct\":100.01}", "loss_pct", "percentage in the range 0..100");
	impair_bad("{\"duplicate_pct\":-0.1}", "duplicate_pct", "percentage");
	impair_bad("{\"corrupt_pct\":true}", "corrupt_pct", "must be a number");
	impair_bad("{\"loss_pct\":null}", "loss_pct", "must be a number");
	impair_bad("{\"rate_kbit\":1.5}", "rate_kbit", "must be an integer");
	impair_bad("{\"rate_kbit\":-1}", "rate_kbit", "range 0..1000000000");
	impair_bad("{\"rate_kbit\":1000000001}", "rate_kbit", "range 0..1000000000");
	impair_bad("{\"jitter_ms\":5}", "jitter_ms", "needs a delay");
	impair_bad("{\"jitter_ms\":5,\"delay_ms\":0}", "jitter_ms", "needs a delay");
	impair_bad("{\"reorder_pct\":10,\"loss_pct\":1}", "reorder_pct", "needs a delay");
	impair_bad("{\"delay_ms\":0.0009}", "delay_ms", "at least 0.001");
	impair_bad("{\"delay_ms\":1,\"jitter_ms\":1e-9}", "jitter_ms", "at least 0.001");
	impair_bad("{\"loss_pct\":0.00001}", "loss_pct", "at least 0.0001");
	impair_bad("{\"rate\":\"1mbit\"}", "rate", "unknown parameter");
	impair_bad("{\"delay_ms\":10,\"latency\":1}", "latency", "unknown parameter");
}

static void test_impair_kernel_units(void)
{
	static const double pcts[] = { 0.0001, 0.1, 0.5, 1, 12.3456, 33.3333, 50, 99.9999, 100 };
	static const double mss[] = { 0.001, 0.5, 1, 10.25, 50, 1234.567, 60000 };
	struct link_impair imp = { .delay_ms = 10.5, .loss_pct = 1, .rate_kbit = 1000 }, back;
	struct tc_impair t;
	char d[128];

	spec_impair_to_tc(&imp, &t);
	EQ_INT(t.delay_ns, 10500000, "to_tc: 10.5 ms is 10500000 ns");
	EQ_INT(t.loss, 42949673, "to_tc: 1 % is 2^32/100, rounded");
	EQ_INT(t.rate, 125000, "to_tc: 1000 kbit/s is 125000 bytes/s");
	OK(tc_impair_is_set(&t) && tc_impair_needs_netem(&t), "to_tc: delay and loss need netem");
	imp = (struct link_impair){ .corrupt_pct = 100, .duplicate_pct = 0 };
	spec_impair_to_tc(&imp, &t);
	EQ_INT(t.corrupt, TC_PROB_MAX, "to_tc: 100 % is always");
	EQ_INT(t.duplicate, 0, "to_tc: 0 % is never");
	imp = (struct link_impair){ .rate_kbit = 1000000000 };
	spec_impair_to_tc(&imp, &t);
	EQ_INT(t.rate, 125000000000ull, "to_tc: 1 Tbit/s in 64 bits");
	OK(tc_impair_is_set(&t) && !tc_impair_needs_netem(&t), "to_tc: a rate alone is a tbf");
	imp = (struct link_impair){ 0 };
	spec_impair_to_tc(&imp, &t);
	OK(!tc_impair_is_set(&t), "to_tc: none is none");

	/* What the kernel keeps reads back as what was asked, at the protocol's precision. */
	for (size_t i = 0; i < ELEMENTSOF(pcts); i++) {
		imp = (struct link_impair){ .delay_ms = 1, .loss_pct = pcts[i],
					    .reorder_pct = pcts[i] };
		spec_impair_to_tc(&imp, &t);
		spec_impair_from_tc(&t, &back);
		snprintf(d, sizeof(d), "kernel round trip: %g %%", pcts[i]);
		OK(back.loss_pct == pcts[i] && back.reorder_pct == pcts[i], d);
		if (back.loss_pct != pcts[i])
			printf("# got %.10g\n", back.loss_pct);
	}
	for (size_t i = 0; i < ELEMENTSOF(mss); i++) {
		imp = (struct link_impair){ .delay_ms = mss[i], .jitter_ms = mss[i] };
		spec_impair_to_tc(&imp, &t);
		spec_impair_from_tc(&t, &back);
		snprintf(d, sizeof(d), "kernel round trip: %g ms", mss[i]);
		OK(back.delay_ms == mss[i] && back.jitter_ms == mss[i], d);
		if (back.delay_ms != mss[i])
			printf("# got %.10g\n", back.delay_ms);
	}
	t = (struct tc_impair){ .rate = 625000 };
	spec_impair_from_tc(&t, &back);
	EQ_INT(back.rate_kbit, 5000, "from_tc: 625000 bytes/s is 5000 kbit/s");
}

/* A link doc that must be rejected, naming want_field. */
static void link_bad(const char *text, const char *want_field, const char *desc)
{
	json_t *doc = load_impair(text);
	const char *field = NULL, *msg = NULL;
	struct link_desc ld;
	char d[128];

	snprintf(d, sizeof(d), "link doc, %s: rejected", desc);
	EQ_INT(spec_link_from_json(doc, &ld, &field, &msg), -EINVAL, d);
	snprintf(d, sizeof(d), "link doc, %s: field path", desc);
	EQ_STR(field, want_field, d);
	json_decref(doc);
}

/* The impair member of link docs, peer included, with the field path of errors. */
static void test_link_impair(void)
{
	struct link_desc desc;
	const char *field = NULL, *msg = NULL;
	json_t *doc, *out;
	int r;

	doc = load_impair("{\"netns\":\"a\",\"name\":\"e0\",\"kind\":\"veth\",\"impair\":{\"delay_ms\":"
			  "20,\"loss_pct\":2},\"peer\":{\"name\":\"e1\",\"impair\":{\"rate_kbit\":"
			  "512}}}");
	r = spec_link_from_json(doc, &desc, &field, &msg);
	EQ_INT(r, 0, "link doc with impair: accepted");
	OK(desc.impair.delay_ms == 20 && desc.impair.loss_pct == 2 &&
	       desc.peer.impair.rate_kbit == 512,
	   "link doc with impair: both ends read");
	out = spec_link_to_json(&desc);
	OK(json_equal(json_object_get(out, "impair"), json_object_get(doc, "impair")),
	   "link doc with impair: stored doc keeps it");
	json_decref(out);
	json_decref(doc);

	doc = load_impair("{\"name\":\"e0\",\"kind\":\"bridge\",\"impair\":{}}");
	r = spec_link_from_json(doc, &desc, &field, &msg);
	OK(r == 0 && !spec_impair_is_set(&desc.impair), "link doc with impair {}: none");
	out = spec_link_to_json(&desc);
	OK(!json_object_get(out, "impair"), "link doc with impair {}: not stored");
	json_decref(out);
	json_decref(doc);

	link_bad("{\"name\":\"e0\",\"kind\":\"dummy\",\"impair\":{\"loss_pct\":200}}",
		 "impair.loss_pct", "bad impair");
	link_bad("{\"name\":\"e0\",\"kind\":\"veth\",\"peer\":{\"name\":\"e1\",\"impair\":"
		 "{\"jitter_ms\":1}}}",
		 "peer.impair.jitter_ms", "bad peer impair");
	link_bad("{\"name\":\"e0\",\"kind\":\"dummy\",\"impair\":5}", "impair",
		 "impair not an object");
	/* Stored docs of links netnsd did not create may carry impairments too. */
	doc = load_impair("{\"name\":\"lo\",\"origin\":\"existing\",\"impair\":{\"rate_kbit\":1}}");
	r = spec_link_from_json(doc, &desc, &field, &msg);
	OK(r == 0 && desc.impair.rate_kbit == 1, "existing link doc with impair: read");
	json_decref(doc);
}

int main(void)
{
	test_sysctls_check();
	test_netns_json();
	test_impair_parse();
	test_impair_kernel_units();
	test_link_impair();
	return tap_done();
}
