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
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_SOCKET "/run/netnsd/netnsd.sock"
#define SOCKET_ENV     "NETNSD_SOCKET"

/* Exit status: the daemon (or the connection, or a local file) failed; usage error. */
#define EXIT_FAIL  1
#define EXIT_USAGE 2

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
	bool uses_netns; /* accepts the global -n NAME (on a family: all its subcommands) */
	const char *args;    /* synopsis after the name */
	const char *summary; /* one line for the parent's list */
	const char *help;    /* paragraphs for the verb's own help */
	const char *examples;
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
		fprintf(stderr, "Try 'netnsctl %s --help' for more information.\n", c->family->name);
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
			hint = " (is netnsd running? use -s PATH or " SOCKET_ENV " for another socket)";
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
 * Read one NDJSON line of any length into *ret_line (NUL-terminated, without
 * the newline; valid until the next call).  Bytes after the newline stay
 * buffered for the next line.
 */
static int recv_line(struct ctx *c, char **ret_line, size_t *ret_len)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned)
					    : NULL;
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*ret_line = c->buf;
			*ret_len = (size_t)(nl - c->buf);
			return 0;
		}
		scanned = c->len;
		if (c->cap - c->len < RECV_CHUNK + 1) {
			size_t cap = c->cap ? c->cap * 2 : RECV_CHUNK * 2;
			char *p;

			while (cap - c->len < RECV_CHUNK + 1)
				cap *= 2;
			p = realloc(c->buf, cap);
			if (!p) {
				errorf("out of memory reading a reply of more than %zu bytes", c->len);
				return -ENOMEM;
			}
			c->buf = p;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errorf("cannot read from netnsd at %s: %s", c->socket_path, strerror(errno));
			return -errno;
		}
		if (n == 0) {
			errorf("netnsd at %s closed the connection without a reply", c->socket_path);
			return -ECONNRESET;
		}
		c->len += (size_t)n;
	}
}

/* Drop the line recv_line() returned (and its newline) from the buffer. */
static void consume_line(struct ctx *c, size_t line_len)
{
	size_t used = line_len + 1;

	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
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
 * Call METHOD with PARAMS (reference stolen; NULL sends none) and wait for its
 * reply.  Returns 0 with the result in *ret_result (the caller's reference), or
 * EXIT_FAIL after printing why: a daemon error, a failed connection or a reply
 * that is not one.
 */
static int rpc_call(struct ctx *c, const char *method, json_t *params, json_t **ret_result)
{
	_cleanup_(json_decrefp) json_t *req = NULL, *reply = NULL;
	_cleanup_(freep) char *text = NULL;
	json_int_t id = c->next_id++;
	json_error_t jerr;
	json_t *rid, *error, *result;
	size_t len;
	char *line = NULL;

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
	if (conn_open(c) < 0 || send_all(c, text, len + 1) < 0 || recv_line(c, &line, &len) < 0)
		return EXIT_FAIL;
	reply = json_loadb(line, len, 0, &jerr);
	consume_line(c, len);
	if (!json_is_object(reply)) {
		if (reply)
			errorf("netnsd sent a reply that is not a JSON object (protocol error)");
		else
			errorf("netnsd sent a reply that is not JSON: %s", jerr.text);
		return EXIT_FAIL;
	}
	rid = json_object_get(reply, "id");
	error = json_object_get(reply, "error");
	/* A fatal error (frame too long ...) comes with a null id before netnsd hangs up. */
	if (!(json_is_integer(rid) && json_integer_value(rid) == id) &&
	    !(json_is_null(rid) && error)) {
		errorf("netnsd sent a reply to another request (protocol error)");
		return EXIT_FAIL;
	}
	if (error)
		return print_rpc_error(error);
	result = json_object_get(reply, "result");
	if (!result) {
		errorf("netnsd sent a reply with neither result nor error (protocol error)");
		return EXIT_FAIL;
	}
	*ret_result = json_incref(result);
	return 0;
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
				return usage_error(c, "netns add: nsid must be a number from 0 to %d, "
						   "not '%s'", INT_MAX, val);
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
				return usage_error(c, "netns add: sysctl '%s' is not UTF-8 text", val);
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
					return usage_error(c, "netns add: only one file can be read "
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
		r = r ?: table_add(&t, json_string_value(json_object_get(e, "name")),
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
		if (a->type == ARG_TABLE && (!strcmp(val, "main") || !strcmp(val, "local") ||
					     !strcmp(val, "default"))) {
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

#define NS_PARAMS_OR_FAIL(c, p)                                                        \
	do {                                                                           \
		(p) = ns_params(c);                                                    \
		if (!(p))                                                              \
			return usage_error(c, "-n/--netns: '%s' is not UTF-8 text",    \
					   (c)->netns);                                \
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
	{ "netns", "netns", ARG_NETNS, NULL },
	{ "master", "master", ARG_STRING, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },
	{ "address", "address", ARG_STRING, NULL },
	{ "up", "up", ARG_TRUE, NULL },
	{ "noipv6ll", "ipv6_ll", ARG_FALSE, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL },
	{ 0 },
};

static const struct arg link_set_args[] = {
	{ "up", "up", ARG_TRUE, NULL },
	{ "down", "up", ARG_FALSE, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },
	{ "address", "address", ARG_STRING, NULL },
	{ "master", "master", ARG_STRING, NULL },
	{ "nomaster", "master", ARG_NULL, NULL },
	{ "name", "rename", ARG_STRING, NULL },
	{ "netns", "move_to", ARG_NETNS, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL },
	{ 0 },
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
				return bad_args(c, "'%s' cannot follow 'peer NAME': the words "
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
		r = r ?: table_add(&t, json_string_value(json_object_get(e, "name")),
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

		r = r ?: table_add(&t, json_string_value(json_object_get(e, "dev")),
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
		r = r ?: table_add(&t, dst_s, json_string_value(json_object_get(e, "via")),
				   json_string_value(json_object_get(e, "dev")), metric,
				   table_name(json_integer_value(json_object_get(e, "table")), table,
					      sizeof(table)),
				   json_is_true(json_object_get(e, "managed")) ? "yes" : "no");
	}
	json_decref(result);
	return table_finish(&t, r);
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
			       json_string_value(json_object_get(e, "name")) ?: "?", msg ? ": " : "",
			       msg ?: "");
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
			return usage_error(c, "call: the params are not JSON: %s (line %d, column %d)",
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
		.examples = "  netnsctl netns add blue\n"
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
		.examples =
			"  # red reaches green through blue, which forwards between them: each\n"
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
	       "                     (default: the host, where netnsd runs)\n"
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
	       help_trailer);
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
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
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
