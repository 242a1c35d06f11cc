/*
 * route_methods.c: route.add, route.delete and route.list, both families.
 *
 * In a managed namespace any route may be added; in the host only routes
 * through a device netnsd created or borrowed, so netnsd never takes over
 * the host's own routing.
 */
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "links.h"
#include "method_ctx.h"
#include "method_families.h"
#include "nlcache.h"
#include "reconcile.h"
#include "spec.h"
#include "state.h"
#include "views.h"

/*
 * Parse and check a route's params into spec and its stored doc.  Returns
 * the handle, or NULL when the call has been answered.
 */
static struct nl *prepare(struct call *c, json_t *params, struct nl_route_spec *r, json_t **ret_doc,
			  char **ret_key)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *dst = json_string_value(json_object_get(params, "dst"));
	const char *via = json_string_value(json_object_get(params, "via"));
	const char *dev = json_string_value(json_object_get(params, "dev"));
	const char *family = json_string_value(json_object_get(params, "family"));
	const char *type = json_string_value(json_object_get(params, "type"));
	json_t *metric = json_object_get(params, "metric"),
	       *table = json_object_get(params, "table");
	char text[NL_ADDRSTRLEN], dstbuf[NL_ADDRSTRLEN + 8];
	int fam = 0, a;
	struct nl *nl;
	json_t *doc;

	memset(r, 0, sizeof(*r));
	if (family && strcmp(family, "inet") && strcmp(family, "inet6")) {
		call_fail_params(c, "family", "Invalid params: family: must be inet or inet6");
		return NULL;
	}
	if (family)
		fam = strcmp(family, "inet") ? AF_INET6 : AF_INET;
	if (via && nl_parse_addr(via, &r->gateway) < 0) {
		call_fail_params(c, "via", "Invalid params: via: must be an IPv4 or IPv6 address");
		return NULL;
	}
	if (!strcmp(dst, "default")) {
		r->dst.family = fam ? fam : via ? r->gateway.family : AF_INET;
		r->dst.prefixlen = 0;
	} else if (nl_parse_cidr(dst, &r->dst) < 0) {
		call_fail_params(c, "dst",
				 "Invalid params: dst: expected \"default\" or "
				 "ADDRESS/PREFIX");
		return NULL;
	} else if (nl_prefix_has_host_bits(&r->dst)) {
		struct nl_prefix m = r->dst;

		nl_prefix_mask(&m);
		call_fail_params(c, "dst",
				 "Invalid params: dst: %s has host bits set; did you mean "
				 "%s/%u?",
				 dst, nl_format_addr(m.family, m.bytes, text), m.prefixlen);
		return NULL;
	}
	if ((fam && fam != r->dst.family) || (via && r->gateway.family != r->dst.family)) {
		call_fail_params(c, via ? "via" : "family",
				 "Invalid params: %s: address family "
				 "does not match dst",
				 via ? "via" : "family");
		return NULL;
	}
	r->type = RTN_UNICAST;
	if (type) {
		static const int allowed[] = { RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE,
					       RTN_PROHIBIT };
		size_t i;

		for (i = 0; i < ELEMENTSOF(allowed) && strcmp(type, view_route_type(allowed[i]));
		     i++)
			;
		a = i < ELEMENTSOF(allowed) ? allowed[i] : -1;
		if (a < 0) {
			call_fail_params(c, "type",
					 "Invalid params: type: must be unicast, "
					 "blackhole, unreachable or prohibit");
			return NULL;
		}
		r->type = (uint8_t)a;
	}
	if (r->type == RTN_UNICAST && !via && !dev) {
		call_fail_params(c, "dev", "Invalid params: dev: a route needs via, dev or both");
		return NULL;
	}
	if (method_ctx_netns_writable(c, netns, "netns") < 0)
		return NULL;
	if (!netns && (!dev || !links_dev_managed(NULL, dev))) {
		call_fail(c, RPC_KIND_PERMISSION, EPERM, "dev",
			  "Routes in the host need a dev that netnsd created or borrowed");
		return NULL;
	}
	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return NULL;
	if (dev && nl_link_ifindex(nl, dev) < 0) {
		call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, "dev", "No device '%s' in %s", dev,
			  method_ctx_ns_str(netns));
		return NULL;
	}
	if (dev)
		r->dev = NL_DEV(dev);
	r->metric = metric ? (uint32_t)json_integer_value(metric) : 0;
	r->table = table ? (uint32_t)json_integer_value(table) : 0;

	snprintf(dstbuf, sizeof(dstbuf), "%s/%u", nl_format_addr(r->dst.family, r->dst.bytes, text),
		 r->dst.prefixlen);
	doc = json_pack("{s:o,s:s}", "netns", netns ? json_string(netns) : json_null(), "dst",
			dstbuf);
	if (via)
		json_object_set_new(
		    doc, "via",
		    json_string(nl_format_addr(r->gateway.family, r->gateway.bytes, text)));
	if (dev)
		json_object_set_new(doc, "dev", json_string(dev));
	if (metric)
		json_object_set(doc, "metric", metric);
	else if (r->dst.family == AF_INET6)
		json_object_set_new(doc, "metric", json_integer(1024)); /* the kernel's default */
	if (table)
		json_object_set(doc, "table", table);
	if (r->type != RTN_UNICAST)
		json_object_set_new(doc, "type", json_string(view_route_type(r->type)));
	if (links_route_key(doc, ret_key) < 0) {
		json_decref(doc);
		call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
		return NULL;
	}
	*ret_doc = doc;
	return nl;
}

static void method_add(struct call *c, json_t *params)
{
	_cleanup_(freep) char *key = NULL;
	struct nl_route_spec r;
	json_t *doc = NULL;
	struct nl *nl;
	int e, intent;

	nl = prepare(c, params, &r, &doc, &key);
	if (!nl)
		return;
	if (state_get(ROUTE_COLL, key)) {
		json_decref(doc);
		return call_fail(c, RPC_KIND_EXISTS, EEXIST, "dst", "The route exists");
	}
	intent = state_intent_begin(reconcile_intent(ROUTE_COLL, key, json_incref(doc)));
	e = nl_route_add(nl, &r);
	if (e < 0) {
		state_intent_end(intent);
		json_decref(doc);
		if (e == -EEXIST)
			return call_fail(c, RPC_KIND_EXISTS, EEXIST, "dst", "The route exists");
		return call_fail_errno(c, e, e == -ENETUNREACH ? "via" : NULL,
				       "Failed to add the route: %s",
				       nl_last_error(nl) ?: strerror(-e));
	}
	e = state_put(ROUTE_COLL, key, json_incref(doc));
	if (e < 0) {
		nl_route_del(nl, &r);
		state_intent_end(intent);
		json_decref(doc);
		return call_fail_errno(c, e, NULL, "Failed to record the route: %s", strerror(-e));
	}
	state_intent_commit(intent);
	call_reply(c, doc);
}

static void method_delete(struct call *c, json_t *params)
{
	_cleanup_(freep) char *key = NULL;
	struct nl_route_spec r;
	json_t *doc = NULL;
	struct nl *nl;
	int e;

	nl = prepare(c, params, &r, &doc, &key);
	if (!nl)
		return;
	e = nl_route_del(nl, &r);
	if (e < 0 && !((e == -ESRCH || e == -ENOENT) && state_get(ROUTE_COLL, key))) {
		json_decref(doc);
		if (e == -ESRCH || e == -ENOENT)
			return call_fail(c, RPC_KIND_NOT_FOUND, ESRCH, "dst", "No such route");
		return call_fail_errno(c, e, NULL, "Failed to delete the route: %s",
				       nl_last_error(nl) ?: strerror(-e));
	}
	state_del(ROUTE_COLL, key);
	call_reply(c, doc);
}

static void method_list(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *family = json_string_value(json_object_get(params, "family"));
	json_t *table = json_object_get(params, "table");
	_cleanup_(freep) struct nl_route_info *v = NULL;
	int fam = AF_UNSPEC, n;
	struct nl *nl;
	json_t *arr;

	if (family && strcmp(family, "inet") && strcmp(family, "inet6"))
		return call_fail_params(c, "family",
					"Invalid params: family: must be inet or "
					"inet6");
	if (family)
		fam = strcmp(family, "inet") ? AF_INET6 : AF_INET;
	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return;
	n = nl_route_list(nl, fam, table ? (uint32_t)json_integer_value(table) : 0, &v);
	if (n < 0)
		return call_fail_errno(c, n, NULL, "Failed to list routes: %s",
				       nl_last_error(nl) ?: strerror(-n));
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, view_route(netns, &v[i]));
	call_reply(c, json_pack("{s:o}", "routes", arr));
}

static const struct param p_route[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "dst", .type = P_STRING, .required = true, .min = 1, .max = 64 },
	{ .name = "via", .type = P_STRING, .max = 64 },
	{ .name = "dev", .type = P_IFNAME },
	{ .name = "metric", .type = P_INT, .min = 0, .max = 0xffffffffLL },
	{ .name = "table", .type = P_INT, .min = 1, .max = 0xfffffffeLL },
	{ .name = "family", .type = P_STRING, .max = 8 },
	{ .name = "type", .type = P_STRING, .max = 16 },
	{ 0 },
};

static const struct param p_list[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "table", .type = P_INT, .min = 1, .max = 0xffffffffLL },
	{ .name = "family", .type = P_STRING, .max = 8 },
	{ 0 },
};

const struct method route_methods[] = {
	{ .name = "route.add",
	  .fn = method_add,
	  .params = p_route,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "route.delete",
	  .fn = method_delete,
	  .params = p_route,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "route.list", .fn = method_list, .params = p_list, .access = ACCESS_ADMIN },
};
const size_t route_methods_count = ELEMENTSOF(route_methods);
