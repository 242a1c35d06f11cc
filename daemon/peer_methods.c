/*
 * peer_methods.c: peer.add, peer.delete, peer.get, peer.list and peer.vnis.
 * A peer is another netnsd reachable over a Unix socket path; its record is
 * desired state (the "peer" collection).  get and list ask every peer for
 * daemon.info (bounded by PEER_PROBE_TIMEOUT_MS, all at once) to report
 * whether it is reachable and what it runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "method_ctx.h"
#include "method_families.h"
#include "multihost.h"
#include "peer.h"
#include "state.h"

static void method_add(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *underlay = json_object_get(params, "underlay"), *doc;
	int r;

	if (state_get(PEER_COLL, name))
		return call_fail(c, RPC_KIND_EXISTS, EEXIST, "name", "Peer '%s' exists", name);
	doc = json_pack("{s:s,s:O}", "name", name, "socket", json_object_get(params, "socket"));
	if (doc && underlay)
		json_object_set(doc, "underlay", underlay);
	r = doc ? state_put(PEER_COLL, name, doc) : -ENOMEM;
	if (r < 0)
		return call_fail_errno(c, -r, NULL, "Failed to store peer '%s': %s", name,
				       strerror(-r));
	call_reply(c, json_deep_copy(doc));
}

static void method_delete(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	const char *topo;
	int r;

	if (!state_get(PEER_COLL, name))
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name", "No peer named '%s'", name);
	topo = multihost_peer_user(name);
	if (topo)
		return call_fail(c, RPC_KIND_BUSY, EBUSY, "name",
				 "Peer '%s' carries part of topology '%s': destroy it first", name,
				 topo);
	r = state_del(PEER_COLL, name);
	if (r < 0)
		return call_fail_errno(c, -r, NULL, "Failed to delete peer '%s': %s", name,
				       strerror(-r));
	call_reply(c, json_object());
}

/* A probe of all peers (or one) with daemon.info; replies when the last one answered. */
struct probe {
	struct call *call;
	json_t *peers; /* [{name, socket, underlay?, status}] */
	bool one;
	unsigned pending;
};

static void probe_reply(struct probe *p)
{
	if (p->one)
		call_reply(p->call, json_incref(json_array_get(p->peers, 0)));
	else
		call_reply(p->call, json_pack("{s:O}", "peers", p->peers));
	json_decref(p->peers);
	free(p);
}

struct probe_one {
	struct probe *probe;
	json_t *entry;
};

static void on_info(void *userdata, json_t *result, json_t *error, int err)
{
	struct probe_one *po = userdata;
	struct probe *p = po->probe;
	json_t *st;

	if (result) {
		st = json_pack("{s:b,s:O}", "reachable", 1, "version",
			       json_object_get(result, "version"));
		json_object_set(st, "instance",
				json_object_get(json_object_get(result, "events"), "instance"));
	} else if (error) {
		st = json_pack("{s:b,s:O}", "reachable", 1, "error",
			       json_object_get(error, "message"));
	} else {
		st = json_pack("{s:b,s:s}", "reachable", 0, "error", strerror(-err));
	}
	json_object_set_new(po->entry, "status", st);
	free(po);
	if (--p->pending == 0)
		probe_reply(p);
}

static void probe_start(struct call *c, json_t *docs, bool one)
{
	struct probe *p = calloc(1, sizeof(*p));
	size_t i;
	json_t *d;

	if (!p)
		return call_fail_errno(c, ENOMEM, NULL, "Out of memory");
	p->call = c;
	p->one = one;
	p->peers = json_array();
	p->pending = 1; /* held until every probe started */
	json_array_foreach(docs, i, d) {
		struct probe_one *po = malloc(sizeof(*po));
		json_t *e = json_deep_copy(d);
		int r;

		json_array_append_new(p->peers, e);
		if (!po) {
			json_object_set_new(
			    e, "status",
			    json_pack("{s:b,s:s}", "reachable", 0, "error", strerror(ENOMEM)));
			continue;
		}
		po->probe = p;
		po->entry = e;
		p->pending++;
		r = peer_call(json_string_value(json_object_get(d, "socket")), "daemon.info", NULL,
			      PEER_PROBE_TIMEOUT_MS, on_info, po);
		if (r < 0) {
			p->pending--;
			free(po);
			json_object_set_new(
			    e, "status",
			    json_pack("{s:b,s:s}", "reachable", 0, "error", strerror(-r)));
		}
	}
	if (--p->pending == 0)
		probe_reply(p);
}

static void method_get(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *doc = state_get(PEER_COLL, name), *docs;

	if (!doc)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name", "No peer named '%s'", name);
	docs = json_pack("[O]", doc);
	probe_start(c, docs, true);
	json_decref(docs);
}

static void method_list(struct call *c, json_t *params)
{
	json_t *docs = json_array(), *d;
	const char *key;

	(void)params;
	json_object_foreach(state_collection(PEER_COLL), key, d)
		json_array_append(docs, d);
	probe_start(c, docs, false);
	json_decref(docs);
}

static void method_vnis(struct call *c, json_t *params)
{
	(void)params;
	call_reply(c, json_pack("{s:o}", "vnis", multihost_vnis_in_use()));
}

static const struct param p_underlay[] = {
	{ .name = "local", .type = P_STRING, .required = true },
	{ .name = "remote", .type = P_STRING, .required = true },
	{ .name = "dev", .type = P_IFNAME },
	{ .name = "mtu", .type = P_INT, .min = 118, .max = 65535 },
	{ 0 },
};

static const struct param p_add[] = {
	{ .name = "name", .type = P_NETNS, .required = true },
	{ .name = "socket", .type = P_STRING, .required = true, .min = 1, .max = 107 },
	{ .name = "underlay",
	  .type = P_OBJECT,
	  .fields = p_underlay,
	  .check = peer_underlay_check },
	{ 0 },
};

static const struct param p_name[] = {
	{ .name = "name", .type = P_NETNS, .required = true },
	{ 0 },
};

static const struct param p_none[] = { { 0 } };

const struct method peer_methods[] = {
	{ .name = "peer.add",
	  .fn = method_add,
	  .params = p_add,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "peer.delete",
	  .fn = method_delete,
	  .params = p_name,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "peer.get", .fn = method_get, .params = p_name, .access = ACCESS_ADMIN },
	{ .name = "peer.list", .fn = method_list, .params = p_none, .access = ACCESS_ADMIN },
	{ .name = "peer.vnis", .fn = method_vnis, .params = p_none, .access = ACCESS_ADMIN },
};
const size_t peer_methods_count = ELEMENTSOF(peer_methods);
