/*
 * cmd_netns.c: netnsctl netns: add, delete, list, show, pids and identify
 * named network namespaces (netns.* methods).
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

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

static char *managed_cell(json_t *ns)
{
	return cell_str(managed_label(ns));
}

/* The NSID column: "-" when none is assigned. */
static char *nsid_cell(json_t *ns)
{
	json_t *nsid = json_object_get(ns, "nsid");

	if (!json_is_integer(nsid))
		return cell_str(NULL);
	return cell_printf("%" JSON_INTEGER_FORMAT, json_integer_value(nsid));
}

static const struct listing netns_listing = {
	.member = "namespaces",
	.columns =
	    (const struct column[]){
		{ .header = "NAME", .member = "name" },
		{ .header = "MANAGED", .cell = managed_cell },
		{ .header = "NSID", .cell = nsid_cell },
		{ .header = "CREATED", .member = "created" },
		{},
	    },
};

static int netns_list(struct ctx *c, int argc, char **argv)
{
	json_t *result = NULL;
	bool names_only = false;
	int r;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--names") != 0)
			return usage_error(c, "netns %s: unknown argument '%s'", argv[0], argv[a]);
		names_only = true;
	}
	r = rpc_call(c, "netns.list", NULL, &result);
	return r ?: output_listing(c, result, &netns_listing, names_only);
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

static const struct verb netns_verbs[] = {
	{
	    .name = "add",
	    .run = netns_add,
	    .words = "nsid sysctl resolv-conf hosts",
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
	    .words = "grace",
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
	    .words = "--names",
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

const struct verb verb_netns = {
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
};
