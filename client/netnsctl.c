/*
 * netnsctl.c: the command-line client of netnsd.
 *
 * netnsctl is a verb table and an output table, nothing more: it parses argv,
 * makes one or a few JSON-RPC calls over the daemon's Unix socket with plain
 * blocking I/O, and prints the results as aligned tables, "key: value" lines
 * or (with --json) the result object itself.  It holds no business logic: every
 * check that matters is the daemon's, and its error message is what the user
 * sees.
 *
 * To add a command family, write its handlers, give it a subcommand table like
 * netns_verbs[] and add one row to top_verbs[]; the dispatcher and the help
 * texts are driven by those tables.  The link, addr and route families take
 * ip-style "KEYWORD VALUE" arguments, described by keyword tables (struct arg)
 * that say which param each keyword sets.  The bash completion
 * (contrib/bash-completion/netnsctl) lists the same words.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_SOCKET "/run/netnsd/netnsd.sock"
#define SOCKET_ENV     "NETNSD_SOCKET"

/* Exit status: the daemon (or the connection, or a local file) failed; usage error. */
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Exit status of exec and proc wait, whose own is the program's: netnsd or netnsctl
 * failed, the program could not be executed or found (as env(1) and the shells say), the
 * wait timed out (as timeout(1) says). */
#define EXIT_EXEC_FAIL	  125
#define EXIT_CANNOT_EXEC  126
#define EXIT_NOT_FOUND	  127
#define EXIT_WAIT_TIMEOUT 124

#define RECV_CHUNK (64 * 1024)

/* json_decrefp() for _cleanup_ comes with jansson (2.9 and later, GCC and clang). */

struct verb;

/* Everything one invocation needs: options, the connection, the current verb. */
struct ctx {
	const char *socket_path;
	const char *netns; /* -n: for families that act inside a namespace */
	bool json;
	int fd;
	char *buf; /* received bytes not yet consumed */
	size_t len, cap;
	json_int_t next_id;
	const struct verb *family; /* the verb chosen at the top level */
	const struct verb *verb;   /* the subcommand, or the family itself for leaves */
	char cmd[64];		   /* "family subcommand" as typed, for messages */
};

/*
 * One row of a verb table.  A family has subcommands (sub) and maybe a default
 * one; a leaf has run().  run() gets argv starting at the verb's own name, with
 * --json and --help already taken out, and returns the exit status.
 */
struct verb {
	const char *name;
	const char *alias; /* other names, separated by spaces */
	int (*run)(struct ctx *c, int argc, char **argv);
	const struct verb *sub;
	const char *default_sub;
	bool uses_netns;     /* accepts the global -n NAME (on a family: all its subcommands) */
	const char *args;    /* synopsis after the name */
	const char *summary; /* one line for the parent's list */
	const char *help;    /* paragraphs for the verb's own help */
	const char *examples;
	const char *exit_status; /* replaces the common "Exit status" section */
};

/* Messages. */

static _printf_(1, 0) void verrorf(const char *fmt, va_list ap)
{
	fflush(stdout); /* keep the order of what was printed so far */
	fputs("netnsctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static _printf_(1, 2) void errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(fmt, ap);
	va_end(ap);
}

/* Print a usage error with a pointer to the right help page; returns EXIT_USAGE. */
static _printf_(2, 3) int usage_error(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(fmt, ap);
	va_end(ap);
	if (c && c->family && c->verb && c->verb != c->family)
		fprintf(stderr, "Try 'netnsctl %s %s --help' for more information.\n",
			c->family->name, c->verb->name);
	else if (c && c->family)
		fprintf(stderr, "Try 'netnsctl %s --help' for more information.\n",
			c->family->name);
	else
		fputs("Try 'netnsctl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* A usage error of the current command: "netnsctl: link add: MESSAGE" and the hint. */
static _printf_(2, 3) int bad_args(const struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return usage_error(c, "%s: %s", c->cmd, msg);
}

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

static void conn_close(struct ctx *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* close() that keeps errno; returns -1 for "fd = safe_close(fd)". */
static int safe_close(int fd)
{
	closep(&fd);
	return -1;
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
static ssize_t conn_recv_some(struct ctx *c)
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
static bool conn_line(struct ctx *c, char **ret_line, size_t *ret_len)
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
static json_t *take_json_line(struct ctx *c, char *line, size_t len)
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
static int print_rpc_error(json_t *error)
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
static int rpc_send(struct ctx *c, const char *method, json_t *params, const int *fds, size_t nfds,
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
static json_int_t reply_id(json_t *reply)
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
static int reply_result(json_t *reply, json_int_t id, bool quiet, json_t **ret_result,
			json_t **ret_error)
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
static int rpc_call_fds(struct ctx *c, const char *method, json_t *params, const int *fds,
			size_t nfds, json_t **ret_result, json_t **ret_error)
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
static int rpc_call(struct ctx *c, const char *method, json_t *params, json_t **ret_result)
{
	return rpc_call_fds(c, method, params, NULL, 0, ret_result, NULL);
}

/* Output. */

/* Print a JSON document on its own: indented for people, one line for pipes. */
static void print_json(json_t *v)
{
	size_t flags = JSON_ENCODE_ANY | (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT);

	json_dumpf(v, stdout, flags);
	fputc('\n', stdout);
}

/*
 * A text table: a header and rows of strings, printed with every column but
 * the last padded to its widest cell, two spaces apart.
 */
struct table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row-major; row 0 is the header */
};

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* Append a row of t->ncols strings (copied).  Returns 0 or -ENOMEM. */
static int table_add(struct table *t, ...)
{
	va_list ap;
	int r = 0;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof(char *));

		if (!p)
			return -ENOMEM;
		t->cells = p;
		t->cap = cap;
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		char *d = strdup(s ? s : "-");

		if (!d)
			r = -ENOMEM;
		t->cells[t->nrows * t->ncols + i] = d;
	}
	va_end(ap);
	t->nrows++;
	return r;
}

static void table_print(const struct table *t)
{
	size_t width[t->ncols];

	memset(width, 0, sizeof(width));
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t w = strlen(t->cells[r * t->ncols + i]);

			if (w > width[i])
				width[i] = w;
		}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (i + 1 < t->ncols)
				printf("%-*s  ", (int)width[i], s);
			else
				printf("%s\n", s);
		}
}

/* "key: value" lines: the key, its colon and padding so values start after WIDTH columns. */
#define KV_WIDTH 12

static void print_key(const char *indent, const char *key, int width)
{
	int pad = width - (int)(strlen(indent) + strlen(key));

	printf("%s%s:%*s", indent, key, pad > 0 ? pad : 1, "");
}

static _printf_(2, 3) void kv(const char *key, const char *fmt, ...)
{
	va_list ap;

	print_key("", key, KV_WIDTH);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Print a scalar JSON value as text ("-" for null or missing). */
static void print_scalar(json_t *v)
{
	switch (json_typeof(v ?: json_null())) {
	case JSON_STRING:
		fputs(json_string_value(v), stdout);
		break;
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", stdout);
		break;
	case JSON_FALSE:
		fputs("no", stdout);
		break;
	case JSON_NULL:
		fputs("-", stdout);
		break;
	default: {
		_cleanup_(freep) char *s = json_dumps(v, JSON_COMPACT);

		fputs(s ?: "?", stdout);
	}
	}
}

/* Print an integer array space-separated. */
static void print_int_list(json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		printf("%s%" JSON_INTEGER_FORMAT, i ? " " : "", json_integer_value(v));
}

/* Print each line of text with indent before it; the last line gets a newline too. */
static void print_indented(const char *text, const char *indent)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		printf("%s%.*s\n", n ? indent : "", (int)n, text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

/* Print multi-line text (a file's content) indented under its key. */
static void print_block(const char *key, const char *text)
{
	printf("%s:\n", key);
	print_indented(text, "    ");
}

/* Argument helpers. */

/* Parse a decimal integer in [min, max]; returns false when it is not one. */
static bool parse_int(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* Whether word is one of the space-separated words of list. */
static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (list && *list) {
		size_t len = strcspn(list, " ");

		if (len == n && !strncmp(list, word, n))
			return true;
		list += len;
		list += strspn(list, " ");
	}
	return false;
}

/* Read a whole file ("-" is stdin) into a NUL-terminated buffer. */
static int read_all(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0, cap = 0;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096 + 1) {
			char *p;

			cap = cap ? cap * 2 : 8192;
			p = realloc(buf, cap);
			if (!p)
				return -ENOMEM;
			buf = p;
		}
		n = read(fd >= 0 ? fd : STDIN_FILENO, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Read FILE as the text of a string param; returns 0, or EXIT_FAIL after saying why. */
static int file_param(json_t *params, const char *key, const char *path)
{
	_cleanup_(freep) char *data = NULL;
	json_t *s;
	size_t len;
	int r;

	r = read_all(path, &data, &len);
	if (r < 0) {
		errorf("cannot read %s: %s", strcmp(path, "-") ? path : "standard input",
		       strerror(-r));
		return EXIT_FAIL;
	}
	s = json_stringn(data, len);
	if (!s || memchr(data, '\0', len)) {
		json_decref(s);
		errorf("%s is not text (it must be UTF-8 without NUL bytes)",
		       strcmp(path, "-") ? path : "standard input");
		return EXIT_FAIL;
	}
	json_object_set_new(params, key, s);
	return 0;
}

/* Print the result (--json) or let the caller print it as text; frees it. */
static int finish_json(struct ctx *c, json_t *result)
{
	if (c->json)
		print_json(result);
	json_decref(result);
	return 0;
}

/* netns */

static int netns_add(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *sysctls = NULL, *result = NULL;
	bool stdin_used = false;
	int r;

	if (argc < 2)
		return usage_error(c, "netns add: missing NAME");
	params = json_pack("{s:s}", "name", argv[1]);
	if (!params)
		return usage_error(c, "netns add: NAME must be UTF-8 text");
	for (int i = 2; i < argc; i++) {
		const char *kw = argv[i], *val = argv[i + 1];

		if (strcmp(kw, "nsid") && strcmp(kw, "sysctl") && strcmp(kw, "resolv-conf") &&
		    strcmp(kw, "hosts"))
			return usage_error(c, "netns add: unknown argument '%s'", kw);
		if (!val)
			return usage_error(c, "netns add: '%s' needs a value", kw);
		i++;
		if (!strcmp(kw, "nsid")) {
			long long nsid;

			if (!parse_int(val, 0, INT_MAX, &nsid))
				return usage_error(c,
						   "netns add: nsid must be a number from 0 to %d, "
						   "not '%s'",
						   INT_MAX, val);
			json_object_set_new(params, "nsid", json_integer(nsid));
		} else if (!strcmp(kw, "sysctl")) {
			const char *eq = strchr(val, '=');
			_cleanup_(freep) char *key = NULL;
			json_t *v;

			if (!eq || eq == val)
				return usage_error(c, "netns add: sysctl wants KEY=VALUE, not '%s'",
						   val);
			key = strndup(val, (size_t)(eq - val));
			v = json_string(eq + 1);
			if (!key || !v)
				return usage_error(c, "netns add: sysctl '%s' is not UTF-8 text",
						   val);
			if (!sysctls) {
				sysctls = json_object();
				json_object_set_new(params, "sysctls", sysctls);
			}
			if (json_object_get(sysctls, key)) {
				json_decref(v);
				return usage_error(c, "netns add: sysctl %s is given twice", key);
			}
			json_object_set_new(sysctls, key, v);
		} else {
			const char *pkey = !strcmp(kw, "hosts") ? "hosts" : "resolv_conf";

			if (json_object_get(params, pkey))
				return usage_error(c, "netns add: %s is given twice", kw);
			if (!strcmp(val, "-")) {
				if (stdin_used)
					return usage_error(c,
							   "netns add: only one file can be read "
							   "from standard input");
				stdin_used = true;
			}
			r = file_param(params, pkey, val);
			if (r)
				return r;
		}
	}
	r = rpc_call(c, "netns.add", TAKE_PTR(params), &result);
	if (r)
		return r;
	return finish_json(c, result);
}

static int netns_delete(struct ctx *c, int argc, char **argv)
{
	json_t *params, *result = NULL, *term, *killed;
	int r;

	if (argc < 2)
		return usage_error(c, "netns %s: missing NAME", argv[0]);
	params = json_pack("{s:s}", "name", argv[1]);
	if (!params)
		return usage_error(c, "netns %s: NAME must be UTF-8 text", argv[0]);
	for (int i = 2; i < argc; i += 2) {
		long long ms;

		if (strcmp(argv[i], "grace") != 0) {
			json_decref(params);
			return usage_error(c, "netns %s: unknown argument '%s'", argv[0], argv[i]);
		}
		if (!argv[i + 1] || !parse_int(argv[i + 1], 0, INT_MAX, &ms)) {
			json_decref(params);
			return usage_error(c, "netns %s: grace wants milliseconds (a number)",
					   argv[0]);
		}
		json_object_set_new(params, "grace_ms", json_integer(ms));
	}
	r = rpc_call(c, "netns.delete", params, &result);
	if (r)
		return r;
	if (!c->json) {
		term = json_object_get(result, "terminated");
		killed = json_object_get(result, "killed");
		if (json_array_size(term)) {
			fputs("terminated: ", stdout);
			print_int_list(term);
			fputc('\n', stdout);
		}
		if (json_array_size(killed)) {
			fputs("killed: ", stdout);
			print_int_list(killed);
			fputc('\n', stdout);
		}
	}
	return finish_json(c, result);
}

/*
 * The MANAGED column.  netnsd reports managed only for a namespace it created
 * that is still mounted; one it recorded but cannot find mounted (restore
 * failed, unmounted by hand) is told apart by the creation time it keeps for
 * its own namespaces only.
 */
static const char *managed_label(json_t *ns)
{
	bool mounted = json_is_true(json_object_get(ns, "mounted"));

	if (json_is_true(json_object_get(ns, "deleting")))
		return "yes (deleting)";
	if (json_is_true(json_object_get(ns, "managed")))
		return "yes";
	if (!mounted)
		return json_object_get(ns, "created") ? "yes (unmounted)" : "no (unmounted)";
	return "no";
}

static int netns_list(struct ctx *c, int argc, char **argv)
{
	struct table t = { .ncols = 4 };
	json_t *result = NULL, *ns, *e;
	bool names_only = false;
	size_t i;
	int r;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--names") != 0)
			return usage_error(c, "netns %s: unknown argument '%s'", argv[0], argv[a]);
		names_only = true;
	}
	r = rpc_call(c, "netns.list", NULL, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	ns = json_object_get(result, "namespaces");
	if (names_only) {
		json_array_foreach(ns, i, e)
			printf("%s\n", json_string_value(json_object_get(e, "name")) ?: "?");
		return finish_json(c, result);
	}
	r = table_add(&t, "NAME", "MANAGED", "NSID", "CREATED");
	json_array_foreach(ns, i, e) {
		json_t *nsid = json_object_get(e, "nsid");
		char nsid_s[32] = "-";

		if (json_is_integer(nsid))
			snprintf(nsid_s, sizeof(nsid_s), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(nsid));
		r = r
			?: table_add(&t, json_string_value(json_object_get(e, "name")),
				     managed_label(e), nsid_s,
				     json_string_value(json_object_get(e, "created")));
	}
	if (r < 0)
		errorf("out of memory");
	else
		table_print(&t);
	table_free(&t);
	json_decref(result);
	return r < 0 ? EXIT_FAIL : 0;
}

static int netns_show(struct ctx *c, int argc, char **argv)
{
	json_t *params, *result = NULL, *sysctls, *v;
	const char *key, *text;
	int r;

	if (argc < 2)
		return usage_error(c, "netns show: missing NAME");
	if (argc > 2)
		return usage_error(c, "netns show: unexpected argument '%s'", argv[2]);
	params = json_pack("{s:s}", "name", argv[1]);
	if (!params)
		return usage_error(c, "netns show: NAME must be UTF-8 text");
	r = rpc_call(c, "netns.get", params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	kv("name", "%s", json_string_value(json_object_get(result, "name")) ?: "?");
	kv("managed", "%s", managed_label(result));
	kv("mounted", "%s", json_is_true(json_object_get(result, "mounted")) ? "yes" : "no");
	/* Everything else the daemon reports, known fields first and in a fixed form. */
	json_object_foreach(result, key, v) {
		if (!strcmp(key, "name") || !strcmp(key, "managed") || !strcmp(key, "mounted") ||
		    !strcmp(key, "deleting") || !strcmp(key, "sysctls") ||
		    !strcmp(key, "resolv_conf") || !strcmp(key, "hosts"))
			continue;
		print_key("", key, KV_WIDTH);
		print_scalar(v);
		fputc('\n', stdout);
	}
	sysctls = json_object_get(result, "sysctls");
	json_object_foreach(sysctls, key, v) {
		print_key("", "sysctl", KV_WIDTH);
		printf("%s=", key);
		print_scalar(v);
		fputc('\n', stdout);
	}
	text = json_string_value(json_object_get(result, "resolv_conf"));
	if (text)
		print_block("resolv-conf", text);
	text = json_string_value(json_object_get(result, "hosts"));
	if (text)
		print_block("hosts", text);
	json_decref(result);
	return 0;
}

static int netns_pids(struct ctx *c, int argc, char **argv)
{
	json_t *params, *result = NULL, *v;
	size_t i;
	int r;

	if (argc < 2)
		return usage_error(c, "netns pids: missing NAME");
	if (argc > 2)
		return usage_error(c, "netns pids: unexpected argument '%s'", argv[2]);
	params = json_pack("{s:s}", "name", argv[1]);
	if (!params)
		return usage_error(c, "netns pids: NAME must be UTF-8 text");
	r = rpc_call(c, "netns.pids", params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	json_array_foreach(json_object_get(result, "pids"), i, v)
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	json_decref(result);
	return 0;
}

static int netns_identify(struct ctx *c, int argc, char **argv)
{
	json_t *result = NULL, *v;
	long long pid = getpid();
	size_t i;
	int r;

	if (argc > 2)
		return usage_error(c, "netns identify: unexpected argument '%s'", argv[2]);
	if (argc == 2 && !parse_int(argv[1], 1, INT_MAX, &pid))
		return usage_error(c, "netns identify: PID must be a positive number, not '%s'",
				   argv[1]);
	r = rpc_call(c, "netns.identify", json_pack("{s:I}", "pid", (json_int_t)pid), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	json_array_foreach(json_object_get(result, "names"), i, v)
		printf("%s\n", json_string_value(v) ?: "?");
	json_decref(result);
	return 0;
}

/*
 * Keyword arguments, as ip takes them: "mtu 1400 master br0 up".  A table of
 * struct arg says which param each keyword sets and how its value is read.
 * netnsctl only checks the syntax (a number is a number, on is on); ranges,
 * kinds and addresses are the daemon's to judge.
 */

/* The types before ARG_TRUE take a value (the next word); arg_set() relies on the order. */
enum arg_type {
	ARG_STRING, /* KEYWORD TEXT */
	ARG_NETNS,  /* KEYWORD NAME, where "host" means null: the host */
	ARG_INT,    /* KEYWORD N, a number from 0 to 2^32-1 */
	ARG_TABLE,  /* KEYWORD N, or main, local, default */
	ARG_ONOFF,  /* KEYWORD on|off: a boolean */
	ARG_TRUE,   /* KEYWORD alone: true */
	ARG_FALSE,  /* KEYWORD alone: false */
	ARG_NULL,   /* KEYWORD alone: null */
	ARG_CONST,  /* KEYWORD alone: the string in value */
};

struct arg {
	const char *word;
	const char *key; /* the param it sets */
	enum arg_type type;
	const char *value; /* for ARG_CONST */
};

static const struct arg *arg_find(const struct arg *args, const char *word)
{
	for (const struct arg *a = args; a->word; a++)
		if (!strcmp(a->word, word))
			return a;
	return NULL;
}

/*
 * Set the param of keyword a (argv[*i]) in obj, reading its value from the
 * next word when it takes one (*i then points at the value).  Returns 0, or
 * EXIT_USAGE after saying why.
 */
static int arg_set(const struct ctx *c, const struct arg *a, json_t *obj, char **argv, int *i)
{
	const char *val = NULL;
	long long n;
	json_t *v = NULL;

	if (json_object_get(obj, a->key))
		return bad_args(c, "'%s' repeats or contradicts an earlier argument", a->word);
	if (a->type < ARG_TRUE) {
		val = argv[*i + 1];
		if (!val)
			return bad_args(c, "'%s' needs a value", a->word);
		(*i)++;
	}
	switch (a->type) {
	case ARG_STRING:
		v = json_string(val);
		break;
	case ARG_NETNS:
		v = strcmp(val, "host") ? json_string(val) : json_null();
		break;
	case ARG_TABLE:
	case ARG_INT:
		if (a->type == ARG_TABLE &&
		    (!strcmp(val, "main") || !strcmp(val, "local") || !strcmp(val, "default"))) {
			v = json_integer(val[0] == 'm' ? 254 : val[0] == 'l' ? 255 : 253);
			break;
		}
		if (!parse_int(val, 0, UINT32_MAX, &n))
			return bad_args(c, "'%s' wants a number%s, not '%s'", a->word,
					a->type == ARG_TABLE ? " (or main, local, default)" : "",
					val);
		v = json_integer(n);
		break;
	case ARG_ONOFF:
		if (strcmp(val, "on") && strcmp(val, "off"))
			return bad_args(c, "'%s' wants on or off, not '%s'", a->word, val);
		v = json_boolean(!strcmp(val, "on"));
		break;
	case ARG_TRUE:
		v = json_true();
		break;
	case ARG_FALSE:
		v = json_false();
		break;
	case ARG_NULL:
		v = json_null();
		break;
	case ARG_CONST:
		v = json_string(a->value);
		break;
	}
	if (!v)
		return bad_args(c, "the value of '%s' is not UTF-8 text", a->word);
	json_object_set_new(obj, a->key, v);
	return 0;
}

/* Set a string param from a positional word; EXIT_USAGE when it is given twice or not text. */
static int word_set(const struct ctx *c, json_t *obj, const char *key, const char *what,
		    const char *word)
{
	json_t *v;

	if (json_object_get(obj, key))
		return bad_args(c, "%s is given twice (at '%s')", what, word);
	v = json_string(word);
	if (!v)
		return bad_args(c, "%s '%s' is not UTF-8 text", what, word);
	json_object_set_new(obj, key, v);
	return 0;
}

/* Take the value after a keyword such as "dev" or "name" (argv[*i]); NULL when missing. */
static const char *next_word(char **argv, int *i)
{
	if (!argv[*i + 1])
		return NULL;
	return argv[++*i];
}

/* Params of a command that acts in -n's namespace: {"netns": NS}, or {} for the host. */
static json_t *ns_params(const struct ctx *c)
{
	json_t *p = json_object();

	if (p && c->netns && json_object_set_new(p, "netns", json_string(c->netns)) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

#define NS_PARAMS_OR_FAIL(c, p)                                                                    \
	do {                                                                                       \
		(p) = ns_params(c);                                                                \
		if (!(p))                                                                          \
			return usage_error(c, "-n/--netns: '%s' is not UTF-8 text", (c)->netns);   \
	} while (0)

/* Call method and print nothing (the result with --json). */
static int call_quiet(struct ctx *c, const char *method, json_t *params)
{
	json_t *result = NULL;
	int r = rpc_call(c, method, params, &result);

	return r ?: finish_json(c, result);
}

/* Print a table, or say that memory ran out; returns the exit status. */
static int table_finish(struct table *t, int r)
{
	if (r < 0)
		errorf("out of memory");
	else
		table_print(t);
	table_free(t);
	return r < 0 ? EXIT_FAIL : 0;
}

/* link */

static const struct arg link_add_args[] = {
	{ "type", "kind", ARG_STRING, NULL },
	{ "master", "master", ARG_STRING, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },
	{ "address", "address", ARG_STRING, NULL },
	{ "up", "up", ARG_TRUE, NULL },
	{ "noipv6ll", "ipv6_ll", ARG_FALSE, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL },
	{ "parent", "parent", ARG_STRING, NULL },
	{ "link", "parent", ARG_STRING, NULL },
	{ "id", "id", ARG_INT, NULL },
	{ "protocol", "protocol", ARG_STRING, NULL },
	{ "mode", "mode", ARG_STRING, NULL },
	{ "remote", "remote", ARG_STRING, NULL },
	{ "group", "group", ARG_STRING, NULL },
	{ "local", "local", ARG_STRING, NULL },
	{ "port", "port", ARG_INT, NULL },
	{ "dev", "dev", ARG_STRING, NULL },
	{ "stp", "stp", ARG_ONOFF, NULL },
	{ "vlan_filtering", "vlan_filtering", ARG_ONOFF, NULL },
	{ 0 },
};

/* What may follow "peer NAME": the peer's own settings. */
static const struct arg link_peer_args[] = {
	{ "netns", "netns", ARG_NETNS, NULL },	  { "master", "master", ARG_STRING, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },	  { "address", "address", ARG_STRING, NULL },
	{ "up", "up", ARG_TRUE, NULL },		  { "noipv6ll", "ipv6_ll", ARG_FALSE, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL }, { 0 },
};

static const struct arg link_set_args[] = {
	{ "up", "up", ARG_TRUE, NULL },		  { "down", "up", ARG_FALSE, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },	  { "address", "address", ARG_STRING, NULL },
	{ "master", "master", ARG_STRING, NULL }, { "nomaster", "master", ARG_NULL, NULL },
	{ "name", "rename", ARG_STRING, NULL },	  { "netns", "move_to", ARG_NETNS, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL }, { 0 },
};

static int link_add(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *peer = NULL;
	const struct arg *a;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (peer) {
			/* As in ip, everything after "peer NAME" describes the peer. */
			a = arg_find(link_peer_args, w);
			if (!a && (arg_find(link_add_args, w) || !strcmp(w, "peer")))
				return bad_args(c,
						"'%s' cannot follow 'peer NAME': the words "
						"after it set the peer (netns, master, mtu, "
						"address, up, noipv6ll, ipv6ll); put '%s' before "
						"'peer'",
						w, w);
			if (!a)
				return bad_args(c, "unknown argument '%s'", w);
			r = arg_set(c, a, peer, argv, &i);
			if (r)
				return r;
			continue;
		}
		a = arg_find(link_add_args, w);
		if (a) {
			r = arg_set(c, a, params, argv, &i);
			if (r)
				return r;
			continue;
		}
		if (!strcmp(w, "peer")) {
			w = next_word(argv, &i);
			if (w && !strcmp(w, "name"))
				w = next_word(argv, &i);
			if (!w)
				return bad_args(c, "'peer' needs the peer's NAME");
			peer = json_object();
			json_object_set_new(params, "peer", peer);
			r = word_set(c, peer, "name", "the peer's NAME", w);
			if (r)
				return r;
			continue;
		}
		if (!strcmp(w, "netns"))
			return bad_args(c, "'netns' applies to the peer only; create the link in "
					   "a namespace with 'netnsctl -n NS link add ...'");
		if (!strcmp(w, "name")) {
			w = next_word(argv, &i);
			if (!w)
				return bad_args(c, "'name' needs a value");
		} else if (json_object_get(params, "name")) {
			return bad_args(c, "unknown argument '%s'", w);
		}
		r = word_set(c, params, "name", "NAME", w);
		if (r)
			return r;
	}
	if (!json_object_get(params, "name"))
		return bad_args(c, "missing NAME");
	if (!json_object_get(params, "kind"))
		return bad_args(c, "missing 'type KIND' (veth, bridge, dummy, vlan, macvlan, "
				   "vxlan)");
	/* Like ip, the peer is made where the link is unless 'netns' says otherwise. */
	if (peer && c->netns && !json_object_get(peer, "netns"))
		json_object_set(peer, "netns", json_object_get(params, "netns"));
	return call_quiet(c, "link.add", TAKE_PTR(params));
}

/*
 * Read "DEV" or "dev DEV" (argv[*i]) into the param key, as ip does for the
 * device of link set, link delete and addr list.
 */
static int dev_word(const struct ctx *c, json_t *params, const char *key, const char *what,
		    char **argv, int *i)
{
	const char *w = argv[*i];

	if (!strcmp(w, "dev")) {
		w = next_word(argv, i);
		if (!w)
			return bad_args(c, "'dev' needs a value");
	} else if (json_object_get(params, key)) {
		return bad_args(c, "unknown argument '%s'", w);
	}
	return word_set(c, params, key, what, w);
}

static int link_delete(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *result = NULL;
	const char *action;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		r = dev_word(c, params, "name", "NAME", argv, &i);
		if (r)
			return r;
	}
	if (!json_object_get(params, "name"))
		return bad_args(c, "missing NAME");
	r = rpc_call(c, "link.delete", TAKE_PTR(params), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	action = json_string_value(json_object_get(result, "action"));
	if (action && !strcmp(action, "returned"))
		printf("%s was borrowed: returned it to the namespace and name it came from\n",
		       json_string_value(json_object_get(result, "name")) ?: "?");
	return finish_json(c, result);
}

static int link_set(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	const struct arg *a;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		a = arg_find(link_set_args, argv[i]);
		r = a ? arg_set(c, a, params, argv, &i)
		      : dev_word(c, params, "name", "NAME", argv, &i);
		if (r)
			return r;
	}
	if (!json_object_get(params, "name"))
		return bad_args(c, "missing NAME");
	return call_quiet(c, "link.set", TAKE_PTR(params));
}

/* The PEER column: name@namespace ("host" for the host), or what the kernel says. */
static void peer_label(json_t *peer, char *buf, size_t size)
{
	const char *name = json_string_value(json_object_get(peer, "name"));
	json_t *ns = json_object_get(peer, "netns"), *nsid = json_object_get(peer, "netnsid");
	char ifname[32];

	if (!name) {
		snprintf(ifname, sizeof(ifname), "if%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(peer, "ifindex")));
		name = ifname;
	}
	if (ns)
		snprintf(buf, size, "%s@%s", name, json_string_value(ns) ?: "host");
	else if (json_is_integer(nsid))
		snprintf(buf, size, "%s@nsid%" JSON_INTEGER_FORMAT, name, json_integer_value(nsid));
	else
		snprintf(buf, size, "%s", name);
}

static int link_list(struct ctx *c, int argc, char **argv)
{
	struct table t = { .ncols = 8 };
	json_t *params, *result = NULL, *e;
	bool names_only = false;
	size_t i;
	int r;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--names") != 0)
			return bad_args(c, "unknown argument '%s'", argv[a]);
		names_only = true;
	}
	NS_PARAMS_OR_FAIL(c, params);
	r = rpc_call(c, "link.list", params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	if (names_only) {
		json_array_foreach(json_object_get(result, "links"), i, e)
			printf("%s\n", json_string_value(json_object_get(e, "name")) ?: "?");
		return finish_json(c, result);
	}
	r = table_add(&t, "NAME", "KIND", "STATE", "MTU", "ADDRESS", "MASTER", "MANAGED", "PEER");
	json_array_foreach(json_object_get(result, "links"), i, e) {
		json_t *peer = json_object_get(e, "peer");
		const char *origin = json_string_value(json_object_get(e, "origin"));
		bool managed = json_is_true(json_object_get(e, "managed"));
		char state[64], mtu[32], peer_s[128] = "-";

		snprintf(state, sizeof(state), "%s/%s",
			 json_is_true(json_object_get(e, "up")) ? "UP" : "DOWN",
			 json_string_value(json_object_get(e, "operstate")) ?: "?");
		snprintf(mtu, sizeof(mtu), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(e, "mtu")));
		if (json_is_object(peer))
			peer_label(peer, peer_s, sizeof(peer_s));
		r = r
			?: table_add(&t, json_string_value(json_object_get(e, "name")),
				     json_string_value(json_object_get(e, "kind")), state, mtu,
				     json_string_value(json_object_get(e, "address")),
				     json_string_value(json_object_get(e, "master")),
				     origin ?: (managed ? "created" : "no"), peer_s);
	}
	json_decref(result);
	return table_finish(&t, r);
}

/* addr */

static const struct arg addr_add_args[] = {
	{ "dev", "dev", ARG_STRING, NULL },
	{ "nodad", "nodad", ARG_TRUE, NULL },
	{ 0 },
};

static const struct arg addr_del_args[] = {
	{ "dev", "dev", ARG_STRING, NULL },
	{ 0 },
};

/* addr add and addr delete: ADDRESS/PREFIX (or "local ADDRESS/PREFIX") and keywords. */
static int addr_change(struct ctx *c, int argc, char **argv, const char *method,
		       const struct arg *args)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	const struct arg *a;
	const char *w;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		a = arg_find(args, argv[i]);
		if (a) {
			r = arg_set(c, a, params, argv, &i);
			if (r)
				return r;
			continue;
		}
		w = argv[i];
		if (!strcmp(w, "local")) {
			w = next_word(argv, &i);
			if (!w)
				return bad_args(c, "'local' needs a value");
		} else if (json_object_get(params, "address")) {
			return bad_args(c, "unknown argument '%s'", w);
		}
		r = word_set(c, params, "address", "ADDRESS/PREFIX", w);
		if (r)
			return r;
	}
	if (!json_object_get(params, "address"))
		return bad_args(c, "missing ADDRESS/PREFIX");
	if (!json_object_get(params, "dev"))
		return bad_args(c, "missing 'dev DEV'");
	return call_quiet(c, method, TAKE_PTR(params));
}

static int addr_add(struct ctx *c, int argc, char **argv)
{
	return addr_change(c, argc, argv, "addr.add", addr_add_args);
}

static int addr_delete(struct ctx *c, int argc, char **argv)
{
	return addr_change(c, argc, argv, "addr.delete", addr_del_args);
}

static int addr_list(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	struct table t = { .ncols = 5 };
	json_t *result = NULL, *e;
	size_t i;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int a = 1; a < argc; a++) {
		r = dev_word(c, params, "dev", "DEV", argv, &a);
		if (r)
			return r;
	}
	r = rpc_call(c, "addr.list", TAKE_PTR(params), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	r = table_add(&t, "DEV", "FAMILY", "ADDRESS", "SCOPE", "MANAGED");
	json_array_foreach(json_object_get(result, "addresses"), i, e) {
		bool tentative = json_is_true(json_object_get(e, "tentative"));

		r = r
			?: table_add(&t, json_string_value(json_object_get(e, "dev")),
				     json_string_value(json_object_get(e, "family")),
				     json_string_value(json_object_get(e, "address")),
				     json_string_value(json_object_get(e, "scope")),
				     json_is_true(json_object_get(e, "managed"))
					 ? (tentative ? "yes (tentative)" : "yes")
					 : (tentative ? "no (tentative)" : "no"));
	}
	json_decref(result);
	return table_finish(&t, r);
}

/* route */

static const struct arg route_args[] = {
	{ "via", "via", ARG_STRING, NULL },
	{ "dev", "dev", ARG_STRING, NULL },
	{ "metric", "metric", ARG_INT, NULL },
	{ "table", "table", ARG_TABLE, NULL },
	{ "type", "type", ARG_STRING, NULL },
	{ "family", "family", ARG_STRING, NULL },
	{ "-4", "family", ARG_CONST, "inet" },
	{ "-6", "family", ARG_CONST, "inet6" },
	{ 0 },
};

static const struct arg route_list_args[] = {
	{ "table", "table", ARG_TABLE, NULL },
	{ "family", "family", ARG_STRING, NULL },
	{ "-4", "family", ARG_CONST, "inet" },
	{ "-6", "family", ARG_CONST, "inet6" },
	{ 0 },
};

/* route add and route delete: [TYPE] {default|CIDR} and keywords, like ip route. */
static int route_change(struct ctx *c, int argc, char **argv, const char *method)
{
	static const char route_types[] = "unicast blackhole unreachable prohibit";
	_cleanup_(json_decrefp) json_t *params = NULL;
	const struct arg *a;
	const char *w;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		a = arg_find(route_args, argv[i]);
		if (a) {
			r = arg_set(c, a, params, argv, &i);
			if (r)
				return r;
			continue;
		}
		w = argv[i];
		if (!strcmp(w, "to")) {
			w = next_word(argv, &i);
			if (!w)
				return bad_args(c, "'to' needs a value");
		} else if (word_in(route_types, w) && argv[i + 1] &&
			   !json_object_get(params, "dst") && !json_object_get(params, "type")) {
			/* "route add blackhole 10.9.0.0/16", as ip writes it. */
			json_object_set_new(params, "type", json_string(w));
			continue;
		} else if (json_object_get(params, "dst")) {
			return bad_args(c, "unknown argument '%s'", w);
		}
		r = word_set(c, params, "dst", "the destination", w);
		if (r)
			return r;
	}
	if (!json_object_get(params, "dst"))
		return bad_args(c, "missing the destination (default or ADDRESS/PREFIX)");
	return call_quiet(c, method, TAKE_PTR(params));
}

static int route_add(struct ctx *c, int argc, char **argv)
{
	return route_change(c, argc, argv, "route.add");
}

static int route_delete(struct ctx *c, int argc, char **argv)
{
	return route_change(c, argc, argv, "route.delete");
}

static const char *table_name(json_int_t table, char *buf, size_t size)
{
	switch (table) {
	case 253:
		return "default";
	case 254:
		return "main";
	case 255:
		return "local";
	}
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, table);
	return buf;
}

static int route_list(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	struct table t = { .ncols = 6 };
	json_t *result = NULL, *e;
	const struct arg *a;
	size_t i;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int k = 1; k < argc; k++) {
		a = arg_find(route_list_args, argv[k]);
		if (!a)
			return bad_args(c, "unknown argument '%s'", argv[k]);
		r = arg_set(c, a, params, argv, &k);
		if (r)
			return r;
	}
	r = rpc_call(c, "route.list", TAKE_PTR(params), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	r = table_add(&t, "DST", "VIA", "DEV", "METRIC", "TABLE", "MANAGED");
	json_array_foreach(json_object_get(result, "routes"), i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *dst = json_string_value(json_object_get(e, "dst")) ?: "?";
		bool unicast = !type || !strcmp(type, "unicast");
		char dst_s[128], metric[32], table[32];

		/* Like ip, a route of another type than unicast shows it before dst. */
		snprintf(dst_s, sizeof(dst_s), "%s%s%s", unicast ? "" : type, unicast ? "" : " ",
			 dst);
		snprintf(metric, sizeof(metric), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(e, "metric")));
		r = r
			?: table_add(&t, dst_s, json_string_value(json_object_get(e, "via")),
				     json_string_value(json_object_get(e, "dev")), metric,
				     table_name(json_integer_value(json_object_get(e, "table")),
						table, sizeof(table)),
				     json_is_true(json_object_get(e, "managed")) ? "yes" : "no");
	}
	json_decref(result);
	return table_finish(&t, r);
}

/* Signals by name: proc kill's argument and the exit statuses printed. */

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },	      { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "BUS", SIGBUS },   { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },   { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO },     { "PWR", SIGPWR },	      { "SYS", SIGSYS },
};

static const char *signal_name(json_int_t sig)
{
	for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
		if (signal_names[i].sig == sig)
			return signal_names[i].name;
	return NULL;
}

/* "9", "-9", "KILL", "SIGKILL", "-kill" ...: the number, or -1. */
static int signal_parse(const char *s)
{
	long long n;

	if (*s == '-')
		s++;
	if (parse_int(s, 1, 64, &n))
		return (int)n;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
		if (!strcasecmp(s, signal_names[i].name))
			return signal_names[i].sig;
	return -1;
}

/* proc */

/* The NETNS column and the like: the name, or "host" for the host (null). */
static const char *ns_label(json_t *v)
{
	return json_string_value(v) ?: "host";
}

/*
 * A command line as one string for people: words with blanks, quotes or
 * other characters a shell treats specially are quoted.  NULL on ENOMEM.
 */
static char *command_line(json_t *argv)
{
	size_t i, len = 1;
	json_t *a;
	char *buf, *p;

	json_array_foreach(argv, i, a)
		len += 4 * json_string_length(a) + 3; /* each ' may become '\'' */
	buf = malloc(len);
	if (!buf)
		return NULL;
	p = buf;
	json_array_foreach(argv, i, a) {
		const char *w = json_string_value(a) ?: "?";
		bool quote = !*w || w[strcspn(w, " \t\n'\"\\$`!*?[]{}()<>|&;#~")];

		if (i)
			*p++ = ' ';
		if (!quote) {
			p = stpcpy(p, w);
			continue;
		}
		*p++ = '\'';
		for (; *w; w++) {
			if (*w == '\'')
				p = stpcpy(p, "'\\''");
			else
				*p++ = *w;
		}
		*p++ = '\'';
	}
	*p = '\0';
	return buf;
}

/* The EXIT column: the exit code, the signal as SIGNAME, or "-" while there is none. */
static void exit_label(json_t *p, char *buf, size_t size)
{
	json_t *code = json_object_get(p, "exit_code"), *sig = json_object_get(p, "signal");

	if (json_is_integer(code)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(code));
	} else if (json_is_integer(sig)) {
		const char *name = signal_name(json_integer_value(sig));

		if (name)
			snprintf(buf, size, "SIG%s", name);
		else
			snprintf(buf, size, "signal %" JSON_INTEGER_FORMAT,
				 json_integer_value(sig));
	} else {
		snprintf(buf, size, "-");
	}
}

/*
 * The exit status a shell would report for the process's last run: its exit
 * code, or 128 + the signal that killed it.  A process without one (its start
 * failed, or its supervisor was lost) is EXIT_EXEC_FAIL, after saying why.
 */
static int proc_exit_status(json_t *p)
{
	json_t *code = json_object_get(p, "exit_code"), *sig = json_object_get(p, "signal");
	const char *stage = json_string_value(json_object_get(p, "error_stage"));
	json_t *err = json_object_get(p, "errno");

	if (json_is_integer(code))
		return (int)(json_integer_value(code) & 0xff);
	if (json_is_integer(sig))
		return 128 + (int)json_integer_value(sig);
	if (stage && json_integer_value(err) > 0)
		errorf("process %s is %s: %s: %s",
		       json_string_value(json_object_get(p, "id")) ?: "?",
		       json_string_value(json_object_get(p, "state")) ?: "?", stage,
		       strerror((int)json_integer_value(err)));
	else
		errorf("process %s is %s: its exit status is unknown",
		       json_string_value(json_object_get(p, "id")) ?: "?",
		       json_string_value(json_object_get(p, "state")) ?: "?");
	return EXIT_EXEC_FAIL;
}

/*
 * A long option of a command, as "--opt VALUE" or "--opt=VALUE" (or a flag,
 * "--opt").  When argv[*i] is opt, sets *ret_val (NULL for a flag), moves *i to
 * its last word and returns 1; returns 0 when it is another word, or EXIT_USAGE
 * after saying why.
 */
static int long_opt(const struct ctx *c, char **argv, int *i, const char *opt, bool takes_value,
		    const char **ret_val)
{
	size_t n = strlen(opt);
	const char *w = argv[*i];

	if (strncmp(w, opt, n) != 0 || (w[n] != '\0' && w[n] != '='))
		return 0;
	if (!takes_value) {
		if (w[n] == '=')
			return bad_args(c, "%s takes no value", opt);
		*ret_val = NULL;
		return 1;
	}
	if (w[n] == '=') {
		*ret_val = w + n + 1;
		return 1;
	}
	if (!argv[*i + 1])
		return bad_args(c, "%s needs a value", opt);
	*ret_val = argv[++*i];
	return 1;
}

/* The options of proc run and exec (exec takes those marked for_exec). */
enum spawn_opt_type {
	SO_STRING,  /* --opt TEXT: a string param */
	SO_RESTART, /* --restart no|on-failure|always */
	SO_ENV,	    /* --env KEY=VALUE, repeatable */
	SO_FLAG,    /* --opt: true */
	SO_STDIO,   /* --stdout log|null|FILE */
};

static const struct spawn_opt {
	const char *opt, *key;
	enum spawn_opt_type type;
	bool for_exec;
} spawn_opts[] = {
	{ "--name", "name", SO_STRING, false },
	{ "--restart", "restart", SO_RESTART, false },
	{ "--user", "user", SO_STRING, true },
	{ "--group", "group", SO_STRING, true },
	{ "--cwd", "cwd", SO_STRING, true },
	{ "--env", "env", SO_ENV, true },
	{ "--env-replace", "env_replace", SO_FLAG, false },
	{ "--stdout", "stdout", SO_STDIO, false },
	{ "--stderr", "stderr", SO_STDIO, false },
};

/* Set the param of spawn option o from its value v; 0 or EXIT_USAGE. */
static int spawn_opt_set(const struct ctx *c, json_t *params, const struct spawn_opt *o,
			 const char *v)
{
	json_t *val = NULL;

	if (o->type != SO_ENV && json_object_get(params, o->key))
		return bad_args(c, "%s is given twice", o->opt);
	switch (o->type) {
	case SO_STRING:
		if (!*v)
			return bad_args(c, "%s needs a non-empty value", o->opt);
		val = json_string(v);
		break;
	case SO_RESTART:
		if (strcmp(v, "no") && strcmp(v, "on-failure") && strcmp(v, "always"))
			return bad_args(c, "--restart wants no, on-failure or always, not '%s'", v);
		val = json_string(v);
		break;
	case SO_FLAG:
		val = json_true();
		break;
	case SO_STDIO:
		if (!strcmp(v, "log") || !strcmp(v, "null")) {
			val = json_string(v);
		} else if (!*v) {
			return bad_args(c, "%s wants log, null or a FILE", o->opt);
		} else if (v[0] == '/') {
			val = json_pack("{s:s}", "file", v);
		} else {
			/* netnsd wants an absolute path: relative to where netnsctl runs. */
			_cleanup_(freep) char *cwd = getcwd(NULL, 0), *path = NULL;

			if (!cwd || asprintf(&path, "%s/%s", cwd, v) < 0) {
				path = NULL;
				return bad_args(c, "%s: cannot make '%s' an absolute path", o->opt,
						v);
			}
			val = json_pack("{s:s}", "file", path);
		}
		break;
	case SO_ENV: {
		const char *eq = strchr(v, '=');
		_cleanup_(freep) char *key = NULL;
		json_t *env = json_object_get(params, "env");

		if (!eq || eq == v)
			return bad_args(c, "--env wants KEY=VALUE, not '%s'", v);
		key = strndup(v, (size_t)(eq - v));
		val = json_string(eq + 1);
		if (!key || !val) {
			json_decref(val);
			return bad_args(c, "--env '%s' is not UTF-8 text", v);
		}
		if (!env) {
			env = json_object();
			json_object_set_new(params, "env", env);
		}
		json_object_set_new(env, key, val); /* a later one wins, as in a shell */
		return 0;
	}
	}
	if (!val)
		return bad_args(c, "the value of %s is not UTF-8 text", o->opt);
	json_object_set_new(params, o->key, val);
	return 0;
}

/*
 * Parse "NS [OPTION]... -- CMD [ARG]..." of proc run and exec into params
 * (netns, argv and the options).  NS may instead come from -n; "host" means
 * the host.  Returns 0 or EXIT_USAGE.
 */
static int parse_spawn_args(struct ctx *c, int argc, char **argv, bool for_exec, json_t *params)
{
	const char *ns = NULL;
	json_t *args;
	int i, r;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *w = argv[i], *v = NULL;
		bool known = false;

		if (w[0] != '-') {
			if (c->netns && !ns)
				return bad_args(c, "the namespace is given twice (-n %s and '%s')",
						c->netns, w);
			if (ns)
				return bad_args(c,
						"unexpected argument '%s' (put '--' before the "
						"command: %s NS [OPTION]... -- CMD [ARG]...)",
						w, c->cmd);
			ns = w;
			continue;
		}
		for (size_t k = 0; k < ELEMENTSOF(spawn_opts) && !known; k++) {
			const struct spawn_opt *o = &spawn_opts[k];

			if (for_exec && !o->for_exec)
				continue;
			r = long_opt(c, argv, &i, o->opt, o->type != SO_FLAG, &v);
			if (r == 0)
				continue;
			if (r != 1)
				return r;
			known = true;
			r = spawn_opt_set(c, params, o, v);
			if (r)
				return r;
		}
		if (!known)
			return bad_args(c, "unknown option '%s'", w);
	}
	ns = ns ?: c->netns;
	if (!ns)
		return bad_args(c, "missing the namespace NS (a name, or host)");
	if (i >= argc)
		return bad_args(c, "missing '-- CMD': put '--' before the command");
	if (i + 1 >= argc)
		return bad_args(c, "missing the command after '--'");
	if (strcmp(ns, "host") != 0) {
		json_t *v = json_string(ns);

		if (!v)
			return bad_args(c, "NS '%s' is not UTF-8 text", ns);
		json_object_set_new(params, "netns", v);
	}
	args = json_array();
	json_object_set_new(params, "argv", args);
	for (i++; i < argc; i++) {
		json_t *v = json_string(argv[i]);

		if (!v)
			return bad_args(c, "the argument '%s' is not UTF-8 text", argv[i]);
		json_array_append_new(args, v);
	}
	return 0;
}

static int proc_run(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = json_object();
	json_t *result = NULL;
	int r;

	if (!params) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	r = parse_spawn_args(c, argc, argv, false, params);
	if (r)
		return r;
	r = rpc_call(c, "proc.spawn", TAKE_PTR(params), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	printf("%s\n", json_string_value(json_object_get(result, "id")) ?: "?");
	json_decref(result);
	return 0;
}

static int proc_list(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = json_object();
	struct table t = { .ncols = 8 };
	const char *ns = c->netns;
	json_t *result = NULL, *e;
	size_t i;
	int r;

	for (int a = 1; a < argc; a++) {
		const char *v;

		r = long_opt(c, argv, &a, "--netns", true, &v);
		if (r == 0 && !strcmp(argv[a], "-n")) {
			if (!argv[a + 1])
				return bad_args(c, "-n needs a value");
			v = argv[++a];
			r = 1;
		}
		if (r == 0)
			return bad_args(c, "unknown argument '%s'", argv[a]);
		if (r != 1)
			return r;
		ns = v;
	}
	/* netnsd lists all or one namespace's; the host's alone are picked here. */
	if (ns && strcmp(ns, "host") != 0) {
		json_t *v = json_string(ns);

		if (!v)
			return bad_args(c, "NS '%s' is not UTF-8 text", ns);
		json_object_set_new(params, "netns", v);
	}
	r = rpc_call(c, "proc.list", TAKE_PTR(params), &result);
	if (r)
		return r;
	if (ns && !strcmp(ns, "host")) {
		json_t *procs = json_object_get(result, "processes");

		for (i = json_array_size(procs); i-- > 0;)
			if (!json_is_null(json_object_get(json_array_get(procs, i), "netns")))
				json_array_remove(procs, i);
	}
	if (c->json)
		return finish_json(c, result);
	r = table_add(&t, "ID", "NAME", "NETNS", "STATE", "PID", "RESTARTS", "EXIT", "COMMAND");
	json_array_foreach(json_object_get(result, "processes"), i, e) {
		_cleanup_(freep) char *cmd = command_line(json_object_get(e, "argv"));
		json_int_t pid = json_integer_value(json_object_get(e, "pid"));
		char pid_s[32] = "-", restarts[32], exit_s[32];

		if (pid > 0)
			snprintf(pid_s, sizeof(pid_s), "%" JSON_INTEGER_FORMAT, pid);
		snprintf(restarts, sizeof(restarts), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(e, "restarts")));
		exit_label(e, exit_s, sizeof(exit_s));
		if (!cmd)
			r = -ENOMEM;
		r = r
			?: table_add(&t, json_string_value(json_object_get(e, "id")),
				     json_string_value(json_object_get(e, "name")),
				     ns_label(json_object_get(e, "netns")),
				     json_string_value(json_object_get(e, "state")), pid_s,
				     restarts, exit_s, cmd);
	}
	json_decref(result);
	return table_finish(&t, r);
}

/* The single ID argument of proc show, kill, wait, logs and delete, as params. */
static json_t *id_params(const struct ctx *c, const char *id)
{
	json_t *p;

	if (!id) {
		bad_args(c, "missing the process ID (or its name)");
		return NULL;
	}
	p = json_pack("{s:s}", "id", id);
	if (!p)
		bad_args(c, "ID '%s' is not UTF-8 text", id);
	return p;
}

/* An ID with one optional numeric option: proc wait, logs and delete.  The
 * option's value lands in params as 'field'; NULL after a usage error. */
struct id_int_opt {
	const char *opt, *field, *what;
	long long max;
};

static json_t *id_int_params(struct ctx *c, int argc, char **argv, const struct id_int_opt *o)
{
	json_t *params;
	const char *id = NULL, *v;
	long long n = -1;
	int r;

	for (int a = 1; a < argc; a++) {
		r = long_opt(c, argv, &a, o->opt, true, &v);
		if (r == 1) {
			if (!parse_int(v, 0, o->max, &n)) {
				bad_args(c, "%s wants %s (0 to %lld), not '%s'", o->opt, o->what,
					 o->max, v);
				return NULL;
			}
			continue;
		}
		if (r)
			return NULL;
		if (id || argv[a][0] == '-') {
			bad_args(c, "unexpected argument '%s'", argv[a]);
			return NULL;
		}
		id = argv[a];
	}
	params = id_params(c, id);
	if (params && n >= 0)
		json_object_set_new(params, o->field, json_integer(n));
	return params;
}

static int proc_show(struct ctx *c, int argc, char **argv)
{
	static const char *const shown[] = {
		"id",	       "name",	      "netns",	  "argv",      "state",
		"pid",	       "restart",     "restarts", "service",   "adopted",
		"created",     "started",     "exited",	  "exit_code", "signal",
		"core_dumped", "error_stage", "errno",	  "log",
	};
	json_t *params, *result = NULL, *v;
	_cleanup_(freep) char *cmd = NULL;
	const char *key, *stage;
	char exit_s[32];
	int r;

	if (argc > 2)
		return bad_args(c, "unexpected argument '%s'", argv[2]);
	params = id_params(c, argv[1]);
	if (!params)
		return EXIT_USAGE;
	r = rpc_call(c, "proc.get", params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	cmd = command_line(json_object_get(result, "argv"));
	kv("id", "%s", json_string_value(json_object_get(result, "id")) ?: "?");
	kv("name", "%s", json_string_value(json_object_get(result, "name")) ?: "-");
	kv("netns", "%s", ns_label(json_object_get(result, "netns")));
	kv("command", "%s", cmd ?: "?");
	kv("state", "%s", json_string_value(json_object_get(result, "state")) ?: "?");
	kv("pid", "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(result, "pid")));
	kv("restart", "%s", json_string_value(json_object_get(result, "restart")) ?: "?");
	kv("restarts", "%" JSON_INTEGER_FORMAT,
	   json_integer_value(json_object_get(result, "restarts")));
	kv("service", "%s", json_is_true(json_object_get(result, "service")) ? "yes" : "no");
	kv("adopted", "%s", json_is_true(json_object_get(result, "adopted")) ? "yes" : "no");
	for (const char *const *k = (const char *const[]){ "created", "started", "exited", NULL };
	     *k; k++)
		if ((v = json_object_get(result, *k)) && !json_is_null(v))
			kv(*k, "%s", json_string_value(v) ?: "?");
	v = json_object_get(result, "signal");
	if (json_is_integer(v)) {
		exit_label(result, exit_s, sizeof(exit_s));
		kv("exit", "signal %" JSON_INTEGER_FORMAT " (%s)%s", json_integer_value(v), exit_s,
		   json_is_true(json_object_get(result, "core_dumped")) ? ", core dumped" : "");
	} else if (json_is_integer(json_object_get(result, "exit_code"))) {
		kv("exit", "%" JSON_INTEGER_FORMAT,
		   json_integer_value(json_object_get(result, "exit_code")));
	}
	stage = json_string_value(json_object_get(result, "error_stage"));
	if (stage) {
		json_int_t e = json_integer_value(json_object_get(result, "errno"));

		kv("error", "%s%s%s", stage, e > 0 ? ": " : "", e > 0 ? strerror((int)e) : "");
	}
	if ((v = json_object_get(result, "log")))
		kv("log", "%s", json_string_value(v) ?: "?");
	/* Whatever else the daemon reports. */
	json_object_foreach(result, key, v) {
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(shown) && !known; i++)
			known = !strcmp(key, shown[i]);
		if (known)
			continue;
		print_key("", key, KV_WIDTH);
		print_scalar(v);
		fputc('\n', stdout);
	}
	json_decref(result);
	return 0;
}

static int proc_kill(struct ctx *c, int argc, char **argv)
{
	json_t *params;
	int sig = SIGTERM;

	if (argc > 3)
		return bad_args(c, "unexpected argument '%s'", argv[3]);
	if (argc == 3) {
		sig = signal_parse(argv[2]);
		if (sig < 0)
			return bad_args(c,
					"SIGNAL must be a number from 1 to 64 or a name such as "
					"TERM, KILL, HUP, INT, not '%s'",
					argv[2]);
	}
	params = id_params(c, argv[1]);
	if (!params)
		return EXIT_USAGE;
	json_object_set_new(params, "signal", json_integer(sig));
	return call_quiet(c, "proc.kill", params);
}

/* proc wait: the exit status is the process's; EXIT_EXEC_FAIL or EXIT_WAIT_TIMEOUT for ours. */
static int proc_wait(struct ctx *c, int argc, char **argv)
{
	static const struct id_int_opt o = { "--timeout", "timeout_ms", "milliseconds", 86400000 };
	json_t *params, *result = NULL, *error = NULL;
	int r;

	params = id_int_params(c, argc, argv, &o);
	if (!params)
		return EXIT_USAGE;
	r = rpc_call_fds(c, "proc.wait", params, NULL, 0, &result, &error);
	if (r) {
		const char *kind =
		    json_string_value(json_object_get(json_object_get(error, "data"), "kind"));

		r = kind && !strcmp(kind, "timeout") ? EXIT_WAIT_TIMEOUT : EXIT_EXEC_FAIL;
		json_decref(error);
		return r;
	}
	if (c->json)
		print_json(result);
	r = proc_exit_status(result);
	json_decref(result);
	return r;
}

static int proc_logs(struct ctx *c, int argc, char **argv)
{
	static const struct id_int_opt o = { "--tail", "tail", "a number of lines", 100000 };
	json_t *params, *result = NULL;
	const char *text;
	int r;

	params = id_int_params(c, argc, argv, &o);
	if (!params)
		return EXIT_USAGE;
	r = rpc_call(c, "proc.logs", params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	text = json_string_value(json_object_get(result, "text"));
	if (text)
		fwrite(text, 1, json_string_length(json_object_get(result, "text")), stdout);
	json_decref(result);
	return 0;
}

static int proc_delete(struct ctx *c, int argc, char **argv)
{
	static const struct id_int_opt o = { "--grace", "grace_ms", "milliseconds", 600000 };
	json_t *params = id_int_params(c, argc, argv, &o);

	return params ? call_quiet(c, "proc.delete", params) : EXIT_USAGE;
}

/* Signals for exec and monitor: taken in the poll loop through a signalfd. */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Block sigs (0-terminated) and return a signalfd for them, or -errno after saying why. */
static int signals_take(const int *sigs, sigset_t *ret_old)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (; *sigs; sigs++)
		sigaddset(&set, *sigs);
	if (sigprocmask(SIG_BLOCK, &set, ret_old) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		int r = -errno;

		errorf("cannot receive signals: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, ret_old, NULL);
		return r;
	}
	return fd;
}

/* The next signal waiting on a signalfd, or 0. */
static int signal_next(int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* Write all of data to fd, waiting when it is non-blocking; 0 or -errno. */
static int write_full(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			(void)poll(&p, 1, -1);
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * exec: proc.spawn, proc.wait and proc.delete on one connection, answered in
 * one poll() loop that also takes signals and, on a terminal, relays between
 * the terminal and a pty whose other side is the program's.
 */

/* After SIGTERM or SIGHUP, the program gets this long to end before SIGKILL. */
#define EXEC_KILL_GRACE_MS 3000
/* Once the process is deleted, how long the pty may take to hang up. */
#define EXEC_DRAIN_MS 2000
#define RELAY_CHUNK   16384

struct exec_run {
	struct ctx *c;
	bool tty;   /* relaying through a pty */
	int master; /* the pty master, -1 if none */
	int sigfd;
	struct termios saved; /* the terminal's settings, restored on the way out */
	bool raw;	      /* the terminal is in raw mode now */
	char id[80];	      /* the process, once spawned */
	json_int_t spawn_req, wait_req, delete_req;
	unsigned kills;	     /* proc.kill requests not yet answered */
	uint64_t early_sigs; /* signals that came before the process was known */
	bool spawned, waited, deleted, master_open, stdin_open, out_broken;
	int status;		       /* the program's exit status, once waited */
	uint64_t kill_at, drain_until; /* now_ms() deadlines; 0 = none */
	char in[RELAY_CHUNK];	       /* typed, not yet written to the pty */
	size_t in_len, in_off;
};

static void exec_raw(struct exec_run *x, bool on)
{
	struct termios t;

	if (!x->tty || x->raw == on)
		return;
	if (on) {
		t = x->saved;
		cfmakeraw(&t);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
			x->raw = true;
	} else {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &x->saved);
		x->raw = false;
	}
}

/* The terminal's window size onto the pty (the kernel signals the program's foreground). */
static void exec_winsize(struct exec_run *x)
{
	struct winsize ws;

	if (x->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(x->master, TIOCSWINSZ, &ws);
}

static int exec_send(struct exec_run *x, const char *method, json_t *params, json_int_t *ret_id)
{
	if (!params) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	return rpc_send(x->c, method, params, NULL, 0, ret_id);
}

static int exec_kill(struct exec_run *x, int sig)
{
	json_int_t id;
	int r = exec_send(x, "proc.kill", json_pack("{s:s,s:i}", "id", x->id, "signal", sig), &id);

	if (r == 0)
		x->kills++;
	return r;
}

/* A signal to netnsctl: passed on, or acted on for the terminal.  0 or EXIT_FAIL. */
static int exec_signal(struct exec_run *x, int sig)
{
	bool running = x->spawned && !x->waited;

	switch (sig) {
	case SIGWINCH:
		exec_winsize(x);
		return 0;
	case SIGTSTP:
		/* Stopped from outside (^Z is a character in raw mode): give the terminal
		 * back while stopped.  Without a pty the program is stopped along. */
		if (!x->tty && running && exec_kill(x, SIGTSTP))
			return EXIT_FAIL;
		exec_raw(x, false);
		kill(getpid(), SIGSTOP);
		exec_raw(x, true);
		exec_winsize(x);
		return 0;
	case SIGCONT:
		exec_raw(x, true);
		exec_winsize(x);
		return !x->tty && running ? exec_kill(x, SIGCONT) : 0;
	}
	if (x->waited)
		return 0;
	if (sig == SIGTERM || sig == SIGHUP) {
		/* We are asked to go: the program goes too, by force if it must. */
		if (x->kill_at)
			sig = SIGKILL;
		else
			x->kill_at = now_ms() + EXEC_KILL_GRACE_MS;
	}
	if (!x->spawned) {
		x->early_sigs |= UINT64_C(1) << (sig - 1);
		return 0;
	}
	return exec_kill(x, sig);
}

/* Exit status for a failed proc.spawn: 127 not found, 126 not executable, else 125. */
static int spawn_failure_status(json_t *error)
{
	json_t *data = json_object_get(error, "data");
	const char *field = json_string_value(json_object_get(data, "field"));
	json_int_t err = json_integer_value(json_object_get(data, "errno"));

	if (!field || strcmp(field, "argv") != 0)
		return EXIT_EXEC_FAIL;
	return err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

/*
 * One message from netnsd.  Returns 0 to go on, or an exit status (> 0) to
 * stop at once (the start failed, or the connection is no longer usable).
 */
static int exec_reply(struct exec_run *x, json_t *msg)
{
	json_int_t id = reply_id(msg);
	json_t *result = NULL, *error = NULL;
	int r;

	if (!json_object_get(msg, "id"))
		return 0; /* a notification: not ours to read */
	if (id == x->spawn_req) {
		r = reply_result(msg, id, false, &result, &error);
		if (r) {
			r = error ? spawn_failure_status(error) : EXIT_EXEC_FAIL;
			json_decref(error);
			return r;
		}
		snprintf(x->id, sizeof(x->id), "%s",
			 json_string_value(json_object_get(result, "id")) ?: "");
		json_decref(result);
		x->spawned = true;
		r = exec_send(x, "proc.wait", json_pack("{s:s}", "id", x->id), &x->wait_req);
		for (int sig = 1; r == 0 && sig <= 64; sig++)
			if (x->early_sigs & (UINT64_C(1) << (sig - 1)))
				r = exec_kill(x, sig);
		return r ? EXIT_EXEC_FAIL : 0;
	}
	if (x->spawned && id == x->wait_req && !x->waited) {
		r = reply_result(msg, id, false, &result, NULL);
		x->status = r ? EXIT_EXEC_FAIL : proc_exit_status(result);
		json_decref(result);
		x->waited = true;
		x->kill_at = 0;
		/* Leave nothing behind: the record goes, and with it netnsd's hold on our pty. */
		r = exec_send(x, "proc.delete", json_pack("{s:s,s:i}", "id", x->id, "grace_ms", 0),
			      &x->delete_req);
		return r ? EXIT_EXEC_FAIL : 0;
	}
	if (x->waited && id == x->delete_req && !x->deleted) {
		if (reply_result(msg, id, false, &result, NULL) == 0)
			json_decref(result);
		x->deleted = true;
		x->drain_until = now_ms() + EXEC_DRAIN_MS;
		return 0;
	}
	if (x->kills > 0 && id > 0) {
		/* A signal for a program that has just ended is no error worth telling. */
		if (reply_result(msg, id, true, &result, &error) == 0)
			json_decref(result);
		json_decref(error);
		x->kills--;
		return 0;
	}
	if (json_object_get(msg, "error") && json_is_null(json_object_get(msg, "id")))
		return print_rpc_error(json_object_get(msg, "error")) ? EXIT_EXEC_FAIL : 0;
	errorf("netnsd sent a reply to another request (protocol error)");
	return EXIT_EXEC_FAIL;
}

static bool exec_done(const struct exec_run *x)
{
	if (!x->waited || !x->deleted || x->kills > 0)
		return false;
	return !x->tty || !x->master_open || now_ms() >= x->drain_until;
}

/* Relay what the pty master has to standard output; false once it hung up. */
static bool relay_out(struct exec_run *x)
{
	char buf[RELAY_CHUNK];
	ssize_t n = read(x->master, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false; /* EIO: every descriptor of the other side is closed */
	if (!x->out_broken && write_full(STDOUT_FILENO, buf, (size_t)n) < 0)
		x->out_broken = true; /* keep draining, so the program never blocks on us */
	return true;
}

/* Move typed bytes on to the pty master. */
static void relay_in(struct exec_run *x, bool readable)
{
	ssize_t n;

	if (readable && x->in_len == 0) {
		n = read(STDIN_FILENO, x->in, sizeof(x->in));
		if (n <= 0 && !(n < 0 && errno == EINTR)) {
			x->stdin_open = false;
			return;
		}
		x->in_len = n > 0 ? (size_t)n : 0;
		x->in_off = 0;
	}
	if (x->in_len == 0 || !x->master_open)
		return;
	n = write(x->master, x->in + x->in_off, x->in_len - x->in_off);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			x->in_len = 0; /* the other side is gone: what was typed is lost */
		return;
	}
	x->in_off += (size_t)n;
	if (x->in_off == x->in_len)
		x->in_len = x->in_off = 0;
}

/* The pty for a terminal: the master in x, the slave returned (or -1 after saying why). */
static int exec_open_pty(struct exec_run *x)
{
	struct winsize ws;
	char name[64];
	int slave;

	x->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (x->master < 0 || grantpt(x->master) < 0 || unlockpt(x->master) < 0 ||
	    ptsname_r(x->master, name, sizeof(name)) != 0) {
		errorf("cannot allocate a pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		errorf("cannot open %s: %s", name, strerror(errno));
		return -1;
	}
	/* The program's terminal starts as ours is: same settings, same size. */
	(void)tcsetattr(slave, TCSANOW, &x->saved);
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(x->master, TIOCSWINSZ, &ws);
	(void)fcntl(x->master, F_SETFL, fcntl(x->master, F_GETFL) | O_NONBLOCK);
	x->master_open = true;
	x->stdin_open = true;
	return slave;
}

/* netnsctl's environment as the env param: exec runs the command as ip netns exec would. */
static json_t *environ_json(void)
{
	extern char **environ;
	json_t *env = json_object();

	for (char **e = environ; env && e && *e; e++) {
		const char *eq = strchr(*e, '=');
		_cleanup_(freep) char *key = NULL;
		json_t *v;

		if (!eq || eq == *e)
			continue;
		key = strndup(*e, (size_t)(eq - *e));
		v = json_string(eq + 1);
		if (!key || !v) { /* not UTF-8: JSON cannot carry it */
			json_decref(v);
			continue;
		}
		json_object_set_new(env, key, v);
	}
	return env;
}

static int cmd_exec(struct ctx *c, int argc, char **argv)
{
	static const int sigs[] = { SIGINT,  SIGTERM,  SIGHUP,	SIGQUIT, SIGUSR1,
				    SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT, 0 };
	_cleanup_(json_decrefp) json_t *params = json_object();
	struct exec_run x = { .c = c, .master = -1, .sigfd = -1 };
	_cleanup_(closep) int slave = -1;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	json_t *opts, *env;
	sigset_t old_mask;
	int fds[3], nfds = 0, r, status = EXIT_EXEC_FAIL;

	if (c->json)
		return bad_args(c, "--json does not apply: the output is the command's own");
	if (!params) {
		errorf("out of memory");
		return EXIT_EXEC_FAIL;
	}
	r = parse_spawn_args(c, argc, argv, true, params);
	if (r)
		return r;
	/* As ip netns exec: our environment (--env on top), directory and identity. */
	opts = json_object_get(params, "env");
	env = environ_json();
	if (!env) {
		errorf("out of memory");
		return EXIT_EXEC_FAIL;
	}
	json_object_update(env, opts);
	json_object_set_new(params, "env", env);
	json_object_set_new(params, "env_replace", json_true());
	if (!json_object_get(params, "cwd")) {
		_cleanup_(freep) char *cwd = getcwd(NULL, 0);
		json_t *v = cwd ? json_string(cwd) : NULL;

		if (v)
			json_object_set_new(params, "cwd", v);
	}
	if (getuid() != 0 && !json_object_get(params, "user")) {
		json_object_set_new(params, "user", json_integer(getuid()));
		if (!json_object_get(params, "group"))
			json_object_set_new(params, "group", json_integer(getgid()));
	}
	json_object_set_new(params, "restart", json_string("no"));

	x.tty = isatty(STDIN_FILENO);
	if (x.tty && tcgetattr(STDIN_FILENO, &x.saved) < 0)
		x.tty = false;
	if (x.tty) {
		slave = exec_open_pty(&x);
		if (slave < 0)
			goto out;
		fds[nfds++] = slave;
		json_object_set_new(params, "stdin", json_pack("{s:i}", "fd", 0));
		json_object_set_new(params, "stdout", json_pack("{s:i}", "fd", 0));
		json_object_set_new(params, "stderr", json_pack("{s:i}", "fd", 0));
		json_object_set_new(params, "tty", json_true());
	} else {
		static const char *const names[] = { "stdin", "stdout", "stderr" };

		/* Our own stdio, as they are; a closed one becomes /dev/null. */
		for (int i = 0; i < 3; i++) {
			if (fcntl(i, F_GETFD) < 0) {
				json_object_set_new(params, names[i], json_string("null"));
				continue;
			}
			json_object_set_new(params, names[i], json_pack("{s:i}", "fd", nfds));
			fds[nfds++] = i;
		}
	}

	sigaction(SIGPIPE, &ign, &old_pipe);
	x.sigfd = signals_take(sigs, &old_mask);
	if (x.sigfd < 0) {
		sigaction(SIGPIPE, &old_pipe, NULL);
		goto out;
	}
	r = rpc_send(c, "proc.spawn", TAKE_PTR(params), fds, (size_t)nfds, &x.spawn_req);
	slave = safe_close(slave); /* netnsd has its own now; the pty hangs up when all are gone */
	if (r)
		goto restore;
	exec_raw(&x, true);

	while (!exec_done(&x)) {
		struct pollfd p[4];
		int n = 0, i_sock, i_sig, i_master = -1, i_stdin = -1, timeout = -1;
		uint64_t now = now_ms(), deadline = 0;
		char *line;
		size_t len;

		i_sock = n;
		p[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		i_sig = n;
		p[n++] = (struct pollfd){ .fd = x.sigfd, .events = POLLIN };
		if (x.tty && x.master_open) {
			i_master = n;
			p[n++] = (struct pollfd){ .fd = x.master,
						  .events = POLLIN | (x.in_len ? POLLOUT : 0) };
		}
		if (x.tty && x.stdin_open && x.in_len == 0 && x.master_open) {
			i_stdin = n;
			p[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		}
		if (x.kill_at)
			deadline = x.kill_at;
		if (x.deleted && x.tty && (!deadline || x.drain_until < deadline))
			deadline = x.drain_until;
		if (deadline)
			timeout = deadline > now ? (int)(deadline - now) : 0;
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			errorf("poll: %s", strerror(errno));
			goto restore;
		}
		if (p[i_sig].revents) {
			int sig;

			while ((sig = signal_next(x.sigfd)) > 0)
				if (exec_signal(&x, sig))
					goto restore;
		}
		if (i_master >= 0 && (p[i_master].revents & (POLLIN | POLLHUP | POLLERR)))
			x.master_open = relay_out(&x);
		if (i_master >= 0 && x.master_open && (p[i_master].revents & POLLOUT))
			relay_in(&x, false);
		if (i_stdin >= 0 && p[i_stdin].revents)
			relay_in(&x, true);
		if (p[i_sock].revents) {
			ssize_t got = conn_recv_some(c);

			if (got == 0)
				errorf("netnsd at %s closed the connection", c->socket_path);
			if (got <= 0)
				goto restore;
			while (conn_line(c, &line, &len)) {
				_cleanup_(json_decrefp) json_t *msg = take_json_line(c, line, len);

				if (!msg)
					goto restore;
				r = exec_reply(&x, msg);
				if (r) {
					status = r;
					goto restore;
				}
			}
		}
		if (x.kill_at && now_ms() >= x.kill_at) {
			x.kill_at = 0;
			if (exec_kill(&x, SIGKILL))
				goto restore;
		}
	}
	status = x.status;
restore:
	exec_raw(&x, false);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
out:
	safe_close(x.sigfd);
	safe_close(x.master);
	return status;
}

/* monitor */

static const char monitor_topics[] = "netns link addr route neigh proc daemon";

/* " KEY VALUE" for a member that is a string (or a number), nothing when it is absent. */
static void print_member(json_t *obj, const char *member, const char *label)
{
	json_t *v = json_object_get(obj, member);

	if (!v || json_is_null(v))
		return;
	printf(" %s ", label);
	print_scalar(v);
}

static void print_link_event(json_t *l, bool del)
{
	json_t *peer = json_object_get(l, "peer");
	const char *kind = json_string_value(json_object_get(l, "kind"));
	const char *admin = json_is_true(json_object_get(l, "up")) ? "up" : "down";
	const char *oper = json_string_value(json_object_get(l, "operstate"));

	printf("%s", json_string_value(json_object_get(l, "name")) ?: "?");
	if (kind)
		printf(" %s", kind);
	if (del)
		return;
	printf(" %s", admin);
	/* The kernel's operational state, when it says more ("up" without carrier ...). */
	if (oper && strcmp(oper, admin) != 0)
		printf(" state %s", oper);
	print_member(l, "mtu", "mtu");
	print_member(l, "master", "master");
	if (json_is_object(peer)) {
		char buf[128];

		peer_label(peer, buf, sizeof(buf));
		printf(" peer %s", buf);
	}
}

static void print_route_event(json_t *rt)
{
	const char *type = json_string_value(json_object_get(rt, "type"));
	json_int_t table = json_integer_value(json_object_get(rt, "table"));
	char buf[32];

	if (type && strcmp(type, "unicast") != 0)
		printf("%s ", type);
	printf("%s", json_string_value(json_object_get(rt, "dst")) ?: "?");
	print_member(rt, "via", "via");
	print_member(rt, "dev", "dev");
	if (json_integer_value(json_object_get(rt, "metric")))
		print_member(rt, "metric", "metric");
	if (json_object_get(rt, "table") && table != 254)
		printf(" table %s", table_name(table, buf, sizeof(buf)));
}

static void print_proc_event(json_t *p, const char *action, const char *arrow)
{
	const char *name = json_string_value(json_object_get(p, "name"));
	const char *stage = json_string_value(json_object_get(p, "error_stage"));
	json_int_t pid = json_integer_value(json_object_get(p, "pid"));
	char exit_s[32];

	printf("%s", json_string_value(json_object_get(p, "id")) ?: "?");
	if (name)
		printf(" (%s)", name);
	printf(" %s", json_string_value(json_array_get(json_object_get(p, "argv"), 0)) ?: "?");
	if (!strcmp(action, "exited") || (!strcmp(action, "failed") && !stage)) {
		json_t *sig = json_object_get(p, "signal");

		exit_label(p, exit_s, sizeof(exit_s));
		printf(" %s %s %s", arrow, json_is_integer(sig) ? "signal" : "exit", exit_s);
		if (json_is_true(json_object_get(p, "core_dumped")))
			printf(" (core dumped)");
	} else if (stage) {
		json_int_t e = json_integer_value(json_object_get(p, "errno"));

		printf(" %s failed: %s%s%s", arrow, stage, e > 0 ? ": " : "",
		       e > 0 ? strerror((int)e) : "");
	} else if (pid > 0 && strcmp(action, "removed") != 0) {
		printf(" pid %" JSON_INTEGER_FORMAT, pid);
	}
	if (!strcmp(action, "restarting"))
		printf(" (restart %" JSON_INTEGER_FORMAT ")",
		       json_integer_value(json_object_get(p, "restarts")) + 1);
}

/* One event as a line, ip monitor style: "[topic] action  netns: object". */
static void print_event(json_t *ev, bool timestamp, const char *arrow)
{
	const char *topic = json_string_value(json_object_get(ev, "topic")) ?: "?";
	const char *action = json_string_value(json_object_get(ev, "action")) ?: "?";
	const char *ns = ns_label(json_object_get(ev, "netns"));
	bool del = !strcmp(action, "del");
	json_t *o;

	if (timestamp)
		printf("%s ", json_string_value(json_object_get(ev, "time")) ?: "-");
	printf("[%s] %-6s ", topic, action);
	if (!strcmp(topic, "netns")) {
		o = json_object_get(ev, "namespace");
		printf("%s", json_string_value(json_object_get(o, "name")) ?: ns);
		if (!del && json_object_get(o, "managed"))
			printf(" (%s)", json_is_true(json_object_get(o, "managed")) ? "managed"
										    : "unmanaged");
	} else if (!strcmp(topic, "link")) {
		printf("%s: ", ns);
		print_link_event(json_object_get(ev, "link"), del);
	} else if (!strcmp(topic, "addr")) {
		o = json_object_get(ev, "addr");
		printf("%s: %s", ns, json_string_value(json_object_get(o, "address")) ?: "?");
		print_member(o, "dev", "dev");
		if (!del && strcmp(json_string_value(json_object_get(o, "scope")) ?: "", "global"))
			print_member(o, "scope", "scope");
		if (!del && json_is_true(json_object_get(o, "tentative")))
			printf(" tentative");
	} else if (!strcmp(topic, "route")) {
		printf("%s: ", ns);
		print_route_event(json_object_get(ev, "route"));
	} else if (!strcmp(topic, "neigh")) {
		o = json_object_get(ev, "neigh");
		printf("%s: %s", ns, json_string_value(json_object_get(o, "address")) ?: "?");
		print_member(o, "dev", "dev");
		print_member(o, "lladdr", "lladdr");
		if (!del)
			print_member(o, "state", "state");
	} else if (!strcmp(topic, "proc")) {
		printf("%s: ", ns);
		print_proc_event(json_object_get(ev, "proc"), action, arrow);
	} else if (!strcmp(topic, "daemon")) {
		if (!strcmp(action, "gap") && json_is_null(json_object_get(ev, "lost")))
			printf("lost an unknown number of events (netnsd restarted)");
		else if (json_object_get(ev, "lost"))
			printf("lost %" JSON_INTEGER_FORMAT " events",
			       json_integer_value(json_object_get(ev, "lost")));
		else if (!json_is_null(json_object_get(ev, "netns")) &&
			 json_object_get(ev, "netns"))
			printf("%s", ns);
	} else {
		_cleanup_(freep) char *s = json_dumps(ev, JSON_COMPACT);

		fputs(s ?: "?", stdout);
	}
	fputc('\n', stdout);
}

static int cmd_monitor(struct ctx *c, int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, 0 };
	_cleanup_(json_decrefp) json_t *params = json_object();
	json_t *topics = NULL, *result = NULL;
	const char *ns = c->netns, *arrow = "->", *cs;
	bool timestamp = false, host_only;
	sigset_t old_mask;
	int sigfd, r, status = EXIT_FAIL;

	if (!params) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	for (int a = 1; a < argc; a++) {
		const char *w = argv[a], *v;

		r = long_opt(c, argv, &a, "--netns", true, &v);
		if (r == 0 && !strcmp(w, "-n")) {
			if (!argv[a + 1])
				return bad_args(c, "-n needs a value");
			v = argv[++a];
			r = 1;
		}
		if (r > 1)
			return r;
		if (r == 1) {
			ns = v;
			continue;
		}
		if (!strcmp(w, "-t") || !strcmp(w, "--timestamp")) {
			timestamp = true;
			continue;
		}
		r = long_opt(c, argv, &a, "--since", true, &v);
		if (r > 1)
			return r;
		if (r == 1) {
			/* A cursor INSTANCE:GSEQ: resume after that event. */
			const char *colon = strrchr(v, ':');
			long long g;

			if (!colon || colon == v || (size_t)(colon - v) > 64 ||
			    !parse_int(colon + 1, 0, LLONG_MAX, &g))
				return bad_args(c, "--since needs INSTANCE:GSEQ, not '%s'", v);
			json_object_set_new(params, "instance",
					    json_stringn(v, (size_t)(colon - v)));
			json_object_set_new(params, "since", json_integer(g));
			continue;
		}
		if (w[0] == '-')
			return bad_args(c, "unknown option '%s'", w);
		if (!strcmp(w, "all"))
			continue;
		if (!word_in(monitor_topics, w))
			return bad_args(c, "unknown topic '%s' (topics: %s, all)", w,
					monitor_topics);
		if (!topics) {
			topics = json_array();
			json_object_set_new(params, "topics", topics);
		}
		json_array_append_new(topics, json_string(w));
	}
	/* netnsd filters by namespace name; the host's events alone are picked here. */
	host_only = ns && !strcmp(ns, "host");
	if (ns && !host_only) {
		json_t *v = json_string(ns);

		if (!v)
			return bad_args(c, "NS '%s' is not UTF-8 text", ns);
		json_object_set_new(params, "netns", v);
	}
	if (!c->json && setlocale(LC_CTYPE, "") && (cs = nl_langinfo(CODESET)) &&
	    !strcmp(cs, "UTF-8"))
		arrow = "\u2192";

	sigfd = signals_take(sigs, &old_mask);
	if (sigfd < 0)
		return EXIT_FAIL;
	r = rpc_call(c, "events.subscribe", TAKE_PTR(params), &result);
	json_decref(result);
	if (r)
		goto out;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };
		char *line;
		size_t len;
		ssize_t got;

		/* Events may have come with the reply: print what is buffered first. */
		while (conn_line(c, &line, &len)) {
			_cleanup_(json_decrefp) json_t *msg = take_json_line(c, line, len);
			json_t *ev = json_object_get(msg, "params");

			if (!msg)
				goto out;
			if (strcmp(json_string_value(json_object_get(msg, "method")) ?: "",
				   "event") ||
			    !json_is_object(ev))
				continue;
			if (host_only && !json_is_null(json_object_get(ev, "netns")) &&
			    strcmp(json_string_value(json_object_get(ev, "topic")) ?: "", "daemon"))
				continue;
			if (c->json) {
				json_dumpf(ev, stdout, JSON_COMPACT);
				fputc('\n', stdout);
			} else {
				print_event(ev, timestamp, arrow);
			}
			if (fflush(stdout) != 0) {
				if (errno != EPIPE)
					errorf("cannot write the output: %s", strerror(errno));
				goto out;
			}
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			errorf("poll: %s", strerror(errno));
			goto out;
		}
		if (p[1].revents && signal_next(sigfd) > 0) {
			status = 0;
			goto out;
		}
		if (!p[0].revents)
			continue;
		got = conn_recv_some(c);
		if (got == 0)
			errorf("netnsd at %s closed the connection", c->socket_path);
		if (got <= 0)
			goto out;
	}
out:
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	close(sigfd);
	return status;
}

/* Daemon */

static void print_duration(json_int_t ms)
{
	json_int_t s = ms / 1000;

	if (s >= 86400)
		printf("%" JSON_INTEGER_FORMAT "d ", s / 86400);
	if (s >= 3600)
		printf("%" JSON_INTEGER_FORMAT "h ", s / 3600 % 24);
	if (s >= 60)
		printf("%" JSON_INTEGER_FORMAT "m ", s / 60 % 60);
	if (s >= 60)
		printf("%" JSON_INTEGER_FORMAT "s", s % 60);
	else
		printf("%" JSON_INTEGER_FORMAT ".%03ds", s, (int)(ms % 1000));
}

/* Print each member of an object as an indented "key: value" line. */
static void print_section(const char *title, json_t *obj)
{
	const char *key;
	int width = 0;
	json_t *v;

	if (!json_is_object(obj))
		return;
	printf("%s:\n", title);
	json_object_foreach(obj, key, v)
		if ((int)strlen(key) + 3 > width)
			width = (int)strlen(key) + 3;
	json_object_foreach(obj, key, v) {
		print_key("  ", key, width);
		print_scalar(v);
		fputc('\n', stdout);
	}
}

static int cmd_info(struct ctx *c, int argc, char **argv)
{
	json_t *result = NULL, *restore, *v, *e;
	static const char *const actions[] = { "adopted", "recreated", "failed" };
	int r;

	if (argc > 1)
		return usage_error(c, "info: unexpected argument '%s'", argv[1]);
	r = rpc_call(c, "daemon.info", NULL, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	kv("version", "%s", json_string_value(json_object_get(result, "version")) ?: "?");
	kv("pid", "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(result, "pid")));
	print_key("", "uptime", KV_WIDTH);
	print_duration(json_integer_value(json_object_get(result, "uptime_ms")));
	fputc('\n', stdout);
	v = json_object_get(result, "socket");
	if (v)
		kv("socket", "%s%s", json_string_value(v) ?: "?",
		   json_is_true(json_object_get(result, "socket_activated"))
		       ? " (passed by systemd)"
		       : "");
	v = json_object_get(result, "state_dir");
	if (v)
		kv("state dir", "%s", json_string_value(v) ?: "?");
	restore = json_object_get(result, "restore");
	kv("restore", "%zu adopted, %zu recreated, %zu failed",
	   json_array_size(json_object_get(restore, "adopted")),
	   json_array_size(json_object_get(restore, "recreated")),
	   json_array_size(json_object_get(restore, "failed")));
	/* Adopted is the normal case after a restart; the others are worth a line each. */
	for (size_t a = 1; a < ELEMENTSOF(actions); a++) {
		size_t i;

		json_array_foreach(json_object_get(restore, actions[a]), i, e) {
			const char *msg = json_string_value(json_object_get(e, "message"));

			printf("  %s %s %s%s%s\n", actions[a],
			       json_string_value(json_object_get(e, "kind")) ?: "?",
			       json_string_value(json_object_get(e, "name")) ?: "?",
			       msg ? ": " : "", msg ?: "");
		}
	}
	print_section("counts", json_object_get(result, "counts"));
	print_section("limits", json_object_get(result, "limits"));
	print_section("state", json_object_get(result, "state"));
	json_decref(result);
	return 0;
}

static int cmd_ping(struct ctx *c, int argc, char **argv)
{
	struct timespec t0, t1;
	json_t *result = NULL;
	int r;

	if (argc > 1)
		return usage_error(c, "ping: unexpected argument '%s'", argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rpc_call(c, "daemon.ping", NULL, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("pong from %s: time=%.3f ms\n", c->socket_path,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	json_decref(result);
	return 0;
}

static int cmd_call(struct ctx *c, int argc, char **argv)
{
	_cleanup_(freep) char *text = NULL;
	json_t *params = NULL, *result = NULL;
	json_error_t jerr;
	size_t len;
	int r;

	if (argc < 2)
		return usage_error(c, "call: missing METHOD");
	if (argc > 3)
		return usage_error(c, "call: unexpected argument '%s' (quote the JSON params)",
				   argv[3]);
	if (argc == 3) {
		if (!strcmp(argv[2], "-")) {
			r = read_all("-", &text, &len);
			if (r < 0) {
				errorf("cannot read standard input: %s", strerror(-r));
				return EXIT_FAIL;
			}
		} else {
			len = strlen(argv[2]);
		}
		params = json_loadb(text ?: argv[2], len, JSON_DECODE_ANY, &jerr);
		if (!params)
			return usage_error(c,
					   "call: the params are not JSON: %s (line %d, column %d)",
					   jerr.text, jerr.line, jerr.column);
	}
	r = rpc_call(c, argv[1], params, &result);
	if (r)
		return r;
	print_json(result);
	json_decref(result);
	return 0;
}

/* Help. */

static int cmd_help(struct ctx *c, int argc, char **argv);

static const struct verb netns_verbs[] = {
	{
	    .name = "add",
	    .run = netns_add,
	    .args = "NAME [nsid N] [sysctl KEY=VALUE]... [resolv-conf FILE] [hosts FILE]",
	    .summary = "create a namespace",
	    .help = "Create the named network namespace exactly as 'ip netns add' does (an\n"
		    "nsfs bind mount at /run/netns/NAME), so 'ip netns exec NAME' works on it,\n"
		    "and remember it: netnsd recreates it after a reboot.  'nsid N' assigns\n"
		    "the namespace id seen from the host; each 'sysctl KEY=VALUE' sets a\n"
		    "per-namespace sysctl under net. inside it (e.g. net.ipv4.ip_forward=1);\n"
		    "'resolv-conf FILE' and 'hosts FILE' are read by netnsctl (\"-\" is standard\n"
		    "input) and written to /etc/netns/NAME/resolv.conf and hosts, which\n"
		    "'ip netns exec' bind-mounts over /etc.  Prints nothing on success.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = netns_delete,
	    .args = "NAME [grace MS]",
	    .summary = "delete a namespace netnsd created",
	    .help = "Send SIGTERM to every process in the namespace, wait up to MS\n"
		    "milliseconds (default 3000) for them to exit, SIGKILL the rest, then\n"
		    "unmount /run/netns/NAME and remove /etc/netns/NAME.  Prints the PIDs\n"
		    "that were terminated or killed, if any.  Namespaces that netnsd did not\n"
		    "create are never deleted.",
	},
	{
	    .name = "list",
	    .alias = "ls",
	    .run = netns_list,
	    .args = "[--names]",
	    .summary = "list namespaces",
	    .help = "List every namespace under /run/netns, and those netnsd manages but\n"
		    "cannot find mounted, as a table: NAME; MANAGED (yes when netnsd created\n"
		    "it, no for namespaces made by others, \"yes (unmounted)\" when netnsd\n"
		    "recorded it but nothing is mounted there, \"no (unmounted)\" for a stale\n"
		    "file under /run/netns, \"yes (deleting)\" while a delete runs); NSID (\"-\"\n"
		    "when none is assigned); CREATED (\"-\" for namespaces made by others).\n"
		    "--names prints only the names, one per line.",
	},
	{
	    .name = "show",
	    .run = netns_show,
	    .args = "NAME",
	    .summary = "show one namespace",
	    .help = "Show everything netnsd knows about one namespace as \"key: value\" lines:\n"
		    "managed, mounted, nsfs inode, nsid, creation time, one \"sysctl:\" line per\n"
		    "sysctl, and the resolv.conf and hosts contents indented below their key.",
	},
	{
	    .name = "pids",
	    .run = netns_pids,
	    .args = "NAME",
	    .summary = "list the processes in a namespace",
	    .help = "Print the PIDs of the processes whose network namespace is NAME, one\n"
		    "per line, like 'ip netns pids'.",
	},
	{
	    .name = "identify",
	    .run = netns_identify,
	    .args = "[PID]",
	    .summary = "name the namespace of a process",
	    .help = "Print the names under /run/netns of the network namespace that process\n"
		    "PID (default: netnsctl itself) is in, one per line, like 'ip netns\n"
		    "identify'.  Prints nothing when the namespace has no name.",
	},
	{ 0 },
};

static const struct verb link_verbs[] = {
	{
	    .name = "add",
	    .run = link_add,
	    .args = "[name] NAME type KIND [OPTION]...\n"
		    "          [peer PEER [PEER-OPTION]...]",
	    .summary = "create a link",
	    .help = "Create link NAME of kind KIND (veth, bridge, dummy, vlan, macvlan or\n"
		    "vxlan) in the host or, with -n NS, inside namespace NS.  netnsd gives\n"
		    "it the alias \"netnsd\", records it and recreates it after a restart or\n"
		    "a reboot.  If any step fails nothing is left behind.  Only the options\n"
		    "given are sent; the rest keep the kernel's defaults.  Prints nothing on\n"
		    "success; with --json, the new link as 'link list' describes it.\n"
		    "\n"
		    "Options of every kind:\n"
		    "  master BRIDGE     make it a port of BRIDGE (in the same namespace)\n"
		    "  mtu N             its MTU (68 to 65535)\n"
		    "  address MAC       its MAC address\n"
		    "  up                bring it up once it is configured\n"
		    "  noipv6ll          no IPv6 link-local address (address generation\n"
		    "                    mode none), set before it comes up: it never sends\n"
		    "                    DAD, router solicitations or MLD (large labs on one\n"
		    "                    bridge want this); 'ipv6ll on|off' says it either way\n"
		    "veth:\n"
		    "  peer PEER         the other end's name (required; also: peer name\n"
		    "                    PEER).  As with ip, the words after 'peer PEER'\n"
		    "                    describe the peer, so put the link's own options\n"
		    "                    before it.  The peer takes master, mtu, address,\n"
		    "                    up, noipv6ll and ipv6ll as above, and\n"
		    "    netns PEERNS    the namespace to make it in, 'host' for the host\n"
		    "                    (default: where the link is made: -n NS, or the\n"
		    "                    host)\n"
		    "bridge:\n"
		    "  stp on|off        spanning tree (default off); the forward delay is 0\n"
		    "  vlan_filtering on|off\n"
		    "vlan:\n"
		    "  link DEV          the parent device (required; also: parent DEV)\n"
		    "  id N              the VLAN id, 1 to 4094 (required)\n"
		    "  protocol 802.1Q|802.1ad\n"
		    "macvlan:\n"
		    "  link DEV          the parent device (required; also: parent DEV)\n"
		    "  mode bridge|private|vepa|passthru\n"
		    "vxlan:\n"
		    "  id VNI            (required)\n"
		    "  remote IP | group IP   the far end, or a multicast group (needs dev)\n"
		    "  local IP, port N (default 4789), dev DEV (the underlay device)",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = link_delete,
	    .args = "[dev] NAME",
	    .summary = "delete a link, or give a borrowed one back",
	    .help = "Delete link NAME (and, for a veth, its peer), and forget it.  A device\n"
		    "that was moved into a namespace with 'link set NAME netns NS' is not\n"
		    "deleted but given back: moved to the namespace it came from under its\n"
		    "original name (netnsctl says so).  In the host only links netnsd\n"
		    "created can be deleted.",
	},
	{
	    .name = "set",
	    .run = link_set,
	    .args = "[dev] NAME [up|down] [mtu N] [address MAC]\n"
		    "          [master BRIDGE|nomaster] [name NEWNAME] [netns NS|host]\n"
		    "          [ipv6ll on|off]",
	    .summary = "change a link, rename it or move it",
	    .help = "Change link NAME: bring it up or down, set its MTU or MAC address,\n"
		    "make it a port of BRIDGE or detach it (nomaster), rename it, turn its\n"
		    "IPv6 link-local address on or off, or move it to namespace NS ('netns\n"
		    "host' moves it to the host).  Moving a device flushes its addresses and\n"
		    "routes (the kernel does); 'master' cannot be combined with 'netns'.\n"
		    "Moving a device netnsd did not create (a physical NIC) borrows it:\n"
		    "'link delete' or deleting its namespace gives it back.  In the host\n"
		    "netnsd changes only links it created or borrowed.  Prints nothing on\n"
		    "success; with --json, the link after the change.",
	},
	{
	    .name = "list",
	    .alias = "ls show",
	    .run = link_list,
	    .args = "[--names]",
	    .summary = "list the links of a namespace",
	    .help = "List the links of the host or, with -n NS, of namespace NS, as a\n"
		    "table: NAME; KIND (\"-\" for physical devices and lo); STATE, the\n"
		    "administrative state (UP or DOWN) and the kernel's operational state\n"
		    "(up, down, lowerlayerdown, unknown ...); MTU; ADDRESS (MAC); MASTER;\n"
		    "MANAGED: created (netnsd made it), borrowed (moved in with 'link set\n"
		    "netns'), existing (a device netnsd changed but did not make, such as lo\n"
		    "of its namespaces) or no; PEER, the other end of a veth as\n"
		    "NAME@NAMESPACE (\"host\" for the host; @nsidN when only the kernel's\n"
		    "namespace id is known).  --names prints only the names, one per line.",
	},
	{ 0 },
};

static const struct verb addr_verbs[] = {
	{
	    .name = "add",
	    .run = addr_add,
	    .args = "ADDRESS/PREFIX dev DEV [nodad]",
	    .summary = "add an address to a device",
	    .help = "Add the IPv4 or IPv6 address ADDRESS/PREFIX (a plain address means /32\n"
		    "or /128) to device DEV in the host or, with -n NS, in namespace NS, and\n"
		    "record it: netnsd restores it after a restart or a reboot.  'nodad'\n"
		    "skips IPv6 duplicate address detection, so the address is usable at\n"
		    "once.  In the host, DEV must be a link netnsd created or borrowed.\n"
		    "Prints nothing on success; with --json, the recorded address.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = addr_delete,
	    .args = "ADDRESS/PREFIX dev DEV",
	    .summary = "remove an address from a device",
	    .help = "Remove ADDRESS/PREFIX from device DEV and forget it.  Prints nothing\n"
		    "on success; with --json, the address removed.",
	},
	{
	    .name = "list",
	    .alias = "ls show",
	    .run = addr_list,
	    .args = "[[dev] DEV]",
	    .summary = "list the addresses of a namespace or device",
	    .help = "List the addresses in the host or, with -n NS, in namespace NS (only\n"
		    "those of DEV when given) as a table: DEV; FAMILY (inet or inet6);\n"
		    "ADDRESS/PREFIX; SCOPE (global, link, host); MANAGED: yes when netnsd\n"
		    "added it and restores it, no otherwise, with \"(tentative)\" while IPv6\n"
		    "duplicate address detection runs.",
	},
	{ 0 },
};

static const struct verb route_verbs[] = {
	{
	    .name = "add",
	    .run = route_add,
	    .args = "[TYPE] {default|PREFIX} [via IP] [dev DEV] [metric N]\n"
		    "          [table N] [type TYPE] [-4|-6|family inet|inet6]",
	    .summary = "add a route",
	    .help = "Add a route to PREFIX (ADDRESS/PREFIX without host bits, or \"default\")\n"
		    "in the host or, with -n NS, in namespace NS, and record it: netnsd\n"
		    "restores it after a restart or a reboot.  'via IP' is the gateway and\n"
		    "'dev DEV' the device; a unicast route needs one or both.  'metric N'\n"
		    "(default 0 for IPv4, 1024 for IPv6) and 'table N' (a number, or main,\n"
		    "local, default; default main) place it.  TYPE is unicast (default),\n"
		    "blackhole, unreachable or prohibit, given before the prefix as ip does\n"
		    "or as 'type TYPE'; the others need neither via nor dev.  The\n"
		    "family follows the prefix or the gateway; \"default\" without via is\n"
		    "IPv4 unless -6 (or 'family inet6') says IPv6.  In the host a route\n"
		    "needs a dev that netnsd created or borrowed.  Prints nothing on\n"
		    "success; with --json, the recorded route.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = route_delete,
	    .args = "[TYPE] {default|PREFIX} [via IP] [dev DEV] [metric N]\n"
		    "          [table N] [type TYPE] [-4|-6|family inet|inet6]",
	    .summary = "delete a route",
	    .help = "Delete the route that the same words would add (the metric and the\n"
		    "table must match) and forget it.  Prints nothing on success; with\n"
		    "--json, the route deleted.",
	},
	{
	    .name = "list",
	    .alias = "ls show",
	    .run = route_list,
	    .args = "[table N] [-4|-6|family inet|inet6]",
	    .summary = "list the routes of a namespace",
	    .help = "List the routes in the host or, with -n NS, in namespace NS: those of\n"
		    "every table but local unless 'table N' names one, of both families\n"
		    "unless -4 or -6 names one.  Columns: DST (preceded by the type when\n"
		    "it is not unicast, as in ip: \"blackhole 10.9.0.0/16\"); VIA, the\n"
		    "gateway; DEV; METRIC; TABLE (main, local, default or the number);\n"
		    "MANAGED: yes when netnsd added it and restores it.",
	},
	{ 0 },
};

static const struct verb proc_verbs[] = {
	{
	    .name = "run",
	    .run = proc_run,
	    .uses_netns = true,
	    .args = "NS [OPTION]... -- CMD [ARG]...",
	    .summary = "start a supervised process in a namespace",
	    .help = "Start CMD with its ARGs in namespace NS ('host' for the host) under\n"
		    "netnsd's supervision, with 'ip netns exec' semantics: the namespace, a\n"
		    "private mount namespace with /sys of that namespace, and the files of\n"
		    "/etc/netns/NS bound over /etc.  CMD is executed directly, never through a\n"
		    "shell; without a '/' it is searched in PATH.  netnsctl returns once the\n"
		    "program runs and prints its ID (16 hex digits); a program that cannot be\n"
		    "started (not found, bad --cwd or --user, no such namespace) is an error\n"
		    "and leaves nothing behind.  With --json, the process as 'proc show'\n"
		    "describes it.  Options:\n"
		    "\n"
		    "  --name NAME        a unique name, usable wherever an ID is\n"
		    "  --restart POLICY   no (default); on-failure: restart after a non-zero\n"
		    "                     exit or a signal; always: after any exit.  Restarts\n"
		    "                     back off from 100 ms to 30 s; more than 5 within 10 s\n"
		    "                     make the process failed.  A process with a policy is\n"
		    "                     a service: netnsd starts it again after a reboot\n"
		    "  --user USER        run as USER (name or number), with its groups\n"
		    "  --group GROUP      run with primary group GROUP (default: USER's)\n"
		    "  --cwd DIR          working directory, absolute (default /)\n"
		    "  --env KEY=VALUE    set a variable (repeatable); besides these the\n"
		    "                     program gets only PATH (the usual sbin and bin\n"
		    "                     directories under /, /usr and /usr/local)\n"
		    "  --env-replace      the --env variables are the whole environment\n"
		    "  --stdout WHERE     log (default: the process's log file, see 'proc\n"
		    "                     logs'), null (discarded) or FILE (appended to; a\n"
		    "                     relative path is taken from the current directory)\n"
		    "  --stderr WHERE     the same for standard error (default log: the same\n"
		    "                     file as standard output)\n"
		    "Standard input is /dev/null.  Put '--' before CMD.",
	},
	{
	    .name = "list",
	    .alias = "ls",
	    .run = proc_list,
	    .uses_netns = true,
	    .args = "[-n NS]",
	    .summary = "list supervised processes",
	    .help = "List the processes netnsd supervises, all of them or those of namespace\n"
		    "NS ('host': the host's; the global -n NS works too), as a table: ID;\n"
		    "NAME; NETNS; STATE: starting, running, backoff (waiting to restart),\n"
		    "exited, failed (could not start, or restarted too often) or lost (its\n"
		    "supervisor vanished, the exit status is unknown); PID, the program's (of\n"
		    "its last run); RESTARTS; EXIT: the last exit code, SIGNAME when a signal\n"
		    "ended it, \"-\" before it ended; COMMAND.",
	},
	{
	    .name = "show",
	    .run = proc_show,
	    .args = "ID",
	    .summary = "show one process",
	    .help = "Show everything netnsd knows about process ID (its ID or its name) as\n"
		    "\"key: value\" lines: name, namespace, command, state, PID, restart policy\n"
		    "and count, whether it is a service (restarted after a reboot) and whether\n"
		    "it was adopted after a restart of netnsd, its times, its exit status, the\n"
		    "error that stopped its start, and its log file.",
	},
	{
	    .name = "kill",
	    .run = proc_kill,
	    .args = "ID [SIGNAL]",
	    .summary = "send a signal to a process",
	    .help = "Send SIGNAL (default TERM; a number, or a name with or without SIG,\n"
		    "e.g. KILL, HUP, INT, USR1) to the running program of process ID.  netnsd\n"
		    "sends it through a pidfd, so a recycled PID is never hit.  The restart\n"
		    "policy still applies: to stop a service for good, use 'proc delete'.",
	},
	{
	    .name = "wait",
	    .run = proc_wait,
	    .args = "ID [--timeout MS]",
	    .summary = "wait for a process to end and take its exit status",
	    .help = "Wait until the current run of process ID ends (at once if it has\n"
		    "ended) and exit with its status, as a shell does: the exit code, or\n"
		    "128 + N when signal N killed it.  Prints nothing (with --json, the\n"
		    "process).  Exits 124 when --timeout MS milliseconds pass first, and 125\n"
		    "when it cannot wait (no such process, netnsd unreachable) or the process\n"
		    "has no exit status (its start failed, or it was lost).",
	},
	{
	    .name = "logs",
	    .run = proc_logs,
	    .args = "ID [--tail N]",
	    .summary = "print a process's output",
	    .help = "Print the log file of process ID as it is: what the program wrote to\n"
		    "standard output and error with the default --stdout/--stderr log (the\n"
		    "log file survives restarts of the program).  --tail N prints only the\n"
		    "last N lines.  netnsd reads at most the last 1 MiB.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = proc_delete,
	    .args = "ID [--grace MS]",
	    .summary = "stop a process for good and forget it",
	    .help = "Stop process ID for good: no more restarts, SIGTERM to the program and\n"
		    "SIGKILL if it still runs after MS milliseconds (default 3000); then\n"
		    "forget it, with its log file, and remove it from the desired state (a\n"
		    "service is no longer started after a reboot).  Prints nothing; with\n"
		    "--json, the process as it ended.",
	},
	{ 0 },
};

static const struct verb top_verbs[] = {
	{
	    .name = "netns",
	    .sub = netns_verbs,
	    .default_sub = "list",
	    .args = "COMMAND [ARG]...",
	    .summary = "add, delete, list and inspect network namespaces",
	    .help = "Named network namespaces.  They are the same objects 'ip netns' works\n"
		    "with: netnsd creates them as nsfs bind mounts under /run/netns, records\n"
		    "them in its state directory and restores them after a restart or a\n"
		    "reboot.  Namespaces made by others are listed as unmanaged and left\n"
		    "alone.  Without COMMAND, 'netns' lists.",
	    .examples =
		"  netnsctl netns add blue\n"
		"  netnsctl netns add red nsid 7 sysctl net.ipv4.ip_forward=1 hosts ./hosts\n"
		"  netnsctl netns list\n"
		"  netnsctl --json netns show red\n"
		"  netnsctl netns pids red\n"
		"  netnsctl netns identify $$\n"
		"  netnsctl netns delete red grace 500\n",
	},
	{
	    .name = "link",
	    .sub = link_verbs,
	    .default_sub = "list",
	    .uses_netns = true,
	    .args = "COMMAND [ARG]...",
	    .summary = "create, change, move and list network interfaces",
	    .help = "Network interfaces (links) in the host or, with -n NS, inside namespace\n"
		    "NS.  netnsd creates veth pairs, bridges, dummy, vlan, macvlan and vxlan\n"
		    "devices with rtnetlink, gives each the alias \"netnsd\" (the kernel's\n"
		    "own record of ownership), records them in its state directory and\n"
		    "recreates them after a restart or a reboot.  In the host netnsd\n"
		    "changes only links it created or borrowed; in a namespace it created\n"
		    "every device is its to change; namespaces made by others are not\n"
		    "changed at all.  The words follow ip link.  Without COMMAND, 'link'\n"
		    "lists.",
	    .examples =
		"  # Two nodes on a bridge, the way CORE builds a wired network: a bridge\n"
		"  # in the host (STP off, forward delay 0), one veth per node whose end\n"
		"  # inside the node is eth0 and whose host end is a port of the bridge.\n"
		"  netnsctl netns add n1\n"
		"  netnsctl netns add n2\n"
		"  netnsctl link add b.1.1 type bridge up\n"
		"  netnsctl -n n1 link add eth0 type veth up peer n1.0.1 netns host \\\n"
		"          master b.1.1 up\n"
		"  netnsctl -n n1 addr add 10.0.0.1/24 dev eth0\n"
		"  # ... or as CORE's script does it: make the pair in the host, then move\n"
		"  # one end into the node and rename it eth0.\n"
		"  netnsctl link add n2.0.1 type veth master b.1.1 up peer n2.0\n"
		"  netnsctl link set n2.0 netns n2\n"
		"  netnsctl -n n2 link set n2.0 name eth0 up\n"
		"  netnsctl -n n2 addr add 10.0.0.2/24 dev eth0\n"
		"  ip netns exec n1 ping -c1 10.0.0.2\n"
		"\n"
		"  # Namespaces blue and red joined by a veth pair, one end in each.\n"
		"  netnsctl -n blue link add veth0 type veth up peer veth1 netns red up\n"
		"  netnsctl -n blue addr add 10.1.1.1/24 dev veth0\n"
		"  netnsctl -n red addr add 10.1.1.2/24 dev veth1\n"
		"  ip netns exec blue ping -c1 10.1.1.2\n"
		"\n"
		"  # Lend a physical NIC to a namespace; deleting it there gives it back\n"
		"  # to the host under its old name.\n"
		"  netnsctl link set eth1 netns blue\n"
		"  netnsctl -n blue link set eth1 name uplink mtu 9000 up\n"
		"  netnsctl -n blue link delete uplink\n"
		"\n"
		"  # A bridge inside a namespace, a VLAN on a device, the listings.\n"
		"  netnsctl -n blue link add br0 type bridge stp on up\n"
		"  netnsctl -n blue link set veth0 master br0\n"
		"  netnsctl -n blue link add veth0.100 type vlan link veth0 id 100\n"
		"  netnsctl -n blue link list\n"
		"  netnsctl --json -n blue link list\n",
	},
	{
	    .name = "addr",
	    .sub = addr_verbs,
	    .default_sub = "list",
	    .uses_netns = true,
	    .args = "COMMAND [ARG]...",
	    .summary = "add, delete and list IP addresses",
	    .help = "IPv4 and IPv6 addresses on the devices of the host or, with -n NS, of\n"
		    "namespace NS.  netnsd records the addresses it adds and restores them\n"
		    "after a restart or a reboot.  In the host only devices netnsd created\n"
		    "or borrowed take addresses.  The words follow ip address.  Without\n"
		    "COMMAND, 'addr' lists.",
	    .examples = "  netnsctl -n blue addr add 10.1.1.1/24 dev veth0\n"
			"  netnsctl -n blue addr add fd00:1::1/64 dev veth0 nodad\n"
			"  netnsctl -n blue addr list dev veth0\n"
			"  netnsctl -n blue addr del 10.1.1.1/24 dev veth0\n",
	},
	{
	    .name = "route",
	    .sub = route_verbs,
	    .default_sub = "list",
	    .uses_netns = true,
	    .args = "COMMAND [ARG]...",
	    .summary = "add, delete and list routes",
	    .help = "IPv4 and IPv6 routes in the host or, with -n NS, in namespace NS.\n"
		    "netnsd records the routes it adds and restores them after a restart or\n"
		    "a reboot.  In the host only routes through a device netnsd created or\n"
		    "borrowed can be added.  The words follow ip route.  Without COMMAND,\n"
		    "'route' lists.",
	    .examples = "  # red reaches green through blue, which forwards between them: each\n"
			"  # end namespace gets a default route via blue.\n"
			"  netnsctl netns add blue sysctl net.ipv4.ip_forward=1\n"
			"  netnsctl netns add red\n"
			"  netnsctl netns add green\n"
			"  netnsctl -n red link add eth0 type veth up peer r0 netns blue up\n"
			"  netnsctl -n green link add eth0 type veth up peer g0 netns blue up\n"
			"  netnsctl -n blue addr add 10.1.0.1/24 dev r0\n"
			"  netnsctl -n blue addr add 10.2.0.1/24 dev g0\n"
			"  netnsctl -n red addr add 10.1.0.2/24 dev eth0\n"
			"  netnsctl -n green addr add 10.2.0.2/24 dev eth0\n"
			"  netnsctl -n red route add default via 10.1.0.1\n"
			"  netnsctl -n green route add default via 10.2.0.1\n"
			"  ip netns exec red ping -c1 10.2.0.2\n"
			"\n"
			"  netnsctl -n red route add 10.9.0.0/16 via 10.1.0.1 metric 100 table 10\n"
			"  netnsctl -n red route add blackhole 10.66.0.0/16\n"
			"  netnsctl -n red route add default dev eth0 -6\n"
			"  netnsctl -n red route list -4\n"
			"  netnsctl -n red route del default via 10.1.0.1\n",
	},
	{
	    .name = "proc",
	    .sub = proc_verbs,
	    .default_sub = "list",
	    .args = "COMMAND [ARG]...",
	    .summary = "run and supervise processes in namespaces",
	    .help = "Processes that netnsd runs in namespaces and supervises.  Each runs\n"
		    "under its own small supervisor (netnsd-shim), which enters the namespace\n"
		    "as 'ip netns exec' does, starts the program, reaps it and records its\n"
		    "exit status, so the program keeps running (and its status is kept) while\n"
		    "netnsd restarts.  A process with a restart policy is a service, started\n"
		    "again after a reboot.  Processes are named by their ID (16 hex digits)\n"
		    "or by the name given with --name.  Without COMMAND, 'proc' lists.",
	    .examples =
		"  # A web server in namespace blue, restarted when it fails, as user www-data.\n"
		"  netnsctl proc run blue --name web --restart on-failure --user www-data \\\n"
		"          -- python3 -m http.server 8080\n"
		"  netnsctl proc list\n"
		"  netnsctl proc show web\n"
		"  netnsctl proc logs web --tail 20\n"
		"  netnsctl proc kill web HUP\n"
		"  netnsctl proc delete web\n"
		"\n"
		"  # A one-off job: start it, wait for it, use its exit status.\n"
		"  id=$(netnsctl proc run red -- ping -c3 10.1.1.1)\n"
		"  netnsctl proc wait \"$id\" --timeout 10000; echo \"ping exited $?\"\n"
		"  netnsctl proc logs \"$id\"\n"
		"  netnsctl proc del \"$id\"\n",
	},
	{
	    .name = "exec",
	    .run = cmd_exec,
	    .uses_netns = true,
	    .args = "NS [OPTION]... -- CMD [ARG]...",
	    .summary = "run a command in a namespace, here and now",
	    .help = "Run CMD in namespace NS ('host' for the host) the way 'ip netns exec NS\n"
		    "CMD' would, and exit with its status: its exit code, or 128 + N when\n"
		    "signal N killed it.  netnsd starts it (proc.spawn) in the namespace and\n"
		    "an 'ip netns exec' mount context (/sys of the namespace, /etc/netns/NS\n"
		    "over /etc), with netnsctl's environment (plus --env), its current\n"
		    "directory and, for a caller other than root, the caller's user and\n"
		    "group.  When it has ended netnsctl deletes its record: exec leaves\n"
		    "nothing behind.  Options:\n"
		    "\n"
		    "  --user USER        run as USER (name or number), with its groups\n"
		    "  --group GROUP      run with primary group GROUP (default: USER's)\n"
		    "  --cwd DIR          working directory, absolute (default: netnsctl's)\n"
		    "  --env KEY=VALUE    set a variable (repeatable)\n"
		    "\n"
		    "When standard input is a terminal, the command gets a terminal of its\n"
		    "own (a pseudo-terminal netnsctl allocates, with the settings and window\n"
		    "size of yours, as its controlling terminal) and netnsctl relays between\n"
		    "the two with your terminal in raw mode, so an interactive shell there\n"
		    "has job control: ^C, ^Z and ^\\ reach the command, and window size\n"
		    "changes follow.  Otherwise the command gets netnsctl's own standard\n"
		    "input, output and error (passed to netnsd with SCM_RIGHTS), so pipes and\n"
		    "redirections work as with any command.\n"
		    "\n"
		    "SIGINT, SIGQUIT, SIGUSR1 and SIGUSR2 sent to netnsctl are passed on to\n"
		    "the command; SIGTERM and SIGHUP as well, and if the command still runs\n"
		    "3 seconds later (or at a second one) it is killed: netnsctl never leaves\n"
		    "it running behind.  Your terminal's settings are restored on every way\n"
		    "out.  Put '--' before CMD.",
	    .exit_status = "Exit status:\n"
			   "  N    the command's exit status, or 128 + N when signal N killed it\n"
			   "  2    usage error: unknown option, missing '--' or command ...\n"
			   "  125  netnsctl or netnsd failed: no such namespace, netnsd could not\n"
			   "       be reached ...\n"
			   "  126  CMD was found but cannot be executed\n"
			   "  127  CMD was not found\n",
	    .examples = "  netnsctl exec blue -- ping -c1 10.1.1.2\n"
			"  netnsctl exec blue -- bash                     # an interactive shell\n"
			"  netnsctl exec blue -- ip -j addr | jq .        # pipes work\n"
			"  echo 'GET /' | netnsctl exec red -- nc 10.2.0.2 80\n"
			"  netnsctl exec blue --user nobody --cwd /tmp -- sh -c 'id; pwd'\n"
			"  netnsctl exec host -- ip link\n",
	},
	{
	    .name = "monitor",
	    .run = cmd_monitor,
	    .uses_netns = true,
	    .args = "[TOPIC]... [-n NS] [-t|--timestamp] [--since INSTANCE:GSEQ]",
	    .summary = "print changes as they happen",
	    .help = "Subscribe to netnsd's events and print one line per event as it\n"
		    "happens, like 'ip monitor': links, addresses, routes and neighbours in\n"
		    "the host and in every namespace netnsd manages (whoever changed them),\n"
		    "namespaces appearing and vanishing under /run/netns, supervised\n"
		    "processes starting and ending, and netnsd's own life (ready, stopping,\n"
		    "overflow when events were lost).  Each line is \"[TOPIC] ACTION\n"
		    "NAMESPACE: OBJECT\", NAMESPACE being 'host' for the host.\n"
		    "\n"
		    "  TOPIC             netns, link, addr, route, neigh, proc or daemon\n"
		    "                    (default: all)\n"
		    "  -n, --netns NS    only the events of namespace NS ('host': of the\n"
		    "                    host; daemon events always come)\n"
		    "  -t, --timestamp   start each line with the event's time (RFC 3339)\n"
		    "  --since INSTANCE:GSEQ\n"
		    "                    resume: first the events netnsd published after\n"
		    "                    event GSEQ of its instance INSTANCE (the gseq of\n"
		    "                    an event --json printed; the instance of 'netnsctl\n"
		    "                    --json info'), then live ones.  Events netnsd no\n"
		    "                    longer keeps are announced as '[daemon] gap'.\n"
		    "\n"
		    "With --json each event is one line of JSON: the params of netnsd's\n"
		    "\"event\" notification (subscription, seq, gseq, time, topic, action, netns\n"
		    "and the object), for scripts.  Output is flushed after every line.  Runs\n"
		    "until interrupted (SIGINT, SIGTERM, SIGHUP: exit 0); exits 1 if netnsd\n"
		    "closes the connection.",
	    .examples =
		"  netnsctl monitor\n"
		"  netnsctl monitor link addr -n blue\n"
		"  netnsctl monitor proc -t\n"
		"  netnsctl --json monitor netns | jq -c '{action, name: .namespace.name}'\n"
		"\n"
		"  Example lines:\n"
		"  [link] new    blue: eth0 veth up mtu 1500 master br0 peer veth1@red\n"
		"  [addr] del    host: 10.0.0.1/24 dev veth1\n"
		"  [netns] new    red (managed)\n"
		"  [proc] exited blue: 1a2b3c4d5e6f7081 ping -> exit 0\n",
	},
	{
	    .name = "info",
	    .run = cmd_info,
	    .summary = "show the daemon's status",
	    .help = "Show what netnsd reports about itself (daemon.info): version, PID,\n"
		    "uptime, socket, state directory, the report of the last restore (what\n"
		    "it adopted, recreated or failed to restore), request and namespace\n"
		    "counts, its limits and its state store.",
	},
	{
	    .name = "ping",
	    .run = cmd_ping,
	    .summary = "check that the daemon answers",
	    .help = "Call daemon.ping and print the round-trip time.  Exits 0 when netnsd\n"
		    "answers, 1 when it cannot be reached.",
	},
	{
	    .name = "call",
	    .run = cmd_call,
	    .args = "METHOD [JSON-PARAMS | -]",
	    .summary = "call any method and print its result as JSON",
	    .help = "Send one JSON-RPC request for METHOD with the given params (a JSON\n"
		    "object; \"-\" reads it from standard input) and print the raw result as\n"
		    "JSON, whatever --json says.  'netnsctl call rpc.discover' prints the\n"
		    "OpenRPC document that describes every method.",
	    .examples = "  netnsctl call daemon.ping\n"
			"  netnsctl call netns.get '{\"name\": \"blue\"}'\n"
			"  echo '{\"name\": \"blue\"}' | netnsctl call netns.delete -\n",
	},
	{
	    .name = "help",
	    .run = cmd_help,
	    .args = "[COMMAND [SUBCOMMAND]]",
	    .summary = "show help for a command",
	    .help = "Show the help of COMMAND (and SUBCOMMAND), or of netnsctl itself.",
	},
	{ 0 },
};

static const char help_trailer[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  netnsd returned an error (printed as 'netnsctl: MESSAGE', with the\n"
    "     offending parameter as '(field: NAME)'), netnsd could not be reached, or\n"
    "     a file could not be read\n"
    "  2  usage error: unknown command or option, missing or malformed argument\n";

static const struct verb *verb_find(const struct verb *table, const char *name)
{
	for (const struct verb *v = table; v && v->name; v++)
		if (!strcmp(v->name, name) || word_in(v->alias, name))
			return v;
	return NULL;
}

static void help_main(void)
{
	printf("Usage: netnsctl [OPTION]... COMMAND [ARG]...\n"
	       "\n"
	       "netnsctl is the command-line client of netnsd, the network namespace daemon.\n"
	       "Each command makes one or a few JSON-RPC calls on netnsd's Unix socket and\n"
	       "prints the result as an aligned table or \"key: value\" lines, or with --json\n"
	       "as the daemon's result object.\n"
	       "\n"
	       "Commands:\n");
	for (const struct verb *v = top_verbs; v->name; v++)
		printf("  %-8s  %s\n", v->name, v->summary);
	printf("\n"
	       "Options (before COMMAND; --json and --help are also accepted after it):\n"
	       "  -s, --socket PATH  talk to netnsd at PATH (default: $" SOCKET_ENV ", or\n"
	       "                     " DEFAULT_SOCKET ")\n"
	       "  -j, --json         print the daemon's result as JSON: one document per\n"
	       "                     command, indented on a terminal, one line otherwise\n"
	       "  -n, --netns NAME   the namespace that link, addr and route commands act in\n"
	       "                     (default: the host, where netnsd runs); for proc run,\n"
	       "                     exec, proc list and monitor, the namespace to run in or\n"
	       "                     to list or watch\n"
	       "  -h, --help         show this help, or a command's help, and exit\n"
	       "  -V, --version      show netnsctl's version and exit\n"
	       "\n"
	       "Run 'netnsctl help COMMAND' or 'netnsctl COMMAND --help' for the details of\n"
	       "a command.\n"
	       "\n"
	       "Examples:\n"
	       "  netnsctl netns add blue sysctl net.ipv4.ip_forward=1\n"
	       "  netnsctl netns list\n"
	       "  netnsctl -j netns show blue\n"
	       "  netnsctl -n blue link add veth0 type veth up peer veth1 netns red up\n"
	       "  netnsctl -n blue addr add 10.1.1.1/24 dev veth0\n"
	       "  netnsctl -n blue route add default via 10.1.1.2\n"
	       "  netnsctl -n blue link list\n"
	       "  netnsctl exec blue -- ping -c1 10.1.1.2\n"
	       "  netnsctl proc run blue --name web --restart always -- python3 -m http.server\n"
	       "  netnsctl monitor link addr\n"
	       "  netnsctl info\n"
	       "  netnsctl call netns.get '{\"name\": \"blue\"}'\n"
	       "\n"
	       "%s"
	       "\n"
	       "Environment:\n"
	       "  " SOCKET_ENV "   the socket path when -s is not given\n"
	       "\n"
	       "Files:\n"
	       "  " DEFAULT_SOCKET "  netnsd's socket (root and the netnsd group)\n"
	       "  /run/netns/NAME          the namespaces (nsfs bind mounts)\n"
	       "  /etc/netns/NAME/         resolv.conf and hosts for 'ip netns exec NAME'\n",
	       help_trailer);
}

static void help_verb_entry(const struct verb *parent, const struct verb *v)
{
	printf("  netnsctl %s%s%s%s%s\n", parent ? parent->name : "", parent ? " " : "", v->name,
	       v->args ? " " : "", v->args ?: "");
	if (v->alias) {
		fputs("      (also: ", stdout);
		for (const char *a = v->alias; *a; a++) {
			if (*a == ' ')
				fputs(", ", stdout);
			else
				fputc(*a, stdout);
		}
		fputs(")\n", stdout);
	}
	print_indented(v->help, "      ");
}

/* Help of a top-level verb (family or leaf), or of one subcommand when sub is set. */
static void help_verb(const struct verb *v, const struct verb *sub)
{
	if (sub) {
		printf("Usage:\n");
		help_verb_entry(v, sub);
		printf("\nRun 'netnsctl %s --help' for all '%s' commands.\n", v->name, v->name);
		return;
	}
	printf("Usage: netnsctl [OPTION]... %s%s%s\n\n", v->name, v->args ? " " : "",
	       v->args ?: "");
	print_indented(v->help, "");
	if (v->sub) {
		printf("\nCommands:\n");
		for (const struct verb *s = v->sub; s->name; s++) {
			help_verb_entry(v, s);
			if (s[1].name)
				fputc('\n', stdout);
		}
	}
	if (v->examples)
		printf("\nExamples:\n%s", v->examples);
	printf("\nGlobal options (-s, -j ...) are described in 'netnsctl --help'.\n\n%s",
	       v->exit_status ?: help_trailer);
}

static int cmd_help(struct ctx *c, int argc, char **argv)
{
	const struct verb *v, *sub = NULL;

	if (argc < 2) {
		help_main();
		return 0;
	}
	v = verb_find(top_verbs, argv[1]);
	if (!v)
		return usage_error(c, "help: unknown command '%s'", argv[1]);
	if (argc > 2) {
		sub = verb_find(v->sub, argv[2]);
		if (!sub)
			return usage_error(c, "help: unknown command '%s %s'", argv[1], argv[2]);
	}
	if (argc > 3)
		return usage_error(c, "help: unexpected argument '%s'", argv[3]);
	help_verb(v, sub);
	return 0;
}

/* Dispatch. */

/*
 * Take --json/-j and --help/-h out of a command's arguments (up to "--", which
 * is kept for commands that pass a command line on).  Returns the new argc.
 */
static int strip_common_options(struct ctx *c, int argc, char **argv, bool *ret_help)
{
	int n = 0, i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			c->json = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			*ret_help = true;
		else
			argv[n++] = argv[i];
	}
	for (; i < argc; i++)
		argv[n++] = argv[i];
	argv[n] = NULL;
	return n;
}

static int run_command(struct ctx *c, int argc, char **argv)
{
	const struct verb *v, *sub = NULL;
	bool help = false;

	argc = strip_common_options(c, argc, argv, &help);
	if (argc == 0) { /* "netnsctl -- --help" */
		if (!help)
			return usage_error(c, "missing command");
		help_main();
		return 0;
	}
	v = verb_find(top_verbs, argv[0]);
	if (!v)
		return usage_error(c, "unknown command '%s'", argv[0]);
	c->family = v->run == cmd_help ? NULL : v; /* where usage errors point */
	if (v->sub) {
		const char *name = argc > 1 ? argv[1] : NULL;

		if (!name && help) {
			help_verb(v, NULL);
			return 0;
		}
		sub = verb_find(v->sub, name ?: v->default_sub);
		if (!sub)
			return usage_error(c, "unknown command '%s %s'", v->name, name);
		if (help) {
			help_verb(v, sub);
			return 0;
		}
		if (name) {
			argc--;
			argv++;
		} else {
			argv[0] = (char *)sub->name; /* argv[argc] stays NULL */
		}
	} else if (help) {
		help_verb(v, NULL);
		return 0;
	}
	c->verb = sub ?: v;
	snprintf(c->cmd, sizeof(c->cmd), "%s%s%s", v->name, sub ? " " : "", sub ? argv[0] : "");
	if (c->netns && !v->uses_netns && !c->verb->uses_netns)
		return usage_error(c, "-n/--netns does not apply to '%s%s%s'", v->name,
				   sub ? " " : "", sub ? sub->name : "");
	return c->verb->run(c, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "netns", required_argument, NULL, 'n' },  { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	    {},
	};
	struct ctx c = { .fd = -1, .next_id = 1 };
	const char *env = getenv(SOCKET_ENV);
	int opt, r = 0;

	c.socket_path = env && *env ? env : DEFAULT_SOCKET;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:jn:hV", options, NULL)) >= 0) {
		switch (opt) {
		case 's':
			c.socket_path = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'n':
			c.netns = optarg;
			break;
		case 'h':
			help_main();
			goto out;
		case 'V':
			printf("netnsctl %s\n", PACKAGE_VERSION);
			goto out;
		case ':':
			return usage_error(NULL, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error(NULL, "unknown option '-%c'", optopt);
			return usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "missing command");
	r = run_command(&c, argc - optind, argv + optind);
	conn_close(&c);
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			errorf("cannot write the output: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return r;
}
