/*
 * cmd_route.c: netnsctl route: add, delete and list routes (route.* methods),
 * with ip route's keywords.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

/* The route types that may come before the destination, as ip writes them. */
#define ROUTE_TYPES "unicast blackhole unreachable prohibit"

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
	_cleanup_(json_decrefp) json_t *params = NULL;
	const struct arg *a;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		a = arg_find(route_args, w);
		if (a) {
			r = arg_set(c, a, params, argv, &i);
		} else if (word_in(ROUTE_TYPES, w) && argv[i + 1] &&
			   !json_object_get(params, "dst") && !json_object_get(params, "type")) {
			/* "route add blackhole 10.9.0.0/16", as ip writes it. */
			json_object_set_new(params, "type", json_string(w));
			r = 0;
		} else {
			r = operand_word(c, params, "to", "dst", "the destination", argv, &i);
		}
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

/* The DST column: like ip, a route of another type than unicast shows it before dst. */
static char *dst_cell(json_t *rt)
{
	const char *type = json_string_value(json_object_get(rt, "type"));
	const char *dst = json_string_value(json_object_get(rt, "dst")) ?: "?";
	bool unicast = !type || !strcmp(type, "unicast");

	return cell_printf("%s%s%s", unicast ? "" : type, unicast ? "" : " ", dst);
}

static char *table_cell(json_t *rt)
{
	char buf[32];

	return cell_str(
	    table_name(json_integer_value(json_object_get(rt, "table")), buf, sizeof(buf)));
}

static char *managed_cell(json_t *rt)
{
	return cell_str(json_is_true(json_object_get(rt, "managed")) ? "yes" : "no");
}

static const struct listing route_listing = {
	.member = "routes",
	.columns =
	    (const struct column[]){
		{ .header = "DST", .cell = dst_cell },
		{ .header = "VIA", .member = "via" },
		{ .header = "DEV", .member = "dev" },
		{ .header = "METRIC", .member = "metric", .integer = true },
		{ .header = "TABLE", .cell = table_cell },
		{ .header = "MANAGED", .cell = managed_cell },
		{},
	    },
};

static int route_list(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *result = NULL;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	r = parse_args(c, argc, argv, route_list_args, params, NULL, NULL, NULL);
	if (r)
		return r;
	r = rpc_call(c, "route.list", TAKE_PTR(params), &result);
	return r ?: output_listing(c, result, &route_listing, false);
}

static const struct verb route_verbs[] = {
	{
	    .name = "add",
	    .run = route_add,
	    .keywords = route_args,
	    .words = "default " ROUTE_TYPES,
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
	    .keywords = route_args,
	    .words = "default " ROUTE_TYPES,
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
	    .keywords = route_list_args,
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

const struct verb verb_route = {
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
	.examples = "  # red reaches green through blue, which forwards between them: each\n"
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
};
