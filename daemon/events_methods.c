/*
 * events_methods.c: events.subscribe and events.unsubscribe.  A
 * subscription belongs to the connection that made it and ends with it.
 * Notifications reach the peer through the same output queue as replies, so
 * the bus's backlog limit is measured on that queue.
 */
#include <string.h>

#include "dispatch.h"
#include "events.h"
#include "method_ctx.h"
#include "method_families.h"
#include "model.h"

#define MAX_PER_PEER 16

struct subscription {
	struct dispatch_peer *peer;
	struct events_sub *sub;
	struct subscription *next;
};

static struct subscription *subs;

static int sub_send(void *owner, char *frame, size_t len)
{
	struct subscription *s = owner;

	if (s->peer->gone) {
		free(frame);
		return -EPIPE;
	}
	return s->peer->ops->send(s->peer, frame, len);
}

static int sub_send_parts(void *owner, const struct iovec *iov, unsigned n)
{
	struct subscription *s = owner;

	if (s->peer->gone)
		return -EPIPE;
	/* A peer without it gets the frame in one piece (events.c builds it). */
	if (!s->peer->ops->send_parts)
		return -EOPNOTSUPP;
	return s->peer->ops->send_parts(s->peer, iov, n);
}

static size_t sub_pending(void *owner)
{
	struct subscription *s = owner;

	return s->peer->gone ? 0 : s->peer->ops->pending(s->peer);
}

static void sub_cutoff(void *owner)
{
	struct subscription *s = owner;

	if (!s->peer->gone)
		s->peer->ops->hangup(s->peer);
}

static const struct events_sub_ops sub_ops = {
	.send = sub_send,
	.send_parts = sub_send_parts,
	.pending = sub_pending,
	.cutoff = sub_cutoff,
};

static void sub_free(struct subscription *s)
{
	events_unsubscribe(s->sub);
	dispatch_peer_unref(s->peer);
	free(s);
}

static void on_peer_gone(struct dispatch_peer *p)
{
	struct subscription **pp = &subs, *s;

	while ((s = *pp)) {
		if (s->peer == p) {
			*pp = s->next;
			sub_free(s);
		} else {
			pp = &s->next;
		}
	}
}

static const char *check_topics(json_t *v, const char **ret_sub)
{
	static char idx[24];
	size_t i;
	json_t *t;

	json_array_foreach(v, i, t) {
		snprintf(idx, sizeof(idx), "%zu", i);
		*ret_sub = idx;
		if (!json_is_string(t) || !events_topic_from_string(json_string_value(t)))
			return "unknown topic: expected netns, link, addr, route, neigh, proc or "
			       "daemon";
	}
	*ret_sub = NULL;
	return NULL;
}

/*
 * A resumed subscription ({since, instance}): the events after since are
 * replayed when this daemon instance published them and the ring still
 * holds them.  Otherwise a "gap" event says how many are lost (null: all,
 * from another instance), and with initial_state the snapshot follows
 * instead of a partial replay.
 */
static void method_subscribe(struct call *c, json_t *params)
{
	json_t *topics = json_object_get(params, "topics"), *t, *result;
	const char *netns = json_string_value(json_object_get(params, "netns"));
	json_t *since_j = json_object_get(params, "since");
	const char *instance = json_string_value(json_object_get(params, "instance"));
	bool snapshot = json_is_true(json_object_get(params, "initial_state"));
	unsigned long long since = (unsigned long long)json_integer_value(since_j), lost = 0;
	struct dispatch_peer *peer = call_peer(c);
	struct subscription *s;
	bool host = json_is_true(json_object_get(params, "host"));
	unsigned mask = 0, n = 0;
	bool same;
	size_t i;

	if (host && netns)
		return call_fail_params(c, "host",
					"Invalid params: host: the host alone, or one namespace "
					"(netns), not both");
	if (json_is_null(since_j))
		since_j = NULL;
	if (since_j && !instance)
		return call_fail_params(c, "instance",
					"Invalid params: instance: required with since (the "
					"instance of the netnsd the cursor came from)");
	if (instance && !since_j)
		return call_fail_params(c, "since",
					"Invalid params: since: required with instance");
	same = instance && !strcmp(instance, events_instance());
	if (same && since > events_gseq())
		return call_fail_params(c, "since",
					"Invalid params: since: %llu is beyond this netnsd's last "
					"event (%llu)",
					since, events_gseq());
	if (same)
		lost = events_ring_lost(since);

	json_array_foreach(topics, i, t)
		mask |= events_topic_from_string(json_string_value(t));
	for (s = subs; s; s = s->next)
		n += s->peer == peer;
	if (n >= MAX_PER_PEER)
		return call_fail(c, RPC_KIND_LIMIT, 0, NULL,
				 "A connection may hold at most %d subscriptions", MAX_PER_PEER);
	s = calloc(1, sizeof(*s));
	if (!s)
		return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
	s->peer = peer;
	s->sub = events_subscribe(mask, netns, host, &sub_ops, s);
	if (!s->sub) {
		free(s);
		return call_fail(c, RPC_KIND_LIMIT, errno, NULL,
				 "Too many subscriptions: the limit is %zu",
				 events_config()->max_subscriptions);
	}
	dispatch_peer_ref(peer);
	s->next = subs;
	subs = s;
	/* The first subscriber: start watching the kernel. */
	model_activate();
	/* The reply first; the replay or the snapshot and the live events after it. */
	result = json_pack("{s:I,s:s,s:I}", "subscription", (json_int_t)events_sub_id(s->sub),
			   "instance", events_instance(), "gseq", (json_int_t)events_gseq());
	if (since_j)
		json_object_set_new(result, "lost",
				    same ? json_integer((json_int_t)lost) : json_null());
	call_reply(c, result);
	if (since_j && same && (lost == 0 || !snapshot))
		return events_replay(s->sub, since); /* a gap event first if lost > 0 */
	if (since_j)
		events_send_gap(s->sub, same ? (long long)lost : -1, same ? "ring" : "restart");
	if (snapshot)
		model_snapshot(s->sub);
}

static void method_unsubscribe(struct call *c, json_t *params)
{
	json_int_t id = json_integer_value(json_object_get(params, "subscription"));
	struct subscription **pp, *s;

	for (pp = &subs; (s = *pp); pp = &s->next) {
		if (s->peer == call_peer(c) && (json_int_t)events_sub_id(s->sub) == id) {
			*pp = s->next;
			sub_free(s);
			return call_reply(c, json_pack("{s:I}", "subscription", id));
		}
	}
	call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "subscription",
		  "No subscription %lld on this connection", (long long)id);
}

void events_methods_init(void)
{
	dispatch_on_peer_gone(on_peer_gone);
}

void events_methods_exit(void)
{
	while (subs) {
		struct subscription *s = subs;

		subs = s->next;
		sub_free(s);
	}
}

static const struct param p_subscribe[] = {
	{ .name = "topics", .type = P_ARRAY, .max = 16, .check = check_topics },
	{ .name = "netns", .type = P_NETNS },
	{ .name = "host", .type = P_BOOL },
	{ .name = "initial_state", .type = P_BOOL },
	{ .name = "since", .type = P_INT, .min = 0, .max = 0x7fffffffffffffffLL },
	{ .name = "instance", .type = P_STRING, .min = 1, .max = 64 },
	{ 0 },
};

static const struct param p_unsubscribe[] = {
	{ .name = "subscription",
	  .type = P_INT,
	  .required = true,
	  .min = 1,
	  .max = 0x7fffffffffffffffLL },
	{ 0 },
};

const struct method events_methods[] = {
	{ .name = "events.subscribe",
	  .fn = method_subscribe,
	  .params = p_subscribe,
	  .access = ACCESS_ADMIN },
	{ .name = "events.unsubscribe",
	  .fn = method_unsubscribe,
	  .params = p_unsubscribe,
	  .access = ACCESS_ADMIN },
};
const size_t events_methods_count = ELEMENTSOF(events_methods);
