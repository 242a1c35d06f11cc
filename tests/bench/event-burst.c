/*
 * event-burst.c: the load of the events benchmark (tests/bench/bench_events.py).
 *
 * Makes a burst of link changes inside a namespace, as fast as rtnetlink
 * takes them (or at a given rate), and records when each one was sent, so
 * that a subscriber can tell how long the change took to reach it.  Change
 * number S sets the MTU of one veth end to BASE + S: the MTU is in every
 * RTM_NEWLINK the kernel sends, in netnsd's link events and in the lines of
 * `ip monitor link`, so every reader can match what it gets to S.
 *
 * Usage:
 *   event-burst reset NETNS IFPREFIX K
 *   event-burst run   NETNS IFPREFIX K COUNT BASE TIMES_FILE [--mode updown|mtu] [--rate R]
 *   event-burst canary NETNS IFPREFIX MTU
 *
 * The links are IFPREFIX0 .. IFPREFIX<K-1> in NETNS (the driver makes them:
 * one end of each veth pair; the other ends stay down, so no carrier ever
 * comes and every change makes exactly the kernel messages it implies).
 *
 * reset:  all K links down, MTU 1500 (ack'd, untimed).
 * run:    change S (0 <= S < COUNT) goes to link S % K in one RTM_SETLINK:
 *           mode mtu:    MTU = BASE + S                  (one RTM_NEWLINK)
 *           mode updown: MTU = BASE + S and flip IFF_UP  (two: the MTU change,
 *                        then the flags change, both showing the new MTU)
 *         The time is taken with CLOCK_MONOTONIC just before each send
 *         (the kernel emits its notification within that send).  Requests
 *         ask for no ack; errors still come back and are counted.  --rate R
 *         paces the changes at R per second (busy-waiting) instead of a
 *         burst.  TIMES_FILE gets one line per change: "S SEND_NS".
 * canary: set the MTU of link 0 (ack'd): readers use a canary outside the
 *         burst's range to tell that they are live.
 *
 * Prints one JSON line: count, elapsed_ns, errors.
 */
#define _GNU_SOURCE
#include <net/if.h> /* before the linux/ headers */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "event-burst: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct setlink {
	struct nlmsghdr h;
	struct ifinfomsg ifi;
	struct rtattr mtu_attr;
	uint32_t mtu;
};

static int enter_netns(const char *name)
{
	char path[256];
	int fd, s;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int sz = 1 << 20;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", path, strerror(errno));
	close(fd);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		die("socket: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind: %s", strerror(errno));
	return s;
}

static int *resolve(const char *prefix, int k)
{
	int *idx = calloc((size_t)k, sizeof(int));
	char name[IF_NAMESIZE + 8];

	if (!idx)
		die("out of memory");
	for (int i = 0; i < k; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		idx[i] = (int)if_nametoindex(name);
		if (!idx[i])
			die("no link %s: %s", name, strerror(errno));
	}
	return idx;
}

static void fill(struct setlink *m, unsigned seq, int ifindex, uint32_t mtu, unsigned flags,
		 unsigned change, int ack)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = sizeof(*m);
	m->h.nlmsg_type = RTM_NEWLINK;
	m->h.nlmsg_flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
	m->h.nlmsg_seq = seq;
	m->ifi.ifi_family = AF_UNSPEC;
	m->ifi.ifi_index = ifindex;
	m->ifi.ifi_flags = flags;
	m->ifi.ifi_change = change;
	m->mtu_attr.rta_type = IFLA_MTU;
	m->mtu_attr.rta_len = RTA_LENGTH(4);
	m->mtu = mtu;
}

static void send_msg(int s, struct setlink *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(s, m, sizeof(*m), 0, (struct sockaddr *)&sa, sizeof(sa)) != sizeof(*m))
		die("sendto: %s", strerror(errno));
}

/* Wait for the ack of one request; returns its error (0 or -errno). */
static int wait_ack(int s)
{
	char buf[8192];

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		int len;

		if (n < 0)
			die("recv: %s", strerror(errno));
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

/* Count the errors that came back for un-ack'd requests, without waiting. */
static int drain_errors(int s)
{
	char buf[65536];
	int errors = 0;

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;
		int len;

		if (n <= 0)
			return errors;
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error)
				errors++;
	}
}

int main(int argc, char **argv)
{
	struct setlink m;
	const char *mode = "updown";
	double rate = 0;
	char *pos[8];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (npos < 8)
			pos[npos++] = argv[i];
		else
			die("too many arguments");
	}
	if (npos == 4 && !strcmp(pos[0], "reset")) {
		int s = enter_netns(pos[1]), k = atoi(pos[3]), *idx = resolve(pos[2], k);

		for (int i = 0; i < k; i++) {
			fill(&m, (unsigned)i + 1, idx[i], 1500, 0, IFF_UP, 1);
			send_msg(s, &m);
			if (wait_ack(s))
				die("reset of link %d failed", i);
		}
		printf("{\"reset\":%d}\n", k);
		return 0;
	}
	if (npos == 4 && !strcmp(pos[0], "canary")) {
		int s = enter_netns(pos[1]), *idx = resolve(pos[2], 1), r;

		fill(&m, 1, idx[0], (uint32_t)atoi(pos[3]), 0, 0, 1);
		send_msg(s, &m);
		r = wait_ack(s);
		if (r)
			die("canary failed: %s", strerror(-r));
		printf("{\"canary\":%s}\n", pos[3]);
		return 0;
	}
	if (npos == 7 && !strcmp(pos[0], "run")) {
		int s = enter_netns(pos[1]), k = atoi(pos[3]), count = atoi(pos[4]);
		uint32_t base = (uint32_t)atoi(pos[5]);
		int *idx = resolve(pos[2], k), updown = !strcmp(mode, "updown");
		char *up = calloc((size_t)k, 1);
		uint64_t *sent = calloc((size_t)count, sizeof(uint64_t)), t0, interval, next;
		FILE *f;
		int errors;

		if (!up || !sent)
			die("out of memory");
		if (!updown && strcmp(mode, "mtu"))
			die("unknown mode '%s'", mode);
		if (base + (uint32_t)count > 65535)
			die("BASE + COUNT must stay a valid MTU (<= 65535)");
		interval = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
		t0 = next = now_ns();
		for (int i = 0; i < count; i++) {
			int l = i % k;

			if (interval) {
				while (now_ns() < next)
					;
				next += interval;
			}
			if (updown)
				up[l] = !up[l];
			fill(&m, (unsigned)i + 1, idx[l], base + (uint32_t)i, up[l] ? IFF_UP : 0,
			     updown ? IFF_UP : 0, 0);
			sent[i] = now_ns();
			send_msg(s, &m);
		}
		t0 = now_ns() - t0;
		errors = drain_errors(s);
		f = fopen(pos[6], "w");
		if (!f)
			die("open %s: %s", pos[6], strerror(errno));
		for (int i = 0; i < count; i++)
			fprintf(f, "%d %llu\n", i, (unsigned long long)sent[i]);
		if (fclose(f) != 0)
			die("write %s: %s", pos[6], strerror(errno));
		printf("{\"count\":%d,\"elapsed_ns\":%llu,\"errors\":%d}\n", count,
		       (unsigned long long)t0, errors);
		return 0;
	}
	die("usage: event-burst reset NETNS IFPREFIX K | canary NETNS IFPREFIX MTU | "
	    "run NETNS IFPREFIX K COUNT BASE TIMES_FILE [--mode updown|mtu] [--rate R]");
	return 2;
}
