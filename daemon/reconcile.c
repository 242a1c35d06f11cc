/*
 * reconcile.c: start-up reconciliation of the desired state (see reconcile.h).
 */
#include <stdarg.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "links.h"
#include "log.h"
#include "netns.h"
#include "nlcache.h"
#include "reconcile.h"
#include "spec.h"
#include "state.h"
#include "views.h"

static struct reconcile_item *items;
static size_t nitems;
/* Keys of veth ends made together with an end restored earlier in this run. */
static json_t *made_with_peer;
/* Namespaces recreated in this run: whatever was paired with their old self is stale. */
static json_t *recreated_ns;

const char *reconcile_action_name(enum reconcile_action a)
{
	static const char *const names[] = { "adopted", "recreated", "failed" };

	return names[a];
}

static void report(const char *kind, const char *name, enum reconcile_action a, int err,
		   const char *fmt, ...) _printf_(5, 6);
static void report(const char *kind, const char *name, enum reconcile_action a, int err,
		   const char *fmt, ...)
{
	struct reconcile_item *n = realloc(items, (nitems + 1) * sizeof(*items));
	char *msg = NULL;
	va_list ap;

	if (!n)
		return;
	items = n;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		va_end(ap);
	}
	items[nitems++] = (struct reconcile_item){ strdup(kind), strdup(name), a, err, msg };
	if (a == RECONCILE_FAILED)
		log_error("Failed to restore %s '%s': %s", kind, name, msg ? msg : strerror(-err));
	else
		log_debug("%s %s '%s'", a == RECONCILE_ADOPTED ? "Adopted" : "Recreated", kind,
			  name);
}

static void netns_restore(const char *name, json_t *doc)
{
	struct netns_id id, rec;
	struct netns_spec_buf buf;
	struct netns_failure fail;
	json_t *created;
	bool same_boot;
	int r, intent;

	r = netns_stat(name, &id);
	same_boot = !strcmp(
	    json_string_value(json_object_get(json_object_get(doc, "identity"), "boot_id")) ?: "",
	    netns_boot_id());
	if (r == 0) {
		uint64_t cookie = 0;

		/*
		 * The same inode in the same boot, and (where the kernel has
		 * cookies) the same cookie: an inode number alone can be reused.
		 */
		if (same_boot && spec_netns_identity(doc, &rec) && netns_id_equal(&id, &rec) &&
		    (!rec.cookie || (netns_cookie(name, &cookie) == 0 && cookie == rec.cookie))) {
			netns_pin(name);
			return report("netns", name, RECONCILE_ADOPTED, 0, NULL);
		}
		if (same_boot)
			/* Ours was deleted and someone else mounted another one there. */
			return report(
			    "netns", name, RECONCILE_FAILED, -EEXIST,
			    "a namespace netnsd did not create is mounted on " NETNS_RUN_DIR
			    "/%s; left alone",
			    name);
		/*
		 * After a reboot nothing of ours can still be mounted; the name
		 * was claimed during boot, most likely by a script that predates
		 * netnsd.  Adopting it would take over something we did not make.
		 */
		return report("netns", name, RECONCILE_FAILED, -EEXIST,
			      NETNS_RUN_DIR "/%s was created by someone else after the reboot; "
					    "left alone",
			      name);
	}
	if (r == -ENOTCONN)
		netns_remove(name); /* our stale placeholder */
	else if (r != -ENOENT)
		return report("netns", name, RECONCILE_FAILED, r, "%s", strerror(-r));

	r = spec_netns_from_json(name, doc, &buf);
	if (r < 0)
		return report("netns", name, RECONCILE_FAILED, r, "unreadable spec");
	intent = state_intent_begin(reconcile_intent("netns", name, json_pack("{s:s}", "name", name)));
	r = netns_create(&buf.spec, &id, &fail);
	if (r == 0) {
		json_t *nd;

		created = json_object_get(doc, "created");
		nd = spec_netns_to_json(&buf.spec, &id, netns_boot_id(),
					json_string_value(created) ?: "");
		/* A topology's namespace stays its own when it is made again. */
		if (nd && json_object_get(doc, "topology"))
			json_object_set(nd, "topology", json_object_get(doc, "topology"));
		r = state_put("netns", name, nd);
		if (r < 0) {
			netns_etc_remove(name);
			netns_remove(name);
		}
	}
	spec_netns_done(&buf);
	if (r < 0)
		state_intent_end(intent);
	else
		state_intent_commit(intent);
	if (r < 0)
		return report("netns", name, RECONCILE_FAILED, r, "%s", strerror(-r));
	netns_pin(name);
	if (!recreated_ns)
		recreated_ns = json_object();
	json_object_set_new(recreated_ns, name, json_true());
	report("netns", name, RECONCILE_RECREATED, 0, NULL);
}

/*
 * A veth end of ours left outside a namespace that was deleted just before a
 * crash (the kernel frees a namespace, and the veths in it, some time after
 * the unmount): the pair cannot be made again while it is there.  Only when
 * the namespace was recreated in this run, so its old self is surely gone.
 */
static bool remove_stale_peer(const struct link_desc *d)
{
	struct nl_link_info info;
	struct nl *pnl;

	if (!d->peer.name || !d->netns || !json_object_get(recreated_ns, d->netns) ||
	    nlcache_get(d->peer.netns, &pnl) < 0 ||
	    nl_link_get(pnl, NL_DEV(d->peer.name), &info) < 0 || strcmp(info.ifalias, LINK_MARK))
		return false;
	return nl_link_del(pnl, NL_DEV(d->peer.name)) == 0;
}

/*
 * Links, addresses and routes, in dependency order: devices borrowed from
 * elsewhere first (others may sit on them), then links without a parent,
 * then vlan/macvlan/vxlan on their parents; then masters, addresses, "up",
 * routes and impairments, as a person would type it.
 */

static bool has_parent(json_t *doc)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));

	return kind &&
	       (!strcmp(kind, "vlan") || !strcmp(kind, "macvlan") || !strcmp(kind, "vxlan"));
}

static const char *origin_of(json_t *doc)
{
	return json_string_value(json_object_get(doc, "origin")) ?: "created";
}

/* The handle of a stored object's namespace, or NULL with the failure reported. */
static struct nl *restore_nl(const char *kind, const char *key, json_t *doc)
{
	const char *netns = json_string_value(json_object_get(doc, "netns"));
	struct nl *nl;
	int r;

	if (netns && links_netns_access(netns) != 1) {
		report(kind, key, RECONCILE_FAILED, -ENOENT, "namespace '%s' is not restored",
		       netns);
		return NULL;
	}
	r = nlcache_get(netns, &nl);
	if (r < 0) {
		report(kind, key, RECONCILE_FAILED, r, "cannot reach its namespace: %s",
		       strerror(-r));
		return NULL;
	}
	return nl;
}

static void link_create(const char *key, json_t *doc, struct nl *nl)
{
	struct link_desc d;
	const char *field, *msg;
	json_t *peer_doc = NULL;
	_cleanup_(freep) char *pk = NULL;
	struct nl *failed_nl;
	const char *failed_field;
	int r, intent;

	r = spec_link_from_json(doc, &d, &field, &msg);
	if (r < 0)
		return report("link", key, RECONCILE_FAILED, r, "stored spec: %s: %s", field, msg);
	if (d.peer.name) {
		if (d.peer.netns && links_netns_access(d.peer.netns) != 1)
			return report("link", key, RECONCILE_FAILED, -ENOENT,
				      "the peer's namespace '%s' is not restored", d.peer.netns);
		/* The peer's own settings live in its own stored doc. */
		if (spec_link_key(d.peer.netns, d.peer.name, &pk) == 0)
			peer_doc = state_get(LINK_COLL, pk);
		if (peer_doc)
			spec_link_peer_from_json(peer_doc, &d);
	}
	/* Masters and up come later, once every link exists. */
	intent = state_intent_begin(reconcile_intent(LINK_COLL, key, reconcile_link_intent(&d)));
	r = links_create(nl, &d, true, &failed_nl, &failed_field);
	if (r == -EEXIST && remove_stale_peer(&d))
		r = links_create(nl, &d, true, &failed_nl, &failed_field);
	/* The record is there already: once both ends carry the mark, it is complete. */
	state_intent_end(intent);
	if (r < 0)
		return report("link", key, RECONCILE_FAILED, r, "%s%s",
			      failed_field ? "the veth peer: " : "",
			      nl_last_error(failed_nl) ?: strerror(-r));
	if (pk && peer_doc) {
		if (!made_with_peer)
			made_with_peer = json_object();
		json_object_set_new(made_with_peer, pk, json_true());
	}
	report("link", key, RECONCILE_RECREATED, 0, NULL);
}

static void link_borrow_again(const char *key, json_t *doc, struct nl *nl)
{
	json_t *from = json_object_get(doc, "from");
	const char *from_ns = json_string_value(json_object_get(from, "netns"));
	const char *from_name = json_string_value(json_object_get(from, "name"));
	const char *netns = json_string_value(json_object_get(doc, "netns"));
	const char *name = json_string_value(json_object_get(doc, "name"));
	struct nl *src;
	int r, fd;

	if (!from_name || (from_ns && links_netns_access(from_ns) < 0) ||
	    nlcache_get(from_ns, &src) < 0)
		return report("link", key, RECONCILE_FAILED, -ENOENT,
			      "cannot reach where the device came from");
	fd = netns ? netns_open(netns) : netns_host_fd();
	if (fd < 0)
		return report("link", key, RECONCILE_FAILED, fd, "cannot open its namespace");
	r = nl_link_set(
	    src, NL_DEV(from_name),
	    &(struct nl_link_change){ .move_netns = true, .netns_fd = fd, .rename = name });
	if (netns)
		close(fd);
	if (r < 0)
		return report("link", key, RECONCILE_FAILED, r, "cannot move '%s' back in: %s",
			      from_name, nl_last_error(src) ?: strerror(-r));
	(void)nl;
	report("link", key, RECONCILE_RECREATED, 0, NULL);
}

static void link_restore(const char *key, json_t *doc)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *origin = origin_of(doc);
	struct nl_link_info info;
	struct nl *nl;

	nl = restore_nl("link", key, doc);
	if (!nl || !name)
		return;
	if (nl_link_get(nl, NL_DEV(name), &info) == 0) {
		if (!strcmp(origin, "created") && strcmp(info.ifalias, LINK_MARK))
			return report("link", key, RECONCILE_FAILED, -EEXIST,
				      "a link netnsd did not create is called '%s'; left alone",
				      name);
		return report("link", key,
			      json_object_get(made_with_peer, key) ? RECONCILE_RECREATED
								   : RECONCILE_ADOPTED,
			      0, NULL);
	}
	if (!strcmp(origin, "borrowed"))
		return link_borrow_again(key, doc, nl);
	if (!strcmp(origin, "existing"))
		return report("link", key, RECONCILE_FAILED, -ENODEV, "the device is gone");
	link_create(key, doc, nl);
}

/* Apply master (phase 0) or up/mtu/ipv6_ll (phase 1) to every restored link. */
static void links_apply(int phase)
{
	json_t *c = state_collection(LINK_COLL), *doc;
	const char *key;

	json_object_foreach(c, key, doc) {
		const char *netns = json_string_value(json_object_get(doc, "netns"));
		const char *name = json_string_value(json_object_get(doc, "name"));
		const char *master = json_string_value(json_object_get(doc, "master"));
		json_t *up = json_object_get(doc, "up"), *mtu = json_object_get(doc, "mtu");
		json_t *ll = json_object_get(doc, "ipv6_ll");
		struct nl_link_change ch = { 0 };
		struct nl *nl;
		int r;

		if (!name || (netns && links_netns_access(netns) != 1) ||
		    nlcache_get(netns, &nl) < 0)
			continue;
		if (phase == 0) {
			if (!master)
				continue;
			ch.master = NL_DEV(master);
		} else {
			if (!json_is_boolean(up) && !json_is_integer(mtu) && !json_is_boolean(ll))
				continue;
			ch.up = json_is_true(up) ? NL_ON : json_is_false(up) ? NL_OFF : NL_KEEP;
			ch.mtu = json_is_integer(mtu) ? (uint32_t)json_integer_value(mtu) : 0;
			ch.addrgen = spec_addrgen(spec_tristate(ll));
		}
		r = nl_link_set(nl, NL_DEV(name), &ch);
		if (r < 0 && r != -ENODEV)
			report("link", key, RECONCILE_FAILED, r, "cannot set %s: %s",
			       phase == 0 ? "its master" : "its state",
			       nl_last_error(nl) ?: strerror(-r));
	}
}

/*
 * Impairments last, on links that exist and are up: the kernel keeps a qdisc across a
 * restart of netnsd (replacing it with the same settings changes nothing) and loses it
 * with the link at a reboot.
 */
static void links_impair(void)
{
	json_t *c = state_collection(LINK_COLL), *doc;
	const char *key;

	json_object_foreach(c, key, doc) {
		const char *netns = json_string_value(json_object_get(doc, "netns"));
		const char *name = json_string_value(json_object_get(doc, "name"));
		json_t *impair = json_object_get(doc, "impair");
		const char *member, *msg;
		struct link_impair imp;
		struct nl *nl;
		int r;

		if (!impair || !name || (netns && links_netns_access(netns) != 1) ||
		    nlcache_get(netns, &nl) < 0)
			continue;
		if (spec_impair_from_json(impair, &imp, &member, &msg) < 0) {
			report("link", key, RECONCILE_FAILED, -EINVAL, "stored impair: %s", msg);
			continue;
		}
		r = links_impair_apply(nl, name, &imp);
		if (r < 0 && r != -ENODEV)
			report("link", key, RECONCILE_FAILED, r, "cannot restore its impairment: %s",
			       nl_last_error(nl) ?: strerror(-r));
	}
}

static void addr_restore(const char *key, json_t *doc)
{
	const char *dev = json_string_value(json_object_get(doc, "dev"));
	struct nl_prefix p;
	unsigned flags;
	struct nl *nl;
	int r;

	nl = restore_nl("addr", key, doc);
	if (!nl)
		return;
	if (spec_addr_from_json(doc, &p, &flags) < 0)
		return report("addr", key, RECONCILE_FAILED, -EINVAL, "unreadable stored address");
	r = nl_addr_add(nl, NL_DEV(dev), &p, flags);
	if (r < 0 && r != -EEXIST)
		report("addr", key, RECONCILE_FAILED, r, "%s", nl_last_error(nl) ?: strerror(-r));
	else
		report("addr", key, r == -EEXIST ? RECONCILE_ADOPTED : RECONCILE_RECREATED, 0,
		       NULL);
}

static void route_restore(const char *key, json_t *doc)
{
	struct nl_route_spec r;
	struct nl *nl;
	int e;

	nl = restore_nl("route", key, doc);
	if (!nl)
		return;
	if (spec_route_from_json(doc, &r) < 0)
		return report("route", key, RECONCILE_FAILED, -EINVAL, "unreadable stored route");
	e = nl_route_add(nl, &r);
	if (e < 0 && e != -EEXIST)
		report("route", key, RECONCILE_FAILED, e, "%s", nl_last_error(nl) ?: strerror(-e));
	else
		report("route", key, e == -EEXIST ? RECONCILE_ADOPTED : RECONCILE_RECREATED, 0,
		       NULL);
}

static void links_restore(void)
{
	json_t *c = state_collection(LINK_COLL), *doc;
	const char *key;

	/* Borrowed, then parentless, then parented: each pass may need the one before. */
	for (int pass = 0; pass < 3; pass++) {
		json_object_foreach(c, key, doc) {
			bool borrowed = !strcmp(origin_of(doc), "borrowed");
			int want = borrowed ? 0 : has_parent(doc) ? 2 : 1;

			if (want == pass)
				link_restore(key, doc);
		}
	}
	links_apply(0);
	c = state_collection(ADDR_COLL);
	json_object_foreach(c, key, doc)
		addr_restore(key, doc);
	/* Up before routes: the kernel refuses a gateway on a link that is down. */
	links_apply(1);
	c = state_collection(ROUTE_COLL);
	json_object_foreach(c, key, doc)
		route_restore(key, doc);
	links_impair();
}

/*
 * Undoing what a crashed run did in the kernel but never recorded (see
 * state_intent_begin()).  Only objects the state does not hold are touched,
 * and only in this boot: after a reboot nothing of the kind survives, and a
 * name may since belong to someone else.
 */

static void intent_collect(json_t *what, void *data)
{
	json_array_append(data, what);
}

/*
 * True when the intent's veth peer exists without our mark: the pair was made
 * but a crash came before the peer was marked (a recorded link being restored).
 */
static bool veth_peer_unmarked(json_t *doc)
{
	json_t *peer = json_object_get(doc, "peer");
	const char *pname = json_string_value(json_object_get(peer, "name"));
	struct nl_link_info info;
	struct nl *pnl;

	return pname &&
	       nlcache_get(json_string_value(json_object_get(peer, "netns")), &pnl) == 0 &&
	       nl_link_get(pnl, NL_DEV(pname), &info) == 0 && strcmp(info.ifalias, LINK_MARK);
}

static const char *member(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * A rename or move (link.set) that a crash stopped before the state recorded it: put the
 * link back under its old name and namespace, where the state (if it holds it) expects it.
 * In the host only a link that carries our mark or is still the same device is touched, and
 * nothing is moved onto a name that is taken.
 */
static void link_move_undo(const char *key, json_t *doc)
{
	json_t *to = json_object_get(doc, "moved_to");
	const char *netns = member(doc, "netns"), *name = member(doc, "name");
	const char *to_ns = member(to, "netns"), *to_name = member(to, "name");
	json_int_t ifindex = json_integer_value(json_object_get(doc, "ifindex"));
	_cleanup_(freep) char *to_key = NULL;
	struct nl_link_change ch = { 0 };
	struct nl_link_info info;
	struct nl *nl, *to_nl;
	bool moved = to_ns && netns ? strcmp(to_ns, netns) != 0 : to_ns != netns;
	int r;

	if (!name || !to_name || spec_link_key(to_ns, to_name, &to_key) < 0 || !strcmp(key, to_key))
		return;
	/* Recorded: the change is complete. */
	if (state_get(LINK_COLL, to_key) && !state_get(LINK_COLL, key))
		return;
	if (nlcache_get(to_ns, &to_nl) < 0 || nl_link_get(to_nl, NL_DEV(to_name), &info) < 0 ||
	    (!to_ns && strcmp(info.ifalias, LINK_MARK) && info.ifindex != ifindex) ||
	    nlcache_get(netns, &nl) < 0 || nl_link_ifindex(nl, name) != -ENODEV)
		return;
	if (strcmp(name, to_name))
		ch.rename = name;
	if (moved) {
		ch.move_netns = true;
		ch.netns_fd = netns ? netns_open(netns) : netns_host_fd();
		if (ch.netns_fd < 0)
			return;
	}
	r = nl_link_set(to_nl, NL_DEV(to_name), &ch);
	if (moved && netns)
		close(ch.netns_fd);
	if (r == 0)
		log_notice("Put link '%s' back as '%s' in %s: moved or renamed before a crash, "
			   "never recorded",
			   to_name, name, netns ?: "the host");
	else
		log_warning("Failed to put link '%s' back as '%s' after a crash: %s", to_name, name,
			    nl_last_error(to_nl) ?: strerror(-r));
}

static void intent_undo(json_t *what, bool netns_pass)
{
	const char *kind = json_string_value(json_object_get(what, "kind"));
	const char *key = json_string_value(json_object_get(what, "key"));
	json_t *doc = json_object_get(what, "doc");
	const char *netns = json_string_value(json_object_get(doc, "netns"));
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *dev = json_string_value(json_object_get(doc, "dev"));
	const char *address = json_string_value(json_object_get(doc, "address"));
	struct nl_link_info info;
	struct nl_route_spec rt;
	struct nl_prefix p;
	struct netns_id id;
	struct nl *nl;
	int r = 0;

	if (!kind || !key || !json_is_object(doc) ||
	    strcmp(json_string_value(json_object_get(what, "boot")) ?: "", netns_boot_id()))
		return;
	if (netns_pass != !strcmp(kind, "netns"))
		return;
	if (!strcmp(kind, "netns")) {
		json_t *rec = state_get("netns", key);
		struct netns_id want;

		r = netns_stat(key, &id);
		if (r < 0 && r != -ENOTCONN)
			return;
		/*
		 * Recorded with this very identity: the change completed.  Recorded
		 * with another one: a restore recreated it and died before it could
		 * record the new identity; remove it, and it is recreated again below.
		 */
		if (rec && r == 0 && spec_netns_identity(rec, &want) && netns_id_equal(&id, &want))
			return;
		if (!rec)
			netns_etc_remove(key);
		r = netns_remove(key);
	} else if (!strcmp(kind, "link") && json_object_get(doc, "moved_to")) {
		return link_move_undo(key, doc);
	} else {
		/* Its namespace may be one a crash left unrecorded: reach it anyway. */
		if ((strcmp(kind, "link") && state_get(kind, key)) || nlcache_get(netns, &nl) < 0)
			return;
		if (!strcmp(kind, "link")) {
			/* In the host only a link that carries our mark. */
			if (!name || nl_link_get(nl, NL_DEV(name), &info) < 0 ||
			    (!netns && strcmp(info.ifalias, LINK_MARK)))
				return;
			if (state_get(kind, key) && !veth_peer_unmarked(doc))
				return;
			r = nl_link_del(nl, NL_DEV(name));
		} else if (!strcmp(kind, "addr")) {
			if (!dev || !address || nl_parse_cidr(address, &p) < 0)
				return;
			r = nl_addr_del(nl, NL_DEV(dev), &p);
		} else if (!strcmp(kind, "route")) {
			if (spec_route_from_json(doc, &rt) < 0)
				return;
			r = nl_route_del(nl, &rt);
		} else {
			return;
		}
	}
	if (r == 0)
		log_notice("Removed %s '%s': made before a crash, never recorded", kind, key);
	else if (r != -ENOENT && r != -ENODEV && r != -ESRCH && r != -EADDRNOTAVAIL)
		log_warning("Failed to remove %s '%s' that a crash left unrecorded: %s", kind,
			    key, strerror(-r));
}

static void intents_undo(void)
{
	json_t *all = json_array(), *what;
	size_t i;

	if (!all)
		return;
	state_intent_recover(intent_collect, all);
	/* Links, addresses and routes first: a veth to the host goes with its namespace only
	 * some time later, in the kernel's own cleanup. */
	json_array_foreach(all, i, what)
		intent_undo(what, false);
	json_array_foreach(all, i, what)
		intent_undo(what, true);
	json_decref(all);
	state_intent_clear();
}

json_t *reconcile_link_intent(const struct link_desc *d)
{
	json_t *doc = json_pack("{s:o,s:s}", "netns", d->netns ? json_string(d->netns) : json_null(),
				"name", d->name);

	if (doc && d->peer.name)
		json_object_set_new(doc, "peer",
				    json_pack("{s:o,s:s}", "netns",
					      d->peer.netns ? json_string(d->peer.netns)
							    : json_null(),
					      "name", d->peer.name));
	return doc;
}

json_t *reconcile_link_move_intent(const char *netns, const char *name, int ifindex,
				   const char *to_ns, const char *to_name)
{
	return json_pack("{s:o,s:s,s:i,s:{s:o,s:s}}", "netns",
			 netns ? json_string(netns) : json_null(), "name", name, "ifindex", ifindex,
			 "moved_to", "netns", to_ns ? json_string(to_ns) : json_null(), "name",
			 to_name);
}

json_t *reconcile_intent(const char *kind, const char *key, json_t *doc)
{
	return json_pack("{s:s,s:s,s:s,s:o}", "boot", netns_boot_id(), "kind", kind, "key", key,
			 "doc", doc);
}

int reconcile_run(void)
{
	json_t *coll = state_collection("netns"), *doc;
	size_t adopted = 0, recreated = 0, failed = 0;
	const char *name;

	intents_undo();
	/* Names were the only report for a while; keep the order stable: namespaces first. */
	json_object_foreach(coll, name, doc)
		netns_restore(name, doc);
	links_restore();
	for (size_t i = 0; i < nitems; i++) {
		adopted += items[i].action == RECONCILE_ADOPTED;
		recreated += items[i].action == RECONCILE_RECREATED;
		failed += items[i].action == RECONCILE_FAILED;
	}
	if (nitems)
		log_notice("Restored state: %zu adopted, %zu recreated, %zu failed", adopted,
			   recreated, failed);
	return (int)failed;
}

const struct reconcile_item *reconcile_report(size_t *ret_n)
{
	*ret_n = nitems;
	return items;
}

void reconcile_exit(void)
{
	json_decref(TAKE_PTR(made_with_peer));
	json_decref(TAKE_PTR(recreated_ns));
	for (size_t i = 0; i < nitems; i++) {
		free(items[i].kind);
		free(items[i].name);
		free(items[i].message);
	}
	free(TAKE_PTR(items));
	nitems = 0;
}
