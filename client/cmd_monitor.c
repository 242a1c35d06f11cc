/*
 * cmd_monitor.c: netnsctl monitor: subscribe to netnsd's events and print one
 * line per event (or the event as JSON) until interrupted.
 */

#include <errno.h>
#include <limits.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnsctl.h"

#define MONITOR_TOPICS "netns link addr route neigh proc daemon"

static const char monitor_topics[] = MONITOR_TOPICS;

/* " KEY VALUE" for a member that is a string (or a number), nothing when it is absent. */
static void print_member(json_t *obj, const char *member, const char *label)
{
	json_t *v = json_object_get(obj, member);

	if (!v || json_is_null(v))
		return;
	printf(" %s ", label);
	print_scalar(v);
}

static void print_link_event(json_t *l, bool del)
{
	json_t *peer = json_object_get(l, "peer");
	const char *kind = json_string_value(json_object_get(l, "kind"));
	const char *admin = json_is_true(json_object_get(l, "up")) ? "up" : "down";
	const char *oper = json_string_value(json_object_get(l, "operstate"));

	printf("%s", json_string_value(json_object_get(l, "name")) ?: "?");
	if (kind)
		printf(" %s", kind);
	if (del)
		return;
	printf(" %s", admin);
	/* The kernel's operational state, when it says more ("up" without carrier ...). */
	if (oper && strcmp(oper, admin) != 0)
		printf(" state %s", oper);
	print_member(l, "mtu", "mtu");
	print_member(l, "master", "master");
	if (json_is_object(peer)) {
		char buf[128];

		peer_label(peer, buf, sizeof(buf));
		printf(" peer %s", buf);
	}
}

static void print_route_event(json_t *rt)
{
	const char *type = json_string_value(json_object_get(rt, "type"));
	json_int_t table = json_integer_value(json_object_get(rt, "table"));
	char buf[32];

	if (type && strcmp(type, "unicast") != 0)
		printf("%s ", type);
	printf("%s", json_string_value(json_object_get(rt, "dst")) ?: "?");
	print_member(rt, "via", "via");
	print_member(rt, "dev", "dev");
	if (json_integer_value(json_object_get(rt, "metric")))
		print_member(rt, "metric", "metric");
	if (json_object_get(rt, "table") && table != 254)
		printf(" table %s", table_name(table, buf, sizeof(buf)));
}

static void print_proc_event(json_t *p, const char *action, const char *arrow)
{
	const char *name = json_string_value(json_object_get(p, "name"));
	const char *stage = json_string_value(json_object_get(p, "error_stage"));
	json_int_t pid = json_integer_value(json_object_get(p, "pid"));
	char exit_s[32];

	printf("%s", json_string_value(json_object_get(p, "id")) ?: "?");
	if (name)
		printf(" (%s)", name);
	printf(" %s", json_string_value(json_array_get(json_object_get(p, "argv"), 0)) ?: "?");
	if (!strcmp(action, "exited") || (!strcmp(action, "failed") && !stage)) {
		json_t *sig = json_object_get(p, "signal");

		exit_label(p, exit_s, sizeof(exit_s));
		printf(" %s %s %s", arrow, json_is_integer(sig) ? "signal" : "exit", exit_s);
		if (json_is_true(json_object_get(p, "core_dumped")))
			printf(" (core dumped)");
	} else if (stage) {
		json_int_t e = json_integer_value(json_object_get(p, "errno"));

		printf(" %s failed: %s%s%s", arrow, stage, e > 0 ? ": " : "",
		       e > 0 ? strerror((int)e) : "");
	} else if (pid > 0 && strcmp(action, "removed") != 0) {
		printf(" pid %" JSON_INTEGER_FORMAT, pid);
	}
	if (!strcmp(action, "restarting"))
		printf(" (restart %" JSON_INTEGER_FORMAT ")",
		       json_integer_value(json_object_get(p, "restarts")) + 1);
}

/* One event as a line, ip monitor style: "[topic] action  netns: object". */
static void print_event(json_t *ev, bool timestamp, const char *arrow)
{
	const char *topic = json_string_value(json_object_get(ev, "topic")) ?: "?";
	const char *action = json_string_value(json_object_get(ev, "action")) ?: "?";
	const char *ns = ns_label(json_object_get(ev, "netns"));
	bool del = !strcmp(action, "del");
	json_t *o;

	if (timestamp)
		printf("%s ", json_string_value(json_object_get(ev, "time")) ?: "-");
	printf("[%s] %-6s ", topic, action);
	if (!strcmp(topic, "netns")) {
		o = json_object_get(ev, "namespace");
		printf("%s", json_string_value(json_object_get(o, "name")) ?: ns);
		if (!del && json_object_get(o, "managed"))
			printf(" (%s)", json_is_true(json_object_get(o, "managed")) ? "managed"
										    : "unmanaged");
	} else if (!strcmp(topic, "link")) {
		printf("%s: ", ns);
		print_link_event(json_object_get(ev, "link"), del);
	} else if (!strcmp(topic, "addr")) {
		o = json_object_get(ev, "addr");
		printf("%s: %s", ns, json_string_value(json_object_get(o, "address")) ?: "?");
		print_member(o, "dev", "dev");
		if (!del && strcmp(json_string_value(json_object_get(o, "scope")) ?: "", "global"))
			print_member(o, "scope", "scope");
		if (!del && json_is_true(json_object_get(o, "tentative")))
			printf(" tentative");
	} else if (!strcmp(topic, "route")) {
		printf("%s: ", ns);
		print_route_event(json_object_get(ev, "route"));
	} else if (!strcmp(topic, "neigh")) {
		o = json_object_get(ev, "neigh");
		printf("%s: %s", ns, json_string_value(json_object_get(o, "address")) ?: "?");
		print_member(o, "dev", "dev");
		print_member(o, "lladdr", "lladdr");
		if (!del)
			print_member(o, "state", "state");
	} else if (!strcmp(topic, "proc")) {
		printf("%s: ", ns);
		print_proc_event(json_object_get(ev, "proc"), action, arrow);
	} else if (!strcmp(topic, "daemon")) {
		if (!strcmp(action, "gap") && json_is_null(json_object_get(ev, "lost")))
			printf("lost an unknown number of events (netnsd restarted)");
		else if (json_object_get(ev, "lost"))
			printf("lost %" JSON_INTEGER_FORMAT " events",
			       json_integer_value(json_object_get(ev, "lost")));
		else if (!json_is_null(json_object_get(ev, "netns")) &&
			 json_object_get(ev, "netns"))
			printf("%s", ns);
	} else {
		_cleanup_(freep) char *s = json_dumps(ev, JSON_COMPACT);

		fputs(s ?: "?", stdout);
	}
	fputc('\n', stdout);
}

static int cmd_monitor(struct ctx *c, int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, 0 };
	_cleanup_(json_decrefp) json_t *params = json_object();
	json_t *topics = NULL, *result = NULL;
	const char *ns = c->netns, *arrow = "->", *cs;
	bool timestamp = false;
	sigset_t old_mask;
	int sigfd, r, status = EXIT_FAIL;

	if (!params) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	for (int a = 1; a < argc; a++) {
		const char *w = argv[a], *v;

		r = long_opt(c, argv, &a, "--netns", true, &v);
		if (r == 0 && !strcmp(w, "-n")) {
			if (!argv[a + 1])
				return bad_args(c, "-n needs a value");
			v = argv[++a];
			r = 1;
		}
		if (r > 1)
			return r;
		if (r == 1) {
			ns = v;
			continue;
		}
		if (!strcmp(w, "-t") || !strcmp(w, "--timestamp")) {
			timestamp = true;
			continue;
		}
		r = long_opt(c, argv, &a, "--since", true, &v);
		if (r > 1)
			return r;
		if (r == 1) {
			/* A cursor INSTANCE:GSEQ: resume after that event. */
			const char *colon = strrchr(v, ':');
			long long g;

			if (!colon || colon == v || (size_t)(colon - v) > 64 ||
			    !parse_int(colon + 1, 0, LLONG_MAX, &g))
				return bad_args(c, "--since needs INSTANCE:GSEQ, not '%s'", v);
			json_object_set_new(params, "instance",
					    json_stringn(v, (size_t)(colon - v)));
			json_object_set_new(params, "since", json_integer(g));
			continue;
		}
		if (w[0] == '-')
			return bad_args(c, "unknown option '%s'", w);
		if (!strcmp(w, "all"))
			continue;
		if (!word_in(monitor_topics, w))
			return bad_args(c, "unknown topic '%s' (topics: %s, all)", w,
					monitor_topics);
		if (!topics) {
			topics = json_array();
			json_object_set_new(params, "topics", topics);
		}
		json_array_append_new(topics, json_string(w));
	}
	/* netnsd filters: one namespace by its name, or the host alone. */
	if (ns && !strcmp(ns, "host")) {
		json_object_set_new(params, "host", json_true());
	} else if (ns) {
		json_t *v = json_string(ns);

		if (!v)
			return bad_args(c, "NS '%s' is not UTF-8 text", ns);
		json_object_set_new(params, "netns", v);
	}
	if (!c->json && setlocale(LC_CTYPE, "") && (cs = nl_langinfo(CODESET)) &&
	    !strcmp(cs, "UTF-8"))
		arrow = "\u2192";

	sigfd = signals_take(sigs, &old_mask);
	if (sigfd < 0)
		return EXIT_FAIL;
	r = rpc_call(c, "events.subscribe", TAKE_PTR(params), &result);
	json_decref(result);
	if (r)
		goto out;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };
		char *line;
		size_t len;
		ssize_t got;

		/* Events may have come with the reply: print what is buffered first. */
		while (conn_line(c, &line, &len)) {
			_cleanup_(json_decrefp) json_t *msg = take_json_line(c, line, len);
			json_t *ev = json_object_get(msg, "params");

			if (!msg)
				goto out;
			if (strcmp(json_string_value(json_object_get(msg, "method")) ?: "",
				   "event") ||
			    !json_is_object(ev))
				continue;
			if (c->json) {
				json_dumpf(ev, stdout, JSON_COMPACT);
				fputc('\n', stdout);
			} else {
				print_event(ev, timestamp, arrow);
			}
			if (fflush(stdout) != 0) {
				if (errno != EPIPE)
					errorf("cannot write the output: %s", strerror(errno));
				goto out;
			}
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			errorf("poll: %s", strerror(errno));
			goto out;
		}
		if (p[1].revents && signal_next(sigfd) > 0) {
			status = 0;
			goto out;
		}
		if (!p[0].revents)
			continue;
		got = conn_recv_some(c);
		if (got == 0)
			errorf("netnsd at %s closed the connection", c->socket_path);
		if (got <= 0)
			goto out;
	}
out:
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	close(sigfd);
	return status;
}

const struct verb verb_monitor = {
	.name = "monitor",
	.run = cmd_monitor,
	.words = "-n --netns -t --timestamp --since all " MONITOR_TOPICS,
	.uses_netns = true,
	.args = "[TOPIC]... [-n NS] [-t|--timestamp] [--since INSTANCE:GSEQ]",
	.summary = "print changes as they happen",
	.help = "Subscribe to netnsd's events and print one line per event as it\n"
		"happens, like 'ip monitor': links, addresses, routes and neighbours in\n"
		"the host and in every namespace netnsd manages (whoever changed them),\n"
		"namespaces appearing and vanishing under /run/netns, supervised\n"
		"processes starting and ending, and netnsd's own life (ready, stopping,\n"
		"overflow when events were lost).  Each line is \"[TOPIC] ACTION\n"
		"NAMESPACE: OBJECT\", NAMESPACE being 'host' for the host.\n"
		"\n"
		"  TOPIC             netns, link, addr, route, neigh, proc or daemon\n"
		"                    (default: all)\n"
		"  -n, --netns NS    only the events of namespace NS ('host': of the\n"
		"                    host; daemon events always come)\n"
		"  -t, --timestamp   start each line with the event's time (RFC 3339)\n"
		"  --since INSTANCE:GSEQ\n"
		"                    resume: first the events netnsd published after\n"
		"                    event GSEQ of its instance INSTANCE (the gseq of\n"
		"                    an event --json printed; the instance of 'netnsctl\n"
		"                    --json info'), then live ones.  Events netnsd no\n"
		"                    longer keeps are announced as '[daemon] gap'.\n"
		"\n"
		"With --json each event is one line of JSON: the params of netnsd's\n"
		"\"event\" notification (subscription, seq, gseq, time, topic, action, netns\n"
		"and the object), for scripts.  Output is flushed after every line.  Runs\n"
		"until interrupted (SIGINT, SIGTERM, SIGHUP: exit 0); exits 1 if netnsd\n"
		"closes the connection.",
	.examples = "  netnsctl monitor\n"
		    "  netnsctl monitor link addr -n blue\n"
		    "  netnsctl monitor proc -t\n"
		    "  netnsctl --json monitor netns | jq -c '{action, name: .namespace.name}'\n"
		    "\n"
		    "  Example lines:\n"
		    "  [link] new    blue: eth0 veth up mtu 1500 master br0 peer veth1@red\n"
		    "  [addr] del    host: 10.0.0.1/24 dev veth1\n"
		    "  [netns] new    red (managed)\n"
		    "  [proc] exited blue: 1a2b3c4d5e6f7081 ping -> exit 0\n",
};
