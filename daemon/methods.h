/*
 * methods.h: the method table, assembled from one table per family.  Each
 * family file (daemon_methods.c, netns_methods.c, ...) translates JSON
 * params into calls of its domain module and the result back into JSON.
 */
#pragma once

#include "dispatch.h"

/* What daemon.info reports about the process itself; filled by main. */
struct methods_context {
	const char *version;
	const char *socket_path;
	const char *state_dir;
	const char *runtime_dir;
	bool socket_activated;
	uint64_t start_usec; /* monotonic */
	size_t max_namespaces;
};

extern const struct method daemon_methods[];
extern const size_t daemon_methods_count;
extern const struct method netns_methods[];
extern const size_t netns_methods_count;
extern const struct method link_methods[];
extern const size_t link_methods_count;
extern const struct method addr_methods[];
extern const size_t addr_methods_count;
extern const struct method route_methods[];
extern const size_t route_methods_count;
extern const struct method events_methods[];
extern const size_t events_methods_count;
extern const struct method proc_methods[];
extern const size_t proc_methods_count;

/* The proc family: events from the supervisor, and services started again after a reboot. */
int proc_methods_init(void);
int proc_methods_restore(void);
void proc_methods_exit(void);

/* The events family registers a hook for peers that go away. */
void events_methods_init(void);
void events_methods_exit(void);

/* Free what the families cached or keep open. */
void daemon_methods_exit(void);
void netns_methods_exit(void);

/* Register every family with dispatch and parse the OpenRPC document. */
int methods_init(const struct methods_context *ctx);
void methods_exit(void);
const struct methods_context *methods_context(void);
/* Known only once rpc listens, after methods_init(). */
void methods_set_socket_activated(bool b);

/*
 * For the families that act inside namespaces.  methods_netns_writable():
 * 0 for the host (netns NULL), 1 for a managed namespace; otherwise the call
 * has been answered (not_found, or permission for a namespace netnsd did not
 * create) and -1 is returned.  methods_nl(): the namespace's rtnetlink
 * handle, or NULL after answering the call.  methods_ns_str(): "the host" or
 * the name, for messages.
 */
struct nl;
int methods_netns_writable(struct call *c, const char *netns, const char *field);
struct nl *methods_nl(struct call *c, const char *netns, const char *field);
const char *methods_ns_str(const char *netns);

/* The OpenRPC document (protocol/netnsd.openrpc.json), embedded at build time. */
const char *methods_openrpc_text(void);
