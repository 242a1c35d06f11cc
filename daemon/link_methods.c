/*
 * link_methods.c: link.add, link.delete, link.set, link.get and link.list.
 *
 * Every link netnsd creates carries the ifalias LINK_MARK, the kernel's own
 * record that it is netnsd's, and a doc in the desired state.  A device moved
 * into a namespace with link.set move_to is "borrowed": netnsd remembers
 * where it came from and gives it back under its original name when it is
 * deleted or its namespace goes away.  Devices in the host that netnsd did
 * not create or borrow are never changed.
 */
#include <string.h>

#include "links.h"
#include "log.h"
#include "method_ctx.h"
#include "method_families.h"
#include "model.h"
#include "netns.h"
#include "nlcache.h"
#include "reconcile.h"
#include "spec.h"
#include "state.h"
#include "tc.h"
#include "views.h"

/* Answer a failed nl call with the kernel's reason. */
static void fail_nl(struct call *c, struct nl *nl, int r, const char *field, const char *what,
		    const char *name)
{
	const char *why = nl ? nl_last_error(nl) : NULL;

	call_fail_errno(c, r, field, "Failed to %s '%s': %s", what, name, why ?: strerror(-r));
}

/* Answer with the LINK as the kernel has it, impair included (always: even when none). */
static void reply_link_impair(struct call *c, struct nl *nl, const char *netns, const char *name,
			      bool always)
{
	struct nl_link_info info;
	struct tc_root root;
	json_t *view;
	int r = nl_link_get(nl, NL_DEV(name), &info);

	if (r < 0)
		return fail_nl(c, nl, r, "name", "read link", name);
	view = view_link(netns, &info);
	r = tc_root_get(nl, NL_IFINDEX(info.ifindex), &root);
	if (r < 0) {
		json_decref(view);
		return fail_nl(c, nl, r, "name", "read the qdisc of link", name);
	}
	view_link_impair(view, &root, always);
	call_reply(c, view);
}

static void reply_link(struct call *c, struct nl *nl, const char *netns, const char *name)
{
	reply_link_impair(c, nl, netns, name, false);
}

/* Fail with field when dev does not exist in nl's namespace. */
static int need_dev(struct call *c, struct nl *nl, const char *dev, const char *field,
		    const char *netns)
{
	int r;

	if (!dev)
		return 0;
	r = nl_link_ifindex(nl, dev);
	if (r == -ENODEV) {
		call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, field, "No device '%s' in %s", dev,
			  method_ctx_ns_str(netns));
		return -1;
	}
	if (r < 0) {
		fail_nl(c, nl, r, field, "look up device", dev);
		return -1;
	}
	return 0;
}

/* The fd of a namespace to hand to the kernel, or the host's; *owned says whether to close. */
static int target_fd(const char *netns, bool *owned)
{
	*owned = netns != NULL;
	return netns ? netns_open(netns) : netns_host_fd();
}

static bool same_ns(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* link.add */

static void method_add(struct call *c, json_t *params)
{
	struct link_desc d;
	struct nl *nl, *peer_nl = NULL, *failed_nl;
	_cleanup_(freep) char *key = NULL, *peer_key = NULL;
	const char *field, *msg, *failed_field;
	int r, intent;

	r = spec_link_from_json(params, &d, &field, &msg);
	if (r < 0)
		return call_fail_params(c, field, "Invalid params: %s: %s", field, msg);
	if (method_ctx_netns_writable(c, d.netns, "netns") < 0)
		return;
	if (d.peer.name && method_ctx_netns_writable(c, d.peer.netns, "peer.netns") < 0)
		return;
	if (spec_link_key(d.netns, d.name, &key) < 0 ||
	    (d.peer.name && spec_link_key(d.peer.netns, d.peer.name, &peer_key) < 0))
		return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
	if (state_get(LINK_COLL, key))
		return call_fail(c, RPC_KIND_EXISTS, EEXIST, "name", "Link '%s' exists in %s",
				 d.name, method_ctx_ns_str(d.netns));
	if (peer_key && state_get(LINK_COLL, peer_key))
		return call_fail(c, RPC_KIND_EXISTS, EEXIST, "peer.name", "Link '%s' exists in %s",
				 d.peer.name, method_ctx_ns_str(d.peer.netns));

	nl = method_ctx_nl(c, d.netns, "netns");
	if (!nl)
		return;
	if (nl_link_ifindex(nl, d.name) > 0)
		return call_fail(c, RPC_KIND_EXISTS, EEXIST, "name", "Link '%s' exists in %s",
				 d.name, method_ctx_ns_str(d.netns));
	if (need_dev(c, nl, d.master, "master", d.netns) < 0 ||
	    need_dev(c, nl, d.parent, "parent", d.netns) < 0 ||
	    need_dev(c, nl, d.dev, "dev", d.netns) < 0)
		return;
	if (d.peer.name) {
		peer_nl = method_ctx_nl(c, d.peer.netns, "peer.netns");
		if (!peer_nl)
			return;
		if (nl_link_ifindex(peer_nl, d.peer.name) > 0)
			return call_fail(c, RPC_KIND_EXISTS, EEXIST, "peer.name",
					 "Link '%s' exists in %s", d.peer.name,
					 method_ctx_ns_str(d.peer.netns));
		if (need_dev(c, peer_nl, d.peer.master, "peer.master", d.peer.netns) < 0)
			return;
	}

	intent = state_intent_begin(reconcile_intent(LINK_COLL, key, reconcile_link_intent(&d)));
	r = links_create(nl, &d, false, &failed_nl, &failed_field);
	if (r < 0)
		state_intent_end(intent);
	if (r < 0 && failed_field && strstr(failed_field, "impair"))
		return fail_nl(c, failed_nl, r, failed_field, "impair link",
			       strcmp(failed_field, "impair") ? d.peer.name : d.name);
	if (r < 0)
		return fail_nl(c, failed_nl, r,
			       failed_field ? "peer" : r == -EEXIST ? "name" : NULL,
			       failed_field ? "set up veth peer" : "create link",
			       failed_field ? d.peer.name : d.name);

	r = state_put(LINK_COLL, key, spec_link_to_json(&d));
	if (r == 0 && d.peer.name) {
		struct link_desc p = {
			.netns = d.peer.netns,
			.name = d.peer.name,
			.kind = "veth",
			.origin = LINK_CREATED,
			.mtu = d.peer.mtu,
			.has_mac = d.peer.has_mac,
			.up = d.peer.up,
			.ipv6_ll = d.peer.ipv6_ll,
			.master = d.peer.master,
			.impair = d.peer.impair,
			.id = -1,
		};

		memcpy(p.mac, d.peer.mac, sizeof(p.mac));
		p.peer.name = d.name;
		p.peer.netns = d.netns;
		r = state_put(LINK_COLL, peer_key, spec_link_to_json(&p));
	}
	if (r < 0) {
		state_del(LINK_COLL, key);
		nl_link_del(nl, NL_DEV(d.name));
		state_intent_end(intent);
		return call_fail_errno(c, r, NULL, "Failed to record link '%s': %s", d.name,
				       strerror(-r));
	}
	state_intent_commit(intent);
	log_debug("Created %s link '%s' in %s", d.kind, d.name, method_ctx_ns_str(d.netns));
	model_touch_link(d.netns, d.name);
	if (d.peer.name)
		model_touch_link(d.peer.netns, d.peer.name);
	reply_link(c, nl, d.netns, d.name);
}

/* link.delete */

static void method_delete(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *name = json_string_value(json_object_get(params, "name"));
	_cleanup_(freep) char *key = NULL;
	struct nl_link_info info;
	const char *origin;
	bool returned;
	json_t *rec;
	struct nl *nl;
	int r;

	if (method_ctx_netns_writable(c, netns, "netns") < 0)
		return;
	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return;
	if (spec_link_key(netns, name, &key) < 0)
		return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
	rec = state_get(LINK_COLL, key);
	r = nl_link_get(nl, NL_DEV(name), &info);
	if (r < 0 && !rec)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, "name", "No link '%s' in %s", name,
				 method_ctx_ns_str(netns));
	origin = rec ? json_string_value(json_object_get(rec, "origin")) : NULL;
	returned = origin && !strcmp(origin, "borrowed");
	if (!rec && strcmp(info.ifalias, LINK_MARK))
		return call_fail(c, RPC_KIND_PERMISSION, EPERM, "name",
				 "Link '%s' in %s was not created by netnsd; refusing to delete it",
				 name, method_ctx_ns_str(netns));
	if (origin && !strcmp(origin, "existing"))
		return call_fail(c, RPC_KIND_PERMISSION, EPERM, "name",
				 "Link '%s' in %s was not created by netnsd; refusing to delete it",
				 name, method_ctx_ns_str(netns));

	if (returned) {
		json_t *from = json_object_get(rec, "from");
		const char *from_ns = json_string_value(json_object_get(from, "netns"));
		bool owned;
		int fd = target_fd(from_ns, &owned);
		struct nl_link_change ch = {
			.move_netns = true,
			.netns_fd = fd,
			.rename = json_string_value(json_object_get(from, "name")),
		};

		if (fd < 0)
			return call_fail_errno(c, fd, NULL, "Failed to open %s: %s",
					       method_ctx_ns_str(from_ns), strerror(-fd));
		r = r < 0 ? r : nl_link_set(nl, NL_DEV(name), &ch);
		if (owned)
			close(fd);
		if (r < 0 && r != -ENODEV)
			return fail_nl(c, nl, r, "name", "give back link", name);
	} else if (r == 0) {
		r = nl_link_del(nl, NL_DEV(name));
		if (r < 0 && r != -ENODEV)
			return fail_nl(c, nl, r, "name", "delete link", name);
	}
	if (rec) {
		json_t *peer = json_object_get(rec, "peer");

		if (peer) {
			_cleanup_(freep) char *pk = NULL;
			const char *pns = json_string_value(json_object_get(peer, "netns"));
			const char *pname = json_string_value(json_object_get(peer, "name"));

			if (pname && spec_link_key(pns, pname, &pk) == 0) {
				state_del(LINK_COLL, pk);
				links_forget_dev(pns, pname);
			}
		}
		state_del(LINK_COLL, key);
	}
	links_forget_dev(netns, name);
	call_reply(c, json_pack("{s:o,s:s,s:s}", "netns", netns ? json_string(netns) : json_null(),
				"name", name, "action", returned ? "returned" : "deleted"));
}

/* link.set */

/* Re-key a stored link after a rename or move, keeping its veth peer's pointer right. */
static int restore_record(json_t *rec, const char *old_key, const char *netns, const char *name)
{
	_cleanup_(freep) char *key = NULL;
	json_t *peer = json_object_get(rec, "peer");
	int r;

	r = spec_link_key(netns, name, &key);
	if (r < 0)
		return r;
	json_object_set_new(rec, "netns", netns ? json_string(netns) : json_null());
	json_object_set_new(rec, "name", json_string(name));
	if (strcmp(key, old_key))
		state_del(LINK_COLL, old_key);
	if (peer) {
		_cleanup_(freep) char *pk = NULL;
		const char *pns = json_string_value(json_object_get(peer, "netns"));
		const char *pname = json_string_value(json_object_get(peer, "name"));
		json_t *prec;

		if (pname && spec_link_key(pns, pname, &pk) == 0 &&
		    (prec = state_get(LINK_COLL, pk))) {
			prec = json_deep_copy(prec);
			json_object_set_new(prec, "peer",
					    json_pack("{s:s,s:o}", "name", name, "netns",
						      netns ? json_string(netns) : json_null()));
			state_put(LINK_COLL, pk, prec);
		}
	}
	return state_put(LINK_COLL, key, rec);
}

static void method_set(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *name = json_string_value(json_object_get(params, "name"));
	const char *rename = json_string_value(json_object_get(params, "rename"));
	json_t *up = json_object_get(params, "up"), *mtu = json_object_get(params, "mtu");
	json_t *address = json_object_get(params, "address");
	json_t *master = json_object_get(params, "master");
	json_t *move_to = json_object_get(params, "move_to");
	json_t *ipv6_ll = json_object_get(params, "ipv6_ll");
	json_t *impair = json_object_get(params, "impair");
	const char *to_ns = json_string_value(move_to), *new_ns, *new_name, *member, *msg;
	struct link_impair imp = { 0 };
	struct tc_root old_root = { 0 };
	_cleanup_(freep) char *key = NULL;
	struct nl_link_change ch = { 0 };
	struct nl_link_info info;
	uint8_t mac[NL_ETH_ALEN];
	json_t *rec;
	struct nl *nl;
	bool own_fd = false, ns_managed;
	int r, intent = 0;

	r = method_ctx_netns_writable(c, netns, "netns");
	if (r < 0)
		return;
	ns_managed = r == 1;
	if (move_to && method_ctx_netns_writable(c, to_ns, "move_to") < 0)
		return;
	if (move_to && same_ns(netns, to_ns))
		return call_fail_params(c, "move_to",
					"Invalid params: move_to: the link is "
					"already in %s",
					method_ctx_ns_str(netns));
	if (move_to && master && !json_is_null(master))
		return call_fail_params(c, "master",
					"Invalid params: master: cannot be combined "
					"with move_to");
	if (move_to && impair)
		return call_fail_params(c, "impair",
					"Invalid params: impair: cannot be combined with move_to "
					"(the kernel resets a moved link's qdisc); set it afterwards");
	if (impair && spec_impair_from_json(impair, &imp, &member, &msg) < 0)
		return call_fail_params(c, "impair", "Invalid params: impair: %s", msg);
	if (address && nl_parse_mac(json_string_value(address), mac) < 0)
		return call_fail_params(c, "address",
					"Invalid params: address: must be a "
					"unicast MAC address");
	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return;
	r = nl_link_get(nl, NL_DEV(name), &info);
	if (r < 0)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, "name", "No link '%s' in %s", name,
				 method_ctx_ns_str(netns));
	if (spec_link_key(netns, name, &key) < 0)
		return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
	rec = state_get(LINK_COLL, key);
	if (!rec && !ns_managed && !move_to && strcmp(info.ifalias, LINK_MARK))
		return call_fail(c, RPC_KIND_PERMISSION, EPERM, "name",
				 "Link '%s' in the host was not created or borrowed by netnsd; "
				 "netnsd does not change it (move_to borrows it)",
				 name);
	new_ns = move_to ? to_ns : netns;
	new_name = rename ? rename : name;
	if (rename || move_to) {
		_cleanup_(freep) char *nk = NULL;

		if (spec_link_key(new_ns, new_name, &nk) < 0)
			return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
		if (strcmp(nk, key) && state_get(LINK_COLL, nk))
			return call_fail(c, RPC_KIND_EXISTS, EEXIST, rename ? "rename" : "move_to",
					 "Link '%s' exists in %s", new_name,
					 method_ctx_ns_str(new_ns));
	}
	if (master && json_is_string(master) &&
	    need_dev(c, nl, json_string_value(master), "master", netns) < 0)
		return;

	if (up)
		ch.up = json_is_true(up) ? NL_ON : NL_OFF;
	if (mtu)
		ch.mtu = (uint32_t)json_integer_value(mtu);
	if (address)
		ch.mac = mac;
	if (master && json_is_string(master))
		ch.master = NL_DEV(json_string_value(master));
	else if (master)
		ch.nomaster = true;
	ch.addrgen = spec_addrgen(spec_tristate(ipv6_ll));
	ch.rename = rename;
	if (move_to) {
		ch.move_netns = true;
		ch.netns_fd = target_fd(to_ns, &own_fd);
		if (ch.netns_fd < 0)
			return call_fail_errno(c, ch.netns_fd, "move_to", "Failed to open %s: %s",
					       method_ctx_ns_str(to_ns), strerror(-ch.netns_fd));
	}
	/* The impairment first: the likeliest to fail (a kernel without netem), and undoable. */
	if (impair) {
		r = tc_root_get(nl, NL_IFINDEX(info.ifindex), &old_root);
		if (r == 0)
			r = links_impair_apply(nl, name, &imp);
		if (r < 0) {
			if (own_fd)
				close(ch.netns_fd);
			return fail_nl(c, nl, r, "impair", "impair link", name);
		}
	}
	/* A crash between the kernel's rename or move and its record puts the link back. */
	if (rename || move_to)
		intent = state_intent_begin(reconcile_intent(
		    LINK_COLL, key,
		    reconcile_link_move_intent(netns, name, info.ifindex, new_ns, new_name)));
	r = nl_link_set(nl, NL_DEV(name), &ch);
	if (own_fd)
		close(ch.netns_fd);
	if (r < 0)
		state_intent_end(intent);
	if (r < 0 && impair) {
		/* Put the old impairment back (another kind of qdisc cannot be: the default). */
		struct tc_impair none = { 0 };
		_cleanup_(freep) char *why = strdup(nl_last_error(nl) ?: strerror(-r));

		(void)tc_impair_set(nl, NL_IFINDEX(info.ifindex), info.mtu,
				    old_root.impair ? &old_root.imp : &none);
		return call_fail_errno(c, r, NULL, "Failed to change link '%s': %s", name,
				       why ?: strerror(-r));
	}
	if (r < 0)
		return fail_nl(c, nl, r, NULL, "change link", name);

	/* The desired state follows what was done. */
	if (rec)
		rec = json_deep_copy(rec);
	else if (move_to && strcmp(info.ifalias, LINK_MARK))
		rec = json_pack("{s:s,s:{s:o,s:s}}", "origin", "borrowed", "from", "netns",
				netns ? json_string(netns) : json_null(), "name", name);
	else if (!strcmp(info.ifalias, LINK_MARK) && info.kind[0])
		rec = json_pack("{s:s,s:s}", "origin", "created", "kind", info.kind);
	else
		rec = json_pack("{s:s}", "origin", "existing");
	if (up)
		json_object_set(rec, "up", up);
	if (mtu)
		json_object_set(rec, "mtu", mtu);
	if (address)
		json_object_set(rec, "address", address);
	if (ipv6_ll)
		json_object_set(rec, "ipv6_ll", ipv6_ll);
	if (master && json_is_string(master))
		json_object_set(rec, "master", master);
	else if (master || move_to)
		json_object_del(rec, "master");
	if (impair && spec_impair_is_set(&imp))
		json_object_set_new(rec, "impair", spec_impair_to_json(&imp));
	else if (impair || move_to)
		json_object_del(rec, "impair"); /* a move resets the qdisc */
	if (move_to)
		links_forget_dev(netns, name); /* the kernel flushed them */
	else if (rename)
		links_rename_dev(netns, name, rename);
	model_touch_link(new_ns, new_name);
	r = restore_record(rec, key, new_ns, new_name);
	/* Not recorded: the intent stays, and the next start puts the link back. */
	if (r < 0)
		return call_fail_errno(c, r, NULL, "Failed to record link '%s': %s", new_name,
				       strerror(-r));
	state_intent_commit(intent);
	if (move_to) {
		nl = method_ctx_nl(c, new_ns, "move_to");
		if (!nl)
			return;
	}
	reply_link(c, nl, new_ns, new_name);
}

/* link.get */

static void method_get(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	const char *name = json_string_value(json_object_get(params, "name"));
	struct nl *nl;

	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return;
	if (nl_link_ifindex(nl, name) == -ENODEV)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENODEV, "name", "No link '%s' in %s", name,
				 method_ctx_ns_str(netns));
	reply_link_impair(c, nl, netns, name, true);
}

/* link.list */

static void method_list(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	_cleanup_(freep) struct nl_link_info *links = NULL;
	_cleanup_(freep) struct tc_root *roots = NULL;
	struct nl *nl;
	json_t *arr;
	int n, nroots;

	nl = method_ctx_nl(c, netns, "netns");
	if (!nl)
		return;
	n = nl_link_list(nl, &links);
	if (n < 0)
		return fail_nl(c, nl, n, NULL, "list links of", method_ctx_ns_str(netns));
	nroots = tc_root_list(nl, &roots);
	if (nroots < 0)
		return fail_nl(c, nl, nroots, NULL, "list the qdiscs of", method_ctx_ns_str(netns));
	arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *v = view_link(netns, &links[i]);

		view_link_impair(v, tc_root_find(roots, nroots, links[i].ifindex), false);
		json_array_append_new(arr, v);
	}
	call_reply(c, json_pack("{s:o}", "links", arr));
}

static const struct param p_peer[] = {
	{ .name = "name", .type = P_IFNAME, .required = true },
	{ .name = "netns", .type = P_NETNS },
	{ .name = "mtu", .type = P_INT, .min = 68, .max = 65535 },
	{ .name = "address", .type = P_STRING, .max = 32 },
	{ .name = "up", .type = P_BOOL },
	{ .name = "master", .type = P_IFNAME },
	{ .name = "ipv6_ll", .type = P_BOOL },
	{ .name = "impair", .type = P_OBJECT, .check = spec_impair_check },
	{ 0 },
};

static const struct param p_add[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "name", .type = P_IFNAME, .required = true },
	{ .name = "kind", .type = P_STRING, .required = true, .max = 16 },
	{ .name = "peer", .type = P_OBJECT, .fields = p_peer },
	{ .name = "master", .type = P_IFNAME },
	{ .name = "mtu", .type = P_INT, .min = 68, .max = 65535 },
	{ .name = "address", .type = P_STRING, .max = 32 },
	{ .name = "up", .type = P_BOOL },
	{ .name = "ipv6_ll", .type = P_BOOL },
	{ .name = "parent", .type = P_IFNAME },
	{ .name = "id", .type = P_INT, .min = 0, .max = 16777215 },
	{ .name = "protocol", .type = P_STRING, .max = 16 },
	{ .name = "mode", .type = P_STRING, .max = 16 },
	{ .name = "remote", .type = P_STRING, .max = 64 },
	{ .name = "group", .type = P_STRING, .max = 64 },
	{ .name = "local", .type = P_STRING, .max = 64 },
	{ .name = "port", .type = P_INT, .min = 1, .max = 65535 },
	{ .name = "dev", .type = P_IFNAME },
	{ .name = "stp", .type = P_BOOL },
	{ .name = "vlan_filtering", .type = P_BOOL },
	{ .name = "impair", .type = P_OBJECT, .check = spec_impair_check },
	{ 0 },
};

static const struct param p_name[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "name", .type = P_IFNAME, .required = true },
	{ 0 },
};

static const struct param p_set[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "name", .type = P_IFNAME, .required = true },
	{ .name = "up", .type = P_BOOL },
	{ .name = "mtu", .type = P_INT, .min = 68, .max = 65535 },
	{ .name = "address", .type = P_STRING, .max = 32 },
	{ .name = "master", .type = P_IFNAME },
	{ .name = "rename", .type = P_IFNAME },
	{ .name = "move_to", .type = P_NETNS },
	{ .name = "ipv6_ll", .type = P_BOOL },
	{ .name = "impair", .type = P_OBJECT, .check = spec_impair_check },
	{ 0 },
};

static const struct param p_list[] = {
	{ .name = "netns", .type = P_NETNS },
	{ 0 },
};

const struct method link_methods[] = {
	{ .name = "link.add",
	  .fn = method_add,
	  .params = p_add,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "link.delete",
	  .fn = method_delete,
	  .params = p_name,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "link.set",
	  .fn = method_set,
	  .params = p_set,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "link.get", .fn = method_get, .params = p_name, .access = ACCESS_ADMIN },
	{ .name = "link.list", .fn = method_list, .params = p_list, .access = ACCESS_ADMIN },
};
const size_t link_methods_count = ELEMENTSOF(link_methods);
