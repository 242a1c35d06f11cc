/*
 * events.h: the event bus.  Sources publish events (topic, action,
 * namespace, object); the bus numbers them per subscriber, encodes each once,
 * and hands the frame to every matching subscriber through its callbacks.
 * The bus knows a subscriber only as callbacks and a pointer.
 *
 * Flow control: a subscriber whose receiver holds more than the backlog
 * limit of unread bytes loses events; their seq numbers are skipped, and
 * once it has read enough it gets an "overflow" event saying how many it
 * lost before anything else.  One that stays over the limit for the stall
 * time is cut off.  The daemon and the other subscribers never wait.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

enum event_topic {
	EVENT_NETNS = 1 << 0,
	EVENT_LINK = 1 << 1,
	EVENT_ADDR = 1 << 2,
	EVENT_ROUTE = 1 << 3,
	EVENT_NEIGH = 1 << 4,
	EVENT_PROC = 1 << 5,
	EVENT_DAEMON = 1 << 6,
	EVENT_ALL = (1 << 7) - 1,
};

/* "netns" -> EVENT_NETNS …; 0 for an unknown name. */
unsigned events_topic_from_string(const char *s);
const char *events_topic_name(enum event_topic t);

struct events_sub_ops {
	/* Queue one frame (ends in '\n'; ownership passes).  0, or -errno if refused. */
	int (*send)(void *owner, char *frame, size_t len);
	/* Bytes the receiver has not read yet. */
	size_t (*pending)(void *owner);
	/* Stuck for too long: drop the receiver (it will unsubscribe). */
	void (*cutoff)(void *owner);
};

struct events_sub;

struct events_config {
	size_t backlog_bytes; /* per subscriber, unread bytes before events are lost */
	unsigned stall_ms;    /* over the limit this long: cut off */
	size_t max_subscriptions;
};

void events_init(uv_loop_t *loop, const struct events_config *cfg);
void events_exit(void);
const struct events_config *events_config(void);

/*
 * Subscribe: topics is a mask of enum event_topic; netns names the one
 * namespace whose events pass, or with host_only only the host's pass (netns
 * must then be NULL); netns NULL and !host_only: every namespace.  Events of
 * topic daemon pass either filter.  Returns the subscription (its id is events_sub_id()), or NULL
 * with errno ENOSPC when max_subscriptions are in use.
 */
struct events_sub *events_subscribe(unsigned topics, const char *netns, bool host_only,
				    const struct events_sub_ops *ops, void *owner);
void events_unsubscribe(struct events_sub *s);
unsigned long long events_sub_id(const struct events_sub *s);

/*
 * Publish an event to every matching subscriber.  netns is NULL for the
 * host; key names the member that holds obj ("link", "addr" …); obj is
 * stolen and may be NULL; extra (stolen, may be NULL) adds members.
 */
void events_publish(enum event_topic topic, const char *action, const char *netns, const char *key,
		    json_t *obj, json_t *extra);

/* A daemon event to one subscriber whatever its filters (snapshot_end). */
void events_send_control(struct events_sub *s, const char *action);

/* The same, to one subscriber only (initial state snapshots). */
void events_send_to(struct events_sub *s, enum event_topic topic, const char *action,
		    const char *netns, const char *key, json_t *obj, json_t *extra);

struct events_stats {
	size_t subscriptions;
	unsigned long long published, delivered, lost, cutoffs;
};
void events_get_stats(struct events_stats *ret);
