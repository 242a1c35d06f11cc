/*
 * multihost.c: the coordinator of labs that span hosts (see multihost.h).
 *
 * An operation runs in phases, each a fan-out to all hosts that answers
 * when the last host did: VNIS (what each peer uses, apply and plan only),
 * then RUN (topology.plan/apply/destroy on every host: this netnsd through
 * the topology module, peers through peer_call()), then for a failed apply
 * UNDO (destroy, or re-apply of the previous part, on the hosts whose apply
 * succeeded).  Nothing here touches the kernel: every host's own topology
 * engine does, transactionally.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "links.h"
#include "log.h"
#include "multihost.h"
#include "nl.h"
#include "nlcache.h"
#include "peer.h"
#include "state.h"
#include "topology_doc.h"
#include "util.h"

enum op_kind { OP_PLAN, OP_APPLY, OP_DESTROY };
enum phase { PH_VNIS, PH_RUN, PH_UNDO };

struct op {
	enum op_kind kind;
	enum phase phase;
	char name[NETNS_NAME_MAX];
	json_t *doc;	  /* the whole document (NULL for destroy) */
	json_t *hosts;	  /* [HOST] ("" is this netnsd) */
	json_t *vnis;	  /* link key -> VNI */
	json_t *used;	  /* VNI (as text) -> true: in use on some host */
	json_t *prev;	  /* the record before this apply, or NULL */
	json_t *results;  /* HOST -> result */
	json_t *errors;	  /* HOST -> message */
	json_t *err_kind; /* HOST -> errno (positive) */
	unsigned pending;
	topology_done_fn done;
	void *userdata;
	struct topology_error e;
	/* The local part's answer, handed on from the next loop turn (see on_local_done). */
	uv_timer_t kick;
	json_t *local_result;
	char local_msg[768];
	int local_err;
	unsigned undo_retries; /* the local undo waits while the failed apply lets go */
	struct op *next;
};

struct hostcall {
	struct op *op;
	char host[NETNS_NAME_MAX];
};

static struct op *ops;

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int set_err(struct topology_error *e, int err, const char *path, const char *fmt, ...)
    _printf_(4, 5);
static int set_err(struct topology_error *e, int err, const char *path, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->err = err;
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err;
}

bool multihost_doc_spans(json_t *doc)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(doc, "nodes"), i, n)
		if (json_object_get(n, "host"))
			return true;
	return false;
}

bool multihost_known(const char *name)
{
	return name && state_get(MULTIHOST_COLL, name);
}

json_t *multihost_info(const char *name)
{
	json_t *rec = name ? state_get(MULTIHOST_COLL, name) : NULL;

	if (!rec)
		return NULL;
	return json_pack("{s:O,s:O}", "hosts", json_object_get(rec, "hosts"), "vnis",
			 json_object_get(rec, "vnis"));
}

static int cmp_vni(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

json_t *multihost_vnis_in_use(void)
{
	json_t *arr = json_array(), *d, *v;
	const char *key, *k2;
	long long *all = NULL, *n;
	struct nl_link_info *links = NULL;
	struct nl *nl;
	int n_links;
	size_t len = 0;

	json_object_foreach(state_collection(LINK_COLL), key, d)
		if (str(d, "kind") && !strcmp(str(d, "kind"), "vxlan") &&
		    json_is_integer(json_object_get(d, "id")))
			json_array_append(arr, json_object_get(d, "id"));
	json_object_foreach(state_collection(MULTIHOST_COLL), key, d)
		json_object_foreach(json_object_get(d, "vnis"), k2, v)
			json_array_append(arr, v);
	/* And vxlans others made in the host, whose sockets share the host's port space. */
	if (nlcache_get(NULL, &nl) == 0 && (n_links = nl_link_list(nl, &links)) > 0) {
		for (int i = 0; i < n_links; i++)
			if (!strcmp(links[i].kind, "vxlan"))
				json_array_append_new(arr, json_integer(links[i].vxlan_vni));
	}
	free(links);
	/* Sorted, each once. */
	all = calloc(json_array_size(arr) + 1, sizeof(*all));
	if (!all)
		return arr;
	json_array_foreach(arr, len, v)
		all[len] = json_integer_value(v);
	len = json_array_size(arr);
	qsort(all, len, sizeof(*all), cmp_vni);
	json_array_clear(arr);
	for (n = all; n < all + len; n++)
		if (n == all || n[-1] != *n)
			json_array_append_new(arr, json_integer(*n));
	free(all);
	return arr;
}

const char *multihost_peer_user(const char *peer)
{
	const char *key;
	size_t i;
	json_t *d, *h;

	json_object_foreach(state_collection(MULTIHOST_COLL), key, d)
		json_array_foreach(json_object_get(d, "hosts"), i, h)
			if (!strcmp(json_string_value(h), peer))
				return key;
	return NULL;
}

/* The host of a node ("" for this netnsd), or NULL for an unknown node. */
static const char *node_host(json_t *doc, const char *node)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(doc, "nodes"), i, n)
		if (str(n, "name") && !strcmp(str(n, "name"), node))
			return str(n, "host") ?: "";
	return NULL;
}

/* A cross-host link's identity, stable when other links come and go. */
static void link_key(json_t *link, char *buf, size_t len)
{
	json_t *a = json_array_get(json_object_get(link, "ends"), 0);
	json_t *b = json_array_get(json_object_get(link, "ends"), 1);

	snprintf(buf, len, "%s/%s|%s/%s", str(a, "node"), str(a, "name"), str(b, "node"),
		 str(b, "name"));
}

static bool has_host(json_t *hosts, const char *h)
{
	size_t i;
	json_t *v;

	json_array_foreach(hosts, i, v)
		if (!strcmp(json_string_value(v), h))
			return true;
	return false;
}

/*
 * Check the document's hosts: every "host" a peer with a socket, every peer
 * a cross-host link touches with an underlay, bridges on one host.  Fills
 * op->hosts ("" first).
 */
static int check_hosts(struct op *op, struct topology_error *e)
{
	char path[96];
	size_t i, k;
	json_t *n, *l, *b, *m;

	json_array_append_new(op->hosts, json_string(""));
	json_array_foreach(json_object_get(op->doc, "nodes"), i, n) {
		const char *h = str(n, "host");

		if (!h || has_host(op->hosts, h))
			continue;
		snprintf(path, sizeof(path), "nodes[%zu].host", i);
		if (!peer_doc(h))
			return set_err(e, -ENOENT, path, "No peer named '%s' (see peer.add)", h);
		json_array_append_new(op->hosts, json_string(h));
	}
	json_array_foreach(json_object_get(op->doc, "links"), i, l) {
		json_t *ends = json_object_get(l, "ends");
		const char *ha = node_host(op->doc, str(json_array_get(ends, 0), "node"));
		const char *hb = node_host(op->doc, str(json_array_get(ends, 1), "node"));

		if (!strcmp(ha, hb))
			continue;
		for (k = 0; k < 2; k++) {
			const char *h = k ? hb : ha;

			snprintf(path, sizeof(path), "links[%zu].ends[%zu].node", i, k);
			if (*h && !json_object_get(peer_doc(h), "underlay"))
				return set_err(e, -EINVAL, path,
					       "peer '%s' has no underlay addresses for a "
					       "cross-host link (peer.add underlay)",
					       h);
		}
	}
	json_array_foreach(json_object_get(op->doc, "bridges"), i, b) {
		const char *h = str(b, "node") ? node_host(op->doc, str(b, "node")) : "";

		json_array_foreach(json_object_get(b, "members"), k, m)
			if (strcmp(node_host(op->doc, str(m, "node")), h)) {
				snprintf(path, sizeof(path), "bridges[%zu].members[%zu].node", i,
					 k);
				set_err(e, -EOPNOTSUPP, path,
					"a bridge's members must sit on the bridge's host; "
					"join hosts with links");
				e->unsupported = true;
				return -EOPNOTSUPP;
			}
	}
	return 0;
}

/* A host's underlay address facing the other host, MTU, and device (this host only). */
static const char *underlay_addr(const char *h, const char *other)
{
	if (!*h)
		return str(json_object_get(peer_doc(other), "underlay"), "local");
	return str(json_object_get(peer_doc(h), "underlay"), "remote");
}

/*
 * The underlay MTU of host h's side of a link to host other: the peer
 * record's mtu; for this host without one, the MTU of the underlay device
 * the record names, as the kernel has it; else MULTIHOST_UNDERLAY_MTU.
 */
static long long underlay_mtu(const char *h, const char *other)
{
	json_t *u = json_object_get(peer_doc(*h ? h : other), "underlay");
	json_t *v = json_object_get(u, "mtu");
	struct nl_link_info info;
	struct nl *nl;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (!*h && str(u, "dev") && nlcache_get(NULL, &nl) == 0 &&
	    nl_link_get(nl, NL_DEV(str(u, "dev")), &info) == 0 && info.mtu)
		return info.mtu;
	return MULTIHOST_UNDERLAY_MTU;
}

/* The next free VNI from a base derived from the name (so coordinators rarely meet). */
static long long vni_alloc(struct op *op)
{
	unsigned long long h = 1469598103934665603ull;
	char text[24];

	for (const char *p = op->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (unsigned i = 0; i < 0xfffff0; i++) {
		long long v = 0x100 + (long long)((h + i) % 0xfffe00);

		snprintf(text, sizeof(text), "%lld", v);
		if (!json_object_get(op->used, text)) {
			json_object_set_new(op->used, text, json_true());
			return v;
		}
	}
	return -ENOSPC;
}

/* VNIs for every cross-host link: the previous record's where it had one, else fresh. */
static int alloc_vnis(struct op *op, struct topology_error *e)
{
	json_t *prev = json_object_get(op->prev, "vnis"), *l, *v;
	char key[300];
	size_t i;

	json_array_foreach(json_object_get(op->doc, "links"), i, l) {
		json_t *ends = json_object_get(l, "ends");

		if (!strcmp(node_host(op->doc, str(json_array_get(ends, 0), "node")),
			    node_host(op->doc, str(json_array_get(ends, 1), "node"))))
			continue;
		link_key(l, key, sizeof(key));
		v = json_object_get(prev, key);
		if (json_is_integer(v)) {
			json_object_set(op->vnis, key, v);
			continue;
		}
		long long vni = vni_alloc(op);

		if (vni < 0)
			return set_err(e, -ENOSPC, "links", "No VNI left");
		json_object_set_new(op->vnis, key, json_integer(vni));
	}
	return 0;
}

/*
 * One end (index k) of a cross-host link as a tunnel of its host's part.  Its
 * MAC address, unless the end gives one, follows from the VNI and the end, so
 * a vxlan made again (after a reboot of that host) keeps it and the other
 * side's neighbour entries stay right.
 */
static json_t *tunnel(json_t *end, size_t k, const char *h, const char *other, long long vni)
{
	json_t *t = json_copy(end);
	long long mh = underlay_mtu(h, other), mo = underlay_mtu(other, h);
	long long mtu = mh < mo ? mh : mo;
	const char *dev = !*h ? str(json_object_get(peer_doc(other), "underlay"), "dev") : NULL;

	json_object_set_new(t, "vni", json_integer(vni));
	json_object_set_new(t, "local", json_string(underlay_addr(h, other)));
	json_object_set_new(t, "remote", json_string(underlay_addr(other, h)));
	json_object_set_new(t, "port", json_integer(MULTIHOST_VXLAN_PORT));
	if (dev)
		json_object_set_new(t, "dev", json_string(dev));
	if (!json_object_get(t, "mtu"))
		json_object_set_new(t, "mtu", json_integer(mtu - MULTIHOST_VXLAN_OVERHEAD));
	if (!json_object_get(t, "mac")) {
		char mac[18];

		snprintf(mac, sizeof(mac), "02:4e:%02llx:%02llx:%02llx:%02zx", (vni >> 16) & 0xff,
			 (vni >> 8) & 0xff, vni & 0xff, k + 1);
		json_object_set_new(t, "mac", json_string(mac));
	}
	return t;
}

/* The part of doc (with VNIs vnis) that host h applies. */
static json_t *sub_document(json_t *doc, json_t *vnis, const char *name, const char *h)
{
	json_t *sub = json_pack("{s:s,s:[],s:[],s:[],s:[]}", "name", name, "nodes", "links",
				"bridges", "tunnels");
	json_t *n, *l, *b;
	char key[300];
	size_t i;

	if (!sub)
		return NULL;
	if (json_object_get(doc, "prefix"))
		json_object_set(sub, "prefix", json_object_get(doc, "prefix"));
	json_array_foreach(json_object_get(doc, "nodes"), i, n) {
		json_t *c;

		if (strcmp(str(n, "host") ?: "", h))
			continue;
		c = json_copy(n);
		json_object_del(c, "host");
		json_array_append_new(json_object_get(sub, "nodes"), c);
	}
	json_array_foreach(json_object_get(doc, "bridges"), i, b) {
		const char *bh = str(b, "node") ? node_host(doc, str(b, "node")) : "";

		if (!strcmp(bh, h))
			json_array_append(json_object_get(sub, "bridges"), b);
	}
	json_array_foreach(json_object_get(doc, "links"), i, l) {
		json_t *ends = json_object_get(l, "ends");
		json_t *a = json_array_get(ends, 0), *z = json_array_get(ends, 1);
		const char *ha = node_host(doc, str(a, "node"));
		const char *hz = node_host(doc, str(z, "node"));
		json_t *vni;

		if (!strcmp(ha, h) && !strcmp(hz, h)) {
			json_array_append(json_object_get(sub, "links"), l);
			continue;
		}
		if (strcmp(ha, h) && strcmp(hz, h))
			continue;
		link_key(l, key, sizeof(key));
		vni = json_object_get(vnis, key);
		if (!strcmp(ha, h))
			json_array_append_new(json_object_get(sub, "tunnels"),
					      tunnel(a, 0, h, hz, json_integer_value(vni)));
		else
			json_array_append_new(json_object_get(sub, "tunnels"),
					      tunnel(z, 1, h, ha, json_integer_value(vni)));
	}
	return sub;
}

static void on_op_closed(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct op, kick));
}

static void op_free(struct op *op)
{
	for (struct op **p = &ops; *p; p = &(*p)->next)
		if (*p == op) {
			*p = op->next;
			break;
		}
	json_decref(op->doc);
	json_decref(op->hosts);
	json_decref(op->vnis);
	json_decref(op->used);
	json_decref(op->prev);
	json_decref(op->results);
	json_decref(op->errors);
	json_decref(op->err_kind);
	json_decref(op->local_result);
	uv_close((uv_handle_t *)&op->kick, on_op_closed);
}

static void phase_done(struct op *op);

/* One host answered the current phase. */
static void host_done(struct op *op, const char *h, json_t *result, const char *errmsg, int err)
{
	if (op->phase == PH_VNIS && result) {
		size_t i;
		json_t *v;

		json_array_foreach(json_object_get(result, "vnis"), i, v) {
			char text[24];

			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
			json_object_set_new(op->used, text, json_true());
		}
	} else if (result && op->phase == PH_RUN) {
		json_object_set(op->results, h, result);
	}
	if (!result)
		log_debug("Topology '%s' on host '%s', phase %d: %s", op->name, h, (int)op->phase,
			  errmsg);
	if (!result && (op->phase != PH_UNDO || err != -ENOENT)) {
		json_object_set_new(op->errors, h, json_string(errmsg));
		json_object_set_new(op->err_kind, h, json_integer(err < 0 ? -err : EIO));
	}
	if (--op->pending == 0)
		phase_done(op);
}

/* A remote JSON-RPC error's kind as an errno. */
static int remote_errno(json_t *error)
{
	static const struct {
		const char *kind;
		int err;
	} map[] = {
		{ "not_found", ENOENT },  { "exists", EEXIST },		 { "busy", EBUSY },
		{ "invalid", EINVAL },	  { "permission", EPERM },	 { "limit", ENOSPC },
		{ "timeout", ETIMEDOUT }, { "unsupported", EOPNOTSUPP },
	};
	const char *kind = str(json_object_get(error, "data"), "kind");

	for (size_t i = 0; kind && i < ELEMENTSOF(map); i++)
		if (!strcmp(kind, map[i].kind))
			return -map[i].err;
	return -EIO;
}

static void on_peer_reply(void *userdata, json_t *result, json_t *error, int err)
{
	struct hostcall *hc = userdata;
	struct op *op = hc->op;
	char msg[600];

	if (error) {
		snprintf(msg, sizeof(msg), "%s", str(error, "message") ?: "error");
		err = remote_errno(error);
	} else if (!result) {
		/* The peer's transport errno is no statement about the lab: io, or timeout. */
		snprintf(msg, sizeof(msg), "peer unreachable: %s", strerror(-err));
		if (err != -ETIMEDOUT)
			err = -EIO;
	}
	host_done(op, hc->host, result, result ? NULL : msg, err);
	free(hc);
}

static void start_host(struct op *op, const char *h);

static void on_kick(uv_timer_t *t)
{
	struct op *op = container_of(t, struct op, kick);
	json_t *result;

	if (op->undo_retries && op->phase == PH_UNDO && !op->local_result && !op->local_err) {
		op->pending--; /* start_host() counts it again */
		return start_host(op, "");
	}
	result = TAKE_PTR(op->local_result);

	host_done(op, "", result, result ? NULL : op->local_msg, op->local_err);
	json_decref(result);
}

/*
 * The topology module calls back before it has let go of the topology (that
 * happens in a close callback), so what comes next (an undo of this very
 * topology) waits for a later loop iteration: 1 ms, because a 0 ms timer
 * started from a timer callback would still run in the same pass.
 */
static void on_local_done(void *userdata, json_t *result, const struct topology_error *e)
{
	struct op *op = userdata;

	op->local_result = result;
	op->local_err = result ? 0 : e->err;
	snprintf(op->local_msg, sizeof(op->local_msg), "%s", result ? "" : e->msg);
	uv_timer_start(&op->kick, on_kick, 1, 0);
}

/* Start method on peer h; a failure to start counts as its answer. */
static void start_peer(struct op *op, const char *h, const char *method, json_t *params,
		       unsigned timeout_ms)
{
	struct hostcall *hc = calloc(1, sizeof(*hc));
	const char *sock = peer_socket(h);
	int r;

	op->pending++;
	if (!hc || !sock) {
		free(hc);
		json_decref(params);
		return host_done(op, h, NULL, "peer unknown or out of memory", -ENOENT);
	}
	hc->op = op;
	snprintf(hc->host, sizeof(hc->host), "%s", h);
	r = peer_call(sock, method, params, timeout_ms, on_peer_reply, hc);
	if (r < 0) {
		char msg[128];

		free(hc);
		snprintf(msg, sizeof(msg), "peer unreachable: %s", strerror(-r));
		host_done(op, h, NULL, msg, -EIO);
	}
}

/* Run the op's method (or, undoing, destroy/re-apply) on host h. */
static void start_host(struct op *op, const char *h)
{
	struct topology_error e;
	json_t *sub = NULL;
	bool reapply = false;
	int r;

	if (op->phase == PH_VNIS) {
		if (!*h) {
			json_t *mine = json_pack("{s:o}", "vnis", multihost_vnis_in_use());

			op->pending++;
			host_done(op, h, mine, NULL, 0);
			json_decref(mine);
			return;
		}
		return start_peer(op, h, "peer.vnis", NULL, PEER_TIMEOUT_MS);
	}
	if (op->phase == PH_UNDO) {
		reapply = op->prev && has_host(json_object_get(op->prev, "hosts"), h);
		if (reapply)
			sub = sub_document(json_object_get(op->prev, "doc"),
					   json_object_get(op->prev, "vnis"), op->name, h);
	} else if (op->kind != OP_DESTROY) {
		sub = sub_document(op->doc, op->vnis, op->name, h);
	}
	if (*h) {
		const char *method = op->phase == PH_UNDO
					 ? (reapply ? "topology.apply" : "topology.destroy")
				     : op->kind == OP_PLAN  ? "topology.plan"
				     : op->kind == OP_APPLY ? "topology.apply"
							    : "topology.destroy";
		json_t *params = json_pack("{s:s}", "name", op->name);

		if (sub)
			json_object_set_new(params, "doc", sub);
		return start_peer(op, h, method, params, MULTIHOST_APPLY_TIMEOUT_MS);
	}
	op->pending++;
	if (op->kind == OP_PLAN) {
		json_t *plan = NULL;

		r = topology_plan(sub, op->name, &plan, &e);
		json_decref(sub);
		host_done(op, h, r < 0 ? NULL : plan, e.msg, r);
		json_decref(plan);
		return;
	}
	if (sub) {
		r = topology_apply(sub, op->name, on_local_done, op, &e);
		json_decref(sub);
	} else if (state_get(TOPOLOGY_COLL, op->name)) {
		r = topology_destroy(op->name, on_local_done, op, &e);
	} else {
		json_t *empty = json_object(); /* nothing left here: that is what destroy wants */

		host_done(op, h, empty, NULL, 0);
		json_decref(empty);
		return;
	}
	if (r == -EBUSY && op->phase == PH_UNDO && op->undo_retries++ < 500) {
		uv_timer_start(&op->kick, on_kick, 10, 0);
		return;
	}
	if (r < 0)
		host_done(op, h, NULL, e.msg, r);
}

static void run_phase(struct op *op, enum phase ph, json_t *hosts)
{
	size_t i;
	json_t *h;

	op->phase = ph;
	op->pending = 1; /* held until every host started */
	json_array_foreach(hosts, i, h)
		start_host(op, json_string_value(h));
	if (--op->pending == 0)
		phase_done(op);
}

/* The first error as the op's error. */
static void first_error(struct op *op)
{
	const char *h;
	json_t *m;

	json_object_foreach(op->errors, h, m) {
		set_err(&op->e, -(int)json_integer_value(json_object_get(op->err_kind, h)), NULL,
			"%s%s%s: %s", *h ? "host '" : "this host", h, *h ? "'" : "",
			json_string_value(m));
		if (op->e.err == -EINVAL)
			op->e.err = -EIO; /* a part's path is not the document's */
		return;
	}
}

/* The local result with every host's steps tagged and counts summed. */
static json_t *merged(struct op *op)
{
	json_t *res = json_deep_copy(json_object_get(op->results, "")) ?: json_object();
	json_t *steps = json_array(), *hosts = json_object(), *r, *s;
	static const char *const counts[] = { "create", "change", "delete" };
	const char *h;
	size_t i;

	json_object_foreach(op->results, h, r) {
		json_array_foreach(json_object_get(r, "steps"), i, s) {
			json_t *c = json_copy(s);

			json_object_set_new(c, "host", *h ? json_string(h) : json_null());
			json_array_append_new(steps, c);
		}
		if (!*h)
			continue;
		json_object_set(hosts, h, r);
		for (size_t k = 0; k < ELEMENTSOF(counts); k++) {
			json_int_t a = json_integer_value(json_object_get(res, counts[k]));
			json_int_t b = json_integer_value(json_object_get(r, counts[k]));

			json_object_set_new(res, counts[k], json_integer(a + b));
		}
		if (json_is_true(json_object_get(r, "changed")))
			json_object_set_new(res, "changed", json_true());
	}
	json_object_set_new(res, "name", json_string(op->name));
	json_object_set_new(res, "steps", steps);
	json_object_set_new(res, "hosts", hosts);
	return res;
}

static void finish(struct op *op, bool ok)
{
	if (ok)
		op->done(op->userdata, merged(op), NULL);
	else
		op->done(op->userdata, NULL, &op->e);
	op_free(op);
}

static void phase_done(struct op *op)
{
	int r;

	log_debug("Topology '%s' across hosts: phase %d done, %zu errors, %zu results", op->name,
		  (int)op->phase, json_object_size(op->errors), json_object_size(op->results));

	if (op->phase == PH_VNIS) {
		if (json_object_size(op->errors)) {
			first_error(op);
			return finish(op, false);
		}
		r = alloc_vnis(op, &op->e);
		if (r < 0)
			return finish(op, false);
		return run_phase(op, PH_RUN, op->hosts);
	}
	if (op->phase == PH_UNDO) {
		if (json_object_size(op->errors) > 1)
			log_warning("Rolling back topology '%s' left hosts unrestored", op->name);
		return finish(op, false);
	}
	if (op->kind == OP_PLAN) {
		if (json_object_size(op->errors))
			first_error(op);
		return finish(op, json_object_size(op->errors) == 0);
	}
	if (op->kind == OP_DESTROY) {
		if (json_object_size(op->errors)) {
			first_error(op);
			return finish(op, false); /* the record stays, so destroy can be repeated */
		}
		r = state_del(MULTIHOST_COLL, op->name);
		if (r < 0)
			log_error("Failed to forget topology '%s': %s", op->name, strerror(-r));
		return finish(op, true);
	}
	if (json_object_size(op->errors)) {
		json_t *undo = json_array();
		const char *h;
		json_t *v;

		first_error(op);
		json_object_foreach(op->results, h, v)
			json_array_append_new(undo, json_string(h));
		json_object_clear(op->errors);
		run_phase(op, PH_UNDO, undo);
		json_decref(undo);
		return;
	}
	r = state_put(
	    MULTIHOST_COLL, op->name,
	    json_pack("{s:O,s:O,s:O}", "doc", op->doc, "hosts", op->hosts, "vnis", op->vnis));
	if (r < 0) {
		set_err(&op->e, r, NULL, "Failed to record the topology: %s", strerror(-r));
		return finish(op, false);
	}
	finish(op, true);
}

static struct op *op_new(enum op_kind kind, const char *name, topology_done_fn done, void *userdata,
			 struct topology_error *e)
{
	struct op *op;

	for (op = ops; op; op = op->next)
		if (!strcmp(op->name, name)) {
			set_err(e, -EBUSY, "name",
				"Topology '%s' is being changed on its hosts; try again", name);
			return NULL;
		}
	op = calloc(1, sizeof(*op));
	if (!op) {
		set_err(e, -ENOMEM, NULL, "Out of memory");
		return NULL;
	}
	uv_timer_init(uv_default_loop(), &op->kick);
	op->kind = kind;
	snprintf(op->name, sizeof(op->name), "%s", name);
	op->hosts = json_array();
	op->vnis = json_object();
	op->used = json_object();
	op->results = json_object();
	op->errors = json_object();
	op->err_kind = json_object();
	op->done = done;
	op->userdata = userdata;
	op->prev = json_incref(state_get(MULTIHOST_COLL, name));
	op->next = ops;
	ops = op;
	return op;
}

static int start_doc(enum op_kind kind, json_t *doc, const char *name, topology_done_fn done,
		     void *userdata, struct topology_error *e)
{
	struct topology_doc_error de;
	struct op *op;
	json_t *h;
	size_t i;
	int r;

	r = topology_doc_check(doc, &de);
	if (r < 0) {
		set_err(e, r, de.path, "%s", de.msg);
		return r;
	}
	name = name ?: str(doc, "name");
	if (!name)
		return set_err(e, -EINVAL, "name", "missing: the topology's name (param or doc)");
	if (json_object_get(doc, "tunnels"))
		return set_err(e, -EINVAL, "tunnels",
			       "made by the coordinator: give links between nodes on two hosts");
	op = op_new(kind, name, done, userdata, e);
	if (!op)
		return e->err;
	op->doc = json_incref(doc);
	r = check_hosts(op, e);
	if (r < 0) {
		op_free(op);
		return r;
	}
	/* Hosts that held a part before and hold none now are emptied too. */
	json_array_foreach(json_object_get(op->prev, "hosts"), i, h)
		if (!has_host(op->hosts, json_string_value(h))) {
			if (!peer_doc(json_string_value(h)) && *json_string_value(h)) {
				r = set_err(e, -ENOENT, "name",
					    "Peer '%s' holding part of '%s' is gone",
					    json_string_value(h), name);
				op_free(op);
				return r;
			}
			json_array_append(op->hosts, h);
		}
	run_phase(op, PH_VNIS, op->hosts);
	return 0;
}

int multihost_plan(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		   struct topology_error *e)
{
	return start_doc(OP_PLAN, doc, name, done, userdata, e);
}

int multihost_apply(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		    struct topology_error *e)
{
	return start_doc(OP_APPLY, doc, name, done, userdata, e);
}

int multihost_destroy(const char *name, topology_done_fn done, void *userdata,
		      struct topology_error *e)
{
	json_t *rec = state_get(MULTIHOST_COLL, name);
	struct op *op;

	if (!rec)
		return set_err(e, -ENOENT, "name", "No topology named '%s' across hosts", name);
	op = op_new(OP_DESTROY, name, done, userdata, e);
	if (!op)
		return e->err;
	json_array_extend(op->hosts, json_object_get(rec, "hosts"));
	run_phase(op, PH_RUN, op->hosts);
	return 0;
}
