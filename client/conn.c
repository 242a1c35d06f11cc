/*
 * conn.c: netnsctl's connection to netnsd: one blocking Unix stream socket,
 * requests written as NDJSON lines (with descriptors attached by SCM_RIGHTS
 * when a command passes its stdio), replies read line by line into a growing
 * buffer, and the JSON-RPC envelope taken apart: a result for the caller, an
 * error printed the way users read it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netnsctl.h"

#define RECV_CHUNK (64 * 1024)

/* The connection: one blocking stream socket, one request and one reply line at a time. */

static int conn_open(struct ctx *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -1;

	if (c->fd >= 0)
		return 0;
	if (strlen(c->socket_path) >= sizeof(sa.sun_path)) {
		errorf("cannot connect to netnsd at %s: socket path too long", c->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, c->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errorf("cannot create a socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		const char *hint = "";

		if (r == -ENOENT || r == -ECONNREFUSED)
			hint = " (is netnsd running? use -s PATH or " SOCKET_ENV
			       " for another socket)";
		else if (r == -EACCES || r == -EPERM)
			hint = " (netnsd accepts root and members of its admin group)";
		errorf("cannot connect to netnsd at %s: %s%s", c->socket_path, strerror(-r), hint);
		return r;
	}
	c->fd = TAKE_FD(fd);
	return 0;
}

void conn_close(struct ctx *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static int send_all(struct ctx *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			errorf("cannot send to netnsd at %s: %s", c->socket_path, strerror(errno));
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Send data with descriptors attached (SCM_RIGHTS): they travel with the first
 * bytes, so netnsd queues them for the request on this line.
 */
#define MAX_SEND_FDS 3

static int send_with_fds(struct ctx *c, const char *data, size_t len, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(MAX_SEND_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (nfds == 0)
		return send_all(c, data, len);
	if (nfds > MAX_SEND_FDS)
		return -EINVAL;
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	do
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		errorf("cannot send to netnsd at %s: %s", c->socket_path, strerror(errno));
		return -errno;
	}
	return send_all(c, data + n, len - (size_t)n);
}

/* Make room for RECV_CHUNK more bytes (and a NUL) in the receive buffer. */
static int buf_reserve(struct ctx *c)
{
	size_t cap;
	char *p;

	if (c->cap - c->len >= RECV_CHUNK + 1)
		return 0;
	cap = c->cap ? c->cap * 2 : RECV_CHUNK * 2;
	while (cap - c->len < RECV_CHUNK + 1)
		cap *= 2;
	p = realloc(c->buf, cap);
	if (!p) {
		errorf("out of memory reading a reply of more than %zu bytes", c->len);
		return -ENOMEM;
	}
	c->buf = p;
	c->cap = cap;
	return 0;
}

/*
 * One recv() into the buffer: returns the number of bytes, 0 at EOF, or -errno
 * after saying why.  Blocks unless data is waiting (call it after poll()).
 */
ssize_t conn_recv_some(struct ctx *c)
{
	ssize_t n;
	int r = buf_reserve(c);

	if (r < 0)
		return r;
	do
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		errorf("cannot read from netnsd at %s: %s", c->socket_path, strerror(errno));
		return -errno;
	}
	c->len += (size_t)n;
	return n;
}

/* The first complete line in the buffer, if any (NUL-terminated in place; see consume_line()). */
bool conn_line(struct ctx *c, char **ret_line, size_t *ret_len)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

	if (!nl)
		return false;
	*nl = '\0';
	*ret_line = c->buf;
	*ret_len = (size_t)(nl - c->buf);
	return true;
}

/*
 * Read one NDJSON line of any length into *ret_line (NUL-terminated, without
 * the newline; valid until the next call).  Bytes after the newline stay
 * buffered for the next line.
 */
static int recv_line(struct ctx *c, char **ret_line, size_t *ret_len)
{
	for (;;) {
		ssize_t n;

		if (conn_line(c, ret_line, ret_len))
			return 0;
		n = conn_recv_some(c);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			errorf("netnsd at %s closed the connection without a reply",
			       c->socket_path);
			return -ECONNRESET;
		}
	}
}

/* Drop the line recv_line() returned (and its newline) from the buffer. */
static void consume_line(struct ctx *c, size_t line_len)
{
	size_t used = line_len + 1;

	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
}

/* Take the line conn_line() or recv_line() returned as JSON; NULL (said why) if it is none. */
json_t *take_json_line(struct ctx *c, char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, 0, &jerr);

	consume_line(c, len);
	if (!json_is_object(msg)) {
		if (msg)
			errorf("netnsd sent a message that is not a JSON object (protocol error)");
		else
			errorf("netnsd sent a message that is not JSON: %s", jerr.text);
		json_decref(msg);
		return NULL;
	}
	return msg;
}

/* Print a JSON-RPC error object the way users read it; returns EXIT_FAIL. */
int print_rpc_error(json_t *error)
{
	const char *msg = json_string_value(json_object_get(error, "message"));
	json_t *data = json_object_get(error, "data");
	const char *field = json_string_value(json_object_get(data, "field"));
	const char *method = json_string_value(json_object_get(data, "method"));

	fflush(stdout);
	fputs("netnsctl: ", stderr);
	if (msg)
		fputs(msg, stderr);
	else
		fprintf(stderr, "error %" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(error, "code")));
	if (field)
		fprintf(stderr, " (field: %s)", field);
	if (method)
		fprintf(stderr, " (method: %s)", method);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

/*
 * Send a request for METHOD with PARAMS (reference stolen; NULL sends none) and
 * the descriptors fds (may be NULL), without waiting for the reply.  Sets
 * *ret_id to the request's id.  Returns 0, or EXIT_FAIL after saying why.
 */
int rpc_send(struct ctx *c, const char *method, json_t *params, const int *fds, size_t nfds,
	     json_int_t *ret_id)
{
	_cleanup_(json_decrefp) json_t *req = NULL;
	_cleanup_(freep) char *text = NULL;
	json_int_t id = c->next_id++;
	size_t len;

	req = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", id, "method", method);
	if (!req || (params && json_object_set_new(req, "params", params) < 0)) {
		if (!req)
			json_decref(params);
		errorf("out of memory");
		return EXIT_FAIL;
	}
	text = json_dumps(req, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text) {
		errorf("cannot encode the request (out of memory)");
		return EXIT_FAIL;
	}
	len = strlen(text);
	text[len] = '\n'; /* replaces the NUL; the length is what counts below */
	if (conn_open(c) < 0 || send_with_fds(c, text, len + 1, fds, nfds) < 0)
		return EXIT_FAIL;
	*ret_id = id;
	return 0;
}

/* The id of a reply, or -1 when it has none we could have sent (ours are positive). */
json_int_t reply_id(json_t *reply)
{
	json_t *rid = json_object_get(reply, "id");

	return json_is_integer(rid) ? json_integer_value(rid) : -1;
}

/*
 * The outcome of reply (borrowed) to request id: 0 with the result in
 * *ret_result (the caller's reference), or EXIT_FAIL after printing why (a
 * daemon error, also returned in *ret_error when that is not NULL, or a reply
 * that is not one).  quiet prints nothing for daemon errors.
 */
int reply_result(json_t *reply, json_int_t id, bool quiet, json_t **ret_result, json_t **ret_error)
{
	json_t *error = json_object_get(reply, "error"), *result;
	json_t *rid = json_object_get(reply, "id");

	/* A fatal error (frame too long ...) comes with a null id before netnsd hangs up. */
	if (!(json_is_integer(rid) && json_integer_value(rid) == id) &&
	    !(json_is_null(rid) && error)) {
		errorf("netnsd sent a reply to another request (protocol error)");
		return EXIT_FAIL;
	}
	if (error) {
		if (ret_error)
			*ret_error = json_incref(error);
		return quiet ? EXIT_FAIL : print_rpc_error(error);
	}
	result = json_object_get(reply, "result");
	if (!result) {
		errorf("netnsd sent a reply with neither result nor error (protocol error)");
		return EXIT_FAIL;
	}
	*ret_result = json_incref(result);
	return 0;
}

/*
 * Call METHOD with PARAMS (reference stolen; NULL sends none), passing the
 * descriptors fds with the request, and wait for its reply.  Returns 0 with the
 * result in *ret_result (the caller's reference), or EXIT_FAIL after printing
 * why: a daemon error (also in *ret_error if not NULL), a failed connection or
 * a reply that is not one.
 */
int rpc_call_fds(struct ctx *c, const char *method, json_t *params, const int *fds, size_t nfds,
		 json_t **ret_result, json_t **ret_error)
{
	_cleanup_(json_decrefp) json_t *reply = NULL;
	json_int_t id;
	size_t len = 0;
	char *line = NULL;
	int r;

	r = rpc_send(c, method, params, fds, nfds, &id);
	if (r)
		return r;
	if (recv_line(c, &line, &len) < 0)
		return EXIT_FAIL;
	reply = take_json_line(c, line, len);
	if (!reply)
		return EXIT_FAIL;
	return reply_result(reply, id, false, ret_result, ret_error);
}

/* rpc_call_fds() without descriptors or error details. */
int rpc_call(struct ctx *c, const char *method, json_t *params, json_t **ret_result)
{
	return rpc_call_fds(c, method, params, NULL, 0, ret_result, NULL);
}
