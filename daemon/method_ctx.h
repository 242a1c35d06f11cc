/*
 * method_ctx.h: what the method families (daemon_methods.c, netns_methods.c,
 * link_methods.c ...) share, below all of them: the facts about the process
 * that daemon.info reports, the OpenRPC document, and the checks and handles
 * of the families that act inside namespaces.  It knows nothing of the
 * families; methods.c assembles them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"

/* What daemon.info reports about the process itself; filled by service. */
struct method_ctx {
	const char *version;
	const char *socket_path;
	const char *state_dir;
	const char *runtime_dir;
	bool socket_activated;
	uint64_t start_usec; /* monotonic */
	size_t max_namespaces;
	const char *spawn;	  /* as configured: auto, systemd, direct */
	const char *spawn_reason; /* why the launcher in use was chosen (see PROTOCOL.md) */
};

/* Keep a copy of *ctx for method_ctx_get(); NULL keeps what it has (all zero at first). */
void method_ctx_init(const struct method_ctx *ctx);
const struct method_ctx *method_ctx_get(void);
/* Known only once rpc listens, after method_ctx_init(). */
void method_ctx_set_socket_activated(bool b);

/* The OpenRPC document (protocol/netnsd.openrpc.json), embedded at build time. */
const char *method_ctx_openrpc_text(void);

/*
 * For the families that act inside namespaces.  method_ctx_netns_writable():
 * 0 for the host (netns NULL), 1 for a managed namespace; otherwise the call
 * has been answered (not_found, or permission for a namespace netnsd did not
 * create) and -1 is returned.  method_ctx_nl(): the namespace's rtnetlink
 * handle, or NULL after answering the call.  method_ctx_ns_str(): "the host"
 * or the name, for messages.
 */
struct nl;
int method_ctx_netns_writable(struct call *c, const char *netns, const char *field);
struct nl *method_ctx_nl(struct call *c, const char *netns, const char *field);
const char *method_ctx_ns_str(const char *netns);
/*
 * call_attach_fd() for the families: the index to put in the result, or
 * NULL after answering the call (limit, unsupported) when fd cannot be
 * passed.  fd is the call's either way.
 */
json_t *method_ctx_attach_fd(struct call *c, int fd);
