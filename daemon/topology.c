/*
 * topology.c: plan, apply, destroy and recover declarative labs (see
 * topology.h).
 *
 * An apply is a list of steps, deletions first (routes, addresses, links,
 * namespaces), then creations (namespaces, bridges, veths, addresses,
 * routes); a change is a deletion and a creation of the same key.  Steps run
 * from an idle handle a few milliseconds at a time, so other clients are
 * served between chunks.  Steps reuse the code paths of the single-object
 * methods: netns_create(), links_create(), nl_addr_add(), nl_route_add().
 */
#include <stdarg.h>
#include <string.h>
#include <uv.h>

#include "events.h"
#include "links.h"
#include "log.h"
#include "model.h"
#include "netns.h"
#include "nl.h"
#include "nlcache.h"
#include "proc.h"
#include "spec.h"
#include "state.h"
#include "topology.h"
#include "topology_doc.h"

/*
 * Kernel work per loop turn: CHUNK_SHARE times what the rest of the last
 * turn took (serving clients), between CHUNK_USEC and CHUNK_MAX_USEC.  Idle,
 * an apply runs in short chunks; under load it keeps eight ninths of the
 * loop, and a client still waits at most CHUNK_MAX_USEC more for an answer.
 */
#define CHUNK_USEC	  4000
#define CHUNK_MAX_USEC	  20000
#define CHUNK_SHARE	  8
#define EVENT_EVERY_USEC  200000 /* progress events at most this often */

static void set_err(struct topology_error *e, int err, const char *kind, const char *key,
		    const char *path, const char *fmt, ...) _printf_(6, 7);
static void set_err(struct topology_error *e, int err, const char *kind, const char *key,
		    const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->err = err;
	snprintf(e->kind, sizeof(e->kind), "%s", kind ?: "");
	snprintf(e->key, sizeof(e->key), "%s", key ?: "");
	snprintf(e->path, sizeof(e->path), "%s", path ?: "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool coll_is(const char *coll, const char *name)
{
	return !strcmp(coll, name);
}

/* The diff (pure). */

/* ST_UPDATE: a change made in place (a link's impairments), nothing else follows it. */
enum status { ST_SAME = 1, ST_CREATE, ST_CHANGE, ST_DELETE, ST_UPDATE };

static const char *const action_names[] = { "", "same", "create", "change", "delete", "change" };

/* Whether only members that can change in place differ. */
static bool in_place(const char *coll, json_t *fields)
{
	return coll_is(coll, LINK_COLL) && json_array_size(fields) == 1 &&
	       !strcmp(json_string_value(json_array_get(fields, 0)), "impair");
}

/* Sets of keys per collection: {coll: {key: N}}. */
static int st_get(json_t *st, const char *coll, const char *key)
{
	return (int)json_integer_value(json_object_get(json_object_get(st, coll), key));
}

static void st_set(json_t *st, const char *coll, const char *key, int v)
{
	json_t *c = json_object_get(st, coll);

	if (!c) {
		c = json_object();
		json_object_set_new(st, coll, c);
	}
	json_object_set_new(c, key, json_integer(v));
}

static bool gone(int s)
{
	return s == ST_CHANGE || s == ST_DELETE || s == ST_CREATE;
}

/* Members that are bookkeeping, not desire. */
static bool bookkeeping(const char *key)
{
	return !strcmp(key, "created") || !strcmp(key, "identity");
}

/* Whether a stored doc holds what a desired one asks for (without allocating). */
static bool same_desire(json_t *want, json_t *have)
{
	size_t n = 0;
	const char *key;
	json_t *v;

	json_object_foreach(want, key, v) {
		if (bookkeeping(key))
			continue;
		if (!json_equal(v, json_object_get(have, key)))
			return false;
		n++;
	}
	json_object_foreach(have, key, v)
		if (!bookkeeping(key) && n-- == 0)
			return false;
	return n == 0;
}

/* The members that differ between a desired doc and a stored one. */
static json_t *changed_fields(json_t *want, json_t *have)
{
	json_t *fields = json_array(), *v;
	const char *key;

	json_object_foreach(want, key, v)
		if (!bookkeeping(key) && !json_equal(v, json_object_get(have, key)))
			json_array_append_new(fields, json_string(key));
	json_object_foreach(have, key, v)
		if (!bookkeeping(key) && !json_object_get(want, key))
			json_array_append_new(fields, json_string(key));
	return fields;
}

static int link_key_status(json_t *st, const char *ns, const char *name)
{
	char k[300];

	if (!name)
		return 0;
	snprintf(k, sizeof(k), "%s/%s", ns ?: "", name);
	return st_get(st, LINK_COLL, k);
}

/* Whether a kept object must be made again because something it sits on is. */
static const char *depends_on_gone(const char *coll, json_t *doc, json_t *st, json_t *dirty_ns)
{
	const char *ns = str(doc, "netns");
	json_t *peer = json_object_get(doc, "peer");

	if (coll_is(coll, "netns"))
		return NULL;
	if (ns && gone(st_get(st, "netns", ns)))
		return "its namespace is made again";
	if (coll_is(coll, LINK_COLL)) {
		if (peer && str(peer, "netns") && gone(st_get(st, "netns", str(peer, "netns"))))
			return "the namespace of its peer is made again";
		if (peer && gone(link_key_status(st, str(peer, "netns"), str(peer, "name"))))
			return "its peer is made again";
		if (gone(link_key_status(st, ns, str(doc, "master"))))
			return "its master is made again";
	} else if (coll_is(coll, ADDR_COLL)) {
		if (gone(link_key_status(st, ns, str(doc, "dev"))))
			return "its device is made again";
	} else if (coll_is(coll, ROUTE_COLL)) {
		struct nl_addr via;
		size_t i;
		json_t *a;

		if (gone(link_key_status(st, ns, str(doc, "dev"))))
			return "its device is made again";
		if (!str(doc, "via") || nl_parse_addr(str(doc, "via"), &via) < 0)
			return NULL;
		json_array_foreach(json_object_get(dirty_ns, ns ?: ""), i, a) {
			struct nl_prefix p;

			if (nl_parse_cidr(json_string_value(a), &p) == 0 && p.family == via.family) {
				struct nl_prefix g = { .family = via.family, .prefixlen = p.prefixlen };

				memcpy(g.bytes, via.bytes, sizeof(g.bytes));
				nl_prefix_mask(&g);
				nl_prefix_mask(&p);
				if (!memcmp(g.bytes, p.bytes, sizeof(p.bytes)))
					return "the address its gateway is reached through is made again";
			}
		}
	}
	return NULL;
}

json_t *topology_diff(json_t *desired, json_t *current, const char *name, struct topology_error *e)
{
	json_t *st = json_object(), *reasons = json_object(), *steps = json_array(), *plan = NULL;
	json_t *dirty_ns = json_object(), *fields_of = json_object(), *dirty_addr = json_object();
	size_t counts[5] = { 0 };
	bool again = true;

	/* Desired against stored. */
	for (size_t c = 0; c < ELEMENTSOF(topology_colls); c++) {
		const char *coll = topology_colls[c], *key;
		json_t *have = json_object_get(current, coll), *doc;

		json_object_foreach(json_object_get(desired, coll), key, doc) {
			json_t *cur = json_object_get(have, key);
			const char *owner = str(cur, "topology");
			json_t *fields;

			if (!cur) {
				st_set(st, coll, key, ST_CREATE);
				continue;
			}
			if (!owner || strcmp(owner, name)) {
				set_err(e, -EEXIST, coll, key, NULL,
					owner ? "%s '%s' belongs to topology '%s'"
					      : "%s '%s' exists and belongs to no topology%s",
					coll, key, owner ?: "");
				goto out;
			}
			if (same_desire(doc, cur)) {
				st_set(st, coll, key, ST_SAME);
				continue;
			}
			fields = changed_fields(doc, cur);
			if (json_array_size(fields) == 0) {
				st_set(st, coll, key, ST_SAME);
				json_decref(fields);
			} else {
				st_set(st, coll, key, in_place(coll, fields) ? ST_UPDATE : ST_CHANGE);
				json_object_set_new(fields_of, key, fields);
			}
		}
		/* Ours, no longer desired. */
		json_object_foreach(have, key, doc) {
			const char *owner = str(doc, "topology");

			if (owner && !strcmp(owner, name) &&
			    !json_object_get(json_object_get(desired, coll), key))
				st_set(st, coll, key, ST_DELETE);
		}
	}
	/* Objects of others inside namespaces that go. */
	for (size_t c = 1; c < ELEMENTSOF(topology_colls); c++) {
		const char *coll = topology_colls[c], *key;
		json_t *doc;

		json_object_foreach(json_object_get(current, coll), key, doc) {
			const char *ns = str(doc, "netns"), *owner = str(doc, "topology");
			int s = ns ? st_get(st, "netns", ns) : 0;

			if ((s == ST_CHANGE || s == ST_DELETE) && (!owner || strcmp(owner, name))) {
				set_err(e, -EEXIST, coll, key, NULL,
					"namespace '%s' holds %s '%s', which topology '%s' does not "
					"own; remove it first",
					ns, coll, key, name);
				goto out;
			}
		}
	}
	/* What sits on something made again is made again, until nothing more is. */
	while (again) {
		again = false;
		for (size_t c = 1; c < ELEMENTSOF(topology_colls); c++) {
			const char *coll = topology_colls[c], *key;
			json_t *doc;

			json_object_foreach(json_object_get(desired, coll), key, doc) {
				const char *why;

				if (st_get(st, coll, key) != ST_SAME &&
				    st_get(st, coll, key) != ST_UPDATE)
					continue;
				why = depends_on_gone(coll, doc, st, dirty_ns);
				if (!why)
					continue;
				st_set(st, coll, key, ST_CHANGE);
				json_object_set_new(reasons, key, json_string(why));
				again = true;
			}
			/* Addresses that are made again or go, per namespace: routes through them follow. */
			if (coll_is(coll, ADDR_COLL)) {
				json_object_foreach(json_object_get(current, coll), key, doc) {
					int s = st_get(st, coll, key);
					const char *ns = str(doc, "netns") ?: "";
					json_t *list;

					if ((s != ST_CHANGE && s != ST_DELETE) ||
					    json_object_get(dirty_addr, key))
						continue;
					json_object_set_new(dirty_addr, key, json_true());
					list = json_object_get(dirty_ns, ns);
					if (!list) {
						list = json_array();
						json_object_set_new(dirty_ns, ns, list);
					}
					json_array_append(list, json_object_get(doc, "address"));
					again = true;
				}
			}
		}
	}
	/* Steps, collection by collection. */
	for (size_t c = 0; c < ELEMENTSOF(topology_colls); c++) {
		const char *coll = topology_colls[c], *key;
		json_t *have = json_object_get(current, coll), *doc;
		json_t *paths = json_object_get(desired, "_paths");

		json_object_foreach(json_object_get(desired, coll), key, doc) {
			int s = st_get(st, coll, key);
			json_t *step, *path;

			if (s == ST_SAME)
				continue;
			counts[s == ST_UPDATE ? ST_CHANGE : s]++;
			step = json_pack("{s:s,s:s,s:s,s:O}", "kind", coll, "key", key, "action",
					 action_names[s], "doc", doc);
			path = json_object_get(json_object_get(paths, coll), key);
			if (path)
				json_object_set(step, "path", path);
			if (s == ST_UPDATE)
				json_object_set_new(step, "in_place", json_true());
			if (s == ST_CHANGE || s == ST_UPDATE) {
				json_t *f = json_object_get(fields_of, key);

				json_object_set(step, "before", json_object_get(have, key));
				json_object_set_new(step, "fields", f ? json_incref(f) : json_array());
				if (json_object_get(reasons, key))
					json_object_set(step, "reason", json_object_get(reasons, key));
			}
			json_array_append_new(steps, step);
		}
		json_object_foreach(have, key, doc) {
			if (st_get(st, coll, key) != ST_DELETE)
				continue;
			counts[ST_DELETE]++;
			json_array_append_new(steps,
					      json_pack("{s:s,s:s,s:s,s:O}", "kind", coll, "key",
							key, "action", "delete", "before", doc));
		}
	}
	plan = json_pack("{s:O,s:I,s:I,s:I}", "steps", steps, "create",
			 (json_int_t)counts[ST_CREATE], "change", (json_int_t)counts[ST_CHANGE],
			 "delete", (json_int_t)counts[ST_DELETE]);
out:
	json_decref(st);
	json_decref(reasons);
	json_decref(steps);
	json_decref(dirty_ns);
	json_decref(dirty_addr);
	json_decref(fields_of);
	return plan;
}

/* Planning against the daemon's state and the kernel. */

static json_t *current_state(void)
{
	json_t *cur = json_object();

	for (size_t c = 0; c < ELEMENTSOF(topology_colls); c++)
		json_object_set(cur, topology_colls[c], state_collection(topology_colls[c]));
	return cur;
}

struct txn;
static struct txn *txns;
static bool claimed_by_other(const char *name, const char *coll, const char *key);

/* The service of the state that process info is, or NULL. */
static json_t *service_of(const struct proc_info *info)
{
	size_t n = info->netns ? strlen(info->netns) : 0;
	char key[600];

	if (!info->name || !n || strncmp(info->name, info->netns, n) || info->name[n] != '.')
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", info->netns, info->name + n + 1);
	return state_get(TOPOLOGY_SERVICE_COLL, key);
}

const char *topology_of_proc(const struct proc_info *info)
{
	return str(service_of(info), "topology");
}

struct count_ctx {
	const char *name; /* the topology, whose own services do not count */
	size_t n;
};

static int count_proc(const struct proc_info *info, void *userdata)
{
	struct count_ctx *c = userdata;
	const char *owner = topology_of_proc(info);

	if (!owner || strcmp(owner, c->name))
		c->n++;
	return 0;
}

/* The most namespaces netnsd may manage (--max-namespaces); set by the methods. */
static size_t max_namespaces = (size_t)-1;

void topology_set_max_namespaces(size_t n)
{
	max_namespaces = n;
}

/* What is in the way in the kernel, or busy elsewhere. */
static int check_kernel(const char *name, json_t *plan, struct topology_error *e)
{
	json_t *steps = json_object_get(plan, "steps"), *s, *made_ns = json_object();
	size_t i, new_ns = 0;
	int r = 0;

	json_array_foreach(steps, i, s) {
		const char *coll = str(s, "kind"), *key = str(s, "key"), *act = str(s, "action");
		const char *path = str(s, "path");
		json_t *doc = json_object_get(s, "doc");

		if (claimed_by_other(name, coll, key)) {
			set_err(e, -EBUSY, coll, key, path,
				"%s '%s' is being changed by another apply or destroy", coll, key);
			r = -EBUSY;
			break;
		}
		if (coll_is(coll, "netns") && strcmp(act, "create")) {
			struct count_ctx n = { .name = name };

			proc_foreach(key, count_proc, &n);
			if (n.n) {
				set_err(e, -EBUSY, coll, key, path,
					"namespace '%s' runs %zu processes netnsd supervises; "
					"delete them first (proc.delete)",
					key, n.n);
				r = -EBUSY;
				break;
			}
		}
		if (coll_is(coll, "netns") && strcmp(act, "delete"))
			json_object_set_new(made_ns, key, json_true());
		if (strcmp(act, "create"))
			continue;
		if (coll_is(coll, TOPOLOGY_SERVICE_COLL)) {
			struct proc_info info;

			if (proc_get(str(doc, "name"), &info) == 0) {
				set_err(e, -EEXIST, coll, key, path,
					"a process named '%s' exists that topology '%s' does not own",
					str(doc, "name"), name);
				r = -EEXIST;
				break;
			}
		} else if (coll_is(coll, "netns")) {
			struct netns_id id;

			new_ns++;
			if (netns_stat(key, &id) != -ENOENT) {
				set_err(e, -EEXIST, coll, key, path,
					"a namespace named '%s' exists (" NETNS_RUN_DIR
					"/%s) that topology '%s' does not own",
					key, key, name);
				r = -EEXIST;
				break;
			}
		} else if (coll_is(coll, LINK_COLL)) {
			const char *ns = str(doc, "netns"), *ifname = str(doc, "name");
			struct nl *nl;

			if (ns && json_object_get(made_ns, ns))
				continue;
			if (nlcache_get(ns, &nl) == 0 && nl_link_ifindex(nl, ifname) > 0) {
				set_err(e, -EEXIST, coll, key, path,
					"a link named '%s' exists in %s that topology '%s' does not "
					"own",
					ifname, ns ? ns : "the host", name);
				r = -EEXIST;
				break;
			}
		}
	}
	json_decref(made_ns);
	if (r == 0 && new_ns && json_object_size(state_collection("netns")) + new_ns > max_namespaces) {
		set_err(e, -ENOSPC, NULL, NULL, NULL,
			"Too many namespaces: the topology adds %zu and the limit is %zu", new_ns,
			max_namespaces);
		r = -ENOSPC;
	}
	return r;
}

/* Strip the docs from a plan for the caller. */
static json_t *plan_view(json_t *plan)
{
	json_t *out = json_deep_copy(plan), *s;
	size_t i;

	json_array_foreach(json_object_get(out, "steps"), i, s) {
		json_object_del(s, "doc");
		json_object_del(s, "before");
	}
	json_object_set_new(out, "changed",
			    json_integer((json_int_t)json_array_size(json_object_get(out, "steps"))));
	return out;
}

static int resolve_name(json_t *doc, const char *name, const char **ret, struct topology_error *e)
{
	const char *dn = str(doc, "name");

	if (name && dn && strcmp(name, dn)) {
		set_err(e, -EINVAL, NULL, NULL, "name",
			"the document calls itself '%s' but name is '%s'", dn, name);
		return -EINVAL;
	}
	*ret = name ?: dn;
	if (!*ret) {
		set_err(e, -EINVAL, NULL, NULL, "name",
			"missing: give the topology a name (in the document or as a parameter)");
		return -EINVAL;
	}
	return 0;
}

/*
 * The last document each topology committed and the state's seq right after:
 * while the state has not changed since, the diff of that document is empty
 * by construction, so a plan or apply of an unchanged lab skips the work.
 */
static json_t *unchanged; /* name -> {"seq", "doc"} */

static void remember(const char *name, json_t *doc)
{
	if (!unchanged)
		unchanged = json_object();
	if (!doc) {
		json_object_del(unchanged, name);
		return;
	}
	json_object_set_new(unchanged, name,
			    json_pack("{s:I,s:O}", "seq", (json_int_t)state_seq(), "doc", doc));
}

static bool known_unchanged(const char *name, json_t *doc)
{
	json_t *m = json_object_get(unchanged, name);

	return m && doc && (unsigned long long)json_integer_value(json_object_get(m, "seq")) ==
				   state_seq() &&
	       json_equal(json_object_get(m, "doc"), doc);
}

/* Check, compile and diff: the plan with docs (internal), or -errno. */
static int make_plan(json_t *doc, const char *name, json_t **ret_plan, struct topology_error *e)
{
	struct topology_doc_error de;
	json_t *objs = NULL, *paths = NULL, *cur, *plan;
	int r;

	if (known_unchanged(name, doc)) {
		*ret_plan = json_pack("{s:[],s:i,s:i,s:i}", "steps", "create", 0, "change", 0,
				      "delete", 0);
		return 0;
	}
	if (doc) {
		r = topology_doc_check(doc, &de);
		if (r == 0)
			r = topology_doc_compile(doc, name, &objs, &paths, &de);
		if (r < 0) {
			set_err(e, r, NULL, NULL, de.path, "%s", de.msg);
			e->unsupported = strstr(de.msg, "not supported") != NULL;
			return r;
		}
		json_object_set_new(objs, "_paths", paths);
	} else {
		objs = json_object();
	}
	cur = current_state();
	plan = topology_diff(objs, cur, name, e);
	json_decref(cur);
	json_decref(objs);
	if (!plan)
		return e->err;
	r = check_kernel(name, plan, e);
	if (r < 0) {
		json_decref(plan);
		return r;
	}
	*ret_plan = plan;
	return 0;
}

int topology_plan(json_t *doc, const char *name, json_t **ret_plan, struct topology_error *e)
{
	json_t *plan;
	int r;

	r = resolve_name(doc, name, &name, e);
	if (r < 0)
		return r;
	r = make_plan(doc, name, &plan, e);
	if (r < 0)
		return r;
	*ret_plan = plan_view(plan);
	json_object_set_new(*ret_plan, "name", json_string(name));
	json_decref(plan);
	return 0;
}

/* Kernel steps.  Each returns 0 or -errno with e filled. */

struct step {
	const char *coll; /* one of topology_colls */
	const char *key;  /* borrowed from the plan */
	const char *path;
	json_t *doc;	 /* borrowed: desired (create) or before-image (delete) */
	json_t *before;	 /* update: the before-image */
	bool create, done, skipped;
	bool update; /* a change in place: only the impairments */
	size_t order; /* in the plan */
};

enum phase { PH_PREPARE, PH_RUN, PH_COMMIT, PH_DONE };

struct txn {
	char *name;
	json_t *doc;  /* the document (NULL: destroy) */
	json_t *plan; /* with docs */
	struct step *steps;
	size_t n, pos;
	json_t *claims;	 /* "coll\tkey" */
	json_t *made;	 /* "coll\tkey" created in the kernel by this apply */
	json_t *removed; /* "coll\tkey" deleted (or gone with their namespace) */
	json_t *final;	 /* key -> the stored doc of a created namespace */
	json_t *before;	 /* coll -> key -> before-image */
	json_t *lingering; /* "ns/name" -> {netns, name}: veth ends the kernel deletes for us */
	json_t *planned;   /* link key -> its planned doc (creations and changes) */
	uint64_t linger_deadline;
	uv_idle_t idle;
	uint64_t chunk_end; /* usec: when the last chunk ended (0: none yet) */
	uv_timer_t timer; /* polls lingering ends */
	topology_done_fn done;
	void *userdata;
	struct topology_error err;
	bool failed;
	uint64_t last_event;
	struct txn *next;
};

static size_t n_active;

/* Processes of services a rolled back apply had started: stopped once proc is up. */
static json_t *recover_stop;
/* Topologies whose unfinished apply or destroy was rolled back at start: name -> true. */
static json_t *recovered;

void topology_exit(void)
{
	json_decref(TAKE_PTR(unchanged));
	json_decref(TAKE_PTR(recover_stop));
	json_decref(TAKE_PTR(recovered));
}

size_t topology_active(void)
{
	return n_active;
}

static bool claimed_by_other(const char *name, const char *coll, const char *key)
{
	for (struct txn *t = txns; t; t = t->next)
		if (strcmp(t->name, name) && st_get(t->claims, coll, key))
			return true;
	return false;
}

static bool mark_has(json_t *set, const char *coll, const char *key)
{
	return st_get(set, coll, key) != 0;
}

static void mark(json_t *set, const char *coll, const char *key)
{
	st_set(set, coll, key, 1);
}

static void fail_kernel(struct topology_error *e, int r, struct nl *nl, const struct step *s,
			const char *what)
{
	set_err(e, r, s->coll, s->key, s->path, "Failed to %s %s '%s': %s", what, s->coll, s->key,
		(nl ? nl_last_error(nl) : NULL) ?: strerror(-r));
}

static int ns_create(struct txn *t, const struct step *s)
{
	struct netns_spec_buf buf;
	struct netns_failure fail;
	struct netns_id id;
	char ts[32];
	json_t *final;
	int r;

	r = spec_netns_from_json(s->key, s->doc, &buf);
	if (r < 0) {
		set_err(&t->err, r, s->coll, s->key, s->path, "unreadable namespace spec");
		return r;
	}
	r = netns_create(&buf.spec, &id, &fail);
	if (r < 0) {
		set_err(&t->err, r, s->coll, s->key, s->path, "Failed to create namespace '%s': %s",
			s->key, strerror(-r));
		if (fail.part == NETNS_PART_SYSCTL && fail.index < buf.spec.n_sysctls)
			snprintf(t->err.path + strlen(t->err.path),
				 sizeof(t->err.path) - strlen(t->err.path), ".sysctls.%s",
				 buf.spec.sysctls[fail.index].key);
		spec_netns_done(&buf);
		return r;
	}
	final = spec_netns_to_json(&buf.spec, &id, netns_boot_id(),
				   format_rfc3339(realtime_usec(), ts));
	spec_netns_done(&buf);
	json_object_set(final, "topology", json_object_get(s->doc, "topology"));
	json_object_set_new(t->final, s->key, final);
	netns_pin(s->key);
	return 0;
}

static void ns_remove(const char *name)
{
	nlcache_forget(name);
	model_unwatch(name);
	netns_etc_remove(name);
	netns_remove(name);
	netns_unpin(name);
}

/* The stored doc of a link's other end: planned, before-image, or stored. */
static json_t *peer_doc(struct txn *t, json_t *doc, bool create, char **ret_key)
{
	json_t *peer = json_object_get(doc, "peer"), *p = NULL;
	char *k = NULL;

	*ret_key = NULL;
	if (!peer || spec_link_key(str(peer, "netns"), str(peer, "name"), &k) < 0)
		return NULL;
	if (create) {
		p = json_object_get(t->planned, k);
	} else {
		p = json_object_get(json_object_get(t->before, LINK_COLL), k);
	}
	if (!p)
		p = state_get(LINK_COLL, k);
	*ret_key = k;
	return p;
}

/* The document path a planned object came from, or NULL. */
static const char *step_path(struct txn *t, const char *coll, const char *key)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(t->plan, "steps"), i, s)
		if (coll_is(str(s, "kind"), coll) && !strcmp(str(s, "key"), key))
			return str(s, "path");
	return NULL;
}

static int link_create(struct txn *t, const struct step *s, json_t *doc, bool create)
{
	_cleanup_(freep) char *pk = NULL;
	struct link_desc d;
	const char *field, *msg;
	struct nl *nl, *failed_nl = NULL;
	json_t *pdoc;
	const char *failed_field;
	int r;

	if (mark_has(t->made, LINK_COLL, s->key))
		return 0; /* made with its peer */
	r = spec_link_from_json(doc, &d, &field, &msg);
	if (r < 0) {
		set_err(&t->err, r, s->coll, s->key, s->path, "%s: %s", field, msg);
		return r;
	}
	pdoc = peer_doc(t, doc, create, &pk);
	if (pdoc)
		spec_link_peer_from_json(pdoc, &d);
	r = nlcache_get(d.netns, &nl);
	if (r < 0) {
		fail_kernel(&t->err, r, NULL, s, "reach the namespace of");
		return r;
	}
	r = links_create(nl, &d, false, &failed_nl, &failed_field);
	if (r < 0) {
		struct step ps = *s;
		char ppath[256];

		/* What failed was the other end: name it and its place in the document. */
		if (failed_field && !strncmp(failed_field, "peer", 4) && pk) {
			ps.key = pk;
			ps.path = step_path(t, LINK_COLL, pk);
		}
		fail_kernel(&t->err, r, failed_nl, &ps,
			    failed_field && strstr(failed_field, "impair") ? "impair" : "create");
		if (failed_field && strstr(failed_field, "impair") && ps.path) {
			snprintf(ppath, sizeof(ppath), "%s.impair", ps.path);
			snprintf(t->err.path, sizeof(t->err.path), "%s", ppath);
		}
		return r;
	}
	mark(t->made, LINK_COLL, s->key);
	if (pk)
		mark(t->made, LINK_COLL, pk);
	return 0;
}

static bool ns_in(json_t *set, const char *ns)
{
	return ns && json_object_get(set, ns);
}

/*
 * Delete a link.  One whose namespace goes is left to the kernel; so is a veth
 * with one end in a namespace that goes, when wait is set: the kernel deletes
 * the other end with it, many at once (one RTM_DELLINK each costs an RCU grace
 * period), and the apply waits for it to be gone (t->lingering).
 */
static int link_delete(struct txn *t, json_t *doc, json_t *gone_ns, bool wait, bool *ret_skipped)
{
	const char *ns = str(doc, "netns");
	json_t *peer = json_object_get(doc, "peer");
	const char *pns = str(peer, "netns");
	struct nl *nl;
	int r;

	*ret_skipped = ns_in(gone_ns, ns) && (!peer || ns_in(gone_ns, pns));
	if (*ret_skipped)
		return 0;
	if (wait && peer && (ns_in(gone_ns, ns) || ns_in(gone_ns, pns))) {
		const char *lns = ns_in(gone_ns, ns) ? pns : ns;
		const char *lname = ns_in(gone_ns, ns) ? str(peer, "name") : str(doc, "name");
		char k[300];

		snprintf(k, sizeof(k), "%s/%s", lns ?: "", lname);
		json_object_set_new(t->lingering, k,
				    json_pack("{s:o,s:s}", "netns", lns ? json_string(lns) : json_null(),
					      "name", lname));
		*ret_skipped = true;
		return 0;
	}
	r = nlcache_get(ns, &nl);
	if (r == 0)
		r = nl_link_del(nl, NL_DEV(str(doc, "name")));
	return r == -ENODEV || r == -ENOENT ? 0 : r;
}

static int addr_op(json_t *doc, bool add)
{
	struct nl_prefix p;
	unsigned flags;
	struct nl *nl;
	int r;

	if (spec_addr_from_json(doc, &p, &flags) < 0)
		return -EINVAL;
	r = nlcache_get(str(doc, "netns"), &nl);
	if (r < 0)
		return r;
	return add ? nl_addr_add(nl, NL_DEV(str(doc, "dev")), &p, flags)
		   : nl_addr_del(nl, NL_DEV(str(doc, "dev")), &p);
}

static int route_op(json_t *doc, bool add)
{
	struct nl_route_spec rs;
	struct nl *nl;
	int r;

	if (spec_route_from_json(doc, &rs) < 0)
		return -EINVAL;
	r = nlcache_get(str(doc, "netns"), &nl);
	if (r < 0)
		return r;
	return add ? nl_route_add(nl, &rs) : nl_route_del(nl, &rs);
}

/* Make a link's impairments those of doc, in place. */
static int link_update(struct txn *t, const struct step *s, json_t *doc)
{
	const char *field, *msg;
	struct link_desc d;
	struct nl *nl = NULL;
	int r;

	r = spec_link_from_json(doc, &d, &field, &msg);
	if (r == 0)
		r = nlcache_get(d.netns, &nl);
	if (r == 0)
		r = links_impair_apply(nl, d.name, &d.impair);
	if (r < 0) {
		char path[256];

		fail_kernel(&t->err, r, nl, s, "impair");
		snprintf(path, sizeof(path), "%s.impair", s->path ?: "");
		snprintf(t->err.path, sizeof(t->err.path), "%s", path);
	}
	return r;
}

/* Services: processes started and stopped asynchronously; their steps wait. */

static void on_idle(uv_idle_t *h);

/* The step that waited for a process is over: r 0 (done) or -errno (t->err filled). */
static void step_finished(struct txn *t, int r)
{
	struct step *s = &t->steps[t->pos];

	if (r < 0) {
		t->failed = true;
	} else {
		s->done = true;
		if (s->create)
			mark(t->made, s->coll, s->key);
		t->pos++;
	}
	uv_idle_start(&t->idle, on_idle);
}

/* Start the process of a service doc; 0 or -errno with *ret_msg (or errno's words). */
static int service_spawn(json_t *doc, proc_spawn_cb cb, void *userdata, const char **ret_msg)
{
	_cleanup_(spec_proc_done) struct spec_proc_buf buf = { 0 };
	const char *field = NULL, *id;
	int r;

	*ret_msg = NULL;
	r = spec_proc_from_json(doc, NULL, 0, &buf, &field, ret_msg);
	return r < 0 ? r : proc_spawn(&buf.p, cb, userdata, &id);
}

static void on_service_spawned(const struct proc_info *info, int r, void *userdata)
{
	struct txn *t = userdata;
	struct step *s = &t->steps[t->pos];

	if (r < 0) {
		set_err(&t->err, r, s->coll, s->key, s->path,
			"Failed to start service '%s' (%s, at stage %s): %s", s->key,
			info->argv && info->argv[0] ? info->argv[0] : "?",
			info->error_stage ?: "start", strerror(-r));
		if (info->error_stage && !strcmp(info->error_stage, "exec"))
			snprintf(t->err.path + strlen(t->err.path),
				 sizeof(t->err.path) - strlen(t->err.path), ".argv");
		proc_forget(info->id);
	}
	step_finished(t, r < 0 ? r : 0);
}

static int service_create(struct txn *t, const struct step *s)
{
	const char *msg;
	int r = service_spawn(s->doc, on_service_spawned, t, &msg);

	if (r < 0) {
		set_err(&t->err, r, s->coll, s->key, s->path, "Failed to start service '%s': %s",
			s->key, msg ?: strerror(-r));
		return r;
	}
	return 1;
}

static void on_service_stopped(int r, void *userdata)
{
	struct txn *t = userdata;

	proc_forget(str(t->steps[t->pos].doc, "name"));
	step_finished(t, 0);
}

/* Stop a service for good and forget it (before its namespace goes). */
static int service_delete(struct txn *t, const struct step *s)
{
	int r = proc_stop(str(s->doc, "name"), 3000, on_service_stopped, t);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		set_err(&t->err, r, s->coll, s->key, s->path, "Failed to stop service '%s': %s",
			s->key, strerror(-r));
		return r;
	}
	return 1;
}

/* A rollback's stop of a service it had started; then its before-image, if any, again. */
struct undo_service {
	char *name;
	json_t *before;
};

static void on_undo_stopped(int r, void *userdata)
{
	struct undo_service *u = userdata;
	const char *msg;

	proc_forget(u->name);
	if (u->before && (r = service_spawn(u->before, NULL, NULL, &msg)) < 0)
		log_warning("Failed to start service '%s' again: %s", u->name,
			    msg ?: strerror(-r));
	json_decref(u->before);
	free(u->name);
	free(u);
}

static void service_undo(const char *name, json_t *before)
{
	struct undo_service *u = calloc(1, sizeof(*u));

	if (u)
		u->name = strdup(name);
	if (!u || !u->name || proc_stop(name, 3000, on_undo_stopped, u) < 0) {
		if (u)
			free(u->name);
		free(u);
		return;
	}
	u->before = json_incref(before);
}

static int step_create(struct txn *t, struct step *s)
{
	struct nl *nl = NULL;
	int r;

	if (s->update)
		return link_update(t, s, s->doc);
	if (coll_is(s->coll, TOPOLOGY_SERVICE_COLL))
		return service_create(t, s);
	if (coll_is(s->coll, "netns"))
		r = ns_create(t, s);
	else if (coll_is(s->coll, LINK_COLL))
		return link_create(t, s, s->doc, true);
	else {
		r = coll_is(s->coll, ADDR_COLL) ? addr_op(s->doc, true) : route_op(s->doc, true);
		if (r < 0) {
			nlcache_get(str(s->doc, "netns"), &nl);
			fail_kernel(&t->err, r, nl, s, "add");
		}
	}
	if (r == 0)
		mark(t->made, s->coll, s->key);
	return r;
}

/* Namespaces this apply deletes (their contents go with them). */
static json_t *gone_namespaces(struct txn *t, bool created)
{
	json_t *set = json_object();

	for (size_t i = 0; i < t->n; i++) {
		struct step *s = &t->steps[i];

		if (coll_is(s->coll, "netns") && s->create == created && (created ? s->done : true))
			json_object_set_new(set, s->key, json_true());
	}
	return set;
}

static int step_delete(struct txn *t, struct step *s, json_t *gone_ns)
{
	const char *ns = str(s->doc, "netns");
	int r = 0;

	mark(t->removed, s->coll, s->key);
	if (coll_is(s->coll, TOPOLOGY_SERVICE_COLL))
		return service_delete(t, s);
	if (coll_is(s->coll, "netns")) {
		ns_remove(s->key);
		return 0;
	}
	if (coll_is(s->coll, LINK_COLL)) {
		r = link_delete(t, s->doc, gone_ns, true, &s->skipped);
	} else if (ns && json_object_get(gone_ns, ns)) {
		s->skipped = true;
	} else if (coll_is(s->coll, ADDR_COLL)) {
		r = addr_op(s->doc, false);
		if (r == -EADDRNOTAVAIL || r == -ENODEV)
			r = 0;
	} else {
		r = route_op(s->doc, false);
		if (r == -ESRCH || r == -ENOENT || r == -ENODEV)
			r = 0;
	}
	if (r < 0) {
		struct nl *nl = NULL;

		nlcache_get(ns, &nl);
		fail_kernel(&t->err, r, nl, s, "delete");
	}
	return r;
}

/* Events. */

static void publish(struct txn *t, const char *action, json_t *extra)
{
	json_t *o = json_pack("{s:s}", "name", t->name);

	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	events_publish(EVENT_TOPOLOGY, action, NULL, "topology", o, NULL);
}

static bool lingering_gone(struct txn *t, bool force);

/* Undo, in reverse, what the executed steps did to the kernel. */
static void rollback(struct txn *t)
{
	json_t *made_ns = gone_namespaces(t, true);

	/* Ends still on their way out would be in the way of their before-images. */
	lingering_gone(t, true);
	for (size_t i = t->pos; i-- > 0;) {
		struct step *s = &t->steps[i];
		const char *ns;
		json_t *peer;

		if (!s->done || !s->create)
			continue;
		ns = str(s->doc, "netns");
		if (s->update) {
			link_update(t, s, s->before);
		} else if (coll_is(s->coll, TOPOLOGY_SERVICE_COLL)) {
			json_t *b = json_object_get(json_object_get(t->before, s->coll), s->key);

			service_undo(str(s->doc, "name"),
				     mark_has(t->removed, s->coll, s->key) ? b : NULL);
		} else if (coll_is(s->coll, "netns")) {
			ns_remove(s->key);
		} else if (coll_is(s->coll, LINK_COLL)) {
			bool skipped;

			peer = json_object_get(s->doc, "peer");
			if (mark_has(t->made, LINK_COLL, s->key))
				link_delete(t, s->doc, made_ns, false, &skipped);
			(void)peer;
		} else if (!ns || !json_object_get(made_ns, ns)) {
			if (coll_is(s->coll, ADDR_COLL))
				addr_op(s->doc, false);
			else
				route_op(s->doc, false);
		}
	}
	json_decref(made_ns);
	json_decref(t->made);
	t->made = json_object();
	/* What the deletions took, back in creation order (they ran in reverse of it). */
	for (size_t i = t->pos; i-- > 0;) {
		struct step *s = &t->steps[i];
		int r = 0;

		if (!s->done || s->create)
			continue;
		if (coll_is(s->coll, TOPOLOGY_SERVICE_COLL)) {
			struct proc_info info;
			const char *msg = NULL;

			/* Still there: the one this apply started, whose stop starts this again. */
			if (proc_get(str(s->doc, "name"), &info) == 0)
				continue;
			r = service_spawn(s->doc, NULL, NULL, &msg);
		} else if (coll_is(s->coll, "netns")) {
			struct step c = *s;

			r = ns_create(t, &c);
			if (r == 0) {
				/* Same spec, new identity: the stored doc must say so. */
				json_t *f = json_deep_copy(json_object_get(t->final, s->key));

				if (str(s->doc, "created"))
					json_object_set(f, "created", json_object_get(s->doc, "created"));
				state_put("netns", s->key, f);
				model_watch(s->key);
			}
		} else if (coll_is(s->coll, LINK_COLL)) {
			r = link_create(t, s, s->doc, false);
		} else if (coll_is(s->coll, ADDR_COLL)) {
			r = addr_op(s->doc, true);
		} else {
			r = route_op(s->doc, true);
		}
		if (r < 0 && r != -EEXIST)
			log_warning("Rolling back topology '%s': failed to restore %s '%s': %s",
				    t->name, s->coll, s->key, strerror(-r));
	}
}

static void txn_free(struct txn *t)
{
	struct txn **pp;

	for (pp = &txns; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = t->next;
		n_active--;
	}
	json_decref(t->doc);
	json_decref(t->plan);
	json_decref(t->claims);
	json_decref(t->made);
	json_decref(t->removed);
	json_decref(t->final);
	json_decref(t->before);
	json_decref(t->lingering);
	json_decref(t->planned);
	free(t->steps);
	free(t->name);
	free(t);
}

static void on_idle_closed(uv_handle_t *h)
{
	txn_free(container_of((uv_idle_t *)h, struct txn, idle));
}

static void on_timer_closed(uv_handle_t *h)
{
	struct txn *t = container_of((uv_timer_t *)h, struct txn, timer);

	uv_close((uv_handle_t *)&t->idle, on_idle_closed);
}

static void txn_close(struct txn *t)
{
	uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

#define LINGER_POLL_MS	  10
#define LINGER_WAIT_USEC  5000000 /* then the ends are deleted one by one */

/*
 * Whether the veth ends the kernel deletes with their namespaces are gone;
 * past the deadline (something keeps a namespace alive) they are deleted
 * here.  force: delete what is left now.
 */
static bool lingering_gone(struct txn *t, bool force)
{
	const char *k;
	json_t *v, *tmp;

	if (!t->linger_deadline)
		t->linger_deadline = now_usec() + LINGER_WAIT_USEC;
	if (now_usec() >= t->linger_deadline)
		force = true;
	/* One dump per namespace concerned, not one request per end. */
	json_t *seen = json_object();

	json_object_foreach_safe(t->lingering, tmp, k, v) {
		const char *ns = str(v, "netns") ?: "";
		json_t *names = json_object_get(seen, ns);
		struct nl *nl;
		int r = nlcache_get(str(v, "netns"), &nl);

		if (r == 0 && force) {
			nl_link_del(nl, NL_DEV(str(v, "name")));
			json_object_del(t->lingering, k);
			continue;
		}
		if (r == 0 && !names) {
			_cleanup_(freep) struct nl_link_info *links = NULL;
			int n = nl_link_list(nl, &links);

			/* A failed dump proves nothing: ask again next time. */
			names = n < 0 ? json_null() : json_object();
			json_object_set_new(seen, ns, names);
			for (int i = 0; i < n; i++)
				json_object_set_new(names, links[i].name, json_true());
		}
		if (r < 0 || (json_is_object(names) && !json_object_get(names, str(v, "name"))))
			json_object_del(t->lingering, k);
	}
	json_decref(seen);
	if (json_object_size(t->lingering) == 0)
		t->linger_deadline = 0;
	return json_object_size(t->lingering) == 0;
}

static void on_final_barrier(void *data, int err)
{
	struct txn *t = data;
	json_t *result = NULL;

	if (err < 0 && !t->failed) {
		t->failed = true;
		set_err(&t->err, err, NULL, NULL, NULL, "Failed to record the topology: %s",
			strerror(-err));
	}
	if (t->failed) {
		t->done(t->userdata, NULL, &t->err);
	} else {
		json_t *plan = plan_view(t->plan);

		result = json_pack("{s:s,s:O,s:O,s:O,s:O,s:O}", "name", t->name, "changed",
				   json_object_get(plan, "changed"), "create",
				   json_object_get(plan, "create"), "change",
				   json_object_get(plan, "change"), "delete",
				   json_object_get(plan, "delete"), "steps",
				   json_object_get(plan, "steps"));
		json_decref(plan);
		t->done(t->userdata, result, NULL);
	}
	txn_close(t);
}

static json_t *counts_of(json_t *plan)
{
	return json_pack("{s:O,s:O,s:O}", "create", json_object_get(plan, "create"), "change",
			 json_object_get(plan, "change"), "delete", json_object_get(plan, "delete"));
}

/* Record the new desired state, all at once, with the end of the transaction. */
static void commit(struct txn *t)
{
	char ts[32];
	json_t *counts = json_object();

	for (size_t i = 0; i < t->n; i++) {
		struct step *s = &t->steps[i];

		if (!s->create) {
			state_del(s->coll, s->key);
			if (coll_is(s->coll, "netns"))
				log_info("Deleted namespace '%s' of topology '%s'", s->key, t->name);
			continue;
		}
		if (coll_is(s->coll, "netns")) {
			state_put(s->coll, s->key, json_incref(json_object_get(t->final, s->key)));
			if (model_watch(s->key) < 0)
				log_warning("Failed to follow namespace '%s'; no events from it",
					    s->key);
		} else {
			state_put(s->coll, s->key, json_incref(s->doc));
		}
	}
	if (t->doc) {
		for (size_t c = 0; c < ELEMENTSOF(topology_colls); c++) {
			json_t *coll = state_collection(topology_colls[c]), *d;
			const char *key;
			json_int_t n = 0;

			json_object_foreach(coll, key, d)
				n += str(d, "topology") && !strcmp(str(d, "topology"), t->name);
			json_object_set_new(counts, topology_colls[c], json_integer(n));
		}
		state_put(TOPOLOGY_COLL, t->name,
			  json_pack("{s:s,s:s,s:O,s:o}", "name", t->name, "applied",
				    format_rfc3339(realtime_usec(), ts), "document", t->doc,
				    "counts", counts));
	} else {
		json_decref(counts);
		state_del(TOPOLOGY_COLL, t->name);
	}
	state_del(TXN_COLL, t->name);
	remember(t->name, t->doc);
}

static void finish(struct txn *t)
{
	json_t *plan_counts = counts_of(t->plan);

	uv_idle_stop(&t->idle);
	if (t->failed) {
		rollback(t);
		state_del(TXN_COLL, t->name);
		log_warning("Rolled back topology '%s': %s", t->name, t->err.msg);
		publish(t, "rolled_back",
			json_pack("{s:s,s:s,s:s,s:s}", "error", t->err.msg, "kind", t->err.kind,
				  "key", t->err.key, "path", t->err.path));
		json_decref(plan_counts);
	} else {
		commit(t);
		log_info("%s topology '%s'", t->doc ? "Applied" : "Destroyed", t->name);
		publish(t, "done", plan_counts);
	}
	state_barrier(on_final_barrier, t);
}

static void on_linger_timer(uv_timer_t *h)
{
	struct txn *t = container_of(h, struct txn, timer);

	uv_idle_start(&t->idle, on_idle);
}

static void on_idle(uv_idle_t *h)
{
	struct txn *t = container_of(h, struct txn, idle);
	uint64_t start = now_usec(), now = start, budget = CHUNK_USEC;
	json_t *gone_ns = NULL;

	if (t->chunk_end && start > t->chunk_end) {
		budget = CHUNK_SHARE * (start - t->chunk_end);
		budget = budget < CHUNK_USEC ? CHUNK_USEC : budget;
		budget = budget > CHUNK_MAX_USEC ? CHUNK_MAX_USEC : budget;
	}
	while (!t->failed && t->pos < t->n && now - start < budget) {
		struct step *s = &t->steps[t->pos];
		int r;

		/* Nothing is made before what the kernel deletes for us is gone. */
		if (s->create && json_object_size(t->lingering) && !lingering_gone(t, false)) {
			uv_idle_stop(&t->idle);
			t->chunk_end = 0;
			uv_timer_start(&t->timer, on_linger_timer, LINGER_POLL_MS, 0);
			json_decref(gone_ns);
			return;
		}

		if (!s->create && !gone_ns)
			gone_ns = gone_namespaces(t, false);
		r = s->create ? step_create(t, s) : step_delete(t, s, gone_ns);
		if (r < 0) {
			t->failed = true;
			break;
		}
		if (r > 0) { /* waits for a process: step_finished() goes on */
			uv_idle_stop(&t->idle);
			t->chunk_end = 0;
			json_decref(gone_ns);
			return;
		}
		s->done = true;
		t->pos++;
		now = now_usec();
	}
	json_decref(gone_ns);
	if (!t->failed && t->pos == t->n && json_object_size(t->lingering) &&
	    !lingering_gone(t, false)) {
		uv_idle_stop(&t->idle);
		t->chunk_end = 0;
		uv_timer_start(&t->timer, on_linger_timer, LINGER_POLL_MS, 0);
		return;
	}
	if (t->failed || t->pos == t->n)
		return finish(t);
	if (now - t->last_event >= EVENT_EVERY_USEC) {
		t->last_event = now;
		publish(t, "step", json_pack("{s:I,s:I}", "done", (json_int_t)t->pos, "total",
					      (json_int_t)t->n));
	}
	t->chunk_end = now_usec();
}

static void on_prepared(void *data, int err)
{
	struct txn *t = data;

	if (err < 0) {
		t->failed = true;
		set_err(&t->err, err, NULL, NULL, NULL,
			"Failed to record the transaction: %s", strerror(-err));
		state_del(TXN_COLL, t->name);
		return state_barrier(on_final_barrier, t);
	}
	uv_idle_start(&t->idle, on_idle);
}

/*
 * Deletions before creations: services (stopped for good), routes, addresses,
 * veths, bridges, namespaces.  Creations: namespaces, bridges, then
 * namespace by namespace its veths (both ends of a pair are made with the
 * first), addresses and routes, so the rtnetlink handle of a namespace is
 * used while it is in nlcache; services last, once everything they may bind
 * to exists.  A rollback undoes them in reverse.
 */
static int step_rank(const struct step *s)
{
	bool bridge = str(s->doc, "kind") && !strcmp(str(s->doc, "kind"), "bridge");

	if (coll_is(s->coll, TOPOLOGY_SERVICE_COLL))
		return s->create ? 19 : -1; /* started last, stopped first */
	if (s->create)
		return coll_is(s->coll, "netns") ? 16 : bridge ? 17 : 18;
	if (coll_is(s->coll, ROUTE_COLL))
		return 0;
	if (coll_is(s->coll, ADDR_COLL))
		return 1;
	if (coll_is(s->coll, LINK_COLL))
		return bridge ? 3 : 2;
	return 4;
}

static int coll_rank(const char *coll)
{
	return coll_is(coll, LINK_COLL) ? 0 : coll_is(coll, ADDR_COLL) ? 1 : 2;
}

static int cmp_steps(const void *a, const void *b)
{
	const struct step *x = a, *y = b;
	int d = step_rank(x) - step_rank(y);

	if (!d && step_rank(x) == 18) {
		d = strcmp(str(x->doc, "netns") ?: "", str(y->doc, "netns") ?: "");
		if (!d)
			d = coll_rank(x->coll) - coll_rank(y->coll);
	}
	/* Stable: the plan's order within a rank. */
	return d ? d : (x->order < y->order ? -1 : x->order > y->order);
}

static int build_steps(struct txn *t)
{
	json_t *steps = json_object_get(t->plan, "steps"), *s;
	size_t i, n = 0;

	t->steps = calloc(json_array_size(steps) * 2 + 1, sizeof(*t->steps));
	if (!t->steps)
		return -ENOMEM;
	json_array_foreach(steps, i, s) {
		const char *act = str(s, "action"), *coll = str(s, "kind");
		size_t c;

		for (c = 0; c < ELEMENTSOF(topology_colls) && strcmp(topology_colls[c], coll); c++)
			;
		if (c == ELEMENTSOF(topology_colls))
			return -EINVAL;
		coll = topology_colls[c];
		if (json_is_true(json_object_get(s, "in_place"))) {
			t->steps[n] = (struct step){ .coll = coll,
						     .key = str(s, "key"),
						     .path = str(s, "path"),
						     .doc = json_object_get(s, "doc"),
						     .before = json_object_get(s, "before"),
						     .create = true,
						     .update = true,
						     .order = n };
			n++;
			st_set(t->claims, coll, str(s, "key"), 1);
			continue;
		}
		if (strcmp(act, "create")) {
			json_t *b = json_object_get(s, "before");

			t->steps[n] = (struct step){ .coll = coll,
						     .key = str(s, "key"),
						     .path = str(s, "path"),
						     .doc = b,
						     .order = n };
			n++;
			if (!json_object_get(t->before, coll))
				json_object_set_new(t->before, coll, json_object());
			json_object_set(json_object_get(t->before, coll), str(s, "key"), b);
		}
		if (strcmp(act, "delete") && coll_is(coll, LINK_COLL))
			json_object_set(t->planned, str(s, "key"), json_object_get(s, "doc"));
		if (strcmp(act, "delete")) {
			t->steps[n] = (struct step){ .coll = coll,
						     .key = str(s, "key"),
						     .path = str(s, "path"),
						     .doc = json_object_get(s, "doc"),
						     .create = true,
						     .order = n };
			n++;
		}
		st_set(t->claims, coll, str(s, "key"), 1);
	}
	t->n = n;
	qsort(t->steps, n, sizeof(*t->steps), cmp_steps);
	return 0;
}

static json_t *txn_record(struct txn *t)
{
	json_t *created = json_array(), *deleted = json_array(), *updated = json_array();

	for (size_t i = 0; i < t->n; i++) {
		struct step *s = &t->steps[i];

		json_array_append_new(s->update ? updated : s->create ? created : deleted,
				      json_pack("{s:s,s:s,s:O}", "c", s->coll, "k", s->key, "doc",
						s->update ? s->before : s->doc));
	}
	return json_pack("{s:s,s:o,s:o,s:o,s:O}", "topology", t->name, "created", created,
			 "deleted", deleted, "updated", updated, "before",
			 state_get(TOPOLOGY_COLL, t->name) ?: json_null());
}

static int start(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		 struct topology_error *e)
{
	struct txn *t;
	json_t *plan;
	int r;

	for (t = txns; t; t = t->next)
		if (!strcmp(t->name, name)) {
			set_err(e, -EBUSY, NULL, NULL, "name",
				"topology '%s' is being applied or destroyed", name);
			return -EBUSY;
		}
	if (state_get(TXN_COLL, name)) {
		set_err(e, -EBUSY, NULL, NULL, "name", "topology '%s' has an unfinished transaction",
			name);
		return -EBUSY;
	}
	r = make_plan(doc, name, &plan, e);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t) {
		json_decref(plan);
		return -ENOMEM;
	}
	t->name = strdup(name);
	t->doc = json_incref(doc);
	t->plan = plan;
	t->claims = json_object();
	t->made = json_object();
	t->removed = json_object();
	t->final = json_object();
	t->before = json_object();
	t->done = done;
	t->userdata = userdata;
	t->next = txns;
	txns = t;
	n_active++;
	t->lingering = json_object();
	t->planned = json_object();
	uv_idle_init(uv_default_loop(), &t->idle);
	uv_timer_init(uv_default_loop(), &t->timer);
	r = t->name ? build_steps(t) : -ENOMEM;
	if (r < 0) {
		set_err(e, r, NULL, NULL, NULL, "Failed to plan: %s", strerror(-r));
		txn_close(t);
		return r;
	}
	publish(t, "started", json_pack("{s:o,s:I}", "steps", counts_of(plan), "total",
					(json_int_t)t->n));
	if (t->n == 0) {
		/* Nothing to do in the kernel; the record still gets its document. */
		commit(t);
		state_barrier(on_final_barrier, t);
		return 0;
	}
	r = state_put(TXN_COLL, name, txn_record(t));
	if (r < 0) {
		set_err(e, r, NULL, NULL, NULL, "Failed to record the transaction: %s",
			strerror(-r));
		txn_close(t);
		return r;
	}
	state_barrier(on_prepared, t);
	return 0;
}

int topology_apply(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		   struct topology_error *e)
{
	int r = resolve_name(doc, name, &name, e);

	return r < 0 ? r : start(doc, name, done, userdata, e);
}

int topology_destroy(const char *name, topology_done_fn done, void *userdata,
		     struct topology_error *e)
{
	bool running = false;

	for (struct txn *t = txns; t; t = t->next)
		running |= !strcmp(t->name, name);
	if (!running && !state_get(TOPOLOGY_COLL, name)) {
		set_err(e, -ENOENT, NULL, NULL, "name", "No topology named '%s'", name);
		return -ENOENT;
	}
	return start(NULL, name, done, userdata, e);
}

/* Queries. */

json_t *topology_get(const char *name)
{
	json_t *rec = state_get(TOPOLOGY_COLL, name), *objs, *o;

	if (!rec)
		return NULL;
	objs = json_object();
	for (size_t c = 0; c < ELEMENTSOF(topology_colls); c++) {
		json_t *keys = json_array(), *d;
		const char *key;

		json_object_foreach(state_collection(topology_colls[c]), key, d)
			if (str(d, "topology") && !strcmp(str(d, "topology"), name))
				json_array_append_new(keys, json_string(key));
		json_object_set_new(objs, topology_colls[c], keys);
	}
	o = json_pack("{s:s,s:O,s:O,s:o,s:b}", "name", name, "applied",
		      json_object_get(rec, "applied"), "document", json_object_get(rec, "document"),
		      "objects", objs, "busy", false);
	for (struct txn *t = txns; t; t = t->next)
		if (!strcmp(t->name, name))
			json_object_set_new(o, "busy", json_true());
	return o;
}

json_t *topology_list(void)
{
	json_t *arr = json_array(), *rec;
	const char *name;

	json_object_foreach(state_collection(TOPOLOGY_COLL), name, rec)
		json_array_append_new(arr, json_pack("{s:s,s:O,s:O}", "name", name, "applied",
						     json_object_get(rec, "applied"), "counts",
						     json_object_get(rec, "counts")));
	return arr;
}

json_t *topology_export(const char *name)
{
	json_t *rec = state_get(TOPOLOGY_COLL, name), *doc;

	if (!rec)
		return NULL;
	doc = json_deep_copy(json_object_get(rec, "document"));
	json_object_set_new(doc, "name", json_string(name));
	return doc;
}

/* Crash recovery. */

/* Processes of services a rolled back apply had started: stopped once proc is up. */

static void recover_created(const char *coll, const char *key, json_t *doc, json_t *before)
{
	struct nl *nl;

	if (coll_is(coll, TOPOLOGY_SERVICE_COLL)) {
		if (!recover_stop)
			recover_stop = json_array();
		json_array_append_new(recover_stop, json_string(str(doc, "name")));
		return;
	}

	if (coll_is(coll, "netns")) {
		struct netns_id id, rec;

		/* Still the namespace of the before-image (not replaced yet): leave it. */
		if (before && netns_stat(key, &id) == 0 && spec_netns_identity(before, &rec) &&
		    netns_id_equal(&id, &rec))
			return;
		if (netns_stat(key, &id) != -ENOENT) {
			netns_etc_remove(key);
			netns_remove(key);
		}
		return;
	}
	if (coll_is(coll, LINK_COLL)) {
		struct nl_link_info info;
		const char *ns = str(doc, "netns");

		if ((ns && netns_stat(ns, &(struct netns_id){ 0 }) < 0) || nlcache_get(ns, &nl) < 0)
			return;
		if (nl_link_get(nl, NL_DEV(str(doc, "name")), &info) == 0 &&
		    !strcmp(info.ifalias, LINK_MARK))
			nl_link_del(nl, NL_DEV(str(doc, "name")));
		return;
	}
	if (str(doc, "netns") && netns_stat(str(doc, "netns"), &(struct netns_id){ 0 }) < 0)
		return;
	if (coll_is(coll, ADDR_COLL))
		addr_op(doc, false);
	else
		route_op(doc, false);
}

int topology_recover(void)
{
	json_t *txc = json_deep_copy(state_collection(TXN_COLL)), *rec;
	const char *name;
	int n = 0;

	json_object_foreach(txc, name, rec) {
		json_t *created = json_object_get(rec, "created"), *deleted = json_object_get(rec, "deleted");
		json_t *before = json_object_get(rec, "before"), *e, *images = json_object();
		size_t i;

		json_array_foreach(deleted, i, e)
			if (!json_object_get(images, str(e, "c")))
				json_object_set_new(images, str(e, "c"), json_object());
		json_array_foreach(deleted, i, e)
			json_object_set(json_object_get(images, str(e, "c")), str(e, "k"),
					json_object_get(e, "doc"));

		log_warning("Rolling back the unfinished apply of topology '%s'", name);
		if (!recovered)
			recovered = json_object();
		json_object_set_new(recovered, name, json_true());
		/* Created objects, dependents first: out of the kernel and the state. */
		for (i = json_array_size(created); i-- > 0;) {
			e = json_array_get(created, i);
			recover_created(str(e, "c"), str(e, "k"), json_object_get(e, "doc"),
					json_object_get(json_object_get(images, str(e, "c")),
							str(e, "k")));
		}
		json_array_foreach(created, i, e) {
			json_t *cur = state_get(str(e, "c"), str(e, "k"));

			if (cur && str(cur, "topology") && !strcmp(str(cur, "topology"), name))
				state_del(str(e, "c"), str(e, "k"));
		}
		/* Before-images back: reconcile makes the kernel match them. */
		json_array_foreach(deleted, i, e) {
			json_t *cur = state_get(str(e, "c"), str(e, "k"));
			struct netns_id id, was;

			/*
			 * A namespace a rollback already made again (the crash hit
			 * the rollback) is recorded with its new identity: keep it.
			 */
			if (coll_is(str(e, "c"), "netns") && cur && str(cur, "topology") &&
			    !strcmp(str(cur, "topology"), name) && spec_netns_identity(cur, &was) &&
			    netns_stat(str(e, "k"), &id) == 0 && netns_id_equal(&id, &was))
				continue;
			state_put(str(e, "c"), str(e, "k"), json_incref(json_object_get(e, "doc")));
		}
		/* Links changed in place: their impairments back as they were. */
		json_array_foreach(json_object_get(rec, "updated"), i, e) {
			json_t *doc = json_object_get(e, "doc");
			const char *field, *msg;
			struct link_desc d;
			struct nl *nl;

			state_put(str(e, "c"), str(e, "k"), json_incref(doc));
			if (spec_link_from_json(doc, &d, &field, &msg) == 0 &&
			    (!d.netns || netns_stat(d.netns, &(struct netns_id){ 0 }) == 0) &&
			    nlcache_get(d.netns, &nl) == 0)
				links_impair_apply(nl, d.name, &d.impair);
		}
		if (json_is_object(before))
			state_put(TOPOLOGY_COLL, name, json_incref(before));
		else
			state_del(TOPOLOGY_COLL, name);
		state_del(TXN_COLL, name);
		json_decref(images);
		n++;
	}
	json_decref(txc);
	return n;
}

/* Restore. */

int topology_restore_services(void)
{
	json_t *coll = json_deep_copy(state_collection(TOPOLOGY_SERVICE_COLL)), *doc, *v;
	json_t *handled = json_object();
	const char *key, *msg;
	int started = 0, r;
	size_t i;

	/* What a rolled back apply had started goes; its before-image, if any, comes back. */
	json_array_foreach(recover_stop, i, v) {
		const char *name = json_string_value(v);
		json_t *before = NULL;
		struct proc_info info;

		json_object_foreach(coll, key, doc)
			if (str(doc, "name") && !strcmp(str(doc, "name"), name))
				before = doc;
		json_object_set_new(handled, name, json_true());
		if (proc_get(name, &info) == 0) {
			log_notice("Stopping service process '%s' of a rolled back apply", name);
			service_undo(name, before);
		} else if (before) {
			json_object_del(handled, name);
		}
	}
	json_decref(TAKE_PTR(recover_stop));
	json_object_foreach(coll, key, doc) {
		const char *name = str(doc, "name"), *netns = str(doc, "netns");
		struct proc_info info;

		if (json_object_get(handled, name))
			continue;
		if (proc_get(name, &info) == 0) {
			/*
			 * Adopted: still supervised by its shim.  Unless the apply or destroy
			 * that was rolled back had stopped it for good: the state wants it
			 * again, so once it has stopped it starts again.
			 */
			if (info.stopped &&
			    json_object_get(recovered, str(doc, "topology") ?: "")) {
				log_notice("Starting service process '%s' again: a rolled back "
					   "apply had stopped it",
					   name);
				service_undo(name, doc);
				started++;
			}
			continue;
		}
		if (netns && links_netns_access(netns) != 1) {
			log_error("Not starting service '%s' again: namespace '%s' is not restored",
				  key, netns);
			continue;
		}
		r = service_spawn(doc, NULL, NULL, &msg);
		if (r < 0) {
			log_error("Failed to start service '%s' of topology '%s' again: %s", key,
				  str(doc, "topology") ?: "?", msg ?: strerror(-r));
			continue;
		}
		started++;
	}
	json_decref(handled);
	json_decref(coll);
	json_decref(TAKE_PTR(recovered));
	return started;
}
