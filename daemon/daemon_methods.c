/*
 * daemon_methods.c: daemon.ping, daemon.info and rpc.discover.
 */
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "method_ctx.h"
#include "method_families.h"
#include "model.h"
#include "proc.h"
#include "reconcile.h"
#include "rpc.h"
#include "state.h"

static json_t *openrpc_doc;

static void method_ping(struct call *c, json_t *params)
{
	call_reply(c, json_pack("{s:b}", "pong", 1));
}

static json_t *restore_report(void)
{
	json_t *o = json_pack("{s:[],s:[],s:[]}", "adopted", "recreated", "failed");
	const struct reconcile_item *it;
	const char *const *foreign;
	size_t n;

	/* Present only when there is something: it is rare, and older clients compare. */
	foreign = proc_foreign(&n);
	if (n)
		json_object_set_new(o, "ignored", json_array());
	for (size_t i = 0; i < n; i++)
		json_array_append_new(json_object_get(o, "ignored"),
				      json_pack("{s:s,s:s,s:s}", "kind", "proc", "name", foreign[i],
						"message",
						"made by a netnsd of another state directory"));

	it = reconcile_report(&n);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack("{s:s,s:s}", "kind", it[i].kind, "name", it[i].name);

		if (it[i].action == RECONCILE_FAILED) {
			json_object_set_new(e, "errno", json_integer(-it[i].err));
			json_object_set_new(e, "message",
					    json_string(it[i].message ?: strerror(-it[i].err)));
		}
		json_array_append_new(json_object_get(o, reconcile_action_name(it[i].action)), e);
	}
	return o;
}

static json_int_t count(const char *coll)
{
	return (json_int_t)json_object_size(state_collection(coll));
}

/* Resident memory of this process, from /proc (0 if unreadable). */
static json_int_t rss_bytes(void)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (json_int_t)resident * sysconf(_SC_PAGESIZE);
}

/* Where the memory is: queued output, connection buffers, the heap, the process. */
static json_t *memory_report(const struct rpc_stats *rs, const struct events_stats *es)
{
	struct mallinfo2 mi = mallinfo2();

	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "queued_bytes",
			 (json_int_t)rs->queued_bytes, "queued_peak_bytes",
			 (json_int_t)rs->queued_peak, "buffer_bytes", (json_int_t)rs->buffer_bytes,
			 "event_ring_bytes", (json_int_t)es->ring_bytes, "heap_in_use_bytes",
			 (json_int_t)(mi.uordblks + mi.hblkhd), "heap_free_bytes",
			 (json_int_t)mi.fordblks, "rss_bytes", rss_bytes());
}

static void method_info(struct call *c, json_t *params)
{
	const struct method_ctx *ctx = method_ctx_get();
	const struct rpc_config *cfg = rpc_get_config();
	struct dispatch_stats ds;
	struct events_stats es;
	struct model_stats ms;
	struct state_stats ss;
	struct proc_launch_stats ls;
	struct rpc_stats rs;
	json_t *o;

	dispatch_get_stats(&ds);
	events_get_stats(&es);
	model_get_stats(&ms);
	state_get_stats(&ss);
	rpc_get_stats(&rs);
	o = json_pack("{s:s,s:i,s:I,s:s,s:b,s:s}", "version", ctx->version, "pid", (int)getpid(),
		      "uptime_ms", (json_int_t)((now_usec() - ctx->start_usec) / 1000), "socket",
		      cfg->socket_path, "socket_activated", ctx->socket_activated, "state_dir",
		      ctx->state_dir);
	if (ctx->runtime_dir)
		json_object_set_new(o, "runtime_dir", json_string(ctx->runtime_dir));
	if (state_identity())
		json_object_set_new(o, "state_id", json_string(state_identity()));
	json_object_set_new(o, "counts",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "namespaces",
				      count("netns"), "links", count("link"), "addresses",
				      count("addr"), "routes", count("route"), "services",
				      count("proc"), "connections", (json_int_t)rs.connections,
				      "requests", (json_int_t)ds.requests, "errors",
				      (json_int_t)ds.errors, "inflight", (json_int_t)ds.inflight));
	json_object_set_new(
		o, "limits",
		json_pack("{s:I,s:I,s:I,s:I,s:I}", "max_message_bytes", (json_int_t)cfg->max_message,
			  "max_batch", (json_int_t)dispatch_get_max_batch(), "max_connections",
			  (json_int_t)cfg->max_connections, "max_queued_bytes",
			  (json_int_t)cfg->max_queued, "max_namespaces",
			  (json_int_t)ctx->max_namespaces));
	json_object_set_new(json_object_get(o, "limits"), "max_queued_total_bytes",
			    json_integer((json_int_t)cfg->max_queued_total));
	json_object_set_new(json_object_get(o, "limits"), "message_timeout_ms",
			    json_integer((json_int_t)cfg->message_timeout_ms));
	json_object_set_new(o, "memory", memory_report(&rs, &es));
	json_object_set_new(o, "scheduler",
			    json_pack("{s:I,s:I,s:I,s:I}", "turns", (json_int_t)rs.turns, "deferred",
				      (json_int_t)rs.deferred, "stall_cutoffs",
				      (json_int_t)rs.stall_cutoffs, "message_timeouts",
				      (json_int_t)rs.message_timeouts));
	/* 0: no cap on the log files of supervised processes. */
	json_object_set_new(json_object_get(o, "limits"), "log_max_bytes",
			    json_integer(proc_get_config()->log_max_bytes > 0
					     ? proc_get_config()->log_max_bytes
					     : 0));
	json_object_set_new(json_object_get(o, "limits"), "log_files",
			    json_integer(proc_get_config()->log_files));
	json_object_set_new(o, "state",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:s}", "commits",
				      (json_int_t)ss.commits, "records", (json_int_t)ss.records,
				      "compactions", (json_int_t)ss.compactions, "journal_bytes",
				      (json_int_t)ss.journal_bytes, "snapshot_bytes",
				      (json_int_t)ss.snapshot_bytes, "snapshot",
				      ss.snapshot_path ?: "", "journal", ss.journal_path ?: ""));
	json_object_set_new(o, "events",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "subscriptions",
				      (json_int_t)es.subscriptions, "published",
				      (json_int_t)es.published, "delivered", (json_int_t)es.delivered,
				      "lost", (json_int_t)es.lost, "cutoffs", (json_int_t)es.cutoffs,
				      "followed_namespaces", (json_int_t)ms.namespaces,
				      "kernel_messages", (json_int_t)ms.kernel_messages, "resyncs",
				      (json_int_t)ms.resyncs));
	/* Resumable events: the cursor's instance and position, and the ring behind them. */
	json_object_update_new(
	    json_object_get(o, "events"),
	    json_pack("{s:s,s:I,s:I,s:{s:I,s:I,s:I,s:I}}", "instance", events_instance(), "gseq",
		      (json_int_t)events_gseq(), "replayed", (json_int_t)es.replayed, "ring",
		      "events", (json_int_t)es.ring_events, "bytes", (json_int_t)es.ring_bytes,
		      "max_events", (json_int_t)events_config()->ring_events, "max_bytes",
		      (json_int_t)events_config()->ring_bytes));
	proc_get_launch_stats(&ls);
	json_object_set_new(
		o, "spawn",
		json_pack("{s:s,s:s,s:s,s:I,s:I}", "mode", ctx->spawn ?: "auto", "launcher",
			  proc_launcher_to_string(ls.launcher), "reason",
			  ls.fallback_error ? "bus-failed" : ctx->spawn_reason ?: "configured",
			  "systemd_runs", (json_int_t)ls.systemd_runs, "direct_runs",
			  (json_int_t)ls.direct_runs));
	if (ls.fallback_error)
		json_object_set_new(json_object_get(o, "spawn"), "errno",
				    json_integer(-ls.fallback_error));
	json_object_set_new(o, "restore", restore_report());
	call_reply(c, o);
}

static void method_discover(struct call *c, json_t *params)
{
	if (!openrpc_doc) {
		json_error_t err;

		openrpc_doc = json_loads(method_ctx_openrpc_text(), 0, &err);
		if (!openrpc_doc)
			return call_fail(c, RPC_KIND_NONE, 0, NULL,
					 "The built-in OpenRPC document is unreadable: %s",
					 err.text);
	}
	call_reply(c, json_incref(openrpc_doc));
}

void daemon_methods_exit(void)
{
	json_decref(TAKE_PTR(openrpc_doc));
}

static const struct param p_none[] = { { 0 } };

const struct method daemon_methods[] = {
	{ .name = "daemon.ping", .fn = method_ping, .params = p_none, .access = ACCESS_ADMIN },
	{ .name = "daemon.info", .fn = method_info, .params = p_none, .access = ACCESS_ADMIN },
	{ .name = "rpc.discover", .fn = method_discover, .params = p_none, .access = ACCESS_ADMIN },
};
const size_t daemon_methods_count = ELEMENTSOF(daemon_methods);
