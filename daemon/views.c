/*
 * views.c: JSON views of links, addresses and routes (see views.h).
 */
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "links.h"
#include "spec.h"
#include "state.h"
#include "util.h"
#include "views.h"

/* The topology that owns a stored object, when one does (topology.apply tags its objects). */
static void view_topology(json_t *o, json_t *rec)
{
	json_t *t = json_object_get(rec, "topology");

	if (json_is_string(t))
		json_object_set(o, "topology", t);
}

json_t *view_link(const char *netns, const struct nl_link_info *l)
{
	json_t *rec = links_get(netns, l->name), *o;
	const char *origin = json_string_value(json_object_get(rec, "origin"));
	bool marked = !strcmp(l->ifalias, LINK_MARK);
	char mac[NL_MACSTRLEN];

	o = json_pack("{s:o,s:s,s:i,s:o,s:b,s:s?,s:i,s:s,s:b,s:b,s:s}", "netns",
		      netns ? json_string(netns) : json_null(), "name", l->name, "ifindex",
		      l->ifindex, "kind", l->kind[0] ? json_string(l->kind) : json_null(),
		      "managed", marked || (origin && strcmp(origin, "existing")), "origin",
		      origin ? origin : (marked ? "created" : NULL), "mtu", (int)l->mtu, "address",
		      nl_format_mac(l->mac, l->mac_len, mac), "up", l->up, "carrier", l->carrier,
		      "operstate", nl_operstate_to_string(l->operstate));
	json_object_set_new(o, "master", l->master_ifindex ? json_string(l->master) : json_null());
	view_topology(o, rec);
	if (l->addrgen != NL_ADDRGEN_KEEP)
		json_object_set_new(o, "ipv6_ll", json_boolean(l->addrgen != NL_ADDRGEN_NONE));
	if (l->ifalias[0])
		json_object_set_new(o, "alias", json_string(l->ifalias));
	if (!strcmp(l->kind, "veth")) {
		json_t *peer = json_object_get(rec, "peer");
		json_t *p = json_pack("{s:i}", "ifindex", l->link_ifindex);

		if (peer) {
			json_object_set(p, "name", json_object_get(peer, "name"));
			json_object_set(p, "netns", json_object_get(peer, "netns"));
		} else if (l->link_name[0]) {
			json_object_set_new(p, "name", json_string(l->link_name));
		}
		if (l->link_netnsid >= 0)
			json_object_set_new(p, "netnsid", json_integer(l->link_netnsid));
		json_object_set_new(o, "peer", p);
	} else if (!strcmp(l->kind, "vlan")) {
		json_object_set_new(o, "id", json_integer(l->vlan_id));
		if (l->link_name[0])
			json_object_set_new(o, "parent", json_string(l->link_name));
	} else if (!strcmp(l->kind, "macvlan")) {
		json_object_set_new(o, "mode",
				    json_string(spec_macvlan_mode_name(l->macvlan_mode)));
		if (l->link_name[0])
			json_object_set_new(o, "parent", json_string(l->link_name));
	} else if (!strcmp(l->kind, "vxlan")) {
		json_object_set_new(o, "id", json_integer(l->vxlan_vni));
		json_object_set_new(o, "port", json_integer(l->vxlan_port));
	} else if (!strcmp(l->kind, "bridge")) {
		json_object_set_new(o, "stp", json_boolean(l->bridge_stp));
		json_object_set_new(o, "vlan_filtering", json_boolean(l->bridge_vlan_filtering));
	}
	return o;
}

void view_link_impair(json_t *view, const struct tc_root *root, bool always)
{
	struct link_impair imp = { 0 };

	if (root && root->impair)
		spec_impair_from_tc(&root->imp, &imp);
	if (always || spec_impair_is_set(&imp))
		json_object_set_new(view, "impair", spec_impair_to_json(&imp));
	else
		json_object_del(view, "impair");
}

json_t *view_addr(const char *netns, const struct nl_addr_info *a)
{
	_cleanup_(freep) char *key = NULL;
	char buf[NL_ADDRSTRLEN + 8];
	json_t *o;

	snprintf(buf, sizeof(buf), "%s/%u", a->address, a->prefix.prefixlen);
	o = json_pack("{s:o,s:s,s:i,s:s,s:s,s:s}", "netns",
		      netns ? json_string(netns) : json_null(), "dev", a->dev, "ifindex",
		      a->ifindex, "family", a->prefix.family == AF_INET ? "inet" : "inet6",
		      "address", buf, "scope",
		      a->scope == RT_SCOPE_UNIVERSE ? "global"
		      : a->scope == RT_SCOPE_LINK   ? "link"
		      : a->scope == RT_SCOPE_HOST   ? "host"
						    : "other");
	json_object_set_new(
	    o, "managed", json_boolean(links_addr_key(o, &key) == 0 && state_get(ADDR_COLL, key)));
	if (key)
		view_topology(o, state_get(ADDR_COLL, key));
	if (a->flags & 0x40) /* IFA_F_TENTATIVE */
		json_object_set_new(o, "tentative", json_true());
	return o;
}

static const char *const type_names[] = {
	[RTN_UNICAST] = "unicast",
	[RTN_BLACKHOLE] = "blackhole",
	[RTN_UNREACHABLE] = "unreachable",
	[RTN_PROHIBIT] = "prohibit",
	[RTN_LOCAL] = "local",
	[RTN_BROADCAST] = "broadcast",
	[RTN_MULTICAST] = "multicast",
	[RTN_ANYCAST] = "anycast",
};

const char *view_route_type(unsigned t)
{
	return t < ELEMENTSOF(type_names) && type_names[t] ? type_names[t] : "other";
}

json_t *view_route(const char *netns, const struct nl_route_info *r)
{
	_cleanup_(freep) char *key = NULL;
	char dst[NL_ADDRSTRLEN + 8];
	json_t *o, *k;

	snprintf(dst, sizeof(dst), "%s/%u", r->dst_str, r->dst.prefixlen);
	o = json_pack("{s:o,s:s,s:s,s:i,s:i,s:s,s:i}", "netns",
		      netns ? json_string(netns) : json_null(), "family",
		      r->dst.family == AF_INET ? "inet" : "inet6", "dst",
		      r->dst.prefixlen ? dst : "default", "metric", (int)r->metric, "table",
		      (int)r->table, "type", view_route_type(r->type), "protocol", r->protocol);
	if (r->gateway.family)
		json_object_set_new(o, "via", json_string(r->gateway_str));
	if (r->dev[0])
		json_object_set_new(o, "dev", json_string(r->dev));
	/* The stored key uses the CIDR form and omits metric 0 and table main. */
	k = json_pack("{s:o,s:s}", "netns", netns ? json_string(netns) : json_null(), "dst", dst);
	if (r->metric)
		json_object_set_new(k, "metric", json_integer(r->metric));
	if (r->table != RT_TABLE_MAIN)
		json_object_set_new(k, "table", json_integer(r->table));
	json_object_set_new(
	    o, "managed",
	    json_boolean(links_route_key(k, &key) == 0 && state_get(ROUTE_COLL, key)));
	if (key)
		view_topology(o, state_get(ROUTE_COLL, key));
	json_decref(k);
	return o;
}
