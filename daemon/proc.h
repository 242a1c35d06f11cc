/*
 * proc: supervised processes in network namespaces.
 *
 * Each process runs under its own netnsd-shim (see shim.c), which enters the namespace,
 * executes the payload, reaps it and records its exit status in the runtime directory
 * <rundir>/procs/<id>/.  This module starts the shims with uv_spawn(), follows them on the
 * loop (exit callbacks for shims it started, pidfds for shims it adopted after a restart of
 * netnsd), applies restart policies, and answers queries.  It knows nothing of JSON-RPC:
 * results are plain structs, notifications are callbacks.  Nothing here blocks the loop
 * beyond small file operations in the runtime directory.
 *
 * All functions must be called on the loop thread, between proc_init() and proc_exit().
 * Identifiers are the 16-hex-digit ids this module assigns; where an id is taken, the
 * user-given name is accepted as well.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

enum proc_state {
	PROC_STARTING, /* shim started, the payload not yet reported */
	PROC_RUNNING,  /* the payload runs */
	PROC_BACKOFF,  /* the payload ended; a restart is scheduled */
	PROC_EXITED,   /* terminal: the payload ended, exit status valid */
	PROC_FAILED,   /* terminal: could not start, or gave up restarting */
	PROC_LOST,     /* terminal: the shim vanished without a status; exit unknown */
};

enum proc_restart {
	PROC_RESTART_NO,
	PROC_RESTART_ON_FAILURE, /* after a non-zero exit, a signal or a failed restart */
	PROC_RESTART_ALWAYS,
};

enum proc_stdio_kind {
	PROC_STDIO_NULL, /* /dev/null */
	PROC_STDIO_LOG,	 /* append to a regular file (stdout/stderr only) */
	PROC_STDIO_FD,	 /* a descriptor the caller holds (e.g. received by SCM_RIGHTS) */
};

struct proc_stdio {
	enum proc_stdio_kind kind;
	/* LOG: the file, created 0640 if missing; NULL = <rundir>/procs/<id>/output.log
	 * (stdout and stderr then share it). */
	const char *path;
	/* FD: borrowed; proc_spawn() keeps a duplicate for restarts and closes it when the
	 * process is forgotten.  After a netnsd restart such fds are gone: restarts of adopted
	 * processes use /dev/null instead. */
	int fd;
};

struct proc_spawn_params {
	const char *name;	 /* optional; unique; [A-Za-z0-9_][A-Za-z0-9_.-]{0,63} */
	const char *netns;	 /* /run/netns/NAME; NULL = the host's namespaces */
	const char *const *argv; /* NULL-terminated, argv[0] non-empty; no shell involved */
	/* NULL-terminated "KEY=VALUE" list.  NULL: only the default environment
	 * (PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin).  Otherwise the
	 * exact environment, or, with env_merge, the default with these entries set over it. */
	const char *const *env;
	bool env_merge;
	const char *cwd;	    /* absolute; NULL = "/" */
	const char *user;	    /* name or number; NULL = root with netnsd's groups */
	const char *group;	    /* name or number; NULL = the user's primary group */
	struct proc_stdio stdio[3]; /* zero-initialised = all /dev/null */
	const int *extra_fds;	    /* borrowed; become the payload's fds 3, 4, ... */
	unsigned n_extra_fds;
	enum proc_restart restart;
	/* Log files (PROC_STDIO_LOG) are rotated by the shim before they grow beyond
	 * log_max_bytes, keeping log_files files (the current one and log_files - 1 rotated
	 * ones, PATH.1 the newest).  log_max_bytes 0: proc_config's; -1: no cap (the payload
	 * then writes into the file itself).  log_files 0: proc_config's. */
	int64_t log_max_bytes;
	unsigned log_files;
	/* The payload gets a session of its own with stdin as its controlling terminal (job
	 * control for an interactive shell); stdin must then be a terminal, else the start
	 * fails at stage "tty" with -ENOTTY. */
	bool tty;
	/* The record belongs to a client that will collect it (proc_collect() when it goes);
	 * kept in the runtime directory, so that a netnsd that adopts the process forgets it
	 * once it has ended, its client being gone by then.  Not with a restart policy. */
	bool ephemeral;
};

/*
 * A snapshot of one process.  Strings and argv are borrowed from the module: valid until
 * control returns to the loop, so copy what you keep.
 */
struct proc_info {
	const char *id;
	const char *name;  /* NULL if none */
	const char *netns; /* NULL = host */
	const char *const *argv;
	enum proc_state state;
	enum proc_restart restart;
	unsigned restarts; /* restarts performed so far */
	int pid;	   /* the payload (current or last run), 0 if never started */
	int shim_pid;	   /* 0 once the shim is gone */
	bool adopted;	   /* found by proc_adopt_all() rather than spawned */
	/* The last run's end; valid when has_exit_status (EXITED, BACKOFF, and FAILED after
	 * the restart limit). */
	bool has_exit_status;
	int exit_code;	 /* -1 if killed by a signal */
	int exit_signal; /* 0 if it exited */
	bool core_dumped;
	/* CLOCK_REALTIME; zero when not applicable. */
	struct timespec created;
	struct timespec start_time; /* the last run's */
	struct timespec exit_time;
	/* The last start failure ("netns", "mount", "sysfs", "etc", "user", "group", "cwd",
	 * "tty", "credentials", "fds", "exec", "fork", "spec", "runtime", "shim"), or
	 * "restart-limit" when restarts were given up; NULL if none.  error is its -errno
	 * (0 for "restart-limit"). */
	const char *error_stage;
	int error;
	const char *log_path;	/* the stdout log file, else the stderr one, else NULL */
	uint64_t log_max_bytes; /* 0: no cap */
	unsigned log_files;
	bool stopped; /* proc_stop() (or a kill during backoff) ended it for good */
	/* The transient systemd unit of the current or last run ("netnsd-proc-ID-RUN.service");
	 * NULL if that run was started directly (or, for an adopted process, not known). */
	const char *unit;
};

enum proc_event {
	PROC_EVENT_STARTED,    /* the payload executed (also after each restart) */
	PROC_EVENT_EXITED,     /* the payload ended (info carries the status; may be followed
				 * by RESTARTING) */
	PROC_EVENT_RESTARTING, /* a restart is scheduled */
	PROC_EVENT_FAILED,     /* a start failed, or the restart limit was hit */
	PROC_EVENT_LOST,       /* the shim vanished without recording a status */
	PROC_EVENT_ADOPTED,    /* found again by proc_adopt_all() */
	PROC_EVENT_REMOVED,    /* forgotten */
	PROC_EVENT_STOPPED,    /* a scheduled restart was cancelled by a stop: now terminal */
	_PROC_EVENT_MAX,
};

/* Called once: r > 0 is the payload's pid; r < 0 is -errno with info->error_stage set. */
typedef void (*proc_spawn_cb)(const struct proc_info *info, int r, void *userdata);
/* r == 0: the run ended (or the process already was in a terminal state); -ETIMEDOUT. */
typedef void (*proc_wait_cb)(const struct proc_info *info, int r, void *userdata);
typedef void (*proc_done_cb)(int r, void *userdata);
typedef void (*proc_event_cb)(enum proc_event event, const struct proc_info *info, void *userdata);

/*
 * Restarts back off from restart_base_ms (default 100), doubling up to restart_max_ms
 * (default 30000); at most restart_burst (default 5, max 64) restarts happen within
 * restart_interval_ms (default 10000), after that the process is FAILED ("restart-limit").
 * A run that lasted restart_interval_ms resets the backoff.
 */
struct proc_config {
	unsigned max_procs; /* records kept, running or not (default 1024) */
	unsigned restart_base_ms;
	unsigned restart_max_ms;
	unsigned restart_burst;
	unsigned restart_interval_ms;
	size_t log_read_max; /* bytes proc_logs() reads at most (default 1 MiB) */
	/* Defaults of proc_spawn_params' log_max_bytes (-1: no cap, the default here) and
	 * log_files (default 2, at most PROC_LOG_FILES_MAX). */
	int64_t log_max_bytes;
	unsigned log_files;
	/* The identity of the state this netnsd serves (state_identity()): written into
	 * every record, and records holding another one are never adopted.  NULL keeps. */
	const char *owner;
};

struct proc_waiter;

/*
 * Who forks the shims.  DIRECT: netnsd itself (posix_spawn()), so every shim and payload
 * inherits netnsd's own restrictions (capability bounding set, NoNewPrivileges, seccomp
 * filters of its unit).  SYSTEMD: PID 1, one transient service per run (see transient.h),
 * so the payload gets a fresh, unrestricted context; processes with extra fds still start
 * directly (a transient unit cannot take them).
 */
enum proc_launcher {
	PROC_LAUNCHER_DIRECT,
	PROC_LAUNCHER_SYSTEMD,
};

struct proc_launch_config {
	enum proc_launcher launcher;
	/* SYSTEMD only: when systemd cannot be asked (no bus), fail the start instead of
	 * switching to DIRECT for good. */
	bool strict;
	/* Called once when SYSTEMD falls back to DIRECT, with the -errno that caused it. */
	void (*fallback_cb)(int err, void *userdata);
	void *userdata;
};

struct proc_launch_stats {
	enum proc_launcher launcher; /* the one in use now */
	unsigned long systemd_runs;  /* shims started as transient units */
	unsigned long direct_runs;   /* shims started by posix_spawn() */
	int fallback_error;	     /* -errno of the fall-back to DIRECT, 0 if none */
};

/*
 * Start the module: creates <rundir>/procs (0700) if missing.  shim_path is the
 * netnsd-shim binary.  Does not look at existing entries: call proc_adopt_all() for that.
 * Returns 0 or -errno.
 */
int proc_init(uv_loop_t *loop, const char *rundir, const char *shim_path);

/*
 * Stop supervising, without touching the shims or their payloads: they keep running and a
 * later proc_adopt_all() (typically by the next netnsd) finds them.  Pending callbacks are
 * dropped without being called.  Memory is released by close callbacks, so run the loop
 * afterwards (as for any uv_close()).
 */
void proc_exit(void);

/* Fields left 0 keep their current value.  Affects later decisions only. */
void proc_configure(const struct proc_config *cfg);
/* The configuration in force (owner aside). */
const struct proc_config *proc_get_config(void);

/* The launcher for later runs (default DIRECT).  SYSTEMD needs transient_init() done. */
void proc_set_launcher(const struct proc_launch_config *cfg);
void proc_get_launch_stats(struct proc_launch_stats *ret);
/* "direct", "systemd". */
const char *proc_launcher_to_string(enum proc_launcher l);

/* One subscriber (the event bus); NULL to unsubscribe.  Called from loop callbacks, and
 * synchronously only from proc_forget() (REMOVED) and proc_adopt_all() (ADOPTED, and
 * EXITED/FAILED/LOST/RESTARTING for what ended meanwhile). */
void proc_set_event_cb(proc_event_cb cb, void *userdata);

/*
 * Start a process.  Parameters are validated and copied, the runtime directory and the
 * shim are set up, and *ret_id (borrowed, valid while the process is known) is set; the
 * outcome of the start arrives later through cb (optional).  Returns 0, or -EINVAL (bad
 * parameter), -EEXIST (name in use), -ENOSPC (max_procs records exist; forget some),
 * -EBADF (an fd is not open), or the -errno of opening a log file or spawning the shim;
 * on error nothing is left behind and cb is not called.
 */
int proc_spawn(const struct proc_spawn_params *params, proc_spawn_cb cb, void *userdata,
	       const char **ret_id);

/* Fill *ret with a snapshot; 0 or -ENOENT. */
int proc_get(const char *id, struct proc_info *ret);

/*
 * Call fn for every process (in creation order), or only for those in namespace netns
 * when it is non-NULL.  Stops when fn returns non-zero and returns that value; else 0.
 * fn must not forget processes.
 */
int proc_foreach(const char *netns, int (*fn)(const struct proc_info *info, void *userdata),
		 void *userdata);

/*
 * Send sig to the running payload through its pidfd, so a recycled pid is never hit.
 * Restart policy still applies to the resulting exit (see proc_stop()).  A process in
 * backoff has no payload to signal: SIGTERM, SIGKILL, SIGINT, SIGQUIT or SIGHUP then
 * cancel the pending restart as proc_stop() does, and 1 is returned.  Returns 0 (sent),
 * 1, -ENOENT, -ESRCH (not running, or in backoff for another signal), -EAGAIN (still
 * starting), -EINVAL.
 */
int proc_kill(const char *id, int sig);

/*
 * A new close-on-exec descriptor of the running payload's pidfd.  netnsd opened that pidfd
 * when the shim reported the start and kept it only if the process then had the pid and
 * the start time the shim reported, so it never refers to another process that took the
 * pid over.  Returns the descriptor, -ENOENT (unknown id) or -ESRCH (not running, or the
 * payload had ended and been reaped by its shim before netnsd could open it).
 */
int proc_pidfd(const char *id);

/*
 * Wait for the end of the current run of the payload (every run end, including one that a
 * restart follows; during a backoff, the next run's end), or for nothing if the process is
 * in a terminal state: cb then runs on the next loop iteration.  timeout_ms < 0 waits
 * without limit; on expiry cb gets -ETIMEDOUT.  cb is called exactly once unless the wait
 * is cancelled (do that when the waiting client goes away).  *ret_waiter (optional) is
 * valid until cb runs.  Returns 0 or -ENOENT, -EINVAL, -ENOMEM.
 */
int proc_wait(const char *id, int64_t timeout_ms, proc_wait_cb cb, void *userdata,
	      struct proc_waiter **ret_waiter);

/* Cancel a wait whose callback has not run yet; the callback will not be called. */
void proc_wait_cancel(struct proc_waiter *waiter);

/*
 * Stop a process for good: restarts are disabled (a scheduled one is cancelled, and the
 * mark is kept in the runtime directory so that a later netnsd does not restart it
 * either), the payload gets SIGTERM and, if still running after grace_ms, SIGKILL.  cb (optional) runs
 * once the process is in a terminal state, never from within this call.  0, -ENOENT or
 * -ENOMEM.
 */
int proc_stop(const char *id, unsigned grace_ms, proc_done_cb cb, void *userdata);

/*
 * proc_stop() for every process in namespace netns (for deleting it); cb (optional) runs
 * once all of them are terminal, with 0, never from within this call, and also when there
 * were none: whenever the return value is >= 0, cb runs exactly once, later.  Returns the
 * number of processes being stopped, or -EINVAL, -ENOMEM (then cb is never called).
 */
int proc_stop_netns(const char *netns, unsigned grace_ms, proc_done_cb cb, void *userdata);

#define PROC_LOG_FILES_MAX 100

/*
 * The last `tail` lines (0 = all that fit) of the stdout log (else the stderr log) and
 * the files it was rotated into (PATH.1 ... oldest first in the text), read with bounded
 * reads of at most log_read_max bytes in all from the end.
 * *ret_path and *ret_text (NUL-terminated, *ret_len bytes) are the caller's to free.
 * Returns 0, -ENOENT (unknown id), -ENODATA (no log file configured), or the -errno of
 * reading the file.
 */
int proc_logs(const char *id, unsigned tail, char **ret_path, char **ret_text, size_t *ret_len);

/*
 * Forget the process once it is in a terminal state: now (from the loop, not from within
 * this call) if it already is, else when it gets there, after its waiters have been
 * answered.  0 or -ENOENT.
 */
int proc_collect(const char *id);

/*
 * Forget a process in a terminal state: its runtime directory, including the default log
 * file, is removed.  Pending waits on it still complete.  0, -ENOENT, -EBUSY (not
 * terminal).
 */
int proc_forget(const char *id);

/*
 * After a netnsd restart: load every process found in the runtime directory.  A recorded
 * status is taken as is (restart policies then apply as after any exit); a live shim
 * (pidfd, identity checked by its start time) is watched until it exits; a vanished shim
 * without a status makes the process LOST.  Entries already known are skipped.  Returns
 * the number of processes adopted, or -errno if the directory cannot be read.
 */
int proc_adopt_all(void);

/*
 * The ids of the records proc_adopt_all() left alone because another state made them
 * (their "owner" is not ours; records without one predate the mark and are adopted).
 * Borrowed; valid until the next proc_adopt_all() or proc_exit().
 */
const char *const *proc_foreign(size_t *ret_n);

const char *proc_state_to_string(enum proc_state s);
const char *proc_restart_to_string(enum proc_restart r);
/* 0 and *ret set, or -EINVAL; accepts "no", "on-failure", "always". */
int proc_restart_from_string(const char *s, enum proc_restart *ret);
