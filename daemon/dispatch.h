/*
 * dispatch.h: the method table and the life of a call.
 *
 * rpc hands every complete frame of a peer to dispatch_frame().  Dispatch
 * decodes it (jsonrpc), checks access, finds the method, validates params
 * against the method's parameter spec, and runs the handler.  A handler
 * answers exactly once, now or later, with call_reply() or call_fail*().
 * Replies of state-changing methods are held until the state store says the
 * change is durable (group commit).  Dispatch knows peers only through the
 * small dispatch_peer interface; it never touches sockets.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "jsonrpc.h"
#include "util.h"

struct dispatch_peer;

struct dispatch_peer_ops {
	/*
	 * Queue one encoded frame (ending in '\n') for the peer; takes ownership
	 * of frame.  Returns 0, or -errno when the peer cannot take it (its
	 * output queue is over the limit): the peer is then being dropped.
	 */
	int (*send)(struct dispatch_peer *p, char *frame, size_t len);
	/* The last reference is gone; the owner may free the peer. */
	void (*release)(struct dispatch_peer *p);
	/* Bytes queued for the peer that it has not read yet. */
	size_t (*pending)(struct dispatch_peer *p);
	/* Hang up on the peer (it stopped reading); it goes away soon after. */
	void (*hangup)(struct dispatch_peer *p);
	/* The last call in flight for the peer finished (optional). */
	void (*settled)(struct dispatch_peer *p);
	/*
	 * The oldest descriptor the peer passed (SCM_RIGHTS) and no request
	 * took yet; ownership passes to the caller.  -EBADF when none.
	 */
	int (*take_fd)(struct dispatch_peer *p);
	/*
	 * Optional: queue a frame like send() with n descriptors to pass
	 * (SCM_RIGHTS) on the write that carries the frame's first byte.
	 * Ownership of frame and of the descriptors passes, also on failure.
	 * A peer without it never gets descriptors (call_attach_fd fails).
	 */
	int (*send_fds)(struct dispatch_peer *p, char *frame, size_t len, int *fds, unsigned n);
	/* Optional: descriptors queued by send_fds() and not written yet. */
	unsigned (*pending_fds)(struct dispatch_peer *p);
	/*
	 * Optional: queue one frame given in pieces, copied (nothing to free):
	 * an event goes to many subscribers without a frame of its own each.
	 */
	int (*send_parts)(struct dispatch_peer *p, const struct iovec *iov, unsigned n);
};

/*
 * Descriptors a peer may have waiting, attached to replies not yet
 * delivered or not yet written, all its calls together.  It also bounds
 * the descriptors of one reply line (the kernel passes at most 253 in one
 * message).
 */
#define DISPATCH_MAX_PEER_FDS 64
/* Descriptors one call may attach to its reply. */
#define DISPATCH_MAX_CALL_FDS 4

struct dispatch_peer {
	const struct dispatch_peer_ops *ops;
	unsigned refs;
	unsigned inflight; /* calls not answered yet */
	bool gone;	   /* closed: replies are dropped */
	bool privileged;   /* decided by rpc from the kernel's peer credentials */
	unsigned fds_attached; /* attached to calls not delivered yet (dispatch's count) */
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

/* The caller's own reference counts as one; dispatch_peer_gone() drops it. */
void dispatch_peer_init(struct dispatch_peer *p, const struct dispatch_peer_ops *ops);
void dispatch_peer_ref(struct dispatch_peer *p);
void dispatch_peer_unref(struct dispatch_peer *p);
void dispatch_peer_gone(struct dispatch_peer *p);

/*
 * Register fn to run when any peer goes away (before its memory can be
 * released), so families holding per-peer resources (subscriptions) drop
 * them.  At most a handful of hooks.
 */
void dispatch_on_peer_gone(void (*fn)(struct dispatch_peer *p));

/* Encode and queue a message for a peer (no call involved); steals msg. */
int dispatch_peer_send(struct dispatch_peer *p, json_t *msg);

/* Handle one frame (a line without its '\n'). */
void dispatch_frame(struct dispatch_peer *p, const char *buf, size_t len);

/* Parameter specs. */
enum param_type {
	P_ANY,
	P_STRING,
	P_NETNS,  /* a namespace name (netns_name_valid) */
	P_IFNAME, /* an interface name (ifname_valid) */
	P_INT,
	P_BOOL,
	P_OBJECT,
	P_ARRAY,
};

struct call;

struct param {
	const char *name;
	enum param_type type;
	bool required;
	long long min, max;	    /* P_INT range, P_STRING/P_ARRAY length; 0,0: none */
	const struct param *fields; /* P_OBJECT: the members' specs (NULL: any members) */
	/*
	 * Optional extra check of a well-typed value.  Returns NULL when fine,
	 * or an error message; *ret_sub may name a member below this field.
	 */
	const char *(*check)(json_t *v, const char **ret_sub);
};

enum access {
	ACCESS_ADMIN, /* uid 0 or the admin group */
};

typedef void (*method_fn)(struct call *c, json_t *params);

struct method {
	const char *name;
	method_fn fn;
	const struct param *params; /* terminated by an entry with name NULL */
	enum access access;
	bool mutates; /* the reply waits until the change is durable */
};

/* The method table is assembled by methods.c; dispatch reads it. */
void dispatch_init(const struct method *const *tables, const size_t *sizes, size_t ntables);
void dispatch_exit(void);
/* Iterate over all methods: returns NULL past the end. */
const struct method *dispatch_method_at(size_t i);
const struct method *dispatch_method_find(const char *name);

/* Validate params against a spec: NULL when fine, else message and field path. */
const char *dispatch_validate(const struct param *spec, json_t *params, char *field,
			      size_t fieldlen);

/* Answers.  Each call is answered exactly once; the call is gone afterwards. */
void call_reply(struct call *c, json_t *result);
void call_fail(struct call *c, enum rpc_kind kind, int errnum, const char *field, const char *fmt,
	       ...) _printf_(5, 6);
/* An errno from a lower layer, mapped to its kind. */
void call_fail_errno(struct call *c, int errnum, const char *field, const char *fmt, ...)
    _printf_(4, 5);
void call_fail_params(struct call *c, const char *field, const char *fmt, ...) _printf_(3, 4);

struct dispatch_peer *call_peer(struct call *c);
/*
 * The oldest descriptor the caller passed over the connection (SCM_RIGHTS)
 * and no request took yet: the caller owns it.  -EBADF when none is left.
 */
int call_take_fd(struct call *c);
/*
 * Pass descriptor fd (ownership passes, also on failure) to the caller with
 * the call's reply, by SCM_RIGHTS on the write that carries the first byte
 * of the reply line.  Returns a new JSON integer for the result: the
 * descriptor's index among the descriptors of that line (dispatch adjusts
 * it when the reply is part of a batch).  Returns NULL with errno ENOBUFS
 * when the peer already has DISPATCH_MAX_PEER_FDS waiting (or the call
 * DISPATCH_MAX_CALL_FDS), EOPNOTSUPP when the peer cannot take descriptors,
 * ENOMEM.  An error answer, a notification or a lost peer closes them.
 */
json_t *call_attach_fd(struct call *c, int fd);
/* How many descriptors call_attach_fd() would take now (0: none). */
unsigned call_fd_room(struct call *c);

/* Counters for daemon.info. */
struct dispatch_stats {
	unsigned long long requests, errors;
	unsigned inflight;
};
void dispatch_get_stats(struct dispatch_stats *ret);
void dispatch_set_max_batch(size_t n);
size_t dispatch_get_max_batch(void);
/* While shutting down new calls fail with kind shutting_down. */
void dispatch_set_shutting_down(bool b);
