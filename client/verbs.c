/*
 * verbs.c: the verb tree of netnsctl: the top-level table of families and
 * leaves (each family's own table is in its cmd_FAMILY.c), the lookups the
 * dispatcher makes in it, and every help text, generated from the tables.
 */
#include <stdio.h>
#include <string.h>

#include "netnsctl.h"

static int cmd_help(struct ctx *c, int argc, char **argv);

const struct verb verb_help = {
	.name = "help",
	.run = cmd_help,
	.args = "[COMMAND [SUBCOMMAND]]",
	.summary = "show help for a command",
	.help = "Show the help of COMMAND (and SUBCOMMAND), or of netnsctl itself.",
};

/* The top level: families and leaves, in the order --help lists them. */
const struct verb *const top_verbs[] = {
	&verb_netns, &verb_link, &verb_addr, &verb_route, &verb_proc, &verb_lab, &verb_peer, &verb_exec,
	&verb_monitor, &verb_info, &verb_ping, &verb_call, &verb_help, NULL,
};

static const char help_trailer[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  netnsd returned an error (printed as 'netnsctl: MESSAGE', with the\n"
    "     offending parameter as '(field: NAME)'), netnsd could not be reached, or\n"
    "     a file could not be read\n"
    "  2  usage error: unknown command or option, missing or malformed argument\n";

static bool verb_is(const struct verb *v, const char *name)
{
	return !strcmp(v->name, name) || word_in(v->alias, name);
}

const struct verb *verb_find(const struct verb *table, const char *name)
{
	for (const struct verb *v = table; v && v->name; v++)
		if (verb_is(v, name))
			return v;
	return NULL;
}

const struct verb *top_find(const char *name)
{
	for (const struct verb *const *v = top_verbs; *v; v++)
		if (verb_is(*v, name))
			return *v;
	return NULL;
}

void help_main(void)
{
	printf("Usage: netnsctl [OPTION]... COMMAND [ARG]...\n"
	       "\n"
	       "netnsctl is the command-line client of netnsd, the network namespace daemon.\n"
	       "Each command makes one or a few JSON-RPC calls on netnsd's Unix socket and\n"
	       "prints the result as an aligned table or \"key: value\" lines, or with --json\n"
	       "as the daemon's result object.\n"
	       "\n"
	       "Commands:\n");
	for (const struct verb *const *v = top_verbs; *v; v++)
		printf("  %-8s  %s\n", (*v)->name, (*v)->summary);
	printf("\n"
	       "Options (before COMMAND; --json and --help are also accepted after it):\n"
	       "  -s, --socket PATH  talk to netnsd at PATH (default: $" SOCKET_ENV ", or\n"
	       "                     " DEFAULT_SOCKET ")\n"
	       "  -j, --json         print the daemon's result as JSON: one document per\n"
	       "                     command, indented on a terminal, one line otherwise\n"
	       "  -n, --netns NAME   the namespace that link, addr and route commands act in\n"
	       "                     (default: the host, where netnsd runs); for proc run,\n"
	       "                     exec, proc list and monitor, the namespace to run in or\n"
	       "                     to list or watch; 'host' is the host everywhere\n"
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
	       "  netnsctl -n blue link set veth0 delay 10ms loss 1%% rate 1mbit\n"
	       "  netnsctl lab apply contrib/labs/blue-red.json\n"
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
void help_verb(const struct verb *v, const struct verb *sub)
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
	v = top_find(argv[1]);
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
