/*
 * spec.c: JSON documents of the desired state <-> C specs (see spec.h).
 */
#include <stddef.h>
#include <string.h>

#include "spec.h"
#include "util.h"

const char *spec_sysctls_check(json_t *v, const char **ret_key)
{
	const char *key;
	json_t *val;

	json_object_foreach(v, key, val) {
		size_t n = strlen(key);

		*ret_key = key;
		if (strncmp(key, "net.", 4) && strncmp(key, "net/", 4))
			return "only per-namespace sysctls under net. can be set";
		if (n > 200 || strstr(key, "..") || strstr(key, "//") || key[n - 1] == '.' ||
		    key[n - 1] == '/')
			return "malformed sysctl name";
		for (size_t i = 0; i < n; i++) {
			char c = key[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
			      c == '/'))
				return "malformed sysctl name";
		}
		if (json_is_string(val)) {
			const char *s = json_string_value(val);

			if (json_string_length(val) > 4096 || strlen(s) != json_string_length(val))
				return "sysctl value too long or contains NUL";
		} else if (!json_is_integer(val) && !json_is_boolean(val)) {
			return "sysctl value must be a string, an integer or a boolean";
		}
	}
	*ret_key = NULL;
	return NULL;
}

void spec_netns_done(struct netns_spec_buf *buf)
{
	for (size_t i = 0; buf->values && i < buf->spec.n_sysctls; i++)
		free(buf->values[i]);
	free(buf->values);
	free(buf->sysctls);
	memset(buf, 0, sizeof(*buf));
}

int spec_netns_from_json(const char *name, json_t *doc, struct netns_spec_buf *buf)
{
	json_t *v, *sysctls;
	const char *key;
	size_t i = 0, n;

	memset(buf, 0, sizeof(*buf));
	buf->spec.name = name;
	buf->spec.nsid = -1;
	v = json_object_get(doc, "nsid");
	if (json_is_integer(v))
		buf->spec.nsid = (int)json_integer_value(v);
	v = json_object_get(doc, "resolv_conf");
	if (json_is_string(v))
		buf->spec.resolv_conf = json_string_value(v);
	v = json_object_get(doc, "hosts");
	if (json_is_string(v))
		buf->spec.hosts = json_string_value(v);
	sysctls = json_object_get(doc, "sysctls");
	if (!json_is_object(sysctls) || (n = json_object_size(sysctls)) == 0)
		return 0;
	buf->sysctls = calloc(n, sizeof(*buf->sysctls));
	buf->values = calloc(n, sizeof(char *));
	if (!buf->sysctls || !buf->values)
		goto oom;
	json_object_foreach(sysctls, key, v) {
		if (json_is_string(v))
			buf->values[i] = strdup(json_string_value(v));
		else if (json_is_integer(v))
			asprintf(&buf->values[i], "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			buf->values[i] = strdup(json_is_true(v) ? "1" : "0");
		else
			return spec_netns_done(buf), -EINVAL;
		if (!buf->values[i])
			goto oom;
		buf->sysctls[i] = (struct netns_sysctl){ key, buf->values[i] };
		buf->spec.n_sysctls = ++i;
	}
	buf->spec.sysctls = buf->sysctls;
	return 0;
oom:
	spec_netns_done(buf);
	return -ENOMEM;
}

json_t *spec_netns_to_json(const struct netns_spec *spec, const struct netns_id *id,
			   const char *boot_id, const char *created)
{
	json_t *doc = json_object();

	if (spec->nsid >= 0)
		json_object_set_new(doc, "nsid", json_integer(spec->nsid));
	if (spec->n_sysctls) {
		json_t *s = json_object();

		for (size_t i = 0; i < spec->n_sysctls; i++)
			json_object_set_new(s, spec->sysctls[i].key,
					    json_string(spec->sysctls[i].value));
		json_object_set_new(doc, "sysctls", s);
	}
	if (spec->resolv_conf)
		json_object_set_new(doc, "resolv_conf", json_string(spec->resolv_conf));
	if (spec->hosts)
		json_object_set_new(doc, "hosts", json_string(spec->hosts));
	json_object_set_new(doc, "created", json_string(created));
	json_object_set_new(doc, "identity",
			    json_pack("{s:I,s:I,s:s}", "dev", (json_int_t)id->dev, "ino",
				      (json_int_t)id->ino, "boot_id", boot_id));
	if (id->cookie)
		json_object_set_new(json_object_get(doc, "identity"), "cookie",
				    json_integer((json_int_t)id->cookie));
	return doc;
}

bool spec_netns_identity(json_t *doc, struct netns_id *ret)
{
	json_t *ident = json_object_get(doc, "identity");
	json_t *dev = json_object_get(ident, "dev"), *ino = json_object_get(ident, "ino");
	json_t *cookie = json_object_get(ident, "cookie");

	if (!json_is_integer(dev) || !json_is_integer(ino))
		return false;
	*ret =
	    (struct netns_id){ (uint64_t)json_integer_value(dev), (uint64_t)json_integer_value(ino),
			       json_is_integer(cookie) ? (uint64_t)json_integer_value(cookie) : 0 };
	return true;
}

/* Links. */

#include <linux/if_ether.h>

static const char *const link_kinds[] = { "veth", "bridge", "dummy", "vlan", "macvlan", "vxlan" };

/* In the order of enum nl_macvlan_mode. */
static const char *const macvlan_modes[] = { "bridge", "private", "vepa", "passthru" };

const char *spec_macvlan_mode_name(enum nl_macvlan_mode m)
{
	return (size_t)m < ELEMENTSOF(macvlan_modes) ? macvlan_modes[m] : "bridge";
}

static bool spec_link_kind_known(const char *kind)
{
	for (size_t i = 0; kind && i < ELEMENTSOF(link_kinds); i++)
		if (!strcmp(kind, link_kinds[i]))
			return true;
	return false;
}

static const char *str(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static int tristate(json_t *doc, const char *key)
{
	return spec_tristate(json_object_get(doc, key));
}

#define FAIL(f, m)                                                                                 \
	do {                                                                                       \
		*ret_field = (f);                                                                  \
		*ret_msg = (m);                                                                    \
		return -EINVAL;                                                                    \
	} while (0)

/* Which kind-specific members each kind takes. */
static const struct {
	const char *member;
	const char *kinds; /* space-separated */
} kind_options[] = {
	{ "peer", "veth" },	{ "parent", "vlan macvlan" }, { "id", "vlan vxlan" },
	{ "protocol", "vlan" }, { "mode", "macvlan" },	      { "remote", "vxlan" },
	{ "group", "vxlan" },	{ "local", "vxlan" },	      { "port", "vxlan" },
	{ "dev", "vxlan" },	{ "stp", "bridge" },	      { "vlan_filtering", "bridge" },
};

static bool word_in(const char *word, const char *list)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static int read_mac(json_t *doc, const char *key, bool *has, uint8_t mac[NL_ETH_ALEN])
{
	const char *s = str(doc, key);

	*has = false;
	if (!s)
		return 0;
	if (nl_parse_mac(s, mac) < 0)
		return -EINVAL;
	*has = true;
	return 0;
}

/* Impairments. */


/*
 * min: the smallest value other than 0, the precision values are read back with (finer
 * ones would vanish in the kernel's units: a "delay" of 0 ns with a jitter).
 */
static const struct {
	const char *name;
	size_t off;
	double min, max;
	bool integer;
} impair_members[] = {
	{ "delay_ms", offsetof(struct link_impair, delay_ms), 0.001, SPEC_IMPAIR_MAX_MS, false },
	{ "jitter_ms", offsetof(struct link_impair, jitter_ms), 0.001, SPEC_IMPAIR_MAX_MS, false },
	{ "loss_pct", offsetof(struct link_impair, loss_pct), 0.0001, 100, false },
	{ "duplicate_pct", offsetof(struct link_impair, duplicate_pct), 0.0001, 100, false },
	{ "reorder_pct", offsetof(struct link_impair, reorder_pct), 0.0001, 100, false },
	{ "corrupt_pct", offsetof(struct link_impair, corrupt_pct), 0.0001, 100, false },
	{ "rate_kbit", offsetof(struct link_impair, rate_kbit), 1, (double)SPEC_IMPAIR_MAX_KBIT,
	  true },
};

int spec_impair_from_json(json_t *v, struct link_impair *ret, const char **ret_member,
			  const char **ret_msg)
{
	struct link_impair imp = { 0 };
	const char *key;
	json_t *val;

	*ret_member = NULL;
	if (json_is_null(v) || !v) {
		*ret = imp;
		return 0;
	}
	if (!json_is_object(v)) {
		*ret_msg = "must be an object";
		return -EINVAL;
	}
	json_object_foreach(v, key, val) {
		size_t i;
		double x;

		for (i = 0; i < ELEMENTSOF(impair_members) && strcmp(key, impair_members[i].name);
		     i++)
			;
		*ret_member = key;
		if (i == ELEMENTSOF(impair_members)) {
			*ret_msg = "unknown parameter";
			return -EINVAL;
		}
		if (impair_members[i].integer ? !json_is_integer(val) : !json_is_number(val)) {
			*ret_msg = impair_members[i].integer ? "must be an integer" : "must be a number";
			return -EINVAL;
		}
		x = json_number_value(val);
		if (!(x >= 0 && x <= impair_members[i].max)) {
			*ret_msg = impair_members[i].max == 100 ? "must be a percentage in the range 0..100"
				   : impair_members[i].integer ? "must be in the range 0..1000000000"
							       : "must be in the range 0..60000";
			return -EINVAL;
		}
		if (x > 0 && x < impair_members[i].min) {
			*ret_msg = impair_members[i].max == 100
				       ? "must be 0 or at least 0.0001 (percent)"
				       : "must be 0 or at least 0.001 (one microsecond)";
			return -EINVAL;
		}
		if (impair_members[i].integer)
			*(long long *)((char *)&imp + impair_members[i].off) = json_integer_value(val);
		else
			*(double *)((char *)&imp + impair_members[i].off) = x == 0 ? 0.0 : x; /* -0 */
	}
	/* netem: jitter varies a delay and reordering sends some packets ahead of delayed ones. */
	if (imp.jitter_ms > 0 && !(imp.delay_ms > 0)) {
		*ret_member = "jitter_ms";
		*ret_msg = "jitter needs a delay (delay_ms)";
		return -EINVAL;
	}
	if (imp.reorder_pct > 0 && !(imp.delay_ms > 0)) {
		*ret_member = "reorder_pct";
		*ret_msg = "reordering needs a delay (delay_ms)";
		return -EINVAL;
	}
	*ret_member = NULL;
	*ret = imp;
	return 0;
}

const char *spec_impair_check(json_t *v, const char **ret_sub)
{
	struct link_impair imp;
	const char *msg = NULL;

	if (spec_impair_from_json(v, &imp, ret_sub, &msg) < 0)
		return msg;
	return NULL;
}

bool spec_impair_is_set(const struct link_impair *imp)
{
	return imp->delay_ms > 0 || imp->jitter_ms > 0 || imp->loss_pct > 0 ||
	       imp->duplicate_pct > 0 || imp->reorder_pct > 0 || imp->corrupt_pct > 0 ||
	       imp->rate_kbit > 0;
}

/* Rounds x >= 0 to the nearest integer (no libm for this). */
static double round_pos(double x)
{
	return (double)(long long)(x + 0.5);
}

/* An integer when the value is one, so that 10 reads back as 10, not 10.0. */
static json_t *number(double x)
{
	if (x < 1e15 && x == (double)(long long)x)
		return json_integer((json_int_t)x);
	return json_real(x);
}

json_t *spec_impair_to_json(const struct link_impair *imp)
{
	json_t *o = json_object();

	for (size_t i = 0; i < ELEMENTSOF(impair_members); i++) {
		const char *p = (const char *)imp + impair_members[i].off;

		if (impair_members[i].integer) {
			if (*(const long long *)p > 0)
				json_object_set_new(o, impair_members[i].name,
						    json_integer(*(const long long *)p));
		} else if (*(const double *)p > 0) {
			json_object_set_new(o, impair_members[i].name, number(*(const double *)p));
		}
	}
	return o;
}

static uint32_t pct_to_prob(double pct)
{
	double p = pct / 100.0 * (double)TC_PROB_MAX;

	return p >= (double)TC_PROB_MAX ? TC_PROB_MAX : p <= 0 ? 0 : (uint32_t)round_pos(p);
}

/* Percentages to 1/10000 %, milliseconds to microseconds: finer than the kernel keeps them. */
static double pct_from_prob(uint32_t prob)
{
	return round_pos((double)prob * 100.0 / (double)TC_PROB_MAX * 10000.0) / 10000.0;
}

static uint64_t ms_to_ns(double ms)
{
	return (uint64_t)round_pos(ms * 1e6);
}

static double ms_from_ns(uint64_t ns)
{
	return round_pos((double)ns / 1e3) / 1e3;
}

void spec_impair_to_tc(const struct link_impair *imp, struct tc_impair *t)
{
	*t = (struct tc_impair){
		.delay_ns = ms_to_ns(imp->delay_ms),
		.jitter_ns = ms_to_ns(imp->jitter_ms),
		.loss = pct_to_prob(imp->loss_pct),
		.duplicate = pct_to_prob(imp->duplicate_pct),
		.reorder = pct_to_prob(imp->reorder_pct),
		.corrupt = pct_to_prob(imp->corrupt_pct),
		.rate = (uint64_t)imp->rate_kbit * 125, /* 1000 bit/s = 125 bytes/s */
	};
}

void spec_impair_from_tc(const struct tc_impair *t, struct link_impair *imp)
{
	*imp = (struct link_impair){
		.delay_ms = ms_from_ns(t->delay_ns),
		.jitter_ms = ms_from_ns(t->jitter_ns),
		.loss_pct = pct_from_prob(t->loss),
		.duplicate_pct = pct_from_prob(t->duplicate),
		.reorder_pct = pct_from_prob(t->reorder),
		.corrupt_pct = pct_from_prob(t->corrupt),
		.rate_kbit = (long long)((t->rate + 62) / 125),
	};
}

/* "impair.MEMBER" or "peer.impair.MEMBER" for an error; valid until the next call. */
static const char *impair_field(const char *prefix, const char *member)
{
	static char buf[96];

	if (!member)
		return prefix;
	snprintf(buf, sizeof(buf), "%s.%s", prefix, member);
	return buf;
}

int spec_link_from_json(json_t *doc, struct link_desc *d, const char **ret_field,
			const char **ret_msg)
{
	const char *origin = str(doc, "origin"), *s;
	json_t *peer = json_object_get(doc, "peer"), *v;

	memset(d, 0, sizeof(*d));
	d->netns = str(doc, "netns");
	d->name = str(doc, "name");
	d->kind = str(doc, "kind");
	d->up = tristate(doc, "up");
	d->ipv6_ll = tristate(doc, "ipv6_ll");
	d->master = str(doc, "master");
	d->id = -1;
	d->peer.up = d->peer.ipv6_ll = -1;
	if (!d->name || !ifname_valid(d->name))
		FAIL("name", "invalid interface name");
	if (!origin || !strcmp(origin, "created"))
		d->origin = LINK_CREATED;
	else if (!strcmp(origin, "borrowed"))
		d->origin = LINK_BORROWED;
	else if (!strcmp(origin, "existing"))
		d->origin = LINK_EXISTING;
	else
		FAIL("origin", "unknown origin");
	if (d->origin == LINK_BORROWED) {
		json_t *from = json_object_get(doc, "from");

		d->from_netns = str(from, "netns");
		d->from_name = str(from, "name");
		if (!d->from_name)
			FAIL("from.name", "a borrowed link must say where it came from");
	}
	v = json_object_get(doc, "mtu");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 68 ||
		    json_integer_value(v) > 65535)
			FAIL("mtu", "must be an integer in the range 68..65535");
		d->mtu = (uint32_t)json_integer_value(v);
	}
	if (read_mac(doc, "address", &d->has_mac, d->mac) < 0)
		FAIL("address", "must be a unicast MAC address like 02:00:00:00:00:01");
	if (d->master && !ifname_valid(d->master))
		FAIL("master", "invalid interface name");
	if (spec_impair_from_json(json_object_get(doc, "impair"), &d->impair, &s, ret_msg) < 0) {
		*ret_field = impair_field("impair", s);
		return -EINVAL;
	}
	if (d->origin != LINK_CREATED)
		return 0;

	if (!d->kind)
		FAIL("kind", "missing required parameter");
	if (!spec_link_kind_known(d->kind))
		FAIL("kind", "unknown kind: expected veth, bridge, dummy, vlan, macvlan or vxlan");
	for (size_t i = 0; i < ELEMENTSOF(kind_options); i++)
		if (json_object_get(doc, kind_options[i].member) &&
		    !json_is_null(json_object_get(doc, kind_options[i].member)) &&
		    !word_in(d->kind, kind_options[i].kinds)) {
			*ret_field = kind_options[i].member;
			*ret_msg = "does not apply to this kind";
			return -EINVAL;
		}

	if (!strcmp(d->kind, "veth")) {
		if (!json_is_object(peer))
			FAIL("peer", "a veth needs a peer: {\"name\": ...}");
		d->peer.name = str(peer, "name");
		d->peer.netns = str(peer, "netns");
		d->peer.up = tristate(peer, "up");
		d->peer.ipv6_ll = tristate(peer, "ipv6_ll");
		d->peer.master = str(peer, "master");
		if (!d->peer.name || !ifname_valid(d->peer.name))
			FAIL("peer.name", "invalid interface name");
		if (d->peer.netns && !netns_name_valid(d->peer.netns))
			FAIL("peer.netns", "invalid namespace name");
		if (d->peer.master && !ifname_valid(d->peer.master))
			FAIL("peer.master", "invalid interface name");
		v = json_object_get(peer, "mtu");
		if (json_is_integer(v)) {
			if (json_integer_value(v) < 68 || json_integer_value(v) > 65535)
				FAIL("peer.mtu", "must be an integer in the range 68..65535");
			d->peer.mtu = (uint32_t)json_integer_value(v);
		}
		if (read_mac(peer, "address", &d->peer.has_mac, d->peer.mac) < 0)
			FAIL("peer.address", "must be a unicast MAC address");
		if (spec_impair_from_json(json_object_get(peer, "impair"), &d->peer.impair, &s,
					  ret_msg) < 0) {
			*ret_field = impair_field("peer.impair", s);
			return -EINVAL;
		}
		if (!strcmp(d->peer.name, d->name) &&
		    ((d->netns && d->peer.netns && !strcmp(d->netns, d->peer.netns)) ||
		     (!d->netns && !d->peer.netns)))
			FAIL("peer.name", "both ends of a veth in one namespace need two names");
	}
	v = json_object_get(doc, "id");
	if (json_is_integer(v))
		d->id = json_integer_value(v);
	d->parent = str(doc, "parent");
	if (d->parent && !ifname_valid(d->parent))
		FAIL("parent", "invalid interface name");
	if (!strcmp(d->kind, "vlan")) {
		if (d->id < 1 || d->id > 4094)
			FAIL("id", "a vlan needs an id in the range 1..4094");
		if (!d->parent)
			FAIL("parent", "a vlan needs a parent device");
		s = str(doc, "protocol");
		if (!s || !strcmp(s, "802.1Q"))
			d->protocol = ETH_P_8021Q;
		else if (!strcmp(s, "802.1ad"))
			d->protocol = ETH_P_8021AD;
		else
			FAIL("protocol", "must be \"802.1Q\" or \"802.1ad\"");
	}
	if (!strcmp(d->kind, "macvlan")) {
		if (!d->parent)
			FAIL("parent", "a macvlan needs a parent device");
		s = str(doc, "mode");
		d->mode = NL_MACVLAN_BRIDGE;
		if (s) {
			size_t i;

			for (i = 0; i < ELEMENTSOF(macvlan_modes) && strcmp(s, macvlan_modes[i]); i++)
				;
			if (i == ELEMENTSOF(macvlan_modes))
				FAIL("mode", "must be bridge, private, vepa or passthru");
			d->mode = (enum nl_macvlan_mode)i;
		}
	}
	if (!strcmp(d->kind, "vxlan")) {
		if (d->id < 0 || d->id > 0xffffff)
			FAIL("id", "a vxlan needs an id (VNI) in the range 0..16777215");
		if ((s = str(doc, "remote")) && nl_parse_addr(s, &d->remote) < 0)
			FAIL("remote", "must be an IPv4 or IPv6 address");
		if ((s = str(doc, "group")) && nl_parse_addr(s, &d->group) < 0)
			FAIL("group", "must be an IPv4 or IPv6 address");
		if ((s = str(doc, "local")) && nl_parse_addr(s, &d->local) < 0)
			FAIL("local", "must be an IPv4 or IPv6 address");
		if (d->remote.family && d->group.family)
			FAIL("group", "give either remote or group, not both");
		d->dev = str(doc, "dev");
		if (d->dev && !ifname_valid(d->dev))
			FAIL("dev", "invalid interface name");
		if (d->group.family && !d->dev)
			FAIL("dev", "a multicast group needs an underlay device");
		v = json_object_get(doc, "port");
		if (json_is_integer(v)) {
			if (json_integer_value(v) < 1 || json_integer_value(v) > 65535)
				FAIL("port", "must be in the range 1..65535");
			d->port = (uint16_t)json_integer_value(v);
		}
		d->underlay = json_is_true(json_object_get(doc, "underlay"));
	}
	if (!strcmp(d->kind, "bridge")) {
		d->stp = tristate(doc, "stp") == 1;
		d->vlan_filtering = tristate(doc, "vlan_filtering") == 1;
	}
	return 0;
}

enum nl_addrgen spec_addrgen(int ipv6_ll)
{
	return ipv6_ll < 0 ? NL_ADDRGEN_KEEP : ipv6_ll ? NL_ADDRGEN_EUI64 : NL_ADDRGEN_NONE;
}

void spec_link_to_nl(const struct link_desc *d, struct nl_link_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->name = d->name;
	s->kind = d->kind;
	s->mtu = d->mtu;
	s->mac = d->has_mac ? d->mac : NULL;
	s->up = d->up == 1;
	if (d->master)
		s->master = NL_DEV(d->master);
	s->addrgen = spec_addrgen(d->ipv6_ll);
	if (d->parent)
		s->parent = NL_DEV(d->parent);
	if (d->dev)
		s->parent = NL_DEV(d->dev);
	s->peer.name = d->peer.name;
	s->peer.mtu = d->peer.mtu;
	s->peer.mac = d->peer.has_mac ? d->peer.mac : NULL;
	s->bridge.stp = d->stp;
	s->bridge.vlan_filtering = d->vlan_filtering;
	s->vlan.id = d->id > 0 ? (uint16_t)d->id : 0;
	s->vlan.protocol = d->protocol;
	s->macvlan.mode = d->mode;
	s->vxlan.vni = d->id >= 0 ? (uint32_t)d->id : 0;
	s->vxlan.remote = d->remote.family ? d->remote : d->group;
	s->vxlan.local = d->local;
	s->vxlan.port = d->port;
}

static void set_addr(json_t *o, const char *key, const struct nl_addr *a)
{
	char buf[NL_ADDRSTRLEN];

	if (a->family)
		json_object_set_new(o, key, json_string(nl_format_addr(a->family, a->bytes, buf)));
}

json_t *spec_link_to_json(const struct link_desc *d)
{
	static const char *const origins[] = { "created", "borrowed", "existing" };
	json_t *o = json_object();
	char mac[NL_MACSTRLEN];

	json_object_set_new(o, "netns", d->netns ? json_string(d->netns) : json_null());
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "origin", json_string(origins[d->origin]));
	if (d->kind)
		json_object_set_new(o, "kind", json_string(d->kind));
	if (d->origin == LINK_BORROWED)
		json_object_set_new(
		    o, "from",
		    json_pack("{s:o,s:s}", "netns",
			      d->from_netns ? json_string(d->from_netns) : json_null(), "name",
			      d->from_name));
	if (d->mtu)
		json_object_set_new(o, "mtu", json_integer(d->mtu));
	if (d->has_mac)
		json_object_set_new(o, "address",
				    json_string(nl_format_mac(d->mac, NL_ETH_ALEN, mac)));
	if (d->up >= 0)
		json_object_set_new(o, "up", json_boolean(d->up));
	if (d->ipv6_ll >= 0)
		json_object_set_new(o, "ipv6_ll", json_boolean(d->ipv6_ll));
	if (d->master)
		json_object_set_new(o, "master", json_string(d->master));
	if (spec_impair_is_set(&d->impair))
		json_object_set_new(o, "impair", spec_impair_to_json(&d->impair));
	if (d->peer.name) {
		json_t *p = json_pack("{s:s,s:o}", "name", d->peer.name, "netns",
				      d->peer.netns ? json_string(d->peer.netns) : json_null());

		json_object_set_new(o, "peer", p);
	}
	if (d->parent)
		json_object_set_new(o, "parent", json_string(d->parent));
	if (d->id >= 0 && d->kind && (!strcmp(d->kind, "vlan") || !strcmp(d->kind, "vxlan")))
		json_object_set_new(o, "id", json_integer(d->id));
	if (d->kind && !strcmp(d->kind, "vlan") && d->protocol == ETH_P_8021AD)
		json_object_set_new(o, "protocol", json_string("802.1ad"));
	if (d->kind && !strcmp(d->kind, "macvlan"))
		json_object_set_new(o, "mode", json_string(macvlan_modes[d->mode]));
	set_addr(o, "remote", &d->remote);
	set_addr(o, "group", &d->group);
	set_addr(o, "local", &d->local);
	if (d->port)
		json_object_set_new(o, "port", json_integer(d->port));
	if (d->dev)
		json_object_set_new(o, "dev", json_string(d->dev));
	if (d->underlay)
		json_object_set_new(o, "underlay", json_true());
	if (d->kind && !strcmp(d->kind, "bridge")) {
		json_object_set_new(o, "stp", json_boolean(d->stp));
		json_object_set_new(o, "vlan_filtering", json_boolean(d->vlan_filtering));
	}
	return o;
}

int spec_link_key(const char *netns, const char *name, char **ret)
{
	return asprintf(ret, "%s/%s", netns ? netns : "", name) < 0 ? -ENOMEM : 0;
}

int spec_link_peer_from_json(json_t *peer_doc, struct link_desc *d)
{
	const char *field, *msg;
	struct link_desc pd;

	if (spec_link_from_json(peer_doc, &pd, &field, &msg) < 0)
		return -EINVAL;
	d->peer.mtu = pd.mtu;
	d->peer.has_mac = pd.has_mac;
	memcpy(d->peer.mac, pd.mac, sizeof(d->peer.mac));
	d->peer.ipv6_ll = pd.ipv6_ll;
	d->peer.master = pd.master;
	d->peer.up = pd.up;
	d->peer.impair = pd.impair;
	return 0;
}

#include <linux/rtnetlink.h>

#include "views.h"

int spec_route_from_json(json_t *doc, struct nl_route_spec *r)
{
	const char *dst = str(doc, "dst"), *via = str(doc, "via"), *dev = str(doc, "dev");
	const char *type = str(doc, "type");
	json_t *metric = json_object_get(doc, "metric"), *table = json_object_get(doc, "table");

	memset(r, 0, sizeof(*r));
	r->type = RTN_UNICAST;
	if (!dst || nl_parse_cidr(dst, &r->dst) < 0 || (via && nl_parse_addr(via, &r->gateway) < 0))
		return -EINVAL;
	for (unsigned t = RTN_UNICAST; type && t <= RTN_PROHIBIT; t++)
		if (!strcmp(type, view_route_type(t)))
			r->type = (uint8_t)t;
	if (dev)
		r->dev = NL_DEV(dev);
	r->metric = json_is_integer(metric) ? (uint32_t)json_integer_value(metric) : 0;
	r->table = json_is_integer(table) ? (uint32_t)json_integer_value(table) : 0;
	return 0;
}

int spec_addr_from_json(json_t *doc, struct nl_prefix *ret, unsigned *ret_flags)
{
	const char *address = str(doc, "address");

	if (!str(doc, "dev") || !address || nl_parse_cidr(address, ret) < 0)
		return -EINVAL;
	*ret_flags = json_is_true(json_object_get(doc, "nodad")) ? NL_ADDR_NODAD : 0;
	return 0;
}

/* Processes. */

void spec_proc_done(struct spec_proc_buf *buf)
{
	free(buf->argv);
	free(buf->env);
	free(buf->envbuf);
	memset(buf, 0, sizeof(*buf));
}

/*
 * A stdio member: "null", "log" (the process's log file), {"file": "/PATH"}
 * (appended to) or {"fd": I}.  Omitted: stdin null, stdout and stderr log.
 */
static int proc_stdio_from_json(json_t *v, int which, const int *fds, size_t nfds,
				struct proc_stdio *ret, const char **ret_msg)
{
	const char *s = json_string_value(v);
	json_t *m;

	memset(ret, 0, sizeof(*ret));
	if (!v) {
		ret->kind = which == 0 ? PROC_STDIO_NULL : PROC_STDIO_LOG;
		return 0;
	}
	if (s && !strcmp(s, "null")) {
		ret->kind = PROC_STDIO_NULL;
		return 0;
	}
	if (s && !strcmp(s, "log") && which > 0) {
		ret->kind = PROC_STDIO_LOG;
		return 0;
	}
	if (json_is_object(v) && json_object_size(v) == 1 && which > 0 &&
	    (m = json_object_get(v, "file")) && json_is_string(m) &&
	    json_string_value(m)[0] == '/') {
		ret->kind = PROC_STDIO_LOG;
		ret->path = json_string_value(m);
		return 0;
	}
	if (json_is_object(v) && json_object_size(v) == 1 && (m = json_object_get(v, "fd")) &&
	    json_is_integer(m)) {
		json_int_t i = json_integer_value(m);

		if (i < 0 || (size_t)i >= nfds) {
			*ret_msg = "names a descriptor that was not passed with the request";
			return -EBADF;
		}
		ret->kind = PROC_STDIO_FD;
		ret->fd = fds[i];
		return 0;
	}
	*ret_msg = which == 0 ? "expected \"null\" or {\"fd\": I}"
			      : "expected \"null\", \"log\", {\"file\": \"/PATH\"} or {\"fd\": I}";
	return -EINVAL;
}

int spec_proc_from_json(json_t *spec, const int *fds, size_t nfds, struct spec_proc_buf *buf,
			const char **ret_field, const char **ret_msg)
{
	static const char *const stdio_names[] = { "stdin", "stdout", "stderr" };
	json_t *argv_j = json_object_get(spec, "argv"), *env_j = json_object_get(spec, "env");
	json_t *user = json_object_get(spec, "user"), *group = json_object_get(spec, "group");
	struct proc_spawn_params *p = &buf->p;
	size_t i, n;
	json_t *v;
	int r;

	memset(buf, 0, sizeof(*buf));
	n = json_array_size(argv_j);
	buf->argv = calloc(n + 1, sizeof(char *));
	if (!buf->argv)
		return -ENOMEM;
	json_array_foreach(argv_j, i, v)
		buf->argv[i] = json_string_value(v);
	if (env_j) {
		const char *key;
		size_t len = 0, off = 0;

		json_object_foreach(env_j, key, v)
			len += strlen(key) + json_string_length(v) + 2;
		buf->env = calloc(json_object_size(env_j) + 1, sizeof(char *));
		buf->envbuf = malloc(len + 1);
		if (!buf->env || !buf->envbuf) {
			spec_proc_done(buf);
			return -ENOMEM;
		}
		i = 0;
		json_object_foreach(env_j, key, v) {
			buf->env[i++] = buf->envbuf + off;
			off += (size_t)sprintf(buf->envbuf + off, "%s=%s", key,
					       json_string_value(v)) + 1;
		}
	}
	p->name = json_string_value(json_object_get(spec, "name"));
	p->netns = json_string_value(json_object_get(spec, "netns"));
	p->argv = buf->argv;
	p->env = buf->env;
	p->env_merge = !json_is_true(json_object_get(spec, "env_replace"));
	p->tty = json_is_true(json_object_get(spec, "tty"));
	v = json_object_get(spec, "log_max_bytes");
	if (json_is_integer(v))
		p->log_max_bytes = json_integer_value(v) > 0 ? json_integer_value(v) : -1;
	p->log_files = (unsigned)json_integer_value(json_object_get(spec, "log_files"));
	p->cwd = json_string_value(json_object_get(spec, "cwd"));
	if (json_is_integer(user))
		snprintf(buf->ubuf, sizeof(buf->ubuf), "%lld", (long long)json_integer_value(user));
	if (json_is_integer(group))
		snprintf(buf->gbuf, sizeof(buf->gbuf), "%lld",
			 (long long)json_integer_value(group));
	p->user = json_is_integer(user) ? buf->ubuf : json_string_value(user);
	p->group = json_is_integer(group) ? buf->gbuf : json_string_value(group);
	for (i = 0; i < 3; i++) {
		r = proc_stdio_from_json(json_object_get(spec, stdio_names[i]), (int)i, fds, nfds,
					 &p->stdio[i], ret_msg);
		if (r < 0) {
			*ret_field = stdio_names[i];
			spec_proc_done(buf);
			return r;
		}
	}
	/* Not proc_restart_from_string(): the fuzz harnesses link this file without proc.c. */
	p->restart = PROC_RESTART_NO;
	v = json_object_get(spec, "restart");
	if (json_is_string(v) && !strcmp(json_string_value(v), "always"))
		p->restart = PROC_RESTART_ALWAYS;
	else if (json_is_string(v) && !strcmp(json_string_value(v), "on-failure"))
		p->restart = PROC_RESTART_ON_FAILURE;
	else if (v && (!json_is_string(v) || strcmp(json_string_value(v), "no"))) {
		*ret_field = "restart";
		*ret_msg = "must be no, on-failure or always";
		spec_proc_done(buf);
		return -EINVAL;
	}
	return 0;
}
