/*
 * main.c: netnsd's entry point.  Parses the command line, brings the modules
 * up in dependency order (log, netns, state, methods/dispatch, reconcile,
 * rpc), tells systemd when it is ready, runs the loop, and on SIGTERM/SIGINT
 * shuts down in reverse order: stop accepting, finish what is in flight,
 * write out the replies, persist, exit 0.
 */
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "events.h"
#include "failpoint.h"
#include "log.h"
#include "netns.h"
#include "rpc.h"
#include "service.h"
#include "state.h"

#define DEFAULT_SOCKET	    "/run/netnsd/netnsd.sock"
#define DEFAULT_STATE_DIR   "/var/lib/netnsd"
#define DEFAULT_RUNTIME_DIR "/run/netnsd"
#ifndef NETNSD_LIBEXECDIR
#define NETNSD_LIBEXECDIR "/usr/local/libexec"
#endif
#define DEFAULT_GROUP	"netnsd"
#define SHUTDOWN_MAX_MS 10000

static struct {
	const char *socket_path, *state_dir, *admin_group, *runtime_dir, *shim, *spawn;
	size_t max_message, max_batch, max_connections, max_queued, max_queued_total, max_namespaces;
	size_t message_timeout_ms;
	size_t event_backlog, event_stall_ms, max_subscriptions, monitor_rcvbuf;
	size_t log_max_bytes, log_files;
	size_t event_ring, event_ring_bytes;
	bool reset_corrupt;
	int log_level;
} arg = {
	.socket_path = DEFAULT_SOCKET,
	.state_dir = DEFAULT_STATE_DIR,
	.runtime_dir = DEFAULT_RUNTIME_DIR,
	.admin_group = DEFAULT_GROUP,
	.spawn = "auto",
	.max_message = 1 << 20,
	.max_batch = 1024,
	.max_connections = 512,
	.max_queued = 16 << 20,
	.max_queued_total = 64 << 20,
	.message_timeout_ms = 30000,
	.max_namespaces = 65536,
	.event_backlog = 4 << 20,
	.event_stall_ms = 5000,
	.max_subscriptions = 1024,
	.monitor_rcvbuf = 32 << 20,
	.log_max_bytes = 8 << 20,
	.log_files = 2,
	.event_ring = 4096,
	.event_ring_bytes = 8 << 20,
	.log_level = LOG_INFO,
};

static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t watchdog_timer, shutdown_timer, status_timer;
static uint64_t shutdown_started;
static bool shutting_down;

static void help(void)
{
	printf(
	    "Usage: netnsd [OPTION]...\n"
	    "\n"
	    "netnsd owns named network namespaces (the same /run/netns bind mounts that\n"
	    "`ip netns add` makes), remembers them across restarts and reboots, and serves\n"
	    "JSON-RPC 2.0 (one message per line) on a Unix stream socket.  See netnsctl(8)\n"
	    "for the client and protocol/PROTOCOL.md for the wire protocol.\n"
	    "\n"
	    "Options:\n"
	    "  -s, --socket PATH            listen on PATH (default " DEFAULT_SOCKET ");\n"
	    "                               ignored when systemd passes a socket (LISTEN_FDS)\n"
	    "  -d, --state-dir DIR          keep the desired state in DIR\n"
	    "                               (default " DEFAULT_STATE_DIR ")\n"
	    "  -r, --runtime-dir DIR        per-process supervisor records (DIR/procs)\n"
	    "                               (default " DEFAULT_RUNTIME_DIR "); keep it across\n"
	    "                               restarts of netnsd so running processes are adopted;\n"
	    "                               one per state dir (it is locked, see netnsd(8))\n"
	    "      --shim PATH              the per-process supervisor (default: netnsd-shim\n"
	    "                               beside netnsd, else " NETNSD_LIBEXECDIR
	    "/netnsd-shim)\n"
	    "      --spawn MODE             who starts supervised processes: systemd (each\n"
	    "                               as a transient unit, outside netnsd's sandbox),\n"
	    "                               direct (netnsd itself; they inherit its sandbox)\n"
	    "                               or auto (default: systemd when booted with it and\n"
	    "                               it answers on D-Bus, else direct)\n"
	    "      --no-systemd             the same as --spawn=direct\n"
	    "  -l, --log-level LEVEL        debug, info (default), notice, warning or error\n"
	    "  -g, --admin-group NAME       members of NAME may use the socket besides root\n"
	    "                               (default " DEFAULT_GROUP
	    "; ignored if it does not exist)\n"
	    "      --max-message-bytes N    longest accepted message (default 1048576);\n"
	    "                               a longer one gets an error and the connection closes\n"
	    "      --max-batch N            most requests in one batch (default 1024)\n"
	    "      --max-connections N      most simultaneous clients (default 512)\n"
	    "      --max-queued-bytes N     most reply bytes queued for one client\n"
	    "                               (default 16777216); a client that does not read is\n"
	    "                               paused at half and disconnected beyond it\n"
	    "      --max-queued-total-bytes N\n"
	    "                               most output bytes queued for all clients together\n"
	    "                               (default 67108864); beyond it clients with unread\n"
	    "                               output are paused, subscribers behind lose events,\n"
	    "                               and a client that read nothing for 5 s is\n"
	    "                               disconnected\n"
	    "      --message-timeout-ms N   a client whose message stays unfinished this long\n"
	    "                               gets an error and is disconnected (default 30000;\n"
	    "                               0: never)\n"
	    "      --max-namespaces N       most managed namespaces (default 65536)\n"
	    "      --max-subscriptions N    most event subscriptions, all clients together\n"
	    "                               (default 1024)\n"
	    "      --event-backlog-bytes N  unread event bytes a subscriber may have before it\n"
	    "                               loses events (then gets an overflow event) (default\n"
	    "                               4194304)\n"
	    "      --event-stall-ms N       a subscriber that keeps losing events this long is\n"
	    "                               disconnected (default 5000)\n"
	    "      --event-ring N           events kept for subscribers that resume with\n"
	    "                               since (default 4096; 0: none, every resume is told\n"
	    "                               what it lost)\n"
	    "      --event-ring-bytes N     and at most this many bytes of them (default\n"
	    "                               8388608)\n"
	    "      --monitor-rcvbuf N       receive buffer of each rtnetlink monitor socket\n"
	    "                               (default 33554432, an upper bound, not an\n"
	    "                               allocation); when the kernel overruns it,\n"
	    "                               netnsd re-reads that namespace and sends a resync\n"
	    "                               event\n"
	    "      --log-max-bytes N        log files of supervised processes are rotated before\n"
	    "                               they grow beyond N bytes (default 8388608; 0: no\n"
	    "                               cap); proc.spawn may set its own\n"
	    "      --log-files N            log files kept per process, the current one and\n"
	    "                               N - 1 rotated ones (default 2, at most 100)\n"
	    "      --reset-corrupt-state    if the state files are unreadable, move them aside\n"
	    "                               (FILE.corrupt-TIME) and start empty instead of\n"
	    "                               refusing to start\n"
	    "      --list-failpoints        list the crash points compiled in (only in a build\n"
	    "                               configured with --enable-failpoints; for tests)\n"
	    "  -h, --help                   show this help and exit\n"
	    "  -V, --version                show the version and exit\n"
	    "\n"
	    "Signals: SIGTERM and SIGINT stop accepting clients, finish requests in flight,\n"
	    "persist the state and exit 0; supervised processes keep running and are adopted\n"
	    "by the next netnsd.  SIGHUP is ignored (there is no configuration to reload).\n"
	    "\n"
	    "Files:\n"
	    "  " NETNS_RUN_DIR "/NAME         the namespaces (nsfs bind mounts)\n"
	    "  " NETNS_ETC_DIR "/NAME/        resolv.conf and hosts for `ip netns exec`\n"
	    "  STATE_DIR/state.json         snapshot of the desired state\n"
	    "  STATE_DIR/journal.jsonl      changes since the snapshot\n"
	    "  STATE_DIR/intents/           changes under way in the kernel, not yet synced\n"
	    "\n"
	    "Exit status: 0 after a clean shutdown, 1 on a start-up failure (unreadable\n"
	    "state, socket in use by another netnsd ...), 2 on a usage error.\n");
}

static int parse_size(const char *s, size_t min, size_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v < min)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum {
		OPT_MAX_MESSAGE = 0x100,
		OPT_MAX_BATCH,
		OPT_MAX_CONNECTIONS,
		OPT_MAX_QUEUED,
		OPT_MAX_QUEUED_TOTAL,
		OPT_MESSAGE_TIMEOUT,
		OPT_MAX_NAMESPACES,
		OPT_RESET_CORRUPT,
		OPT_MAX_SUBSCRIPTIONS,
		OPT_EVENT_BACKLOG,
		OPT_EVENT_STALL,
		OPT_MONITOR_RCVBUF,
		OPT_SHIM,
		OPT_LOG_MAX_BYTES,
		OPT_LOG_FILES,
		OPT_EVENT_RING,
		OPT_EVENT_RING_BYTES,
		OPT_SPAWN,
		OPT_NO_SYSTEMD,
		OPT_LIST_FAILPOINTS,
	};
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "runtime-dir", required_argument, NULL, 'r' },
		{ "shim", required_argument, NULL, OPT_SHIM },
		{ "spawn", required_argument, NULL, OPT_SPAWN },
		{ "no-systemd", no_argument, NULL, OPT_NO_SYSTEMD },
		{ "log-level", required_argument, NULL, 'l' },
		{ "admin-group", required_argument, NULL, 'g' },
		{ "max-message-bytes", required_argument, NULL, OPT_MAX_MESSAGE },
		{ "max-batch", required_argument, NULL, OPT_MAX_BATCH },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
		{ "max-queued-bytes", required_argument, NULL, OPT_MAX_QUEUED },
		{ "max-queued-total-bytes", required_argument, NULL, OPT_MAX_QUEUED_TOTAL },
		{ "message-timeout-ms", required_argument, NULL, OPT_MESSAGE_TIMEOUT },
		{ "max-namespaces", required_argument, NULL, OPT_MAX_NAMESPACES },
		{ "reset-corrupt-state", no_argument, NULL, OPT_RESET_CORRUPT },
		{ "max-subscriptions", required_argument, NULL, OPT_MAX_SUBSCRIPTIONS },
		{ "event-backlog-bytes", required_argument, NULL, OPT_EVENT_BACKLOG },
		{ "event-stall-ms", required_argument, NULL, OPT_EVENT_STALL },
		{ "monitor-rcvbuf", required_argument, NULL, OPT_MONITOR_RCVBUF },
		{ "log-max-bytes", required_argument, NULL, OPT_LOG_MAX_BYTES },
		{ "log-files", required_argument, NULL, OPT_LOG_FILES },
		{ "event-ring", required_argument, NULL, OPT_EVENT_RING },
		{ "event-ring-bytes", required_argument, NULL, OPT_EVENT_RING_BYTES },
		{ "list-failpoints", no_argument, NULL, OPT_LIST_FAILPOINTS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:d:r:l:g:hV", options, NULL)) >= 0) {
		size_t *target = NULL, min = 1;

		switch (c) {
		case 's':
			arg.socket_path = optarg;
			break;
		case 'd':
			arg.state_dir = optarg;
			break;
		case 'r':
			arg.runtime_dir = optarg;
			break;
		case OPT_SHIM:
			arg.shim = optarg;
			break;
		case OPT_SPAWN:
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "systemd") != 0 &&
			    strcmp(optarg, "direct") != 0) {
				fprintf(stderr,
					"netnsd: invalid value '%s' for --spawn (auto, systemd or "
					"direct)\n",
					optarg);
				return -EINVAL;
			}
			arg.spawn = optarg;
			break;
		case OPT_NO_SYSTEMD:
			arg.spawn = "direct";
			break;
		case 'l':
			arg.log_level = log_level_from_string(optarg);
			if (arg.log_level < 0) {
				fprintf(stderr, "netnsd: unknown log level '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'g':
			arg.admin_group = optarg;
			break;
		case OPT_MAX_MESSAGE:
			target = &arg.max_message, min = 1024;
			break;
		case OPT_MAX_BATCH:
			target = &arg.max_batch;
			break;
		case OPT_MAX_CONNECTIONS:
			target = &arg.max_connections;
			break;
		case OPT_MAX_QUEUED:
			target = &arg.max_queued, min = 65536;
			break;
		case OPT_MAX_QUEUED_TOTAL:
			target = &arg.max_queued_total, min = 65536;
			break;
		case OPT_MESSAGE_TIMEOUT:
			target = &arg.message_timeout_ms, min = 0;
			break;
		case OPT_MAX_NAMESPACES:
			target = &arg.max_namespaces, min = 0;
			break;
		case OPT_RESET_CORRUPT:
			arg.reset_corrupt = true;
			break;
		case OPT_MAX_SUBSCRIPTIONS:
			target = &arg.max_subscriptions;
			break;
		case OPT_EVENT_BACKLOG:
			target = &arg.event_backlog, min = 4096;
			break;
		case OPT_EVENT_STALL:
			target = &arg.event_stall_ms;
			break;
		case OPT_EVENT_RING:
			target = &arg.event_ring, min = 0;
			break;
		case OPT_EVENT_RING_BYTES:
			target = &arg.event_ring_bytes, min = 4096;
			break;
		case OPT_MONITOR_RCVBUF:
			target = &arg.monitor_rcvbuf, min = 1024;
			break;
		case OPT_LOG_MAX_BYTES:
			target = &arg.log_max_bytes, min = 0;
			break;
		case OPT_LOG_FILES:
			target = &arg.log_files;
			break;
		case OPT_LIST_FAILPOINTS:
#if ENABLE_FAILPOINTS
			failpoint_list();
			return 0;
#else
			fprintf(stderr, "netnsd: built without failpoints (configure "
					"--enable-failpoints)\n");
			return -ENOTSUP;
#endif
		case 'h':
			help();
			return 0;
		case 'V':
			printf("netnsd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'netnsd --help' for more information.\n");
			return -EINVAL;
		}
		if (target && parse_size(optarg, min, target) < 0) {
			const char *name = "option";

			for (const struct option *o = options; o->name; o++)
				if (o->val == c)
					name = o->name;
			fprintf(stderr, "netnsd: invalid value '%s' for --%s (a number >= %zu)\n",
				optarg, name, min);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netnsd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (arg.log_files > 100) {
		fprintf(stderr, "netnsd: invalid value %zu for --log-files (1 to 100)\n",
			arg.log_files);
		return -EINVAL;
	}
#if ENABLE_FAILPOINTS
	{
		const char *fp = getenv("NETNSD_FAILPOINT");

		if (fp && *fp && failpoint_arm(fp) < 0) {
			fprintf(stderr, "netnsd: unknown failpoint '%s' in NETNSD_FAILPOINT "
					"(see --list-failpoints)\n", fp);
			return -EINVAL;
		}
		/* Only netnsd stops; the processes it starts must not inherit the arming. */
		unsetenv("NETNSD_FAILPOINT");
	}
#endif
	return 1;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* STATUS= for systemctl status, sent again whenever it changed (checked each second). */
static void notify_status(void)
{
	static char last[160];
	struct rpc_stats rs;
	char now[160];

	rpc_get_stats(&rs);
	snprintf(now, sizeof(now),
		 "STATUS=Managing %zu namespaces, %zu links, %zu services; %zu clients connected",
		 json_object_size(state_collection("netns")),
		 json_object_size(state_collection("link")),
		 json_object_size(state_collection("proc")), rs.connections);
	if (strcmp(now, last)) {
		sd_notify(0, now);
		memcpy(last, now, sizeof(last));
	}
}

static void on_status_timer(uv_timer_t *t)
{
	notify_status();
}

static void on_hup(uv_signal_t *s, int signum)
{
	/* The state is the only configuration, and it is always current. */
	log_notice("SIGHUP ignored: netnsd has no configuration file to reload");
}

static void on_watchdog(uv_timer_t *t)
{
	sd_notify(0, "WATCHDOG=1");
}

static void close_walk(uv_handle_t *h, void *data)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void finish_shutdown(void)
{
	service_close();
	uv_walk(uv_default_loop(), close_walk, NULL);
}

static void on_shutdown_tick(uv_timer_t *t)
{
	bool idle = service_idle();

	if (idle || now_usec() - shutdown_started > SHUTDOWN_MAX_MS * 1000ull) {
		if (!idle)
			log_warning("Shutting down with requests unfinished");
		uv_timer_stop(t);
		finish_shutdown();
	}
}

static void on_signal(uv_signal_t *s, int signum)
{
	if (shutting_down)
		return;
	shutting_down = true;
	log_notice("Received %s, shutting down", strsignal(signum));
	sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
	events_publish(EVENT_DAEMON, "stopping", NULL, NULL, NULL, NULL);
	service_quiesce();
	shutdown_started = now_usec();
	uv_timer_start(&shutdown_timer, on_shutdown_tick, 0, 10);
}

/* The supervisor binary: beside netnsd (a build tree), else the installed one. */
static const char *find_shim(char buf[static PATH_MAX])
{
	ssize_t n = readlink("/proc/self/exe", buf, PATH_MAX - 16);
	char *slash;

	/* Absolute, as systemd needs it for a transient unit's ExecStart. */
	if (arg.shim)
		return realpath(arg.shim, buf) ? buf : arg.shim;
	if (n > 0) {
		buf[n] = '\0';
		slash = strrchr(buf, '/');
		if (slash) {
			strcpy(slash + 1, "netnsd-shim");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return NETNSD_LIBEXECDIR "/netnsd-shim";
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	char shim[PATH_MAX];
	bool activated = false;
	uint64_t wd_usec;
	int r;

	r = parse_args(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	log_init();
	log_set_level(arg.log_level);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (geteuid() != 0)
		log_warning("Not running as root: creating namespaces will fail");

	sd_notify(0, "STATUS=Restoring state");
	r = service_start(loop,
			  &(struct service_config){
			      .version = PACKAGE_VERSION,
			      .socket_path = arg.socket_path,
			      .state_dir = arg.state_dir,
			      .runtime_dir = arg.runtime_dir,
			      .shim = find_shim(shim),
			      .spawn = arg.spawn,
			      .admin_group = arg.admin_group,
			      .reset_corrupt = arg.reset_corrupt,
			      .max_message = arg.max_message,
			      .max_batch = arg.max_batch,
			      .max_connections = arg.max_connections,
			      .max_queued = arg.max_queued,
			      .max_queued_total = arg.max_queued_total,
			      .message_timeout_ms = arg.message_timeout_ms,
			      .max_namespaces = arg.max_namespaces,
			      .event_backlog = arg.event_backlog,
			      .event_stall_ms = arg.event_stall_ms,
			      .max_subscriptions = arg.max_subscriptions,
			      .monitor_rcvbuf = arg.monitor_rcvbuf,
			      .log_max_bytes = arg.log_max_bytes,
			      .log_files = arg.log_files,
			      .event_ring = arg.event_ring,
			      .event_ring_bytes = arg.event_ring_bytes,
			  },
			  &activated);
	if (r < 0) {
		uv_run(loop, UV_RUN_NOWAIT); /* let closed handles go */
		return 1;
	}

	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_init(loop, &sig_hup);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);
	uv_timer_init(loop, &shutdown_timer);
	uv_timer_init(loop, &watchdog_timer);
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
		uv_timer_start(&watchdog_timer, on_watchdog, 0, wd_usec / 2000);

	log_notice("netnsd %s ready on %s%s, state in %s", PACKAGE_VERSION, arg.socket_path,
		   activated ? " (socket activation)" : "", arg.state_dir);
	sd_notify(0, "READY=1");
	notify_status();
	uv_timer_init(loop, &status_timer);
	uv_timer_start(&status_timer, on_status_timer, 1000, 1000);
	uv_unref((uv_handle_t *)&status_timer);
	events_publish(EVENT_DAEMON, "ready", NULL, NULL, NULL, NULL);

	uv_run(loop, UV_RUN_DEFAULT);

	service_free();
	r = uv_loop_close(loop);
	if (r < 0)
		log_debug("Loop closed with handles left: %s", uv_strerror(r));
	log_info("Stopped");
	return 0;
}
