/*
 * service.h: netnsd as a whole.  Brings every module up in dependency order
 * and down in exact reverse, so main() and the in-process tests run the same
 * daemon.  main() keeps what belongs to a process: options, signals, systemd.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct service_config {
	const char *version;
	const char *socket_path, *state_dir, *runtime_dir, *shim, *admin_group;
	bool reset_corrupt;
	/* Who starts supervised processes: "auto" (systemd when booted with it and its bus
	 * answers, else netnsd), "systemd" (or fail to start) or "direct" (netnsd). */
	const char *spawn;
	size_t max_message, max_batch, max_connections, max_queued, max_queued_total, max_namespaces;
	size_t message_timeout_ms;
	size_t event_backlog, event_stall_ms, max_subscriptions, monitor_rcvbuf;
	size_t log_max_bytes; /* of supervised processes' log files; 0: no cap */
	size_t log_files;     /* 0: the default */
	size_t event_ring, event_ring_bytes;
};

/*
 * netns, state, events, reconcile, model, proc, methods, rpc.  Returns 0,
 * or -errno after logging why and stopping what had started.
 * *ret_activated: the socket came from systemd.
 */
int service_start(uv_loop_t *loop, const struct service_config *cfg, bool *ret_activated);

/* Take no new connections or requests; what is in flight finishes. */
void service_quiesce(void);
/* Nothing in flight and every reply written. */
bool service_idle(void);
/* Close the modules' handles; run the loop until it ends, then service_free(). */
void service_close(void);
void service_free(void);
