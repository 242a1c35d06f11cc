/*
 * cmd_addr.c: netnsctl addr: add, delete and list IP addresses (addr.*
 * methods), with ip address's keywords.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

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
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	r = parse_args(c, argc, argv, args, params, "local", "address", "ADDRESS/PREFIX");
	if (r)
		return r;
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

/* The MANAGED column, with "(tentative)" while IPv6 duplicate address detection runs. */
static char *managed_cell(json_t *a)
{
	bool tentative = json_is_true(json_object_get(a, "tentative"));

	if (json_is_true(json_object_get(a, "managed")))
		return cell_str(tentative ? "yes (tentative)" : "yes");
	return cell_str(tentative ? "no (tentative)" : "no");
}

static const struct listing addr_listing = {
	.member = "addresses",
	.columns =
	    (const struct column[]){
		{ .header = "DEV", .member = "dev" },
		{ .header = "FAMILY", .member = "family" },
		{ .header = "ADDRESS", .member = "address" },
		{ .header = "SCOPE", .member = "scope" },
		{ .header = "MANAGED", .cell = managed_cell },
		{},
	    },
};

static int addr_list(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *result = NULL;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	r = parse_args(c, argc, argv, NULL, params, "dev", "dev", "DEV");
	if (r)
		return r;
	r = rpc_call(c, "addr.list", TAKE_PTR(params), &result);
	return r ?: output_listing(c, result, &addr_listing, false);
}

static const struct verb addr_verbs[] = {
	{
	    .name = "add",
	    .run = addr_add,
	    .keywords = addr_add_args,
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
	    .keywords = addr_del_args,
	    .args = "ADDRESS/PREFIX dev DEV",
	    .summary = "remove an address from a device",
	    .help = "Remove ADDRESS/PREFIX from device DEV and forget it.  Prints nothing\n"
		    "on success; with --json, the address removed.",
	},
	{
	    .name = "list",
	    .alias = "ls show",
	    .run = addr_list,
	    .words = "dev",
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

const struct verb verb_addr = {
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
};
