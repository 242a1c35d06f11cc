/*
 * event-sub.c: one subscriber of the events benchmark (tests/bench/bench_events.py).
 *
 * Reads link changes made by event-burst and notes when each one arrived.
 * Change S shows as a link with MTU BASE + S; the first line that shows it
 * counts (a change may make more than one event).  A C reader, so that the
 * figures are netnsd's and not a slow client's.
 *
 * Usage:
 *   event-sub --socket PATH --netns NS --count N --base B --out FILE [--timeout-ms T]
 *             [--idle-ms I]
 *       subscribes on netnsd's socket to {"topics":["link"],"netns":NS} and
 *       reads the event notifications;
 *   event-sub --stdin --count N --base B --out FILE [--timeout-ms T]
 *       reads the output of `ip -n NS monitor link` on stdin.
 *
 * An MTU in [B-100, B) is a canary: the first one makes it print "ready" on
 * stdout (the driver makes canaries until every reader is ready, then the
 * burst).  It stops when all N changes were seen, on SIGTERM/SIGINT, at EOF,
 * when nothing came for I ms (default 2000) after the first change arrived
 * (the rest was lost), or after T ms (default 60000).  Each read() is timestamped once
 * (CLOCK_MONOTONIC, the clock event-burst uses) and that time is the arrival
 * time of every complete line in it.
 *
 * FILE gets "S ARRIVAL_NS" per change seen; stdout, after "ready", one JSON
 * line: matched, lines, dups, bytes, first_ns, last_ns, and for netnsd
 * events: seq_gaps (seq numbers skipped), overflows and lost (from overflow
 * events); cpu_ns and runq_wait_ns of this reader while it read (a starved
 * reader shows as a long wait).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_CAP (8u << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "event-sub: ");
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

/* (time on a CPU, time runnable but waiting for one) of this process, ns. */
static void sched_ns(unsigned long long *run, unsigned long long *wait)
{
	FILE *f = fopen("/proc/self/schedstat", "re");

	*run = *wait = 0;
	if (f) {
		if (fscanf(f, "%llu %llu", run, wait) != 2)
			*run = *wait = 0;
		fclose(f);
	}
}

static struct {
	int json; /* netnsd events, else ip monitor lines */
	long count, base;
	uint64_t *arrival;
	long matched, lines, dups, overflows, lost, seq_gaps;
	unsigned long long last_seq;
	uint64_t first_ns, last_ns, bytes;
	int ready, subscribed;
} st;

/* The number after key in line (which is NUL-terminated), or -1. */
static long long number_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

static void on_line(char *line, uint64_t t)
{
	long long mtu;

	st.lines++;
	if (st.json) {
		long long seq;

		if (!st.subscribed && strstr(line, "\"id\":1")) {
			if (strstr(line, "\"error\""))
				die("subscribe failed: %s", line);
			st.subscribed = 1;
			return;
		}
		seq = number_after(line, "\"seq\":");
		if (seq > 0) {
			if (st.last_seq && (unsigned long long)seq > st.last_seq + 1)
				st.seq_gaps += (long)((unsigned long long)seq - st.last_seq - 1);
			st.last_seq = (unsigned long long)seq;
		}
		if (strstr(line, "\"action\":\"overflow\"")) {
			long long lost = number_after(line, "\"lost\":");

			st.overflows++;
			if (lost > 0)
				st.lost += (long)lost;
			return;
		}
		mtu = number_after(line, "\"mtu\":");
	} else {
		mtu = number_after(line, " mtu ");
	}
	if (mtu < 0)
		return;
	if (mtu >= st.base - 100 && mtu < st.base) {
		if (!st.ready) {
			st.ready = 1;
			printf("ready\n");
			fflush(stdout);
		}
		return;
	}
	if (mtu < st.base || mtu >= st.base + st.count || !st.ready)
		return;
	if (st.arrival[mtu - st.base]) {
		st.dups++;
		return;
	}
	st.arrival[mtu - st.base] = t;
	st.matched++;
	if (!st.first_ns)
		st.first_ns = t;
	st.last_ns = t;
}

static int connect_netnsd(const char *path, const char *netns)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), sz = 8 << 20;
	char req[512];
	int n;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s: %s", path, strerror(errno));
	n = snprintf(req, sizeof(req),
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\","
		     "\"params\":{\"topics\":[\"link\"],\"netns\":\"%s\"}}\n",
		     netns);
	if (write(fd, req, (size_t)n) != n)
		die("write: %s", strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *netns = NULL, *out = NULL;
	long timeout_ms = 60000, idle_ms = 2000;
	uint64_t last_read = 0;
	int use_stdin = 0, fd;
	char *buf = malloc(BUF_CAP);
	size_t len = 0;
	uint64_t deadline;
	struct sigaction sa = { .sa_handler = on_signal };
	FILE *f;
	unsigned long long run0, wait0, run1, wait1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--stdin")) {
			use_stdin = 1;
			continue;
		}
		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--socket"))
			sock = v;
		else if (!strcmp(a, "--netns"))
			netns = v;
		else if (!strcmp(a, "--count"))
			st.count = atol(v);
		else if (!strcmp(a, "--base"))
			st.base = atol(v);
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = atol(v);
		else if (!strcmp(a, "--idle-ms"))
			idle_ms = atol(v);
		else
			die("unknown option %s", a);
	}
	if (!buf || st.count <= 0 || st.base < 100 || !out || (!use_stdin && (!sock || !netns)))
		die("usage: event-sub (--socket PATH --netns NS | --stdin) --count N --base B "
		    "--out FILE [--timeout-ms T]");
	st.arrival = calloc((size_t)st.count, sizeof(uint64_t));
	if (!st.arrival)
		die("out of memory");
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	st.json = !use_stdin;
	fd = use_stdin ? 0 : connect_netnsd(sock, netns);
	deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	sched_ns(&run0, &wait0);

	while (!stop && st.matched < st.count && now_ns() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		uint64_t t;
		char *start, *nl;

		if (poll(&p, 1, 100) <= 0) {
			if (st.matched && now_ns() - last_read > (uint64_t)idle_ms * 1000000ull)
				break;
			continue;
		}
		n = read(fd, buf + len, BUF_CAP - 1 - len);
		t = last_read = now_ns();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read: %s", strerror(errno));
		}
		if (n == 0)
			break;
		st.bytes += (uint64_t)n;
		len += (size_t)n;
		buf[len] = '\0';
		start = buf;
		while ((nl = memchr(start, '\n', len - (size_t)(start - buf)))) {
			*nl = '\0';
			on_line(start, t);
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len >= BUF_CAP - 1)
			die("a line longer than %u bytes", BUF_CAP);
	}

	sched_ns(&run1, &wait1);
	f = fopen(out, "w");
	if (!f)
		die("open %s: %s", out, strerror(errno));
	for (long i = 0; i < st.count; i++)
		if (st.arrival[i])
			fprintf(f, "%ld %llu\n", i, (unsigned long long)st.arrival[i]);
	if (fclose(f) != 0)
		die("write %s: %s", out, strerror(errno));
	printf("{\"matched\":%ld,\"lines\":%ld,\"dups\":%ld,\"bytes\":%llu,\"first_ns\":%llu,"
	       "\"last_ns\":%llu,\"seq_gaps\":%ld,\"overflows\":%ld,\"lost\":%ld,\"ready\":%d,"
	       "\"cpu_ns\":%llu,\"runq_wait_ns\":%llu}\n",
	       st.matched, st.lines, st.dups, (unsigned long long)st.bytes,
	       (unsigned long long)st.first_ns, (unsigned long long)st.last_ns, st.seq_gaps,
	       st.overflows, st.lost, st.ready, run1 - run0, wait1 - wait0);
	return 0;
}
