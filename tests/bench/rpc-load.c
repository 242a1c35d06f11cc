/*
 * rpc-load.c: the load generator of the netnsd benchmark.  It sends NDJSON
 * requests over a Unix stream socket and times the replies, either one at a
 * time or pipelined.  It is written in C so that the client is never what
 * limits the measured rate: Python spends more time encoding, decoding and
 * in the interpreter per message than netnsd spends answering a ping.
 *
 * Usage:
 *   rpc-load SOCKET seq|pipe FILE [--out REPLIES]
 *   rpc-load SOCKET seq|pipe --ping COUNT [--out REPLIES]
 *
 * FILE holds the requests, one per line, each answered by exactly one line
 * (no notifications, no batches).  --ping generates COUNT daemon.ping
 * requests with ids 1..COUNT.  The requests are in memory before the clock
 * starts.
 *
 *   seq   write one request, read its reply, then the next (one outstanding);
 *         also reports the latency percentiles.
 *   pipe  one thread, non-blocking: writes requests in chunks of up to 64 KiB
 *         whenever the socket takes them and reads replies whenever they come,
 *         until every reply has arrived.  Nothing waits on a reply before
 *         writing more, so the server sees as deep a pipeline as it accepts.
 *
 * Prints one JSON line: n, elapsed_ns, rate (replies/s), errors (replies with
 * an "error" member), and for seq p50_ns/p99_ns/max_ns.  The replies are kept
 * in memory during the run (counting newlines only) and written to REPLIES
 * afterwards when asked.  Exit status 0 when every reply arrived, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64u << 10)

struct buf {
	char *p;
	size_t len, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "rpc-load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	while (b->len + more > b->cap)
		b->cap = b->cap ? b->cap * 2 : CHUNK;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		die("Out of memory");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Requests as one buffer plus the offset where each line starts (n + 1 of them). */
static size_t *index_lines(const struct buf *req, size_t *ret_n)
{
	size_t n = 0, *off;

	for (size_t i = 0; i < req->len; i++)
		n += req->p[i] == '\n';
	off = malloc((n + 1) * sizeof(*off));
	if (!off)
		die("Out of memory");
	n = 0;
	off[0] = 0;
	for (size_t i = 0; i < req->len; i++)
		if (req->p[i] == '\n')
			off[++n] = i + 1;
	*ret_n = n;
	return off;
}

static void load_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		die(path);
	for (;;) {
		buf_reserve(b, CHUNK);
		r = read(fd, b->p + b->len, b->cap - b->len);
		if (r < 0)
			die(path);
		if (r == 0)
			break;
		b->len += (size_t)r;
	}
	close(fd);
	if (b->len && b->p[b->len - 1] != '\n') {
		buf_reserve(b, 1);
		b->p[b->len++] = '\n';
	}
}

static void make_pings(unsigned long count, struct buf *b)
{
	for (unsigned long i = 1; i <= count; i++) {
		buf_reserve(b, 96);
		b->len += (size_t)snprintf(b->p + b->len, 96,
					   "{\"jsonrpc\":\"2.0\",\"id\":%lu,\"method\":\"daemon.ping\"}\n",
					   i);
	}
}

/* Read what is there into rep; return the number of newlines it held. */
static size_t read_some(int fd, struct buf *rep, int *eof)
{
	size_t lines = 0;
	ssize_t r;

	buf_reserve(rep, CHUNK);
	r = read(fd, rep->p + rep->len, rep->cap - rep->len);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		die("read");
	}
	if (r == 0) {
		*eof = 1;
		return 0;
	}
	for (const char *p = rep->p + rep->len, *end = p + r; (p = memchr(p, '\n', (size_t)(end - p)));
	     p++)
		lines++;
	rep->len += (size_t)r;
	return lines;
}

static size_t run_seq(int fd, const struct buf *req, const size_t *off, size_t n,
		      struct buf *rep, uint64_t *lat)
{
	size_t done = 0;
	int eof = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = req->p + off[i];
		size_t len = off[i + 1] - off[i];
		uint64_t t0 = now_ns();

		while (len) {
			ssize_t w = write(fd, p, len);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				die("write");
			}
			p += w;
			len -= (size_t)w;
		}
		while (done <= i && !eof)
			done += read_some(fd, rep, &eof);
		if (eof)
			break;
		lat[i] = now_ns() - t0;
	}
	return done;
}

static size_t run_pipe(int fd, const struct buf *req, size_t n, struct buf *rep)
{
	size_t sent = 0, done = 0;
	int eof = 0;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl");
	while (done < n && !eof) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (sent < req->len) {
			size_t len = req->len - sent < CHUNK ? req->len - sent : CHUNK;
			ssize_t w = write(fd, req->p + sent, len);

			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				die("write");
			if (w > 0 && sent < req->len) {
				/* Keep the socket full; read only what is already there. */
				done += read_some(fd, rep, &eof);
				continue;
			}
			if (sent < req->len)
				pfd.events |= POLLOUT;
		}
		if (poll(&pfd, 1, 30000) <= 0) {
			fprintf(stderr, "rpc-load: no progress for 30 s (%zu of %zu replies)\n", done,
				n);
			break;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			done += read_some(fd, rep, &eof);
	}
	return done;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct buf req = { 0 }, rep = { 0 };
	const char *out = NULL, *mode;
	uint64_t t0, elapsed, *lat = NULL;
	size_t n, done, errors = 0, *off;
	int fd, argi;

	if (argc < 4)
		goto usage;
	mode = argv[2];
	if (strcmp(mode, "seq") && strcmp(mode, "pipe"))
		goto usage;
	if (!strcmp(argv[3], "--ping")) {
		if (argc < 5)
			goto usage;
		make_pings(strtoul(argv[4], NULL, 10), &req);
		argi = 5;
	} else {
		load_file(argv[3], &req);
		argi = 4;
	}
	if (argi + 2 == argc && !strcmp(argv[argi], "--out"))
		out = argv[argi + 1];
	else if (argi != argc)
		goto usage;
	off = index_lines(&req, &n);
	if (n == 0)
		goto usage;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(argv[1]);
	buf_reserve(&rep, req.len); /* replies are usually at least as long */

	t0 = now_ns();
	if (mode[0] == 's') {
		lat = calloc(n, sizeof(*lat));
		if (!lat)
			die("Out of memory");
		done = run_seq(fd, &req, off, n, &rep, lat);
	} else {
		done = run_pipe(fd, &req, n, &rep);
	}
	elapsed = now_ns() - t0;
	close(fd);

	for (const char *p = rep.p, *end = rep.p + rep.len, *nl; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if (memmem(p, (size_t)(nl - p), "\"error\":", 8)) {
			if (errors++ == 0)
				fprintf(stderr, "rpc-load: first error reply: %.*s\n", (int)(nl - p), p);
		}
	}
	if (out) {
		FILE *f = fopen(out, "we");

		if (!f || fwrite(rep.p, 1, rep.len, f) != rep.len || fclose(f) != 0)
			die(out);
	}
	printf("{\"mode\":\"%s\",\"n\":%zu,\"replies\":%zu,\"errors\":%zu,\"elapsed_ns\":%" PRIu64
	       ",\"rate\":%.1f",
	       mode, n, done, errors, elapsed, elapsed ? (double)done * 1e9 / (double)elapsed : 0.0);
	if (lat && done == n) {
		qsort(lat, n, sizeof(*lat), cmp_u64);
		printf(",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64,
		       lat[n / 2], lat[(n * 99) / 100], lat[n - 1]);
	}
	printf("}\n");
	return done == n ? 0 : 1;
usage:
	fprintf(stderr, "Usage: rpc-load SOCKET seq|pipe FILE|--ping COUNT [--out REPLIES]\n");
	return 2;
}
