/*
 * cmd_lab.c: netnsctl lab: declarative labs (topology.* methods): plan and
 * apply a document, destroy, export, list and show labs, and draw one as
 * Graphviz dot or Mermaid.  Plan, apply and destroy print what changes as one
 * line per step (+ create, ~ change, - delete) and a summary; apply and
 * destroy can show a progress line from the daemon's topology events.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

/* --- reading a document --- */

/* Read FILE ("-": stdin) as JSON into *ret; EXIT_FAIL after saying why. */
static int read_doc(const char *path, json_t **ret)
{
	_cleanup_(freep) char *text = NULL;
	const char *shown = strcmp(path, "-") ? path : "standard input";
	json_error_t jerr;
	json_t *doc;
	size_t len;
	int r;

	r = read_all(path, &text, &len);
	if (r < 0) {
		errorf("cannot read %s: %s", shown, strerror(-r));
		return EXIT_FAIL;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		errorf("%s is not a JSON document: %s (line %d, column %d)", shown, jerr.text,
		       jerr.line, jerr.column);
		return EXIT_FAIL;
	}
	*ret = doc;
	return 0;
}

/*
 * The words after a lab verb.  The verb says what it takes: FILE and
 * "name NAME" (plan, apply) or NAME (the others), --progress (apply,
 * destroy), "format dot|mermaid" (graph).
 */
struct lab_args {
	bool file, progress_ok, format_ok; /* what the verb takes */
	json_t *params;			   /* {name?, doc?}: the caller's reference */
	bool progress;
	const char *format;
};

static int lab_args(struct ctx *c, int argc, char **argv, struct lab_args *a)
{
	_cleanup_(json_decrefp) json_t *params = json_object();
	const char *operand = NULL, *val;
	json_t *doc = NULL;
	int r;

	if (!params)
		return bad_args(c, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		r = a->progress_ok ? long_opt(c, argv, &i, "--progress", false, &val) : 0;
		if (r == 1)
			a->progress = true;
		else if (r)
			return r;
		else if ((a->file && !strcmp(w, "name")) || (a->format_ok && !strcmp(w, "format"))) {
			val = next_word(argv, &i);
			if (!val)
				return bad_args(c, "'%s' needs a value", w);
			if (w[0] == 'f')
				a->format = val;
			else if ((r = word_set(c, params, "name", "NAME", val)))
				return r;
		} else if (!operand && (!strcmp(w, "-") || w[0] != '-')) {
			operand = w;
		} else {
			return bad_args(c, "unknown argument '%s'", w);
		}
	}
	if (!operand)
		return bad_args(c, a->file ? "missing FILE (a topology document; '-' reads "
					     "standard input)"
					   : "missing NAME");
	if (a->file) {
		r = read_doc(operand, &doc);
		if (r)
			return r;
		json_object_set_new(params, "doc", doc);
	} else if ((r = word_set(c, params, "name", "NAME", operand))) {
		return r;
	}
	a->params = TAKE_PTR(params);
	return 0;
}

/* --- the diff --- */

static const char *const kinds[] = { "netns", "link", "addr", "route", "service" };

static bool known_kind(const char *kind)
{
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		if (!strcmp(kinds[i], kind))
			return true;
	return false;
}

static void print_step(json_t *s)
{
	const char *action = json_string_value(json_object_get(s, "action")) ?: "?";
	const char *reason = json_string_value(json_object_get(s, "reason"));
	json_t *fields = json_object_get(s, "fields"), *f;
	char sign = !strcmp(action, "create") ? '+' : !strcmp(action, "delete") ? '-' : '~';
	size_t i;

	printf("%c %-5s %s", sign, json_string_value(json_object_get(s, "kind")) ?: "?",
	       json_string_value(json_object_get(s, "key")) ?: "?");
	/* A lab across hosts: the peer the step runs on (none for the netnsd asked). */
	if (json_string_value(json_object_get(s, "host")))
		printf(" @%s", json_string_value(json_object_get(s, "host")));
	if (sign == '~') {
		const char *sep = ": ";

		json_array_foreach(fields, i, f) {
			printf("%s%s", sep, json_string_value(f) ?: "?");
			sep = ", ";
		}
		if (json_is_true(json_object_get(s, "in_place")))
			fputs(" (in place)", stdout);
		if (reason)
			printf("%s%s", json_array_size(fields) ? "; " : ": ", reason);
	}
	fputc('\n', stdout);
}

/*
 * One line per step, grouped by kind in the order namespaces, links,
 * addresses, routes (then anything newer), and the summary: future tense
 * for a plan, past for what was done.
 */
static void print_diff(json_t *result, bool done)
{
	json_t *steps = json_object_get(result, "steps"), *s;
	json_int_t create = json_integer_value(json_object_get(result, "create"));
	json_int_t change = json_integer_value(json_object_get(result, "change"));
	json_int_t del = json_integer_value(json_object_get(result, "delete"));
	size_t i;

	for (size_t k = 0; k <= ELEMENTSOF(kinds); k++)
		json_array_foreach(steps, i, s) {
			const char *kind = json_string_value(json_object_get(s, "kind")) ?: "";

			if (k < ELEMENTSOF(kinds) ? !strcmp(kind, kinds[k]) : !known_kind(kind))
				print_step(s);
		}
	if (json_integer_value(json_object_get(result, "changed")) == 0)
		printf("no changes\n");
	else if (done)
		printf("%" JSON_INTEGER_FORMAT " created, %" JSON_INTEGER_FORMAT
		       " changed, %" JSON_INTEGER_FORMAT " deleted\n",
		       create, change, del);
	else
		printf("%" JSON_INTEGER_FORMAT " to create, %" JSON_INTEGER_FORMAT
		       " to change, %" JSON_INTEGER_FORMAT " to delete\n",
		       create, change, del);
}

/* --- progress from topology events --- */

struct progress {
	const char *verb; /* "applying", "destroying" */
	const char *name; /* the lab's name, to pick its events; NULL: any */
	bool shown;	  /* a line is on the terminal */
};

static void progress_event(struct progress *p, json_t *params)
{
	json_t *t = json_object_get(params, "topology");
	const char *action = json_string_value(json_object_get(params, "action")) ?: "";
	const char *name = json_string_value(json_object_get(t, "name"));

	if (strcmp(json_string_value(json_object_get(params, "topic")) ?: "", "topology") || !name ||
	    (p->name && strcmp(p->name, name)))
		return;
	if (!strcmp(action, "started") || !strcmp(action, "step")) {
		fprintf(stderr, "\r%s lab %s: %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
				" steps",
			p->verb, name, json_integer_value(json_object_get(t, "done")),
			json_integer_value(json_object_get(t, "total")));
		p->shown = true;
	} else if (!strcmp(action, "done") && p->shown) {
		fprintf(stderr, "\r%s lab %s: done\033[K", p->verb, name);
	} else if (!strcmp(action, "rolled_back") && p->shown) {
		fprintf(stderr, "\r%s lab %s: failed, rolled back\033[K", p->verb, name);
	}
	fflush(stderr);
}

/*
 * Call method (params stolen) after subscribing this connection to topology
 * events, and show a progress line on stderr from them until the reply
 * comes.  Returns what rpc_call() returns.
 */
static int call_with_progress(struct ctx *c, const char *method, json_t *params,
			      struct progress *p, json_t **ret_result)
{
	json_int_t sub_id, id;
	int r;

	r = rpc_send(c, "events.subscribe", json_pack("{s:[s]}", "topics", "topology"), NULL, 0,
		     &sub_id);
	if (r) {
		json_decref(params);
		return r;
	}
	r = rpc_send(c, method, params, NULL, 0, &id);
	if (r)
		return r;
	for (;;) {
		_cleanup_(json_decrefp) json_t *msg = NULL;
		json_t *result = NULL;
		char *line;
		size_t len;
		ssize_t n;

		if (!conn_line(c, &line, &len)) {
			n = conn_recv_some(c);
			if (n == 0)
				errorf("netnsd at %s closed the connection without a reply",
				       c->socket_path);
			if (n <= 0) {
				r = EXIT_FAIL;
				break;
			}
			continue;
		}
		msg = take_json_line(c, line, len);
		if (!msg) {
			r = EXIT_FAIL;
			break;
		}
		if (json_object_get(msg, "method")) {
			progress_event(p, json_object_get(msg, "params"));
			continue;
		}
		if (reply_id(msg) == sub_id)
			continue; /* no progress when it failed (a limit): the call goes on */
		if (p->shown) {
			fputc('\n', stderr);
			p->shown = false;
		}
		r = reply_result(msg, id, false, &result, NULL);
		if (!r)
			*ret_result = result;
		break;
	}
	if (p->shown)
		fputc('\n', stderr);
	return r;
}

/* --- the verbs --- */

static int lab_plan(struct ctx *c, int argc, char **argv)
{
	struct lab_args a = { .file = true };
	json_t *result = NULL;
	int r;

	r = lab_args(c, argc, argv, &a);
	if (r)
		return r;
	r = rpc_call(c, "topology.plan", a.params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	print_diff(result, false);
	json_decref(result);
	return 0;
}

/* Apply or destroy, with the progress line on a terminal or when asked for. */
static int run_change(struct ctx *c, const char *method, json_t *params, bool progress,
		      const char *verb)
{
	const char *name = json_string_value(json_object_get(params, "name")) ?:
				   json_string_value(json_object_get(json_object_get(params, "doc"), "name"));
	/* A copy: the call consumes params. */
	_cleanup_(freep) char *name_copy = name ? strdup(name) : NULL;
	struct progress p = { .verb = verb, .name = name_copy };
	json_t *result = NULL;
	int r;

	if (progress || isatty(STDERR_FILENO))
		r = call_with_progress(c, method, params, &p, &result);
	else
		r = rpc_call(c, method, params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	print_diff(result, true);
	json_decref(result);
	return 0;
}

static int lab_apply(struct ctx *c, int argc, char **argv)
{
	struct lab_args a = { .file = true, .progress_ok = true };
	int r = lab_args(c, argc, argv, &a);

	return r ?: run_change(c, "topology.apply", a.params, a.progress, "applying");
}

static int lab_destroy(struct ctx *c, int argc, char **argv)
{
	struct lab_args a = { .progress_ok = true };
	int r = lab_args(c, argc, argv, &a);

	return r ?: run_change(c, "topology.destroy", a.params, a.progress, "destroying");
}

static int lab_export(struct ctx *c, int argc, char **argv)
{
	struct lab_args a = {};
	json_t *result = NULL;
	int r;

	r = lab_args(c, argc, argv, &a);
	if (r)
		return r;
	r = rpc_call(c, "topology.export", a.params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	/* A file to keep and edit: indented, whatever stdout is. */
	json_dumpf(json_object_get(result, "doc"), stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	json_decref(result);
	return 0;
}

static char *count_cell(json_t *t, const char *kind)
{
	return cell_printf("%" JSON_INTEGER_FORMAT,
			   json_integer_value(json_object_get(json_object_get(t, "counts"), kind)));
}

static char *netns_cell(json_t *t)
{
	return count_cell(t, "netns");
}

static char *links_cell(json_t *t)
{
	return count_cell(t, "link");
}

static char *addrs_cell(json_t *t)
{
	return count_cell(t, "addr");
}

static char *routes_cell(json_t *t)
{
	return count_cell(t, "route");
}

static char *services_cell(json_t *t)
{
	return count_cell(t, "service");
}

static const struct listing lab_listing = {
	.member = "topologies",
	.columns =
	    (const struct column[]){
		{ .header = "NAME", .member = "name" },
		{ .header = "NAMESPACES", .cell = netns_cell },
		{ .header = "LINKS", .cell = links_cell },
		{ .header = "ADDRESSES", .cell = addrs_cell },
		{ .header = "ROUTES", .cell = routes_cell },
		{ .header = "SERVICES", .cell = services_cell },
		{ .header = "APPLIED", .member = "applied" },
		{},
	    },
};

static int lab_list(struct ctx *c, int argc, char **argv)
{
	json_t *result = NULL;
	bool names_only = false;
	int r;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--names") != 0)
			return bad_args(c, "unknown argument '%s'", argv[a]);
		names_only = true;
	}
	r = rpc_call(c, "topology.list", json_object(), &result);
	return r ?: output_listing(c, result, &lab_listing, names_only);
}

static int lab_show(struct ctx *c, int argc, char **argv)
{
	struct lab_args a = {};
	json_t *result = NULL, *objects, *doc, *keys, *k;
	size_t i;
	int r;

	r = lab_args(c, argc, argv, &a);
	if (r)
		return r;
	r = rpc_call(c, "topology.get", a.params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	doc = json_object_get(result, "document");
	objects = json_object_get(result, "objects");
	kv("name", "%s", json_string_value(json_object_get(result, "name")) ?: "?");
	kv("applied", "%s", json_string_value(json_object_get(result, "applied")) ?: "-");
	kv("prefix", "%s", json_string_value(json_object_get(doc, "prefix")) ?: "-");
	kv("busy", "%s", json_is_true(json_object_get(result, "busy")) ? "yes" : "no");
	for (size_t n = 0; n < ELEMENTSOF(kinds); n++)
		kv(kinds[n], "%zu", json_array_size(json_object_get(objects, kinds[n])));
	printf("objects:\n");
	for (size_t n = 0; n < ELEMENTSOF(kinds); n++) {
		keys = json_object_get(objects, kinds[n]);
		json_array_foreach(keys, i, k)
			printf("    %-5s %s\n", kinds[n], json_string_value(k) ?: "?");
	}
	json_decref(result);
	return 0;
}

/* --- graph --- */

/* The two output languages: how a label is quoted, a node and an edge written. */
struct graph_fmt {
	const char *name;
	void (*head)(const char *lab);
	const char *tail;
	const char *newline; /* a line break inside a label */
	void (*node)(const char *id, const char *label, bool bridge);
	void (*edge)(const char *a, const char *b, const char *label);
};

static void put_dot_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else
			fputc(*s, stdout);
	}
}

static void dot_node(const char *id, const char *label, bool bridge)
{
	printf("\t%s [label=\"", id);
	put_dot_text(label);
	printf("\"%s];\n", bridge ? ", shape=ellipse, style=rounded" : "");
}

static void dot_edge(const char *a, const char *b, const char *label)
{
	printf("\t%s -- %s [label=\"", a, b);
	put_dot_text(label);
	printf("\"];\n");
}

static void put_mermaid_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("<br/>", stdout);
		else if (*s == '"')
			fputs("#quot;", stdout);
		else
			fputc(*s, stdout);
	}
}

static void mermaid_node(const char *id, const char *label, bool bridge)
{
	printf("    %s%s\"", id, bridge ? "([" : "[");
	put_mermaid_text(label);
	printf("\"%s\n", bridge ? "])" : "]");
}

static void mermaid_edge(const char *a, const char *b, const char *label)
{
	printf("    %s ---|\"", a);
	put_mermaid_text(label);
	printf("\"| %s\n", b);
}

static void dot_head(const char *lab)
{
	fputs("graph \"", stdout);
	put_dot_text(lab);
	fputs("\" {\n\tnode [shape=box];\n", stdout);
}

static void mermaid_head(const char *lab)
{
	(void)lab; /* Mermaid has no graph name; a title needs front matter, which not all read */
	fputs("graph LR\n", stdout);
}

static const struct graph_fmt graph_fmts[] = {
	{ "dot", dot_head, "}\n", "\n", dot_node, dot_edge },
	{ "mermaid", mermaid_head, "", "\n", mermaid_node, mermaid_edge },
};

/* A growing string for labels. */
struct str {
	char *s;
	size_t len, cap;
	bool oom;
};

static _printf_(2, 3) void str_add(struct str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 64) * 2;
		char *p = realloc(b->s, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
}

/* One link end: "eth0 10.0.0.1/24 (delay 10ms)". */
static void end_label(struct str *b, json_t *end)
{
	_cleanup_(freep) char *imp = impair_format(json_object_get(end, "impair"));
	json_t *a;
	size_t i;

	str_add(b, "%s", json_string_value(json_object_get(end, "name")) ?: "?");
	json_array_foreach(json_object_get(end, "addresses"), i, a)
		str_add(b, " %s", json_string_value(a) ?: "?");
	if (imp && *imp)
		str_add(b, " (%s)", imp);
}

/* The index of node name in the document's nodes[], or -1. */
static long node_index(json_t *nodes, const char *name)
{
	json_t *n;
	size_t i;

	json_array_foreach(nodes, i, n)
		if (name && !strcmp(json_string_value(json_object_get(n, "name")) ?: "", name))
			return (long)i;
	return -1;
}

static void node_id(char *buf, size_t size, json_t *nodes, json_t *end)
{
	long i = node_index(nodes, json_string_value(json_object_get(end, "node")));

	if (i < 0)
		snprintf(buf, size, "host");
	else
		snprintf(buf, size, "n%ld", i);
}

static int draw(const struct graph_fmt *f, json_t *doc, const char *lab)
{
	json_t *nodes = json_object_get(doc, "nodes"), *n, *l, *br, *m, *a;
	const char *prefix = json_string_value(json_object_get(doc, "prefix")) ?: "";
	struct str b = {};
	bool host = false;
	char ida[32], idb[32];
	size_t i, j;

	/* Ends whose node is no node of the document are drawn on a "host" box. */
	json_array_foreach(json_object_get(doc, "links"), i, l)
		json_array_foreach(json_object_get(l, "ends"), j, m)
			if (node_index(nodes, json_string_value(json_object_get(m, "node"))) < 0)
				host = true;
	f->head(lab);
	json_array_foreach(nodes, i, n) {
		const char *name = json_string_value(json_object_get(n, "name")) ?: "?";
		json_t *svc;

		b.len = 0;
		str_add(&b, "%s", name);
		if (*prefix)
			str_add(&b, "\n(%s%s)", prefix, name);
		json_array_foreach(json_object_get(n, "services"), j, svc)
			str_add(&b, "%s%s", j ? ", " : "\nservices: ",
				json_string_value(json_object_get(svc, "name")) ?: "?");
		if (b.oom)
			break;
		snprintf(ida, sizeof(ida), "n%zu", i);
		f->node(ida, b.s, false);
	}
	if (host)
		f->node("host", "host", false);
	json_array_foreach(json_object_get(doc, "bridges"), i, br) {
		const char *in = json_string_value(json_object_get(br, "node"));

		b.len = 0;
		str_add(&b, "%s%s\nbridge", in ? "" : prefix,
			json_string_value(json_object_get(br, "name")) ?: "?");
		if (in)
			str_add(&b, " in %s", in);
		json_array_foreach(json_object_get(br, "addresses"), j, a)
			str_add(&b, "\n%s", json_string_value(a) ?: "?");
		if (b.oom)
			break;
		snprintf(ida, sizeof(ida), "b%zu", i);
		f->node(ida, b.s, true);
	}
	json_array_foreach(json_object_get(doc, "links"), i, l) {
		json_t *ends = json_object_get(l, "ends");

		b.len = 0;
		end_label(&b, json_array_get(ends, 0));
		str_add(&b, "%s", f->newline);
		end_label(&b, json_array_get(ends, 1));
		if (b.oom)
			break;
		node_id(ida, sizeof(ida), nodes, json_array_get(ends, 0));
		node_id(idb, sizeof(idb), nodes, json_array_get(ends, 1));
		f->edge(ida, idb, b.s);
	}
	json_array_foreach(json_object_get(doc, "bridges"), i, br) {
		const char *bname = json_string_value(json_object_get(br, "name")) ?: "?";
		const char *in = json_string_value(json_object_get(br, "node"));

		json_array_foreach(json_object_get(br, "members"), j, m) {
			const char *port = json_string_value(json_object_get(m, "port"));

			b.len = 0;
			end_label(&b, m);
			/* In the host, the port's name has the prefix too. */
			if (port)
				str_add(&b, "%sport %s%s", f->newline, in ? "" : prefix, port);
			else
				str_add(&b, "%sport %s%s-%zu", f->newline, in ? "" : prefix, bname, j);
			if (b.oom)
				break;
			node_id(ida, sizeof(ida), nodes, m);
			snprintf(idb, sizeof(idb), "b%zu", i);
			f->edge(ida, idb, b.s);
		}
	}
	fputs(f->tail, stdout);
	free(b.s);
	if (b.oom) {
		errorf("out of memory drawing lab %s", lab);
		return EXIT_FAIL;
	}
	return 0;
}

static int lab_graph(struct ctx *c, int argc, char **argv)
{
	struct lab_args a = { .format_ok = true, .format = graph_fmts[0].name };
	const struct graph_fmt *f = NULL;
	json_t *result = NULL;
	int r;

	r = lab_args(c, argc, argv, &a);
	if (r)
		return r;
	for (size_t k = 0; k < ELEMENTSOF(graph_fmts); k++)
		if (!strcmp(graph_fmts[k].name, a.format))
			f = &graph_fmts[k];
	if (!f) {
		json_decref(a.params);
		return bad_args(c, "'format' wants dot or mermaid, not '%s'", a.format);
	}
	r = rpc_call(c, "topology.get", a.params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result); /* --json: the document it is drawn from */
	r = draw(f, json_object_get(result, "document"),
		 json_string_value(json_object_get(result, "name")) ?: "?");
	json_decref(result);
	return r;
}

static const struct verb lab_verbs[] = {
	{
	    .name = "plan",
	    .run = lab_plan,
	    .words = "name",
	    .args = "FILE [name NAME]",
	    .summary = "show what applying a document would change",
	    .help = "Compare the topology document FILE (JSON; '-' reads standard input)\n"
		    "with what netnsd holds and print what 'lab apply' would do, changing\n"
		    "nothing: one line per object, grouped by kind (netns, link, addr,\n"
		    "route, service): '+' to create, '-' to delete, '~' to change (for a\n"
		    "service: its process is stopped and started anew), followed by the\n"
		    "changed members, \"(in place)\" when only a link's impairments change\n"
		    "(its qdisc is replaced, the link stays), or why an unchanged object is\n"
		    "made again (what it sits on is).  Objects are named by their key:\n"
		    "NAMESPACE, NAMESPACE/DEVICE, NAMESPACE/DEVICE/ADDRESS, for a route\n"
		    "NAMESPACE/TABLE/DESTINATION/METRIC, for a service NAMESPACE/SERVICE\n"
		    "(its process is named NAMESPACE.SERVICE); a host device is /DEVICE.  The\n"
		    "last line sums up: \"3 to create, 1 to change, 0 to delete\", or \"no\n"
		    "changes\".  name NAME names the lab when the document does not (if\n"
		    "both do, they must agree).  With --json, the result of topology.plan.\n"
		    "Errors in the document name the offending member as '(field:\n"
		    "doc.PATH)', the JSON path in the document.",
	},
	{
	    .name = "apply",
	    .run = lab_apply,
	    .words = "name --progress",
	    .args = "FILE [name NAME] [--progress]",
	    .summary = "make the kernel match a document",
	    .help = "Make the namespaces, links, addresses, routes and services of the lab\n"
		    "match the document FILE ('-' reads standard input), all or nothing:\n"
		    "when a step fails, what was done is undone (services it started are\n"
		    "stopped, services it stopped run again) and the error names the\n"
		    "object.  Services start last, once their node's links, addresses and\n"
		    "routes exist; an unchanged service keeps running (same pid).  Prints\n"
		    "what was done in the form of 'lab plan', with the summary \"3 created,\n"
		    "1 changed, 0 deleted\"; applying the same document again prints \"no\n"
		    "changes\".  While it runs, a progress line (\"applying lab NAME: 120/\n"
		    "2000 steps\") is shown on standard error when it is a terminal;\n"
		    "--progress shows it anyway.  With --json, the result of\n"
		    "topology.apply.",
	},
	{
	    .name = "destroy",
	    .run = lab_destroy,
	    .words = "--progress",
	    .args = "NAME [--progress]",
	    .summary = "delete a lab and everything it made",
	    .help = "Stop the services of lab NAME for good, delete its namespaces, links,\n"
		    "addresses and routes and forget the lab, all or nothing, and print\n"
		    "what was deleted as 'lab apply' does.  Objects the lab does not own\n"
		    "are never touched (a process in one of its namespaces that is not one\n"
		    "of its services makes the destroy fail).  The progress line is as for\n"
		    "'lab apply'.",
	},
	{
	    .name = "export",
	    .run = lab_export,
	    .args = "NAME",
	    .summary = "print the document a lab was applied from",
	    .help = "Print the document lab NAME was last applied from, as indented JSON:\n"
		    "applying it again changes nothing.  With --json, the result of\n"
		    "topology.export ({\"name\", \"doc\"}).",
	},
	{
	    .name = "list",
	    .alias = "ls",
	    .run = lab_list,
	    .words = "--names",
	    .args = "[--names]",
	    .summary = "list the labs",
	    .help = "List the labs netnsd holds: NAME, the number of NAMESPACES, LINKS,\n"
		    "ADDRESSES, ROUTES and SERVICES each owns, and when it was APPLIED\n"
		    "(RFC 3339).\n"
		    "--names prints only the names, one per line.",
	},
	{
	    .name = "show",
	    .run = lab_show,
	    .args = "NAME",
	    .summary = "show a lab and the objects it owns",
	    .help = "Show lab NAME as \"key: value\" lines: name, applied (RFC 3339),\n"
		    "prefix, busy (an apply or destroy is running), the number of objects\n"
		    "of each kind (netns, link, addr, route, service), then every object by\n"
		    "kind and key.  With --json, the result of topology.get (with the document).",
	},
	{
	    .name = "graph",
	    .run = lab_graph,
	    .words = "format dot mermaid",
	    .args = "NAME [format dot|mermaid]",
	    .summary = "draw a lab as Graphviz dot or Mermaid",
	    .help = "Print lab NAME as a graph for Graphviz (dot, the default: 'dot -Tsvg')\n"
		    "or Mermaid (a \"graph LR\" flowchart): every node a box (its\n"
		    "namespace's name below when the lab has a prefix, then \"services:\"\n"
		    "and the names of its services if it has any), every bridge a node\n"
		    "of its own (rounded), every veth link an edge between its nodes and\n"
		    "every bridge member an edge to its bridge, labelled with the interface\n"
		    "names, addresses and impairments of the ends (a member's port on the\n"
		    "bridge too).  Link ends in no node of the lab are drawn on a \"host\"\n"
		    "box.  Drawn from the document last applied.  With --json, the result\n"
		    "of topology.get.",
	},
	{ 0 },
};

const struct verb verb_lab = {
	.name = "lab",
	.sub = lab_verbs,
	.default_sub = "list",
	.args = "COMMAND [ARG]...",
	.summary = "apply, change and destroy declarative labs",
	.help = "Labs (topologies): namespaces, veth links, bridges, addresses, routes,\n"
		"link impairments and supervised services described once in a JSON\n"
		"document (see protocol/topology.schema.json and the examples in\n"
		"contrib/labs of the source),\n"
		"brought up, changed and torn down as a whole by netnsd, transactionally:\n"
		"a failed or interrupted apply leaves the lab as it was.  Every object a\n"
		"lab makes carries its name, and other objects are never touched.  The\n"
		"document's \"prefix\" is put in front of its namespace names and host\n"
		"interface names, so one document can be applied several times side by\n"
		"side.  Without COMMAND, 'lab' lists.",
	.examples = "  netnsctl lab apply blue-red.json\n"
		    "  ip netns exec blue ping -c1 10.1.1.2\n"
		    "  netnsctl lab show bluered\n"
		    "  # Change the document, see what would change, then apply it.\n"
		    "  netnsctl lab plan blue-red.json\n"
		    "  netnsctl lab apply blue-red.json\n"
		    "  netnsctl lab export bluered > saved.json\n"
		    "  netnsctl lab graph bluered | dot -Tsvg > bluered.svg\n"
		    "  netnsctl lab graph bluered format mermaid\n"
		    "  netnsctl lab destroy bluered\n",
};
