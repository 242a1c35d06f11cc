/*
 * transient: start a command as a transient systemd service, so that PID 1 forks it
 * rather than netnsd, without netnsd's own sandbox (capability bounding set,
 * NoNewPrivileges, seccomp filters are inherited by anything netnsd forks itself).
 *
 * It speaks D-Bus to systemd with libsystemd's sd-bus, on PID 1's own socket
 * /run/systemd/private when netnsd is root (as systemctl does), else on the system bus: one
 * connection,
 * attached to the libuv loop (the bus fd in a uv_poll, sd-bus's next timeout in a
 * uv_timer), every call asynchronous.  A start is StartTransientUnit followed by the
 * job's JobRemoved signal and, when the job is done, the unit's MainPID; the caller
 * learns that pid or why there is none.  Nothing here waits, nothing here logs above
 * debug.
 *
 * All functions must be called on the loop thread, between transient_init() and
 * transient_exit().
 */
#pragma once

#include <stdbool.h>

#include <uv.h>

struct transient_params {
	const char *unit;	 /* full name, "….service"; must not exist yet */
	const char *description; /* optional */
	const char *const *argv; /* argv[0] is the absolute path that is executed */
	int stdio[3];		 /* borrowed; systemd receives duplicates with the call */
};

/*
 * The outcome of a start, called exactly once unless cancelled: r > 0 is the pid of the
 * unit's main process and pidfd (the callee's to close) a pidfd for it, opened before the
 * process was checked to be in the unit's cgroup, so it cannot be a recycled pid; r == 0
 * means the unit started and its main process is already gone (pidfd is -1); r < 0 is
 * -errno (-ENOTCONN: the bus went away; -EIO: the job failed, e.g. the executable could
 * not be run; or what systemd answered) with message (borrowed, may be NULL) saying more.
 */
typedef void (*transient_cb)(int r, int pidfd, const char *message, void *userdata);

struct transient_job;

/*
 * Connect to systemd.  0, or -errno (e.g. -ENOENT: neither socket exists).  The connection is re-opened by transient_start() if it broke.
 */
int transient_init(uv_loop_t *loop);

/* Disconnect; pending starts are dropped without their callbacks (the units stay). */
void transient_exit(void);

/* The bus is connected (as far as is known without asking). */
bool transient_connected(void);

/*
 * Ask systemd to start the unit: Type=exec, KillMode=mixed, CollectMode=inactive-or-failed,
 * IgnoreSIGPIPE=no, stdio from params, no sandboxing.  Returns 0 and *ret_job (optional,
 * valid until cb runs or transient_cancel()), or -errno if the call could not even be
 * queued (then cb is never called).
 */
int transient_start(const struct transient_params *params, transient_cb cb, void *userdata,
		    struct transient_job **ret_job);

/* Forget a start whose callback has not run; the unit, if it starts, is left alone. */
void transient_cancel(struct transient_job *job);
