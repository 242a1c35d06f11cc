/*
 * proc: the daemon side of process supervision (see proc.h for the contract, shim.c for
 * the helper and the runtime-directory format).
 *
 * Ownership: a struct proc is one supervised process (it survives restarts); a struct
 * proc_run is one shim lifetime and owns the libuv handles that follow that shim.  A run
 * outlives its proc's interest in it only until its handles are closed; a proc outlives
 * its place in the list while waiters hold references.  Both are freed from close
 * callbacks, as libuv requires.
 *
 * Nothing here waits: shims started in this run are reaped by libuv (uv_spawn exit
 * callback), shims inherited from a previous netnsd are watched through a pidfd, and the
 * payload itself is never our child (it is the shim's), so we only signal it via a pidfd
 * whose identity was checked against the start time the shim recorded.  A run ends when
 * the shim says "exit" on its sync pipe (it has written the status; what remains of the
 * shim's life is tearing down the mount namespace, which nobody needs to wait for) or,
 * failing that, when the shim itself is gone; either way the status file decides.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* normally defined by configure (AC_USE_SYSTEM_EXTENSIONS) */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "failpoint.h"
#include "proc.h"
#include "transient.h"
#include "util.h"

#define PROC_ID_LEN	 16
#define DEFAULT_ENV_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_BURST	 64
#define MAX_EXTRA_FDS	 64
#define STAGE_MAX	 24
#define SPEC_VERSION	 1

enum timer_mode {
	TIMER_NONE,
	TIMER_RESTART, /* backoff before the next run */
	TIMER_KILL,    /* the grace period of a stop ran out */
	TIMER_COLLECT, /* a collected process ended: forget it (outside the caller's stack) */
};

struct proc;

struct proc_run {
	struct proc *proc;	      /* NULL once the proc lost interest (exit, forget) */
	struct proc_run *prev, *next; /* in M.orphans while proc is NULL and it is open */
	uv_process_t process;	      /* a shim we spawned */
	uv_poll_t sync_poll;	      /* its sync pipe */
	uv_poll_t pidfd_poll;	      /* the shim's pidfd */
	struct transient_job *job;    /* a transient unit being started for it */
	bool has_process, has_sync, has_pidfd;
	int sync_fd;
	int shim_pidfd;
	pid_t pid; /* a shim we started (our child), to reap; 0 for an adopted one */
	char buf[256];
	size_t len;
	bool reported;	  /* the sync line was processed */
	bool finished;	  /* the shim's end was processed */
	bool detached;	  /* run_close() was called: free once handles == 0 */
	unsigned handles; /* initialised handles whose close callback is pending */
};

struct proc_waiter {
	struct proc_waiter *prev, *next;
	struct proc *proc;
	uv_timer_t timer;
	proc_wait_cb wait_cb;
	proc_done_cb done_cb;
	void *userdata;
	bool immediate; /* complete with 0 when the timer fires */
};

struct stop_group {
	struct stop_group *prev, *next;
	unsigned pending;
	proc_done_cb cb;
	void *userdata;
	uv_timer_t timer;
};

struct proc_stdio_cfg {
	enum proc_stdio_kind kind;
	char *path;
	int fd; /* FD: our duplicate, -1 when lost */
};

struct proc {
	struct proc *prev, *next;
	unsigned refs; /* the list's + one per waiter */
	bool removed;

	char id[PROC_ID_LEN + 1];
	char *name, *netns, **argv, **env, *cwd, *user, *group;
	enum proc_restart restart;
	bool tty;
	struct proc_stdio_cfg stdio[3];
	int *extra_fds;
	unsigned n_extra;
	char *dir;
	int dirfd;

	enum proc_state state;
	int pid;
	uint64_t starttime;
	int pidfd; /* the payload's, identity checked; -1 if none */
	int shim_pid;
	struct timespec created, start_time, exit_time;
	bool has_exit, core;
	int exit_code, exit_signal;
	uint64_t log_max_bytes; /* 0: no cap */
	unsigned log_files;
	char error_stage[STAGE_MAX];
	int error;
	bool ever_started, stopping, adopted;
	bool ephemeral; /* its record belongs to a client (kept in spec.json) */
	bool collect;	/* forget it once it is terminal */
	char unit[64];	/* the current or last run's transient unit, "" if started directly */

	unsigned restarts, backoff_step;
	uint64_t restart_ts[MAX_BURST]; /* ring of uv_now() of recent restarts */
	unsigned restart_ts_next;
	uint64_t run_started_ms; /* uv_now() at the current run's start, 0 if unknown */

	struct proc_run *run;
	uv_timer_t timer;
	enum timer_mode timer_mode;
	uint64_t kill_deadline;

	proc_spawn_cb spawn_cb;
	void *spawn_data;
	struct proc_waiter *waiters;
};

static struct {
	bool initialized;
	uv_loop_t *loop;
	char *procs_path;
	int procs_fd;
	int null_fd; /* /dev/null, shared by all stdio set to null */
	char *shim_path;
	struct proc *head, *tail;
	unsigned count;
	struct stop_group *groups;
	struct proc_run *orphans; /* runs of forgotten procs whose shim is still exiting */
	struct proc_config cfg;
	char owner[65]; /* the state identity written into each record; "" if none */
	char **foreign; /* ids of records another state made, left alone */
	size_t nforeign;
	proc_event_cb event_cb;
	void *event_data;
	struct proc_launch_config launch;
	struct proc_launch_stats launch_stats;
} M = { .procs_fd = -1, .null_fd = -1 };

static const struct proc_config default_config = {
	.max_procs = 1024,
	.restart_base_ms = 100,
	.restart_max_ms = 30000,
	.restart_burst = 5,
	.restart_interval_ms = 10000,
	.log_read_max = 1024 * 1024,
	.log_max_bytes = -1,
	.log_files = 2,
};

static const char *const state_names[] = {
	[PROC_STARTING] = "starting", [PROC_RUNNING] = "running", [PROC_BACKOFF] = "backoff",
	[PROC_EXITED] = "exited",     [PROC_FAILED] = "failed",	  [PROC_LOST] = "lost",
};

static const char *const restart_names[] = {
	[PROC_RESTART_NO] = "no",
	[PROC_RESTART_ON_FAILURE] = "on-failure",
	[PROC_RESTART_ALWAYS] = "always",
};

const char *proc_state_to_string(enum proc_state s)
{
	return (unsigned)s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

const char *proc_restart_to_string(enum proc_restart r)
{
	return (unsigned)r < ELEMENTSOF(restart_names) ? restart_names[r] : NULL;
}

int proc_restart_from_string(const char *s, enum proc_restart *ret)
{
	unsigned i;

	for (i = 0; s && i < ELEMENTSOF(restart_names); i++)
		if (strcmp(s, restart_names[i]) == 0) {
			*ret = (enum proc_restart)i;
			return 0;
		}
	return -EINVAL;
}

static bool is_terminal(enum proc_state s)
{
	return s == PROC_EXITED || s == PROC_FAILED || s == PROC_LOST;
}

/* ---- small helpers ---------------------------------------------------------------- */

/* Process names follow the namespace rule: safe in paths and on command lines. */
static bool valid_name(const char *s)
{
	return netns_name_valid(s);
}

static bool valid_id(const char *s)
{
	size_t i;

	for (i = 0; i < PROC_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[PROC_ID_LEN] == '\0';
}

static size_t strv_len(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_dup(const char *const *v)
{
	size_t i, n = strv_len(v);
	char **r = calloc(n + 1, sizeof(char *));

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		r[i] = strdup(v[i]);
		if (!r[i]) {
			strv_free(r);
			return NULL;
		}
	}
	return r;
}

static int strdup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static struct timespec now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* The value of "KEY=" in a key=value text, or NULL; copied to out. */
static const char *kv_get(const char *text, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t vl = strcspn(v, "\n");

			if (vl >= size)
				vl = size - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static bool kv_ll(const char *text, const char *key, long long *ret)
{
	char v[32], *end;

	if (!kv_get(text, key, v, sizeof(v)) || !*v)
		return false;
	errno = 0;
	*ret = strtoll(v, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool kv_u64(const char *text, const char *key, uint64_t *ret)
{
	char v[32], *end;

	if (!kv_get(text, key, v, sizeof(v)) || !*v)
		return false;
	errno = 0;
	*ret = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool parse_timespec(const char *s, struct timespec *ret)
{
	long long sec;
	long nsec = 0;

	if (!s || sscanf(s, "%lld.%ld", &sec, &nsec) < 1 || nsec < 0 || nsec >= 1000000000L)
		return false;
	ret->tv_sec = (time_t)sec;
	ret->tv_nsec = nsec;
	return true;
}

/*
 * A pidfd for PID if it is still the process that started at STARTTIME.  The pidfd is
 * opened first and the start time read after: if they match, the pidfd cannot refer to
 * a process that took over the pid later.
 */
static int pidfd_open_checked(int pid, uint64_t starttime)
{
	uint64_t st;
	int fd, r;

	if (pid <= 0)
		return -ESRCH;
	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return -errno;
	r = pid_starttime(pid, &st);
	if (r < 0 || st != starttime) {
		close(fd);
		return r < 0 ? r : -ESRCH;
	}
	return fd;
}

static struct proc *find(const char *id)
{
	struct proc *p;

	if (!id)
		return NULL;
	for (p = M.head; p; p = p->next)
		if (strcmp(p->id, id) == 0)
			return p;
	for (p = M.head; p; p = p->next)
		if (p->name && strcmp(p->name, id) == 0)
			return p;
	return NULL;
}

static const char *log_path_of(const struct proc *p)
{
	if (p->stdio[1].kind == PROC_STDIO_LOG)
		return p->stdio[1].path;
	if (p->stdio[2].kind == PROC_STDIO_LOG)
		return p->stdio[2].path;
	return NULL;
}

static void fill_info(const struct proc *p, struct proc_info *info)
{
	*info = (struct proc_info){
		.id = p->id,
		.name = p->name,
		.netns = p->netns,
		.argv = (const char *const *)p->argv,
		.state = p->state,
		.restart = p->restart,
		.restarts = p->restarts,
		.pid = p->pid,
		.shim_pid = p->shim_pid,
		.adopted = p->adopted,
		.has_exit_status = p->has_exit,
		.exit_code = p->has_exit ? p->exit_code : -1,
		.exit_signal = p->has_exit ? p->exit_signal : 0,
		.core_dumped = p->has_exit && p->core,
		.created = p->created,
		.start_time = p->start_time,
		.exit_time = p->exit_time,
		.error_stage = p->error_stage[0] ? p->error_stage : NULL,
		.error = p->error,
		.log_path = log_path_of(p),
		.log_max_bytes = p->log_max_bytes,
		.log_files = p->log_files,
		.stopped = p->stopping,
		.unit = p->unit[0] ? p->unit : NULL,
	};
}

static void emit(struct proc *p, enum proc_event ev)
{
	struct proc_info info;

	if (!M.event_cb)
		return;
	fill_info(p, &info);
	M.event_cb(ev, &info, M.event_data);
}

static void set_error(struct proc *p, const char *stage, int err)
{
	snprintf(p->error_stage, sizeof(p->error_stage), "%s", stage);
	p->error = err;
}

/* ---- object lifetime -------------------------------------------------------------- */

static void proc_free_cb(uv_handle_t *h)
{
	struct proc *p = container_of(h, struct proc, timer);
	unsigned i;

	free(p->name);
	free(p->netns);
	strv_free(p->argv);
	strv_free(p->env);
	free(p->cwd);
	free(p->user);
	free(p->group);
	for (i = 0; i < 3; i++)
		free(p->stdio[i].path);
	free(p->extra_fds);
	free(p->dir);
	free(p);
}

static void proc_unref(struct proc *p)
{
	if (--p->refs == 0)
		uv_close((uv_handle_t *)&p->timer, proc_free_cb);
}

/* Release the kernel resources a proc holds; the memory goes with the last reference. */
static void proc_release_fds(struct proc *p)
{
	unsigned i;

	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	for (i = 0; i < 3; i++) {
		if (p->stdio[i].fd >= 0)
			close(p->stdio[i].fd);
		p->stdio[i].fd = -1;
	}
	for (i = 0; i < p->n_extra; i++)
		if (p->extra_fds[i] >= 0)
			close(p->extra_fds[i]);
	p->n_extra = 0;
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->dirfd = -1;
}

static struct proc *proc_alloc(void)
{
	struct proc *p = calloc(1, sizeof(*p));
	unsigned i;

	if (!p)
		return NULL;
	p->refs = 1;
	p->dirfd = -1;
	p->pidfd = -1;
	for (i = 0; i < 3; i++)
		p->stdio[i].fd = -1;
	uv_timer_init(M.loop, &p->timer);
	return p;
}

static void proc_link(struct proc *p)
{
	p->prev = M.tail;
	if (M.tail)
		M.tail->next = p;
	else
		M.head = p;
	M.tail = p;
	M.count++;
}

static void proc_unlink(struct proc *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		M.head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		M.tail = p->prev;
	p->prev = p->next = NULL;
	M.count--;
}

static void orphan_unlink(struct proc_run *run)
{
	if (run->prev)
		run->prev->next = run->next;
	else if (M.orphans == run)
		M.orphans = run->next;
	if (run->next)
		run->next->prev = run->prev;
	run->prev = run->next = NULL;
}

/* Keep reaping a shim nobody is interested in any more; proc_exit() closes it. */
static void orphan_link(struct proc_run *run)
{
	run->proc = NULL;
	run->prev = NULL;
	run->next = M.orphans;
	if (M.orphans)
		M.orphans->prev = run;
	M.orphans = run;
}

static void run_maybe_free(struct proc_run *run)
{
	if (!run->detached || run->handles > 0)
		return;
	if (run->sync_fd >= 0)
		close(run->sync_fd);
	if (run->shim_pidfd >= 0)
		close(run->shim_pidfd);
	free(run);
}

static void run_handle_closed(uv_handle_t *h)
{
	struct proc_run *run = h->data;

	run->handles--;
	run_maybe_free(run);
}

static void run_close_sync(struct proc_run *run)
{
	if (!run->has_sync)
		return;
	run->has_sync = false;
	uv_close((uv_handle_t *)&run->sync_poll, run_handle_closed);
}

/* Detach a run and close its handles; it frees itself.  Never kills the shim. */
static void run_close(struct proc_run *run)
{
	orphan_unlink(run);
	run->proc = NULL;
	run->detached = true;
	if (run->job) {
		/* The unit, if it starts, is found again by its shim.pid (as after a restart). */
		transient_cancel(run->job);
		run->job = NULL;
	}
	run_close_sync(run);
	if (run->has_pidfd) {
		run->has_pidfd = false;
		uv_close((uv_handle_t *)&run->pidfd_poll, run_handle_closed);
	}
	if (run->has_process) {
		run->has_process = false;
		uv_close((uv_handle_t *)&run->process, run_handle_closed);
	}
	run_maybe_free(run);
}

static struct proc_run *run_alloc(struct proc *p)
{
	struct proc_run *run = calloc(1, sizeof(*run));

	if (!run)
		return NULL;
	run->proc = p;
	run->sync_fd = -1;
	run->shim_pidfd = -1;
	run->process.data = run;
	run->sync_poll.data = run;
	run->pidfd_poll.data = run;
	return run;
}

/* ---- waiters ---------------------------------------------------------------------- */

static void waiter_free_cb(uv_handle_t *h)
{
	free(container_of(h, struct proc_waiter, timer));
}

static void waiter_unlink(struct proc_waiter *w)
{
	struct proc *p = w->proc;

	if (w->prev)
		w->prev->next = w->next;
	else
		p->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

/* Unlinked already; drop it (and its reference) without calling anything. */
static void waiter_destroy(struct proc_waiter *w)
{
	struct proc *p = w->proc;

	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, waiter_free_cb);
	proc_unref(p);
}

static void waiter_fire(struct proc_waiter *w, int r)
{
	struct proc *p = w->proc;
	struct proc_info info;

	waiter_unlink(w);
	fill_info(p, &info);
	if (w->wait_cb)
		w->wait_cb(&info, r, w->userdata);
	else if (w->done_cb)
		w->done_cb(r, w->userdata);
	waiter_destroy(w);
}

static void on_timer(uv_timer_t *t);

/* A collected process that has ended is forgotten, from the loop, after its waiters. */
static void maybe_collect(struct proc *p)
{
	if (!p->collect || p->removed || !is_terminal(p->state) || p->timer_mode != TIMER_NONE)
		return;
	p->timer_mode = TIMER_COLLECT;
	uv_timer_start(&p->timer, on_timer, 0, 0);
}

static void fire_waiters(struct proc *p, int r)
{
	struct proc_waiter *w, *next;

	/* Take the list first: callbacks may add waiters, which wait for the next run. */
	w = p->waiters;
	p->waiters = NULL;
	for (; w; w = next) {
		struct proc_info info;

		next = w->next;
		w->prev = w->next = NULL;
		fill_info(p, &info);
		if (w->wait_cb)
			w->wait_cb(&info, r, w->userdata);
		else if (w->done_cb)
			w->done_cb(r, w->userdata);
		waiter_destroy(w);
	}
	maybe_collect(p);
}

static void waiter_timer_cb(uv_timer_t *t)
{
	struct proc_waiter *w = container_of(t, struct proc_waiter, timer);

	waiter_fire(w, w->immediate ? 0 : -ETIMEDOUT);
}

/* Complete every waiter on the next loop iteration rather than from the current call. */
static void defer_waiters(struct proc *p)
{
	struct proc_waiter *w;

	for (w = p->waiters; w; w = w->next) {
		w->immediate = true;
		uv_timer_start(&w->timer, waiter_timer_cb, 0, 0);
	}
}

static int waiter_add(struct proc *p, int64_t timeout_ms, proc_wait_cb wait_cb,
		      proc_done_cb done_cb, void *userdata, struct proc_waiter **ret)
{
	struct proc_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->proc = p;
	w->wait_cb = wait_cb;
	w->done_cb = done_cb;
	w->userdata = userdata;
	uv_timer_init(M.loop, &w->timer);
	w->next = p->waiters;
	if (p->waiters)
		p->waiters->prev = w;
	p->waiters = w;
	p->refs++;
	if (is_terminal(p->state)) {
		w->immediate = true;
		uv_timer_start(&w->timer, waiter_timer_cb, 0, 0);
	} else if (timeout_ms >= 0) {
		uv_timer_start(&w->timer, waiter_timer_cb, (uint64_t)timeout_ms, 0);
	}
	if (ret)
		*ret = w;
	return 0;
}

/* ---- runtime directory ------------------------------------------------------------ */

static json_t *strv_to_json(char **v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * spec.json: the shim's instructions (see shim.c) plus what netnsd needs to rebuild the
 * record after a restart of its own: id, name, restart policy and count, creation time,
 * stdio.
 */
static int spec_write(struct proc *p)
{
	static const char *const kinds[] = { "null", "log", "fd" };
	_cleanup_(json_decrefp) json_t *spec = NULL;
	_cleanup_(freep) char *text = NULL;
	json_t *stdio;
	unsigned i;

	stdio = json_array();
	for (i = 0; stdio && i < 3; i++) {
		json_t *s = json_pack("{s:s}", "kind", kinds[p->stdio[i].kind]);

		if (s && p->stdio[i].path)
			json_object_set_new(s, "path", json_string(p->stdio[i].path));
		json_array_append_new(stdio, s);
	}
	spec = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:i, s:s, s:i, "
			 "s:[I,I], s:o}",
			 "version", SPEC_VERSION, "id", p->id, "name", str_or_null(p->name),
			 "netns", str_or_null(p->netns), "argv", strv_to_json(p->argv), "env",
			 strv_to_json(p->env), "cwd", p->cwd ? p->cwd : "/", "user",
			 str_or_null(p->user), "group", str_or_null(p->group), "fds",
			 (int)p->n_extra, "restart", restart_names[p->restart], "restarts",
			 (int)p->restarts, "created", (json_int_t)p->created.tv_sec,
			 (json_int_t)p->created.tv_nsec, "stdio", stdio);
	if (!spec)
		return -ENOMEM;
	if (p->tty && json_object_set_new(spec, "tty", json_true()) < 0)
		return -ENOMEM;
	if (p->ephemeral && json_object_set_new(spec, "ephemeral", json_true()) < 0)
		return -ENOMEM;
	if (M.owner[0] && json_object_set_new(spec, "owner", json_string(M.owner)) < 0)
		return -ENOMEM;
	/* Log files the shim copies into and rotates (see shim.c). */
	if (p->log_max_bytes &&
	    (p->stdio[1].kind == PROC_STDIO_LOG || p->stdio[2].kind == PROC_STDIO_LOG)) {
		json_t *log = json_pack(
		    "{s:I,s:i,s:o,s:o}", "max_bytes", (json_int_t)p->log_max_bytes, "files",
		    (int)p->log_files, "stdout",
		    str_or_null(p->stdio[1].kind == PROC_STDIO_LOG ? p->stdio[1].path : NULL),
		    "stderr",
		    str_or_null(p->stdio[2].kind == PROC_STDIO_LOG ? p->stdio[2].path : NULL));

		if (!log || json_object_set_new(spec, "log", log) < 0)
			return -ENOMEM;
	}
	/* A stop survives a restart of netnsd: the adopted record must not restart. */
	if (p->stopping && json_object_set_new(spec, "stopped", json_true()) < 0)
		return -ENOMEM;
	text = json_dumps(spec, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	return write_at_atomic(p->dirfd, "spec.json", text, 0600);
}

struct status {
	enum { STATUS_NONE, STATUS_EXITED, STATUS_SIGNALED, STATUS_FAILED } kind;
	int code, sig, err;
	bool core;
	char stage[STAGE_MAX];
	struct timespec exit_time;
};

static void read_status(struct proc *p, struct status *st)
{
	char buf[512], v[64];
	long long n;

	memset(st, 0, sizeof(*st));
	FAILPOINT(PROC_STATUS);
	if (p->dirfd < 0 || read_at(p->dirfd, "status", buf, sizeof(buf)) <= 0)
		return;
	if (!kv_get(buf, "result", v, sizeof(v)))
		return;
	if (strcmp(v, "exited") == 0 && kv_ll(buf, "code", &n)) {
		st->kind = STATUS_EXITED;
		st->code = (int)n;
	} else if (strcmp(v, "signaled") == 0 && kv_ll(buf, "signal", &n)) {
		st->kind = STATUS_SIGNALED;
		st->sig = (int)n;
		st->core = kv_ll(buf, "core", &n) && n;
	} else if (strcmp(v, "failed") == 0) {
		st->kind = STATUS_FAILED;
		if (!kv_get(buf, "stage", st->stage, sizeof(st->stage)))
			snprintf(st->stage, sizeof(st->stage), "shim");
		st->err = kv_ll(buf, "errno", &n) && n > 0 ? (int)-n : -EIO;
	}
	if (!parse_timespec(kv_get(buf, "exit_time", v, sizeof(v)), &st->exit_time))
		st->exit_time = now_realtime();
}

/* The payload's identity as the shim recorded it; false if there is none yet. */
static bool read_pid_file(struct proc *p)
{
	char buf[256], v[64];
	long long pid;
	uint64_t st;

	if (p->dirfd < 0 || read_at(p->dirfd, "pid", buf, sizeof(buf)) <= 0)
		return false;
	if (!kv_ll(buf, "pid", &pid) || pid <= 0 || pid > INT_MAX || !kv_u64(buf, "starttime", &st))
		return false;
	p->pid = (int)pid;
	p->starttime = st;
	if (!parse_timespec(kv_get(buf, "start_time", v, sizeof(v)), &p->start_time))
		p->start_time = (struct timespec){ 0 };
	return true;
}

static void remove_dir(struct proc *p)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if (p->dirfd < 0)
		return;
	fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		d = fdopendir(fd);
		if (!d) {
			close(fd);
		} else {
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
					unlinkat(p->dirfd, de->d_name, 0);
			closedir(d);
		}
	}
	unlinkat(M.procs_fd, p->id, AT_REMOVEDIR);
}

static int open_log(const char *path)
{
	struct stat st;
	int fd, fl;

	/* O_NONBLOCK so that a FIFO can never block the loop; it is refused just after. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* The fd for the shim's stdio slot i: *owned says whether the caller must close it. */
static int open_stdio(struct proc *p, unsigned i, bool *owned)
{
	int fd;

	*owned = true;
	switch (p->stdio[i].kind) {
	case PROC_STDIO_LOG:
		return open_log(p->stdio[i].path);
	case PROC_STDIO_FD:
		if (p->stdio[i].fd >= 0) {
			*owned = false;
			return p->stdio[i].fd;
		}
		/* Lost with the previous netnsd: fall through to /dev/null. */
		/* fall through */
	case PROC_STDIO_NULL:
	default:
		if (M.null_fd >= 0) {
			*owned = false;
			return M.null_fd;
		}
		fd = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -errno : fd;
	}
}

/* ---- running shims ---------------------------------------------------------------- */

static void run_finish(struct proc_run *run);
static void run_ended(struct proc *p, bool started);
static void on_timer(uv_timer_t *t);

static void fire_spawn_cb(struct proc *p, int r)
{
	proc_spawn_cb cb = p->spawn_cb;
	struct proc_info info;

	if (!cb)
		return;
	p->spawn_cb = NULL;
	fill_info(p, &info);
	cb(&info, r, p->spawn_data);
}

static int signal_payload(struct proc *p, int sig)
{
	if (p->pidfd < 0)
		return -ESRCH;
	if (pidfd_send_signal(p->pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

/*
 * The last resort of a stop: SIGKILL to the payload; if there still is none after the
 * grace period and 5 s more (a shim stuck before reporting), to the shim.  A running
 * payload's shim is never killed: it holds the exit status.
 */
static void stop_kill(struct proc *p)
{
	struct proc_run *run = p->run;

	if (p->state == PROC_RUNNING) {
		signal_payload(p, SIGKILL);
		return;
	}
	if (p->state != PROC_STARTING || !run)
		return;
	if (run->has_process)
		uv_process_kill(&run->process, SIGKILL);
	else if (run->shim_pidfd >= 0)
		pidfd_send_signal(run->shim_pidfd, SIGKILL, NULL, 0);
}

static void handle_report(struct proc_run *run, const char *line)
{
	struct proc *p = run->proc;
	char stage[STAGE_MAX];
	long long sec;
	long nsec;
	int pid, err;
	uint64_t st;

	run->reported = true;
	if (!p)
		return;
	if (sscanf(line, "ok %d %" SCNu64 " %lld %ld", &pid, &st, &sec, &nsec) == 4 && pid > 0) {
		p->pid = pid;
		p->starttime = st;
		p->start_time = (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = nsec };
		p->state = PROC_RUNNING;
		p->ever_started = true;
		p->has_exit = false;
		p->error_stage[0] = '\0';
		p->error = 0;
		if (p->pidfd >= 0)
			close(p->pidfd);
		/* Fails only if the payload is already gone, which its status will tell. */
		p->pidfd = pidfd_open_checked(pid, st);
		if (p->stopping) {
			if (p->timer_mode == TIMER_KILL && p->kill_deadline <= uv_now(M.loop))
				signal_payload(p, SIGKILL);
			else
				signal_payload(p, SIGTERM);
		}
		fire_spawn_cb(p, pid);
		emit(p, PROC_EVENT_STARTED);
	} else if (sscanf(line, "err %23s %d", stage, &err) == 2 && err > 0) {
		set_error(p, stage, -err);
		/* A first start that failed is final (see run_ended()); say so at once.  The
		 * shim is exiting; its end is still processed. */
		if (!p->ever_started)
			p->state = PROC_FAILED;
		fire_spawn_cb(p, -err);
	}
}

/*
 * "exit" after "ok": the payload ended and the shim only has its own exit left (mount
 * namespace teardown).  Settle the run now; the shim is still reaped, unattached.
 */
static void handle_exit_hint(struct proc_run *run)
{
	struct proc *p = run->proc;

	if (!p || p->state != PROC_RUNNING)
		return;
	orphan_link(run);
	p->run = NULL;
	p->shim_pid = 0;
	run_ended(p, true);
}

/* Read what the shim wrote on the sync pipe; at EOF stop watching it. */
static void sync_drain(struct proc_run *run)
{
	for (;;) {
		ssize_t n;
		char *nl;

		if (run->len >= sizeof(run->buf) - 1)
			goto eof; /* no line fits: protocol error, treat as silence */
		n = read(run->sync_fd, run->buf + run->len, sizeof(run->buf) - 1 - run->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			goto eof;
		}
		if (n == 0)
			goto eof;
		run->len += (size_t)n;
		run->buf[run->len] = '\0';
		while ((nl = strchr(run->buf, '\n'))) {
			size_t used = (size_t)(nl - run->buf) + 1;

			*nl = '\0';
			if (!run->reported) {
				handle_report(run, run->buf);
			} else if (strcmp(run->buf, "exit") == 0) {
				/* The last line; callbacks may have run, so stop here. */
				run_close_sync(run);
				handle_exit_hint(run);
				return;
			}
			memmove(run->buf, run->buf + used, run->len - used + 1);
			run->len -= used;
		}
	}
eof:
	run_close_sync(run);
}

static void on_sync(uv_poll_t *h, int status, int events)
{
	struct proc_run *run = h->data;

	(void)status;
	(void)events;
	sync_drain(run);
}

static void on_shim_pidfd(uv_poll_t *h, int status, int events)
{
	struct proc_run *run = h->data;
	siginfo_t si;

	(void)status;
	(void)events;
	/*
	 * A pidfd becomes readable when its process has exited.  Reap it when
	 * it is our child (started in this run; an adopted one is not).
	 */
	if (run->pid > 0)
		waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG);
	run_finish(run);
}

static void run_finish(struct proc_run *run)
{
	struct proc *p;
	bool started;

	if (run->finished)
		return;
	run->finished = true;
	/* The shim is gone, so whatever it wrote is in the pipe now (which may settle the
	 * run and detach it). */
	if (run->has_sync)
		sync_drain(run);
	p = run->proc;
	run_close(run);
	if (!p)
		return;
	p->run = NULL;
	p->shim_pid = 0;
	started = p->state == PROC_RUNNING;
	if (p->state == PROC_FAILED) {
		/* Settled when the failure was reported; only the waiters are left. */
		if (p->timer_mode == TIMER_KILL) {
			uv_timer_stop(&p->timer);
			p->timer_mode = TIMER_NONE;
		}
		p->exit_time = now_realtime();
		emit(p, PROC_EVENT_FAILED);
		fire_waiters(p, 0);
		return;
	}
	run_ended(p, started);
}

/* Follow the shim through its pidfd (taken over) until it exits; 0 or -errno. */
static int follow_shim(struct proc_run *run, int pidfd)
{
	int r;

	run->shim_pidfd = pidfd;
	r = uv_poll_init(M.loop, &run->pidfd_poll, pidfd);
	if (r < 0)
		return r;
	run->has_pidfd = true;
	run->handles++;
	return uv_poll_start(&run->pidfd_poll, UV_READABLE, on_shim_pidfd);
}

/*
 * Start the shim with posix_spawn(), which glibc implements with
 * clone(CLONE_VM|CLONE_VFORK): no copy of netnsd's page tables, about half
 * a millisecond less per process than a fork (uv_spawn).  The shim's fds
 * 0-2 are the payload's stdio, 3 the sync pipe, 4.. the extra fds; it gets
 * a session of its own and default signal state.  Its end is watched through
 * a pidfd, as for adopted shims, and on_shim_pidfd() reaps it.
 */
static int spawn_shim(struct proc_run *run, const int stdio_fds[3], int sync_fd, struct proc *p,
		      char **args, char **env)
{
	int src[4 + MAX_EXTRA_FDS], hi[4 + MAX_EXTRA_FDS];
	unsigned n = 4 + p->n_extra, i;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int r = 0, pidfd;

	for (i = 0; i < 3; i++)
		src[i] = stdio_fds[i];
	src[3] = sync_fd;
	for (i = 0; i < p->n_extra; i++)
		src[4 + i] = p->extra_fds[i];
	/* Copies above every target first, so no dup2() overwrites a source not yet placed. */
	for (i = 0; i < n; i++)
		hi[i] = -1;
	for (i = 0; i < n && r == 0; i++) {
		hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, (int)n + 3);
		if (hi[i] < 0)
			r = -errno;
	}
	if (r == 0) {
		posix_spawn_file_actions_init(&fa);
		posix_spawnattr_init(&attr);
		sigemptyset(&none);
		sigfillset(&all);
		sigdelset(&all, SIGKILL);
		sigdelset(&all, SIGSTOP);
		for (i = 0; i < n; i++)
			posix_spawn_file_actions_adddup2(&fa, hi[i], (int)i);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
		/* setsid(): the shim must not share netnsd's session or process group. */
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
						    POSIX_SPAWN_SETSIGDEF);
		FAILPOINT(PROC_SPAWN);
		r = -posix_spawn(&pid, M.shim_path, &fa, &attr, args, env);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
	}
	for (i = 0; i < n; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	if (r < 0)
		return r;
	run->pid = pid;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	return follow_shim(run, pidfd);
}

/* The shim's identity for a later netnsd; the shim writes it too, but only once it runs. */
static void write_shim_pid(struct proc *p, int pid)
{
	uint64_t st;
	char text[64];

	if (pid_starttime(pid, &st) == 0) {
		snprintf(text, sizeof(text), "pid=%d\nstarttime=%" PRIu64 "\n", pid, st);
		(void)write_at_atomic(p->dirfd, "shim.pid", text, 0600);
	}
}

/*
 * The transient unit's start is settled: follow its shim, or, if there is none (any
 * more), let the status file and the sync channel decide as for any ended shim.
 */
static void on_transient(int r, int pidfd, const char *message, void *userdata)
{
	struct proc_run *run = userdata;
	struct proc *p = run->proc;
	char buf[256];
	long long pid;
	uint64_t st;

	(void)message;
	run->job = NULL;
	if (!p) {
		/* Nobody is interested any more (the run ended through its sync channel). */
		if (pidfd >= 0)
			close(pidfd);
		run_close(run);
		return;
	}
	if (r < 0 && read_at(p->dirfd, "shim.pid", buf, sizeof(buf)) > 0 &&
	    kv_ll(buf, "pid", &pid) && pid > 0 && pid <= INT_MAX && kv_u64(buf, "starttime", &st)) {
		/* The bus failed us, but the shim did start and said who it is. */
		pidfd = pidfd_open_checked((int)pid, st);
		if (pidfd >= 0)
			r = (int)pid;
	}
	if (r > 0) {
		FAILPOINT(PROC_TRANSIENT_STARTED);
		p->shim_pid = r;
		write_shim_pid(p, r);
		/* Should following fail, the shim's "exit" line still ends the run. */
		(void)follow_shim(run, pidfd);
		return;
	}
	if (r < 0)
		set_error(p, "systemd", r);
	run_finish(run);
}

/*
 * Ask systemd to start the shim as unit netnsd-proc-ID-RUN.service, forked by PID 1 with
 * none of netnsd's restrictions.  Its sync channel is the FIFO PROCDIR/sync (a unit gets
 * no inherited pipe); stdio go with the call.  0 or -errno, with nothing left behind.
 */
static int launch_transient(struct proc *p, struct proc_run *run, const int fds[3])
{
	const char *argv[3] = { M.shim_path, p->dir, NULL };
	char desc[256];
	int fd, r;

	if (mkfifoat(p->dirfd, "sync", 0600) < 0)
		return -errno;
	fd = openat(p->dirfd, "sync", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		unlinkat(p->dirfd, "sync", 0);
		return r;
	}
	snprintf(p->unit, sizeof(p->unit), "netnsd-proc-%s-%u.service", p->id, p->restarts);
	snprintf(desc, sizeof(desc), "netnsd process %s: %s in %s%s", p->name ? p->name : p->id,
		 p->argv[0], p->netns ? "namespace " : "the host namespace",
		 p->netns ? p->netns : "");
	FAILPOINT(PROC_TRANSIENT_START);
	r = transient_start(&(struct transient_params){ .unit = p->unit,
							.description = desc,
							.argv = argv,
							.stdio = { fds[0], fds[1], fds[2] } },
			    on_transient, run, &run->job);
	if (r < 0) {
		p->unit[0] = '\0';
		close(fd);
		unlinkat(p->dirfd, "sync", 0);
		return r;
	}
	run->sync_fd = fd;
	return 0;
}

/* The shim as netnsd's own child (see spawn_shim()); its sync channel is a pipe. */
static int launch_direct(struct proc *p, struct proc_run *run, const int fds[3])
{
	int pipefds[2] = { -1, -1 }, r;
	char *args[3], *env[1] = { NULL };

	r = uv_pipe(pipefds, UV_NONBLOCK_PIPE, 0);
	if (r < 0)
		return r;
	args[0] = M.shim_path;
	args[1] = p->dir;
	args[2] = NULL;
	r = spawn_shim(run, fds, pipefds[1], p, args, env);
	close(pipefds[1]);
	if (r < 0) {
		close(pipefds[0]);
		return r;
	}
	run->sync_fd = pipefds[0];
	p->shim_pid = run->pid;
	FAILPOINT(PROC_SPAWNED);
	/* The shim records itself too, but only after its exec and startup: a netnsd crash in
	 * between would leave a running shim that the next netnsd cannot find.  Our child is
	 * not reaped before we return to the loop, so its pid is stable here. */
	write_shim_pid(p, p->shim_pid);
	return 0;
}

/* Systemd could not be asked: start directly from now on, and say so once. */
static void launch_fall_back(int err)
{
	M.launch.launcher = PROC_LAUNCHER_DIRECT;
	M.launch_stats.launcher = PROC_LAUNCHER_DIRECT;
	M.launch_stats.fallback_error = err;
	if (M.launch.fallback_cb)
		M.launch.fallback_cb(err, M.launch.userdata);
}

/* Spawn a shim for p's next run.  0, or -errno with nothing left running. */
static int run_spawn(struct proc *p)
{
	int fds[3] = { -1, -1, -1 };
	bool owned[3] = { false, false, false };
	struct proc_run *run = NULL;
	unsigned i;
	int r;

	if (p->restarts > 0 || p->adopted) {
		/* The previous run's files must not be mistaken for this run's. */
		unlinkat(p->dirfd, "status", 0);
		unlinkat(p->dirfd, "pid", 0);
		unlinkat(p->dirfd, "shim.pid", 0);
	}
	unlinkat(p->dirfd, "sync", 0);
	p->unit[0] = '\0';
	p->shim_pid = 0;
	r = spec_write(p);
	if (r < 0)
		goto out;
	for (i = 0; i < 3; i++) {
		fds[i] = open_stdio(p, i, &owned[i]);
		if (fds[i] < 0) {
			r = fds[i];
			goto out;
		}
	}
	run = run_alloc(p);
	if (!run) {
		r = -ENOMEM;
		goto out;
	}
	/* Extra fds cannot be handed to a transient unit: such processes start directly. */
	r = -EAGAIN;
	if (M.launch.launcher == PROC_LAUNCHER_SYSTEMD && p->n_extra == 0) {
		r = launch_transient(p, run, fds);
		if (r == 0)
			M.launch_stats.systemd_runs++;
		else if (M.launch.strict)
			goto out;
		else
			launch_fall_back(r);
	}
	if (r < 0) {
		r = launch_direct(p, run, fds);
		if (r < 0)
			goto out;
		M.launch_stats.direct_runs++;
	}

	r = uv_poll_init(M.loop, &run->sync_poll, run->sync_fd);
	if (r == 0) {
		run->has_sync = true;
		run->handles++;
		r = uv_poll_start(&run->sync_poll, UV_READABLE, on_sync);
	}
	if (r < 0) {
		/* Degraded, not failed (the shim runs): without the sync pipe the run stays
		 * STARTING until the shim exits, and then the status file decides. */
		run_close_sync(run);
		r = 0;
	}
	p->run = run;
	run = NULL;
	p->state = PROC_STARTING;
	p->run_started_ms = uv_now(M.loop);
out:
	if (run)
		run_close(run);
	for (i = 0; i < 3; i++)
		if (owned[i] && fds[i] >= 0)
			close(fds[i]);
	return r;
}

static unsigned recent_restarts(struct proc *p, uint64_t now)
{
	unsigned i, n = 0;
	unsigned burst = M.cfg.restart_burst > MAX_BURST ? MAX_BURST : M.cfg.restart_burst;

	for (i = 0; i < burst; i++) {
		uint64_t t = p->restart_ts[(p->restart_ts_next + MAX_BURST - 1 - i) % MAX_BURST];

		if (t && now - t < M.cfg.restart_interval_ms)
			n++;
	}
	return n;
}

/* After a run ended (or a restart could not even spawn): restart it, or settle. */
/*
 * The process is over for good: let go of the caller's descriptors, so the
 * reader of a passed pipe sees its end now, not when the record is deleted.
 */
static void close_passed_fds(struct proc *p)
{
	for (unsigned i = 0; i < 3; i++) {
		if (p->stdio[i].fd >= 0)
			close(p->stdio[i].fd);
		p->stdio[i].fd = -1;
	}
	for (unsigned i = 0; i < p->n_extra; i++)
		if (p->extra_fds[i] >= 0)
			close(p->extra_fds[i]);
	p->n_extra = 0;
}

static void decide_restart(struct proc *p, bool failure, enum proc_state settle)
{
	uint64_t now = uv_now(M.loop), delay;
	unsigned burst = M.cfg.restart_burst > MAX_BURST ? MAX_BURST : M.cfg.restart_burst;
	bool want = !p->stopping && (p->restart == PROC_RESTART_ALWAYS ||
				     (p->restart == PROC_RESTART_ON_FAILURE && failure));

	if (!want) {
		p->state = settle;
		close_passed_fds(p);
		return;
	}
	/* A run that lasted a whole rate-limit window was a success: start over small. */
	if (p->run_started_ms && now - p->run_started_ms >= M.cfg.restart_interval_ms)
		p->backoff_step = 0;
	if (recent_restarts(p, now) >= burst) {
		p->state = PROC_FAILED;
		close_passed_fds(p);
		set_error(p, "restart-limit", 0);
		emit(p, PROC_EVENT_FAILED);
		return;
	}
	delay = M.cfg.restart_base_ms;
	for (unsigned i = 0; i < p->backoff_step && delay < M.cfg.restart_max_ms; i++)
		delay *= 2;
	if (delay > M.cfg.restart_max_ms)
		delay = M.cfg.restart_max_ms;
	p->backoff_step++;
	p->state = PROC_BACKOFF;
	p->timer_mode = TIMER_RESTART;
	uv_timer_start(&p->timer, on_timer, delay, 0);
	emit(p, PROC_EVENT_RESTARTING);
}

static void run_ended(struct proc *p, bool started)
{
	struct status st;

	read_status(p, &st);
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	if (p->timer_mode == TIMER_KILL) {
		uv_timer_stop(&p->timer);
		p->timer_mode = TIMER_NONE;
	}

	if (st.kind == STATUS_EXITED || st.kind == STATUS_SIGNALED) {
		if (!started && read_pid_file(p))
			p->ever_started = true;
		p->has_exit = true;
		p->exit_code = st.kind == STATUS_EXITED ? st.code : -1;
		p->exit_signal = st.kind == STATUS_SIGNALED ? st.sig : 0;
		p->core = st.core;
		p->exit_time = st.exit_time;
		p->state = PROC_EXITED;
		emit(p, PROC_EVENT_EXITED);
		decide_restart(p, st.kind == STATUS_SIGNALED || st.code != 0, PROC_EXITED);
	} else if (st.kind == STATUS_FAILED || !started) {
		bool first = !p->ever_started;

		if (st.kind == STATUS_FAILED)
			set_error(p, st.stage, st.err);
		else if (!p->error_stage[0])
			set_error(p, "shim", -EPROTO); /* it died before saying anything */
		p->exit_time = st.kind == STATUS_FAILED ? st.exit_time : now_realtime();
		p->state = PROC_FAILED;
		fire_spawn_cb(p, p->error);
		emit(p, PROC_EVENT_FAILED);
		/* A first start that failed is final: the caller has the error.  A restart
		 * that failed is one more failure for the policy. */
		if (!first)
			decide_restart(p, true, PROC_FAILED);
	} else {
		p->state = PROC_LOST;
		p->exit_time = now_realtime();
		emit(p, PROC_EVENT_LOST);
	}
	fire_waiters(p, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct proc *p = container_of(t, struct proc, timer);
	enum timer_mode mode = p->timer_mode;
	uint64_t now = uv_now(M.loop);
	int r;

	p->timer_mode = TIMER_NONE;
	if (mode == TIMER_COLLECT) {
		if (!p->removed && is_terminal(p->state))
			proc_forget(p->id);
		return;
	}
	if (mode == TIMER_KILL) {
		if (p->state == PROC_RUNNING) {
			stop_kill(p);
		} else if (p->state == PROC_STARTING) {
			/* The report will bring SIGKILL to the payload; only a shim stuck
			 * before reporting for 5 s more is killed itself. */
			if (now >= p->kill_deadline + 5000) {
				stop_kill(p);
			} else {
				p->timer_mode = TIMER_KILL;
				uv_timer_start(&p->timer, on_timer, p->kill_deadline + 5000 - now,
					       0);
			}
		}
		return;
	}
	if (mode != TIMER_RESTART || p->state != PROC_BACKOFF)
		return;

	p->restarts++;
	p->restart_ts[p->restart_ts_next] = now;
	p->restart_ts_next = (p->restart_ts_next + 1) % MAX_BURST;
	r = run_spawn(p);
	if (r < 0) {
		set_error(p, "shim", r);
		p->state = PROC_FAILED;
		emit(p, PROC_EVENT_FAILED);
		decide_restart(p, true, PROC_FAILED);
		fire_waiters(p, 0);
	}
}

/* ---- public API ------------------------------------------------------------------- */

int proc_init(uv_loop_t *loop, const char *rundir, const char *shim_path)
{
	size_t len;
	int r;

	if (M.initialized)
		return -EALREADY;
	if (!loop || !rundir || !*rundir || !shim_path || !*shim_path)
		return -EINVAL;
	r = mkdir_p(rundir, 0755);
	if (r < 0)
		return r;
	len = strlen(rundir) + sizeof("/procs");
	M.procs_path = malloc(len);
	M.shim_path = strdup(shim_path);
	if (!M.procs_path || !M.shim_path)
		goto nomem;
	snprintf(M.procs_path, len, "%s/procs", rundir);
	if (mkdir(M.procs_path, 0700) < 0 && errno != EEXIST)
		goto fail;
	M.procs_fd = open(M.procs_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (M.procs_fd < 0)
		goto fail;
	M.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	M.loop = loop;
	M.cfg = default_config;
	M.initialized = true;
	return 0;
nomem:
	errno = ENOMEM;
fail:
	r = -errno;
	free(M.procs_path);
	free(M.shim_path);
	M.procs_path = M.shim_path = NULL;
	return r;
}

static void group_free_cb(uv_handle_t *h)
{
	free(container_of(h, struct stop_group, timer));
}

static void group_unlink(struct stop_group *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		M.groups = g->next;
	if (g->next)
		g->next->prev = g->prev;
	g->prev = g->next = NULL;
}

void proc_exit(void)
{
	struct proc *p;
	struct stop_group *g;

	if (!M.initialized)
		return;
	while ((p = M.head)) {
		struct proc_waiter *w = p->waiters, *next;

		p->waiters = NULL;
		for (; w; w = next) {
			next = w->next;
			waiter_destroy(w);
		}
		p->spawn_cb = NULL;
		uv_timer_stop(&p->timer);
		p->timer_mode = TIMER_NONE;
		if (p->run) {
			/* Closing the handle neither kills nor waits for the shim. */
			run_close(p->run);
			p->run = NULL;
		}
		proc_release_fds(p);
		proc_unlink(p);
		p->removed = true;
		proc_unref(p);
	}
	while ((g = M.groups)) {
		group_unlink(g);
		uv_close((uv_handle_t *)&g->timer, group_free_cb);
	}
	while (M.orphans)
		run_close(M.orphans);
	if (M.procs_fd >= 0)
		close(M.procs_fd);
	if (M.null_fd >= 0)
		close(M.null_fd);
	free(M.procs_path);
	free(M.shim_path);
	strv_free(M.foreign);
	memset(&M, 0, sizeof(M));
	M.procs_fd = -1;
	M.null_fd = -1;
}

void proc_configure(const struct proc_config *cfg)
{
	if (!cfg)
		return;
	if (cfg->max_procs)
		M.cfg.max_procs = cfg->max_procs;
	if (cfg->restart_base_ms)
		M.cfg.restart_base_ms = cfg->restart_base_ms;
	if (cfg->restart_max_ms)
		M.cfg.restart_max_ms = cfg->restart_max_ms;
	if (cfg->restart_burst)
		M.cfg.restart_burst =
		    cfg->restart_burst > MAX_BURST ? MAX_BURST : cfg->restart_burst;
	if (cfg->restart_interval_ms)
		M.cfg.restart_interval_ms = cfg->restart_interval_ms;
	if (cfg->log_read_max)
		M.cfg.log_read_max = cfg->log_read_max;
	if (cfg->owner)
		snprintf(M.owner, sizeof(M.owner), "%s", cfg->owner);
	if (cfg->log_max_bytes)
		M.cfg.log_max_bytes = cfg->log_max_bytes;
	if (cfg->log_files)
		M.cfg.log_files =
		    cfg->log_files > PROC_LOG_FILES_MAX ? PROC_LOG_FILES_MAX : cfg->log_files;
}

const struct proc_config *proc_get_config(void)
{
	return &M.cfg;
}

void proc_set_launcher(const struct proc_launch_config *cfg)
{
	M.launch = *cfg;
	M.launch_stats.launcher = cfg->launcher;
	M.launch_stats.fallback_error = 0;
}

void proc_get_launch_stats(struct proc_launch_stats *ret)
{
	*ret = M.launch_stats;
}

const char *proc_launcher_to_string(enum proc_launcher l)
{
	return l == PROC_LAUNCHER_SYSTEMD ? "systemd" : "direct";
}

void proc_set_event_cb(proc_event_cb cb, void *userdata)
{
	M.event_cb = cb;
	M.event_data = userdata;
}

/* The default environment, or env exactly, or env set over the default. */
static char **compose_env(const char *const *env, bool merge)
{
	static const char *const defaults[] = { DEFAULT_ENV_PATH, NULL };
	size_t i, j, n, k;
	char **r;

	if (!env)
		return strv_dup(defaults);
	if (!merge)
		return strv_dup(env);
	n = strv_len(defaults) + strv_len(env);
	r = calloc(n + 1, sizeof(char *));
	if (!r)
		return NULL;
	for (k = 0; defaults[k]; k++)
		if (!(r[k] = strdup(defaults[k])))
			goto nomem;
	for (i = 0; env[i]; i++) {
		size_t kl = (size_t)(strchr(env[i], '=') - env[i]) + 1;
		char *s = strdup(env[i]);

		if (!s)
			goto nomem;
		for (j = 0; j < k; j++)
			if (strncmp(r[j], env[i], kl) == 0)
				break;
		if (j < k) {
			free(r[j]);
			r[j] = s;
		} else {
			r[k++] = s;
		}
	}
	return r;
nomem:
	strv_free(r);
	return NULL;
}

static int validate_params(const struct proc_spawn_params *pp)
{
	size_t i;

	if (!pp || !pp->argv || !pp->argv[0] || !pp->argv[0][0])
		return -EINVAL;
	if (pp->netns && !valid_name(pp->netns))
		return -EINVAL;
	if (pp->name && !valid_name(pp->name))
		return -EINVAL;
	for (i = 0; pp->env && pp->env[i]; i++)
		if (pp->env[i][0] == '=' || !strchr(pp->env[i], '='))
			return -EINVAL;
	if (pp->cwd && pp->cwd[0] != '/')
		return -EINVAL;
	if ((pp->user && !pp->user[0]) || (pp->group && !pp->group[0]))
		return -EINVAL;
	if ((unsigned)pp->restart > PROC_RESTART_ALWAYS)
		return -EINVAL;
	if (pp->ephemeral && pp->restart != PROC_RESTART_NO)
		return -EINVAL;
	if (pp->log_max_bytes < -1 || pp->log_files > PROC_LOG_FILES_MAX)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		const struct proc_stdio *s = &pp->stdio[i];

		if ((unsigned)s->kind > PROC_STDIO_FD || (i == 0 && s->kind == PROC_STDIO_LOG))
			return -EINVAL;
		if (s->kind == PROC_STDIO_LOG && s->path && s->path[0] != '/')
			return -EINVAL;
		if (s->kind == PROC_STDIO_FD && fcntl(s->fd, F_GETFD) < 0)
			return -EBADF;
	}
	if (pp->n_extra_fds > MAX_EXTRA_FDS || (pp->n_extra_fds && !pp->extra_fds))
		return -EINVAL;
	for (i = 0; i < pp->n_extra_fds; i++)
		if (fcntl(pp->extra_fds[i], F_GETFD) < 0)
			return -EBADF;
	return 0;
}

/* A fresh random id and its directory. */
static int make_dir(struct proc *p)
{
	size_t len = strlen(M.procs_path) + 1 + PROC_ID_LEN + 1;
	int attempt;

	for (attempt = 0; attempt < 16; attempt++) {
		uint8_t b[PROC_ID_LEN / 2];
		unsigned i;

		if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
			uint64_t x = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)attempt;

			memcpy(b, &x, sizeof(b));
		}
		for (i = 0; i < sizeof(b); i++)
			snprintf(p->id + 2 * i, 3, "%02x", b[i]);
		if (mkdirat(M.procs_fd, p->id, 0700) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (attempt == 16)
		return -EEXIST;
	p->dirfd = openat(M.procs_fd, p->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		int r = -errno;

		unlinkat(M.procs_fd, p->id, AT_REMOVEDIR);
		return r;
	}
	p->dir = malloc(len);
	if (!p->dir)
		return -ENOMEM;
	snprintf(p->dir, len, "%s/%s", M.procs_path, p->id);
	return 0;
}

int proc_spawn(const struct proc_spawn_params *pp, proc_spawn_cb cb, void *userdata,
	       const char **ret_id)
{
	struct proc *p, *q;
	bool have_dir = false;
	unsigned i;
	int r;

	if (!M.initialized)
		return -EINVAL;
	r = validate_params(pp);
	if (r < 0)
		return r;
	if (pp->name)
		for (q = M.head; q; q = q->next)
			if ((q->name && strcmp(q->name, pp->name) == 0) ||
			    strcmp(q->id, pp->name) == 0)
				return -EEXIST;
	if (M.count >= M.cfg.max_procs)
		return -ENOSPC;

	p = proc_alloc();
	if (!p)
		return -ENOMEM;
	r = -ENOMEM;
	if (strdup_opt(pp->name, &p->name) < 0 || strdup_opt(pp->netns, &p->netns) < 0 ||
	    strdup_opt(pp->cwd, &p->cwd) < 0 || strdup_opt(pp->user, &p->user) < 0 ||
	    strdup_opt(pp->group, &p->group) < 0)
		goto fail;
	p->argv = strv_dup(pp->argv);
	p->env = compose_env(pp->env, pp->env_merge);
	if (!p->argv || !p->env)
		goto fail;
	p->restart = pp->restart;
	{
		int64_t max = pp->log_max_bytes ? pp->log_max_bytes : M.cfg.log_max_bytes;

		p->log_max_bytes = max > 0 ? (uint64_t)max : 0;
		p->log_files = pp->log_files ? pp->log_files : M.cfg.log_files;
	}
	p->tty = pp->tty;
	p->ephemeral = pp->ephemeral;
	p->created = now_realtime();

	r = make_dir(p);
	if (r < 0)
		goto fail;
	have_dir = true;

	for (i = 0; i < 3; i++) {
		const struct proc_stdio *s = &pp->stdio[i];

		p->stdio[i].kind = s->kind;
		if (s->kind == PROC_STDIO_LOG) {
			if (s->path) {
				p->stdio[i].path = strdup(s->path);
			} else {
				size_t len = strlen(p->dir) + sizeof("/output.log");

				p->stdio[i].path = malloc(len);
				if (p->stdio[i].path)
					snprintf(p->stdio[i].path, len, "%s/output.log", p->dir);
			}
			if (!p->stdio[i].path) {
				r = -ENOMEM;
				goto fail;
			}
		} else if (s->kind == PROC_STDIO_FD) {
			p->stdio[i].fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
			if (p->stdio[i].fd < 0) {
				r = -errno;
				goto fail;
			}
		}
	}
	if (pp->n_extra_fds) {
		p->extra_fds = calloc(pp->n_extra_fds, sizeof(int));
		if (!p->extra_fds) {
			r = -ENOMEM;
			goto fail;
		}
		for (i = 0; i < pp->n_extra_fds; i++) {
			p->extra_fds[i] = fcntl(pp->extra_fds[i], F_DUPFD_CLOEXEC, 3);
			if (p->extra_fds[i] < 0) {
				r = -errno;
				goto fail;
			}
			p->n_extra = i + 1;
		}
	}

	p->spawn_cb = cb;
	p->spawn_data = userdata;
	r = run_spawn(p);
	if (r < 0)
		goto fail;
	proc_link(p);
	if (ret_id)
		*ret_id = p->id;
	return 0;

fail:
	if (have_dir)
		remove_dir(p);
	proc_release_fds(p);
	proc_unref(p);
	return r;
}

int proc_get(const char *id, struct proc_info *ret)
{
	struct proc *p = find(id);

	if (!p)
		return -ENOENT;
	fill_info(p, ret);
	return 0;
}

int proc_foreach(const char *netns, int (*fn)(const struct proc_info *info, void *userdata),
		 void *userdata)
{
	struct proc *p, *next;

	for (p = M.head; p; p = next) {
		struct proc_info info;
		int r;

		next = p->next;
		if (netns && (!p->netns || strcmp(p->netns, netns) != 0))
			continue;
		fill_info(p, &info);
		r = fn(&info, userdata);
		if (r)
			return r;
	}
	return 0;
}

static int stop_proc(struct proc *p, unsigned grace_ms, proc_done_cb cb, void *userdata);

/* The signals that ask a process to end (systemctl kill/stop would end it with them). */
static bool ends_process(int sig)
{
	return sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGQUIT || sig == SIGHUP;
}

int proc_kill(const char *id, int sig)
{
	struct proc *p = find(id);

	if (sig < 0 || sig >= NSIG)
		return -EINVAL;
	if (!p)
		return -ENOENT;
	if (p->state == PROC_STARTING)
		return -EAGAIN;
	if (p->state == PROC_BACKOFF && ends_process(sig)) {
		/* Nothing runs to take the signal: what the caller means is "stop it". */
		int r = stop_proc(p, 0, NULL, NULL);

		return r < 0 ? r : 1;
	}
	if (p->state != PROC_RUNNING)
		return -ESRCH;
	return signal_payload(p, sig);
}

int proc_pidfd(const char *id)
{
	struct proc *p = find(id);
	int fd;

	if (!p)
		return -ENOENT;
	if (p->state != PROC_RUNNING || p->pidfd < 0)
		return -ESRCH;
	fd = fcntl(p->pidfd, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

int proc_wait(const char *id, int64_t timeout_ms, proc_wait_cb cb, void *userdata,
	      struct proc_waiter **ret_waiter)
{
	struct proc *p = find(id);

	if (!cb)
		return -EINVAL;
	if (!p)
		return -ENOENT;
	return waiter_add(p, timeout_ms, cb, NULL, userdata, ret_waiter);
}

void proc_wait_cancel(struct proc_waiter *w)
{
	if (!w)
		return;
	waiter_unlink(w);
	waiter_destroy(w);
}

static int stop_proc(struct proc *p, unsigned grace_ms, proc_done_cb cb, void *userdata)
{
	uint64_t deadline;
	int r;

	if (!p->stopping) {
		p->stopping = true;
		/* Best effort: without the mark a later netnsd would restart it on adoption. */
		if (p->dirfd >= 0)
			(void)spec_write(p);
	}
	if (p->state == PROC_BACKOFF) {
		uv_timer_stop(&p->timer);
		p->timer_mode = TIMER_NONE;
		p->state = p->has_exit ? PROC_EXITED : PROC_FAILED;
		emit(p, PROC_EVENT_STOPPED);
		/* They waited for a run that will not come. */
		defer_waiters(p);
		maybe_collect(p);
	}
	if (cb) {
		r = waiter_add(p, -1, NULL, cb, userdata, NULL);
		if (r < 0)
			return r;
	}
	if (is_terminal(p->state))
		return 0;
	if (p->state == PROC_RUNNING)
		signal_payload(p, grace_ms ? SIGTERM : SIGKILL);
	deadline = uv_now(M.loop) + grace_ms;
	if (p->timer_mode != TIMER_KILL || deadline < p->kill_deadline) {
		p->timer_mode = TIMER_KILL;
		p->kill_deadline = deadline;
		uv_timer_start(&p->timer, on_timer, grace_ms, 0);
	}
	return 0;
}

int proc_stop(const char *id, unsigned grace_ms, proc_done_cb cb, void *userdata)
{
	struct proc *p = find(id);

	if (!p)
		return -ENOENT;
	return stop_proc(p, grace_ms, cb, userdata);
}

static void group_member_done(int r, void *userdata)
{
	struct stop_group *g = userdata;

	(void)r;
	if (--g->pending > 0)
		return;
	group_unlink(g);
	if (g->cb)
		g->cb(0, g->userdata);
	uv_close((uv_handle_t *)&g->timer, group_free_cb);
}

static void group_timer_cb(uv_timer_t *t)
{
	group_member_done(0, container_of(t, struct stop_group, timer));
}

int proc_stop_netns(const char *netns, unsigned grace_ms, proc_done_cb cb, void *userdata)
{
	struct stop_group *g;
	struct proc *p;
	int n = 0;

	if (!netns || !valid_name(netns))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cb = cb;
	g->userdata = userdata;
	/* One count for ourselves, released from a timer so cb never runs in this call. */
	g->pending = 1;
	uv_timer_init(M.loop, &g->timer);
	g->next = M.groups;
	if (M.groups)
		M.groups->prev = g;
	M.groups = g;
	for (p = M.head; p; p = p->next) {
		if (!p->netns || strcmp(p->netns, netns) != 0)
			continue;
		g->pending++;
		if (stop_proc(p, grace_ms, group_member_done, g) < 0)
			g->pending--;
		else
			n++;
	}
	uv_timer_start(&g->timer, group_timer_cb, 0, 0);
	return n;
}

/*
 * Read the last *room bytes of path (or less) in front of buf[*start..]: the text is
 * built from its end, newest file first.  *room shrinks by what was read.  *truncated:
 * the window begins inside this file.  0, or -errno (-ENOENT: no such file).
 */
static int read_tail_into(const char *path, char *buf, size_t *start, size_t *room, bool *truncated)
{
	_cleanup_(closep) int fd = -1;
	struct stat st;
	size_t want, len = 0;
	off_t off;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	want = (size_t)st.st_size < *room ? (size_t)st.st_size : *room;
	off = st.st_size - (off_t)want;
	while (len < want) {
		ssize_t n = pread(fd, buf + *start - want + len, want - len, off + (off_t)len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break; /* truncated meanwhile */
		len += (size_t)n;
	}
	if (len < want) /* keep the text contiguous */
		memmove(buf + *start - len, buf + *start - want, len);
	*start -= len;
	*room -= len;
	*truncated = off > 0;
	return 0;
}

int proc_logs(const char *id, unsigned tail, char **ret_path, char **ret_text, size_t *ret_len)
{
	struct proc *p = find(id);
	_cleanup_(freep) char *buf = NULL, *path = NULL;
	size_t cap = M.cfg.log_read_max, start, room, len;
	bool truncated = false;
	int r;

	if (!p)
		return -ENOENT;
	if (!log_path_of(p))
		return -ENODATA;
	path = strdup(log_path_of(p));
	buf = malloc(cap + 1);
	if (!path || !buf)
		return -ENOMEM;
	start = room = cap;
	r = read_tail_into(path, buf, &start, &room, &truncated);
	if (r < 0)
		return r;
	/* Then the files it was rotated into, newest first, while there is room. */
	for (unsigned i = 1; p->log_max_bytes && i < p->log_files && room > 0 && !truncated; i++) {
		char rotated[PATH_MAX];

		if (tail) {
			unsigned lines = 0;

			for (size_t k = start; k < cap; k++)
				lines += buf[k] == '\n';
			if (lines > tail)
				break; /* enough lines already */
		}
		snprintf(rotated, sizeof(rotated), "%s.%u", path, i);
		if (read_tail_into(rotated, buf, &start, &room, &truncated) < 0)
			break;
	}
	len = cap - start;
	memmove(buf, buf + start, len);
	start = 0;
	/* A window that starts inside a file starts with a partial line: drop it. */
	if (truncated) {
		char *nl = memchr(buf, '\n', len);

		start = nl ? (size_t)(nl - buf) + 1 : len;
	}
	if (tail) {
		size_t i = len;
		unsigned lines = 0;

		if (i > start && buf[i - 1] == '\n')
			i--;
		while (i > start) {
			if (buf[i - 1] == '\n' && ++lines == tail)
				break;
			i--;
		}
		start = i;
	}
	memmove(buf, buf + start, len - start);
	len -= start;
	buf[len] = '\0';
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	*ret_text = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int proc_collect(const char *id)
{
	struct proc *p = find(id);

	if (!p)
		return -ENOENT;
	p->collect = true;
	maybe_collect(p);
	return 0;
}

int proc_forget(const char *id)
{
	struct proc *p = find(id);

	if (!p)
		return -ENOENT;
	if (!is_terminal(p->state))
		return -EBUSY;
	emit(p, PROC_EVENT_REMOVED);
	if (p->run) {
		/* A failed start whose shim is still exiting: keep reaping it, unattached. */
		orphan_link(p->run);
		p->run = NULL;
	}
	remove_dir(p);
	proc_release_fds(p);
	proc_unlink(p);
	p->removed = true;
	proc_unref(p);
	return 0;
}

/* ---- adoption --------------------------------------------------------------------- */

static int json_strdup_opt(json_t *obj, const char *key, char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

static char **json_to_strv(json_t *a)
{
	size_t i, n;
	char **v;

	if (!json_is_array(a))
		return NULL;
	n = json_array_size(a);
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (!s || !(v[i] = strdup(s))) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

/* Rebuild the record from spec.json; stdio fds and extra fds are gone with the old
 * netnsd. */
static int load_spec(struct proc *p)
{
	_cleanup_(json_decrefp) json_t *spec = NULL;
	_cleanup_(closep) int fd = -1;
	json_t *v, *stdio;
	size_t len;
	unsigned i;

	fd = openat(p->dirfd, "spec.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	spec = json_loadfd(fd, 0, NULL);
	if (!json_is_object(spec))
		return -EINVAL;
	/* Made by a netnsd of another state that shares this runtime directory. */
	v = json_object_get(spec, "owner");
	if (M.owner[0] && json_is_string(v) && strcmp(json_string_value(v), M.owner) != 0)
		return -EXDEV;
	if (json_strdup_opt(spec, "name", &p->name) < 0 ||
	    json_strdup_opt(spec, "netns", &p->netns) < 0 ||
	    json_strdup_opt(spec, "cwd", &p->cwd) < 0 ||
	    json_strdup_opt(spec, "user", &p->user) < 0 ||
	    json_strdup_opt(spec, "group", &p->group) < 0)
		return -EINVAL;
	if ((p->name && !valid_name(p->name)) || (p->netns && !valid_name(p->netns)))
		return -EINVAL;
	p->argv = json_to_strv(json_object_get(spec, "argv"));
	p->env = json_to_strv(json_object_get(spec, "env"));
	if (!p->argv || !p->argv[0] || !p->env)
		return -EINVAL;
	if (proc_restart_from_string(json_string_value(json_object_get(spec, "restart")),
				     &p->restart) < 0)
		p->restart = PROC_RESTART_NO;
	p->tty = json_is_true(json_object_get(spec, "tty"));
	p->stopping = json_is_true(json_object_get(spec, "stopped"));
	v = json_object_get(spec, "log");
	if (json_is_object(v)) {
		json_int_t max = json_integer_value(json_object_get(v, "max_bytes"));
		json_int_t files = json_integer_value(json_object_get(v, "files"));

		p->log_max_bytes = max > 0 ? (uint64_t)max : 0;
		p->log_files = files >= 1 && files <= PROC_LOG_FILES_MAX ? (unsigned)files : 1;
	}
	/* Its client went with the previous netnsd: nobody will ask for it any more. */
	p->ephemeral = p->collect = json_is_true(json_object_get(spec, "ephemeral"));
	v = json_object_get(spec, "restarts");
	p->restarts =
	    json_is_integer(v) && json_integer_value(v) > 0 ? (unsigned)json_integer_value(v) : 0;
	v = json_object_get(spec, "created");
	if (json_is_array(v)) {
		p->created.tv_sec = (time_t)json_integer_value(json_array_get(v, 0));
		p->created.tv_nsec = (long)json_integer_value(json_array_get(v, 1));
	}
	stdio = json_object_get(spec, "stdio");
	for (i = 0; i < 3; i++) {
		json_t *s = json_array_get(stdio, i);
		const char *kind = json_string_value(json_object_get(s, "kind"));
		const char *path = json_string_value(json_object_get(s, "path"));

		p->stdio[i].kind = PROC_STDIO_NULL;
		if (kind && strcmp(kind, "fd") == 0) {
			p->stdio[i].kind = PROC_STDIO_FD;
		} else if (kind && strcmp(kind, "log") == 0 && path && path[0] == '/' && i > 0) {
			p->stdio[i].kind = PROC_STDIO_LOG;
			p->stdio[i].path = strdup(path);
			if (!p->stdio[i].path)
				return -ENOMEM;
		}
	}
	len = strlen(M.procs_path) + 1 + PROC_ID_LEN + 1;
	p->dir = malloc(len);
	if (!p->dir)
		return -ENOMEM;
	snprintf(p->dir, len, "%s/%s", M.procs_path, p->id);
	return 0;
}

/* Watch a live shim through its pidfd; false if the shim is gone (or is someone else). */
static bool watch_shim(struct proc *p)
{
	char buf[256];
	long long pid;
	uint64_t st;
	struct proc_run *run;
	int fd;

	if (read_at(p->dirfd, "shim.pid", buf, sizeof(buf)) <= 0 || !kv_ll(buf, "pid", &pid) ||
	    pid <= 0 || pid > INT_MAX || !kv_u64(buf, "starttime", &st))
		return false;
	fd = pidfd_open_checked((int)pid, st);
	if (fd < 0)
		return false;
	run = run_alloc(p);
	if (!run) {
		close(fd);
		return false;
	}
	if (follow_shim(run, fd) < 0) {
		run_close(run);
		return false;
	}
	run->reported = true; /* nothing to hear from it: its sync pipe died with netnsd */
	p->run = run;
	p->shim_pid = (int)pid;
	return true;
}

struct adopted {
	struct proc *p;
	bool settle; /* a status is already there: process the end after linking */
	bool started;
};

static int cmp_created(const void *a, const void *b)
{
	const struct proc *x = ((const struct adopted *)a)->p, *y = ((const struct adopted *)b)->p;

	if (x->created.tv_sec != y->created.tv_sec)
		return x->created.tv_sec < y->created.tv_sec ? -1 : 1;
	if (x->created.tv_nsec != y->created.tv_nsec)
		return x->created.tv_nsec < y->created.tv_nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

static bool known_id(const char *id)
{
	struct proc *p;

	for (p = M.head; p; p = p->next)
		if (strcmp(p->id, id) == 0)
			return true;
	return false;
}

/* Remember a record of another state (once), for proc_foreign(). */
static void note_foreign(const char *id)
{
	char **v;

	for (size_t i = 0; i < M.nforeign; i++)
		if (strcmp(M.foreign[i], id) == 0)
			return;
	v = realloc(M.foreign, (M.nforeign + 2) * sizeof(char *));
	if (!v)
		return;
	M.foreign = v;
	v[M.nforeign] = strdup(id);
	if (v[M.nforeign])
		M.nforeign++;
	v[M.nforeign] = NULL;
}

const char *const *proc_foreign(size_t *ret_n)
{
	*ret_n = M.nforeign;
	return (const char *const *)M.foreign;
}

int proc_adopt_all(void)
{
	struct adopted *list = NULL;
	size_t n = 0, alloc = 0, i;
	struct dirent *de;
	struct status st;
	DIR *d;
	int fd, r;

	if (!M.initialized)
		return -EINVAL;
	fd = openat(M.procs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		struct proc *p;
		bool started;

		if (!valid_id(de->d_name) || known_id(de->d_name))
			continue;
		if (M.count + n >= M.cfg.max_procs)
			break;
		if (n == alloc) {
			struct adopted *nl = realloc(list, (alloc ? alloc * 2 : 16) * sizeof(*nl));

			if (!nl)
				break;
			list = nl;
			alloc = alloc ? alloc * 2 : 16;
		}
		p = proc_alloc();
		if (!p)
			break;
		memcpy(p->id, de->d_name, PROC_ID_LEN + 1);
		p->dirfd = openat(M.procs_fd, p->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = p->dirfd < 0 ? -errno : load_spec(p);
		if (r == -EXDEV)
			note_foreign(p->id);
		if (r < 0) {
			/* Not ours, or half-written by a netnsd that died in proc_spawn(). */
			proc_release_fds(p);
			proc_unref(p);
			continue;
		}
		p->adopted = true;
		started = read_pid_file(p);
		p->ever_started = started;
		p->state = started ? PROC_RUNNING : PROC_STARTING;
		list[n] = (struct adopted){ .p = p, .started = started };

		read_status(p, &st);
		if (st.kind != STATUS_NONE) {
			list[n].settle = true;
		} else if (watch_shim(p)) {
			if (started)
				p->pidfd = pidfd_open_checked(p->pid, p->starttime);
		} else {
			/* The shim may have written its status just before exiting. */
			read_status(p, &st);
			if (st.kind != STATUS_NONE) {
				list[n].settle = true;
			} else if (!started && faccessat(p->dirfd, "shim.pid", F_OK, 0) < 0) {
				/*
				 * Never started: netnsd died between writing the spec and
				 * recording the shim, so that spawn was never answered.
				 * Forget it as if it had never been asked for (a service is
				 * started again from the state); a shim still starting finds
				 * its directory gone and gives up at stage "runtime".
				 */
				remove_dir(p);
				proc_release_fds(p);
				proc_unref(p);
				continue;
			} else {
				p->state = PROC_LOST;
				p->exit_time = now_realtime();
			}
		}
		n++;
	}
	closedir(d);

	if (n)
		qsort(list, n, sizeof(*list), cmp_created);
	for (i = 0; i < n; i++)
		proc_link(list[i].p);
	for (i = 0; i < n; i++) {
		struct proc *p = list[i].p;

		emit(p, PROC_EVENT_ADOPTED);
		if (list[i].settle)
			run_ended(p, list[i].started);
		else if (p->state == PROC_LOST)
			emit(p, PROC_EVENT_LOST);
		maybe_collect(p);
	}
	free(list);
	return (int)n;
}
