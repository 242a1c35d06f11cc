/*
 * echo-floor.c: the floor server of the netnsd benchmark's daemon.ping
 * measurement.  A minimal JSON-RPC 2.0 server over NDJSON on a Unix stream
 * socket that answers daemon.ping exactly as netnsd does
 * ({"jsonrpc":"2.0","id":ID,"result":{"pong":true}}) and does nothing else.
 *
 * Why libuv + jansson rather than plain epoll: netnsd is built on those two
 * libraries and will stay on them, so the floor uses them the same way (one
 * single-threaded loop, uv_pipe_t connections, a growing input buffer split on
 * '\n', json_loadb to parse, json_pack + json_dumps(JSON_COMPACT) to answer,
 * the replies to one read collected and written with one uv_try_write).  The
 * ratio netnsd/floor then measures netnsd's own layers (framing, envelope
 * checks, dispatch, validation, call objects, reply encoding and queueing),
 * not a choice of library netnsd could not undo.  It does check what any
 * correct server must (an object, "jsonrpc":"2.0", a string method) and
 * answers anything else with a one-line error so no request goes unanswered.
 *
 * With --raw it skips JSON entirely and writes back a fixed pong line per
 * request line: the transport ceiling (libuv + socket), for reference.
 *
 * Usage: echo-floor SOCKET [--raw]
 * Runs until SIGTERM or SIGINT; removes SOCKET on exit.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define READ_CHUNK (64u << 10)

struct conn {
	uv_pipe_t pipe; /* first, so a handle pointer is a conn pointer */
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_cap;
};

struct wreq {
	uv_write_t req;
	char data[];
};

static uv_pipe_t server;
static uv_signal_t sig_term, sig_int;
static const char *socket_path;
static int raw;

static void out_append(struct conn *c, const char *s, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;

		while (cap < c->out_len + len)
			cap *= 2;
		c->out = realloc(c->out, cap);
		if (!c->out)
			abort();
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
}

static void answer(struct conn *c, const char *line, size_t len)
{
	static const char pong[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"pong\":true}}\n";
	static const char bad[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
				  "\"message\":\"Invalid Request\"}}\n";
	json_t *msg, *id, *v, *reply;
	char *s;

	if (raw) {
		out_append(c, pong, sizeof(pong) - 1);
		return;
	}
	msg = json_loadb(line, len, 0, NULL);
	if (!json_is_object(msg) || !json_is_string(v = json_object_get(msg, "jsonrpc")) ||
	    strcmp(json_string_value(v), "2.0") ||
	    !json_is_string(v = json_object_get(msg, "method"))) {
		json_decref(msg);
		out_append(c, bad, sizeof(bad) - 1);
		return;
	}
	id = json_object_get(msg, "id");
	if (!strcmp(json_string_value(v), "daemon.ping"))
		reply = json_pack("{s:s,s:O?,s:{s:b}}", "jsonrpc", "2.0", "id", id, "result", "pong",
				  1);
	else
		reply = json_pack("{s:s,s:O?,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id, "error",
				  "code", -32601, "message", "Method not found");
	json_decref(msg);
	s = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (!s)
		abort();
	out_append(c, s, strlen(s));
	out_append(c, "\n", 1);
	free(s);
}

static void on_closed(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;

	free(c->in);
	free(c->out);
	free(c);
}

static void on_write(uv_write_t *req, int status)
{
	free(req);
}

static void flush(struct conn *c)
{
	uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
	int n = uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
	struct wreq *w;

	if (n == UV_EAGAIN)
		n = 0;
	if (n < 0) {
		uv_close((uv_handle_t *)&c->pipe, on_closed);
		return;
	}
	if ((size_t)n < c->out_len) {
		size_t rest = c->out_len - (size_t)n;

		w = malloc(sizeof(*w) + rest);
		if (!w)
			abort();
		memcpy(w->data, c->out + n, rest);
		b = uv_buf_init(w->data, (unsigned)rest);
		if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write) < 0) {
			free(w);
			uv_close((uv_handle_t *)&c->pipe, on_closed);
			return;
		}
	}
	c->out_len = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;

	if (c->in_cap - c->in_len < READ_CHUNK) {
		c->in_cap = c->in_len + READ_CHUNK;
		c->in = realloc(c->in, c->in_cap);
		if (!c->in)
			abort();
	}
	*buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)s;
	size_t start = 0;
	char *nl;

	if (nread < 0) {
		uv_close((uv_handle_t *)s, on_closed);
		return;
	}
	c->in_len += (size_t)nread;
	while ((nl = memchr(c->in + start, '\n', c->in_len - start))) {
		answer(c, c->in + start, (size_t)(nl - c->in) - start);
		start = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->out_len)
		flush(c);
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	uv_pipe_init(uv_default_loop(), &c->pipe, 0);
	if (uv_accept(srv, (uv_stream_t *)&c->pipe) < 0) {
		uv_close((uv_handle_t *)&c->pipe, on_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_signal(uv_signal_t *h, int signum)
{
	uv_stop(uv_default_loop());
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	int r;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--raw"))) {
		fprintf(stderr, "Usage: echo-floor SOCKET [--raw]\n");
		return 2;
	}
	socket_path = argv[1];
	raw = argc == 3;
	signal(SIGPIPE, SIG_IGN);
	unlink(socket_path);
	uv_pipe_init(loop, &server, 0);
	r = uv_pipe_bind(&server, socket_path);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection);
	if (r < 0) {
		fprintf(stderr, "echo-floor: Failed to listen on '%s': %s\n", socket_path,
			uv_strerror(r));
		return 1;
	}
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_run(loop, UV_RUN_DEFAULT);
	unlink(socket_path);
	return 0;
}
