/*
 * model.h: netnsd's live view of the kernel in the host and in every
 * managed namespace (links, addresses, routes), kept current by the monitor,
 * whoever changes the kernel: netnsd, a person typing `ip`, or the kernel
 * itself.  Every difference becomes an event on the bus, in the shape the
 * *.list methods return.  After the kernel dropped messages (ENOBUFS) the
 * namespace is read again, the differences are published, then a "resync"
 * event.
 */
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "events.h"

/* rcvbuf: receive buffer of each rtnetlink socket (0: kernel default). */
int model_init(uv_loop_t *loop, int rcvbuf);
void model_exit(void);

/*
 * Start or stop following a namespace (NULL: the host, always followed).
 * The kernel is watched only once model_activate() ran: the first event
 * subscriber calls it, and from then on every followed namespace is watched.
 */
int model_watch(const char *netns);
void model_unwatch(const char *netns);
void model_activate(void);

/*
 * Read link name of netns again before the next loop iteration ends: the
 * kernel does not announce every change (an ifalias set while a link is
 * down), so netnsd's own link operations say what they touched.
 */
void model_touch_link(const char *netns, const char *name);

/*
 * Send subscriber s the current state (topics and namespace as it filters)
 * as "new" events marked "snapshot": true, then a daemon "snapshot_end"
 * event.  Events published afterwards follow on without gap or duplicate.
 */
void model_snapshot(struct events_sub *s);

struct model_stats {
	size_t namespaces;
	unsigned long long kernel_messages, resyncs;
};
void model_get_stats(struct model_stats *ret);
