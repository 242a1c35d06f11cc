/*
 * cmd_proc.c: netnsctl proc: run, list, show, kill, wait for, read the logs of
 * and delete supervised processes (proc.* methods).  The options of proc run
 * are exec's too: parse_spawn_args() serves both.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

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

/*
 * The exit status a shell would report for the process's last run: its exit
 * code, or 128 + the signal that killed it.  A process without one (its start
 * failed, or its supervisor was lost) is EXIT_EXEC_FAIL, after saying why.
 */
int proc_exit_status(json_t *p)
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

/* The options of proc run and exec (exec takes those marked for_exec). */
enum spawn_opt_type {
	SO_STRING,    /* --opt TEXT: a string param */
	SO_RESTART,   /* --restart no|on-failure|always */
	SO_ENV,	      /* --env KEY=VALUE, repeatable */
	SO_FLAG,      /* --opt: true */
	SO_STDIO,     /* --stdout log|null|FILE */
	SO_LOG_MAX,   /* --log-max-bytes N (0: no cap) */
	SO_LOG_FILES, /* --log-files N (1 to 100) */
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
	{ "--log-max-bytes", "log_max_bytes", SO_LOG_MAX, false },
	{ "--log-files", "log_files", SO_LOG_FILES, false },
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
	case SO_LOG_MAX:
	case SO_LOG_FILES: {
		long long n, lo = o->type == SO_LOG_MAX ? 0 : 1;
		long long hi = o->type == SO_LOG_MAX ? 1LL << 50 : 100;

		if (!parse_int(v, lo, hi, &n))
			return bad_args(c, "%s wants a number from %lld to %lld, not '%s'", o->opt,
					lo, hi, v);
		val = json_integer(n);
		break;
	}
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
int parse_spawn_args(struct ctx *c, int argc, char **argv, bool for_exec, json_t *params)
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

static char *netns_cell(json_t *p)
{
	return cell_str(ns_label(json_object_get(p, "netns")));
}

/* The PID column: the program's of its last run, "-" before it has one. */
static char *pid_cell(json_t *p)
{
	json_int_t pid = json_integer_value(json_object_get(p, "pid"));

	return pid > 0 ? cell_printf("%" JSON_INTEGER_FORMAT, pid) : cell_str(NULL);
}

static char *exit_cell(json_t *p)
{
	char buf[32];

	exit_label(p, buf, sizeof(buf));
	return cell_str(buf);
}

static char *command_cell(json_t *p)
{
	return command_line(json_object_get(p, "argv"));
}

static const struct listing proc_listing = {
	.member = "processes",
	.columns =
	    (const struct column[]){
		{ .header = "ID", .member = "id" },
		{ .header = "NAME", .member = "name" },
		{ .header = "NETNS", .cell = netns_cell },
		{ .header = "STATE", .member = "state" },
		{ .header = "PID", .cell = pid_cell },
		{ .header = "RESTARTS", .member = "restarts", .integer = true },
		{ .header = "EXIT", .cell = exit_cell },
		{ .header = "COMMAND", .cell = command_cell },
		{},
	    },
};

static int proc_list(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = json_object();
	const char *ns = c->netns;
	json_t *result = NULL;
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

		for (size_t i = json_array_size(procs); i-- > 0;)
			if (!json_is_null(json_object_get(json_array_get(procs, i), "netns")))
				json_array_remove(procs, i);
	}
	return output_listing(c, result, &proc_listing, false);
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
		"id",	   "name",	"netns",	 "argv",	"state",       "pid",
		"restart", "restarts",	"service",	 "adopted",	"created",     "started",
		"exited",  "exit_code", "signal",	 "core_dumped", "error_stage", "errno",
		"log",	   "stopped",	"log_max_bytes", "log_files",
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
	kv("stopped", "%s", json_is_true(json_object_get(result, "stopped")) ? "yes" : "no");
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
	if ((v = json_object_get(result, "log"))) {
		json_int_t max = json_integer_value(json_object_get(result, "log_max_bytes"));

		kv("log", "%s", json_string_value(v) ?: "?");
		if (max > 0)
			kv("log cap",
			   "%" JSON_INTEGER_FORMAT " bytes, %" JSON_INTEGER_FORMAT " files", max,
			   json_integer_value(json_object_get(result, "log_files")));
		else
			kv("log cap", "none");
	}
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

static int proc_stop(struct ctx *c, int argc, char **argv)
{
	static const struct id_int_opt o = { "--grace", "grace_ms", "milliseconds", 600000 };
	json_t *params = id_int_params(c, argc, argv, &o);

	return params ? call_quiet(c, "proc.stop", params) : EXIT_USAGE;
}

static const struct verb proc_verbs[] = {
	{
	    .name = "run",
	    .run = proc_run,
	    .words = "--name --restart --user --group --cwd --env --env-replace --stdout --stderr "
		     "--log-max-bytes --log-files --",
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
		    "  --log-max-bytes N  rotate a log file before it grows beyond N bytes (0:\n"
		    "                     no cap; default: netnsd's --log-max-bytes, 8 MiB)\n"
		    "  --log-files N      log files kept, the current one and N - 1 rotated\n"
		    "                     ones, FILE.1 the newest (default 2)\n"
		    "Standard input is /dev/null.  Put '--' before CMD.",
	},
	{
	    .name = "list",
	    .alias = "ls",
	    .run = proc_list,
	    .words = "-n --netns",
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
		    "it was adopted after a restart of netnsd, whether it was stopped for good\n"
		    "(proc stop), its times, its exit status, the error that stopped its start,\n"
		    "and its log file with its size cap.",
	},
	{
	    .name = "kill",
	    .run = proc_kill,
	    .args = "ID [SIGNAL]",
	    .summary = "send a signal to a process",
	    .help = "Send SIGNAL (default TERM; a number, or a name with or without SIG,\n"
		    "e.g. KILL, HUP, INT, USR1) to the running program of process ID.  netnsd\n"
		    "sends it through a pidfd, so a recycled PID is never hit.  The restart\n"
		    "policy still applies: to stop a service for good, use 'proc stop'.  A\n"
		    "service waiting to be restarted (backoff) has no program to signal: TERM,\n"
		    "KILL, INT, QUIT or HUP then cancel the restart, as 'proc stop' does.",
	},
	{
	    .name = "wait",
	    .run = proc_wait,
	    .words = "--timeout",
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
	    .words = "--tail",
	    .args = "ID [--tail N]",
	    .summary = "print a process's output",
	    .help = "Print the log file of process ID as it is: what the program wrote to\n"
		    "standard output and error with the default --stdout/--stderr log (the\n"
		    "log file survives restarts of the program).  --tail N prints only the\n"
		    "last N lines.  netnsd reads at most the last 1 MiB.",
	},
	{
	    .name = "stop",
	    .run = proc_stop,
	    .words = "--grace",
	    .args = "ID [--grace MS]",
	    .summary = "stop a process for good, whatever its state",
	    .help = "Stop process ID for good, as 'systemctl stop' does: no more restarts, a\n"
		    "restart waiting in backoff is cancelled, and a running program gets\n"
		    "SIGTERM and SIGKILL if it still runs after MS milliseconds (default\n"
		    "3000).  Returns once it has ended.  The process stays listed (stopped),\n"
		    "also across restarts of netnsd, and a service is still started again\n"
		    "after a reboot; 'proc delete' forgets it.  Prints nothing; with --json,\n"
		    "the process as it ended.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = proc_delete,
	    .words = "--grace",
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

const struct verb verb_proc = {
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
	    "  netnsctl proc stop web\n"
	    "  netnsctl proc delete web\n"
	    "\n"
	    "  # A one-off job: start it, wait for it, use its exit status.\n"
	    "  id=$(netnsctl proc run red -- ping -c3 10.1.1.1)\n"
	    "  netnsctl proc wait \"$id\" --timeout 10000; echo \"ping exited $?\"\n"
	    "  netnsctl proc logs \"$id\"\n"
	    "  netnsctl proc del \"$id\"\n",
};
