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
 *
 * Resumable events: every published event gets a daemon-global number
 * (gseq, from 1 in each daemon instance, which has a random id) and is kept
 * in a bounded ring.  A new subscriber may ask for the events after a gseq
 * it saw before: they are replayed from the ring, paced by how fast it
 * reads, before any live event; what the ring no longer holds is announced
 * with a "gap" event saying how many.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <uv.h>

enum event_topic {
	EVENT_NETNS = 1 << 0,
	EVENT_LINK = 1 << 1,
	EVENT_ADDR = 1 << 2,
	EVENT_ROUTE = 1 << 3,
	EVENT_NEIGH = 1 << 4,
	EVENT_PROC = 1 << 5,
	EVENT_DAEMON = 1 << 6,
	EVENT_TOPOLOGY = 1 << 7,
	EVENT_ALL = (1 << 8) - 1,
};

/* "netns" -> EVENT_NETNS …; 0 for an unknown name. */
unsigned events_topic_from_string(const char *s);
const char *events_topic_name(enum event_topic t);

struct events_sub_ops {
	/* Queue one frame (ends in '\n'; ownership passes).  0, or -errno if refused. */
	int (*send)(void *owner, char *frame, size_t len);
	/* Optional: the same, given in pieces that are copied; -EOPNOTSUPP: use send(). */
	int (*send_parts)(void *owner, const struct iovec *iov, unsigned n);
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
	size_t ring_events; /* published events kept for replay (0: none) */
	size_t ring_bytes;  /* and at most this many bytes of them */
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

/* This daemon instance's id (32 hex digits, random) and the last gseq published. */
const char *events_instance(void);
unsigned long long events_gseq(void);

/*
 * How many events published after gseq since the ring no longer holds
 * (0 when it holds all of them).  since must be <= events_gseq().
 */
unsigned long long events_ring_lost(unsigned long long since);

/*
 * Make s receive, before any live event, the events published after gseq
 * since that its filters pass, from the ring, in order; a "gap" event
 * stands for those the ring lost (before or during the replay).  Call it
 * right after events_subscribe(), before returning to the loop.  The replay
 * is paced: it waits while the receiver holds half the backlog limit.
 */
void events_replay(struct events_sub *s, unsigned long long since);

/*
 * A daemon "gap" event to s whatever its filters: lost events of the
 * daemon it will never get (lost < 0: an unknown number), and why.
 */
void events_send_gap(struct events_sub *s, long long lost, const char *reason);

/* A daemon event to one subscriber whatever its filters (snapshot_end). */
void events_send_control(struct events_sub *s, const char *action);

/* The same, to one subscriber only (initial state snapshots). */
void events_send_to(struct events_sub *s, enum event_topic topic, const char *action,
		    const char *netns, const char *key, json_t *obj, json_t *extra);

struct events_stats {
	size_t subscriptions;
	unsigned long long published, delivered, lost, cutoffs;
	unsigned long long replayed;	/* events sent from the ring */
	size_t ring_events, ring_bytes; /* held now */
};
void events_get_stats(struct events_stats *ret);
