/*
 * cmd_peer.c: netnsctl peer: add, delete, list and show the other netnsds
 * (peer.* methods) that labs spanning hosts put nodes on.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netnsctl.h"

static const struct arg peer_args[] = {
	{ "underlay", NULL, ARG_TRUE, NULL }, /* marks the start of the underlay words */
	{ "local", "local", ARG_STRING, NULL },
	{ "remote", "remote", ARG_STRING, NULL },
	{ "dev", "dev", ARG_STRING, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },
	{ 0 },
};

/* peer add NAME SOCKET [underlay] [local IP remote IP [dev DEV] [mtu N]] */
static int peer_add(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	_cleanup_(json_decrefp) json_t *underlay = json_object();
	int r;

	if (argc < 3)
		return usage_error(c, "peer add: missing %s", argc < 2 ? "NAME" : "SOCKET");
	params = json_pack("{s:s,s:s}", "name", argv[1], "socket", argv[2]);
	if (!params || !underlay)
		return usage_error(c, "peer add: NAME and SOCKET must be UTF-8 text");
	for (int i = 3; i < argc; i++) {
		const struct arg *a = arg_find(peer_args, argv[i]);

		if (!a)
			return bad_args(c, "unknown argument '%s'", argv[i]);
		if (!a->key)
			continue;
		r = arg_set(c, a, underlay, argv, &i);
		if (r)
			return r;
	}
	if (json_object_size(underlay))
		json_object_set(params, "underlay", underlay);
	return call_quiet(c, "peer.add", TAKE_PTR(params));
}

static int peer_delete(struct ctx *c, int argc, char **argv)
{
	json_t *params;

	if (argc != 2)
		return usage_error(c, "peer delete: %s",
				   argc < 2 ? "missing NAME" : "one NAME only");
	params = json_pack("{s:s}", "name", argv[1]);
	if (!params)
		return usage_error(c, "peer delete: NAME must be UTF-8 text");
	return call_quiet(c, "peer.delete", params);
}

static json_t *status(json_t *p, const char *key)
{
	return json_object_get(json_object_get(p, "status"), key);
}

static char *reachable_cell(json_t *p)
{
	return cell_str(json_is_true(status(p, "reachable")) ? "yes" : "no");
}

static char *version_cell(json_t *p)
{
	const char *v = json_string_value(status(p, "version"));

	return cell_str(v ? v : json_string_value(status(p, "error")) ?: "-");
}

static char *underlay_cell(json_t *p)
{
	json_t *u = json_object_get(p, "underlay");
	const char *dev = json_string_value(json_object_get(u, "dev"));

	if (!u)
		return cell_str("-");
	return cell_printf("%s -> %s%s%s", json_string_value(json_object_get(u, "local")) ?: "?",
			   json_string_value(json_object_get(u, "remote")) ?: "?",
			   dev ? " dev " : "", dev ? dev : "");
}

static const struct listing peer_listing = {
	.member = "peers",
	.columns =
	    (const struct column[]){
		{ .header = "NAME", .member = "name" },
		{ .header = "SOCKET", .member = "socket" },
		{ .header = "REACHABLE", .cell = reachable_cell },
		{ .header = "VERSION", .cell = version_cell },
		{ .header = "UNDERLAY", .cell = underlay_cell },
		{},
	    },
};

static int peer_list(struct ctx *c, int argc, char **argv)
{
	json_t *result = NULL;
	int r;

	if (argc > 1 && strcmp(argv[1], "--names"))
		return usage_error(c, "peer list: unexpected argument '%s'", argv[1]);
	r = rpc_call(c, "peer.list", json_object(), &result);
	return r ?: output_listing(c, result, &peer_listing, argc > 1);
}

static int peer_show(struct ctx *c, int argc, char **argv)
{
	json_t *params, *result = NULL;
	char *cell;
	int r;

	if (argc != 2)
		return usage_error(c, "peer show: %s", argc < 2 ? "missing NAME" : "one NAME only");
	params = json_pack("{s:s}", "name", argv[1]);
	if (!params)
		return usage_error(c, "peer show: NAME must be UTF-8 text");
	r = rpc_call(c, "peer.get", params, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	kv("name", "%s", json_string_value(json_object_get(result, "name")) ?: "?");
	kv("socket", "%s", json_string_value(json_object_get(result, "socket")) ?: "?");
	cell = underlay_cell(result);
	kv("underlay", "%s", cell ?: "?");
	free(cell);
	kv("reachable", "%s", json_is_true(status(result, "reachable")) ? "yes" : "no");
	if (status(result, "version"))
		kv("version", "%s", json_string_value(status(result, "version")) ?: "?");
	if (status(result, "instance"))
		kv("instance", "%s", json_string_value(status(result, "instance")) ?: "?");
	if (status(result, "error"))
		kv("error", "%s", json_string_value(status(result, "error")) ?: "?");
	json_decref(result);
	return 0;
}

static const struct verb peer_verbs[] = {
	{
	    .name = "add",
	    .run = peer_add,
	    .keywords = peer_args,
	    .args = "NAME SOCKET [underlay local IP remote IP [dev DEV] [mtu N]]",
	    .summary = "add a peer",
	    .help = "Remember NAME as another netnsd answering on the Unix socket SOCKET (in\n"
		    "production the local end of an SSH forward, see\n"
		    "contrib/systemd/netnsd-peer@.service).  Lab documents put nodes on it\n"
		    "with \"host\": \"NAME\".  For links between its nodes and other hosts'\n"
		    "give the underlay: 'local IP' this host's address facing the peer,\n"
		    "'remote IP' the peer's, 'dev DEV' the underlay device here, 'mtu N' the\n"
		    "underlay's MTU (default: DEV's MTU, else 1500; cross-host links get 50\n"
		    "less).  The peer is not contacted.  Prints the peer with --json, else\n"
		    "nothing.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = peer_delete,
	    .args = "NAME",
	    .summary = "forget a peer",
	    .help = "Forget peer NAME.  Refused while a lab this netnsd applied across\n"
		    "hosts has nodes on it: destroy the lab first.",
	},
	{
	    .name = "list",
	    .alias = "ls",
	    .run = peer_list,
	    .words = "--names",
	    .args = "[--names]",
	    .summary = "list peers and whether they answer",
	    .help = "List the peers, asking each for daemon.info (all at once, at most 2 s).\n"
		    "Columns: NAME; SOCKET; REACHABLE; VERSION, the peer's netnsd version\n"
		    "or why it did not answer; UNDERLAY, \"LOCAL -> REMOTE [dev DEV]\".\n"
		    "--names prints the names only.",
	},
	{
	    .name = "show",
	    .run = peer_show,
	    .args = "NAME",
	    .summary = "show one peer",
	    .help = "Show peer NAME as \"key: value\" lines: socket, underlay, reachable,\n"
		    "version and instance (its netnsd's events instance, which changes\n"
		    "when it restarts) or the error.",
	},
	{ 0 },
};

const struct verb verb_peer = {
	.name = "peer",
	.sub = peer_verbs,
	.default_sub = "list",
	.args = "COMMAND [ARG]...",
	.summary = "add, delete and list peers (labs across hosts)",
	.help = "Other netnsds, each reachable over a Unix socket, that labs spanning\n"
		"hosts put nodes on (\"host\" in a lab document).  netnsd records them\n"
		"and keeps them across restarts.  Without COMMAND, 'peer' lists.",
	.examples = "  # On host A, with B's socket forwarded by netnsd-peer@B.service:\n"
		    "  netnsctl peer add B /run/netnsd/peers/B.sock \\\n"
		    "      underlay local 192.0.2.1 remote 192.0.2.2 dev eth0\n"
		    "  netnsctl peer list\n"
		    "  netnsctl lab apply two-hosts.json\n",
};
