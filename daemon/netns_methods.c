/*
 * netns_methods.c: netns.* methods.  Translates params into netns specs,
 * calls the netns module, records the desired state and builds results.
 *
 * Ownership: a namespace is managed when the desired state holds its name
 * and the recorded identity (nsfs inode) still matches what is mounted.
 * Everything else under /run/netns is listed as unmanaged and never touched.
 */
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <uv.h>

#include "links.h"
#include "log.h"
#include "model.h"
#include "nlcache.h"
#include "reconcile.h"
#include "method_ctx.h"
#include "method_families.h"
#include "netns.h"
#include "proc.h"
#include "spec.h"
#include "state.h"

#define COLL		       "netns"
#define DELETE_POLL_MS	       20
#define DELETE_KILL_WAIT_MS    2000
#define DELETE_OUTSIDE_WAIT_MS 3000

struct deletion {
	struct call *call;
	char name[NETNS_NAME_MAX + 1];
	struct netns_id id;
	uv_timer_t timer;
	uint64_t term_deadline, kill_deadline;
	json_t *terminated, *killed, *processes;
	json_t *outside;	   /* veth ends elsewhere that go with the namespace */
	uint64_t outside_deadline; /* then they are deleted one by one */
	unsigned grace_ms;
	size_t alive; /* processes seen by the last scan */
	struct deletion *next, *start_next;
};

static struct deletion *deletions;

static struct deletion *deletion_find(const char *name)
{
	for (struct deletion *d = deletions; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* The result object of netns.get and of each netns.list entry. */
static json_t *netns_view(const char *name, json_t *doc)
{
	struct netns_id id;
	json_t *o = json_object();
	bool mounted = netns_stat(name, &id) == 0;
	bool managed = doc && mounted && netns_pinned_mounted(name);
	int nsid = -1;

	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "managed", json_boolean(managed));
	json_object_set_new(o, "mounted", json_boolean(mounted));
	if (mounted) {
		_cleanup_(closep) int fd = netns_open(name);

		if (fd >= 0)
			netns_get_nsid(fd, &nsid);
		json_object_set_new(o, "inode", json_integer((json_int_t)id.ino));
	}
	json_object_set_new(o, "nsid", nsid >= 0 ? json_integer(nsid) : json_null());
	if (managed || (doc && !mounted)) {
		static const char *const copy[] = { "created", "sysctls", "resolv_conf", "hosts",
						    "topology" };

		for (size_t i = 0; i < ELEMENTSOF(copy); i++) {
			json_t *v = json_object_get(doc, copy[i]);

			if (v)
				json_object_set(o, copy[i], v);
		}
	}
	if (deletion_find(name))
		json_object_set_new(o, "deleting", json_true());
	return o;
}

static void fail_create(struct call *c, int r, const struct netns_spec *spec,
			const struct netns_failure *f)
{
	char field[256];

	switch (f->part) {
	case NETNS_PART_SYSCTL:
		snprintf(field, sizeof(field), "sysctls.%s", spec->sysctls[f->index].key);
		return call_fail_errno(c, r, field,
				       "Failed to set sysctl '%s' in namespace '%s': %s",
				       spec->sysctls[f->index].key, spec->name, strerror(-r));
	case NETNS_PART_NSID:
		return call_fail_errno(c, r, "nsid", "Failed to assign nsid %d to '%s': %s",
				       spec->nsid, spec->name, strerror(-r));
	case NETNS_PART_RESOLV_CONF:
		return call_fail_errno(c, r, "resolv_conf",
				       "Failed to write " NETNS_ETC_DIR "/%s/resolv.conf: %s",
				       spec->name, strerror(-r));
	case NETNS_PART_HOSTS:
		return call_fail_errno(c, r, "hosts",
				       "Failed to write " NETNS_ETC_DIR "/%s/hosts: %s", spec->name,
				       strerror(-r));
	default:
		if (r == -EEXIST)
			return call_fail(c, RPC_KIND_EXISTS, EEXIST, "name",
					 "Namespace '%s' already exists (not created by netnsd)",
					 spec->name);
		return call_fail_errno(c, r, "name", "Failed to create namespace '%s': %s",
				       spec->name, strerror(-r));
	}
}

static void method_add(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	struct netns_spec_buf buf;
	struct netns_failure fail;
	struct netns_id id;
	char ts[32];
	int r, intent;

	if (state_get(COLL, name) || deletion_find(name))
		return call_fail(c, deletion_find(name) ? RPC_KIND_BUSY : RPC_KIND_EXISTS,
				 deletion_find(name) ? EBUSY : EEXIST, "name",
				 deletion_find(name) ? "Namespace '%s' is being deleted"
						     : "Namespace '%s' already exists",
				 name);
	if (json_object_size(state_collection(COLL)) >= method_ctx_get()->max_namespaces)
		return call_fail(c, RPC_KIND_LIMIT, 0, NULL,
				 "Too many namespaces: the limit is %zu",
				 method_ctx_get()->max_namespaces);
	r = spec_netns_from_json(name, params, &buf);
	if (r < 0)
		return call_fail_errno(c, r, NULL, "Failed to read the namespace spec: %s",
				       strerror(-r));
	intent = state_intent_begin(reconcile_intent(COLL, name, json_pack("{s:s}", "name", name)));
	r = netns_create(&buf.spec, &id, &fail);
	if (r < 0) {
		state_intent_end(intent);
		fail_create(c, r, &buf.spec, &fail);
		spec_netns_done(&buf);
		return;
	}
	r = state_put(COLL, name,
		      spec_netns_to_json(&buf.spec, &id, netns_boot_id(),
					 format_rfc3339(realtime_usec(), ts)));
	spec_netns_done(&buf);
	if (r < 0) {
		netns_etc_remove(name);
		netns_remove(name);
		state_intent_end(intent);
		return call_fail_errno(c, r, NULL, "Failed to record namespace '%s': %s", name,
				       strerror(-r));
	}
	state_intent_commit(intent);
	netns_pin(name);
	if (model_watch(name) < 0)
		log_warning("Failed to follow namespace '%s'; no events from it", name);
	log_info("Created namespace '%s'", name);
	call_reply(c, netns_view(name, state_get(COLL, name)));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void method_list(struct call *c, json_t *params)
{
	json_t *out = json_array(), *colls = state_collection(COLL), *doc;
	char **names = NULL;
	const char *key;
	size_t n = 0;
	int r;

	r = netns_list_names(&names);
	if (r < 0)
		return call_fail_errno(c, r, NULL, "Failed to read " NETNS_RUN_DIR ": %s",
				       strerror(-r));
	while (names[n])
		n++;
	qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, netns_view(names[i], state_get(COLL, names[i])));
	/* Managed namespaces that are not mounted (restore failed, or removed by hand). */
	json_object_foreach(colls, key, doc) {
		if (!bsearch(&key, names, n, sizeof(char *), cmp_names))
			json_array_append_new(out, netns_view(key, doc));
	}
	netns_strv_free(names);
	call_reply(c, json_pack("{s:o}", "namespaces", out));
}

static void method_get(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *doc = state_get(COLL, name);
	struct netns_id id;

	if (!doc && netns_stat(name, &id) < 0)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name", "No namespace named '%s'",
				 name);
	call_reply(c, netns_view(name, doc));
}

static void method_pids(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	_cleanup_(freep) pid_t *pids = NULL;
	struct netns_id id;
	json_t *arr;
	size_t n = 0;
	int r;

	r = netns_stat(name, &id);
	if (r < 0)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name",
				 "No namespace named '%s' is mounted", name);
	r = netns_pids(&id, &pids, &n);
	if (r < 0)
		return call_fail_errno(c, r, NULL, "Failed to scan /proc: %s", strerror(-r));
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_integer(pids[i]));
	call_reply(c, json_pack("{s:s,s:o}", "name", name, "pids", arr));
}

static void method_identify(struct call *c, json_t *params)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(params, "pid"));
	struct netns_id id, nid;
	char **names = NULL;
	json_t *arr;
	int r;

	r = netns_pid_id(pid, &id);
	if (r == -ENOENT || r == -ESRCH)
		return call_fail(c, RPC_KIND_NOT_FOUND, ESRCH, "pid", "No process %d", (int)pid);
	if (r < 0)
		return call_fail_errno(c, r, "pid", "Cannot read the namespace of process %d: %s",
				       (int)pid, strerror(-r));
	r = netns_list_names(&names);
	if (r < 0)
		return call_fail_errno(c, r, NULL, "Failed to read " NETNS_RUN_DIR ": %s",
				       strerror(-r));
	arr = json_array();
	for (char **p = names; *p; p++)
		if (netns_stat(*p, &nid) == 0 && netns_id_equal(&id, &nid))
			json_array_append_new(arr, json_string(*p));
	netns_strv_free(names);
	call_reply(c, json_pack("{s:i,s:o}", "pid", (int)pid, "names", arr));
}

/*
 * netns.delete: SIGTERM, grace, SIGKILL, then unmount, never blocking.
 *
 * Deletions requested during one loop iteration are started together from a
 * check handle, so a pipelined burst shares one pass over /proc.  Those whose
 * namespace holds no process finish at once; the others poll on a timer.
 */

static struct deletion *starting; /* not yet scanned, in the order asked */
static uv_check_t start_check;
static uv_idle_t start_idle;
static bool start_armed;

static void deletion_unlink(struct deletion *d)
{
	struct deletion **pp;

	for (pp = &deletions; *pp && *pp != d; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = d->next;
}

static void signal_pid(pid_t pid, int sig, json_t *record)
{
	/* Through a pidfd, so a PID reused since the scan is never hit. */
	int fd = pidfd_open(pid, 0);

	if (fd < 0) {
		/* No pidfds (old kernel, or valgrind): the plain, racy way. */
		if (errno == ENOSYS && kill(pid, sig) == 0 && record)
			json_array_append_new(record, json_integer(pid));
		return;
	}
	if (pidfd_send_signal(fd, sig, NULL, 0) == 0 && record)
		json_array_append_new(record, json_integer(pid));
	close(fd);
}

struct scan_ctx {
	struct deletion **v;
	int sig;
	bool killing;
};

static void on_scan_match(size_t index, pid_t pid, void *data)
{
	struct scan_ctx *ctx = data;
	struct deletion *d = ctx->v[index];

	if (ctx->sig)
		signal_pid(pid, ctx->sig, ctx->killing ? d->killed : d->terminated);
	d->alive++;
}

static void deletion_closed(uv_handle_t *h)
{
	struct deletion *d = container_of((uv_timer_t *)h, struct deletion, timer);

	json_decref(d->terminated);
	json_decref(d->killed);
	json_decref(d->processes);
	json_decref(d->outside);
	free(d);
}

static void deletion_reply(struct deletion *d)
{
	deletion_unlink(d);
	log_info("Deleted namespace '%s'", d->name);
	call_reply(d->call,
		   json_pack("{s:s,s:O,s:O,s:O}", "name", d->name, "terminated", d->terminated,
			     "killed", d->killed, "processes", d->processes));
	uv_close((uv_handle_t *)&d->timer, deletion_closed);
}

/*
 * Waiting for the other ends of a namespace's veths to go.  One timer for
 * every deletion: each tick lists the links of each namespace concerned
 * once, however many deletions wait.
 */
static uv_timer_t outside_timer;
static bool outside_timer_init;

static bool outside_gone(struct deletion *d, json_t *seen)
{
	uint64_t now = now_usec();
	size_t i;
	json_t *e;

	json_array_foreach(d->outside, i, e) {
		const char *ns = json_string_value(json_object_get(e, "netns"));
		const char *name = json_string_value(json_object_get(e, "name"));
		json_int_t ifindex = json_integer_value(json_object_get(e, "ifindex"));
		json_t *names = json_object_get(seen, ns ? ns : "");

		/* Gone, or the name is another device's now (a veth made since). */
		if (!names || json_integer_value(json_object_get(names, name)) != ifindex)
			continue;
		if (now < d->outside_deadline)
			return false;
		/* Something keeps the namespace alive: delete this end ourselves. */
		{
			struct nl *nl;

			if (nlcache_get(ns, &nl) == 0)
				nl_link_del(nl, NL_IFINDEX((int)ifindex));
		}
	}
	return true;
}

static void on_outside_tick(uv_timer_t *t)
{
	json_t *seen = json_object();
	bool waiting = false;
	size_t i;
	json_t *e;

	for (struct deletion *d = deletions; d; d = d->next) {
		if (!d->outside)
			continue;
		json_array_foreach(d->outside, i, e) {
			const char *ns = json_string_value(json_object_get(e, "netns"));
			_cleanup_(freep) struct nl_link_info *links = NULL;
			json_t *names;
			struct nl *nl;
			int n;

			if (json_object_get(seen, ns ? ns : ""))
				continue;
			names = json_object();
			json_object_set_new(seen, ns ? ns : "", names);
			if (nlcache_get(ns, &nl) < 0 || (n = nl_link_list(nl, &links)) < 0)
				continue;
			for (int k = 0; k < n; k++)
				json_object_set_new(names, links[k].name,
						    json_integer(links[k].ifindex));
		}
	}
	for (struct deletion *d = deletions, *next; d; d = next) {
		next = d->next;
		if (!d->outside)
			continue;
		if (outside_gone(d, seen))
			deletion_reply(d);
		else
			waiting = true;
	}
	json_decref(seen);
	if (!waiting)
		uv_timer_stop(t);
}

static void deletion_finish(struct deletion *d)
{
	int r;

	uv_timer_stop(&d->timer); /* no more process polling */
	d->outside = links_release_netns(d->name);
	model_unwatch(d->name);
	netns_etc_remove(d->name);
	r = netns_remove(d->name);
	if (r < 0 && r != -ENOENT) {
		deletion_unlink(d);
		call_fail_errno(d->call, r, NULL, "Failed to unmount namespace '%s': %s", d->name,
				strerror(-r));
		uv_close((uv_handle_t *)&d->timer, deletion_closed);
		return;
	}
	state_del(COLL, d->name);
	/* Our last reference: the kernel can now free it, and its veths with it. */
	netns_unpin(d->name);
	if (json_array_size(d->outside) == 0)
		return deletion_reply(d);
	d->outside_deadline = now_usec() + DELETE_OUTSIDE_WAIT_MS * 1000ull;
	if (!outside_timer_init) {
		uv_timer_init(uv_default_loop(), &outside_timer);
		outside_timer_init = true;
	}
	if (!uv_is_active((uv_handle_t *)&outside_timer))
		uv_timer_start(&outside_timer, on_outside_tick, DELETE_POLL_MS, DELETE_POLL_MS);
}

/* Count (and optionally signal) the processes left in one namespace. */
static void deletion_scan(struct deletion *d, int sig)
{
	struct scan_ctx ctx = { &d, sig, sig == SIGKILL };

	d->alive = 0;
	netns_pids_scan(&d->id, 1, on_scan_match, &ctx);
}

static void on_deletion_tick(uv_timer_t *t)
{
	struct deletion *d = container_of(t, struct deletion, timer);
	uint64_t now = now_usec();

	deletion_scan(d, 0);
	if (d->alive == 0)
		return deletion_finish(d);
	if (!d->kill_deadline && now >= d->term_deadline) {
		deletion_scan(d, SIGKILL);
		d->kill_deadline = now + DELETE_KILL_WAIT_MS * 1000ull;
	} else if (d->kill_deadline && now >= d->kill_deadline) {
		/* Unkillable (D state): unmount anyway; the kernel frees it later. */
		log_warning("Processes in namespace '%s' survived SIGKILL; unmounting anyway",
			    d->name);
		deletion_finish(d);
	}
}

static void on_start_check(uv_check_t *h)
{
	struct deletion *list = TAKE_PTR(starting), *d, *next;
	_cleanup_(freep) struct netns_id *ids = NULL;
	_cleanup_(freep) struct deletion **v = NULL;
	size_t n = 0, i;

	uv_check_stop(&start_check);
	uv_idle_stop(&start_idle);
	start_armed = false;
	for (d = list; d; d = d->start_next)
		n++;
	ids = calloc(n, sizeof(*ids));
	v = calloc(n, sizeof(*v));
	if (!ids || !v) {
		for (d = list; d; d = next) {
			next = d->start_next;
			deletion_unlink(d);
			call_fail(d->call, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
			uv_close((uv_handle_t *)&d->timer, deletion_closed);
		}
		return;
	}
	for (d = list, i = 0; d; d = d->start_next, i++) {
		ids[i] = d->id;
		v[i] = d;
	}
	netns_pids_scan(ids, n, on_scan_match, &(struct scan_ctx){ v, SIGTERM, false });
	for (i = 0; i < n; i++) {
		if (v[i]->alive == 0)
			deletion_finish(v[i]);
		else
			uv_timer_start(&v[i]->timer, on_deletion_tick, DELETE_POLL_MS,
				       DELETE_POLL_MS);
	}
}

static void on_start_idle(uv_idle_t *h)
{
	/* Keeps the loop from sleeping until the check handle ran. */
}

static void deletion_start(struct deletion *d)
{
	struct deletion **pp;

	if (!start_check.loop) {
		uv_check_init(uv_default_loop(), &start_check);
		uv_idle_init(uv_default_loop(), &start_idle);
		uv_unref((uv_handle_t *)&start_check);
	}
	for (pp = &starting; *pp; pp = &(*pp)->start_next)
		;
	*pp = d;
	if (!start_armed) {
		uv_check_start(&start_check, on_start_check);
		uv_idle_start(&start_idle, on_start_idle);
		start_armed = true;
	}
}

static int collect_proc(const struct proc_info *info, void *userdata)
{
	json_array_append_new(userdata, json_string(info->id));
	return 0;
}

/* Services of a namespace that goes leave the desired state with it. */
static void forget_services(const char *netns)
{
	json_t *coll = state_collection("proc"), *doc, *gone = json_array(), *k;
	const char *id;
	size_t i;

	json_object_foreach(coll, id, doc) {
		const char *ns = json_string_value(json_object_get(doc, "netns"));

		if (ns && !strcmp(ns, netns))
			json_array_append_new(gone, json_string(id));
	}
	json_array_foreach(gone, i, k)
		state_del("proc", json_string_value(k));
	json_decref(gone);
}

static void on_procs_stopped(int r, void *userdata)
{
	struct deletion *d = userdata;

	/* What is left (not started by netnsd) gets SIGTERM, grace, SIGKILL. */
	d->term_deadline = now_usec() + (uint64_t)d->grace_ms * 1000;
	deletion_start(d);
}

static void method_delete(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *grace = json_object_get(params, "grace_ms");
	json_t *doc = state_get(COLL, name);
	struct netns_id id;
	struct deletion *d;
	int r;

	if (deletion_find(name))
		return call_fail(c, RPC_KIND_BUSY, EBUSY, "name", "Namespace '%s' is being deleted",
				 name);
	r = netns_stat(name, &id);
	if (!doc)
		return r == 0 || r == -ENOTCONN
			   ? call_fail(c, RPC_KIND_PERMISSION, EPERM, "name",
				       "Namespace '%s' was not created by netnsd; refusing to "
				       "delete it",
				       name)
			   : call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name",
				       "No namespace named '%s'", name);
	if (r < 0 || !netns_pinned_mounted(name)) {
		/*
		 * Gone, or replaced by a namespace someone else mounted: forget
		 * it, and leave whatever is mounted there alone.
		 */
		if (r == -ENOTCONN)
			netns_remove(name);
		if (r < 0)
			netns_etc_remove(name); /* nothing mounted uses them */
		json_decref(links_release_netns(name));
		model_unwatch(name);
		state_del(COLL, name);
		netns_unpin(name);
		return call_reply(c, json_pack("{s:s,s:[],s:[],s:[]}", "name", name, "terminated",
					       "killed", "processes"));
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return call_fail(c, RPC_KIND_LIMIT, ENOMEM, NULL, "Out of memory");
	d->call = c;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->id = id;
	d->terminated = json_array();
	d->killed = json_array();
	d->processes = json_array();
	d->grace_ms = grace ? (unsigned)json_integer_value(grace) : 3000;
	d->next = deletions;
	deletions = d;
	uv_timer_init(uv_default_loop(), &d->timer);
	/* netnsd's own processes first, through their supervisors: exact exit status. */
	proc_foreach(name, collect_proc, d->processes);
	forget_services(name);
	if (proc_stop_netns(name, d->grace_ms, on_procs_stopped, d) < 0)
		on_procs_stopped(0, d);
}

/*
 * netns.open: the namespace as a descriptor (SCM_RIGHTS on the reply), so a
 * tool can setns() without a path.  Namespaces netnsd did not make are
 * opened too (managed: false): a descriptor changes nothing by itself, and
 * `ip netns exec` would enter them as well.
 */
static void method_open(struct call *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	struct netns_id id;
	bool pinned;
	json_t *idx;
	int fd;

	fd = netns_open_checked(name, &id, &pinned);
	if (fd == -ENOENT)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name",
				 "No namespace named '%s' is mounted", name);
	if (fd < 0)
		return call_fail_errno(c, fd, "name", "Failed to open namespace '%s': %s", name,
				       strerror(-fd));
	idx = method_ctx_attach_fd(c, fd);
	if (!idx)
		return;
	call_reply(c, json_pack("{s:s,s:b,s:I,s:o}", "name", name, "managed",
				pinned && state_get(COLL, name), "inode", (json_int_t)id.ino, "fd",
				idx));
}

void netns_methods_exit(void)
{
	if (outside_timer_init && !uv_is_closing((uv_handle_t *)&outside_timer))
		uv_close((uv_handle_t *)&outside_timer, NULL);
	outside_timer_init = false;
	/* Normally main's final walk closed them already. */
	if (start_check.loop && !uv_is_closing((uv_handle_t *)&start_check)) {
		uv_close((uv_handle_t *)&start_check, NULL);
		uv_close((uv_handle_t *)&start_idle, NULL);
	}
}

static const struct param p_name[] = {
	{ .name = "name", .type = P_NETNS, .required = true },
	{ 0 },
};

/*
 * netnsctl (like `ip link set ... netns host` users expect) takes "host" for the host's own
 * namespace everywhere, so a managed namespace of that name could never be named there.
 * One made by others stays reachable through the methods that take a name.
 */
static const char *check_not_reserved(json_t *v, const char **ret_sub)
{
	return strcmp(json_string_value(v), "host") ? NULL
						    : "'host' is reserved: it means the host's "
						      "own namespace";
}

static const struct param p_add[] = {
	{ .name = "name", .type = P_NETNS, .required = true, .check = check_not_reserved },
	{ .name = "nsid", .type = P_INT, .min = 0, .max = 0x7fffffff },
	{ .name = "sysctls", .type = P_OBJECT, .check = spec_sysctls_check },
	{ .name = "resolv_conf", .type = P_STRING, .max = 65536 },
	{ .name = "hosts", .type = P_STRING, .max = 1 << 20 },
	{ 0 },
};

static const struct param p_delete[] = {
	{ .name = "name", .type = P_NETNS, .required = true },
	{ .name = "grace_ms", .type = P_INT, .min = 0, .max = 600000 },
	{ 0 },
};

static const struct param p_identify[] = {
	{ .name = "pid", .type = P_INT, .required = true, .min = 1, .max = 0x7fffffff },
	{ 0 },
};

static const struct param p_none[] = { { 0 } };

const struct method netns_methods[] = {
	{ .name = "netns.add",
	  .fn = method_add,
	  .params = p_add,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "netns.delete",
	  .fn = method_delete,
	  .params = p_delete,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "netns.list", .fn = method_list, .params = p_none, .access = ACCESS_ADMIN },
	{ .name = "netns.get", .fn = method_get, .params = p_name, .access = ACCESS_ADMIN },
	{ .name = "netns.pids", .fn = method_pids, .params = p_name, .access = ACCESS_ADMIN },
	{ .name = "netns.identify",
	  .fn = method_identify,
	  .params = p_identify,
	  .access = ACCESS_ADMIN },
	{ .name = "netns.open", .fn = method_open, .params = p_name, .access = ACCESS_ADMIN },
};
const size_t netns_methods_count = ELEMENTSOF(netns_methods);
