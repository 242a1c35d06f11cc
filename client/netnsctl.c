/*
 * netnsctl.c: the command-line client of netnsd: global options and the
 * dispatcher over the verb tree (verbs.c, and the families' tables in
 * cmd_*.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netnsctl.h"

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
	v = top_find(argv[0]);
	if (!v)
		return usage_error(c, "unknown command '%s'", argv[0]);
	c->family = v == &verb_help ? NULL : v; /* where usage errors point */
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
