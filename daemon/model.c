/*
 * model.c: the live view of the kernel and the events it produces (see
 * model.h).
 *
 * Each followed namespace has a table of links (by ifindex), addresses and
 * routes (by key), holding the JSON view last published.  A kernel message
 * is turned into a view; when it differs from the table's, the table is
 * updated and an event published.  The table is therefore exactly what
 * subscribers were told, which is what makes a resync after ENOBUFS a plain
 * diff and an initial snapshot consistent with the events that follow.
 */
#include <string.h>

#include "links.h"
#include "log.h"
#include "model.h"
#include "monitor.h"
#include "netns.h"
#include "nlcache.h"
#include "state.h"
#include "util.h"
#include "views.h"

struct nsmodel {
	char *netns;				 /* NULL: the host */
	json_t *links, *addrs, *routes, *neighs; /* key -> view */
	json_t *names;				 /* ifindex -> name */
	json_t *qdiscs; /* ifindex -> "impair" of the links whose root qdisc has one */
	/*
	 * What the kernel changes without announcing it, read again once per
	 * loop iteration: links by name or ifindex, and the routes.
	 */
	json_t *stale_links;
	bool stale_routes, queued;
	struct nsmodel *next, *stale_next;
};

static struct {
	struct nsmodel *models, *stale;
	uv_check_t check;
	uv_idle_t idle;
	bool armed;
	struct model_stats stats;
} m;

static void on_check(uv_check_t *h);

static void on_idle(uv_idle_t *h)
{
	/* Only keeps the loop from sleeping until the check handle ran. */
}

static void mark_stale(struct nsmodel *x, const char *link, bool routes)
{
	if (link)
		json_object_set_new(x->stale_links, link, json_true());
	x->stale_routes |= routes;
	if (!x->queued) {
		x->queued = true;
		x->stale_next = m.stale;
		m.stale = x;
	}
	if (!m.armed && m.check.loop) {
		uv_check_start(&m.check, on_check);
		uv_idle_start(&m.idle, on_idle);
		m.armed = true;
	}
}

static bool same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static struct nsmodel *find(const char *netns)
{
	for (struct nsmodel *x = m.models; x; x = x->next)
		if (same(x->netns, netns))
			return x;
	return NULL;
}

static const char *ifname(struct nsmodel *x, int ifindex)
{
	char k[16];

	snprintf(k, sizeof(k), "%d", ifindex);
	return json_string_value(json_object_get(x->names, k)) ?: "";
}

static void link_fill_names(struct nsmodel *x, struct nl_link_info *l)
{
	if (l->master_ifindex)
		snprintf(l->master, sizeof(l->master), "%s", ifname(x, l->master_ifindex));
	if (l->link_ifindex && l->link_netnsid < 0)
		snprintf(l->link_name, sizeof(l->link_name), "%s", ifname(x, l->link_ifindex));
}

static void addr_key(const json_t *view, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", json_string_value(json_object_get(view, "dev")),
		 json_string_value(json_object_get(view, "address")));
}

static void route_key(const json_t *view, char *buf, size_t len)
{
	snprintf(buf, len, "%lld/%s/%lld/%s/%s",
		 (long long)json_integer_value(json_object_get(view, "table")),
		 json_string_value(json_object_get(view, "dst")),
		 (long long)json_integer_value(json_object_get(view, "metric")),
		 json_string_value(json_object_get(view, "family")),
		 json_string_value(json_object_get(view, "via")) ?: "");
}

/*
 * Record view under key in table and publish the difference.  removed: the
 * object is gone.  Steals view.
 */
static void apply(struct nsmodel *x, json_t *table, enum event_topic topic, const char *member,
		  const char *key, json_t *view, bool removed)
{
	json_t *old = json_object_get(table, key);

	if (removed) {
		if (!old) {
			json_decref(view);
			return;
		}
		json_decref(view);
		view = json_incref(old);
		json_object_del(table, key);
		events_publish(topic, "del", x->netns, member, view, NULL);
		return;
	}
	if (old && json_equal(old, view)) {
		json_decref(view);
		return;
	}
	json_object_set(table, key, view);
	events_publish(topic, old ? "change" : "new", x->netns, member, view, NULL);
}

static bool has_routes_via(struct nsmodel *x, const char *dev)
{
	const char *k;
	json_t *v;

	json_object_foreach(x->routes, k, v) {
		const char *d = json_string_value(json_object_get(v, "dev"));

		if (d && !strcmp(d, dev) &&
		    !strcmp(json_string_value(json_object_get(v, "family")) ?: "", "inet"))
			return true;
	}
	return false;
}

static void on_link(struct nsmodel *x, struct nl_link_info *l, bool removed)
{
	json_t *old, *view;
	char k[16];
	bool was_up;

	snprintf(k, sizeof(k), "%d", l->ifindex);
	old = json_object_get(x->links, k);
	was_up = old && json_is_true(json_object_get(old, "up"));
	if (!removed)
		json_object_set_new(x->names, k, json_string(l->name));
	link_fill_names(x, l);
	view = view_link(x->netns, l);
	if (json_object_get(x->qdiscs, k))
		json_object_set(view, "impair", json_object_get(x->qdiscs, k));
	apply(x, x->links, EVENT_LINK, "link", k, view, removed);
	if (removed) {
		json_object_del(x->names, k);
		json_object_del(x->qdiscs, k);
	}
	/*
	 * The kernel drops a link's IPv4 routes without a message when it goes
	 * down or away: read the routes again, if the link had any.
	 */
	if ((removed || (was_up && !l->up)) && has_routes_via(x, l->name))
		mark_stale(x, NULL, true);
	/* The first end of a new veth is announced before its peer exists. */
	if (!removed && !strcmp(l->kind, "veth") && l->link_ifindex == 0)
		mark_stale(x, k, false);
}

/* A link's root qdisc changed: its impairment is part of the LINK view. */
static void on_qdisc(struct nsmodel *x, const struct tc_root *root, bool removed)
{
	json_t *old, *view, *imp;
	char k[16];

	snprintf(k, sizeof(k), "%d", root->ifindex);
	old = json_object_get(x->links, k);
	view = old ? json_deep_copy(old) : json_object();
	view_link_impair(view, removed ? NULL : root, false);
	imp = json_object_get(view, "impair");
	if (imp)
		json_object_set(x->qdiscs, k, imp);
	else
		json_object_del(x->qdiscs, k);
	if (old)
		apply(x, x->links, EVENT_LINK, "link", k, view, false);
	else
		json_decref(view);
}

static void on_addr(struct nsmodel *x, struct nl_addr_info *a, bool removed)
{
	char k[NL_IFNAMSIZ + NL_ADDRSTRLEN + 16];
	json_t *view;

	snprintf(a->dev, sizeof(a->dev), "%s", ifname(x, a->ifindex));
	view = view_addr(x->netns, a);
	addr_key(view, k, sizeof(k));
	apply(x, x->addrs, EVENT_ADDR, "addr", k, view, removed);
}

static void on_route(struct nsmodel *x, struct nl_route_info *r, bool removed)
{
	char k[2 * NL_ADDRSTRLEN + 64];
	json_t *view;

	if (r->table == 255) /* the kernel's local table: its own business */
		return;
	if (r->ifindex)
		snprintf(r->dev, sizeof(r->dev), "%s", ifname(x, r->ifindex));
	view = view_route(x->netns, r);
	route_key(view, k, sizeof(k));
	apply(x, x->routes, EVENT_ROUTE, "route", k, view, removed);
}

static const char *nud_name(unsigned state)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ 0x01, "incomplete" }, { 0x02, "reachable" }, { 0x04, "stale" },
		{ 0x08, "delay" },	{ 0x10, "probe" },     { 0x20, "failed" },
		{ 0x40, "noarp" },	{ 0x80, "permanent" },
	};

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (state & names[i].bit)
			return names[i].name;
	return "none";
}

static void on_neigh(struct nsmodel *x, const struct monitor_neigh *n, bool removed)
{
	char k[NL_IFNAMSIZ + NL_ADDRSTRLEN + 8];
	const char *dev = ifname(x, n->ifindex);
	json_t *view;

	if (!n->address[0])
		return;
	view = json_pack("{s:o,s:s,s:i,s:s,s:s,s:s}", "netns",
			 x->netns ? json_string(x->netns) : json_null(), "dev", dev, "ifindex",
			 n->ifindex, "family", n->family == AF_INET ? "inet" : "inet6", "address",
			 n->address, "state", nud_name(n->state));
	if (n->lladdr[0])
		json_object_set_new(view, "lladdr", json_string(n->lladdr));
	snprintf(k, sizeof(k), "%s/%s", dev, n->address);
	apply(x, x->neighs, EVENT_NEIGH, "neigh", k, view, removed);
}

static json_t *netns_brief(const char *name)
{
	struct netns_id id;
	bool mounted = netns_stat(name, &id) == 0;
	json_t *o =
	    json_pack("{s:s,s:b,s:b}", "name", name, "managed",
		      state_get("netns", name) && netns_pinned_mounted(name), "mounted", mounted);

	if (mounted)
		json_object_set_new(o, "inode", json_integer((json_int_t)id.ino));
	return o;
}

/* Read a namespace's links, addresses and routes into fresh tables. */
static int dump(struct nsmodel *x, json_t **ret_links, json_t **ret_addrs, json_t **ret_routes)
{
	_cleanup_(freep) struct nl_link_info *links = NULL;
	_cleanup_(freep) struct nl_addr_info *addrs = NULL;
	_cleanup_(freep) struct nl_route_info *routes = NULL;
	_cleanup_(freep) struct tc_root *roots = NULL;
	json_t *tl, *ta, *tr, *tq;
	struct nl *nl;
	int nlinks, naddrs, nroutes, nroots, r;

	r = nlcache_get(x->netns, &nl);
	if (r < 0)
		return r;
	nlinks = nl_link_list(nl, &links);
	if (nlinks < 0)
		return nlinks;
	naddrs = nl_addr_list(nl, AF_UNSPEC, (struct nl_dev){ 0 }, &addrs);
	if (naddrs < 0)
		return naddrs;
	nroutes = nl_route_list(nl, AF_UNSPEC, 0, &routes);
	if (nroutes < 0)
		return nroutes;
	nroots = tc_root_list(nl, &roots);
	if (nroots < 0)
		return nroots;
	json_object_clear(x->names);
	tq = json_object();
	tl = json_object();
	ta = json_object();
	tr = json_object();
	for (int i = 0; i < nlinks; i++) {
		char k[16];

		json_t *v = view_link(x->netns, &links[i]);

		snprintf(k, sizeof(k), "%d", links[i].ifindex);
		json_object_set_new(x->names, k, json_string(links[i].name));
		view_link_impair(v, tc_root_find(roots, nroots, links[i].ifindex), false);
		if (json_object_get(v, "impair"))
			json_object_set(tq, k, json_object_get(v, "impair"));
		json_object_set_new(tl, k, v);
	}
	json_decref(x->qdiscs);
	x->qdiscs = tq;
	for (int i = 0; i < naddrs; i++) {
		char k[NL_IFNAMSIZ + NL_ADDRSTRLEN + 16];
		json_t *v = view_addr(x->netns, &addrs[i]);

		addr_key(v, k, sizeof(k));
		json_object_set_new(ta, k, v);
	}
	for (int i = 0; i < nroutes; i++) {
		char k[2 * NL_ADDRSTRLEN + 64];
		json_t *v = view_route(x->netns, &routes[i]);

		route_key(v, k, sizeof(k));
		json_object_set_new(tr, k, v);
	}
	*ret_links = tl;
	*ret_addrs = ta;
	*ret_routes = tr;
	return 0;
}

/* Publish what differs between old and new tables; old becomes new. */
static void diff(struct nsmodel *x, json_t **old, json_t *new, enum event_topic topic,
		 const char *member)
{
	const char *k;
	json_t *v;

	json_object_foreach(*old, k, v)
		if (!json_object_get(new, k))
			events_publish(topic, "del", x->netns, member, json_incref(v), NULL);
	json_object_foreach(new, k, v) {
		json_t *o = json_object_get(*old, k);

		if (!o || !json_equal(o, v))
			events_publish(topic, o ? "change" : "new", x->netns, member,
				       json_incref(v), NULL);
	}
	json_decref(*old);
	*old = new;
}

static void resync(struct nsmodel *x)
{
	json_t *tl, *ta, *tr;
	int r;

	m.stats.resyncs++;
	r = dump(x, &tl, &ta, &tr);
	if (r < 0) {
		log_warning("Failed to re-read %s after lost messages: %s",
			    x->netns ? x->netns : "the host", strerror(-r));
		return;
	}
	diff(x, &x->links, tl, EVENT_LINK, "link");
	diff(x, &x->addrs, ta, EVENT_ADDR, "addr");
	diff(x, &x->routes, tr, EVENT_ROUTE, "route");
	/* Neighbours come and go on their own; start afresh rather than diff. */
	json_object_clear(x->neighs);
	events_publish(EVENT_DAEMON, "resync", x->netns, NULL, NULL, NULL);
}

static void refresh_routes(struct nsmodel *x)
{
	_cleanup_(freep) struct nl_route_info *routes = NULL;
	json_t *tr = json_object();
	struct nl *nl;
	int n;

	if (nlcache_get(x->netns, &nl) < 0 || (n = nl_route_list(nl, AF_UNSPEC, 0, &routes)) < 0) {
		json_decref(tr);
		return;
	}
	for (int i = 0; i < n; i++) {
		char k[2 * NL_ADDRSTRLEN + 64];
		json_t *v;

		if (routes[i].ifindex)
			snprintf(routes[i].dev, sizeof(routes[i].dev), "%s",
				 ifname(x, routes[i].ifindex));
		v = view_route(x->netns, &routes[i]);
		route_key(v, k, sizeof(k));
		json_object_set_new(tr, k, v);
	}
	diff(x, &x->routes, tr, EVENT_ROUTE, "route");
}

static void refresh(struct nsmodel *x)
{
	json_t *links = x->stale_links;
	bool routes = x->stale_routes;
	const char *k;
	json_t *v;
	struct nl *nl;

	x->stale_links = json_object();
	x->stale_routes = false;
	/* Older messages first, or they would overwrite what is read now. */
	monitor_drain(x->netns);
	if (nlcache_get(x->netns, &nl) == 0) {
		json_object_foreach(links, k, v) {
			struct nl_link_info info;
			char *end;
			long idx = strtol(k, &end, 10);
			struct nl_dev dev = *end ? NL_DEV(k) : NL_IFINDEX((int)idx);

			if (nl_link_get(nl, dev, &info) == 0)
				on_link(x, &info, false);
		}
	}
	json_decref(links);
	if (routes || x->stale_routes)
		refresh_routes(x);
	x->stale_routes = false;
}

static void on_check(uv_check_t *h)
{
	struct nsmodel *list = TAKE_PTR(m.stale);

	uv_check_stop(&m.check);
	uv_idle_stop(&m.idle);
	m.armed = false;
	for (struct nsmodel *x = list, *next; x; x = next) {
		next = x->stale_next;
		x->queued = false;
		refresh(x);
	}
}

void model_touch_link(const char *netns, const char *name)
{
	struct nsmodel *x = find(netns);

	if (x && name)
		mark_stale(x, name, false);
}

static void on_monitor(const struct monitor_event *ev, void *data)
{
	struct monitor_event e = *ev;
	struct nsmodel *x;

	if (ev->kind == MONITOR_NETNS) {
		events_publish(EVENT_NETNS, ev->removed ? "del" : "new", ev->netns, "namespace",
			       netns_brief(ev->netns), NULL);
		return;
	}
	x = find(ev->netns);
	if (!x)
		return;
	m.stats.kernel_messages++;
	switch (ev->kind) {
	case MONITOR_LINK:
		on_link(x, &e.link, ev->removed);
		break;
	case MONITOR_ADDR:
		on_addr(x, &e.addr, ev->removed);
		break;
	case MONITOR_ROUTE:
		on_route(x, &e.route, ev->removed);
		break;
	case MONITOR_NEIGH:
		on_neigh(x, &ev->neigh, ev->removed);
		break;
	case MONITOR_QDISC:
		on_qdisc(x, &ev->qdisc, ev->removed);
		break;
	case MONITOR_OVERRUN:
		resync(x);
		break;
	default:
		break;
	}
}

/*
 * Followed namespaces cost a monitor socket each, and the kernel walks every
 * such socket for every rtnetlink notification on the machine: with a
 * thousand namespaces that made creating one 1.8 times dearer.  So the
 * sockets are opened only once somebody subscribes to events (the model
 * exists for them: lists read the kernel directly); until then netnsd only
 * notes which namespaces it will follow.
 */
static json_t *wanted; /* name ("" for the host) -> true */
static bool active;

static int follow(const char *netns)
{
	struct nsmodel *x;
	int r;

	if (find(netns))
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x || (netns && !(x->netns = strdup(netns)))) {
		free(x);
		return -ENOMEM;
	}
	x->names = json_object();
	x->neighs = json_object();
	x->stale_links = json_object();
	/* Subscribe first, then read: a change in between shows up twice, never not at all. */
	r = monitor_watch(netns);
	if (r == 0)
		r = dump(x, &x->links, &x->addrs, &x->routes);
	if (r < 0) {
		monitor_unwatch(netns);
		json_decref(x->names);
		json_decref(x->neighs);
		free(x->netns);
		free(x);
		return r;
	}
	x->next = m.models;
	m.models = x;
	m.stats.namespaces++;
	return 0;
}

static void model_free(struct nsmodel *x)
{
	json_decref(x->stale_links);
	json_decref(x->links);
	json_decref(x->addrs);
	json_decref(x->routes);
	json_decref(x->neighs);
	json_decref(x->names);
	json_decref(x->qdiscs);
	free(x->netns);
	free(x);
}

int model_watch(const char *netns)
{
	if (!wanted)
		wanted = json_object();
	json_object_set_new(wanted, netns ? netns : "", json_true());
	return active ? follow(netns) : 0;
}

void model_activate(void)
{
	const char *k;
	json_t *v;

	if (active)
		return;
	active = true;
	json_object_foreach(wanted, k, v)
		if (follow(k[0] ? k : NULL) < 0)
			log_warning("Failed to follow %s%s; no events from it",
				    k[0] ? "namespace " : "the host", k);
}

void model_unwatch(const char *netns)
{
	struct nsmodel **pp, *x;

	json_object_del(wanted, netns ? netns : "");
	for (pp = &m.models; (x = *pp); pp = &x->next) {
		if (same(x->netns, netns)) {
			struct nsmodel **sp;

			for (sp = &m.stale; *sp; sp = &(*sp)->stale_next)
				if (*sp == x) {
					*sp = x->stale_next;
					break;
				}
			*pp = x->next;
			monitor_unwatch(netns);
			model_free(x);
			m.stats.namespaces--;
			return;
		}
	}
}

static void send_table(struct events_sub *s, struct nsmodel *x, json_t *table,
		       enum event_topic topic, const char *member)
{
	const char *k;
	json_t *v;

	json_object_foreach(table, k, v)
		events_send_to(s, topic, "new", x->netns, member, json_incref(v),
			       json_pack("{s:b}", "snapshot", 1));
}

void model_snapshot(struct events_sub *s)
{
	char **names = NULL;

	if (netns_list_names(&names) >= 0) {
		for (char **p = names; *p; p++) {
			struct netns_id id;

			if (netns_stat(*p, &id) == 0)
				events_send_to(s, EVENT_NETNS, "new", *p, "namespace",
					       netns_brief(*p), json_pack("{s:b}", "snapshot", 1));
		}
		netns_strv_free(names);
	}
	for (struct nsmodel *x = m.models; x; x = x->next) {
		send_table(s, x, x->links, EVENT_LINK, "link");
		send_table(s, x, x->addrs, EVENT_ADDR, "addr");
		send_table(s, x, x->routes, EVENT_ROUTE, "route");
		send_table(s, x, x->neighs, EVENT_NEIGH, "neigh");
	}
	/* Whatever the topics: the subscriber must know where the snapshot ends. */
	events_send_control(s, "snapshot_end");
}

void model_get_stats(struct model_stats *ret)
{
	*ret = m.stats;
}

int model_init(uv_loop_t *loop, int rcvbuf)
{
	int r = monitor_init(loop, rcvbuf, on_monitor, NULL);

	uv_check_init(loop, &m.check);
	uv_idle_init(loop, &m.idle);
	uv_unref((uv_handle_t *)&m.check);
	if (r < 0)
		return r;
	return model_watch(NULL);
}

void model_exit(void)
{
	if (m.check.loop && !uv_is_closing((uv_handle_t *)&m.check)) {
		uv_close((uv_handle_t *)&m.check, NULL);
		uv_close((uv_handle_t *)&m.idle, NULL);
	}
	m.armed = false;
	m.stale = NULL;
	json_decref(wanted);
	wanted = NULL;
	active = false;
	while (m.models) {
		struct nsmodel *x = m.models;

		m.models = x->next;
		model_free(x);
	}
	monitor_exit();
	memset(&m.stats, 0, sizeof(m.stats));
}
