/*
 * monitor.c: rtnetlink and /run/netns watchers (see monitor.h).
 */
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "monitor.h"
#include "netns.h"
#include "util.h"

#define RECV_BUF	(64u << 10)
#define PENDING_POLL_MS 20
#define PENDING_MAX_MS	2000

struct watch {
	char *netns; /* NULL: the host */
	int fd;
	uv_poll_t poll;
	struct watch *next;
};

/* A name that appeared in /run/netns but has no namespace mounted yet. */
struct pending {
	char name[NETNS_NAME_MAX + 1];
	uint64_t since;
	struct pending *next;
};

static struct {
	uv_loop_t *loop;
	int rcvbuf;
	monitor_fn fn;
	void *data;
	struct watch *watches;
	uv_fs_event_t dir_event;
	uv_timer_t pending_timer;
	struct pending *pending;
	char **known; /* names mounted, sorted */
	size_t nknown;
	char *buf;
} mon;

static bool same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static struct watch *find_watch(const char *netns)
{
	for (struct watch *w = mon.watches; w; w = w->next)
		if (same(w->netns, netns))
			return w;
	return NULL;
}

/* Messages. */

static void parse_neigh(const struct nlmsghdr *nlh, struct monitor_neigh *n)
{
	const struct ndmsg *nd = NLMSG_DATA(nlh);
	int len = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));
	struct rtattr *a;

	memset(n, 0, sizeof(*n));
	n->ifindex = nd->ndm_ifindex;
	n->family = nd->ndm_family;
	n->state = nd->ndm_state;
	for (a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_DST && (n->family == AF_INET || n->family == AF_INET6))
			nl_format_addr(n->family, RTA_DATA(a), n->address);
		else if (a->rta_type == NDA_LLADDR)
			nl_format_mac(RTA_DATA(a), RTA_PAYLOAD(a), n->lladdr);
	}
}

static void handle_msg(struct watch *w, const struct nlmsghdr *nlh)
{
	struct monitor_event ev = { .netns = w->netns };

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		/*
		 * AF_BRIDGE messages describe a bridge port, not the link: a
		 * DELLINK of that family is a port leaving its bridge.  The
		 * link's own message follows with AF_UNSPEC.
		 */
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) ||
		    ((struct ifinfomsg *)NLMSG_DATA(nlh))->ifi_family == AF_BRIDGE)
			return;
		ev.kind = MONITOR_LINK;
		if (nl_msg_link(nlh, &ev.link) < 0)
			return;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		ev.kind = MONITOR_ADDR;
		if (nl_msg_addr(nlh, &ev.addr) < 0)
			return;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		ev.kind = MONITOR_ROUTE;
		if (nl_msg_route(nlh, &ev.route) < 0)
			return;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
			return;
		ev.kind = MONITOR_NEIGH;
		parse_neigh(nlh, &ev.neigh);
		break;
	case RTM_NEWQDISC:
	case RTM_DELQDISC:
		ev.kind = MONITOR_QDISC;
		if (tc_msg_root(nlh, &ev.qdisc) < 0)
			return;
		break;
	default:
		return;
	}
	ev.removed = nlh->nlmsg_type == RTM_DELLINK || nlh->nlmsg_type == RTM_DELADDR ||
		     nlh->nlmsg_type == RTM_DELROUTE || nlh->nlmsg_type == RTM_DELNEIGH ||
		     nlh->nlmsg_type == RTM_DELQDISC;
	mon.fn(&ev, mon.data);
}

/* Read and hand on what the socket holds, at most max_reads reads. */
static void watch_read(struct watch *w, int max_reads)
{
	const char *netns = w->netns;

	for (int i = 0; i < max_reads; i++) {
		ssize_t n = recv(w->fd, mon.buf, RECV_BUF, MSG_DONTWAIT);
		struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == ENOBUFS) {
				struct monitor_event ev = { .kind = MONITOR_OVERRUN,
							    .netns = netns };

				/*
				 * What is still queued predates the re-read the
				 * callback does: drop it, or it would undo that.
				 */
				while (recv(w->fd, mon.buf, RECV_BUF, MSG_DONTWAIT) > 0)
					;
				log_warning("Lost rtnetlink messages of %s; re-reading its state",
					    netns ? netns : "the host");
				mon.fn(&ev, mon.data);
				return;
			}
			return;
		}
		if (n == 0)
			return;
		len = (int)n;
		for (nlh = (struct nlmsghdr *)mon.buf; NLMSG_OK(nlh, (unsigned)len);
		     nlh = NLMSG_NEXT(nlh, len))
			handle_msg(w, nlh);
		/* The callback may have unwatched this namespace. */
		if (find_watch(netns) != w)
			return;
	}
}

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct watch *w = container_of(p, struct watch, poll);

	/*
	 * An overrun shows as a socket error: libuv then stops the watcher.
	 * Start it again, and let the read report the overrun.
	 */
	if (status < 0)
		uv_poll_start(p, UV_READABLE, on_readable);
	/* Bounded: at most 64 reads (4 MiB) per wakeup, then the loop moves on. */
	watch_read(w, 64);
}

void monitor_drain(const char *netns)
{
	struct watch *w = find_watch(netns);

	if (w)
		watch_read(w, 1 << 16);
}

static int join_groups(int fd)
{
	static const unsigned groups[] = { RTNLGRP_LINK,	RTNLGRP_IPV4_IFADDR,
					   RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
					   RTNLGRP_IPV6_ROUTE,	RTNLGRP_NEIGH,
					   RTNLGRP_TC };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (size_t i = 0; i < ELEMENTSOF(groups); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0)
			return -errno;
	return 0;
}

int monitor_watch(const char *netns)
{
	struct watch *w;
	int fd, r;

	if (find_watch(netns))
		return 0;
	fd = netns_socket(netns, AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	if (mon.rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &mon.rcvbuf, sizeof(mon.rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &mon.rcvbuf, sizeof(mon.rcvbuf));
	r = join_groups(fd);
	w = calloc(1, sizeof(*w));
	if (r < 0 || !w || (netns && !(w->netns = strdup(netns)))) {
		close(fd);
		free(w);
		return r < 0 ? r : -ENOMEM;
	}
	w->fd = fd;
	uv_poll_init(mon.loop, &w->poll, fd);
	uv_poll_start(&w->poll, UV_READABLE, on_readable);
	w->next = mon.watches;
	mon.watches = w;
	return 0;
}

static void watch_closed(uv_handle_t *h)
{
	struct watch *w = container_of((uv_poll_t *)h, struct watch, poll);

	close(w->fd);
	free(w->netns);
	free(w);
}

void monitor_unwatch(const char *netns)
{
	struct watch **pp, *w;

	for (pp = &mon.watches; (w = *pp); pp = &w->next) {
		if (same(w->netns, netns)) {
			*pp = w->next;
			uv_close((uv_handle_t *)&w->poll, watch_closed);
			return;
		}
	}
}

/* /run/netns. */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool known(const char *name)
{
	return mon.nknown && bsearch(&name, mon.known, mon.nknown, sizeof(char *), cmp_str);
}

static void set_known(const char *name, bool on)
{
	if (on == known(name))
		return;
	if (on) {
		char **v = realloc(mon.known, (mon.nknown + 1) * sizeof(char *));
		char *copy = strdup(name);

		if (!v || !copy) {
			free(copy);
			if (v)
				mon.known = v;
			return;
		}
		mon.known = v;
		mon.known[mon.nknown++] = copy;
		qsort(mon.known, mon.nknown, sizeof(char *), cmp_str);
	} else {
		char **p = bsearch(&name, mon.known, mon.nknown, sizeof(char *), cmp_str);
		size_t i = (size_t)(p - mon.known);

		free(*p);
		memmove(p, p + 1, (mon.nknown - i - 1) * sizeof(char *));
		mon.nknown--;
	}
}

static void on_pending_tick(uv_timer_t *t);

/* Look at one name of the run dir; true when it is settled (no retry needed). */
static bool check_name(const char *name)
{
	struct netns_id id;
	int r = netns_stat(name, &id);
	struct monitor_event ev = { .kind = MONITOR_NETNS, .netns = name };

	if (r == 0 && !known(name)) {
		set_known(name, true);
		mon.fn(&ev, mon.data);
	} else if (r == -ENOENT && known(name)) {
		set_known(name, false);
		ev.removed = true;
		mon.fn(&ev, mon.data);
	}
	return r != -ENOTCONN;
}

static void add_pending(const char *name)
{
	struct pending *p;

	for (p = mon.pending; p; p = p->next)
		if (!strcmp(p->name, name))
			return;
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->since = now_usec();
	p->next = mon.pending;
	mon.pending = p;
	if (!uv_is_active((uv_handle_t *)&mon.pending_timer))
		uv_timer_start(&mon.pending_timer, on_pending_tick, PENDING_POLL_MS,
			       PENDING_POLL_MS);
}

static void on_pending_tick(uv_timer_t *t)
{
	struct pending **pp = &mon.pending, *p;
	uint64_t now = now_usec();

	while ((p = *pp)) {
		/* A placeholder nobody mounts is not a namespace; stop looking. */
		if (check_name(p->name) || now - p->since > PENDING_MAX_MS * 1000ull) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
	if (!mon.pending)
		uv_timer_stop(t);
}

static void on_dir_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	if (status < 0 || !filename || filename[0] == '.')
		return;
	if (!check_name(filename))
		add_pending(filename);
}

int monitor_init(uv_loop_t *loop, int rcvbuf, monitor_fn fn, void *data)
{
	char **names = NULL;
	int r;

	mon.loop = loop;
	mon.rcvbuf = rcvbuf;
	mon.fn = fn;
	mon.data = data;
	mon.buf = malloc(RECV_BUF);
	if (!mon.buf)
		return -ENOMEM;
	if (mkdir_p(NETNS_RUN_DIR, 0755) < 0)
		return -errno;
	uv_timer_init(loop, &mon.pending_timer);
	uv_fs_event_init(loop, &mon.dir_event);
	r = uv_fs_event_start(&mon.dir_event, on_dir_event, NETNS_RUN_DIR, 0);
	if (r < 0)
		return r;
	if (netns_list_names(&names) >= 0) {
		for (char **p = names; *p; p++) {
			struct netns_id id;

			if (netns_stat(*p, &id) == 0)
				set_known(*p, true);
		}
		netns_strv_free(names);
	}
	return 0;
}

void monitor_exit(void)
{
	while (mon.watches)
		monitor_unwatch(mon.watches->netns);
	if (mon.loop) {
		if (!uv_is_closing((uv_handle_t *)&mon.dir_event))
			uv_close((uv_handle_t *)&mon.dir_event, NULL);
		if (!uv_is_closing((uv_handle_t *)&mon.pending_timer))
			uv_close((uv_handle_t *)&mon.pending_timer, NULL);
	}
	while (mon.pending) {
		struct pending *p = mon.pending;

		mon.pending = p->next;
		free(p);
	}
	for (size_t i = 0; i < mon.nknown; i++)
		free(mon.known[i]);
	free(mon.known);
	mon.known = NULL;
	mon.nknown = 0;
	free(mon.buf);
	mon.buf = NULL;
	mon.loop = NULL;
}
