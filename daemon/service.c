/*
 * service.c: start-up and shut-down order of the daemon (see service.h).
 */
#include <grp.h>
#include <jansson.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "method_families.h"
#include "methods.h"
#include "model.h"
#include "netns.h"
#include "nlcache.h"
#include "proc.h"
#include "peer.h"
#include "reconcile.h"
#include "rpc.h"
#include "service.h"
#include "state.h"
#include "topology.h"
#include "transient.h"

/* How far service_start() got, so that undoing stops exactly what started. */
enum stage {
	STAGE_NONE,
	STAGE_NETNS,
	STAGE_STATE,
	STAGE_MODEL,
	STAGE_PROC,
	STAGE_METHODS,
	STAGE_RPC,
};

static enum stage stage;
static bool closed;
static int runtime_lock_fd = -1;
static char *runtime_dir; /* a copy: daemon.info reports it for the daemon's lifetime */

/*
 * A runtime directory holds the records of the processes of one state: two netnsd with
 * different state directories sharing it would adopt each other's processes.  Held for
 * the daemon's lifetime; the kernel drops it when netnsd dies.
 */
static int lock_runtime_dir(const char *dir)
{
	_cleanup_(freep) char *path = NULL;
	pid_t holder;
	int r;

	r = mkdir_p(dir, 0755);
	if (r < 0) {
		log_error("Failed to create runtime directory '%s': %s", dir, strerror(-r));
		return r;
	}
	if (asprintf(&path, "%s/lock", dir) < 0)
		return -ENOMEM;
	r = lock_file(path, &holder);
	if (r == -EBUSY && holder > 0)
		log_error("Runtime directory '%s' is in use by another netnsd (pid %d); give each "
			  "netnsd its own --runtime-dir",
			  dir, (int)holder);
	else if (r == -EBUSY)
		log_error("Runtime directory '%s' is in use by another netnsd; give each netnsd "
			  "its own --runtime-dir",
			  dir);
	else if (r < 0)
		log_error("Failed to lock runtime directory '%s': %s", dir, strerror(-r));
	if (r < 0)
		return r;
	runtime_lock_fd = r;
	return 0;
}

static void log_foreign(const char *dir, const char *state_dir)
{
	const char *const *ids;
	size_t n;

	ids = proc_foreign(&n);
	for (size_t i = 0; i < n; i++)
		log_warning("Not adopting supervised process %s in '%s/procs': another netnsd "
			    "state (not '%s') made it",
			    ids[i], dir, state_dir);
}
static bool transient_started;

static void on_launch_fallback(int err, void *userdata)
{
	(void)userdata;
	log_warning("Failed to ask systemd to start a process (%s): processes are started by "
		    "netnsd itself from now on and inherit its sandbox",
		    strerror(-err));
}

/*
 * Choose who starts supervised processes (see proc_set_launcher()) and say why; the
 * reason is one of the stable words daemon.info reports.  -errno only when systemd was
 * demanded and cannot be reached.
 */
static int start_launcher(uv_loop_t *loop, const char *mode, const char **ret_reason)
{
	bool demanded = mode && strcmp(mode, "systemd") == 0;
	int r;

	if (mode && strcmp(mode, "direct") == 0) {
		*ret_reason = "configured";
		log_info("Processes are started by netnsd itself (--spawn=direct)");
		return 0;
	}
	if (!demanded && sd_booted() <= 0) {
		*ret_reason = "not-booted-with-systemd";
		log_info("Not booted with systemd: processes are started by netnsd itself");
		return 0;
	}
	r = transient_init(loop);
	transient_started = true;
	if (r < 0) {
		if (demanded) {
			log_error("Failed to connect to systemd over D-Bus (--spawn=systemd): %s",
				  strerror(-r));
			return r;
		}
		*ret_reason = "bus-unreachable";
		log_notice(
		    "systemd is unreachable over D-Bus (%s): processes are started by netnsd "
		    "itself and inherit its sandbox",
		    strerror(-r));
		return 0;
	}
	proc_set_launcher(&(struct proc_launch_config){ .launcher = PROC_LAUNCHER_SYSTEMD,
							.strict = demanded,
							.fallback_cb = on_launch_fallback });
	*ret_reason = demanded ? "configured" : "booted-with-systemd";
	log_info("Processes are started by systemd as transient units netnsd-proc-ID-RUN.service");
	return 0;
}

static gid_t lookup_group(const char *name)
{
	struct group *g = name ? getgrnam(name) : NULL;

	if (!g) {
		log_info("Admin group '%s' does not exist; only root may use the socket",
			 name ? name : "");
		return (gid_t)-1;
	}
	return g->gr_gid;
}

/* Follow every namespace netnsd owns, for events. */
static void watch_managed(void)
{
	const char *name;
	json_t *doc;

	json_object_foreach(state_collection("netns"), name, doc)
		if (netns_pinned_mounted(name) && model_watch(name) < 0)
			log_warning("Failed to follow namespace '%s'; no events from it", name);
}

int service_start(uv_loop_t *loop, const struct service_config *cfg, bool *ret_activated)
{
	struct method_ctx ctx = {
		.version = cfg->version,
		.start_usec = now_usec(),
		.socket_path = cfg->socket_path,
		.state_dir = cfg->state_dir,
		.max_namespaces = cfg->max_namespaces,
	};
	struct rpc_config rcfg = {
		.socket_path = cfg->socket_path,
		.admin_gid = lookup_group(cfg->admin_group),
		.max_message = cfg->max_message,
		.max_connections = cfg->max_connections,
		.max_queued = cfg->max_queued,
		.max_queued_total = cfg->max_queued_total,
		.message_timeout_ms = (unsigned)cfg->message_timeout_ms,
	};
	int r;

	closed = false;
	free(runtime_dir);
	runtime_dir = strdup(cfg->runtime_dir);
	if (!runtime_dir)
		return -ENOMEM;
	ctx.runtime_dir = runtime_dir;
	r = netns_init();
	if (r < 0) {
		log_error("Failed to open the host network namespace: %s", strerror(-r));
		goto fail;
	}
	stage = STAGE_NETNS;
	r = state_init(loop, cfg->state_dir, cfg->reset_corrupt);
	if (r < 0)
		goto fail;
	stage = STAGE_STATE;
	r = lock_runtime_dir(cfg->runtime_dir);
	if (r < 0)
		goto fail;
	dispatch_set_max_batch(cfg->max_batch);
	events_init(loop, &(struct events_config){ .backlog_bytes = cfg->event_backlog,
						   .stall_ms = (unsigned)cfg->event_stall_ms,
						   .max_subscriptions = cfg->max_subscriptions,
						   .ring_events = cfg->event_ring,
						   .ring_bytes = cfg->event_ring_bytes });
	/* A transaction a crash cut short is rolled back before anything is restored. */
	r = topology_recover();
	if (r > 0)
		log_notice("Rolled back %d unfinished topology transactions", r);
	reconcile_run();
	r = state_flush();
	if (r < 0)
		log_error("Failed to persist the restored state: %s", strerror(-r));

	r = model_init(loop, (int)cfg->monitor_rcvbuf);
	if (r < 0) {
		log_error("Failed to start the kernel monitor: %s", strerror(-r));
		goto fail;
	}
	stage = STAGE_MODEL;
	watch_managed();

	r = proc_init(loop, cfg->runtime_dir, cfg->shim);
	if (r < 0) {
		log_error("Failed to set up process supervision in '%s': %s", cfg->runtime_dir,
			  strerror(-r));
		goto fail;
	}
	stage = STAGE_PROC;
	proc_configure(&(struct proc_config){
	    .owner = state_identity(),
	    .log_max_bytes = cfg->log_max_bytes ? (int64_t)cfg->log_max_bytes : -1,
	    .log_files = (unsigned)cfg->log_files,
	});
	ctx.spawn = cfg->spawn ? cfg->spawn : "auto";
	r = start_launcher(loop, cfg->spawn, &ctx.spawn_reason);
	if (r < 0)
		goto fail;
	if (access(cfg->shim, X_OK) < 0)
		log_warning("Supervisor '%s' is missing: proc.spawn will fail", cfg->shim);

	methods_init(&ctx);
	peer_init(loop);
	proc_methods_init();
	stage = STAGE_METHODS;
	r = proc_adopt_all();
	if (r > 0)
		log_notice("Adopted %d supervised processes", r);
	log_foreign(cfg->runtime_dir, cfg->state_dir);
	r = proc_methods_restore();
	if (r > 0)
		log_notice("Started %d services again", r);
	r = topology_restore_services();
	if (r > 0)
		log_notice("Started %d topology services again", r);
	state_flush();

	r = rpc_init(loop, &rcfg, ret_activated);
	if (r < 0)
		goto fail;
	method_ctx_set_socket_activated(*ret_activated);
	stage = STAGE_RPC;
	return 0;
fail:
	service_close();
	service_free();
	return r < 0 ? r : -EIO;
}

void service_quiesce(void)
{
	if (stage >= STAGE_RPC)
		rpc_quiesce();
	dispatch_set_shutting_down(true);
}

bool service_idle(void)
{
	struct dispatch_stats ds;

	dispatch_get_stats(&ds);
	return ds.inflight == 0 && (stage < STAGE_RPC || rpc_drained());
}

void service_close(void)
{
	if (closed)
		return;
	closed = true;
	/* Supervised processes keep running; the next netnsd adopts them. */
	if (stage >= STAGE_PROC)
		proc_exit();
	if (transient_started)
		transient_exit();
	transient_started = false;
	if (stage >= STAGE_METHODS)
		peer_exit();
	if (stage >= STAGE_RPC)
		rpc_exit();
	if (stage >= STAGE_MODEL)
		model_exit();
	if (stage >= STAGE_STATE) {
		events_exit();
		state_exit();
	}
}

void service_free(void)
{
	if (stage >= STAGE_METHODS)
		methods_exit();
	nlcache_exit();
	reconcile_exit();
	topology_exit();
	if (stage >= STAGE_NETNS)
		netns_exit();
	if (runtime_lock_fd >= 0)
		close(TAKE_FD(runtime_lock_fd));
	free(TAKE_PTR(runtime_dir));
	stage = STAGE_NONE;
}
