/*
 * rpc.c: listening socket, connections and NDJSON framing (see rpc.h).
 *
 * Output is corked while a read is being processed, so the replies to a
 * pipelined burst leave in one write.  A peer whose replies pile up beyond
 * half of max_queued stops being read until it drains (backpressure); one
 * that would exceed max_queued is disconnected.  An over-long frame gets an
 * error and the connection is closed once the error is written.
 */
#include <grp.h>
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

#define READ_CHUNK (64u << 10)

struct conn {
	uv_pipe_t pipe;
	struct dispatch_peer peer;
	struct conn *prev, *next;
	char *in;
	size_t in_len, in_cap, scanned;
	char *out;
	size_t out_len, out_cap;
	size_t queued; /* bytes handed to libuv and not yet written */
	bool corked, paused, closing, close_after_flush;
	uv_shutdown_t shutdown_req;
};

struct write_req {
	uv_write_t req;
	size_t len;
	char data[];
};

static struct {
	uv_loop_t *loop;
	struct rpc_config cfg;
	char *path;
	uv_pipe_t server;
	bool listening, owns_path, quiescing;
	struct conn *conns;
	struct rpc_stats stats;
} rpc;

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);
static void conn_resume(struct conn *c);

/* Output. */

static void after_shutdown(uv_shutdown_t *req, int status)
{
	conn_close(container_of(req, struct conn, shutdown_req));
}

static void maybe_finish(struct conn *c)
{
	if (c->close_after_flush && !c->closing && c->queued == 0 && c->out_len == 0 &&
	    c->peer.inflight == 0) {
		c->closing = true; /* no more output; shutdown then close */
		if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->pipe, after_shutdown) < 0) {
			c->closing = false;
			conn_close(c);
		}
	}
}

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = container_of(req, struct write_req, req);
	struct conn *c = req->data;

	c->queued -= w->len;
	free(w);
	if (status < 0 || c->closing)
		return;
	if (c->paused && !rpc.quiescing && c->queued + c->out_len < rpc.cfg.max_queued / 4)
		conn_resume(c);
	maybe_finish(c);
}

static void conn_flush(struct conn *c)
{
	struct write_req *w;
	uv_buf_t b;
	int n = 0;

	if (c->out_len == 0 || c->closing)
		goto done;
	if (c->queued == 0) {
		b = uv_buf_init(c->out, (unsigned)c->out_len);
		n = uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
		if (n == UV_EAGAIN)
			n = 0;
		if (n < 0) {
			c->out_len = 0;
			conn_close(c);
			return;
		}
	}
	if ((size_t)n < c->out_len) {
		size_t rest = c->out_len - (size_t)n;

		w = malloc(sizeof(*w) + rest);
		if (!w) {
			conn_close(c);
			return;
		}
		memcpy(w->data, c->out + n, rest);
		w->len = rest;
		w->req.data = c;
		b = uv_buf_init(w->data, (unsigned)rest);
		if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write) < 0) {
			free(w);
			c->out_len = 0;
			conn_close(c);
			return;
		}
		c->queued += rest;
	}
	c->out_len = 0;
done:
	maybe_finish(c);
}

static int conn_send(struct dispatch_peer *p, char *frame, size_t len)
{
	struct conn *c = container_of(p, struct conn, peer);

	if (c->closing) {
		free(frame);
		return -EPIPE;
	}
	if (c->queued + c->out_len + len > rpc.cfg.max_queued) {
		free(frame);
		log_warning("Disconnecting client (pid %d): more than %zu bytes of replies unread",
			    (int)p->pid, rpc.cfg.max_queued);
		conn_close(c);
		return -ENOBUFS;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *o;

		while (cap < c->out_len + len)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o) {
			free(frame);
			conn_close(c);
			return -ENOMEM;
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, frame, len);
	c->out_len += len;
	free(frame);
	if (!c->corked)
		conn_flush(c);
	return 0;
}

/* Close and release. */

static void conn_release(struct dispatch_peer *p)
{
	struct conn *c = container_of(p, struct conn, peer);

	free(c->in);
	free(c->out);
	free(c);
}

static size_t conn_pending(struct dispatch_peer *p)
{
	struct conn *c = container_of(p, struct conn, peer);

	return c->queued + c->out_len;
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

static const struct dispatch_peer_ops conn_ops = {
	.send = conn_send,
	.release = conn_release,
	.pending = conn_pending,
	.hangup = conn_hangup,
	.settled = conn_settled,
};

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = container_of((uv_pipe_t *)h, struct conn, pipe);

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
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	c->closing = true;
	c->peer.gone = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

/* Send an error that is not the answer to a request, then hang up. */
static void conn_refuse(struct conn *c, int code, enum rpc_kind kind, const char *msg)
{
	c->close_after_flush = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	dispatch_peer_send(&c->peer, jsonrpc_error(NULL, code, msg, jsonrpc_error_data(kind, 0, NULL)));
	if (!c->closing)
		conn_flush(c);
}

/* Input. */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = container_of((uv_pipe_t *)h, struct conn, pipe);

	if (c->in_cap - c->in_len < READ_CHUNK) {
		size_t cap = c->in_len + READ_CHUNK;
		char *p = realloc(c->in, cap);

		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	*buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = container_of((uv_pipe_t *)s, struct conn, pipe);
	size_t start = 0;

	if (nread == UV_EOF) {
		/*
		 * The peer finished sending (it may have only shut down its
		 * writing side): answer what is in flight, then hang up.
		 */
		uv_read_stop(s);
		c->close_after_flush = true;
		maybe_finish(c);
		return;
	}
	if (nread < 0) {
		/* A reset: replies still owed are dropped with the peer. */
		conn_close(c);
		return;
	}
	if (nread == 0)
		return;
	c->in_len += (size_t)nread;
	dispatch_peer_ref(&c->peer);
	c->corked = true;
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
			break;
		}
		if (!blank(c->in + start, len))
			dispatch_frame(&c->peer, c->in + start, len);
		start = c->scanned;
	}
	if (!c->closing && !c->close_after_flush) {
		if (start > 0) {
			memmove(c->in, c->in + start, c->in_len - start);
			c->in_len -= start;
			c->scanned -= start;
		}
		if (c->in_len > rpc.cfg.max_message)
			conn_refuse(c, JSONRPC_INVALID_REQUEST, RPC_KIND_LIMIT,
				    "Invalid Request: message exceeds the size limit");
	}
	c->corked = false;
	if (!c->closing) {
		conn_flush(c);
		if (!c->closing && !c->paused && c->queued > rpc.cfg.max_queued / 2) {
			uv_read_stop(s);
			c->paused = true;
		}
	}
	dispatch_peer_unref(&c->peer);
}

static void conn_resume(struct conn *c)
{
	c->paused = false;
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* Accept. */

static void free_unlisted(uv_handle_t *h)
{
	conn_release(&container_of((uv_pipe_t *)h, struct conn, pipe)->peer);
}

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

static void on_connection(uv_stream_t *server, int status)
{
	struct conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0) {
		log_warning("Failed to accept a connection: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	dispatch_peer_init(&c->peer, &conn_ops);
	uv_pipe_init(rpc.loop, &c->pipe, 0);
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		uv_close((uv_handle_t *)&c->pipe, free_unlisted);
		return;
	}
	c->next = rpc.conns;
	if (rpc.conns)
		rpc.conns->prev = c;
	rpc.conns = c;
	rpc.stats.connections++;
	rpc.stats.accepted++;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		conn_close(c);
		return;
	}
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
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
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
	if (rpc.cfg.admin_gid != (gid_t)-1 && chown(path, 0, rpc.cfg.admin_gid) < 0)
		log_warning("Failed to give socket '%s' to the admin group: %m", path);
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	return TAKE_FD(fd);
}

int rpc_init(uv_loop_t *loop, const struct rpc_config *cfg, bool *ret_activated)
{
	int n, fd, r;

	rpc.loop = loop;
	rpc.cfg = *cfg;
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
		fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_error("The socket systemd passed is not a listening Unix stream socket");
			return -EINVAL;
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
	uv_pipe_init(loop, &rpc.server, 0);
	r = uv_pipe_open(&rpc.server, fd);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&rpc.server, SOMAXCONN, on_connection);
	if (r < 0) {
		log_error("Failed to listen: %s", uv_strerror(r));
		return r;
	}
	rpc.listening = true;
	return 0;
}

void rpc_quiesce(void)
{
	rpc.quiescing = true;
	if (rpc.listening) {
		uv_close((uv_handle_t *)&rpc.server, NULL);
		rpc.listening = false;
		if (rpc.owns_path)
			unlink(rpc.path);
	}
	for (struct conn *c = rpc.conns; c; c = c->next)
		uv_read_stop((uv_stream_t *)&c->pipe);
}

bool rpc_drained(void)
{
	for (struct conn *c = rpc.conns; c; c = c->next)
		if (!c->closing && (c->queued || c->out_len))
			return false;
	return true;
}

void rpc_exit(void)
{
	rpc_quiesce();
	for (struct conn *c = rpc.conns; c; c = c->next)
		conn_close(c);
	free(TAKE_PTR(rpc.path));
}

void rpc_get_stats(struct rpc_stats *ret)
{
	*ret = rpc.stats;
}

const struct rpc_config *rpc_get_config(void)
{
	return &rpc.cfg;
}
