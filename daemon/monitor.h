/*
 * monitor.h: watching the kernel.  One rtnetlink multicast socket per
 * watched namespace (links, addresses, routes, neighbours, both families,
 * root qdiscs)
 * and inotify on /run/netns for namespaces appearing and vanishing, whoever
 * made them.  Messages are parsed into the nl structures and handed to one
 * callback.  No JSON here.
 *
 * Why a socket per namespace and not one NETLINK_LISTEN_ALL_NSID socket: the
 * latter only reports namespaces that have an nsid in the listener's
 * namespace, so netnsd would have to assign nsids to every namespace (a
 * visible change to the system) and map nsids back to names; a socket per
 * namespace needs neither, and a receive overrun (ENOBUFS) then names the
 * one namespace whose state must be re-read.
 */
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "nl.h"
#include "tc.h"

enum monitor_kind {
	MONITOR_LINK,
	MONITOR_ADDR,
	MONITOR_ROUTE,
	MONITOR_NEIGH,
	MONITOR_NETNS,	 /* a namespace appeared (mounted) or vanished in /run/netns */
	MONITOR_OVERRUN, /* messages were lost (ENOBUFS): re-read this namespace */
	MONITOR_QDISC,	 /* a link's root qdisc (its impairment) changed */
};

struct monitor_neigh {
	int ifindex;
	int family;
	char address[NL_ADDRSTRLEN];
	char lladdr[NL_MACSTRLEN];
	unsigned state; /* NUD_* */
};

struct monitor_event {
	enum monitor_kind kind;
	bool removed;	   /* RTM_DEL*, or a namespace that vanished */
	const char *netns; /* the watched namespace (NULL: the host); MONITOR_NETNS: its name */
	union {
		struct nl_link_info link;
		struct nl_addr_info addr;   /* dev is "" */
		struct nl_route_info route; /* dev is "" */
		struct monitor_neigh neigh;
		struct tc_root qdisc; /* removed: the link is back to the kernel's default */
	};
};

typedef void (*monitor_fn)(const struct monitor_event *ev, void *data);

/*
 * Start watching /run/netns (namespaces are followed with monitor_watch(),
 * the host with monitor_watch(NULL)).  rcvbuf is the receive buffer of
 * each rtnetlink socket (0: the kernel default).
 */
int monitor_init(uv_loop_t *loop, int rcvbuf, monitor_fn fn, void *data);
void monitor_exit(void);

/* Watch a namespace's rtnetlink groups (idempotent).  Returns 0 or -errno. */
int monitor_watch(const char *netns);
void monitor_unwatch(const char *netns);
/* Hand on everything a namespace's socket holds now, before reading the kernel directly. */
void monitor_drain(const char *netns);
