/*
 * fuzz-jsonrpc.c: libFuzzer harness for the JSON-RPC envelope and the
 * dispatcher (daemon/jsonrpc.c, daemon/dispatch.c).
 *
 * Each input is used twice:
 *  1. As one frame for the envelope: jsonrpc_decode(), jsonrpc_request_parse()
 *     on every request, a response for each, jsonrpc_encode().  Invariants:
 *     the reply frame is one line ending in '\n', it parses back, and every
 *     echoed id reads back equal to the id that came in (also fractional ids).
 *  2. Split into lines and fed to dispatch_frame() through a fake peer, with
 *     a small method table of test methods (no kernel, no state) that reply
 *     at once, fail, or answer later.  Invariants: every frame sent to the
 *     peer is one well-formed JSON-RPC response line (or an array of them);
 *     after the input every call has been answered and freed (no reference
 *     to the peer is left, nothing in flight); no leak (LeakSanitizer).
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "jsonrpc.h"
#include "log.h"
#include "fuzz.h"


/* 1. The envelope. */

static void check_response(json_t *r)
{
	json_t *id, *err;

	CHECK(json_is_object(r));
	CHECK(json_is_string(json_object_get(r, "jsonrpc")));
	CHECK(!strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0"));
	id = json_object_get(r, "id");
	CHECK(id && (json_is_string(id) || json_is_number(id) || json_is_null(id)));
	err = json_object_get(r, "error");
	CHECK(!!err != !!json_object_get(r, "result"));
	if (err) {
		CHECK(json_is_integer(json_object_get(err, "code")));
		CHECK(json_is_string(json_object_get(err, "message")));
	} else {
		CHECK(json_is_object(json_object_get(r, "result")));
	}
}

/* A frame the way the peer receives it: one line, parses, shaped like a response. */
static json_t *check_frame(const char *frame, size_t len)
{
	json_t *v;
	size_t i;
	json_t *item;

	CHECK(len > 1 && frame[len - 1] == '\n');
	CHECK(memchr(frame, '\n', len) == frame + len - 1);
	CHECK(strlen(frame) == len);
	/* An echoed string id may hold U+0000 (as the escape \u0000). */
	v = json_loadb(frame, len - 1, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	CHECK(v != NULL);
	if (json_is_array(v)) {
		CHECK(json_array_size(v) > 0);
		json_array_foreach(v, i, item)
			check_response(item);
	} else {
		check_response(v);
	}
	return v;
}

/* The response to one request (a frame or a batch item). */
static json_t *respond(json_t *item)
{
	struct jsonrpc_request q;
	json_t *data;

	jsonrpc_request_parse(item, &q);
	if (q.error_code) {
		CHECK(q.error_code == JSONRPC_INVALID_REQUEST);
		CHECK(q.error_message);
		data = jsonrpc_error_data(RPC_KIND_INVALID, 0, NULL);
		return jsonrpc_error(q.id, q.error_code, q.error_message, data);
	}
	CHECK(q.method);
	CHECK(!q.params || json_is_object(q.params) || json_is_array(q.params));
	return jsonrpc_result(q.id, json_pack("{s:s}", "m", q.method));
}

static void fuzz_envelope(const uint8_t *data, size_t size)
{
	json_t *msg = NULL, *replies, *item, *back;
	struct jsonrpc_request q;
	char err[256];
	size_t i, len;
	char *out;
	int code;

	code = jsonrpc_decode((const char *)data, size, &msg, err, sizeof(err));
	if (code) {
		CHECK(code == JSONRPC_PARSE_ERROR || code == JSONRPC_INVALID_REQUEST);
		CHECK(msg == NULL);
		replies = jsonrpc_error(NULL, code, err, NULL);
		out = jsonrpc_encode(replies, &len);
		CHECK(out);
		json_decref(check_frame(out, len));
		free(out);
		json_decref(replies);
		return;
	}
	CHECK(json_is_object(msg) || (json_is_array(msg) && json_array_size(msg) > 0));

	/* One response per request, built the way dispatch builds them. */
	replies = json_array();
	for (i = 0; i < (json_is_object(msg) ? 1 : json_array_size(msg)); i++) {
		item = json_is_object(msg) ? msg : json_array_get(msg, i);
		json_array_append_new(replies, respond(item));
	}
	out = jsonrpc_encode(json_is_object(msg) ? json_array_get(replies, 0) : replies, &len);
	CHECK(out);
	back = check_frame(out, len);
	/* Every id reads back equal to the request's (precision is exact). */
	if (json_is_array(msg))
		CHECK(json_array_size(back) == json_array_size(msg));
	for (i = 0; i < (json_is_object(msg) ? 1 : json_array_size(msg)); i++) {
		item = json_is_object(msg) ? msg : json_array_get(msg, i);
		jsonrpc_request_parse(item, &q);
		if (q.id) {
			json_t *echoed = json_is_object(back) ? back : json_array_get(back, i);

			CHECK(json_equal(json_object_get(echoed, "id"), q.id));
		}
	}
	json_decref(back);
	free(out);
	json_decref(replies);
	json_decref(msg);
}

/* 2. The dispatcher. */

static struct call *later[64];
static size_t nlater;
static bool released;

static int peer_send(struct dispatch_peer *p, char *frame, size_t len)
{
	json_decref(check_frame(frame, len));
	free(frame);
	return 0;
}

static void peer_release(struct dispatch_peer *p)
{
	released = true;
}

static const struct dispatch_peer_ops peer_ops = {
	.send = peer_send,
	.release = peer_release,
};

static const char *check_no_x(json_t *v, const char **ret_sub)
{
	const char *key;
	json_t *m;

	json_object_foreach(v, key, m) {
		if (key[0] == 'x') {
			*ret_sub = key;
			return "no x here";
		}
	}
	return NULL;
}

static void m_echo(struct call *c, json_t *params)
{
	call_reply(c, json_deep_copy(params));
}

static void m_fail(struct call *c, json_t *params)
{
	json_t *k = json_object_get(params, "kind");
	json_t *f = json_object_get(params, "field");

	call_fail(c, (enum rpc_kind)(k ? json_integer_value(k) : 0),
		  (int)json_integer_value(json_object_get(params, "errno")),
		  json_string_value(f), "failed: %s", json_string_value(f) ?: "-");
}

static void m_errno(struct call *c, json_t *params)
{
	call_fail_errno(c, (int)json_integer_value(json_object_get(params, "errno")), "errno",
			"errno %d", (int)json_integer_value(json_object_get(params, "errno")));
}

static void m_later(struct call *c, json_t *params)
{
	if (nlater == sizeof(later) / sizeof(later[0]))
		return call_fail(c, RPC_KIND_LIMIT, 0, NULL, "too many");
	later[nlater++] = c;
}

static const struct param p_peer[] = {
	{ .name = "name", .type = P_IFNAME, .required = true },
	{ .name = "netns", .type = P_NETNS },
	{ 0 },
};

static const struct param p_echo[] = {
	{ .name = "name", .type = P_NETNS },
	{ .name = "dev", .type = P_IFNAME },
	{ .name = "s", .type = P_STRING, .max = 16 },
	{ .name = "n", .type = P_INT, .min = -10, .max = 10 },
	{ .name = "b", .type = P_BOOL },
	{ .name = "peer", .type = P_OBJECT, .fields = p_peer },
	{ .name = "o", .type = P_OBJECT, .check = check_no_x },
	{ .name = "a", .type = P_ARRAY, .max = 4 },
	{ .name = "any", .type = P_ANY },
	{ 0 },
};

static const struct param p_fail[] = {
	{ .name = "kind", .type = P_INT, .min = 0, .max = _RPC_KIND_MAX - 1 },
	{ .name = "errno", .type = P_INT, .min = -200, .max = 200 },
	{ .name = "field", .type = P_STRING },
	{ 0 },
};

static const struct param p_errno[] = {
	{ .name = "errno", .type = P_INT, .required = true, .min = -200, .max = 200 },
	{ 0 },
};

static const struct method methods[] = {
	{ .name = "t.echo", .fn = m_echo, .params = p_echo },
	{ .name = "t.fail", .fn = m_fail, .params = p_fail },
	{ .name = "t.errno", .fn = m_errno, .params = p_errno },
	{ .name = "t.later", .fn = m_later, .params = NULL },
	{ .name = "t.mut", .fn = m_echo, .params = p_echo, .mutates = true },
};
static const struct method *const tables[] = { methods };
static const size_t sizes[] = { sizeof(methods) / sizeof(methods[0]) };

static void fuzz_dispatch(const uint8_t *data, size_t size)
{
	struct dispatch_peer peer;
	struct dispatch_stats ds;
	size_t start = 0;

	dispatch_peer_init(&peer, &peer_ops);
	/* An input ending in DEL plays an unprivileged peer. */
	peer.privileged = !(size > 0 && data[size - 1] == 0x7f);
	released = false;
	nlater = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			if (i > start)
				dispatch_frame(&peer, (const char *)data + start, i - start);
			start = i + 1;
		}
	}
	/* Answer the deferred calls, alternately with a result and an error. */
	for (size_t i = 0; i < nlater; i++) {
		if (i % 2)
			call_fail(later[i], RPC_KIND_TIMEOUT, 110, "later", "late failure");
		else
			call_reply(later[i], NULL);
	}
	nlater = 0;
	dispatch_get_stats(&ds);
	CHECK(ds.inflight == 0);
	CHECK(peer.refs == 1 && !released);
	dispatch_peer_gone(&peer);
	CHECK(released);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;

	if (!initialised) {
		log_set_level(LOG_CRIT);
		dispatch_init(tables, sizes, 1);
		dispatch_set_max_batch(16);
		initialised = true;
	}
	fuzz_envelope(data, size);
	fuzz_dispatch(data, size);
	return 0;
}
