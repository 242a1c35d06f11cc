/*
 * addr_methods.c: addr.add, addr.delete and addr.list.
 *
 * Addresses go on devices netnsd may change: any device of a managed
 * namespace, and links netnsd created or borrowed in the host.
 */
#include <string.h>

#include "links.h"
#include "method_ctx.h"
#include "method_families.h"
#include "nlcache.h"
#include "reconcile.h"
#include "spec.h"
#include "state.h"
#include "views.h"

/*
 * Common checks of addr.add and addr.delete: namespace, device, address.
 * Returns the handle, or NULL when the call has been answered.
 */
static struct nl *prepare(struct call *c, json_t *params, struct nl_prefix *p, char **ret_key,
			  json_t **ret_doc)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *dev = json_string_value(json_object_get(params, "dev"));
	const char *address = json_string_value(json_object_get(params, "address"));
	char buf[NL_ADDRSTRLEN + 8], text[NL_ADDRSTRLEN];
	struct nl *nl;

	if (nl_parse_cidr(address, p) < 0) {
		call_fail_params(c, "address",
				 "Invalid params: address: expected ADDRESS/PREFIX, like "
				 "10.0.0.1/24 or fd00::1/64");
		return NULL;
	}
	if (method_ctx_netns_writable(c, netns, "netns") < 0)
		return NULL;
	if (!links_dev_managed(netns, dev)) {
		call_fail(c, RPC_KIND_PERMISSION, EPERM, "dev",
			  "Device '%s' in the host was not created or borrowed by netnsd", dev);
		return NULL;
	}
	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return NULL;
	if (nl_link_ifindex(nl, dev) < 0) {
		call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, "dev", "No device '%s' in %s", dev,
			  method_ctx_ns_str(netns));
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s/%u", nl_format_addr(p->family, p->bytes, text),
		 p->prefixlen);
	*ret_doc = json_pack("{s:o,s:s,s:s}", "netns", netns ? json_string(netns) : json_null(),
			     "dev", dev, "address", buf);
	if (links_addr_key(*ret_doc, ret_key) < 0) {
		json_decref(*ret_doc);
		call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
		return NULL;
	}
	return nl;
}

static void method_add(struct call *c, json_t *params)
{
	const char *dev = json_string_value(json_object_get(params, "dev"));
	json_t *nodad = json_object_get(params, "nodad");
	_cleanup_(freep) char *key = NULL;
	struct nl_prefix p;
	json_t *doc = NULL;
	struct nl *nl;
	int r, intent;

	nl = prepare(c, params, &p, &key, &doc);
	if (!nl)
		return;
	intent = state_intent_begin(reconcile_intent(ADDR_COLL, key, json_incref(doc)));
	r = nl_addr_add(nl, NL_DEV(dev), &p, json_is_true(nodad) ? NL_ADDR_NODAD : 0);
	if (r < 0) {
		state_intent_end(intent);
		json_decref(doc);
		if (r == -EEXIST)
			return call_fail(
			    c, RPC_KIND_EXISTS, EEXIST, "address", "Address %s is already on '%s'",
			    json_string_value(json_object_get(params, "address")), dev);
		return call_fail_errno(c, r, "address", "Failed to add address to '%s': %s", dev,
				       nl_last_error(nl) ?: strerror(-r));
	}
	if (json_is_true(nodad))
		json_object_set_new(doc, "nodad", json_true());
	r = state_put(ADDR_COLL, key, json_incref(doc));
	if (r < 0) {
		nl_addr_del(nl, NL_DEV(dev), &p);
		state_intent_end(intent);
		json_decref(doc);
		return call_fail_errno(c, r, NULL, "Failed to record the address: %s",
				       strerror(-r));
	}
	state_intent_commit(intent);
	call_reply(c, doc);
}

static void method_delete(struct call *c, json_t *params)
{
	const char *dev = json_string_value(json_object_get(params, "dev"));
	_cleanup_(freep) char *key = NULL;
	struct nl_prefix p;
	json_t *doc = NULL;
	struct nl *nl;
	int r;

	nl = prepare(c, params, &p, &key, &doc);
	if (!nl)
		return;
	r = nl_addr_del(nl, NL_DEV(dev), &p);
	if (r < 0 && (r != -EADDRNOTAVAIL || !state_get(ADDR_COLL, key))) {
		json_decref(doc);
		if (r == -EADDRNOTAVAIL)
			return call_fail(c, RPC_KIND_NOT_FOUND, EADDRNOTAVAIL, "address",
					 "Address %s is not on '%s'",
					 json_string_value(json_object_get(params, "address")),
					 dev);
		return call_fail_errno(c, r, "address", "Failed to delete address from '%s': %s",
				       dev, nl_last_error(nl) ?: strerror(-r));
	}
	state_del(ADDR_COLL, key);
	call_reply(c, doc);
}

static void method_list(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *dev = json_string_value(json_object_get(params, "dev"));
	_cleanup_(freep) struct nl_addr_info *v = NULL;
	struct nl *nl;
	json_t *arr;
	int n;

	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return;
	if (dev && nl_link_ifindex(nl, dev) < 0)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, "dev", "No device '%s' in %s", dev,
				 method_ctx_ns_str(netns));
	n = nl_addr_list(nl, AF_UNSPEC, NL_DEV(dev), &v);
	if (n < 0)
		return call_fail_errno(c, n, NULL, "Failed to list addresses: %s",
				       nl_last_error(nl) ?: strerror(-n));
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, view_addr(netns, &v[i]));
	call_reply(c, json_pack("{s:o}", "addresses", arr));
}

static const struct param p_addr[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "dev", .type = P_IFNAME, .required = true },
	{ .name = "address", .type = P_STRING, .required = true, .max = 64 },
	{ 0 },
};

static const struct param p_add[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "dev", .type = P_IFNAME, .required = true },
	{ .name = "address", .type = P_STRING, .required = true, .max = 64 },
	{ .name = "nodad", .type = P_BOOL },
	{ 0 },
};

static const struct param p_list[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "dev", .type = P_IFNAME },
	{ 0 },
};

const struct method addr_methods[] = {
	{ .name = "addr.add",
	  .fn = method_add,
	  .params = p_add,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "addr.delete",
	  .fn = method_delete,
	  .params = p_addr,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "addr.list", .fn = method_list, .params = p_list, .access = ACCESS_ADMIN },
};
const size_t addr_methods_count = ELEMENTSOF(addr_methods);
