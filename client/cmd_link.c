/*
 * cmd_link.c: netnsctl link: add, delete, set and list network interfaces
 * (link.* methods), with ip link's keywords.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

/* Impairments of a link end (the "impair" param), in tc's words and units. */
#define IMPAIR_ARGS                                                                                \
	{ "delay", "delay_ms", ARG_MS, NULL }, { "jitter", "jitter_ms", ARG_MS, NULL },           \
	    { "loss", "loss_pct", ARG_PCT, NULL }, { "duplicate", "duplicate_pct", ARG_PCT, NULL }, \
	    { "reorder", "reorder_pct", ARG_PCT, NULL },                                           \
	    { "corrupt", "corrupt_pct", ARG_PCT, NULL }, { "rate", "rate_kbit", ARG_KBIT, NULL }

/* The help text of the impairment keywords, shared by link add and link set. */
#define IMPAIR_HELP                                                                                \
	"Impairments (what this end does to the packets it sends; tc's netem and\n"                \
	"tbf, in tc's units):\n"                                                                   \
	"  delay TIME        added delay: 10ms, 1.5s, 250us\n"                                      \
	"  jitter TIME       random variation of the delay (needs delay)\n"                         \
	"  loss PCT          packets dropped: 1%, 0.5%\n"                                           \
	"  duplicate PCT     packets sent twice\n"                                                  \
	"  reorder PCT       packets sent ahead of delayed ones (needs delay)\n"                    \
	"  corrupt PCT       packets with one bit flipped\n"                                        \
	"  rate RATE         rate limit: 100kbit, 1mbit, 1gbit, 125kbps (bits or\n"                 \
	"                    bytes per second, k = 1000), whole kbit/s\n"                           \
	"A rate alone is a tbf root qdisc, anything else a netem (kernels without\n"                \
	"sch_netem refuse it: netnsd then changes nothing)."

static const struct arg link_add_args[] = {
	{ "type", "kind", ARG_STRING, NULL },
	{ "master", "master", ARG_STRING, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },
	{ "address", "address", ARG_STRING, NULL },
	{ "up", "up", ARG_TRUE, NULL },
	{ "noipv6ll", "ipv6_ll", ARG_FALSE, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL },
	{ "parent", "parent", ARG_STRING, NULL },
	{ "link", "parent", ARG_STRING, NULL },
	{ "id", "id", ARG_INT, NULL },
	{ "protocol", "protocol", ARG_STRING, NULL },
	{ "mode", "mode", ARG_STRING, NULL },
	{ "remote", "remote", ARG_STRING, NULL },
	{ "group", "group", ARG_STRING, NULL },
	{ "local", "local", ARG_STRING, NULL },
	{ "port", "port", ARG_INT, NULL },
	{ "dev", "dev", ARG_STRING, NULL },
	{ "stp", "stp", ARG_ONOFF, NULL },
	{ "vlan_filtering", "vlan_filtering", ARG_ONOFF, NULL },
	IMPAIR_ARGS,
	{ 0 },
};

/* What may follow "peer NAME": the peer's own settings. */
static const struct arg link_peer_args[] = {
	{ "netns", "netns", ARG_NETNS, NULL },	  { "master", "master", ARG_STRING, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },	  { "address", "address", ARG_STRING, NULL },
	{ "up", "up", ARG_TRUE, NULL },		  { "noipv6ll", "ipv6_ll", ARG_FALSE, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL }, IMPAIR_ARGS,
	{ 0 },
};

static const struct arg link_set_args[] = {
	{ "up", "up", ARG_TRUE, NULL },		  { "down", "up", ARG_FALSE, NULL },
	{ "mtu", "mtu", ARG_INT, NULL },	  { "address", "address", ARG_STRING, NULL },
	{ "master", "master", ARG_STRING, NULL }, { "nomaster", "master", ARG_NULL, NULL },
	{ "name", "rename", ARG_STRING, NULL },	  { "netns", "move_to", ARG_NETNS, NULL },
	{ "ipv6ll", "ipv6_ll", ARG_ONOFF, NULL }, { "noimpair", "impair", ARG_NULL, NULL },
	IMPAIR_ARGS,
	{ 0 },
};

static int link_add(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *peer = NULL;
	const struct arg *a;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (peer) {
			/* As in ip, everything after "peer NAME" describes the peer. */
			a = arg_find(link_peer_args, w);
			if (!a && (arg_find(link_add_args, w) || !strcmp(w, "peer")))
				return bad_args(c,
						"'%s' cannot follow 'peer NAME': the words "
						"after it set the peer (netns, master, mtu, "
						"address, up, noipv6ll, ipv6ll); put '%s' before "
						"'peer'",
						w, w);
			if (!a)
				return bad_args(c, "unknown argument '%s'", w);
			r = arg_set(c, a, peer, argv, &i);
			if (r)
				return r;
			continue;
		}
		a = arg_find(link_add_args, w);
		if (a) {
			r = arg_set(c, a, params, argv, &i);
			if (r)
				return r;
			continue;
		}
		if (!strcmp(w, "peer")) {
			w = next_word(argv, &i);
			if (w && !strcmp(w, "name"))
				w = next_word(argv, &i);
			if (!w)
				return bad_args(c, "'peer' needs the peer's NAME");
			peer = json_object();
			json_object_set_new(params, "peer", peer);
			r = word_set(c, peer, "name", "the peer's NAME", w);
			if (r)
				return r;
			continue;
		}
		if (!strcmp(w, "netns"))
			return bad_args(c, "'netns' applies to the peer only; create the link in "
					   "a namespace with 'netnsctl -n NS link add ...'");
		if (!strcmp(w, "name")) {
			w = next_word(argv, &i);
			if (!w)
				return bad_args(c, "'name' needs a value");
		} else if (json_object_get(params, "name")) {
			return bad_args(c, "unknown argument '%s'", w);
		}
		r = word_set(c, params, "name", "NAME", w);
		if (r)
			return r;
	}
	if (!json_object_get(params, "name"))
		return bad_args(c, "missing NAME");
	if (!json_object_get(params, "kind"))
		return bad_args(c, "missing 'type KIND' (veth, bridge, dummy, vlan, macvlan, "
				   "vxlan)");
	/* Like ip, the peer is made where the link is unless 'netns' says otherwise. */
	if (peer && json_object_get(params, "netns") && !json_object_get(peer, "netns"))
		json_object_set(peer, "netns", json_object_get(params, "netns"));
	return call_quiet(c, "link.add", TAKE_PTR(params));
}
static int link_delete(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	json_t *result = NULL;
	const char *action;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	r = parse_args(c, argc, argv, NULL, params, "dev", "name", "NAME");
	if (r)
		return r;
	if (!json_object_get(params, "name"))
		return bad_args(c, "missing NAME");
	r = rpc_call(c, "link.delete", TAKE_PTR(params), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	action = json_string_value(json_object_get(result, "action"));
	if (action && !strcmp(action, "returned"))
		printf("%s was borrowed: returned it to the namespace and name it came from\n",
		       json_string_value(json_object_get(result, "name")) ?: "?");
	return finish_json(c, result);
}

static int link_set(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	int r;

	NS_PARAMS_OR_FAIL(c, params);
	r = parse_args(c, argc, argv, link_set_args, params, "dev", "name", "NAME");
	if (r)
		return r;
	if (!json_object_get(params, "name"))
		return bad_args(c, "missing NAME");
	return call_quiet(c, "link.set", TAKE_PTR(params));
}

/* The STATE column: the administrative state and the kernel's operational state. */
static char *state_cell(json_t *l)
{
	return cell_printf("%s/%s", json_is_true(json_object_get(l, "up")) ? "UP" : "DOWN",
			   json_string_value(json_object_get(l, "operstate")) ?: "?");
}

static char *managed_cell(json_t *l)
{
	const char *origin = json_string_value(json_object_get(l, "origin"));

	return cell_str(origin ?: (json_is_true(json_object_get(l, "managed")) ? "created" : "no"));
}

static char *peer_cell(json_t *l)
{
	json_t *peer = json_object_get(l, "peer");
	char buf[128];

	if (!json_is_object(peer))
		return cell_str(NULL);
	peer_label(peer, buf, sizeof(buf));
	return cell_str(buf);
}

static char *impair_cell(json_t *l)
{
	_cleanup_(freep) char *text = impair_format(json_object_get(l, "impair"));

	return text ? cell_str(*text ? text : NULL) : NULL;
}

#define LINK_COLUMNS                                                                               \
	{ .header = "NAME", .member = "name" }, { .header = "KIND", .member = "kind" },            \
	    { .header = "STATE", .cell = state_cell },                                             \
	    { .header = "MTU", .member = "mtu", .integer = true },                                 \
	    { .header = "ADDRESS", .member = "address" },                                          \
	    { .header = "MASTER", .member = "master" },                                            \
	    { .header = "MANAGED", .cell = managed_cell }, { .header = "PEER", .cell = peer_cell }

static const struct listing link_listing = {
	.member = "links",
	.columns = (const struct column[]){ LINK_COLUMNS, {} },
};

/* The same with the IMPAIR column, shown when a link of the listing has impairments. */
static const struct listing link_listing_impair = {
	.member = "links",
	.columns = (const struct column[]){ LINK_COLUMNS, { .header = "IMPAIR", .cell = impair_cell },
					    {} },
};

static int link_list(struct ctx *c, int argc, char **argv)
{
	json_t *params, *result = NULL, *l;
	bool names_only = false, impaired = false;
	size_t i;
	int r;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--names") != 0)
			return bad_args(c, "unknown argument '%s'", argv[a]);
		names_only = true;
	}
	NS_PARAMS_OR_FAIL(c, params);
	r = rpc_call(c, "link.list", params, &result);
	if (r)
		return r;
	json_array_foreach(json_object_get(result, "links"), i, l)
		if (json_object_size(json_object_get(l, "impair")) > 0)
			impaired = true;
	return output_listing(c, result, impaired ? &link_listing_impair : &link_listing,
			      names_only);
}

/* link show NAME: one link as "key: value" lines (link.get); without NAME, link list. */
static int link_show(struct ctx *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *params = NULL;
	_cleanup_(freep) char *impair = NULL, *state = NULL, *managed = NULL;
	json_t *result = NULL, *v;
	char buf[128];
	int r;

	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "--names")))
		return link_list(c, argc, argv);
	NS_PARAMS_OR_FAIL(c, params);
	r = parse_args(c, argc, argv, NULL, params, "dev", "name", "NAME");
	if (r)
		return r;
	r = rpc_call(c, "link.get", TAKE_PTR(params), &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	kv("name", "%s", json_string_value(json_object_get(result, "name")) ?: "?");
	kv("namespace", "%s", ns_label(json_object_get(result, "netns")));
	kv("kind", "%s", json_string_value(json_object_get(result, "kind")) ?: "-");
	state = state_cell(result);
	managed = managed_cell(result);
	kv("state", "%s", state ?: "?");
	kv("mtu", "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(result, "mtu")));
	kv("address", "%s", json_string_value(json_object_get(result, "address")) ?: "-");
	kv("master", "%s", json_string_value(json_object_get(result, "master")) ?: "-");
	kv("managed", "%s", managed ?: "?");
	v = json_object_get(result, "peer");
	if (json_is_object(v)) {
		peer_label(v, buf, sizeof(buf));
		kv("peer", "%s", buf);
	}
	impair = impair_format(json_object_get(result, "impair"));
	kv("impair", "%s", impair && *impair ? impair : "none");
	json_decref(result);
	return 0;
}

static const struct verb link_verbs[] = {
	{
	    .name = "add",
	    .run = link_add,
	    .keywords = link_add_args,
	    .words = "peer netns",
	    .args = "[name] NAME type KIND [OPTION]...\n"
		    "          [peer PEER [PEER-OPTION]...]",
	    .summary = "create a link",
	    .help = "Create link NAME of kind KIND (veth, bridge, dummy, vlan, macvlan or\n"
		    "vxlan) in the host or, with -n NS, inside namespace NS.  netnsd gives\n"
		    "it the alias \"netnsd\", records it and recreates it after a restart or\n"
		    "a reboot.  If any step fails nothing is left behind.  Only the options\n"
		    "given are sent; the rest keep the kernel's defaults.  Prints nothing on\n"
		    "success; with --json, the new link as 'link list' describes it.\n"
		    "\n"
		    "Options of every kind:\n"
		    "  master BRIDGE     make it a port of BRIDGE (in the same namespace)\n"
		    "  mtu N             its MTU (68 to 65535)\n"
		    "  address MAC       its MAC address\n"
		    "  up                bring it up once it is configured\n"
		    "  noipv6ll          no IPv6 link-local address (address generation\n"
		    "                    mode none), set before it comes up: it never sends\n"
		    "                    DAD, router solicitations or MLD (large labs on one\n"
		    "                    bridge want this); 'ipv6ll on|off' says it either way\n"
		    "veth:\n"
		    "  peer PEER         the other end's name (required; also: peer name\n"
		    "                    PEER).  As with ip, the words after 'peer PEER'\n"
		    "                    describe the peer, so put the link's own options\n"
		    "                    before it.  The peer takes master, mtu, address,\n"
		    "                    up, noipv6ll and ipv6ll as above, and\n"
		    "    netns PEERNS    the namespace to make it in, 'host' for the host\n"
		    "                    (default: where the link is made: -n NS, or the\n"
		    "                    host)\n"
		    "bridge:\n"
		    "  stp on|off        spanning tree (default off); the forward delay is 0\n"
		    "  vlan_filtering on|off\n"
		    "vlan:\n"
		    "  link DEV          the parent device (required; also: parent DEV)\n"
		    "  id N              the VLAN id, 1 to 4094 (required)\n"
		    "  protocol 802.1Q|802.1ad\n"
		    "macvlan:\n"
		    "  link DEV          the parent device (required; also: parent DEV)\n"
		    "  mode bridge|private|vepa|passthru\n"
		    "vxlan:\n"
		    "  id VNI            (required)\n"
		    "  remote IP | group IP   the far end, or a multicast group (needs dev)\n"
		    "  local IP, port N (default 4789), dev DEV (the underlay device)\n"
		    "\n" IMPAIR_HELP "  The peer of a veth takes\n"
		    "its own after 'peer PEER'.",
	},
	{
	    .name = "delete",
	    .alias = "del",
	    .run = link_delete,
	    .words = "dev",
	    .args = "[dev] NAME",
	    .summary = "delete a link, or give a borrowed one back",
	    .help = "Delete link NAME (and, for a veth, its peer), and forget it.  A device\n"
		    "that was moved into a namespace with 'link set NAME netns NS' is not\n"
		    "deleted but given back: moved to the namespace it came from under its\n"
		    "original name (netnsctl says so).  In the host only links netnsd\n"
		    "created can be deleted.",
	},
	{
	    .name = "set",
	    .run = link_set,
	    .keywords = link_set_args,
	    .words = "dev",
	    .args = "[dev] NAME [up|down] [mtu N] [address MAC]\n"
		    "          [master BRIDGE|nomaster] [name NEWNAME] [netns NS|host]\n"
		    "          [ipv6ll on|off] [IMPAIRMENT]... [noimpair]",
	    .summary = "change a link, rename it or move it",
	    .help = "Change link NAME: bring it up or down, set its MTU or MAC address,\n"
		    "make it a port of BRIDGE or detach it (nomaster), rename it, turn its\n"
		    "IPv6 link-local address on or off, or move it to namespace NS ('netns\n"
		    "host' moves it to the host).  Moving a device flushes its addresses and\n"
		    "routes (the kernel does); 'master' cannot be combined with 'netns'.\n"
		    "Moving a device netnsd did not create (a physical NIC) borrows it:\n"
		    "'link delete' or deleting its namespace gives it back.  In the host\n"
		    "netnsd changes only links it created or borrowed.  Prints nothing on\n"
		    "success; with --json, the link after the change.\n"
		    "\n"
		    "Impairment keywords replace the link's impairments as a whole: the\n"
		    "ones not given are removed ('link set veth0 delay 10ms' after 'loss 1%'\n"
		    "leaves only the delay); noimpair removes them all.  They are applied\n"
		    "first and put back if another change fails; they cannot be combined\n"
		    "with netns.\n"
		    "\n" IMPAIR_HELP,
	},
	{
	    .name = "list",
	    .alias = "ls",
	    .run = link_list,
	    .words = "--names",
	    .args = "[--names]",
	    .summary = "list the links of a namespace",
	    .help = "List the links of the host or, with -n NS, of namespace NS, as a\n"
		    "table: NAME; KIND (\"-\" for physical devices and lo); STATE, the\n"
		    "administrative state (UP or DOWN) and the kernel's operational state\n"
		    "(up, down, lowerlayerdown, unknown ...); MTU; ADDRESS (MAC); MASTER;\n"
		    "MANAGED: created (netnsd made it), borrowed (moved in with 'link set\n"
		    "netns'), existing (a device netnsd changed but did not make, such as lo\n"
		    "of its namespaces) or no; PEER, the other end of a veth as\n"
		    "NAME@NAMESPACE (\"host\" for the host; @nsidN when only the kernel's\n"
		    "namespace id is known); IMPAIR, the impairments of its root qdisc, as\n"
		    "'link set' takes them (a column shown only when a link has some).\n"
		    "--names prints only the names, one per line.",
	},
	{
	    .name = "show",
	    .run = link_show,
	    .words = "dev --names",
	    .args = "[[dev] NAME]",
	    .summary = "show one link, with its impairments",
	    .help = "Show link NAME of the host or, with -n NS, of namespace NS as \"key:\n"
		    "value\" lines: name, namespace, kind, state, mtu, address, master,\n"
		    "managed, peer (for a veth) and impair, what its root qdisc does to the\n"
		    "packets it sends, in the words of 'link set' (\"none\" when nothing),\n"
		    "read from the kernel.  Without NAME, the same as 'link list'.  With\n"
		    "--json, the link as netnsd's link.get describes it.",
	},
	{ 0 },
};

const struct verb verb_link = {
	.name = "link",
	.sub = link_verbs,
	.default_sub = "list",
	.uses_netns = true,
	.args = "COMMAND [ARG]...",
	.summary = "create, change, move and list network interfaces",
	.help = "Network interfaces (links) in the host or, with -n NS, inside namespace\n"
		"NS.  netnsd creates veth pairs, bridges, dummy, vlan, macvlan and vxlan\n"
		"devices with rtnetlink, gives each the alias \"netnsd\" (the kernel's\n"
		"own record of ownership), records them in its state directory and\n"
		"recreates them after a restart or a reboot.  In the host netnsd\n"
		"changes only links it created or borrowed; in a namespace it created\n"
		"every device is its to change; namespaces made by others are not\n"
		"changed at all.  The words follow ip link.  Without COMMAND, 'link'\n"
		"lists.",
	.examples = "  # Two nodes on a bridge, the way CORE builds a wired network: a bridge\n"
		    "  # in the host (STP off, forward delay 0), one veth per node whose end\n"
		    "  # inside the node is eth0 and whose host end is a port of the bridge.\n"
		    "  netnsctl netns add n1\n"
		    "  netnsctl netns add n2\n"
		    "  netnsctl link add b.1.1 type bridge up\n"
		    "  netnsctl -n n1 link add eth0 type veth up peer n1.0.1 netns host \\\n"
		    "          master b.1.1 up\n"
		    "  netnsctl -n n1 addr add 10.0.0.1/24 dev eth0\n"
		    "  # ... or as CORE's script does it: make the pair in the host, then move\n"
		    "  # one end into the node and rename it eth0.\n"
		    "  netnsctl link add n2.0.1 type veth master b.1.1 up peer n2.0\n"
		    "  netnsctl link set n2.0 netns n2\n"
		    "  netnsctl -n n2 link set n2.0 name eth0 up\n"
		    "  netnsctl -n n2 addr add 10.0.0.2/24 dev eth0\n"
		    "  ip netns exec n1 ping -c1 10.0.0.2\n"
		    "\n"
		    "  # Namespaces blue and red joined by a veth pair, one end in each.\n"
		    "  netnsctl -n blue link add veth0 type veth up peer veth1 netns red up\n"
		    "  netnsctl -n blue addr add 10.1.1.1/24 dev veth0\n"
		    "  netnsctl -n red addr add 10.1.1.2/24 dev veth1\n"
		    "  ip netns exec blue ping -c1 10.1.1.2\n"
		    "\n"
		    "  # Lend a physical NIC to a namespace; deleting it there gives it back\n"
		    "  # to the host under its old name.\n"
		    "  netnsctl link set eth1 netns blue\n"
		    "  netnsctl -n blue link set eth1 name uplink mtu 9000 up\n"
		    "  netnsctl -n blue link delete uplink\n"
		    "\n"
		    "  # A bridge inside a namespace, a VLAN on a device, the listings.\n"
		    "  netnsctl -n blue link add br0 type bridge stp on up\n"
		    "  netnsctl -n blue link set veth0 master br0\n"
		    "  netnsctl -n blue link add veth0.100 type vlan link veth0 id 100\n"
		    "  netnsctl -n blue link list\n"
		    "  netnsctl --json -n blue link list\n",
};
