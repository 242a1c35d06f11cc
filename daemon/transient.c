/*
 * transient: transient systemd services over sd-bus, on the libuv loop (see transient.h).
 *
 * sd-bus does the protocol; this file only feeds it.  After every dispatch and every call
 * queued, rearm() asks sd-bus which poll events it wants on its fd and when its next
 * timeout is (reply timeouts), and sets the uv_poll and the uv_timer accordingly.
 *
 * A start goes through three asynchronous steps, each a callback here:
 *   StartTransientUnit -> the job's object path (the reply precedes the job's signals,
 *   D-Bus keeps the order of one sender's messages) -> JobRemoved for that path with its
 *   result -> Properties.Get MainPID of the unit.
 * systemd sends JobRemoved of a job to the client that queued it without a Subscribe(),
 * so we never ask for the flood of every unit's changes.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "transient.h"
#include "util.h"

#define SYSTEMD_PRIVATE "/run/systemd/private"

/* Messages dispatched per loop callback at most. */
#define PROCESS_BATCH 64

/* How long systemd may take to answer one call. */
#define CALL_TIMEOUT_USEC (30ull * 1000 * 1000)

struct transient_job {
	struct transient_job *prev, *next;
	char *unit;
	char *job_path; /* from the reply to StartTransientUnit */
	sd_bus_slot *slot;
	transient_cb cb;
	void *userdata;
};

static struct {
	uv_loop_t *loop;
	sd_bus *bus;
	sd_bus_slot *match;
	uv_poll_t *poll; /* per connection: a closing one may outlive it */
	uv_timer_t timer;
	bool has_timer;
	bool broken; /* noticed outside process(): disconnect there */
	struct transient_job *jobs;
} T;

static void disconnect(void);

static void job_unlink(struct transient_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else if (T.jobs == j)
		T.jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void job_free(struct transient_job *j)
{
	if (!j)
		return;
	sd_bus_slot_unref(j->slot);
	free(j->unit);
	free(j->job_path);
	free(j);
}

/* The end of a start: unlink, report, free.  The callback may start or cancel others. */
static void job_done(struct transient_job *j, int r, int pidfd, const char *message)
{
	transient_cb cb = j->cb;
	void *userdata = j->userdata;

	job_unlink(j);
	job_free(j);
	cb(r, pidfd, message, userdata);
}

static void on_timer(uv_timer_t *t);
static void on_poll(uv_poll_t *h, int status, int events);

static void timer_closed(uv_handle_t *h)
{
	(void)h;
}

static void poll_closed(uv_handle_t *h)
{
	free(h);
}

/*
 * Tell libuv what sd-bus waits for now.  A failure is left for process() to act on (from
 * the timer, at once), so that no caller sees callbacks run from within its own call.
 */
static void rearm(void)
{
	struct timespec ts;
	uint64_t until, now;
	int events, uvev = 0;

	if (!T.bus)
		return;
	events = sd_bus_get_events(T.bus);
	if (events >= 0) {
		if (events & POLLIN)
			uvev |= UV_READABLE;
		if (events & POLLOUT)
			uvev |= UV_WRITABLE;
		if (uv_poll_start(T.poll, uvev, on_poll) < 0)
			events = -1;
	}
	if (events < 0) {
		T.broken = true;
		uv_timer_start(&T.timer, on_timer, 0, 0);
		return;
	}
	if (sd_bus_get_timeout(T.bus, &until) < 0 || until == UINT64_MAX) {
		uv_timer_stop(&T.timer);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	uv_timer_start(&T.timer, on_timer, until > now ? (until - now + 999) / 1000 : 0, 0);
}

/* Let sd-bus do all it can; callbacks run from here. */
static void process(void)
{
	int r;

	if (T.broken) {
		disconnect();
		return;
	}
	/* A bounded batch: PID 1 sends every signal to a direct connection, and the loop has
	 * other work.  What is left makes sd_bus_get_timeout() 0, so rearm() comes back. */
	for (unsigned n = 0; T.bus && n < PROCESS_BATCH; n++) {
		r = sd_bus_process(T.bus, NULL);
		if (r < 0) {
			disconnect();
			return;
		}
		if (r == 0)
			break;
	}
	rearm();
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)h;
	(void)status;
	(void)events;
	process();
}

static void on_timer(uv_timer_t *t)
{
	(void)t;
	process();
}

/* Drop the connection; starts still waiting learn -ENOTCONN. */
static void disconnect(void)
{
	struct transient_job *j, *jobs = T.jobs;

	if (T.poll) {
		uv_close((uv_handle_t *)T.poll, poll_closed);
		T.poll = NULL;
	}
	if (T.has_timer)
		uv_timer_stop(&T.timer);
	T.broken = false;
	T.match = sd_bus_slot_unref(T.match);
	if (T.bus) {
		/* The slots of pending calls go with their jobs, below. */
		sd_bus_close(T.bus);
		T.bus = sd_bus_unref(T.bus);
	}
	/* Callbacks may start again (on a new connection): take the list first. */
	T.jobs = NULL;
	while ((j = jobs)) {
		jobs = j->next;
		if (jobs)
			jobs->prev = NULL;
		j->next = NULL;
		job_done(j, -ENOTCONN, -1, "The connection to the system bus was lost");
	}
}

/* The pid is the unit's if /proc/PID/cgroup ends in "/UNIT". */
static bool pid_in_unit(int pid, const char *unit)
{
	_cleanup_(freep) char *text = NULL;
	char path[64];
	size_t ul = strlen(unit);
	const char *line;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (read_small_file(path, 16384, &text) < 0)
		return false;
	for (line = text; line && *line;) {
		const char *end = strchrnul(line, '\n');

		if ((size_t)(end - line) > ul && line[end - line - ul - 1] == '/' &&
		    memcmp(end - ul, unit, ul) == 0)
			return true;
		line = *end ? end + 1 : NULL;
	}
	return false;
}

static int on_main_pid(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct transient_job *j = userdata;
	uint32_t pid = 0;
	int fd;

	(void)ret_error;
	j->slot = sd_bus_slot_unref(j->slot);
	if (sd_bus_message_is_method_error(m, NULL) || sd_bus_message_read(m, "v", "u", &pid) < 0 ||
	    pid == 0 || pid > INT32_MAX) {
		/* Started, and (as far as we can tell) gone already. */
		job_done(j, 0, -1, NULL);
		return 0;
	}
	fd = pidfd_open((pid_t)pid, 0);
	if (fd >= 0 && !pid_in_unit((int)pid, j->unit)) {
		close(fd);
		fd = -1;
	}
	job_done(j, fd >= 0 ? (int)pid : 0, fd, NULL);
	return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const char *path, *unit, *result;
	_cleanup_(freep) char *unit_path = NULL;
	struct transient_job *j;
	char msg[256];
	uint32_t id;
	int r;

	(void)userdata;
	(void)ret_error;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	for (j = T.jobs; j; j = j->next)
		if (j->job_path && !j->slot && strcmp(j->job_path, path) == 0)
			break;
	if (!j)
		return 0;
	if (strcmp(result, "done") != 0) {
		snprintf(msg, sizeof(msg), "systemd could not start %s: job %s", j->unit, result);
		job_done(j, -EIO, -1, msg);
		return 0;
	}
	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", j->unit, &unit_path);
	if (r >= 0)
		r = sd_bus_call_method_async(T.bus, &j->slot, "org.freedesktop.systemd1", unit_path,
					     "org.freedesktop.DBus.Properties", "Get", on_main_pid,
					     j, "ss", "org.freedesktop.systemd1.Service",
					     "MainPID");
	if (r < 0)
		job_done(j, 0, -1, NULL);
	return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct transient_job *j = userdata;
	const char *path;
	int r;

	(void)ret_error;
	j->slot = sd_bus_slot_unref(j->slot);
	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(m);
		int err = sd_bus_error_get_errno(e);

		job_done(j, err > 0 ? -err : -EIO, -1, e && e->message ? e->message : NULL);
		return 0;
	}
	r = sd_bus_message_read(m, "o", &path);
	if (r >= 0) {
		j->job_path = strdup(path);
		if (!j->job_path)
			r = -ENOMEM;
	}
	if (r < 0)
		job_done(j, r, -1, "Unexpected answer to StartTransientUnit");
	return 0;
}

/*
 * systemd's own socket first, as systemctl does for root: it needs no D-Bus broker (which
 * minimal systems lack, and which may restart), and PID 1 sends a job's signals to every
 * direct connection.  The system bus otherwise.
 */
static int open_bus(sd_bus **ret)
{
	sd_bus *b = NULL;
	int r;

	if (geteuid() == 0 && access(SYSTEMD_PRIVATE, F_OK) == 0) {
		r = sd_bus_new(&b);
		if (r >= 0)
			r = sd_bus_set_address(b, "unix:path=" SYSTEMD_PRIVATE);
		if (r >= 0)
			r = sd_bus_start(b);
		if (r >= 0) {
			*ret = b;
			return 0;
		}
		sd_bus_unref(b);
	}
	return sd_bus_open_system(ret);
}

static int connect_bus(void)
{
	int r, fd;

	if (T.bus)
		return 0;
	r = open_bus(&T.bus);
	if (r < 0)
		goto fail;
	/* On a direct connection messages carry no sender: match on the rest. */
	r = sd_bus_match_signal_async(
	    T.bus, &T.match, sd_bus_is_bus_client(T.bus) > 0 ? "org.freedesktop.systemd1" : NULL,
	    "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
	    on_job_removed, NULL, NULL);
	if (r < 0)
		goto fail;
	fd = sd_bus_get_fd(T.bus);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	T.poll = malloc(sizeof(*T.poll));
	if (!T.poll) {
		r = -ENOMEM;
		goto fail;
	}
	r = uv_poll_init(T.loop, T.poll, fd);
	if (r < 0) {
		free(T.poll);
		T.poll = NULL;
		goto fail;
	}
	rearm();
	return 0;
fail:
	disconnect();
	return r;
}

int transient_init(uv_loop_t *loop)
{
	T.loop = loop;
	uv_timer_init(loop, &T.timer);
	T.has_timer = true;
	return connect_bus();
}

void transient_exit(void)
{
	struct transient_job *j;

	while ((j = T.jobs)) {
		job_unlink(j);
		job_free(j);
	}
	disconnect();
	if (T.has_timer) {
		uv_close((uv_handle_t *)&T.timer, timer_closed);
		T.has_timer = false;
	}
	T.loop = NULL;
}

bool transient_connected(void)
{
	return T.bus && sd_bus_is_open(T.bus) > 0;
}

static int append_props(sd_bus_message *m, const struct transient_params *p)
{
	static const char *const stdio_props[] = { "StandardInputFileDescriptor",
						   "StandardOutputFileDescriptor",
						   "StandardErrorFileDescriptor" };
	int r;

	r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0 && p->description)
		r = sd_bus_message_append(m, "(sv)", "Description", "s", p->description);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Type", "s", "exec", "KillMode",
					  "s", "mixed", "CollectMode", "s", "inactive-or-failed",
					  "IgnoreSIGPIPE", "b", 0);
	for (unsigned i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_append(m, "(sv)", stdio_props[i], "h", p->stdio[i]);
	/* ExecStart: a(sasb), one command, failure not ignored. */
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "ExecStart");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sasb");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", p->argv[0]);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)p->argv);
	if (r >= 0)
		r = sd_bus_message_append(m, "b", 0);
	for (unsigned i = 0; r >= 0 && i < 4; i++)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m); /* a(sv) */
	return r;
}

int transient_start(const struct transient_params *p, transient_cb cb, void *userdata,
		    struct transient_job **ret_job)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	struct transient_job *j;
	int r;

	if (!T.loop || !p || !p->unit || !p->argv || !p->argv[0] || p->argv[0][0] != '/' || !cb)
		return -EINVAL;
	if (T.broken || (T.bus && sd_bus_is_open(T.bus) <= 0)) {
		/* process() will drop it; the next start connects afresh. */
		T.broken = true;
		uv_timer_start(&T.timer, on_timer, 0, 0);
		return -ENOTCONN;
	}
	r = connect_bus();
	if (r < 0)
		return r;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->unit = strdup(p->unit);
	j->cb = cb;
	j->userdata = userdata;
	if (!j->unit) {
		r = -ENOMEM;
		goto fail;
	}
	r = sd_bus_message_new_method_call(
	    T.bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", p->unit, "fail");
	if (r >= 0)
		r = append_props(m, p);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(T.bus, &j->slot, m, on_start_reply, j, CALL_TIMEOUT_USEC);
	if (r < 0)
		goto fail;
	j->next = T.jobs;
	if (T.jobs)
		T.jobs->prev = j;
	T.jobs = j;
	if (ret_job)
		*ret_job = j;
	rearm();
	return 0;
fail:
	job_free(j);
	return r;
}

void transient_cancel(struct transient_job *j)
{
	if (!j)
		return;
	job_unlink(j);
	job_free(j);
}
