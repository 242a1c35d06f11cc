/*
 * rpc.c: listening socket, connections and NDJSON framing (see rpc.h).
 *
 * Output is corked while a read is being processed, so the replies to a
 * pipelined burst leave in one write.  Descriptors a client passes with
 * SCM_RIGHTS are queued on its connection until a request takes them;
 * descriptors a reply passes (netns.open, proc.spawn's pidfd) leave with
 * the sendmsg() that writes the reply's first byte.  A peer whose replies
 * pile up beyond half of max_queued stops being read until it drains
 * (backpressure); one that would exceed max_queued is disconnected.  An over-long frame gets an
 * error and the connection is closed once the error is written.
 *
 * Scheduling: the poll phase only reads; requests are handled in the check
 * phase, connections in order of the work already done for them (fair
 * share: the least served first), and the turns end after ITER_BUDGET_NS
 * once anybody waits: an admin's
 * single request is answered within one loop turn however many clients
 * pipeline expensive reads, and work the loop runs besides (a topology apply's
 * chunks) keeps most of each turn.  Memory: the unsent output of all
 * connections together is bounded by max_queued_total; over it, a connection
 * with unsent output is not read, a subscriber behind loses events (events.c
 * sees it as full), and one that has not read for STALL_MS is cut off.
 */
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "dispatch.h"
#include "jsonrpc.h"
#include "log.h"
#include "rpc.h"
#include "util.h"

#define READ_CHUNK	 (64u << 10)
#define READS_PER_WAKEUP 16
/*
 * Requests handled per connection per loop iteration: a client pipelining
 * thousands of slow requests (each a namespace) must not hold the others.
 * While other connections wait for their turn, a turn also ends after
 * TURN_BUDGET_NS of work, whatever the count: 64 cheap requests are nothing,
 * 64 link.list of a host with a thousand links or 64 batches are a long wait
 * for everybody else (bench_abuse.py).  A client alone keeps its 64, so that
 * the requests of one turn still share one journal commit.
 */
#define FRAMES_PER_TURN 64
#define TURN_BUDGET_NS	(1000 * 1000)
/*
 * All turns of one loop iteration together, once a connection had to wait:
 * the rest wait for the next iteration (the least served first again).
 */
#define ITER_BUDGET_NS (2 * 1000 * 1000)
/* Over max_queued_total, a connection whose output made no progress this long is cut off. */
#define STALL_MS 5000
#define SWEEP_MS 1000
/* A buffer this large or larger is freed once empty, instead of kept for the next burst. */
#define KEEP_BUFFER_BYTES (64u << 10)
#define MAX_PASSED_FDS	16 /* per message */
#define MAX_QUEUED_FDS	64 /* per connection, not yet taken by a request */

/*
 * Connections are driven with uv_poll and plain recvmsg()/send(), not
 * uv_pipe streams: recvmsg() is what receives the descriptors a client
 * passes with a request (SCM_RIGHTS, for proc.spawn and netnsctl exec),
 * which libuv's stream reads would not hand over.
 */
/* Descriptors to pass with the byte at stream position `at` of a connection's output. */
struct out_fds {
	struct out_fds *next;
	uint64_t at;
	unsigned n;
	int fds[];
};

struct conn {
	uv_poll_t poll;
	int fd;
	struct dispatch_peer peer;
	struct conn *prev, *next;
	char *in;
	size_t in_len, in_cap, scanned;
	char *out;
	size_t out_off, out_len, out_cap; /* unsent bytes are out[out_off..out_len) */
	int fds[MAX_QUEUED_FDS];	  /* received, not yet taken */
	unsigned nfds;
	uint64_t sent;				 /* bytes written since the connection opened */
	struct out_fds *out_fds, **out_fds_tail; /* to pass, in stream order */
	unsigned n_out_fds;
	int events; /* UV_READABLE | UV_WRITABLE being polled */
	bool corked, paused, closing, close_after_flush, eof;
	bool backlog;	/* complete lines wait for the next turn */
	bool scheduled; /* on the work list */
	struct conn *work_next;
	uint64_t vtime;	      /* ns of work done for it, from rpc.min_vtime on (the order) */
	uint64_t stalled_at;  /* ms: unsent output has made no progress since then; 0: none */
	uint64_t partial_since; /* ms: an unfinished message has waited since then; 0: none */
};

static struct {
	uv_loop_t *loop;
	struct rpc_config cfg;
	char *path;
	uv_poll_t server;
	int server_fd;
	bool listening, owns_path, quiescing;
	struct conn *conns;
	/*
	 * Connections with output to write or lines to handle, served once
	 * per loop iteration (check phase): events and replies produced
	 * during an iteration leave in one write per connection.
	 */
	struct conn *work;
	size_t nscheduled; /* connections on the work list, waiting for a turn */
	uv_check_t work_check;
	uv_idle_t work_idle;
	bool work_armed, work_ready;
	struct conn **order; /* on_work's list sorted by vtime */
	size_t order_cap;
	uint64_t min_vtime; /* of the connections that had work last time */
	uv_timer_t sweep_timer; /* stalled readers, unfinished messages */
	struct rpc_stats stats;
} rpc = { .server_fd = -1 };

static void conn_close(struct conn *c);
static void on_poll(uv_poll_t *p, int status, int events);
static void schedule(struct conn *c);

static size_t conn_unsent(const struct conn *c)
{
	return c->out_len - c->out_off;
}

/* Over the bound on all connections' unsent output together. */
static bool over_total(void)
{
	return rpc.stats.queued_bytes > rpc.cfg.max_queued_total;
}

/* Replies pile up: stop reading this peer until it has read them. */
static bool must_pause(const struct conn *c)
{
	return conn_unsent(c) > rpc.cfg.max_queued / 2 || (conn_unsent(c) > 0 && over_total());
}


static void account_buffer(size_t old_cap, size_t new_cap)
{
	rpc.stats.buffer_bytes += new_cap;
	rpc.stats.buffer_bytes -= old_cap;
}

static void conn_poll(struct conn *c)
{
	int want = 0;

	if (c->closing)
		return;
	if (!c->paused && !c->backlog && !c->eof && !c->close_after_flush && !rpc.quiescing)
		want |= UV_READABLE;
	if (conn_unsent(c))
		want |= UV_WRITABLE;
	if (want == c->events)
		return;
	c->events = want;
	if (want)
		uv_poll_start(&c->poll, want, on_poll);
	else
		uv_poll_stop(&c->poll);
}

/* Hang up once nothing is owed: no call in flight, no byte unsent. */
static void maybe_finish(struct conn *c)
{
	if (c->close_after_flush && !c->closing && conn_unsent(c) == 0 && c->peer.inflight == 0)
		conn_close(c);
}

/* Output. */

static void conn_process(struct conn *c, bool others_wait);

static void out_fds_pop(struct conn *c)
{
	struct out_fds *a = c->out_fds;

	for (unsigned i = 0; i < a->n; i++)
		close(a->fds[i]);
	c->n_out_fds -= a->n;
	c->out_fds = a->next;
	if (!c->out_fds)
		c->out_fds_tail = &c->out_fds;
	free(a);
}

/*
 * Write up to len bytes; when descriptors belong to the first of them, they
 * go in the same sendmsg() (the kernel attaches them to that first byte).
 */
static ssize_t conn_write(struct conn *c, size_t len)
{
	struct out_fds *a = c->out_fds;
	struct iovec iov = { c->out + c->out_off, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char cbuf[CMSG_SPACE(DISPATCH_MAX_PEER_FDS * sizeof(int))];
	ssize_t n;

	if (a && a->at == c->sent) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(a->n * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(a->n * sizeof(int));
		memcpy(CMSG_DATA(cm), a->fds, a->n * sizeof(int));
	}
	n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0 && msg.msg_control)
		out_fds_pop(c); /* the peer has them now; our copies go */
	return n;
}

static void conn_flush(struct conn *c)
{
	while (conn_unsent(c) > 0 && !c->closing) {
		size_t len = conn_unsent(c);
		ssize_t n;

		/* Stop short of the next reply with descriptors: it starts a write of its own. */
		if (c->out_fds && c->out_fds->at > c->sent && c->out_fds->at - c->sent < len)
			len = (size_t)(c->out_fds->at - c->sent);
		else if (c->out_fds && c->out_fds->at == c->sent && c->out_fds->next &&
			 c->out_fds->next->at - c->sent < len)
			len = (size_t)(c->out_fds->next->at - c->sent);
		n = conn_write(c, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(c); /* the peer is gone; what it was owed goes with it */
			return;
		}
		c->out_off += (size_t)n;
		c->sent += (uint64_t)n;
		rpc.stats.queued_bytes -= (size_t)n;
		c->stalled_at = 0;
	}
	if (c->closing)
		return;
	if (conn_unsent(c) == 0) {
		c->out_off = c->out_len = 0;
		if (c->out_cap >= KEEP_BUFFER_BYTES) {
			/* The burst is over: give the memory back. */
			account_buffer(c->out_cap, 0);
			free(TAKE_PTR(c->out));
			c->out_cap = 0;
		}
	} else if (!c->stalled_at) {
		c->stalled_at = now_usec() / 1000;
	}
	if (c->paused && !rpc.quiescing && conn_unsent(c) < rpc.cfg.max_queued / 4 &&
	    !must_pause(c)) {
		c->paused = false;
		if (c->in_len > 0) {
			/* Lines read before the pause are answered before reading on. */
			c->backlog = true;
			schedule(c);
		}
	}
	conn_poll(c);
	maybe_finish(c);
}

/* Queue the pieces as one frame, copied. */
static int conn_append(struct conn *c, const struct iovec *iov, unsigned n)
{
	size_t len = 0;

	if (c->closing)
		return -EPIPE;
	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (conn_unsent(c) + len > rpc.cfg.max_queued) {
		log_warning("Disconnecting client (pid %d): more than %zu bytes of replies unread",
			    (int)c->peer.pid, rpc.cfg.max_queued);
		conn_close(c);
		return -ENOBUFS;
	}
	if (c->out_off > 0 && c->out_len + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, conn_unsent(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *o;

		while (cap < c->out_len + len)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o) {
			conn_close(c);
			return -ENOMEM;
		}
		account_buffer(c->out_cap, cap);
		c->out = o;
		c->out_cap = cap;
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(c->out + c->out_len, iov[i].iov_base, iov[i].iov_len);
		c->out_len += iov[i].iov_len;
	}
	rpc.stats.queued_bytes += len;
	if (rpc.stats.queued_bytes > rpc.stats.queued_peak)
		rpc.stats.queued_peak = rpc.stats.queued_bytes;
	if (!c->corked)
		schedule(c);
	return 0;
}

static int conn_send(struct dispatch_peer *p, char *frame, size_t len)
{
	int r = conn_append(container_of(p, struct conn, peer),
			    &(struct iovec){ .iov_base = frame, .iov_len = len }, 1);

	free(frame);
	return r;
}

static int conn_send_parts(struct dispatch_peer *p, const struct iovec *iov, unsigned n)
{
	return conn_append(container_of(p, struct conn, peer), iov, n);
}

static int conn_send_fds(struct dispatch_peer *p, char *frame, size_t len, int *fds, unsigned n)
{
	struct conn *c = container_of(p, struct conn, peer);
	struct out_fds *a = NULL;
	uint64_t at = c->sent + conn_unsent(c);

	if (!c->closing && n > 0 && n <= DISPATCH_MAX_PEER_FDS)
		a = malloc(sizeof(*a) + n * sizeof(int));
	if (!a) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		if (n > 0 && !c->closing) {
			/* The reply names descriptors it cannot carry: do not send it half. */
			free(frame);
			conn_close(c);
			return -ENOMEM;
		}
		return conn_send(p, frame, len);
	}
	a->next = NULL;
	a->at = at;
	a->n = n;
	memcpy(a->fds, fds, n * sizeof(int));
	/* Queued before the bytes, so a flush inside conn_send() already sees it. */
	*c->out_fds_tail = a;
	c->out_fds_tail = &a->next;
	c->n_out_fds += n;
	return conn_send(p, frame, len);
}

static unsigned conn_pending_fds(struct dispatch_peer *p)
{
	return container_of(p, struct conn, peer)->n_out_fds;
}

/* Close and release. */

static void close_fds(struct conn *c)
{
	for (unsigned i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
}

static void conn_release(struct dispatch_peer *p)
{
	struct conn *c = container_of(p, struct conn, peer);

	free(c->in);
	free(c->out);
	free(c);
}

/*
 * Over max_queued_total, a peer that has not read everything counts as full
 * (SIZE_MAX / 2): a subscriber behind then loses events instead of holding
 * more memory.
 */
static size_t conn_pending(struct dispatch_peer *p)
{
	const struct conn *c = container_of(p, struct conn, peer);

	if (conn_unsent(c) > 0 && over_total())
		return SIZE_MAX / 2;
	return conn_unsent(c);
}

static void conn_hangup(struct dispatch_peer *p)
{
	conn_close(container_of(p, struct conn, peer));
}

static void conn_settled(struct dispatch_peer *p)
{
	struct conn *c = container_of(p, struct conn, peer);

	if (!c->corked)
		maybe_finish(c);
}

static int conn_take_fd(struct dispatch_peer *p)
{
	struct conn *c = container_of(p, struct conn, peer);
	int fd;

	if (c->nfds == 0)
		return -EBADF;
	fd = c->fds[0];
	memmove(c->fds, c->fds + 1, --c->nfds * sizeof(int));
	return fd;
}

static const struct dispatch_peer_ops conn_ops = {
	.send = conn_send,
	.release = conn_release,
	.pending = conn_pending,
	.hangup = conn_hangup,
	.settled = conn_settled,
	.take_fd = conn_take_fd,
	.send_fds = conn_send_fds,
	.pending_fds = conn_pending_fds,
	.send_parts = conn_send_parts,
};

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = container_of((uv_poll_t *)h, struct conn, poll);

	rpc.stats.queued_bytes -= conn_unsent(c);
	c->out_off = c->out_len = 0;
	account_buffer(c->in_cap + c->out_cap, 0);
	close(c->fd);
	close_fds(c);
	while (c->out_fds)
		out_fds_pop(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		rpc.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rpc.stats.connections--;
	dispatch_peer_gone(&c->peer);
}

static void conn_close(struct conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->poll))
		return;
	c->closing = true;
	c->peer.gone = true;
	uv_close((uv_handle_t *)&c->poll, on_conn_closed);
}

/* Send an error that is not the answer to a request, then hang up. */
static void conn_refuse(struct conn *c, int code, enum rpc_kind kind, const char *msg)
{
	c->close_after_flush = true;
	dispatch_peer_send(&c->peer,
			   jsonrpc_error(NULL, code, msg, jsonrpc_error_data(kind, 0, NULL)));
	if (!c->closing)
		conn_flush(c);
}

/* Input. */

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Keep the descriptors that came with a message, for the request that names them. */
static void take_cmsg(struct conn *c, struct msghdr *msg)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			if (c->nfds < MAX_QUEUED_FDS)
				c->fds[c->nfds++] = fds[i];
			else
				close(fds[i]); /* a peer hoarding descriptors gets none kept */
		}
	}
}

/* Read what is there (bounded); returns bytes read, 0 at EOF, -errno. */
static ssize_t conn_recv(struct conn *c)
{
	char cbuf[CMSG_SPACE(MAX_PASSED_FDS * sizeof(int))];
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	ssize_t n;

	if (c->in_cap - c->in_len < READ_CHUNK) {
		size_t cap = c->in_len + READ_CHUNK;
		char *p = realloc(c->in, cap);

		if (!p)
			return -ENOMEM;
		account_buffer(c->in_cap, cap);
		c->in = p;
		c->in_cap = cap;
	}
	iov = (struct iovec){ c->in + c->in_len, c->in_cap - c->in_len };
	do
		n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	take_cmsg(c, &msg);
	c->in_len += (size_t)n;
	return n;
}

/*
 * Hand complete lines to dispatch, at most FRAMES_PER_TURN (the rest on a
 * later turn), and stop after TURN_BUDGET_NS when others wait; enforce the
 * frame size.
 */
static void conn_process(struct conn *c, bool others_wait)
{
	size_t start = 0;
	unsigned frames = 0;
	uint64_t t0 = uv_hrtime();

	c->backlog = false;
	while (!c->closing && !c->close_after_flush) {
		char *nl = memchr(c->in + c->scanned, '\n', c->in_len - c->scanned);
		size_t len;

		if (!nl) {
			c->scanned = c->in_len;
			break;
		}
		len = (size_t)(nl - (c->in + start));
		c->scanned = (size_t)(nl - c->in) + 1;
		if (len > rpc.cfg.max_message) {
			conn_refuse(c, JSONRPC_INVALID_REQUEST, RPC_KIND_LIMIT,
				    "Invalid Request: message exceeds the size limit");
			return;
		}
		if (!blank(c->in + start, len))
			dispatch_frame(&c->peer, c->in + start, len);
		start = c->scanned;
		if (must_pause(c)) {
			/* Backpressure: the rest waits until the peer read its replies. */
			c->paused = true;
			break;
		}
		if ((++frames == FRAMES_PER_TURN ||
		     ((others_wait || rpc.nscheduled > 0) && uv_hrtime() - t0 > TURN_BUDGET_NS)) &&
		    c->scanned < c->in_len) {
			c->backlog = true;
			schedule(c);
			break;
		}
	}
	if (c->closing || c->close_after_flush)
		return;
	if (start > 0) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		c->scanned -= start;
		c->partial_since = 0; /* a message was finished: the clock starts anew */
	}
	if (c->in_len == 0) {
		c->partial_since = 0;
		if (c->in) {
			/* Nothing half-read: an idle connection holds no input buffer. */
			account_buffer(c->in_cap, 0);
			free(TAKE_PTR(c->in));
			c->in_cap = c->scanned = 0;
		}
	} else if (!c->partial_since && c->scanned == c->in_len) {
		c->partial_since = now_usec() / 1000;
	}
	if (c->in_len > rpc.cfg.max_message)
		conn_refuse(c, JSONRPC_INVALID_REQUEST, RPC_KIND_LIMIT,
			    "Invalid Request: message exceeds the size limit");
}

/*
 * Read what the peer sent (bounded) and leave the requests to on_work(): the
 * poll phase does no request's work, so that on_work() can serve the cheapest
 * connections first.
 */
static void conn_readable(struct conn *c)
{
	bool got = false;

	for (int i = 0; i < READS_PER_WAKEUP && !c->closing && !c->close_after_flush; i++) {
		ssize_t n = conn_recv(c);

		if (n == -EAGAIN)
			break;
		if (n == 0) {
			/*
			 * The peer finished sending (it may have only shut down its
			 * writing side): answer what it sent, then hang up.
			 */
			c->eof = true;
			break;
		}
		if (n < 0) {
			/* A reset: replies still owed are dropped with the peer. */
			conn_close(c);
			return;
		}
		got = true;
		if (memchr(c->in + c->in_len - n, '\n', (size_t)n) || c->in_len > rpc.cfg.max_message)
			break; /* enough to work on */
	}
	if (c->closing)
		return;
	if (got || c->eof) {
		c->backlog = true;
		schedule(c);
	}
	conn_poll(c);
}

static void on_work_idle(uv_idle_t *h)
{
	/* Only keeps the loop from sleeping while connections have work. */
}

static int by_vtime(const void *a, const void *b)
{
	const struct conn *x = *(struct conn *const *)a, *y = *(struct conn *const *)b;

	return x->vtime < y->vtime ? -1 : x->vtime > y->vtime;
}

/*
 * The connections of the work list, the one that had the least work done
 * first (0 if memory is short).  As in a fair-share scheduler, a connection
 * that had no work for a while comes back at the least vtime of the others,
 * not below it: it goes first, but keeps no credit from its idle time.
 */
static size_t work_order(struct conn *list)
{
	size_t n = 0, i = 0;

	for (struct conn *c = list; c; c = c->work_next)
		n++;
	if (n == 0)
		return 0;
	if (n > rpc.order_cap) {
		struct conn **o = reallocarray(rpc.order, n, sizeof(*o));

		if (!o)
			return 0;
		rpc.order = o;
		rpc.order_cap = n;
	}
	for (struct conn *c = list; c; c = c->work_next) {
		if (c->vtime < rpc.min_vtime)
			c->vtime = rpc.min_vtime;
		rpc.order[i++] = c;
	}
	qsort(rpc.order, n, sizeof(*rpc.order), by_vtime);
	rpc.min_vtime = rpc.order[0]->vtime;
	return n;
}

/* One connection's part of on_work(); defer: its turn is the next iteration's. */
static void work_one(struct conn *c, bool defer, bool others_wait)
{
	c->scheduled = false;
	rpc.nscheduled--;
	if (!c->closing && c->backlog && !c->paused) {
		if (defer) {
			rpc.stats.deferred++;
			schedule(c);
		} else {
			uint64_t t = uv_hrtime();

			c->corked = true;
			conn_process(c, others_wait);
			c->corked = false;
			c->vtime += uv_hrtime() - t;
			rpc.stats.turns++;
		}
	}
	if (!c->closing && c->eof && !c->backlog && !c->close_after_flush) {
		/* Everything the peer sent before it shut down has been handled. */
		c->close_after_flush = true;
		conn_poll(c);
	}
	if (!c->closing)
		conn_flush(c);
	dispatch_peer_unref(&c->peer);
}

/*
 * Handle the requests read and write the output produced, once per loop
 * iteration: the cheapest connections first, and once ITER_BUDGET_NS is
 * spent the others wait for the next iteration (the idle handle keeps the
 * loop from sleeping meanwhile).
 */
static void on_work(uv_check_t *h)
{
	struct conn *list = TAKE_PTR(rpc.work);
	uint64_t t0 = uv_hrtime();
	size_t n;

	uv_check_stop(&rpc.work_check);
	uv_idle_stop(&rpc.work_idle);
	rpc.work_armed = false;
	n = work_order(list);
	if (n == 0) {
		for (struct conn *c = list, *next; c; c = next) {
			next = c->work_next;
			work_one(c, false, next != NULL);
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		work_one(rpc.order[i], i > 0 && uv_hrtime() - t0 > ITER_BUDGET_NS, i + 1 < n);
}

static void schedule(struct conn *c)
{
	if (c->scheduled || c->closing)
		return;
	if (!rpc.work_ready) {
		/* No loop yet (a test driving pieces): write at once. */
		conn_flush(c);
		return;
	}
	c->scheduled = true;
	rpc.nscheduled++;
	dispatch_peer_ref(&c->peer);
	c->work_next = rpc.work;
	rpc.work = c;
	if (!rpc.work_armed) {
		uv_check_start(&rpc.work_check, on_work);
		uv_idle_start(&rpc.work_idle, on_work_idle);
		rpc.work_armed = true;
	}
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct conn *c = container_of(p, struct conn, poll);

	if (status < 0) {
		conn_close(c);
		return;
	}
	if (events & UV_WRITABLE)
		conn_flush(c);
	if ((events & UV_READABLE) && !c->closing)
		conn_readable(c);
}

/* Accept. */

static bool peer_privileged(int fd, const struct ucred *cred)
{
	gid_t groups[NGROUPS_MAX];
	socklen_t len = sizeof(groups);

	if (cred->uid == 0)
		return true;
	if (rpc.cfg.admin_gid == (gid_t)-1)
		return false;
	if (cred->gid == rpc.cfg.admin_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == rpc.cfg.admin_gid)
			return true;
	return false;
}

static void accept_one(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;

	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		free(c);
		close(fd);
		return;
	}
	dispatch_peer_init(&c->peer, &conn_ops);
	c->fd = fd;
	c->out_fds_tail = &c->out_fds;
	if (uv_poll_init(rpc.loop, &c->poll, fd) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->next = rpc.conns;
	if (rpc.conns)
		rpc.conns->prev = c;
	rpc.conns = c;
	rpc.stats.connections++;
	rpc.stats.accepted++;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.pid = cred.pid;
	c->peer.privileged = peer_privileged(fd, &cred);
	if (rpc.stats.connections > rpc.cfg.max_connections) {
		rpc.stats.refused++;
		log_warning("Refusing a connection (pid %d): %zu connections is the limit",
			    (int)cred.pid, rpc.cfg.max_connections);
		conn_refuse(c, RPC_KIND_LIMIT, RPC_KIND_LIMIT, "Too many connections");
		return;
	}
	conn_poll(c);
}

static void on_connection(uv_poll_t *p, int status, int events)
{
	/* Bounded, so a flood of connections cannot hold the loop. */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(rpc.server_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warning("Failed to accept a connection: %m");
			return;
		}
		accept_one(fd);
	}
}

/* Listening. */

static int probe_existing(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -1;
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("Refusing to replace '%s': it exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_error("Another netnsd is already listening on '%s'", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED)
		return -errno;
	log_notice("Replacing stale socket '%s'", path);
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *dir = NULL;
	char *slash;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	}
	r = probe_existing(path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	if (rpc.cfg.admin_gid != (gid_t)-1 && chown(path, (uid_t)-1, rpc.cfg.admin_gid) < 0)
		log_warning("Failed to give socket '%s' to the admin group: %m", path);
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	return TAKE_FD(fd);
}

/*
 * Once a second: over max_queued_total, cut off the readers that have read
 * nothing for STALL_MS; and the peers whose message has stayed unfinished
 * for message_timeout_ms (a slowloris holds a connection slot otherwise).
 */
static void on_sweep(uv_timer_t *t)
{
	uint64_t now = now_usec() / 1000;
	bool over = over_total();

	for (struct conn *c = rpc.conns; c; c = c->next) {
		if (c->closing)
			continue;
		if (over && c->stalled_at && now - c->stalled_at >= STALL_MS) {
			log_warning("Disconnecting client (pid %d): %zu bytes of replies unread for "
				    "%u ms while netnsd holds more than %zu bytes of output",
				    (int)c->peer.pid, conn_unsent(c), STALL_MS,
				    rpc.cfg.max_queued_total);
			rpc.stats.stall_cutoffs++;
			conn_close(c);
		} else if (rpc.cfg.message_timeout_ms && c->partial_since && !c->paused &&
			   !c->close_after_flush &&
			   now - c->partial_since >= rpc.cfg.message_timeout_ms) {
			log_warning("Disconnecting client (pid %d): a message unfinished for %u ms",
				    (int)c->peer.pid, rpc.cfg.message_timeout_ms);
			rpc.stats.message_timeouts++;
			conn_refuse(c, JSONRPC_INVALID_REQUEST, RPC_KIND_LIMIT,
				    "Invalid Request: message not finished in time");
		}
	}
}

int rpc_init(uv_loop_t *loop, const struct rpc_config *cfg, bool *ret_activated)
{
	int n, fd, r;

	rpc.loop = loop;
	rpc.cfg = *cfg;
	uv_check_init(loop, &rpc.work_check);
	uv_idle_init(loop, &rpc.work_idle);
	uv_timer_init(loop, &rpc.sweep_timer);
	uv_unref((uv_handle_t *)&rpc.work_check);
	uv_unref((uv_handle_t *)&rpc.sweep_timer);
	uv_timer_start(&rpc.sweep_timer, on_sweep, SWEEP_MS, SWEEP_MS);
	rpc.work_ready = true;
	rpc.path = strdup(cfg->socket_path);
	if (!rpc.path)
		return -ENOMEM;
	rpc.cfg.socket_path = rpc.path;

	n = sd_listen_fds(1);
	if (n > 1) {
		log_error("Expected one socket from systemd, got %d", n);
		return -EINVAL;
	}
	if (n == 1) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);

		fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_error(
			    "The socket systemd passed is not a listening Unix stream socket");
			return -EINVAL;
		}
		/* Report the socket really served, not the --socket that was ignored. */
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
		    len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0]) {
			free(rpc.path);
			rpc.path =
			    strndup(sa.sun_path, len - offsetof(struct sockaddr_un, sun_path));
			if (!rpc.path)
				return -ENOMEM;
			rpc.cfg.socket_path = rpc.path;
		}
		*ret_activated = true;
	} else {
		fd = bind_socket(cfg->socket_path);
		if (fd < 0) {
			if (fd != -EADDRINUSE && fd != -EEXIST)
				log_error("Failed to listen on '%s': %s", cfg->socket_path,
					  strerror(-fd));
			return fd;
		}
		rpc.owns_path = true;
		*ret_activated = false;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		log_error("Failed to set up the listening socket: %s", strerror(-r));
		return r;
	}
	rpc.server_fd = fd;
	r = uv_poll_init(loop, &rpc.server, fd);
	if (r == 0)
		r = uv_poll_start(&rpc.server, UV_READABLE, on_connection);
	if (r < 0) {
		log_error("Failed to listen: %s", uv_strerror(r));
		return r;
	}
	rpc.listening = true;
	return 0;
}

static void server_closed(uv_handle_t *h)
{
	close(rpc.server_fd);
	rpc.server_fd = -1;
}

void rpc_quiesce(void)
{
	rpc.quiescing = true;
	if (rpc.listening) {
		uv_close((uv_handle_t *)&rpc.server, server_closed);
		rpc.listening = false;
		if (rpc.owns_path)
			unlink(rpc.path);
	}
	for (struct conn *c = rpc.conns; c; c = c->next)
		conn_poll(c);
}

bool rpc_drained(void)
{
	for (struct conn *c = rpc.conns; c; c = c->next)
		if (!c->closing && conn_unsent(c))
			return false;
	return true;
}

void rpc_exit(void)
{
	if (rpc.work_ready) {
		on_work(&rpc.work_check); /* write what is owed, drop the refs */
		uv_close((uv_handle_t *)&rpc.work_check, NULL);
		uv_close((uv_handle_t *)&rpc.work_idle, NULL);
		uv_close((uv_handle_t *)&rpc.sweep_timer, NULL);
		rpc.work_ready = false;
	}
	rpc_quiesce();
	for (struct conn *c = rpc.conns; c; c = c->next)
		conn_close(c);
	free(TAKE_PTR(rpc.path));
	free(TAKE_PTR(rpc.order));
	rpc.order_cap = 0;
}

void rpc_get_stats(struct rpc_stats *ret)
{
	*ret = rpc.stats;
}

const struct rpc_config *rpc_get_config(void)
{
	return &rpc.cfg;
}
