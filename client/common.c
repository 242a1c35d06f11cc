/*
 * common.c: what every netnsctl command shares: messages and usage errors,
 * reading numbers, words, files and ip-style keyword arguments, signal names,
 * and the signalfd that exec and monitor wait on.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "netnsctl.h"

/* Messages. */

static _printf_(1, 0) void verrorf(const char *fmt, va_list ap)
{
	fflush(stdout); /* keep the order of what was printed so far */
	fputs("netnsctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

_printf_(1, 2) void errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(fmt, ap);
	va_end(ap);
}

/* Print a usage error with a pointer to the right help page; returns EXIT_USAGE. */
_printf_(2, 3) int usage_error(const struct ctx *c, const char *fmt, ...)
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
_printf_(2, 3) int bad_args(const struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return usage_error(c, "%s: %s", c->cmd, msg);
}

/* close() that keeps errno; returns -1 for "fd = safe_close(fd)". */
int safe_close(int fd)
{
	closep(&fd);
	return -1;
}

/* Argument helpers. */

/* Parse a decimal integer in [min, max]; returns false when it is not one. */
bool parse_int(const char *s, long long min, long long max, long long *ret)
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
bool word_in(const char *list, const char *word)
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
int read_all(const char *path, char **ret, size_t *ret_len)
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
int file_param(json_t *params, const char *key, const char *path)
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

const struct arg *arg_find(const struct arg *args, const char *word)
{
	for (const struct arg *a = args; a->word; a++)
		if (!strcmp(a->word, word))
			return a;
	return NULL;
}

/* A number as JSON: an integer when it is one (10, not 10.0), else a real. */
static json_t *number_value(double v)
{
	/* The range check first: casting a double out of json_int_t's range is undefined. */
	if (v > -1e15 && v < 1e15 && v == (double)(json_int_t)v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

/*
 * Set the param of keyword a (argv[*i]) in obj, reading its value from the
 * next word when it takes one (*i then points at the value).  Returns 0, or
 * EXIT_USAGE after saying why.
 */
int arg_set(const struct ctx *c, const struct arg *a, json_t *obj, char **argv, int *i)
{
	const char *val = NULL;
	long long n;
	json_t *v = NULL;

	if (a->type == ARG_MS || a->type == ARG_PCT || a->type == ARG_KBIT) {
		/* An impairment keyword sets a member of the "impair" object. */
		json_t *imp = json_object_get(obj, "impair");

		if (json_is_null(imp) || json_object_get(imp, a->key))
			return bad_args(c, "'%s' repeats or contradicts an earlier argument",
					a->word);
		if (!imp) {
			imp = json_object();
			if (!imp || json_object_set_new(obj, "impair", imp) < 0)
				return bad_args(c, "out of memory");
		}
		obj = imp;
	} else if (json_object_get(obj, a->key)) {
		return bad_args(c, "'%s' repeats or contradicts an earlier argument", a->word);
	}
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
	case ARG_MS: {
		double ms;

		if (impair_parse_ms(val, &ms) < 0)
			return bad_args(c, "'%s' wants a time with its unit (10ms, 1.5s, 250us), "
					"not '%s'", a->word, val);
		v = number_value(ms);
		break;
	}
	case ARG_PCT: {
		double pct;

		if (impair_parse_pct(val, &pct) < 0)
			return bad_args(c, "'%s' wants a percentage (1%%, 0.5%%), not '%s'", a->word,
					val);
		v = number_value(pct);
		break;
	}
	case ARG_KBIT: {
		long long kbit;
		int r = impair_parse_kbit(val, &kbit);

		if (r == -ERANGE)
			return bad_args(c, "'%s %s' is not a whole number of kbit/s", a->word, val);
		if (r < 0)
			return bad_args(c, "'%s' wants a rate with its unit (1mbit, 100kbit, 1gbit, "
					"125kbps), not '%s'", a->word, val);
		v = json_integer(kbit);
		break;
	}
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
int word_set(const struct ctx *c, json_t *obj, const char *key, const char *what, const char *word)
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
const char *next_word(char **argv, int *i)
{
	if (!argv[*i + 1])
		return NULL;
	return argv[++*i];
}

/*
 * Params of a command that acts in -n's namespace: {"netns": NS}, or {} for the host
 * (no -n, or -n host: 'host' means the host everywhere in netnsctl).
 */
json_t *ns_params(const struct ctx *c)
{
	json_t *p = json_object();

	if (p && c->netns && strcmp(c->netns, "host") != 0 &&
	    json_object_set_new(p, "netns", json_string(c->netns)) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/*
 * Read "WORD" or "KEYWORD WORD" (argv[*i]) into the param key, as ip does for
 * the device of link set and addr list ("dev"), the address of addr add
 * ("local") and the destination of route add ("to").  A second WORD is an
 * unknown argument.  Returns 0 or EXIT_USAGE.
 */
int operand_word(const struct ctx *c, json_t *params, const char *keyword, const char *key,
		 const char *what, char **argv, int *i)
{
	const char *w = argv[*i];

	if (!strcmp(w, keyword)) {
		w = next_word(argv, i);
		if (!w)
			return bad_args(c, "'%s' needs a value", keyword);
	} else if (json_object_get(params, key)) {
		return bad_args(c, "unknown argument '%s'", w);
	}
	return word_set(c, params, key, what, w);
}

int parse_args(const struct ctx *c, int argc, char **argv, const struct arg *args, json_t *params,
	       const char *keyword, const char *key, const char *what)
{
	for (int i = 1; i < argc; i++) {
		const struct arg *a = args ? arg_find(args, argv[i]) : NULL;
		int r;

		if (a)
			r = arg_set(c, a, params, argv, &i);
		else if (key)
			r = operand_word(c, params, keyword, key, what, argv, &i);
		else
			r = bad_args(c, "unknown argument '%s'", argv[i]);
		if (r)
			return r;
	}
	return 0;
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

const char *signal_name(json_int_t sig)
{
	for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
		if (signal_names[i].sig == sig)
			return signal_names[i].name;
	return NULL;
}

/* "9", "-9", "KILL", "SIGKILL", "-kill" ...: the number, or -1. */
int signal_parse(const char *s)
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

/*
 * A long option of a command, as "--opt VALUE" or "--opt=VALUE" (or a flag,
 * "--opt").  When argv[*i] is opt, sets *ret_val (NULL for a flag), moves *i to
 * its last word and returns 1; returns 0 when it is another word, or EXIT_USAGE
 * after saying why.
 */
int long_opt(const struct ctx *c, char **argv, int *i, const char *opt, bool takes_value,
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

/* Signals for exec and monitor: taken in the poll loop through a signalfd. */

/* Block sigs (0-terminated) and return a signalfd for them, or -errno after saying why. */
int signals_take(const int *sigs, sigset_t *ret_old)
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
int signal_next(int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}
