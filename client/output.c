/*
 * output.c: how netnsctl prints: a result as JSON (--json), aligned text
 * tables, "key: value" lines, scalars, and the labels that several commands
 * print the same way (a namespace, a veth peer, a route table, an exit).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

/* Print a JSON document on its own: indented for people, one line for pipes. */
void print_json(json_t *v)
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

/* Make room for one more row; 0 or -ENOMEM. */
static int table_grow(struct table *t)
{
	size_t cap;
	char **p;

	if (t->nrows < t->cap)
		return 0;
	cap = t->cap ? t->cap * 2 : 16;
	p = realloc(t->cells, cap * t->ncols * sizeof(char *));
	if (!p)
		return -ENOMEM;
	t->cells = p;
	t->cap = cap;
	return 0;
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

char *cell_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *cell_str(const char *s)
{
	return strdup(s ?: "-");
}

/* The cell of column col for object e: malloc'd, NULL when memory ran out. */
static char *column_cell(const struct column *col, json_t *e)
{
	json_t *v;

	if (col->cell)
		return col->cell(e);
	v = json_object_get(e, col->member);
	if (col->integer)
		return cell_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return cell_str(json_string_value(v));
}

/*
 * The table of listing l for the objects of array: row 0 the header, then a
 * row per object.  A row counts before it is filled, so that table_free()
 * frees what it got.  Returns 0, or -ENOMEM.
 */
static int listing_table(const struct listing *l, json_t *array, struct table *t)
{
	for (const struct column *col = l->columns; col->header; col++)
		t->ncols++;
	for (size_t i = 0; i <= json_array_size(array); i++) {
		json_t *e = i ? json_array_get(array, i - 1) : NULL;
		char **row;

		if (table_grow(t) < 0)
			return -ENOMEM;
		row = t->cells + t->nrows++ * t->ncols;
		memset(row, 0, t->ncols * sizeof(char *));
		for (size_t k = 0; k < t->ncols; k++) {
			row[k] = e ? column_cell(&l->columns[k], e) : strdup(l->columns[k].header);
			if (!row[k])
				return -ENOMEM;
		}
	}
	return 0;
}

int output_listing(struct ctx *c, json_t *result, const struct listing *l, bool names_only)
{
	json_t *array = json_object_get(result, l->member), *e;
	struct table t = {};
	size_t i;
	int r;

	if (c->json || names_only) {
		if (!c->json)
			json_array_foreach(array, i, e)
				printf("%s\n",
				       json_string_value(json_object_get(e, "name")) ?: "?");
		return finish_json(c, result);
	}
	r = listing_table(l, array, &t);
	json_decref(result);
	if (r < 0)
		errorf("out of memory");
	else
		table_print(&t);
	table_free(&t);
	return r < 0 ? EXIT_FAIL : 0;
}

void print_key(const char *indent, const char *key, int width)
{
	int pad = width - (int)(strlen(indent) + strlen(key));

	printf("%s%s:%*s", indent, key, pad > 0 ? pad : 1, "");
}

_printf_(2, 3) void kv(const char *key, const char *fmt, ...)
{
	va_list ap;

	print_key("", key, KV_WIDTH);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Print a scalar JSON value as text ("-" for null or missing). */
void print_scalar(json_t *v)
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
void print_int_list(json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		printf("%s%" JSON_INTEGER_FORMAT, i ? " " : "", json_integer_value(v));
}

/* Print each line of text with indent before it; the last line gets a newline too. */
void print_indented(const char *text, const char *indent)
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
void print_block(const char *key, const char *text)
{
	printf("%s:\n", key);
	print_indented(text, "    ");
}

/* Print the result (--json) or let the caller print it as text; frees it. */
int finish_json(struct ctx *c, json_t *result)
{
	if (c->json)
		print_json(result);
	json_decref(result);
	return 0;
}

/* Call method and print nothing (the result with --json). */
int call_quiet(struct ctx *c, const char *method, json_t *params)
{
	json_t *result = NULL;
	int r = rpc_call(c, method, params, &result);

	return r ?: finish_json(c, result);
}

/* The PEER column: name@namespace ("host" for the host), or what the kernel says. */
void peer_label(json_t *peer, char *buf, size_t size)
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

const char *table_name(json_int_t table, char *buf, size_t size)
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

/* The NETNS column and the like: the name, or "host" for the host (null). */
const char *ns_label(json_t *v)
{
	return json_string_value(v) ?: "host";
}

/* The EXIT column: the exit code, the signal as SIGNAME, or "-" while there is none. */
void exit_label(json_t *p, char *buf, size_t size)
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
