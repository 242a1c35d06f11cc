/*
 * proc_methods.c: proc.spawn, proc.list, proc.get, proc.kill, proc.wait,
 * proc.logs and proc.delete, and the "proc" events.
 *
 * Processes with a restart policy are services: their spec is part of the
 * desired state (collection "proc"), so they are started again after a
 * reboot once their namespace is back.  Descriptors a client passes with the
 * request (SCM_RIGHTS) can become the process's stdin, stdout or stderr:
 * {"fd": I} names the I-th descriptor passed (0-based); with "tty": true the
 * process takes its stdin (a terminal) as its controlling terminal.
 */
#include <signal.h>
#include <string.h>

#include "events.h"
#include "links.h"
#include "log.h"
#include "method_ctx.h"
#include "method_families.h"
#include "netns.h"
#include "proc.h"
#include "spec.h"
#include "state.h"
#include "topology.h"

#define PROC_COLL "proc"
#define MAX_ARGV  4096
#define MAX_ENV	  4096
#define MAX_FDS	  16

static json_t *ts_json(const struct timespec *ts)
{
	char buf[32];

	if (!ts->tv_sec && !ts->tv_nsec)
		return json_null();
	return json_string(
	    format_rfc3339((uint64_t)ts->tv_sec * 1000000 + (uint64_t)ts->tv_nsec / 1000, buf));
}

/* The result of proc.get and of each proc.list entry, and the "proc" of events. */
static json_t *proc_view(const struct proc_info *p)
{
	json_t *argv = json_array(), *o;

	for (const char *const *a = p->argv; a && *a; a++)
		json_array_append_new(argv, json_string(*a));
	o = json_pack("{s:s,s:o,s:o,s:o,s:s,s:s,s:i,s:i,s:b,s:o,s:o}", "id", p->id, "name",
		      p->name ? json_string(p->name) : json_null(), "netns",
		      p->netns ? json_string(p->netns) : json_null(), "argv", argv, "state",
		      proc_state_to_string(p->state), "restart", proc_restart_to_string(p->restart),
		      "restarts", (int)p->restarts, "pid", p->pid, "adopted", p->adopted, "created",
		      ts_json(&p->created), "started", ts_json(&p->start_time));
	json_object_set_new(o, "service", json_boolean(state_get(PROC_COLL, p->id) != NULL ||
						     topology_of_proc(p) != NULL));
	if (topology_of_proc(p))
		json_object_set_new(o, "topology", json_string(topology_of_proc(p)));
	json_object_set_new(o, "stopped", json_boolean(p->stopped));
	if (p->has_exit_status) {
		json_object_set_new(o, "exit_code",
				    p->exit_code >= 0 ? json_integer(p->exit_code) : json_null());
		json_object_set_new(o, "signal",
				    p->exit_signal ? json_integer(p->exit_signal) : json_null());
		json_object_set_new(o, "core_dumped", json_boolean(p->core_dumped));
		json_object_set_new(o, "exited", ts_json(&p->exit_time));
	}
	if (p->error_stage) {
		json_object_set_new(o, "error_stage", json_string(p->error_stage));
		json_object_set_new(o, "errno", json_integer(-p->error));
	}
	if (p->log_path) {
		json_object_set_new(o, "log", json_string(p->log_path));
		json_object_set_new(o, "log_max_bytes", json_integer((json_int_t)p->log_max_bytes));
		json_object_set_new(o, "log_files", json_integer(p->log_files));
	}
	if (p->unit)
		json_object_set_new(o, "unit", json_string(p->unit));
	return o;
}

/* Which param a start failure is about. */
static const char *stage_field(const char *stage)
{
	static const struct {
		const char *stage, *field;
	} map[] = {
		{ "netns", "netns" },
		{ "user", "user" },
		{ "group", "group" },
		{ "cwd", "cwd" },
		{ "exec", "argv" },
		{ "credentials", "user" },
		{ "fds", "stdin" },
		{ "etc", "netns" },
		{ "sysfs", "netns" },
		{ "mount", "netns" },
		{ "restart-limit", "restart" },
		{ "tty", "stdin" },
	};

	for (size_t i = 0; stage && i < ELEMENTSOF(map); i++)
		if (!strcmp(stage, map[i].stage))
			return map[i].field;
	return NULL;
}

/*
 * Ephemeral processes (proc.spawn "ephemeral": true, what netnsctl exec asks for): the
 * record belongs to the connection that made it.  That client normally waits and deletes
 * it; if the connection closes first (the client was killed), the record is forgotten as
 * soon as the program ends.  The program itself is left alone, as `ip netns exec`'s
 * command outlives the death of its parent; it still holds the client's descriptors.
 */
struct owned {
	struct owned *next;
	struct dispatch_peer *peer; /* not referenced: the entry goes when the peer goes */
	char id[32];
};

static struct owned *owned_list;

static int owned_add(struct dispatch_peer *peer, const char *id)
{
	struct owned *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->peer = peer;
	snprintf(o->id, sizeof(o->id), "%s", id);
	o->next = owned_list;
	owned_list = o;
	return 0;
}

/* Drop the entries of a peer (collecting their processes), or of a forgotten process. */
static void owned_drop(struct dispatch_peer *peer, const char *id)
{
	struct owned **pp = &owned_list, *o;

	while ((o = *pp)) {
		if ((peer && o->peer == peer) || (id && !strcmp(o->id, id))) {
			*pp = o->next;
			if (peer)
				(void)proc_collect(o->id);
			free(o);
		} else {
			pp = &o->next;
		}
	}
}

static void on_peer_gone(struct dispatch_peer *peer)
{
	owned_drop(peer, NULL);
}

/* proc.spawn */

struct spawn_ctx {
	struct call *call;
	json_t *doc; /* the service's stored spec, put once it started; NULL if none */
	bool pidfd;  /* pass the payload's pidfd with the reply */
};

/*
 * The reply of a started proc.spawn; with "pidfd": true the payload's pidfd
 * goes with it (SCM_RIGHTS) and "pidfd" is its index, or null when the
 * payload had already ended (and been reaped by its shim) before netnsd
 * could open one: its exit is in proc.get then.
 */
static void reply_spawned(struct spawn_ctx *ctx, const struct proc_info *info)
{
	json_t *o = proc_view(info), *idx = NULL;
	int fd;

	if (ctx->pidfd) {
		fd = proc_pidfd(info->id);
		if (fd >= 0)
			idx = call_attach_fd(ctx->call, fd);
		json_object_set_new(o, "pidfd", idx ?: json_null());
	}
	call_reply(ctx->call, o);
}

static void on_spawned(const struct proc_info *info, int r, void *userdata)
{
	struct spawn_ctx *ctx = userdata;

	if (r < 0) {
		call_fail_errno(ctx->call, r, stage_field(info->error_stage),
				"Failed to start '%s' (%s): %s", info->argv ? info->argv[0] : "?",
				info->error_stage ? info->error_stage : "start", strerror(-r));
		proc_forget(info->id);
	} else {
		if (ctx->doc)
			state_put(PROC_COLL, info->id, json_incref(ctx->doc));
		reply_spawned(ctx, info);
	}
	json_decref(ctx->doc);
	free(ctx);
}

static json_int_t max_fd_index(json_t *params)
{
	static const char *const names[] = { "stdin", "stdout", "stderr" };
	json_int_t max = -1;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		json_t *fd = json_object_get(json_object_get(params, names[i]), "fd");

		if (json_is_integer(fd) && json_integer_value(fd) > max)
			max = json_integer_value(fd);
	}
	return max;
}

static const char *check_argv(json_t *v, const char **ret_sub)
{
	static char idx[24];
	size_t i;
	json_t *a;

	if (json_array_size(v) == 0)
		return "must not be empty";
	json_array_foreach(v, i, a) {
		snprintf(idx, sizeof(idx), "%zu", i);
		*ret_sub = idx;
		if (!json_is_string(a))
			return "must be a string";
		if (i == 0 && json_string_length(a) == 0)
			return "the program must not be empty";
	}
	*ret_sub = NULL;
	return NULL;
}

static const char *check_env(json_t *v, const char **ret_sub)
{
	const char *key;
	json_t *val;

	if (json_object_size(v) > MAX_ENV)
		return "too many variables";
	json_object_foreach(v, key, val) {
		*ret_sub = key;
		if (!key[0] || strchr(key, '='))
			return "a variable name must be non-empty and contain no '='";
		if (!json_is_string(val))
			return "must be a string";
	}
	*ret_sub = NULL;
	return NULL;
}

static const char *check_cwd(json_t *v, const char **ret_sub)
{
	return json_string_value(v)[0] == '/' ? NULL : "must be an absolute path";
}

static const char *check_credential(json_t *v, const char **ret_sub)
{
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) < 0xffffffffLL
			   ? NULL
			   : "must be in the range 0..4294967294";
	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 256)
		return NULL;
	return "must be a name or a number";
}

static const char *check_name(json_t *v, const char **ret_sub)
{
	return netns_name_valid(json_string_value(v)) ? NULL
						      : "1-64 characters of [A-Za-z0-9_.-], "
							"not starting with '.' or '-'";
}

/*
 * Start a process from a spec (params of proc.spawn, or a stored service).
 * fds are the descriptors passed with the request.  Answers c when given.
 */
static int spawn_from(json_t *spec, const int *fds, size_t nfds, struct call *c, char **ret_id)
{
	static const char *const stdio_names[] = { "stdin", "stdout", "stderr" };
	_cleanup_(spec_proc_done) struct spec_proc_buf buf = { 0 };
	struct proc_spawn_params p;
	struct spawn_ctx *ctx;
	const char *id, *field = NULL, *msg = NULL;
	size_t i;
	int r;

	r = spec_proc_from_json(spec, fds, nfds, &buf, &field, &msg);
	if (r < 0) {
		if (c && r == -ENOMEM)
			call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
		else if (c)
			call_fail_params(c, field, "Invalid params: %s: %s", field, msg);
		return r == -ENOMEM ? r : -EINVAL;
	}
	p = buf.p;
	p.ephemeral = c && json_is_true(json_object_get(spec, "ephemeral"));
	if (p.ephemeral && p.restart != PROC_RESTART_NO) {
		call_fail_params(c, "ephemeral",
				 "Invalid params: ephemeral: a service (restart policy) belongs "
				 "to the desired state, not to a connection");
		return -EINVAL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->call = c;
	ctx->pidfd = json_is_true(json_object_get(spec, "pidfd"));
	if (c && p.restart != PROC_RESTART_NO) {
		/* A service: remember how to start it again, without the fds. */
		ctx->doc = json_deep_copy(spec);
		json_object_del(ctx->doc, "pidfd");
		for (i = 0; i < 3; i++)
			if (json_object_get(json_object_get(ctx->doc, stdio_names[i]), "fd"))
				json_object_set_new(ctx->doc, stdio_names[i], json_string("null"));
	}
	r = proc_spawn(&p, c ? on_spawned : NULL, ctx, &id);
	if (r < 0) {
		json_decref(ctx->doc);
		free(ctx);
		if (c) {
			if (r == -EEXIST)
				call_fail(c, RPC_KIND_EXISTS, EEXIST, "name",
					  "A process named '%s' exists", p.name);
			else if (r == -ENOSPC)
				call_fail(c, RPC_KIND_LIMIT, ENOSPC, NULL,
					  "Too many processes; delete finished ones");
			else
				call_fail_errno(c, r, NULL, "Failed to start '%s': %s", p.argv[0],
						strerror(-r));
		}
		return r;
	}
	if (p.ephemeral && owned_add(call_peer(c), id) < 0)
		(void)proc_collect(id); /* no memory to remember the owner: collect at once */
	if (!c)
		free(ctx);
	if (ret_id)
		*ret_id = strdup(id);
	return 0;
}

static void method_spawn(struct call *c, json_t *params)
{
	const char *netns = json_string_value(json_object_get(params, "netns"));
	json_int_t need = max_fd_index(params) + 1;
	int fds[MAX_FDS] = { 0 };
	size_t nfds = 0;

	if (method_ctx_netns_writable(c, netns, "netns") < 0)
		return;
	if (need > MAX_FDS)
		return call_fail_params(c, NULL, "Invalid params: at most %d descriptors", MAX_FDS);
	/* Checked before anything starts: a process is never started for a reply that fails. */
	if (json_is_true(json_object_get(params, "pidfd")) && call_fd_room(c) == 0)
		return (void)method_ctx_attach_fd(c, -1);
	while ((json_int_t)nfds < need) {
		int fd = call_take_fd(c);

		if (fd < 0)
			break;
		fds[nfds++] = fd;
	}
	if ((json_int_t)nfds < need) {
		static const char *const names[] = { "stdin", "stdout", "stderr" };
		const char *field = "stdin";

		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		/* Name the stream whose descriptor is missing. */
		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			json_t *fd = json_object_get(json_object_get(params, names[i]), "fd");

			if (json_is_integer(fd) && json_integer_value(fd) >= (json_int_t)nfds) {
				field = names[i];
				break;
			}
		}
		return call_fail_params(c, field,
					"Invalid params: {\"fd\": %lld} needs %lld descriptors "
					"passed with the request (SCM_RIGHTS); %zu came",
					(long long)need - 1, (long long)need, nfds);
	}
	spawn_from(params, fds, nfds, c, NULL);
	/* proc_spawn() keeps its own duplicates. */
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
}

/* proc.list, proc.get */

struct list_ctx {
	json_t *arr;
};

static int list_one(const struct proc_info *info, void *userdata)
{
	json_array_append_new(((struct list_ctx *)userdata)->arr, proc_view(info));
	return 0;
}

static void method_list(struct call *c, json_t *params)
{
	struct list_ctx ctx = { json_array() };

	proc_foreach(json_string_value(json_object_get(params, "netns")), list_one, &ctx);
	call_reply(c, json_pack("{s:o}", "processes", ctx.arr));
}

static bool lookup(struct call *c, json_t *params, struct proc_info *info)
{
	const char *id = json_string_value(json_object_get(params, "id"));

	if (proc_get(id, info) < 0) {
		call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "id", "No process '%s'", id);
		return false;
	}
	return true;
}

static void method_get(struct call *c, json_t *params)
{
	struct proc_info info;

	if (lookup(c, params, &info))
		call_reply(c, proc_view(&info));
}

/* proc.kill */

static int signal_from(json_t *v)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "HUP", SIGHUP },     { "INT", SIGINT },   { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL },   { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "TERM", SIGTERM },   { "CONT", SIGCONT }, { "STOP", SIGSTOP },
		{ "WINCH", SIGWINCH },
	};
	const char *s;

	if (!v)
		return SIGTERM;
	if (json_is_integer(v))
		return json_integer_value(v) >= 1 && json_integer_value(v) <= 64
			   ? (int)json_integer_value(v)
			   : -1;
	s = json_string_value(v);
	if (s && !strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; s && i < ELEMENTSOF(sigs); i++)
		if (!strcmp(s, sigs[i].name))
			return sigs[i].sig;
	return -1;
}

static void method_kill(struct call *c, json_t *params)
{
	int sig = signal_from(json_object_get(params, "signal"));
	struct proc_info info;
	int r;

	if (sig < 0)
		return call_fail_params(c, "signal",
					"Invalid params: signal: a number 1-64 or a "
					"name like \"TERM\"");
	if (!lookup(c, params, &info))
		return;
	r = proc_kill(info.id, sig);
	if (r == 1)
		return call_reply(c, json_pack("{s:s,s:i,s:b}", "id", info.id, "signal", sig,
					       "restart_cancelled", true));
	if (r == -ESRCH && info.state == PROC_BACKOFF)
		return call_fail(c, RPC_KIND_NOT_FOUND, ESRCH, "id",
				 "Process '%s' is not running (it waits to be restarted); "
				 "proc.stop (or signal TERM or KILL) stops it for good",
				 info.id);
	if (r == -ESRCH)
		return call_fail(c, RPC_KIND_NOT_FOUND, ESRCH, "id",
				 "Process '%s' is not running (%s); proc.get shows how it ended, "
				 "proc.delete forgets it",
				 info.id, proc_state_to_string(info.state));
	if (r == -EAGAIN)
		return call_fail(c, RPC_KIND_BUSY, EAGAIN, "id", "Process '%s' is still starting",
				 info.id);
	if (r < 0)
		return call_fail_errno(c, r, "id", "Failed to signal '%s': %s", info.id,
				       strerror(-r));
	call_reply(c, json_pack("{s:s,s:i}", "id", info.id, "signal", sig));
}

/* proc.wait */

static void on_waited(const struct proc_info *info, int r, void *userdata)
{
	struct call *c = userdata;

	if (r == -ETIMEDOUT)
		return call_fail(c, RPC_KIND_TIMEOUT, ETIMEDOUT, "timeout_ms",
				 "Process '%s' is still running", info->id);
	if (r < 0)
		return call_fail_errno(c, r, "id", "Failed to wait for '%s': %s", info->id,
				       strerror(-r));
	call_reply(c, proc_view(info));
}

static void method_wait(struct call *c, json_t *params)
{
	json_t *t = json_object_get(params, "timeout_ms");
	struct proc_info info;
	int r;

	if (!lookup(c, params, &info))
		return;
	r = proc_wait(info.id, t ? json_integer_value(t) : -1, on_waited, c, NULL);
	if (r < 0)
		call_fail_errno(c, r, "id", "Failed to wait for '%s': %s", info.id, strerror(-r));
}

/* proc.logs */

static void method_logs(struct call *c, json_t *params)
{
	json_t *tail = json_object_get(params, "tail");
	_cleanup_(freep) char *path = NULL, *text = NULL;
	struct proc_info info;
	size_t len = 0;
	json_t *o;
	int r;

	if (!lookup(c, params, &info))
		return;
	r = proc_logs(info.id, tail ? (unsigned)json_integer_value(tail) : 0, &path, &text, &len);
	if (r == -ENODATA)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENODATA, "id",
				 "Process '%s' has no log: its output goes elsewhere", info.id);
	if (r < 0)
		return call_fail_errno(c, r, "id", "Failed to read the log of '%s': %s", info.id,
				       strerror(-r));
	/* Logs are bytes, JSON strings UTF-8: if it is not, non-ASCII bytes become '?'. */
	o = json_stringn(text, len);
	if (!o) {
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)text[i] >= 0x80 || !text[i])
				text[i] = '?';
		o = json_stringn(text, len);
	}
	call_reply(c, json_pack("{s:s,s:s,s:o}", "id", info.id, "log", path, "text",
				o ? o : json_string("")));
}

/*
 * proc.stop: stop for good whatever the state, as systemctl stop; the record (and a
 * service's place in the desired state) stays.  proc.delete: the same, then forget both.
 * Both answer once the process has ended.
 */

struct stop_ctx {
	struct call *call;
	bool forget;
	char id[32];
};

static void on_stopped(int r, void *userdata)
{
	struct stop_ctx *ctx = userdata;
	struct proc_info info;

	if (proc_get(ctx->id, &info) < 0) {
		if (ctx->forget) {
			state_del(PROC_COLL, ctx->id);
			call_reply(ctx->call, json_pack("{s:s}", "id", ctx->id));
		} else {
			call_fail(ctx->call, RPC_KIND_NOT_FOUND, ENOENT, "id",
				  "Process '%s' was deleted while stopping", ctx->id);
		}
	} else if (ctx->forget) {
		json_t *view = proc_view(&info);

		state_del(PROC_COLL, ctx->id);
		proc_forget(ctx->id);
		json_object_set_new(view, "service", json_false());
		call_reply(ctx->call, view);
	} else {
		call_reply(ctx->call, proc_view(&info));
	}
	free(ctx);
}

static void stop_call(struct call *c, json_t *params, bool forget)
{
	json_t *grace = json_object_get(params, "grace_ms");
	struct stop_ctx *ctx;
	struct proc_info info;
	int r;

	if (!lookup(c, params, &info))
		return;
	if (topology_of_proc(&info))
		return call_fail(c, RPC_KIND_BUSY, EBUSY, "id",
				 "Process '%s' is a service of topology '%s': change or destroy the "
				 "topology instead",
				 info.name, topology_of_proc(&info));
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
	ctx->call = c;
	ctx->forget = forget;
	snprintf(ctx->id, sizeof(ctx->id), "%s", info.id);
	r = proc_stop(info.id, grace ? (unsigned)json_integer_value(grace) : 3000, on_stopped, ctx);
	if (r < 0) {
		free(ctx);
		call_fail_errno(c, r, "id", "Failed to stop '%s': %s", info.id, strerror(-r));
	}
}

static void method_stop(struct call *c, json_t *params)
{
	stop_call(c, params, false);
}

static void method_delete(struct call *c, json_t *params)
{
	stop_call(c, params, true);
}

/* Events and restore. */

static void on_proc_event(enum proc_event ev, const struct proc_info *info, void *userdata)
{
	static const char *const actions[] = {
		[PROC_EVENT_STARTED] = "started",
		[PROC_EVENT_EXITED] = "exited",
		[PROC_EVENT_RESTARTING] = "restarting",
		[PROC_EVENT_FAILED] = "failed",
		[PROC_EVENT_LOST] = "lost",
		[PROC_EVENT_ADOPTED] = "adopted",
		[PROC_EVENT_REMOVED] = "removed",
		[PROC_EVENT_STOPPED] = "stopped",
	};

	if (ev == PROC_EVENT_REMOVED)
		owned_drop(NULL, info->id);
	events_publish(EVENT_PROC, actions[ev], info->netns, "proc", proc_view(info), NULL);
}

int proc_methods_init(void)
{
	proc_set_event_cb(on_proc_event, NULL);
	dispatch_on_peer_gone(on_peer_gone);
	return 0;
}

void proc_methods_exit(void)
{
	while (owned_list) {
		struct owned *o = owned_list;

		owned_list = o->next;
		free(o);
	}
}

int proc_methods_restore(void)
{
	/* A copy: starting a service again re-keys it under its new id. */
	json_t *coll = json_deep_copy(state_collection(PROC_COLL)), *doc;
	const char *id;
	int started = 0;

	json_object_foreach(coll, id, doc) {
		const char *netns = json_string_value(json_object_get(doc, "netns"));
		const char *name = json_string_value(json_object_get(doc, "name"));
		_cleanup_(freep) char *new_id = NULL;
		struct proc_info info;

		if (proc_get(id, &info) == 0 || (name && proc_get(name, &info) == 0))
			continue; /* adopted: still supervised by its shim */
		if (netns && links_netns_access(netns) != 1) {
			log_error("Not starting service %s again: namespace '%s' is not restored",
				  id, netns);
			continue;
		}
		if (spawn_from(doc, NULL, 0, NULL, &new_id) < 0 || !new_id)
			continue;
		state_del(PROC_COLL, id);
		state_put(PROC_COLL, new_id, json_incref(doc));
		started++;
	}
	json_decref(coll);
	return started;
}

static const struct param p_spawn[] = {
	{ .name = "netns", .type = P_NETNS },
	{ .name = "argv",
	  .type = P_ARRAY,
	  .required = true,
	  .min = 1,
	  .max = MAX_ARGV,
	  .check = check_argv },
	{ .name = "env", .type = P_OBJECT, .check = check_env },
	{ .name = "env_replace", .type = P_BOOL },
	{ .name = "cwd", .type = P_STRING, .min = 1, .max = 4096, .check = check_cwd },
	{ .name = "user", .type = P_ANY, .check = check_credential },
	{ .name = "group", .type = P_ANY, .check = check_credential },
	{ .name = "stdin", .type = P_ANY },
	{ .name = "stdout", .type = P_ANY },
	{ .name = "stderr", .type = P_ANY },
	{ .name = "restart", .type = P_STRING, .max = 16 },
	{ .name = "name", .type = P_STRING, .max = 64, .check = check_name },
	{ .name = "tty", .type = P_BOOL },
	{ .name = "ephemeral", .type = P_BOOL },
	{ .name = "log_max_bytes", .type = P_INT, .min = 0, .max = 1LL << 50 },
	{ .name = "log_files", .type = P_INT, .min = 1, .max = PROC_LOG_FILES_MAX },
	{ .name = "pidfd", .type = P_BOOL },
	{ 0 },
};

static const struct param p_id[] = {
	{ .name = "id", .type = P_STRING, .required = true, .min = 1, .max = 64 },
	{ 0 },
};

static const struct param p_list[] = {
	{ .name = "netns", .type = P_NETNS },
	{ 0 },
};

static const struct param p_kill[] = {
	{ .name = "id", .type = P_STRING, .required = true, .min = 1, .max = 64 },
	{ .name = "signal", .type = P_ANY },
	{ 0 },
};

static const struct param p_wait[] = {
	{ .name = "id", .type = P_STRING, .required = true, .min = 1, .max = 64 },
	{ .name = "timeout_ms", .type = P_INT, .min = 0, .max = 86400000 },
	{ 0 },
};

static const struct param p_logs[] = {
	{ .name = "id", .type = P_STRING, .required = true, .min = 1, .max = 64 },
	{ .name = "tail", .type = P_INT, .min = 0, .max = 100000 },
	{ 0 },
};

static const struct param p_delete[] = {
	{ .name = "id", .type = P_STRING, .required = true, .min = 1, .max = 64 },
	{ .name = "grace_ms", .type = P_INT, .min = 0, .max = 600000 },
	{ 0 },
};

const struct method proc_methods[] = {
	{ .name = "proc.spawn",
	  .fn = method_spawn,
	  .params = p_spawn,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "proc.list", .fn = method_list, .params = p_list, .access = ACCESS_ADMIN },
	{ .name = "proc.get", .fn = method_get, .params = p_id, .access = ACCESS_ADMIN },
	{ .name = "proc.kill", .fn = method_kill, .params = p_kill, .access = ACCESS_ADMIN },
	{ .name = "proc.wait", .fn = method_wait, .params = p_wait, .access = ACCESS_ADMIN },
	{ .name = "proc.logs", .fn = method_logs, .params = p_logs, .access = ACCESS_ADMIN },
	{ .name = "proc.stop", .fn = method_stop, .params = p_delete, .access = ACCESS_ADMIN },
	{ .name = "proc.delete",
	  .fn = method_delete,
	  .params = p_delete,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
};
const size_t proc_methods_count = ELEMENTSOF(proc_methods);
