/*
 * rpc.h: the Unix stream socket, NDJSON framing and connection lifecycle.
 *
 * rpc owns the listening socket (bound by itself, or passed by systemd),
 * every accepted connection, their input and output buffers and the limits
 * that protect the daemon from its peers.  Complete lines go to
 * dispatch_frame(); replies come back through the dispatch_peer interface.
 * rpc knows nothing about methods or netlink.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

struct rpc_config {
	const char *socket_path;
	gid_t admin_gid;    /* (gid_t)-1: only root */
	size_t max_message; /* bytes in one frame, without the '\n' */
	size_t max_connections;
	size_t max_queued;	 /* bytes of replies queued per connection */
	size_t max_queued_total; /* and of all connections' output together */
	unsigned message_timeout_ms; /* a message unfinished this long: disconnect (0: never) */
};

/*
 * Start listening: on the fd systemd passed (LISTEN_FDS), else on
 * cfg->socket_path, which is created 0660 (group admin_gid).  An existing
 * socket on which a netnsd answers makes this fail with -EADDRINUSE; a stale
 * one is replaced.  Returns 0 or -errno; *ret_activated says which way.
 */
int rpc_init(uv_loop_t *loop, const struct rpc_config *cfg, bool *ret_activated);

/* Stop accepting and stop reading requests; replies still go out. */
void rpc_quiesce(void);
/* True once every connection's output queue is empty. */
bool rpc_drained(void);
/* Close everything (the socket file is removed when rpc created it). */
void rpc_exit(void);

struct rpc_stats {
	size_t connections;
	unsigned long long accepted, refused;
	size_t queued_bytes, queued_peak; /* unsent output of all connections */
	size_t buffer_bytes;		  /* input and output buffers allocated */
	unsigned long long turns;	  /* connection turns served */
	unsigned long long deferred;	  /* turns put off to the next loop iteration */
	unsigned long long stall_cutoffs; /* cut off over max_queued_total */
	unsigned long long message_timeouts; /* cut off for an unfinished message */
};
void rpc_get_stats(struct rpc_stats *ret);
const struct rpc_config *rpc_get_config(void);
