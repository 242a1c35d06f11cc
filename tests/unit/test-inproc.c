/*
 * test-inproc.c: the real RPC stack in one process.
 *
 * The modules come up as main() brings them up (netns, state on a private
 * directory, events, reconcile, model, rpc on a socket in that directory,
 * methods) on the default libuv loop; the test connects plain client
 * sockets and drives the loop with uv_run(UV_RUN_NOWAIT) until the replies
 * arrive.  Covered: framing (pipelining, split lines, CRLF, blank lines),
 * ids, notifications, batches, every standard error, application errors,
 * the message, batch and connection limits, backpressure, shutting down,
 * and, as root only, peer credentials and netns.add/get/list/pids/identify/
 * delete (with processes inside, and with the client gone) checked against
 * the kernel.  Everything is torn down in main's reverse order and the loop
 * must close with no handle left.
 *
 * Keep the bring-up in step with daemon/main.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <uv.h>

#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "methods.h"
#include "model.h"
#include "netns.h"
#include "nlcache.h"
#include "reconcile.h"
#include "rpc.h"
#include "service.h"
#include "state.h"
#include "tap.h"
#include "tmptree.h"
#include "util.h"

#define MAX_MESSAGE	(64u << 10)
#define MAX_CONNECTIONS 8
#define MAX_QUEUED	(1u << 20)
#define WAIT_ROUNDS	3000 /* x 10 ms at most: a hang guard, not a timing check */

static uv_loop_t *loop;
static char tmp[64], sock_path[96], state_dir[96];
static char ns_name[32], ns_name2[32], ns_name3[32];
static bool ns_made;
static pid_t owner_pid;
static char self_exe[PATH_MAX];

struct client {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;
};

/* Client side. */

static struct client *client_new(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct client *c = calloc(1, sizeof(*c));

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("# connect %s: %s\n", sock_path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return c;
}

static void client_free(struct client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

static void client_read(struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = true;
		return;
	}
}

/* One loop iteration, then wait (at most 10 ms) for the loop or the client. */
static void step(struct client *c, short events)
{
	struct pollfd p[2] = { { uv_backend_fd(loop), POLLIN, 0 }, { c ? c->fd : -1, events, 0 } };
	int t = uv_backend_timeout(loop);

	uv_run(loop, UV_RUN_NOWAIT);
	if (c)
		client_read(c);
	poll(p, 2, t >= 0 && t < 10 ? t : 10);
	uv_run(loop, UV_RUN_NOWAIT);
	if (c)
		client_read(c);
}

/* Open descriptors of this process (the daemon's and the client's). */
static size_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Run the loop a little without waiting for anything in particular. */
static void settle(void)
{
	for (int i = 0; i < 5; i++)
		step(NULL, 0);
}

static bool client_send(struct client *c, const char *data, size_t len)
{
	for (int i = 0; len > 0 && i < WAIT_ROUNDS; i++) {
		ssize_t n = write(c->fd, data, len);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		step(c, POLLOUT);
	}
	return len == 0;
}

static bool send_str(struct client *c, const char *s)
{
	return client_send(c, s, strlen(s));
}

/* The next complete line (without '\n'; malloc'd), or NULL on EOF or after the guard. */
static char *client_line(struct client *c)
{
	for (int i = 0; i < WAIT_ROUNDS; i++) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, l);

			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return line;
		}
		if (c->eof)
			return NULL;
		step(c, POLLIN);
	}
	printf("# no reply after %d rounds\n", WAIT_ROUNDS);
	return NULL;
}

static json_t *client_reply(struct client *c)
{
	_cleanup_(freep) char *line = client_line(c);
	json_error_t e;
	json_t *v;

	if (!line)
		return NULL;
	v = json_loads(line, 0, &e);
	if (!v)
		printf("# unparsable reply: %s\n", line);
	return v;
}

/* Send one line (a '\n' is added) and read one reply. */
static json_t *call(struct client *c, const char *request)
{
	_cleanup_(freep) char *line = NULL;

	if (asprintf(&line, "%s\n", request) < 0 || !send_str(c, line))
		return NULL;
	return client_reply(c);
}

static bool client_wait_eof(struct client *c)
{
	for (int i = 0; i < WAIT_ROUNDS && !c->eof; i++)
		step(c, POLLIN);
	return c->eof;
}

/* Assertions on replies. */

static void show(const char *what, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	printf("# %s: %s\n", what, s ? s : "(none)");
	free(s);
}

static void expect_json(json_t *got, const char *want_text, const char *desc)
{
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
	bool ok = got && want && json_equal(got, want);

	OK(ok, desc);
	if (!ok) {
		show("got", got);
		printf("# want: %s\n", want_text);
	}
	json_decref(want);
}

static long long err_code(json_t *reply)
{
	json_t *code = json_object_get(json_object_get(reply, "error"), "code");

	return json_is_integer(code) ? json_integer_value(code) : 0;
}

static const char *err_data(json_t *reply, const char *member)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(reply, "error"), "data"), member));
}

/* The reply is an error with this code, kind (NULL: no data.kind) and field. */
static void expect_error(json_t *reply, long long code, const char *kind, const char *field,
			 const char *desc)
{
	char d[256];
	bool ok;

	snprintf(d, sizeof(d), "%s: code %lld", desc, code);
	EQ_INT(err_code(reply), code, d);
	ok = json_is_string(json_object_get(json_object_get(reply, "error"), "message"));
	snprintf(d, sizeof(d), "%s: has a message", desc);
	OK(ok, d);
	if (kind) {
		snprintf(d, sizeof(d), "%s: data.kind %s", desc, kind);
		EQ_STR(err_data(reply, "kind"), kind, d);
	}
	if (field) {
		snprintf(d, sizeof(d), "%s: data.field %s", desc, field);
		EQ_STR(err_data(reply, "field"), field, d);
	}
	if (!reply || !json_object_get(reply, "error"))
		show("reply", reply);
}

/* Sections. */

static void test_basics(struct client *c)
{
	char *line;
	json_t *r;

	/* The exact frame: compact, fixed member order, one '\n'. */
	send_str(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}\n");
	line = client_line(c);
	EQ_STR(line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"pong\":true}}",
	       "ping: exact reply frame");

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":\"a b\\u00e9\",\"method\":\"daemon.ping\",\"params\":{}}");
	expect_json(r, "{\"jsonrpc\":\"2.0\",\"id\":\"a b\xc3\xa9\",\"result\":{\"pong\":true}}",
		    "ping: string id echoed, empty params fine");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"daemon.ping\"}");
	expect_json(r, "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"pong\":true}}",
		    "ping: id null is answered (not a notification)");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,\"method\":\"daemon.ping\"}");
	OK(r && json_integer_value(json_object_get(r, "id")) == 9223372036854775807ll,
	   "ping: int64 max id echoed");
	json_decref(r);

	/* Fractional ids: the text of the reply, not just the value. */
	free(line);
	send_str(c, "{\"jsonrpc\":\"2.0\",\"id\":0.1,\"method\":\"daemon.ping\"}\n");
	line = client_line(c);
	EQ_STR(line, "{\"jsonrpc\":\"2.0\",\"id\":0.1,\"result\":{\"pong\":true}}",
	       "ping: id 0.1 echoed as 0.1");
	free(line);
	send_str(c, "{\"jsonrpc\":\"2.0\",\"id\":-2.25e-07,\"method\":\"daemon.ping\"}\n");
	line = client_line(c);
	EQ_STR(line, "{\"jsonrpc\":\"2.0\",\"id\":-2.25e-7,\"result\":{\"pong\":true}}",
	       "ping: id -2.25e-07 echoed in its shortest form");
	free(line);

	/* CRLF, member order, whitespace. */
	send_str(c, " { \"method\" : \"daemon.ping\" , \"id\" : 2 , \"jsonrpc\" : \"2.0\" } \r\n");
	line = client_line(c);
	EQ_STR(line, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"pong\":true}}",
	       "framing: CRLF and whitespace accepted");
	free(line);

	/* Blank lines are skipped, not answered. */
	send_str(c, "\n \t\r\n\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"daemon.ping\"}\n");
	r = client_reply(c);
	EQ_INT(json_integer_value(json_object_get(r, "id")), 3, "framing: blank lines ignored");
	json_decref(r);

	/* Pipelining: three requests in one write, three replies in order. */
	send_str(c, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"daemon.ping\"}\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"nope\"}\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"daemon.ping\"}\n");
	for (int i = 11; i <= 13; i++) {
		char d[64];

		r = client_reply(c);
		snprintf(d, sizeof(d), "pipelining: reply %d in order", i);
		EQ_INT(json_integer_value(json_object_get(r, "id")), i, d);
		json_decref(r);
	}

	/* A request split over several writes and loop iterations. */
	send_str(c, "{\"jsonrpc\":\"2.0\",");
	settle();
	send_str(c, "\"id\":14,\"meth");
	settle();
	OK(c->len == 0, "framing: no reply to half a line");
	send_str(c, "od\":\"daemon.ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":15,");
	r = client_reply(c);
	EQ_INT(json_integer_value(json_object_get(r, "id")), 14, "framing: split request answered");
	json_decref(r);
	send_str(c, "\"method\":\"daemon.ping\"}\n");
	r = client_reply(c);
	EQ_INT(json_integer_value(json_object_get(r, "id")), 15,
	       "framing: the rest of a line after a newline is kept");
	json_decref(r);
}

static void test_errors(struct client *c)
{
	json_t *r;

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"");
	expect_error(r, -32700, NULL, NULL, "parse error");
	OK(r && json_is_null(json_object_get(r, "id")), "parse error: id null");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\",\"id\":2}");
	expect_error(r, -32700, NULL, NULL, "duplicate key");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}");
	expect_error(r, -32700, NULL, NULL, "invalid UTF-8");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}");
	OK(r && json_object_get(r, "result"), "parse errors leave the connection usable");
	json_decref(r);

	r = call(c, "42");
	expect_error(r, -32600, NULL, NULL, "bare number");
	json_decref(r);
	r = call(c, "[]");
	expect_error(r, -32600, NULL, NULL, "empty batch");
	OK(json_is_object(r) && json_is_null(json_object_get(r, "id")),
	   "empty batch: one error object (not an array), id null");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"daemon.ping\"}");
	expect_error(r, -32600, NULL, NULL, "id an object");
	OK(r && json_is_null(json_object_get(r, "id")), "id an object: answered with id null");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"daemon.ping\",\"extra\":0}");
	expect_error(r, -32600, NULL, NULL, "unknown envelope member");
	EQ_INT(json_integer_value(json_object_get(r, "id")), 7, "unknown envelope member: id kept");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"1.0\",\"id\":8,\"method\":\"daemon.ping\"}");
	expect_error(r, -32600, NULL, NULL, "jsonrpc 1.0");
	json_decref(r);

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"no.such\"}");
	expect_error(r, -32601, NULL, NULL, "unknown method");
	EQ_STR(err_data(r, "method"), "no.such", "unknown method: data.method names it");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"netns.get\",\"params\":[\"a\"]}");
	expect_error(r, -32602, "invalid", NULL, "positional params");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"netns.get\",\"params\":{}}");
	expect_error(r, -32602, "invalid", "name", "missing required param");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"netns.get\","
		    "\"params\":{\"name\":\"a\",\"nme\":1}}");
	expect_error(r, -32602, "invalid", "nme", "unknown param");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"netns.get\","
		    "\"params\":{\"name\":\"../etc\"}}");
	expect_error(r, -32602, "invalid", "name", "bad namespace name");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"daemon.ping\",\"params\":{\"x\":1}}");
	expect_error(r, -32602, "invalid", "x", "daemon.ping takes no params");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"netns.add\","
		    "\"params\":{\"name\":\"x\",\"sysctls\":{\"kernel.hostname\":\"y\"}}}");
	expect_error(r, -32602, "invalid", "sysctls.kernel.hostname", "sysctl outside net.");
	json_decref(r);

	/* Application error: not_found with errno and field. */
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"netns.get\","
		    "\"params\":{\"name\":\"netnsd-inproc-does-not-exist\"}}");
	expect_json(r,
		    "{\"jsonrpc\":\"2.0\",\"id\":16,\"error\":{\"code\":1,\"message\":\"No namespace "
		    "named 'netnsd-inproc-does-not-exist'\",\"data\":{\"kind\":\"not_found\","
		    "\"errno\":2,\"field\":\"name\"}}}",
		    "netns.get of a missing name: not_found, errno 2, field name");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"netns.delete\","
		    "\"params\":{\"name\":\"netnsd-inproc-does-not-exist\"}}");
	expect_error(r, 1, "not_found", "name", "netns.delete of a missing name");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"netns.pids\","
		    "\"params\":{\"name\":\"netnsd-inproc-does-not-exist\"}}");
	expect_error(r, 1, "not_found", "name", "netns.pids of a missing name");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"netns.identify\","
		    "\"params\":{\"pid\":2147483647}}");
	expect_error(r, 1, "not_found", "pid", "netns.identify of a missing pid");
	json_decref(r);
}

static void test_notifications_and_batches(struct client *c)
{
	json_t *r, *item;
	size_t i;

	/* Notifications are run and never answered, not even when they fail. */
	send_str(c, "{\"jsonrpc\":\"2.0\",\"method\":\"daemon.ping\"}\n"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}\n"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"netns.get\",\"params\":{\"bad\":1}}\n"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"netns.get\",\"params\":{\"name\":\"nx-nx\"}}\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":\"after\",\"method\":\"daemon.ping\"}\n");
	r = client_reply(c);
	EQ_STR(json_string_value(json_object_get(r, "id")), "after",
	       "notifications: none answered (the next reply is the request after them)");
	json_decref(r);

	/* A mixed batch. */
	r = call(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"no.such\"},"
		    "{\"id\":4,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"netns.get\",\"params\":{\"name\":\"a/b\"}},"
		    "7,"
		    "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"netns.get\","
		    "\"params\":{\"name\":\"netnsd-inproc-does-not-exist\"}}]");
	OK(json_is_array(r) && json_array_size(r) == 6,
	   "batch: one array, one response per request with an id (notification skipped)");
	if (!json_is_array(r) || json_array_size(r) != 6)
		show("batch", r);
	expect_json(json_object_get(json_array_get(r, 0), "id"), "1", "batch: item 1 first");
	OK(json_object_get(json_array_get(r, 0), "result") != NULL, "batch: item 1 succeeded");
	EQ_INT(json_integer_value(json_object_get(json_array_get(r, 1), "id")), 3,
	       "batch: then item 3");
	EQ_INT(err_code(json_array_get(r, 1)), -32601, "batch: item 3 method not found");
	EQ_INT(json_integer_value(json_object_get(json_array_get(r, 2), "id")), 4,
	       "batch: then item 4");
	EQ_INT(err_code(json_array_get(r, 2)), -32600, "batch: item 4 invalid request");
	EQ_INT(err_code(json_array_get(r, 3)), -32602, "batch: item 5 invalid params");
	EQ_STR(err_data(json_array_get(r, 3), "field"), "name", "batch: item 5 names the field");
	OK(json_is_null(json_object_get(json_array_get(r, 4), "id")) &&
		   err_code(json_array_get(r, 4)) == -32600,
	   "batch: item 7 (a number) -> -32600 with id null");
	EQ_INT(err_code(json_array_get(r, 5)), 1, "batch: last item not_found");
	EQ_STR(json_string_value(json_object_get(json_array_get(r, 5), "id")), "s",
	       "batch: last item keeps its string id");
	json_decref(r);

	r = call(c, "[1,2,3]");
	OK(json_is_array(r) && json_array_size(r) == 3, "batch [1,2,3]: three errors");
	json_array_foreach(r, i, item) {
		char d[96];

		snprintf(d, sizeof(d), "batch [1,2,3]: error %zu is -32600 with id null", i + 1);
		OK(err_code(item) == -32600 && json_is_null(json_object_get(item, "id")), d);
	}
	json_decref(r);

	/* A batch of notifications only: no reply at all. */
	send_str(c, "[{\"jsonrpc\":\"2.0\",\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}]\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":\"next\",\"method\":\"daemon.ping\"}\n");
	r = client_reply(c);
	OK(json_is_object(r) && !strcmp(json_string_value(json_object_get(r, "id")) ?: "", "next"),
	   "batch of notifications: no reply");
	json_decref(r);

	/* A one-item batch is answered with a one-item array. */
	r = call(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}]");
	OK(json_is_array(r) && json_array_size(r) == 1, "batch of one: an array of one");
	json_decref(r);

	/* The batch limit. */
	dispatch_set_max_batch(3);
	r = call(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"daemon.ping\"}]");
	OK(json_is_array(r) && json_array_size(r) == 3, "max batch 3: a batch of 3 runs");
	json_decref(r);
	r = call(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"daemon.ping\"},"
		    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"daemon.ping\"}]");
	expect_error(r, -32600, "limit", NULL, "max batch 3: a batch of 4");
	OK(json_is_object(r) && json_is_null(json_object_get(r, "id")),
	   "max batch 3: one error object, id null");
	json_decref(r);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"daemon.ping\"}");
	OK(r && json_object_get(r, "result"), "max batch: the connection stays open");
	json_decref(r);
	dispatch_set_max_batch(1024);
}

static void test_daemon_methods(struct client *c)
{
	json_t *r, *res, *doc;

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.info\"}");
	res = json_object_get(r, "result");
	OK(json_is_object(res), "daemon.info: result is an object");
	EQ_STR(json_string_value(json_object_get(res, "version")), "inproc-test",
	       "daemon.info: version from the context");
	EQ_INT(json_integer_value(json_object_get(res, "pid")), getpid(), "daemon.info: our pid");
	EQ_STR(json_string_value(json_object_get(res, "socket")), sock_path, "daemon.info: socket");
	EQ_STR(json_string_value(json_object_get(res, "state_dir")), state_dir,
	       "daemon.info: state_dir");
	EQ_INT(json_integer_value(json_object_get(json_object_get(res, "limits"), "max_message_bytes")),
	       MAX_MESSAGE, "daemon.info: limits.max_message_bytes");
	EQ_INT(json_integer_value(json_object_get(json_object_get(res, "limits"), "max_connections")),
	       MAX_CONNECTIONS, "daemon.info: limits.max_connections");
	EQ_INT(json_integer_value(json_object_get(json_object_get(res, "limits"), "max_batch")), 1024,
	       "daemon.info: limits.max_batch");
	OK(json_integer_value(json_object_get(json_object_get(res, "counts"), "connections")) >= 1,
	   "daemon.info: counts.connections");
	OK(json_integer_value(json_object_get(json_object_get(res, "counts"), "requests")) > 10,
	   "daemon.info: counts.requests counts what came before");
	OK(json_is_object(json_object_get(res, "restore")), "daemon.info: restore report");
	json_decref(r);

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"rpc.discover\"}");
	doc = json_loads(method_ctx_openrpc_text(), 0, NULL);
	OK(doc && json_equal(json_object_get(r, "result"), doc),
	   "rpc.discover: the embedded OpenRPC document");
	json_decref(doc);
	json_decref(r);

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"netns.list\"}");
	OK(json_is_array(json_object_get(json_object_get(r, "result"), "namespaces")),
	   "netns.list: {namespaces: [...]}");
	json_decref(r);
}

static void test_limits(void)
{
	struct client *c, *extra[MAX_CONNECTIONS + 1] = { 0 }, *refused;
	_cleanup_(freep) char *big = malloc(MAX_MESSAGE + 2);
	struct rpc_stats rs;
	json_t *r;
	size_t head;
	int n = 0;

	/* A line of exactly the limit is fine. */
	c = client_new();
	head = (size_t)sprintf(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}");
	memset(big + head, ' ', MAX_MESSAGE - head);
	big[MAX_MESSAGE] = '\n';
	client_send(c, big, MAX_MESSAGE + 1);
	r = client_reply(c);
	OK(r && json_object_get(r, "result"), "limit: a line of exactly max_message bytes runs");
	json_decref(r);

	/* One byte more: error (id null, kind limit), then the connection closes. */
	memset(big + head, ' ', MAX_MESSAGE + 1 - head);
	big[MAX_MESSAGE + 1] = '\n';
	client_send(c, big, MAX_MESSAGE + 2);
	r = client_reply(c);
	expect_error(r, -32600, "limit", NULL, "limit: max_message + 1 bytes");
	OK(r && json_is_null(json_object_get(r, "id")), "limit: oversized message: id null");
	json_decref(r);
	OK(client_wait_eof(c), "limit: oversized message: connection closed");
	client_free(c);

	/* Without a newline: the server does not wait for the end of it. */
	c = client_new();
	memset(big, ' ', MAX_MESSAGE + 1);
	client_send(c, big, MAX_MESSAGE + 1);
	r = client_reply(c);
	expect_error(r, -32600, "limit", NULL, "limit: unterminated oversized message");
	json_decref(r);
	OK(client_wait_eof(c), "limit: unterminated oversized message: connection closed");
	client_free(c);

	/* Connections. */
	settle();
	rpc_get_stats(&rs);
	while (rs.connections + (size_t)n < MAX_CONNECTIONS) {
		extra[n] = client_new();
		r = extra[n] ? call(extra[n], "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}")
			     : NULL;
		json_decref(r);
		n++;
	}
	rpc_get_stats(&rs);
	EQ_INT(rs.connections, MAX_CONNECTIONS, "limit: connections up to the limit accepted");
	refused = client_new();
	r = refused ? client_reply(refused) : NULL;
	expect_error(r, 8, "limit", NULL, "limit: one connection too many");
	OK(r && json_is_null(json_object_get(r, "id")), "limit: refused connection: id null");
	json_decref(r);
	OK(refused && client_wait_eof(refused), "limit: refused connection closed");
	client_free(refused);
	settle();
	rpc_get_stats(&rs);
	EQ_INT(rs.refused, 1, "limit: stats count the refusal");
	/* Closing one makes room again. */
	client_free(extra[0]);
	extra[0] = NULL;
	settle();
	c = client_new();
	r = c ? call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}") : NULL;
	OK(r && json_object_get(r, "result"), "limit: a freed slot is usable");
	json_decref(r);
	client_free(c);
	for (int i = 0; i < n; i++)
		client_free(extra[i]);
	settle();

	/* A client that hangs up with requests in flight harms nothing. */
	c = client_new();
	send_str(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.info\"}\n"
		    "[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"rpc.discover\"}]\n");
	client_free(c);
	settle();
	c = client_new();
	r = c ? call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}") : NULL;
	OK(r && json_object_get(r, "result"), "hang-up: the daemon carries on");
	rpc_get_stats(&rs);
	EQ_INT(rs.refused, 1, "limit: no connection refused once the slots were free");
	json_decref(r);
	client_free(c);
}

/*
 * A pipelined burst whose replies add up to more than max_queued, sent in
 * one write by a client that reads everything: backpressure should hold
 * the rest of the burst back until the client has read, not disconnect it.
 */
static void test_backpressure(void)
{
	static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc.discover\"}\n";
	size_t one = strlen(method_ctx_openrpc_text()), n = (2 * MAX_QUEUED) / one + 2, got = 0;
	struct client *c = client_new();
	char *burst = malloc(n * (sizeof(req) - 1)), *line;

	for (size_t i = 0; i < n; i++)
		memcpy(burst + i * (sizeof(req) - 1), req, sizeof(req) - 1);
	client_send(c, burst, n * (sizeof(req) - 1));
	while (got < n && (line = client_line(c))) {
		got++;
		free(line);
	}
	EQ_INT(got, n, "backpressure: a burst whose replies exceed max_queued is answered in full");
	client_free(c);
	free(burst);
	settle();
}

static void test_shutting_down(struct client *c)
{
	json_t *r;

	dispatch_set_shutting_down(true);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}");
	expect_error(r, 9, "shutting_down", NULL, "shutting down: new calls refused");
	json_decref(r);
	dispatch_set_shutting_down(false);
	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.ping\"}");
	OK(r && json_object_get(r, "result"), "shutting down: cleared again");
	json_decref(r);
}

/* Peer credentials: a child that is not root connects (root only). */

/* Runs in a fresh exec of this binary: test-inproc --peer-child SOCKET 0|1. */
static int child_peer(bool admin_group)
{
	static const char req[] = "{\"jsonrpc\":\"2.0\",\"method\":\"daemon.ping\"}\n"
				  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.ping\"}\n";
	gid_t groups[1] = { 0 };
	struct client *c;
	json_t *r = NULL;
	int fails = 0;

	if (setgroups(admin_group ? 1 : 0, groups) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 0x40;
	c = client_new();
	if (!c)
		return 0x20;
	/* Blocking I/O: the parent runs the loop. */
	fcntl(c->fd, F_SETFL, 0);
	if (write_all(c->fd, req, sizeof(req) - 1) < 0) {
		client_free(c);
		return 0x10;
	}
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->cap - c->len < 4096) {
			c->cap += 65536;
			c->buf = realloc(c->buf, c->cap);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n <= 0) {
			client_free(c);
			return 0x08;
		}
		c->len += (size_t)n;
		nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			*nl = '\0';
			break;
		}
	}
	r = json_loads(c->buf, 0, NULL);
	client_free(c);
	if (json_integer_value(json_object_get(r, "id")) != 1)
		fails |= 1; /* the notification got no reply, the request did */
	if (admin_group) {
		if (!json_object_get(r, "result"))
			fails |= 2;
	} else {
		if (err_code(r) != 5 || strcmp(err_data(r, "kind") ?: "", "permission"))
			fails |= 4;
	}
	json_decref(r);
	return fails;
}

static int run_peer_child(bool admin_group)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* A new image, so no copy of this process exits under valgrind. */
		execl(self_exe, self_exe, "--peer-child", sock_path, admin_group ? "1" : "0",
		      (char *)NULL);
		_exit(0x80);
	}
	for (int i = 0; i < WAIT_ROUNDS; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 0x100 | WTERMSIG(status);
		step(NULL, 0);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0x200;
}

static void test_peer_credentials(void)
{
	int res;

	if (geteuid() != 0) {
		printf("ok %d - peer credentials # SKIP needs root to connect as another uid\n", ++tap_n);
		return;
	}
	/* The child (uid 65534) must be able to reach and open the socket. */
	chmod(tmp, 0711);
	chmod(sock_path, 0666);
	res = run_peer_child(false);
	EQ_INT(res, 0, "peer: uid 65534 outside the admin group gets permission errors only");
	res = run_peer_child(true);
	EQ_INT(res, 0, "peer: uid 65534 with the admin group as supplementary group may call");
	chmod(sock_path, 0660);
	chmod(tmp, 0700);
}

/* netns.add/get/list/delete against the kernel (root only). */

static char *journal_text(void)
{
	char path[PATH_MAX], *buf = NULL;

	snprintf(path, sizeof(path), "%.96s/journal.jsonl", state_dir);
	if (read_small_file(path, 64u << 20, &buf) < 0)
		return NULL;
	return buf;
}

/*
 * Read a sysctl inside the namespace: a child enters it (setns changes only
 * the caller) and execs cat, so no copy of this process image exits (which
 * valgrind would leak-check).
 */
static int sysctl_in_ns(const char *name, const char *path, char *out, size_t outlen)
{
	int p[2], status;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char file[PATH_MAX];
		int fd;

		snprintf(file, sizeof(file), NETNS_RUN_DIR "/%s", name);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0 || dup2(p[1], STDOUT_FILENO) < 0)
			_exit(126);
		/* /proc/sys/net follows the namespace of the process that opens it. */
		execl("/bin/cat", "cat", path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], out, outlen - 1);
	close(p[0]);
	waitpid(pid, &status, 0);
	out[n > 0 ? n : 0] = '\0';
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void test_netns_cycle(struct client *c)
{
	char req[1024], path[PATH_MAX], val[64];
	struct stat st, host;
	json_t *r, *res;
	char *j;

	if (geteuid() != 0) {
		printf("ok %d - netns.add/delete cycle # SKIP needs root\n", ++tap_n);
		return;
	}
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns_name);
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"netns.add\",\"params\":{\"name\":\"%s\","
		 "\"sysctls\":{\"net.ipv4.ip_forward\":1,\"net/ipv4/conf/all/rp_filter\":true},"
		 "\"resolv_conf\":\"nameserver 192.0.2.53\\n\"}}",
		 ns_name);
	ns_made = true; /* from here on the cleanup looks for it */
	r = call(c, req);
	res = json_object_get(r, "result");
	OK(json_is_object(res), "netns.add: result");
	if (!res)
		show("netns.add", r);
	EQ_STR(json_string_value(json_object_get(res, "name")), ns_name, "netns.add: name");
	OK(json_is_true(json_object_get(res, "managed")), "netns.add: managed");
	OK(json_is_true(json_object_get(res, "mounted")), "netns.add: mounted");
	expect_json(json_object_get(res, "sysctls"),
		    "{\"net.ipv4.ip_forward\":\"1\",\"net/ipv4/conf/all/rp_filter\":\"1\"}",
		    "netns.add: sysctls echoed as strings");

	/* The kernel's view: an nsfs mount with the reported inode. */
	OK(stat("/proc/self/ns/net", &host) == 0 && stat(path, &st) == 0 &&
		   st.st_dev == host.st_dev && st.st_ino != host.st_ino,
	   "netns.add: /run/netns/NAME is an nsfs mount of another namespace");
	EQ_INT(st.st_ino, json_integer_value(json_object_get(res, "inode")),
	       "netns.add: inode reported is the kernel's");
	OK(sysctl_in_ns(ns_name, "/proc/sys/net/ipv4/ip_forward", val, sizeof(val)) == 0 &&
		   !strcmp(val, "1\n"),
	   "netns.add: sysctl applied inside the namespace");
	OK(sysctl_in_ns(ns_name, "/proc/sys/net/ipv4/conf/all/rp_filter", val, sizeof(val)) == 0 &&
		   !strcmp(val, "1\n"),
	   "netns.add: slashed sysctl applied inside the namespace");
	{
		char file[PATH_MAX], *text = NULL;

		snprintf(file, sizeof(file), NETNS_ETC_DIR "/%s/resolv.conf", ns_name);
		read_small_file(file, 4096, &text);
		EQ_STR(text, "nameserver 192.0.2.53\n", "netns.add: /etc/netns/NAME/resolv.conf");
		free(text);
	}
	/* Durable before the reply: the record is in the journal file already. */
	j = journal_text();
	OK(j && strstr(j, ns_name) && strstr(j, "\"op\":\"put\""),
	   "netns.add: the change was in the journal before the reply");
	free(j);
	OK(state_get("netns", ns_name) != NULL, "netns.add: in the desired state");
	json_decref(r);

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"netns.add\",\"params\":{\"name\":\"%s\"}}",
		 ns_name);
	r = call(c, req);
	expect_error(r, 2, "exists", "name", "netns.add twice");
	json_decref(r);

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"netns.get\",\"params\":{\"name\":\"%s\"}}",
		 ns_name);
	r = call(c, req);
	OK(json_is_true(json_object_get(json_object_get(r, "result"), "managed")),
	   "netns.get: managed");
	json_decref(r);

	r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"netns.list\"}");
	{
		json_t *list = json_object_get(json_object_get(r, "result"), "namespaces"), *e;
		bool found = false;
		size_t i;

		json_array_foreach(list, i, e)
			if (!strcmp(json_string_value(json_object_get(e, "name")) ?: "", ns_name))
				found = json_is_true(json_object_get(e, "managed"));
		OK(found, "netns.list: lists it as managed");
	}
	json_decref(r);

	/*
	 * netns.open: the reply passes the namespace (SCM_RIGHTS).  This client
	 * reads with read(), so the kernel discards the descriptor: the reply
	 * still names it, and neither side keeps a copy (daemon and client are
	 * this one process, so its descriptor count says it).
	 */
	{
		size_t before = count_fds();

		snprintf(req, sizeof(req),
			 "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"netns.open\","
			 "\"params\":{\"name\":\"%s\"}}",
			 ns_name);
		r = call(c, req);
		res = json_object_get(r, "result");
		OK(json_integer_value(json_object_get(res, "fd")) == 0 &&
			   json_is_integer(json_object_get(res, "fd")),
		   "netns.open: the result names descriptor 0");
		OK(json_is_true(json_object_get(res, "managed")), "netns.open: managed");
		snprintf(req, sizeof(req), NETNS_RUN_DIR "/%s", ns_name);
		OK(stat(req, &st) == 0 &&
			   (json_int_t)st.st_ino == json_integer_value(json_object_get(res, "inode")),
		   "netns.open: inode of the namespace mounted at the name");
		json_decref(r);
		settle();
		OK(count_fds() == before, "netns.open: read() lost the descriptor, nobody leaked it");
		r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"netns.open\","
			    "\"params\":{\"name\":\"netnsd-inproc-does-not-exist\"}}");
		expect_error(r, 1, "not_found", "name", "netns.open of a missing name");
		json_decref(r);
	}

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"netns.delete\",\"params\":{\"name\":\"%s\"}}",
		 ns_name);
	r = call(c, req);
	res = json_object_get(r, "result");
	OK(json_is_object(res), "netns.delete: result");
	if (!res)
		show("netns.delete", r);
	expect_json(json_object_get(res, "terminated"), "[]", "netns.delete: nothing to terminate");
	OK(access(path, F_OK) < 0 && errno == ENOENT, "netns.delete: /run/netns/NAME gone");
	{
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", ns_name);
		OK(access(dir, F_OK) < 0 && errno == ENOENT, "netns.delete: /etc/netns/NAME gone");
	}
	OK(state_get("netns", ns_name) == NULL, "netns.delete: out of the desired state");
	j = journal_text();
	OK(j && strstr(j, "\"op\":\"del\""), "netns.delete: durable before the reply");
	free(j);
	json_decref(r);

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"netns.get\",\"params\":{\"name\":\"%s\"}}",
		 ns_name);
	r = call(c, req);
	expect_error(r, 1, "not_found", "name", "netns.get after delete");
	json_decref(r);
}

/*
 * A process of ours inside the namespace, ignoring SIGTERM or not.  It
 * tells the parent through ready when it is in; it never exits on its own.
 */
static pid_t spawn_inside(const char *name, bool ignore_term)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char file[PATH_MAX];
		int fd;

		snprintf(file, sizeof(file), NETNS_RUN_DIR "/%s", name);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(1);
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		/* A new image: nothing of this process is left to exit under valgrind. */
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		execl("/bin/sleep", "sleep", "600", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	return pid;
}

/*
 * Wait for our child to die (the delete should kill it); after the guard,
 * kill it ourselves, so a failed check never leaves it behind.  Only a child
 * not yet reaped is signalled, so its PID cannot have been reused.
 */
static int wait_child(pid_t pid)
{
	int status = 0;

	for (int i = 0; i < WAIT_ROUNDS; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		step(NULL, 0);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Add a namespace over the connection; true on success. */
static bool add_ns(struct client *c, const char *name)
{
	char req[256];
	json_t *r;
	bool ok;

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":\"add\",\"method\":\"netns.add\","
		 "\"params\":{\"name\":\"%s\"}}",
		 name);
	ns_made = true;
	r = call(c, req);
	ok = r && json_object_get(r, "result");
	if (!ok)
		show("netns.add", r);
	json_decref(r);
	return ok;
}

/*
 * netns.delete signals through pidfds; where pidfd_open() is missing (kernels
 * before 5.3, or valgrind 3.19, which does not know the syscall) nothing can
 * be signalled and those checks are skipped.
 */
static bool pidfd_works(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool pid_listed(json_t *arr, pid_t pid)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_integer_value(v) == pid)
			return true;
	return false;
}

static void test_netns_delete_async(struct client *c)
{
	char req[512], path[PATH_MAX];
	struct dispatch_stats ds;
	bool pidfd = pidfd_works();
	struct client *c2;
	pid_t pid = -1;
	json_t *r, *res;
	int status = 0;

	if (geteuid() != 0) {
		printf("ok %d - netns.delete with processes # SKIP needs root\n", ++tap_n);
		return;
	}

	/* A process that ignores SIGTERM: terminated, then killed after the grace. */
	OK(add_ns(c, ns_name2), "delete: netns.add of a second namespace");
	pid = spawn_inside(ns_name2, true);
	OK(pid > 0, "delete: a process runs inside it");
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"netns.pids\",\"params\":{\"name\":\"%s\"}}",
		 ns_name2);
	r = call(c, req);
	OK(pid_listed(json_object_get(json_object_get(r, "result"), "pids"), pid),
	   "netns.pids: lists the process inside");
	json_decref(r);
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"netns.identify\",\"params\":{\"pid\":%d}}",
		 (int)pid);
	r = call(c, req);
	{
		json_t *names = json_object_get(json_object_get(r, "result"), "names"), *v;
		bool found = false;
		size_t i;

		json_array_foreach(names, i, v)
			found |= !strcmp(json_string_value(v) ?: "", ns_name2);
		OK(found, "netns.identify: names the namespace of the process");
	}
	json_decref(r);

	/* The delete waits; a second delete of the same name meanwhile is busy. */
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":\"del\",\"method\":\"netns.delete\","
		 "\"params\":{\"name\":\"%s\",\"grace_ms\":100}}\n"
		 "{\"jsonrpc\":\"2.0\",\"id\":\"again\",\"method\":\"netns.delete\","
		 "\"params\":{\"name\":\"%s\"}}\n",
		 ns_name2, ns_name2);
	send_str(c, req);
	r = client_reply(c);
	EQ_STR(json_string_value(json_object_get(r, "id")), "again",
	       "delete: the second delete is answered first");
	expect_error(r, 3, "busy", "name", "delete: a second delete while deleting");
	json_decref(r);
	r = client_reply(c);
	res = json_object_get(r, "result");
	EQ_STR(json_string_value(json_object_get(r, "id")), "del", "delete: then the delete");
	if (!res)
		show("netns.delete", r);
	if (pidfd) {
		OK(pid_listed(json_object_get(res, "terminated"), pid),
		   "delete: the process got SIGTERM");
		OK(pid_listed(json_object_get(res, "killed"), pid),
		   "delete: it ignored SIGTERM and got SIGKILL after grace_ms");
	}
	json_decref(r);
	if (pid > 0 && pidfd) {
		status = wait_child(pid);
		OK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		   "delete: the kernel says SIGKILL");
	} else if (pid > 0) {
		printf("ok %d - delete: signals # SKIP pidfd_open() is not available here\n", ++tap_n);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns_name2);
	OK(access(path, F_OK) < 0, "delete: the namespace is unmounted");

	/* A client that hangs up while its delete is waiting harms nothing. */
	OK(add_ns(c, ns_name3), "hang-up: netns.add of a third namespace");
	pid = spawn_inside(ns_name3, true);
	c2 = client_new();
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"netns.delete\","
		 "\"params\":{\"name\":\"%s\",\"grace_ms\":50}}\n",
		 ns_name3);
	if (c2) {
		send_str(c2, req);
		settle();
		client_free(c2);
	}
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns_name3);
	for (int i = 0; i < WAIT_ROUNDS && access(path, F_OK) == 0; i++)
		step(NULL, 0);
	OK(access(path, F_OK) < 0, "hang-up: the delete completed without its client");
	if (pid > 0 && pidfd) {
		status = wait_child(pid);
		OK(status != -1 && WIFSIGNALED(status), "hang-up: the process inside was killed");
	} else if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	settle();
	dispatch_get_stats(&ds);
	EQ_INT(ds.inflight, 0, "hang-up: no call left in flight");
	OK(state_get("netns", ns_name3) == NULL, "hang-up: out of the desired state");
}

/* Teardown. */

/* Whatever happens after netns.add, the namespace does not outlive the test. */
static void remove_ns_at_exit(void)
{
	const char *names[] = { ns_name, ns_name2, ns_name3 };

	if (!ns_made || getpid() != owner_pid)
		return;
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		netns_etc_remove(names[i]);
		netns_remove(names[i]);
	}
	ns_made = false;
}

static void count_walk(uv_handle_t *h, void *data)
{
	if (!uv_is_closing(h)) {
		printf("# handle left open: %s\n", uv_handle_type_name(uv_handle_get_type(h)));
		(*(int *)data)++;
	}
}

static int count_open_handles(void)
{
	int n = 0;

	uv_walk(loop, count_walk, &n);
	return n;
}

static void close_walk(uv_handle_t *h, void *data)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR") ?: "/tmp";
	bool activated = true;
	struct client *c;
	ssize_t n;
	int r;

	if (argc == 4 && !strcmp(argv[1], "--peer-child")) {
		snprintf(sock_path, sizeof(sock_path), "%s", argv[2]);
		return child_peer(argv[3][0] == '1');
	}
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = '\0';

	/* A socket path must fit sockaddr_un: keep the directory short. */
	if (strlen(base) > 30)
		base = "/tmp";
	snprintf(tmp, sizeof(tmp), "%s/netnsd-test-inproc-XXXXXX", base);
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP cannot create a temporary directory under %s\n", base);
		return 0;
	}
	snprintf(sock_path, sizeof(sock_path), "%.64s/run/netnsd.sock", tmp);
	snprintf(state_dir, sizeof(state_dir), "%.64s/state", tmp);
	/* Like the harness's uniq(): short, with a per-process prefix. */
	snprintf(ns_name, sizeof(ns_name), "t%04x%cip1", getpid() & 0xffff, 'a' + getpid() % 26);
	snprintf(ns_name2, sizeof(ns_name2), "t%04x%cip2", getpid() & 0xffff, 'a' + getpid() % 26);
	snprintf(ns_name3, sizeof(ns_name3), "t%04x%cip3", getpid() & 0xffff, 'a' + getpid() % 26);
	owner_pid = getpid();
	atexit(remove_ns_at_exit);
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_WARNING);
	/* Never pick up a socket meant for someone else. */
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	loop = uv_default_loop();

	/* The daemon's own bring-up, as main() runs it. */
	{
		struct group *g = getgrgid(getegid());
		char runtime_dir[PATH_MAX];

		snprintf(runtime_dir, sizeof(runtime_dir), "%.64s/runtime", tmp);
		r = service_start(loop,
				  &(struct service_config){
					  .version = "inproc-test",
					  .socket_path = sock_path,
					  .state_dir = state_dir,
					  .runtime_dir = runtime_dir,
					  .shim = "/nonexistent/netnsd-shim",
					  .admin_group = g ? g->gr_name : NULL,
					  .max_message = MAX_MESSAGE,
					  .max_batch = 1024,
					  .max_connections = MAX_CONNECTIONS,
					  .max_queued = MAX_QUEUED,
					  .max_namespaces = 16,
					  .event_backlog = 4 << 20,
					  .event_stall_ms = 5000,
					  .max_subscriptions = 16,
				  },
				  &activated);
		EQ_INT(r, 0, "setup: service_start");
		OK(!activated, "setup: not socket-activated");
	}
	{
		struct stat st;

		OK(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660,
		   "setup: socket created 0660");
	}
	if (r < 0) {
		printf("Bail out! no socket\n");
		rm_rf(tmp);
		return 1;
	}

	c = client_new();
	OK(c != NULL, "connect");
	if (c) {
		test_basics(c);
		test_errors(c);
		test_notifications_and_batches(c);
		test_daemon_methods(c);
		test_shutting_down(c);
		test_netns_cycle(c);
		test_netns_delete_async(c);
	}
	test_limits();
	test_backpressure();
	test_peer_credentials();

	/* Teardown as main() does it. */
	client_free(c);
	settle();
	service_quiesce();
	settle();
	OK(access(sock_path, F_OK) < 0, "teardown: quiescing removed the socket file");
	OK(service_idle(), "teardown: nothing in flight");
	service_close();
	settle();
	service_free();
	remove_ns_at_exit();
	settle();
	EQ_INT(count_open_handles(), 0, "teardown: no libuv handle left open");
	uv_walk(loop, close_walk, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	r = uv_loop_close(loop);
	EQ_INT(r, 0, "teardown: uv_loop_close succeeds");

	rm_rf(tmp);
	return tap_done();
}
