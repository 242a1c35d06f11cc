/*
 * cmd_daemon.c: netnsctl info and ping: the daemon's own status (daemon.info)
 * and a round trip (daemon.ping).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netnsctl.h"

static void print_duration(json_int_t ms)
{
	json_int_t s = ms / 1000;

	if (s >= 86400)
		printf("%" JSON_INTEGER_FORMAT "d ", s / 86400);
	if (s >= 3600)
		printf("%" JSON_INTEGER_FORMAT "h ", s / 3600 % 24);
	if (s >= 60)
		printf("%" JSON_INTEGER_FORMAT "m ", s / 60 % 60);
	if (s >= 60)
		printf("%" JSON_INTEGER_FORMAT "s", s % 60);
	else
		printf("%" JSON_INTEGER_FORMAT ".%03ds", s, (int)(ms % 1000));
}

/* Print each member of an object as an indented "key: value" line. */
static void print_section(const char *title, json_t *obj)
{
	const char *key;
	int width = 0;
	json_t *v;

	if (!json_is_object(obj))
		return;
	printf("%s:\n", title);
	json_object_foreach(obj, key, v)
		if ((int)strlen(key) + 3 > width)
			width = (int)strlen(key) + 3;
	json_object_foreach(obj, key, v) {
		print_key("  ", key, width);
		print_scalar(v);
		fputc('\n', stdout);
	}
}

static int cmd_info(struct ctx *c, int argc, char **argv)
{
	json_t *result = NULL, *restore, *v, *e;
	static const char *const actions[] = { "adopted", "recreated", "failed" };
	int r;

	if (argc > 1)
		return usage_error(c, "info: unexpected argument '%s'", argv[1]);
	r = rpc_call(c, "daemon.info", NULL, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	kv("version", "%s", json_string_value(json_object_get(result, "version")) ?: "?");
	kv("pid", "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(result, "pid")));
	print_key("", "uptime", KV_WIDTH);
	print_duration(json_integer_value(json_object_get(result, "uptime_ms")));
	fputc('\n', stdout);
	v = json_object_get(result, "socket");
	if (v)
		kv("socket", "%s%s", json_string_value(v) ?: "?",
		   json_is_true(json_object_get(result, "socket_activated"))
		       ? " (passed by systemd)"
		       : "");
	v = json_object_get(result, "state_dir");
	if (v)
		kv("state dir", "%s", json_string_value(v) ?: "?");
	restore = json_object_get(result, "restore");
	kv("restore", "%zu adopted, %zu recreated, %zu failed",
	   json_array_size(json_object_get(restore, "adopted")),
	   json_array_size(json_object_get(restore, "recreated")),
	   json_array_size(json_object_get(restore, "failed")));
	/* Adopted is the normal case after a restart; the others are worth a line each. */
	for (size_t a = 1; a < ELEMENTSOF(actions); a++) {
		size_t i;

		json_array_foreach(json_object_get(restore, actions[a]), i, e) {
			const char *msg = json_string_value(json_object_get(e, "message"));

			printf("  %s %s %s%s%s\n", actions[a],
			       json_string_value(json_object_get(e, "kind")) ?: "?",
			       json_string_value(json_object_get(e, "name")) ?: "?",
			       msg ? ": " : "", msg ?: "");
		}
	}
	print_section("counts", json_object_get(result, "counts"));
	print_section("limits", json_object_get(result, "limits"));
	print_section("state", json_object_get(result, "state"));
	print_section("memory", json_object_get(result, "memory"));
	print_section("scheduler", json_object_get(result, "scheduler"));
	json_decref(result);
	return 0;
}

static int cmd_ping(struct ctx *c, int argc, char **argv)
{
	struct timespec t0, t1;
	json_t *result = NULL;
	int r;

	if (argc > 1)
		return usage_error(c, "ping: unexpected argument '%s'", argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rpc_call(c, "daemon.ping", NULL, &result);
	if (r || c->json)
		return r ?: finish_json(c, result);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("pong from %s: time=%.3f ms\n", c->socket_path,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	json_decref(result);
	return 0;
}

const struct verb verb_info = {
	.name = "info",
	.run = cmd_info,
	.summary = "show the daemon's status",
	.help = "Show what netnsd reports about itself (daemon.info): version, PID,\n"
		"uptime, socket, state directory, the report of the last restore (what\n"
		"it adopted, recreated or failed to restore), request and namespace\n"
		"counts, its limits, its state store, where its memory is (queued\n"
		"output, buffers, heap, resident size) and how requests were scheduled.",
};

const struct verb verb_ping = {
	.name = "ping",
	.run = cmd_ping,
	.summary = "check that the daemon answers",
	.help = "Call daemon.ping and print the round-trip time.  Exits 0 when netnsd\n"
		"answers, 1 when it cannot be reached.",
};
