/*
 * peer.h: other netnsds this one talks to as a JSON-RPC client, over a Unix
 * socket path (in production an SSH-forwarded one, see contrib/systemd/).
 *
 * Peers are desired state: the "peer" collection holds {name, socket,
 * underlay?: {local, remote, dev?, mtu?}} per name.  This module owns the
 * client side: one short connection per call on the libuv loop, never
 * blocking it, each with a timeout.  The remote side authenticates the
 * connection by its peer credentials like any client's.
 */
#pragma once

#include <jansson.h>
#include <uv.h>

#define PEER_COLL "peer"

/* Bounds of a call: the reply line, and the default timeout. */
#define PEER_MAX_REPLY	      (64u << 20)
#define PEER_TIMEOUT_MS	      30000u
#define PEER_PROBE_TIMEOUT_MS 2000u

/*
 * The end of a call: result (the remote's result member, borrowed for the
 * callback's duration) on success; else error (the remote's JSON-RPC error
 * object, borrowed) or, when the call never got an answer, err (-errno:
 * -ECONNREFUSED, -ENOENT, -ETIMEDOUT, -EPROTO for a reply that is not
 * JSON-RPC, -ECANCELED at shutdown).  Runs exactly once, never from within
 * peer_call().
 */
typedef void (*peer_call_fn)(void *userdata, json_t *result, json_t *error, int err);

void peer_init(uv_loop_t *loop);
/* Cancel the calls in flight (their callbacks run with -ECANCELED). */
void peer_exit(void);

/*
 * Call method with params (stolen; NULL: {}) on the netnsd listening on
 * socket_path.  Returns 0 when the call started, or -errno (nothing will be
 * called back): -ENAMETOOLONG, -ESHUTDOWN after peer_exit(), -ENOMEM.
 */
int peer_call(const char *socket_path, const char *method, json_t *params, unsigned timeout_ms,
	      peer_call_fn cb, void *userdata);

/* The stored document of a peer (borrowed), or NULL. */
json_t *peer_doc(const char *name);
/* The socket path of a peer, or NULL. */
const char *peer_socket(const char *name);

/*
 * Check an underlay object {local, remote, dev?, mtu?}.  Returns NULL or a
 * message, with *ret_sub naming the member.  Pure.
 */
const char *peer_underlay_check(json_t *v, const char **ret_sub);
