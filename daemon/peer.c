/*
 * peer.c: the JSON-RPC client side of netnsd towards its peers (see
 * peer.h).  Each call is one connection: connect, write one request line,
 * read one reply line, close.  That keeps a peer's restart (its socket
 * goes away and comes back) out of the picture: the next call simply
 * connects again.  A timer bounds every call from connect to reply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "nl.h"
#include "peer.h"
#include "state.h"
#include "util.h"

struct pcall {
	uv_pipe_t pipe;
	uv_connect_t connect;
	uv_write_t write;
	uv_timer_t timer;
	char *out;
	size_t outlen;
	char *in;
	size_t inlen, incap;
	peer_call_fn cb;
	void *userdata;
	unsigned open_handles;
	bool done;
	struct pcall *next, **pprev;
};

static uv_loop_t *peer_loop;
static struct pcall *calls;
static bool shut;
static unsigned long long next_id = 1;

void peer_init(uv_loop_t *loop)
{
	peer_loop = loop;
	shut = false;
}

static void on_close(uv_handle_t *h)
{
	struct pcall *pc = h->data;

	if (--pc->open_handles > 0)
		return;
	free(pc->out);
	free(pc->in);
	free(pc);
}

/* Answer once, then let both handles go; pc is freed in the last close callback. */
static void finish(struct pcall *pc, json_t *result, json_t *error, int err)
{
	if (pc->done)
		return;
	pc->done = true;
	if (pc->next)
		pc->next->pprev = pc->pprev;
	*pc->pprev = pc->next;
	uv_timer_stop(&pc->timer);
	pc->cb(pc->userdata, result, error, err);
	uv_close((uv_handle_t *)&pc->timer, on_close);
	uv_close((uv_handle_t *)&pc->pipe, on_close);
}

static void on_timeout(uv_timer_t *t)
{
	finish(t->data, NULL, NULL, -ETIMEDOUT);
}

static void parse_reply(struct pcall *pc, const char *line, size_t len)
{
	json_t *msg = json_loadb(line, len, 0, NULL), *result, *error;

	if (!json_is_object(msg)) {
		json_decref(msg);
		return finish(pc, NULL, NULL, -EPROTO);
	}
	result = json_object_get(msg, "result");
	error = json_object_get(msg, "error");
	if (json_is_object(error))
		finish(pc, NULL, error, 0);
	else if (result)
		finish(pc, result, NULL, 0);
	else
		finish(pc, NULL, NULL, -EPROTO);
	json_decref(msg);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct pcall *pc = h->data;
	size_t want = pc->inlen + (hint < 65536 ? 65536 : hint);

	if (want > pc->incap) {
		char *n = realloc(pc->in, want);

		if (!n) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		pc->in = n;
		pc->incap = want;
	}
	*buf = uv_buf_init(pc->in + pc->inlen, (unsigned)(pc->incap - pc->inlen));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct pcall *pc = s->data;
	char *nl;

	(void)buf;
	if (pc->done)
		return;
	if (n < 0)
		return finish(pc, NULL, NULL, n == UV_EOF ? -ECONNRESET : (int)n);
	pc->inlen += (size_t)n;
	nl = memchr(pc->in, '\n', pc->inlen);
	if (nl)
		return parse_reply(pc, pc->in, (size_t)(nl - pc->in));
	if (pc->inlen > PEER_MAX_REPLY)
		finish(pc, NULL, NULL, -EMSGSIZE);
}

static void on_write(uv_write_t *w, int status)
{
	struct pcall *pc = w->data;

	if (status < 0)
		finish(pc, NULL, NULL, status);
}

static void on_connect(uv_connect_t *c, int status)
{
	struct pcall *pc = c->data;
	uv_buf_t b;
	int r;

	if (pc->done)
		return;
	if (status < 0)
		return finish(pc, NULL, NULL, status);
	b = uv_buf_init(pc->out, (unsigned)pc->outlen);
	pc->write.data = pc;
	r = uv_write(&pc->write, (uv_stream_t *)&pc->pipe, &b, 1, on_write);
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&pc->pipe, on_alloc, on_read);
	if (r < 0)
		finish(pc, NULL, NULL, r);
}

int peer_call(const char *socket_path, const char *method, json_t *params, unsigned timeout_ms,
	      peer_call_fn cb, void *userdata)
{
	struct pcall *pc;
	json_t *req;
	char *text;

	if (shut || !peer_loop) {
		json_decref(params);
		return -ESHUTDOWN;
	}
	if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		json_decref(params);
		return -ENAMETOOLONG;
	}
	req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id", (json_int_t)next_id++,
			"method", method, "params", params ? params : json_object());
	if (!req)
		return -ENOMEM;
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	pc = text ? calloc(1, sizeof(*pc)) : NULL;
	if (!pc) {
		free(text);
		return -ENOMEM;
	}
	pc->outlen = strlen(text) + 1;
	pc->out = text;
	pc->out[pc->outlen - 1] = '\n'; /* the terminating NUL becomes the frame's end */
	pc->cb = cb;
	pc->userdata = userdata;
	uv_pipe_init(peer_loop, &pc->pipe, 0);
	uv_timer_init(peer_loop, &pc->timer);
	pc->pipe.data = pc->timer.data = pc->connect.data = pc;
	pc->open_handles = 2;
	pc->next = calls;
	if (calls)
		calls->pprev = &pc->next;
	pc->pprev = &calls;
	calls = pc;
	uv_timer_start(&pc->timer, on_timeout, timeout_ms ? timeout_ms : PEER_TIMEOUT_MS, 0);
	/* libuv creates the socket close-on-exec. */
	uv_pipe_connect(&pc->connect, &pc->pipe, socket_path, on_connect);
	return 0;
}

void peer_exit(void)
{
	shut = true;
	while (calls)
		finish(calls, NULL, NULL, -ECANCELED);
}

json_t *peer_doc(const char *name)
{
	return state_get(PEER_COLL, name);
}

const char *peer_socket(const char *name)
{
	return json_string_value(json_object_get(peer_doc(name), "socket"));
}

const char *peer_underlay_check(json_t *v, const char **ret_sub)
{
	struct nl_addr local, remote;
	const char *key;
	json_t *m;

	*ret_sub = NULL;
	if (!json_is_object(v))
		return "must be an object {local, remote, dev?, mtu?}";
	json_object_foreach(v, key, m) {
		*ret_sub = key;
		if (!strcmp(key, "local") || !strcmp(key, "remote")) {
			if (!json_is_string(m) ||
			    nl_parse_addr(json_string_value(m),
					  !strcmp(key, "local") ? &local : &remote) < 0)
				return "must be an IPv4 or IPv6 address";
		} else if (!strcmp(key, "dev")) {
			if (!json_is_string(m) || !ifname_valid(json_string_value(m)))
				return "must be an interface name";
		} else if (!strcmp(key, "mtu")) {
			if (!json_is_integer(m) || json_integer_value(m) < 118 ||
			    json_integer_value(m) > 65535)
				return "must be an integer in the range 118..65535";
		} else {
			return "unknown member";
		}
	}
	*ret_sub = !json_object_get(v, "local") ? "local" : "remote";
	if (!json_object_get(v, "local") || !json_object_get(v, "remote"))
		return "missing: this host's and the peer's underlay addresses";
	*ret_sub = "remote";
	if (local.family != remote.family)
		return "must be of the same family as local";
	*ret_sub = NULL;
	return NULL;
}
