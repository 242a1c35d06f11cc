/*
 * topology_doc.c: parse, check and compile topology documents (see
 * topology_doc.h).  Pure: no I/O, no state, no kernel.
 *
 * A document is
 *   {"name"?, "prefix"?, "nodes": [NODE], "links"?: [LINK], "bridges"?: [BRIDGE]}
 *   NODE   = {"name", "nsid"?, "sysctls"?, "resolv_conf"?, "hosts"?, "routes"?: [ROUTE],
 *             "services"?: [SERVICE]}
 *   LINK   = {"ends": [END, END]}                       a veth between two nodes
 *   BRIDGE = {"name", "node"?, "mtu"?, "mac"?, "addresses"?, "stp"?, "members": [MEMBER]}
 *   END    = {"node", "name", "mac"?, "mtu"?, "addresses"?: [CIDR], "impair"?}
 *   MEMBER = END + {"port"?}: a veth from the node to the bridge's namespace
 *   ROUTE  = {"dst", "via"?, "dev"?, "metric"?}
 *   SERVICE = {"name", "argv", "env"?, "cwd"?, "user"?, "group"?, "restart"?, "stdout"?,
 *              "stderr"?, "log_max_bytes"?, "log_files"?}: proc.spawn in the node
 * and, for labs spanning hosts (multihost.h), NODE + {"host"?} and
 *   "tunnels"?: [TUNNEL], TUNNEL = END + {"vni", "remote", "local", "port"?, "dev"?}:
 *   one end of a cross-host link, a vxlan in the node with its socket in the host.
 * "prefix" goes in front of every namespace name and every interface name in
 * the host, so one document can be applied many times side by side.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "links.h"
#include "nl.h"
#include "spec.h"
#include "topology_doc.h"
#include "util.h"

const char *const topology_colls[5] = { "netns", LINK_COLL, ADDR_COLL, ROUTE_COLL,
					TOPOLOGY_SERVICE_COLL };

struct ctx {
	struct topology_doc_error *err;
	const char *prefix;
	json_t *nodes;	 /* name -> index */
	json_t *ifnames; /* node name ("" for the host) -> {ifname: path} */
	json_t *addrs;	 /* "ip" -> path */
	json_t *onlink;	 /* node name -> [CIDR] of its addresses */
	json_t *procs;	 /* service name -> path */
};

static int fail(struct ctx *c, const char *path, const char *fmt, ...) _printf_(3, 4);
static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->err->path, sizeof(c->err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void path_fmt(char *buf, size_t len, const char *fmt, ...) _printf_(3, 4);
static void path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

#define PATH_LEN 256

/* Refuse members not in allowed (a NULL-terminated list). */
static int only_members(struct ctx *c, json_t *o, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return fail(c, path, "must be an object");
	json_object_foreach(o, key, v) {
		const char *const *a;

		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a) {
			char p[PATH_LEN];

			path_fmt(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
			return fail(c, p, "unknown member");
		}
	}
	return 0;
}

static json_t *member(json_t *o, const char *key, const char *path, char *p)
{
	path_fmt(p, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
	return json_object_get(o, key);
}

static int check_string(struct ctx *c, json_t *v, const char *p, size_t max)
{
	if (!json_is_string(v))
		return fail(c, p, "must be a string");
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return fail(c, p, "longer than %zu bytes or contains NUL", max);
	return 0;
}

static int check_int(struct ctx *c, json_t *v, const char *p, long long min, long long max)
{
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(c, p, "must be an integer in the range %lld..%lld", min, max);
	return 0;
}

static const char *node_ns(struct ctx *c, const char *node, char buf[static NETNS_NAME_MAX * 2])
{
	snprintf(buf, NETNS_NAME_MAX * 2, "%s%s", c->prefix, node);
	return buf;
}

/* Claim an interface name in a node (NULL: the host, where the prefix applies). */
static int claim_ifname(struct ctx *c, const char *node, const char *name, const char *p)
{
	char full[64];
	json_t *set, *prev;

	if (!node) {
		snprintf(full, sizeof(full), "%s%s", c->prefix, name);
		if (strlen(c->prefix) + strlen(name) > 15)
			return fail(c, p, "'%s' with the prefix '%s' is longer than 15 bytes",
				    name, c->prefix);
		name = full;
	}
	if (!ifname_valid(name))
		return fail(c, p, "invalid interface name '%s' (1-15 bytes, no '/', ':' or space)",
			    name);
	if (node && !strcmp(name, "lo"))
		return fail(c, p, "'lo' is the namespace's loopback device");
	set = json_object_get(c->ifnames, node ? node : "");
	if (!set) {
		set = json_object();
		json_object_set_new(c->ifnames, node ? node : "", set);
	}
	prev = json_object_get(set, name);
	if (prev)
		return fail(c, p, "duplicate interface name '%s' in %s%s (also at %s)", name,
			    node ? "node " : "the host", node ? node : "", json_string_value(prev));
	json_object_set_new(set, name, json_string(p));
	return 0;
}

static int check_node_ref(struct ctx *c, json_t *v, const char *p)
{
	if (!json_is_string(v))
		return fail(c, p, "must be the name of a node");
	if (!json_object_get(c->nodes, json_string_value(v)))
		return fail(c, p, "no node named '%s' in nodes", json_string_value(v));
	return 0;
}

static int check_addresses(struct ctx *c, json_t *v, const char *path, const char *node)
{
	char p[PATH_LEN];
	size_t i;
	json_t *a;

	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > TOPOLOGY_MAX_PER_NODE)
		return fail(c, path, "must be an array of at most %d addresses",
			    TOPOLOGY_MAX_PER_NODE);
	json_array_foreach(v, i, a) {
		char ip[NL_ADDRSTRLEN];
		struct nl_prefix pfx;
		json_t *prev, *list;

		path_fmt(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_string(a) || nl_parse_cidr(json_string_value(a), &pfx) < 0)
			return fail(c, p, "expected ADDRESS/PREFIX, like 10.0.0.1/24 or fd00::1/64");
		nl_format_addr(pfx.family, pfx.bytes, ip);
		prev = json_object_get(c->addrs, ip);
		if (prev)
			return fail(c, p, "duplicate address %s (also at %s)", ip,
				    json_string_value(prev));
		json_object_set_new(c->addrs, ip, json_string(p));
		list = json_object_get(c->onlink, node ? node : "");
		if (!list) {
			list = json_array();
			json_object_set_new(c->onlink, node ? node : "", list);
		}
		json_array_append(list, a);
	}
	return 0;
}

/* Impairments: the same rules as link.add's (spec_impair_check()). */
static int check_impair(struct ctx *c, json_t *v, const char *path)
{
	const char *sub = NULL, *msg = spec_impair_check(v, &sub);
	char p[PATH_LEN];

	if (!msg)
		return 0;
	path_fmt(p, sizeof(p), "%s%s%s", path, sub ? "." : "", sub ? sub : "");
	return fail(c, p, "%s", msg);
}

/* One end of a link or a bridge member, in a node. */
static int check_end(struct ctx *c, json_t *e, const char *path, bool is_member)
{
	static const char *const allowed[] = { "node",	    "name",   "mac",	 "mtu",
					       "addresses", "impair", "ipv6_ll", NULL };
	static const char *const allowed_member[] = { "node",	   "name",   "mac",
						       "mtu",	   "addresses", "impair",
						       "ipv6_ll", "port",	     NULL };
	char p[PATH_LEN];
	uint8_t mac[NL_ETH_ALEN];
	const char *node;
	json_t *v;
	int r;

	r = only_members(c, e, path, is_member ? allowed_member : allowed);
	if (r < 0)
		return r;
	v = member(e, "node", path, p);
	if (!v)
		return fail(c, p, "missing: the node this end is in");
	if (check_node_ref(c, v, p) < 0)
		return -EINVAL;
	node = json_string_value(v);
	v = member(e, "name", path, p);
	if (!v)
		return fail(c, p, "missing: the interface name in the node");
	if (!json_is_string(v))
		return fail(c, p, "must be an interface name");
	if (claim_ifname(c, node, json_string_value(v), p) < 0)
		return -EINVAL;
	if ((v = member(e, "mac", path, p)) &&
	    (!json_is_string(v) || nl_parse_mac(json_string_value(v), mac) < 0))
		return fail(c, p, "must be a unicast MAC address like 02:00:00:00:00:01");
	if ((v = member(e, "mtu", path, p)) && check_int(c, v, p, 68, 65535) < 0)
		return -EINVAL;
	if ((v = member(e, "ipv6_ll", path, p)) && !json_is_boolean(v))
		return fail(c, p, "must be true or false");
	v = member(e, "addresses", path, p);
	if (check_addresses(c, v, p, node) < 0)
		return -EINVAL;
	if ((v = member(e, "impair", path, p)) && check_impair(c, v, p) < 0)
		return -EINVAL;
	return 0;
}

static int check_links(struct ctx *c, json_t *links)
{
	static const char *const allowed[] = { "ends", NULL };
	char path[PATH_LEN], p[PATH_LEN];
	size_t i;
	json_t *l;

	if (!links)
		return 0;
	if (!json_is_array(links) || json_array_size(links) > TOPOLOGY_MAX_LINKS)
		return fail(c, "links", "must be an array of at most %d links", TOPOLOGY_MAX_LINKS);
	json_array_foreach(links, i, l) {
		json_t *ends;

		path_fmt(path, sizeof(path), "links[%zu]", i);
		if (only_members(c, l, path, allowed) < 0)
			return -EINVAL;
		ends = member(l, "ends", path, p);
		if (!json_is_array(ends) || json_array_size(ends) != 2)
			return fail(c, p, "must be an array of the link's two ends");
		for (size_t k = 0; k < 2; k++) {
			path_fmt(p, sizeof(p), "links[%zu].ends[%zu]", i, k);
			if (check_end(c, json_array_get(ends, k), p, false) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/*
 * Tunnels: an END plus the vxlan's own members.  The END part is checked as
 * for a link (on a copy without the vxlan members, so the END rules stay in
 * one place).
 */
static int check_tunnels(struct ctx *c, json_t *tunnels)
{
	static const char *const vx[] = { "vni", "remote", "local", "port", "dev" };
	char path[PATH_LEN], p[PATH_LEN];
	struct nl_addr remote, local;
	size_t i;
	json_t *t;

	if (!tunnels)
		return 0;
	if (!json_is_array(tunnels) || json_array_size(tunnels) > TOPOLOGY_MAX_LINKS)
		return fail(c, "tunnels", "must be an array of at most %d tunnels",
			    TOPOLOGY_MAX_LINKS);
	json_array_foreach(tunnels, i, t) {
		json_t *end, *v;
		int r;

		path_fmt(path, sizeof(path), "tunnels[%zu]", i);
		if (!json_is_object(t))
			return fail(c, path, "must be an object");
		end = json_copy(t);
		if (!end)
			return fail(c, path, "out of memory");
		for (size_t k = 0; k < ELEMENTSOF(vx); k++)
			json_object_del(end, vx[k]);
		r = check_end(c, end, path, false);
		json_decref(end);
		if (r < 0)
			return r;
		v = member(t, "vni", path, p);
		if (!v)
			return fail(c, p, "missing: the VXLAN network identifier");
		if (check_int(c, v, p, 1, 0xffffff) < 0)
			return -EINVAL;
		v = member(t, "remote", path, p);
		if (!json_is_string(v) || nl_parse_addr(json_string_value(v), &remote) < 0)
			return fail(c, p, "must be the other host's underlay IPv4 or IPv6 address");
		v = member(t, "local", path, p);
		if (!json_is_string(v) || nl_parse_addr(json_string_value(v), &local) < 0)
			return fail(c, p, "must be this host's underlay IPv4 or IPv6 address");
		if (local.family != remote.family)
			return fail(c, p, "must be of the same family as remote");
		if ((v = member(t, "port", path, p)) && check_int(c, v, p, 1, 65535) < 0)
			return -EINVAL;
		if ((v = member(t, "dev", path, p)) &&
		    (!json_is_string(v) || !ifname_valid(json_string_value(v))))
			return fail(c, p, "must be an interface name in the host");
	}
	return 0;
}

/* The interface name of a member's port on the bridge's side. */
static int port_name(json_t *bridge, json_t *m, size_t index, char buf[static 32])
{
	const char *port = json_string_value(json_object_get(m, "port"));

	if (port)
		return snprintf(buf, 32, "%s", port) >= 32 ? -EINVAL : 0;
	snprintf(buf, 32, "%s-%zu", json_string_value(json_object_get(bridge, "name")), index);
	return 0;
}

static int check_bridges(struct ctx *c, json_t *bridges)
{
	static const char *const allowed[] = { "name", "node",	  "mtu", "mac",
					       "addresses", "stp", "members", NULL };
	char path[PATH_LEN], p[PATH_LEN];
	uint8_t mac[NL_ETH_ALEN];
	size_t i;
	json_t *b;

	if (!bridges)
		return 0;
	if (!json_is_array(bridges) || json_array_size(bridges) > TOPOLOGY_MAX_LINKS)
		return fail(c, "bridges", "must be an array of at most %d bridges",
			    TOPOLOGY_MAX_LINKS);
	json_array_foreach(bridges, i, b) {
		const char *node = NULL;
		json_t *v, *members, *m;
		size_t k;

		path_fmt(path, sizeof(path), "bridges[%zu]", i);
		if (only_members(c, b, path, allowed) < 0)
			return -EINVAL;
		v = member(b, "node", path, p);
		if (v) {
			if (check_node_ref(c, v, p) < 0)
				return -EINVAL;
			node = json_string_value(v);
		}
		v = member(b, "name", path, p);
		if (!v)
			return fail(c, p, "missing: the bridge's interface name");
		if (!json_is_string(v))
			return fail(c, p, "must be an interface name");
		if (claim_ifname(c, node, json_string_value(v), p) < 0)
			return -EINVAL;
		if ((v = member(b, "mac", path, p)) &&
		    (!json_is_string(v) || nl_parse_mac(json_string_value(v), mac) < 0))
			return fail(c, p, "must be a unicast MAC address like 02:00:00:00:00:01");
		if ((v = member(b, "mtu", path, p)) && check_int(c, v, p, 68, 65535) < 0)
			return -EINVAL;
		if ((v = member(b, "stp", path, p)) && !json_is_boolean(v))
			return fail(c, p, "must be true or false");
		v = member(b, "addresses", path, p);
		if (check_addresses(c, v, p, node) < 0)
			return -EINVAL;
		members = member(b, "members", path, p);
		if (members && (!json_is_array(members) ||
				json_array_size(members) > TOPOLOGY_MAX_LINKS))
			return fail(c, p, "must be an array of at most %d members",
				    TOPOLOGY_MAX_LINKS);
		json_array_foreach(members, k, m) {
			char port[32];

			path_fmt(p, sizeof(p), "%s.members[%zu]", path, k);
			if (check_end(c, m, p, true) < 0)
				return -EINVAL;
			path_fmt(p, sizeof(p), "%s.members[%zu].port", path, k);
			v = json_object_get(m, "port");
			if (v && !json_is_string(v))
				return fail(c, p, "must be an interface name");
			if (port_name(b, m, k, port) < 0)
				return fail(c, p, "invalid interface name");
			if (!v && (strlen(port) > 15 || (!node && strlen(c->prefix) + strlen(port) > 15)))
				return fail(c, p,
					    "the default port name '%s' is too long; give one", port);
			if (claim_ifname(c, node, port, p) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* Routes. */

struct route {
	struct nl_prefix dst;
	struct nl_addr via;
	const char *dev;
	json_t *metric;
	char path[PATH_LEN];
};

static bool prefix_contains(const struct nl_prefix *p, const struct nl_addr *a)
{
	unsigned full = p->prefixlen / 8, rest = p->prefixlen % 8;

	if (p->family != a->family)
		return false;
	if (memcmp(p->bytes, a->bytes, full))
		return false;
	return !rest || ((p->bytes[full] ^ a->bytes[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* Whether gateway a is on a link of the node: in one of its address prefixes or a device route. */
static bool on_link(json_t *onlink, const struct route *rs, size_t n, const struct nl_addr *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(onlink, i, v) {
		struct nl_prefix p;

		if (nl_parse_cidr(json_string_value(v), &p) == 0 && prefix_contains(&p, a))
			return true;
	}
	for (i = 0; i < n; i++)
		if (rs[i].dev && !rs[i].via.family && prefix_contains(&rs[i].dst, a))
			return true;
	return false;
}

/* The via-route of the node whose destination holds a (longest prefix), or -1. */
static int via_route_for(const struct route *rs, size_t n, const struct nl_addr *a)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (rs[i].via.family && prefix_contains(&rs[i].dst, a) &&
		    (best < 0 || rs[i].dst.prefixlen > rs[best].dst.prefixlen))
			best = (int)i;
	return best;
}

static int check_routes(struct ctx *c, json_t *node, const char *npath)
{
	static const char *const allowed[] = { "dst", "via", "dev", "metric", NULL };
	const char *nname = json_string_value(json_object_get(node, "name"));
	json_t *routes = json_object_get(node, "routes"), *r, *seen;
	json_t *ifs = json_object_get(c->ifnames, nname), *onlink = json_object_get(c->onlink, nname);
	_cleanup_(freep) struct route *rs = NULL;
	char p[PATH_LEN], path[PATH_LEN];
	size_t i, n;

	if (!routes)
		return 0;
	path_fmt(path, sizeof(path), "%s.routes", npath);
	if (!json_is_array(routes) || json_array_size(routes) > TOPOLOGY_MAX_PER_NODE)
		return fail(c, path, "must be an array of at most %d routes", TOPOLOGY_MAX_PER_NODE);
	n = json_array_size(routes);
	rs = calloc(n + 1, sizeof(*rs));
	if (!rs)
		return fail(c, path, "out of memory");
	seen = json_object();
	json_array_foreach(routes, i, r) {
		struct route *x = &rs[i];
		const char *dst;
		char key[NL_ADDRSTRLEN + 40], text[NL_ADDRSTRLEN];
		json_t *v;

		path_fmt(x->path, sizeof(x->path), "%s[%zu]", path, i);
		if (only_members(c, r, x->path, allowed) < 0)
			goto bad;
		v = member(r, "dst", x->path, p);
		dst = json_string_value(v);
		if (!dst) {
			fail(c, p, "missing: \"default\" or ADDRESS/PREFIX");
			goto bad;
		}
		v = member(r, "via", x->path, p);
		if (v && (!json_is_string(v) || nl_parse_addr(json_string_value(v), &x->via) < 0)) {
			fail(c, p, "must be an IPv4 or IPv6 address");
			goto bad;
		}
		member(r, "dst", x->path, p);
		if (!strcmp(dst, "default")) {
			x->dst.family = x->via.family ? x->via.family : AF_INET;
		} else if (nl_parse_cidr(dst, &x->dst) < 0) {
			fail(c, p, "expected \"default\" or ADDRESS/PREFIX");
			goto bad;
		} else if (nl_prefix_has_host_bits(&x->dst)) {
			fail(c, p, "%s has host bits set", dst);
			goto bad;
		}
		if (x->via.family && x->via.family != x->dst.family) {
			member(r, "via", x->path, p);
			fail(c, p, "address family does not match dst");
			goto bad;
		}
		v = member(r, "dev", x->path, p);
		if (v) {
			if (!json_is_string(v) || !json_object_get(ifs, json_string_value(v))) {
				fail(c, p, "no interface '%s' in node %s",
				     json_string_value(v) ?: "?", nname);
				goto bad;
			}
			x->dev = json_string_value(v);
		}
		if (!x->dev && !x->via.family) {
			fail(c, x->path, "a route needs via, dev or both");
			goto bad;
		}
		v = member(r, "metric", x->path, p);
		if (v && check_int(c, v, p, 0, 0xffffffffLL) < 0)
			goto bad;
		x->metric = v;
		snprintf(key, sizeof(key), "%s/%u/%lld", nl_format_addr(x->dst.family, x->dst.bytes, text),
			 x->dst.prefixlen, v ? (long long)json_integer_value(v) : -1LL);
		if (json_object_get(seen, key)) {
			fail(c, x->path, "duplicate route (also at %s)",
			     json_string_value(json_object_get(seen, key)));
			goto bad;
		}
		json_object_set_new(seen, key, json_string(x->path));
	}
	/*
	 * Every gateway must be on a link of the node (the kernel refuses
	 * others): inside the prefix of one of the node's addresses or of a
	 * device route.  A gateway that is only reachable through other
	 * routes with gateways is followed to name the loop, if there is one.
	 */
	for (i = 0; i < n; i++) {
		struct route *x = &rs[i];
		char text[NL_ADDRSTRLEN];
		size_t hops = 0;
		int j, cur = (int)i;

		if (!x->via.family || on_link(onlink, rs, n, &x->via))
			continue;
		if (x->dev && x->via.family == AF_INET6 && x->via.bytes[0] == 0xfe &&
		    (x->via.bytes[1] & 0xc0) == 0x80)
			continue; /* link-local gateway on a named device */
		nl_format_addr(x->via.family, x->via.bytes, text);
		for (;;) {
			j = via_route_for(rs, n, &rs[cur].via);
			if (j < 0 || on_link(onlink, rs, n, &rs[j].via))
				break;
			if (j == (int)i || ++hops > n) {
				fail(c, x->path,
				     "route cycle: gateway %s is reachable only through %s, whose "
				     "gateway leads back here",
				     text, rs[j == (int)i ? cur : j].path);
				goto bad;
			}
			cur = j;
		}
		fail(c, x->path,
		     "gateway %s is not on a link of node %s (no address prefix or device route "
		     "of the node holds it)%s%s",
		     text, nname, j >= 0 ? "; it is only reachable through " : "",
		     j >= 0 ? rs[j].path : "");
		goto bad;
	}
	json_decref(seen);
	return 0;
bad:
	json_decref(seen);
	return -EINVAL;
}

/* A service name: no '.', so that "NAMESPACE.SERVICE" (the process's name) is unambiguous. */
static bool service_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TOPOLOGY_SERVICE_NAME_MAX || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int check_stdio(struct ctx *c, json_t *v, const char *p)
{
	const char *s = json_string_value(v);
	json_t *f = json_object_get(v, "file");

	if (s && (!strcmp(s, "null") || !strcmp(s, "log")))
		return 0;
	if (json_is_object(v) && json_object_size(v) == 1 && json_is_string(f) &&
	    json_string_value(f)[0] == '/' && check_string(c, f, p, 4096) == 0)
		return 0;
	return fail(c, p, "expected \"null\", \"log\" or {\"file\": \"/PATH\"}");
}

static int check_credential(struct ctx *c, json_t *v, const char *p)
{
	if (json_is_integer(v))
		return check_int(c, v, p, 0, 0xfffffffeLL);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return fail(c, p, "must be a user or group name or number");
	return check_string(c, v, p, 256);
}

static int check_service(struct ctx *c, json_t *svc, const char *path, const char *ns)
{
	static const char *const allowed[] = { "name",	 "argv",   "env",	   "cwd",
					       "user",	 "group",  "restart",	   "stdout",
					       "stderr", "log_max_bytes", "log_files", NULL };
	char p[PATH_LEN], q[PATH_LEN];
	const char *key;
	json_t *v, *a, *prev;
	size_t i;

	if (only_members(c, svc, path, allowed) < 0)
		return -EINVAL;
	v = member(svc, "name", path, p);
	if (!json_is_string(v))
		return fail(c, p, "missing or not a string: the service's name");
	if (!service_name_valid(json_string_value(v)))
		return fail(c, p,
			    "invalid service name '%s' ([A-Za-z0-9_][A-Za-z0-9_-]*, at most %d "
			    "bytes, no '.')",
			    json_string_value(v), TOPOLOGY_SERVICE_NAME_MAX);
	if (strlen(ns) + 1 + json_string_length(v) >= NETNS_NAME_MAX)
		return fail(c, p,
			    "'%s.%s' (the process's name) is longer than %d bytes: shorten the "
			    "node or the service name",
			    ns, json_string_value(v), NETNS_NAME_MAX - 1);
	prev = json_object_get(c->procs, json_string_value(v));
	if (prev)
		return fail(c, p, "duplicate service name '%s' in the node (also at %s)",
			    json_string_value(v), json_string_value(prev));
	json_object_set_new(c->procs, json_string_value(v), json_string(p));
	v = member(svc, "argv", path, p);
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 4096)
		return fail(c, p, "missing or not an array of 1 to 4096 strings: the program "
				  "and its arguments");
	json_array_foreach(v, i, a) {
		path_fmt(q, sizeof(q), "%s[%zu]", p, i);
		if (check_string(c, a, q, 65536) < 0)
			return -EINVAL;
		if (i == 0 && json_string_length(a) == 0)
			return fail(c, q, "the program must not be empty");
	}
	v = member(svc, "env", path, p);
	if (v) {
		if (!json_is_object(v) || json_object_size(v) > 4096)
			return fail(c, p, "must be an object of at most 4096 variables");
		json_object_foreach(v, key, a) {
			path_fmt(q, sizeof(q), "%s.%s", p, key);
			if (!key[0] || strchr(key, '='))
				return fail(c, q, "a variable name must be non-empty and contain "
						  "no '='");
			if (check_string(c, a, q, 65536) < 0)
				return -EINVAL;
		}
	}
	if ((v = member(svc, "cwd", path, p)) &&
	    (check_string(c, v, p, 4096) < 0 || json_string_value(v)[0] != '/'))
		return fail(c, p, "must be an absolute path");
	if ((v = member(svc, "user", path, p)) && check_credential(c, v, p) < 0)
		return -EINVAL;
	if ((v = member(svc, "group", path, p)) && check_credential(c, v, p) < 0)
		return -EINVAL;
	v = member(svc, "restart", path, p);
	if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "no") &&
					  strcmp(json_string_value(v), "on-failure") &&
					  strcmp(json_string_value(v), "always"))))
		return fail(c, p, "must be \"no\", \"on-failure\" or \"always\"");
	if ((v = member(svc, "stdout", path, p)) && check_stdio(c, v, p) < 0)
		return -EINVAL;
	if ((v = member(svc, "stderr", path, p)) && check_stdio(c, v, p) < 0)
		return -EINVAL;
	if ((v = member(svc, "log_max_bytes", path, p)) && check_int(c, v, p, 0, 1LL << 50) < 0)
		return -EINVAL;
	if ((v = member(svc, "log_files", path, p)) && check_int(c, v, p, 1, 100) < 0)
		return -EINVAL;
	return 0;
}

static int check_services(struct ctx *c, json_t *node, const char *npath, const char *ns)
{
	json_t *svcs = json_object_get(node, "services"), *svc;
	char p[PATH_LEN], path[PATH_LEN];
	size_t i;

	path_fmt(p, sizeof(p), "%s.services", npath);
	if (!svcs)
		return 0;
	if (!json_is_array(svcs) || json_array_size(svcs) > TOPOLOGY_MAX_PER_NODE)
		return fail(c, p, "must be an array of at most %d services", TOPOLOGY_MAX_PER_NODE);
	json_object_clear(c->procs); /* names are unique within a node */
	json_array_foreach(svcs, i, svc) {
		path_fmt(path, sizeof(path), "%s[%zu]", p, i);
		if (check_service(c, svc, path, ns) < 0)
			return -EINVAL;
	}
	return 0;
}

static int check_nodes(struct ctx *c, json_t *nodes)
{
	static const char *const allowed[] = { "name",	 "nsid",     "sysctls", "resolv_conf",
					       "hosts",	 "routes",   "services", "host",
					       NULL };
	char path[PATH_LEN], p[PATH_LEN];
	size_t i;
	json_t *n;

	if (!json_is_array(nodes) || json_array_size(nodes) > TOPOLOGY_MAX_NODES)
		return fail(c, "nodes", "must be an array of at most %d nodes", TOPOLOGY_MAX_NODES);
	json_array_foreach(nodes, i, n) {
		const char *name, *sub;
		char ns[NETNS_NAME_MAX * 2];
		json_t *v, *prev;

		path_fmt(path, sizeof(path), "nodes[%zu]", i);
		if (only_members(c, n, path, allowed) < 0)
			return -EINVAL;
		v = member(n, "name", path, p);
		if (!json_is_string(v))
			return fail(c, p, "missing or not a string: the node's name");
		name = json_string_value(v);
		if (!netns_name_valid(node_ns(c, name, ns)) || strlen(ns) >= NETNS_NAME_MAX)
			return fail(c, p,
				    "invalid namespace name '%s' ([A-Za-z0-9_][A-Za-z0-9_.-]*, at "
				    "most %d bytes with the prefix)",
				    ns, NETNS_NAME_MAX - 1);
		if (!strcmp(ns, "host"))
			return fail(c, p, "'host' is reserved: it means the host's own namespace");
		prev = json_object_get(c->nodes, name);
		if (prev)
			return fail(c, p, "duplicate node name '%s' (also nodes[%lld])", name,
				    (long long)json_integer_value(prev));
		json_object_set_new(c->nodes, name, json_integer((json_int_t)i));
		if ((v = member(n, "nsid", path, p)) && check_int(c, v, p, 0, 0x7fffffff) < 0)
			return -EINVAL;
		if ((v = member(n, "resolv_conf", path, p)) && check_string(c, v, p, 65536) < 0)
			return -EINVAL;
		if ((v = member(n, "hosts", path, p)) && check_string(c, v, p, 1 << 20) < 0)
			return -EINVAL;
		if ((v = member(n, "host", path, p)) &&
		    (!json_is_string(v) || !netns_name_valid(json_string_value(v))))
			return fail(c, p, "must be the name of a peer (see peer.add)");
		v = member(n, "sysctls", path, p);
		if (v) {
			const char *msg;

			if (!json_is_object(v))
				return fail(c, p, "must be an object of sysctls");
			msg = spec_sysctls_check(v, &sub);
			if (msg) {
				char q[PATH_LEN];

				path_fmt(q, sizeof(q), "%s.%s", p, sub ? sub : "");
				return fail(c, q, "%s", msg);
			}
		}
		if (check_services(c, n, path, ns) < 0)
			return -EINVAL;
	}
	return 0;
}

static int check(json_t *doc, struct ctx *c)
{
	static const char *const allowed[] = { "name",	  "prefix",  "nodes", "links",
					       "bridges", "tunnels", NULL };
	json_t *v, *nodes, *n;
	char p[PATH_LEN], path[PATH_LEN];
	size_t i;
	int r;

	r = only_members(c, doc, "", allowed);
	if (r < 0)
		return r;
	v = member(doc, "name", "", p);
	if (v && (!json_is_string(v) || !netns_name_valid(json_string_value(v))))
		return fail(c, p, "must be a name like a namespace's ([A-Za-z0-9_][A-Za-z0-9_.-]*)");
	v = member(doc, "prefix", "", p);
	if (v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) > TOPOLOGY_PREFIX_MAX)
			return fail(c, p, "must be a string of at most %d bytes", TOPOLOGY_PREFIX_MAX);
		for (const char *q = s; *q; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9') || *q == '_' || *q == '-' || *q == '.'))
				return fail(c, p, "may hold only letters, digits, '_', '-' and '.'");
		c->prefix = s;
	}
	nodes = member(doc, "nodes", "", p);
	if (!nodes)
		return fail(c, p, "missing: the lab's nodes");
	r = check_nodes(c, nodes);
	if (r == 0)
		r = check_bridges(c, json_object_get(doc, "bridges"));
	if (r == 0)
		r = check_links(c, json_object_get(doc, "links"));
	if (r == 0)
		r = check_tunnels(c, json_object_get(doc, "tunnels"));
	json_array_foreach(nodes, i, n) {
		if (r < 0)
			break;
		path_fmt(path, sizeof(path), "nodes[%zu]", i);
		r = check_routes(c, n, path);
	}
	return r;
}

int topology_doc_check(json_t *doc, struct topology_doc_error *err)
{
	struct ctx c = {
		.err = err,
		.prefix = "",
		.nodes = json_object(),
		.ifnames = json_object(),
		.addrs = json_object(),
		.onlink = json_object(),
		.procs = json_object(),
	};
	int r;

	memset(err, 0, sizeof(*err));
	if (!c.nodes || !c.ifnames || !c.addrs || !c.onlink || !c.procs)
		r = fail(&c, "", "out of memory");
	else
		r = check(doc, &c);
	json_decref(c.nodes);
	json_decref(c.ifnames);
	json_decref(c.addrs);
	json_decref(c.onlink);
	json_decref(c.procs);
	return r;
}

int topology_doc_parse(const char *buf, size_t len, json_t **ret, struct topology_doc_error *err)
{
	json_error_t jerr;
	json_t *doc;
	int r;

	memset(err, 0, sizeof(*err));
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err->msg, sizeof(err->msg), "not JSON: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		return -EINVAL;
	}
	r = topology_doc_check(doc, err);
	if (r < 0) {
		json_decref(doc);
		return r;
	}
	*ret = doc;
	return 0;
}

/* Compile. */

struct out {
	json_t *objs, *paths;
	const char *name, *prefix;
};

static int put(struct out *o, const char *coll, const char *key, json_t *doc, const char *path)
{
	if (!doc)
		return -ENOMEM;
	json_object_set_new(doc, "topology", json_string(o->name));
	json_object_set_new(json_object_get(o->objs, coll), key, doc);
	json_object_set_new(json_object_get(o->paths, coll), key, json_string(path));
	return 0;
}

static json_t *ns_json(const char *ns)
{
	return ns ? json_string(ns) : json_null();
}

static int put_addresses(struct out *o, const char *ns, const char *dev, json_t *addrs,
			 const char *path)
{
	char p[PATH_LEN];
	size_t i;
	json_t *a;

	json_array_foreach(addrs, i, a) {
		char text[NL_ADDRSTRLEN], buf[NL_ADDRSTRLEN + 8];
		_cleanup_(freep) char *key = NULL;
		struct nl_prefix pfx;
		json_t *doc;

		if (nl_parse_cidr(json_string_value(a), &pfx) < 0)
			return -EINVAL;
		snprintf(buf, sizeof(buf), "%s/%u", nl_format_addr(pfx.family, pfx.bytes, text),
			 pfx.prefixlen);
		doc = json_pack("{s:o,s:s,s:s}", "netns", ns_json(ns), "dev", dev, "address", buf);
		if (!doc || links_addr_key(doc, &key) < 0) {
			json_decref(doc);
			return -ENOMEM;
		}
		path_fmt(p, sizeof(p), "%s.addresses[%zu]", path, i);
		if (put(o, ADDR_COLL, key, doc, p) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A link_desc of one end from the document (strings borrow from it). */
static void end_desc(json_t *e, const char *ns, const char *name, struct link_desc *d)
{
	const char *mac = json_string_value(json_object_get(e, "mac"));
	json_t *mtu = json_object_get(e, "mtu");

	memset(d, 0, sizeof(*d));
	d->netns = ns;
	d->name = name;
	d->kind = "veth";
	d->origin = LINK_CREATED;
	d->up = 1;
	d->ipv6_ll = spec_tristate(json_object_get(e, "ipv6_ll"));
	d->id = -1;
	d->peer.up = d->peer.ipv6_ll = -1;
	if (json_is_integer(mtu))
		d->mtu = (uint32_t)json_integer_value(mtu);
	if (mac && nl_parse_mac(mac, d->mac) == 0)
		d->has_mac = true;
	if (e) {
		const char *member, *msg;

		/* Checked before: normalised here the way link.add stores it. */
		spec_impair_from_json(json_object_get(e, "impair"), &d->impair, &member, &msg);
	}
}

static int put_link(struct out *o, struct link_desc *d, const char *path)
{
	_cleanup_(freep) char *key = NULL;

	if (spec_link_key(d->netns, d->name, &key) < 0)
		return -ENOMEM;
	return put(o, LINK_COLL, key, spec_link_to_json(d), path);
}

/* A veth pair: both ends stored as link.add stores them. */
static int put_veth(struct out *o, json_t *a, const char *ans, const char *aname, json_t *b,
		    const char *bns, const char *bname, const char *bmaster, const char *apath,
		    const char *bpath)
{
	struct link_desc da, db;

	end_desc(a, ans, aname, &da);
	end_desc(b, bns, bname, &db);
	db.master = bmaster;
	if (!b) /* a bridge port: the member's choice of IPv6 link-local goes for both ends */
		db.ipv6_ll = da.ipv6_ll;
	da.peer.name = bname;
	da.peer.netns = bns;
	db.peer.name = aname;
	db.peer.netns = ans;
	if (put_link(o, &da, apath) < 0 || put_link(o, &db, bpath) < 0)
		return -ENOMEM;
	return 0;
}

static const char *prefixed(struct out *o, const char *s, char buf[static 80])
{
	snprintf(buf, 80, "%s%s", o->prefix, s);
	return buf;
}

static int compile_route(struct out *o, const char *ns, json_t *r, const char *path)
{
	const char *dst = json_string_value(json_object_get(r, "dst"));
	const char *via = json_string_value(json_object_get(r, "via"));
	const char *dev = json_string_value(json_object_get(r, "dev"));
	json_t *metric = json_object_get(r, "metric");
	char text[NL_ADDRSTRLEN], dstbuf[NL_ADDRSTRLEN + 8];
	_cleanup_(freep) char *key = NULL;
	struct nl_prefix p = { 0 };
	struct nl_addr gw = { 0 };
	json_t *doc;

	if (via && nl_parse_addr(via, &gw) < 0)
		return -EINVAL;
	if (!strcmp(dst, "default"))
		p.family = gw.family ? gw.family : AF_INET;
	else if (nl_parse_cidr(dst, &p) < 0)
		return -EINVAL;
	snprintf(dstbuf, sizeof(dstbuf), "%s/%u", nl_format_addr(p.family, p.bytes, text),
		 p.prefixlen);
	doc = json_pack("{s:s,s:s}", "netns", ns, "dst", dstbuf);
	if (!doc)
		return -ENOMEM;
	if (via)
		json_object_set_new(doc, "via", json_string(nl_format_addr(gw.family, gw.bytes, text)));
	if (dev)
		json_object_set_new(doc, "dev", json_string(dev));
	if (metric)
		json_object_set(doc, "metric", metric);
	else if (p.family == AF_INET6)
		json_object_set_new(doc, "metric", json_integer(1024)); /* the kernel's default */
	if (links_route_key(doc, &key) < 0) {
		json_decref(doc);
		return -ENOMEM;
	}
	return put(o, ROUTE_COLL, key, doc, path);
}

/*
 * A service: the proc.spawn params it stands for, keyed "NAMESPACE/SERVICE",
 * the process named "NAMESPACE.SERVICE"; restart "always" unless it says.
 */
static int compile_service(struct out *o, const char *ns, json_t *svc, const char *path)
{
	const char *sname = json_string_value(json_object_get(svc, "name"));
	char key[NETNS_NAME_MAX * 2 + 2], pname[NETNS_NAME_MAX * 2 + 2];
	json_t *doc = json_deep_copy(svc);

	if (!doc)
		return -ENOMEM;
	snprintf(key, sizeof(key), "%s/%s", ns, sname);
	snprintf(pname, sizeof(pname), "%s.%s", ns, sname);
	json_object_set_new(doc, "service", json_string(sname));
	json_object_set_new(doc, "name", json_string(pname));
	json_object_set_new(doc, "netns", json_string(ns));
	if (!json_object_get(doc, "restart"))
		json_object_set_new(doc, "restart", json_string("always"));
	return put(o, TOPOLOGY_SERVICE_COLL, key, doc, path);
}

static int compile(json_t *doc, struct out *o)
{
	json_t *nodes = json_object_get(doc, "nodes"), *n, *l, *b;
	char path[PATH_LEN], p2[PATH_LEN], na[80], nb[80], hn[80];
	size_t i, k;
	int r;

	json_array_foreach(nodes, i, n) {
		const char *ns = prefixed(o, json_string_value(json_object_get(n, "name")), na);
		struct netns_spec_buf buf;
		struct netns_id id = { 0 };
		json_t *nd;

		r = spec_netns_from_json(ns, n, &buf);
		if (r < 0)
			return r;
		nd = spec_netns_to_json(&buf.spec, &id, "", "");
		spec_netns_done(&buf);
		if (!nd)
			return -ENOMEM;
		json_object_del(nd, "created");
		json_object_del(nd, "identity");
		path_fmt(path, sizeof(path), "nodes[%zu]", i);
		if (put(o, "netns", ns, nd, path) < 0)
			return -ENOMEM;
	}
	json_array_foreach(json_object_get(doc, "bridges"), i, b) {
		const char *node = json_string_value(json_object_get(b, "node"));
		const char *bns = node ? prefixed(o, node, nb) : NULL;
		const char *bname = json_string_value(json_object_get(b, "name"));
		const char *mac = json_string_value(json_object_get(b, "mac"));
		json_t *mtu = json_object_get(b, "mtu"), *m;
		struct link_desc d = {
			.netns = bns,
			.kind = "bridge",
			.origin = LINK_CREATED,
			.up = 1,
			.ipv6_ll = -1,
			.id = -1,
			.stp = json_is_true(json_object_get(b, "stp")),
		};

		d.name = node ? bname : prefixed(o, bname, hn);
		if (json_is_integer(mtu))
			d.mtu = (uint32_t)json_integer_value(mtu);
		if (mac && nl_parse_mac(mac, d.mac) == 0)
			d.has_mac = true;
		path_fmt(path, sizeof(path), "bridges[%zu]", i);
		if (put_link(o, &d, path) < 0)
			return -ENOMEM;
		r = put_addresses(o, bns, d.name, json_object_get(b, "addresses"), path);
		if (r < 0)
			return r;
		json_array_foreach(json_object_get(b, "members"), k, m) {
			const char *mns = prefixed(o, json_string_value(json_object_get(m, "node")), na);
			const char *mname = json_string_value(json_object_get(m, "name"));
			char port[32], pfull[80];

			if (port_name(b, m, k, port) < 0)
				return -EINVAL;
			if (!node)
				prefixed(o, port, pfull);
			else
				snprintf(pfull, sizeof(pfull), "%s", port);
			path_fmt(path, sizeof(path), "bridges[%zu].members[%zu]", i, k);
			path_fmt(p2, sizeof(p2), "bridges[%zu].members[%zu].port", i, k);
			if (put_veth(o, m, mns, mname, NULL, bns, pfull, d.name, path, p2) < 0)
				return -ENOMEM;
			r = put_addresses(o, mns, mname, json_object_get(m, "addresses"), path);
			if (r < 0)
				return r;
		}
	}
	json_array_foreach(json_object_get(doc, "links"), i, l) {
		json_t *ends = json_object_get(l, "ends");
		json_t *a = json_array_get(ends, 0), *e = json_array_get(ends, 1);
		const char *ans = prefixed(o, json_string_value(json_object_get(a, "node")), na);
		const char *bns = prefixed(o, json_string_value(json_object_get(e, "node")), nb);
		const char *an = json_string_value(json_object_get(a, "name"));
		const char *bn = json_string_value(json_object_get(e, "name"));

		path_fmt(path, sizeof(path), "links[%zu].ends[0]", i);
		path_fmt(p2, sizeof(p2), "links[%zu].ends[1]", i);
		if (put_veth(o, a, ans, an, e, bns, bn, NULL, path, p2) < 0)
			return -ENOMEM;
		r = put_addresses(o, ans, an, json_object_get(a, "addresses"), path);
		if (r == 0)
			r = put_addresses(o, bns, bn, json_object_get(e, "addresses"), p2);
		if (r < 0)
			return r;
	}
	json_array_foreach(json_object_get(doc, "tunnels"), i, l) {
		const char *ns = prefixed(o, json_string_value(json_object_get(l, "node")), na);
		const char *tn = json_string_value(json_object_get(l, "name"));
		json_t *port = json_object_get(l, "port");
		struct link_desc d;

		end_desc(l, ns, tn, &d);
		d.kind = "vxlan";
		d.underlay = true;
		d.id = json_integer_value(json_object_get(l, "vni"));
		nl_parse_addr(json_string_value(json_object_get(l, "remote")), &d.remote);
		nl_parse_addr(json_string_value(json_object_get(l, "local")), &d.local);
		d.port = json_is_integer(port) ? (uint16_t)json_integer_value(port) : 0;
		d.dev = json_string_value(json_object_get(l, "dev"));
		path_fmt(path, sizeof(path), "tunnels[%zu]", i);
		if (put_link(o, &d, path) < 0)
			return -ENOMEM;
		r = put_addresses(o, ns, tn, json_object_get(l, "addresses"), path);
		if (r < 0)
			return r;
	}
	json_array_foreach(nodes, i, n) {
		const char *ns = prefixed(o, json_string_value(json_object_get(n, "name")), na);
		json_t *rt;

		json_array_foreach(json_object_get(n, "routes"), k, rt) {
			path_fmt(path, sizeof(path), "nodes[%zu].routes[%zu]", i, k);
			r = compile_route(o, ns, rt, path);
			if (r < 0)
				return r;
		}
		json_array_foreach(json_object_get(n, "services"), k, rt) {
			path_fmt(path, sizeof(path), "nodes[%zu].services[%zu]", i, k);
			r = compile_service(o, ns, rt, path);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int topology_doc_compile(json_t *doc, const char *name, json_t **ret_objects, json_t **ret_paths,
			 struct topology_doc_error *err)
{
	struct out o = {
		.objs = json_object(),
		.paths = json_object(),
		.name = name,
		.prefix = json_string_value(json_object_get(doc, "prefix")) ?: "",
	};
	int r;

	memset(err, 0, sizeof(*err));
	for (size_t i = 0; i < ELEMENTSOF(topology_colls); i++) {
		json_object_set_new(o.objs, topology_colls[i], json_object());
		json_object_set_new(o.paths, topology_colls[i], json_object());
	}
	r = compile(doc, &o);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot compile the document: %s",
			 strerror(-r));
		json_decref(o.objs);
		json_decref(o.paths);
		return r;
	}
	*ret_objects = o.objs;
	*ret_paths = o.paths;
	return 0;
}
