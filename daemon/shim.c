/*
 * netnsd-shim: the per-process supervisor.
 *
 * netnsd starts one shim per supervised process (and per restart).  The shim enters the
 * network namespace and an `ip netns exec`-like mount context, starts the payload, reports
 * the outcome of the start, becomes the payload's reaper, and records its exit status in
 * the runtime directory.  It is deliberately independent of netnsd once started: it runs in
 * its own session, has no parent-death signal and never writes to netnsd after the start
 * report, so a crash or restart of netnsd leaves the workload running, and a restarted
 * netnsd learns the exact exit status from the status file.  Output never flows through
 * netnsd: the payload's stdio are the files/fds netnsd put on the shim's fds 0-2, except
 * that log files with a size cap are fed through the shim, which rotates them.
 *
 * Invocation
 *	netnsd-shim PROCDIR
 *
 *	fd 0, 1, 2	become the payload's stdin, stdout, stderr unchanged
 *	fd 3		sync pipe (write end); used only if it is a pipe or a socket;
 *			otherwise PROCDIR/sync, if it is a FIFO with a reader, is the
 *			sync channel (netnsd's way when systemd starts the shim)
 *	fd 4 .. 4+N-1	extra fds; they become the payload's fds 3 .. 3+N-1 (N = "fds")
 *	every other fd is made close-on-exec at once and never reaches the payload.
 *
 * Spec: PROCDIR/spec.json, written by netnsd before the shim starts (keys the shim does not
 * know are ignored; netnsd stores its own bookkeeping there too):
 *	{
 *	  "netns": "blue" | null,	namespace under /run/netns; null = stay in the host's
 *					namespaces (no mount namespace either)
 *	  "argv": ["prog", "arg", ...],	executed directly; "prog" without '/' is searched
 *					in the PATH of "env" (or the default PATH), like execvp
 *					but never through a shell
 *	  "env": ["K=V", ...],		the payload's exact environment (netnsd merges)
 *	  "cwd": "/",			default "/"; entered as the target user
 *	  "user": "name" | "1000" | 1000,	optional; name or number, with supplementary
 *					groups as initgroups() gives them
 *	  "group": "name" | "100" | 100,	optional; overrides the primary group
 *	  "fds": N,			optional, number of extra fds (see above)
 *	  "tty": true			optional; the payload gets fd 0, which must be a
 *					terminal, as its controlling terminal (see below)
 *	  "log": {"max_bytes": N,	optional; fd 1 and/or 2 are log files at these paths
 *		  "files": K,		(null: not a log) that must not grow beyond N bytes:
 *		  "stdout": "PATH",	see "Log rotation" below
 *		  "stderr": "PATH"}
 *	}
 *
 * Files written in PROCDIR (each atomically: temp file + rename; key=value lines):
 *	shim.pid	pid=, starttime=	the shim itself, after reading the spec (netnsd
 *					also writes it, identically, when uv_spawn() returns)
 *	pid		pid=, starttime=, start_time=	the payload, once it has executed
 *	status		result=exited + code=  |  result=signaled + signal=, core=
 *			|  result=failed + stage=, errno=	(start failure)
 *			plus pid= and exit_time=SEC.NSEC (CLOCK_REALTIME)
 *	starttime is field 22 of /proc/PID/stat (clock ticks since boot); with the pid it
 *	identifies a process across PID reuse.
 *
 * Sync protocol (fd 3), lines each written with a single write(2):
 *	"ok PID STARTTIME SEC NSEC\n"	the payload executed (times are its start_time)
 *	"err STAGE ERRNO\n"		nothing was started (fd 3 is then closed); STAGE is
 *					one of spec, runtime, netns, mount, sysfs, etc, user,
 *					group, fork, tty, credentials, fds, cwd, exec
 *	"exit\n"			after "ok": the payload has ended, its status file is
 *					written and its leftovers are reaped; fd 3 is then
 *					closed and the shim exits.  Only a hint that lets netnsd
 *					skip waiting for our exit (mount namespace teardown);
 *					the status file is the truth, and a netnsd that is gone
 *					or stopped never blocks the shim (EPIPE is ignored, two
 *					short lines always fit in the pipe).
 *
 * Execution context of the payload (`ip netns exec` semantics): setns() into
 * /run/netns/NAME; a new mount namespace with every mount made MS_SLAVE|MS_REC (nothing
 * propagates back to the host); a sysfs instance of that namespace on /sys; every entry
 * of /etc/netns/NAME bind-mounted over /etc/ENTRY (over a symlink itself, see bind_etc()).
 * Users and groups are resolved in that context.  Then, in the child: its own process
 * group, empty signal mask, default dispositions, setgroups/setgid/setuid, chdir, execve.
 * With "tty": true the child makes its own session instead (setsid) and takes its stdin as
 * the session's controlling terminal (TIOCSCTTY), so that an interactive shell there has
 * job control and the terminal's ^C, ^Z and window-size changes reach its foreground
 * group; a stdin that is no terminal fails the start at stage "tty" (ENOTTY).
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH and SIGCONT sent to the shim
 * are forwarded to the payload.
 *
 * Log rotation ("log" in the spec): the payload's fd 1 and/or 2 become the write end of a
 * pipe (one pipe per log file, so stdout and stderr into the same file keep their order)
 * and the shim copies what comes out of it into the log file it was given.  Before a
 * write would take the file beyond max_bytes, the file is rotated: PATH.(K-2) is renamed
 * to PATH.(K-1), ..., PATH to PATH.1, and a new PATH is made (with K = 1, PATH is cut to
 * zero instead), so at most K files of at most max_bytes each exist, as with conmon's
 * log-size-max.  This runs in the shim, so it goes on while netnsd is down.  What the
 * payload wrote before it ended is in the file before its status is written; output of
 * leftovers killed after it is copied until the pipe's end.
 *
 * Exit status of the shim: 0 once the payload ran (whatever its own status), 1 when the
 * start failed, 2 on usage errors.  When the payload exits, descendants it left behind
 * (reparented to the shim, which is a child subreaper) are killed with SIGKILL and reaped,
 * as a container runtime does when the init process exits; nothing escapes supervision
 * and nothing is left for netnsd to reap.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* normally defined by configure (AC_USE_SYSTEM_EXTENSIONS) */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

#define NETNS_RUN_DIR  "/run/netns"
#define NETNS_ETC_DIR  "/etc/netns"
#define DEFAULT_PATH   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SYNC_FD	       3
#define FIRST_EXTRA_FD 4
#define MAX_EXTRA_FDS  64
#define CHILD_STACK    (64 * 1024)

/* A log file fed through a pipe, rotated at max_bytes (see "Log rotation"). */
struct sink {
	char *path;
	int fd;	     /* the log file, O_APPEND */
	int pipe_fd; /* read end; -1 at its end */
	uint64_t size;
};

struct logcfg {
	uint64_t max_bytes;
	unsigned files;
	struct sink sinks[2];
	unsigned n;
};

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* The start failed at STAGE with errno ERR (positive). */
struct failure {
	const char *stage;
	int err;
};

static int fail(struct failure *f, const char *stage, int err)
{
	f->stage = stage;
	f->err = err > 0 ? err : EIO;
	return -f->err;
}

/*
 * Credentials resolved in the shim before the payload is forked, so that the child only
 * makes system calls (it shares the shim's memory, see spawn_payload()).
 */
struct creds {
	bool set_ids;
	uid_t uid;
	gid_t gid;
	bool set_groups;
	gid_t *groups;
	int n_groups;
};

struct child_ctx {
	char **argv;
	char **envp;
	const char *path; /* PATH used to look up argv[0] without a '/' */
	const char *cwd;
	const struct creds *creds;
	unsigned n_fds;
	bool tty; /* a session of its own with stdin as its controlling terminal */
	/* stdin is already our own session's controlling terminal (systemd makes a terminal
	 * on a unit's stdin that): the payload's session takes it over. */
	bool tty_steal;
	char buf[PATH_MAX];
	int report_fd; /* where the child reports a failure before exec */
};

struct child_report {
	const char *stage; /* a string literal: same address in both processes */
	int err;
};

/* One line to netnsd; with last, the channel is closed after it. */
static void sync_report(int *sync_fd, const char *line, bool last)
{
	if (*sync_fd < 0)
		return;
	/* netnsd may be gone (EPIPE: SIGPIPE is ignored) or stopped (two short lines always
	 * fit in the pipe buffer): neither can block us, and an error changes nothing. */
	(void)write_all(*sync_fd, line, strlen(line));
	if (last) {
		close(*sync_fd);
		*sync_fd = -1;
	}
}

static void report_failure(int dirfd, int *sync_fd, const struct failure *f)
{
	struct timespec now;
	char text[256];

	clock_gettime(CLOCK_REALTIME, &now);
	if (dirfd >= 0) {
		snprintf(text, sizeof(text),
			 "result=failed\nstage=%s\nerrno=%d\npid=0\nexit_time=%lld.%09ld\n",
			 f->stage, f->err, (long long)now.tv_sec, now.tv_nsec);
		(void)write_at_atomic(dirfd, "status", text, 0644);
	}
	snprintf(text, sizeof(text), "err %s %d\n", f->stage, f->err);
	sync_report(sync_fd, text, true);
}

static int load_spec(int dirfd, json_t **ret, struct failure *f)
{
	_cleanup_(closep) int fd = -1;
	json_error_t jerr;
	json_t *root;

	char buf[256 << 10];
	size_t len = 0;
	ssize_t n;

	fd = openat(dirfd, "spec.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(f, "spec", errno);
	/* In one read or a few: json_loadfd() reads a byte per system call. */
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(f, "spec", errno);
		}
		len += (size_t)n;
	}
	if (len == sizeof(buf))
		return fail(f, "spec", EFBIG);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return fail(f, "spec", EINVAL);
	}
	*ret = root;
	return 0;
}

/* A JSON array of strings as a NULL-terminated vector pointing into the document. */
static int string_vector(json_t *arr, bool nonempty, char ***ret)
{
	size_t i, n;
	char **v;

	if (!json_is_array(arr))
		return -EINVAL;
	n = json_array_size(arr);
	if (nonempty && n == 0)
		return -EINVAL;
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (!s) {
			free(v);
			return -EINVAL;
		}
		v[i] = (char *)s;
	}
	*ret = v;
	return 0;
}

/* "user"/"group" may be a string (name or decimal number) or a JSON integer. */
static int id_field(json_t *spec, const char *key, const char **ret_name, long long *ret_num)
{
	json_t *v = json_object_get(spec, key);

	*ret_name = NULL;
	*ret_num = -1;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*ret_num = json_integer_value(v);
		return *ret_num >= 0 && *ret_num < UINT32_MAX ? 0 : -EINVAL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return -EINVAL;
	*ret_name = json_string_value(v);
	return 0;
}

static bool parse_number(const char *s, long long *ret)
{
	char *end;
	long long n;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || n < 0 || n >= UINT32_MAX)
		return false;
	*ret = n;
	return true;
}

/*
 * Resolve "user" and "group" the way runuser/initgroups would, in the mount context the
 * payload will see (so /etc/netns/NAME/passwd, if any, applies to both alike).  A numeric
 * user without a passwd entry gets the overflow group 65534 unless "group" says otherwise,
 * never group 0, and no supplementary groups.
 */
static int resolve_creds(json_t *spec, struct creds *c, struct failure *f)
{
	const char *user, *group;
	long long uid_num, gid_num, n;
	struct passwd *pw = NULL;
	bool have_gid = false;
	gid_t gid = 65534;

	if (id_field(spec, "user", &user, &uid_num) < 0)
		return fail(f, "spec", EINVAL);
	if (id_field(spec, "group", &group, &gid_num) < 0)
		return fail(f, "spec", EINVAL);
	if (!user && uid_num < 0 && !group && gid_num < 0)
		return 0;

	if (group) {
		struct group *gr;

		if (parse_number(group, &n)) {
			gid = (gid_t)n;
		} else {
			errno = 0;
			gr = getgrnam(group);
			if (!gr)
				return fail(f, "group", errno ? errno : ENOENT);
			gid = gr->gr_gid;
		}
		have_gid = true;
	} else if (gid_num >= 0) {
		gid = (gid_t)gid_num;
		have_gid = true;
	}

	c->set_ids = true;
	c->set_groups = true;
	c->uid = 0;
	if (user && !parse_number(user, &uid_num)) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw)
			return fail(f, "user", errno ? errno : ENOENT);
	} else if (uid_num >= 0) {
		errno = 0;
		pw = getpwuid((uid_t)uid_num);
		c->uid = (uid_t)uid_num;
	}
	if (pw) {
		int count = 16;

		c->uid = pw->pw_uid;
		if (!have_gid)
			gid = pw->pw_gid;
		for (;;) {
			int got = count;

			free(c->groups);
			c->groups = calloc((size_t)count, sizeof(gid_t));
			if (!c->groups)
				return fail(f, "user", ENOMEM);
			if (getgrouplist(pw->pw_name, gid, c->groups, &got) >= 0) {
				c->n_groups = got;
				break;
			}
			if (got <= count || got > 65536)
				return fail(f, "user", EINVAL);
			count = got;
		}
	} else if (!user && uid_num < 0) {
		/* Only a group: stay root, drop root's supplementary groups. */
		c->uid = geteuid();
	}
	c->gid = gid;
	return 0;
}

/*
 * Remount /sys for the current network namespace, as `ip netns exec` does, so that
 * /sys/class/net lists the namespace's devices.  As there, the mounts that were below the
 * old /sys (cgroup, bpf, ...) are not carried over: doing it (open_tree(AT_RECURSIVE) +
 * move_mount per submount) costs a mountinfo parse and a copy of each of them per start.
 */
static int remount_sys(const char *netns, struct failure *f)
{
	unsigned long flags = 0;
	struct statvfs sv;

	if (statvfs("/sys", &sv) == 0) {
		/* A read-only sysfs must not come back writable. */
		if (sv.f_flag & ST_RDONLY)
			flags |= MS_RDONLY;
		if (sv.f_flag & ST_NOSUID)
			flags |= MS_NOSUID;
		if (sv.f_flag & ST_NODEV)
			flags |= MS_NODEV;
		if (sv.f_flag & ST_NOEXEC)
			flags |= MS_NOEXEC;
	}
	/* Fails when /sys is no mount point; then the new instance simply covers it. */
	(void)umount2("/sys", MNT_DETACH);
	if (mount(netns, "/sys", "sysfs", flags, NULL) < 0)
		return fail(f, "sysfs", errno);
	return 0;
}

/*
 * Bind every entry of /etc/netns/NAME over the same name in /etc, in our mount namespace
 * only.  When /etc/NAME is a symlink (resolv.conf under systemd-resolved), the mount goes
 * on the symlink itself: the payload reads our file at /etc/NAME while the symlink's
 * target, shared with the host and with other paths, stays as it is; this also works when
 * the target does not exist.  Only if the kernel refuses that (a directory over a symlink)
 * do we follow the link, as `ip netns exec` does.  Entries without a counterpart in /etc
 * are skipped, as `ip netns exec` skips them: creating one would change the host's /etc.
 */
static int bind_etc(const char *netns, struct failure *f)
{
	char path[PATH_MAX];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int dfd;

	snprintf(path, sizeof(path), "%s/%s", NETNS_ETC_DIR, netns);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : fail(f, "etc", errno);
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return fail(f, "etc", errno);
	}
	while ((errno = 0, de = readdir(d))) {
		_cleanup_(closep) int tree = -1;
		char target[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(target, sizeof(target), "/etc/%s", de->d_name);
		if (fstatat(AT_FDCWD, target, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return fail(f, "etc", errno);
		}
		tree = open_tree(dfd, de->d_name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0 && errno == ENOSYS) {
			/* Before Linux 5.2 (or under valgrind): mount(2), which follows a
			 * symlinked target and cannot cover a dangling one. */
			char src[PATH_MAX * 2];

			snprintf(src, sizeof(src), "%s/%s", path, de->d_name);
			if (mount(src, target, "none", MS_BIND, NULL) == 0 || errno == ENOENT)
				continue;
			return fail(f, "etc", errno);
		}
		if (tree < 0)
			return fail(f, "etc", errno);
		if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) == 0)
			continue;
		if (!S_ISLNK(st.st_mode) || (errno != EINVAL && errno != ENOTDIR))
			return fail(f, "etc", errno);
		if (move_mount(tree, "", AT_FDCWD, target,
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0)
			return fail(f, "etc", errno);
	}
	if (errno)
		return fail(f, "etc", errno);
	return 0;
}

static int enter_netns(const char *netns, struct failure *f)
{
	char path[PATH_MAX];
	_cleanup_(closep) int fd = -1;
	int r;

	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(f, "netns", errno);
	if (setns(fd, CLONE_NEWNET) < 0)
		return fail(f, "netns", errno);

	/* A private copy of the mount table; nothing we mount may propagate back. */
	if (unshare(CLONE_NEWNS) < 0)
		return fail(f, "mount", errno);
	if (mount("none", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		return fail(f, "mount", errno);
	r = remount_sys(netns, f);
	if (r < 0)
		return r;
	return bind_etc(netns, f);
}

/*
 * The payload side of the clone.  It shares the shim's memory (CLONE_VM | CLONE_VFORK: the
 * shim sleeps until execve succeeds or we _exit), so it only makes system calls, and
 * reports a failure on report_fd.  It has its own fd table and signal dispositions.
 */
/* The clone child runs on a stack ASan does not know. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_ASAN __attribute__((no_sanitize_address))
#else
#define NO_ASAN
#endif

static NO_ASAN int child_main(void *arg)
{
	struct child_ctx *c = arg;
	struct child_report rep;
	int err;
	struct sigaction sa = { .sa_handler = SIG_DFL };
	const char *p, *end, *stage;
	bool eacces = false;
	sigset_t none;
	unsigned i;

	stage = "fds";
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (c->tty) {
		/* A session of its own, led by the payload, whose controlling terminal is its
		 * stdin: the terminal's foreground group is then the payload's. */
		stage = "tty";
		if (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, c->tty_steal ? 1 : 0) < 0)
			goto fail;
		stage = "fds";
	} else {
		/* Its own process group: a signal to the shim's group does not hit it twice. */
		setpgid(0, 0);
	}

	for (i = 0; i < c->n_fds; i++)
		if (dup2((int)(FIRST_EXTRA_FD + i), (int)(SYNC_FD + i)) < 0)
			goto fail;
	/* Close-on-exec rather than closed, so that a failure can still be reported. */
	if (close_range(SYNC_FD + c->n_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		goto fail;

	stage = "credentials";
	if (c->creds->set_groups &&
	    syscall(SYS_setgroups, (size_t)c->creds->n_groups, c->creds->groups) < 0)
		goto fail;
	if (c->creds->set_ids) {
		if (syscall(SYS_setresgid, c->creds->gid, c->creds->gid, c->creds->gid) < 0)
			goto fail;
		if (syscall(SYS_setresuid, c->creds->uid, c->creds->uid, c->creds->uid) < 0)
			goto fail;
	}

	stage = "cwd";
	if (chdir(c->cwd) < 0)
		goto fail;

	stage = "exec";
	if (strchr(c->argv[0], '/')) {
		execve(c->argv[0], c->argv, c->envp);
		goto fail;
	}
	/* execvp's search, without its fallback of running the file through /bin/sh. */
	for (p = c->path;; p = end + 1) {
		size_t dl, fl = strlen(c->argv[0]);

		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		if (dl + 1 + fl + 1 <= sizeof(c->buf)) {
			if (dl == 0) {
				memcpy(c->buf, c->argv[0], fl + 1);
			} else {
				memcpy(c->buf, p, dl);
				c->buf[dl] = '/';
				memcpy(c->buf + dl + 1, c->argv[0], fl + 1);
			}
			execve(c->buf, c->argv, c->envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				goto fail;
			}
		}
		if (!*end)
			break;
	}
	errno = eacces ? EACCES : ENOENT;
fail:
	err = errno ? errno : EIO;
	memset(&rep, 0, sizeof(rep)); /* no uninitialised padding on the wire */
	rep.err = err;
	rep.stage = stage;
	(void)!write(c->report_fd, &rep, sizeof(rep));
	_exit(127);
}

/*
 * Start the payload with clone(CLONE_VM | CLONE_VFORK), as posix_spawn does: no copy of
 * the page tables, and we resume only once execve() succeeded or the child gave up.  The
 * outcome comes through a close-on-exec pipe (EOF means execve succeeded) rather than
 * through the shared memory, so that it is also right where CLONE_VM is refused (some
 * seccomp filters: then a plain fork) or silently turned into a fork (valgrind).
 */
static pid_t spawn_payload(struct child_ctx *c, struct failure *f)
{
	static char stack[CHILD_STACK] __attribute__((aligned(16)));
	struct child_report rep;
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(f, "fork", errno);
	c->report_fd = p[1];
	pid = clone(child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, c);
	if (pid < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
		pid = fork();
		if (pid == 0)
			child_main(c);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return fail(f, "fork", errno);
	}
	do
		n = read(p[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof(rep)) {
		/* The child has exited (or is about to); reap it so no zombie stays. */
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return fail(f, rep.stage, rep.err);
	}
	return pid;
}

/*
 * Reset what netnsd (or whoever ran us) left in the signal state, then take ours.  exec
 * already reset handled signals; only ignored ones survive it, and /proc/self/status says
 * which (one read instead of a sigaction() per signal).  Without /proc, reset them all.
 */
static void setup_signals(sigset_t *mask)
{
	static const int forwarded[] = { SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
					 SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	uint64_t ignored = ~UINT64_C(0);
	char buf[4096], *p;
	ssize_t n;
	size_t i;
	int sig, fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strstr(buf, "\nSigIgn:");
		if (p)
			ignored = strtoull(p + 9, NULL, 16);
	}
	for (sig = 1; sig < NSIG && sig <= 64; sig++) {
		/*
		 * The raw system call: glibc's sigaction() refuses the two
		 * real-time signals it reserves (32, 33), which a parent may
		 * still have left ignored (make(1) does).
		 */
		struct {
			void (*handler)(int);
			unsigned long flags;
			void (*restorer)(void);
			uint64_t mask;
		} ksa = { SIG_DFL, 0, NULL, 0 };

		if ((ignored & (UINT64_C(1) << (sig - 1))) && sig != SIGKILL && sig != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
	}
	/* Writes to a dead netnsd must fail with EPIPE, not kill us. */
	sigaction(SIGPIPE, &ign, NULL);

	sigemptyset(mask);
	sigaddset(mask, SIGCHLD);
	for (i = 0; i < ELEMENTSOF(forwarded); i++)
		sigaddset(mask, forwarded[i]);
	sigprocmask(SIG_SETMASK, mask, NULL);
}

/* Send SIGKILL to every child of ours: from the children list, else by scanning /proc. */
static void kill_children(void)
{
	char path[64], buf[4096];
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_(closep) int fd = -1;
	pid_t self = getpid();
	struct dirent *de;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)self);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		/* A full buffer may hold a partial list: the next round gets the rest. */
		if (n > 0) {
			char *p = buf, *end;

			buf[n] = '\0';
			for (;;) {
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				if (pid > 0)
					kill((pid_t)pid, SIGKILL);
				p = end;
			}
		}
		if (n >= 0)
			return;
	}

	/* CONFIG_PROC_CHILDREN=n: look for processes whose parent we are. */
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_(closep) int sfd = -1;
		char *p;
		long pid = strtol(de->d_name, &p, 10);

		if (*p || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		sfd = open(path, O_RDONLY | O_CLOEXEC);
		if (sfd < 0)
			continue;
		n = read(sfd, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		/* ") S PPID ...": the parent is field 4. */
		if (p && p[1] && p[2] && p[3] && strtol(p + 4, NULL, 10) == self)
			kill((pid_t)pid, SIGKILL);
	}
}

/*
 * After the payload is gone, kill and reap whatever it left behind.  Killed processes'
 * own children are reparented to us in turn and caught by the next round.  A child stays
 * a zombie until we reap it, so a pid we found as our child cannot have been recycled.
 */
static void kill_leftovers(void)
{
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, WNOHANG);

		if (r > 0)
			continue;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: nothing left */
		}
		kill_children();
		do
			r = waitpid(-1, &st, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return;
	}
}

static void format_status(char *buf, size_t len, pid_t pid, int st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (WIFSIGNALED(st))
		snprintf(buf, len,
			 "result=signaled\nsignal=%d\ncore=%d\npid=%d\nexit_time=%lld.%09ld\n",
			 WTERMSIG(st), WCOREDUMP(st) ? 1 : 0, (int)pid, (long long)now.tv_sec,
			 now.tv_nsec);
	else
		snprintf(buf, len, "result=exited\ncode=%d\npid=%d\nexit_time=%lld.%09ld\n",
			 WEXITSTATUS(st), (int)pid, (long long)now.tv_sec, now.tv_nsec);
}

/* Above every fd the payload is given (0-2, the sync pipe, the extra fds). */
#define HIGH_FD (FIRST_EXTRA_FD + MAX_EXTRA_FDS + 8)

static int move_high(int fd)
{
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);

	close(fd);
	return hi;
}

/*
 * Interpose a pipe between the payload's fd 1 and/or 2 and their log files ("log" in the
 * spec).  Returns 0 (also when there is nothing to do), or -errno (stage "fds").
 */
static int setup_logs(json_t *spec, struct logcfg *lc)
{
	static const char *const keys[] = { "stdout", "stderr" };
	json_t *log = json_object_get(spec, "log"), *v;

	memset(lc, 0, sizeof(*lc));
	if (!log)
		return 0;
	v = json_object_get(log, "max_bytes");
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return -EINVAL;
	lc->max_bytes = (uint64_t)json_integer_value(v);
	v = json_object_get(log, "files");
	lc->files =
	    json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 1000
		? (unsigned)json_integer_value(v)
		: 1;
	for (int stream = 1; stream <= 2; stream++) {
		const char *path = json_string_value(json_object_get(log, keys[stream - 1]));
		struct sink *s = NULL;
		struct stat st;
		int p[2];

		if (!path || path[0] != '/')
			continue;
		for (unsigned i = 0; i < lc->n; i++)
			if (strcmp(lc->sinks[i].path, path) == 0)
				s = &lc->sinks[i];
		if (s) {
			/* Same file as stdout: the same pipe, so that the order is kept. */
			if (dup2(1, stream) < 0)
				return -errno;
			continue;
		}
		s = &lc->sinks[lc->n];
		s->pipe_fd = -1;
		s->path = strdup(path);
		if (!s->path)
			return -ENOMEM;
		lc->n++;
		s->fd = fcntl(stream, F_DUPFD_CLOEXEC, HIGH_FD);
		if (s->fd < 0)
			return -errno;
		s->size = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		s->pipe_fd = move_high(p[0]);
		if (s->pipe_fd < 0 || dup2(p[1], stream) < 0) {
			close(p[1]);
			return -EMFILE;
		}
		close(p[1]);
		(void)fcntl(s->pipe_fd, F_SETFL, O_NONBLOCK);
	}
	return 0;
}

static void free_logs(struct logcfg *lc)
{
	for (unsigned i = 0; i < lc->n; i++) {
		free(lc->sinks[i].path);
		if (lc->sinks[i].fd >= 0)
			close(lc->sinks[i].fd);
		if (lc->sinks[i].pipe_fd >= 0)
			close(lc->sinks[i].pipe_fd);
	}
	lc->n = 0;
}

/* PATH -> PATH.1 -> ... -> PATH.(files-1), and a new PATH; with one file, cut it. */
static void rotate(struct logcfg *lc, struct sink *s)
{
	char from[PATH_MAX], to[PATH_MAX];
	int fd;

	s->size = 0;
	if (lc->files <= 1) {
		(void)!ftruncate(s->fd, 0);
		return;
	}
	for (unsigned i = lc->files - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", s->path);
		else
			snprintf(from, sizeof(from), "%s.%u", s->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", s->path, i);
		(void)rename(from, to);
	}
	/* On failure the output goes on into the renamed file: nothing is lost. */
	fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd >= 0) {
		close(s->fd);
		s->fd = fd;
	}
}

static void sink_put(struct sink *s, const char *buf, size_t n)
{
	if (s->fd >= 0)
		(void)write_all(s->fd, buf, n);
	s->size += n;
}

/*
 * Append n bytes (n <= max_bytes) to the log, rotating at a line boundary so that every
 * file starts with a whole line (unless a line is longer than a whole file).
 */
static void sink_write(struct logcfg *lc, struct sink *s, const char *buf, size_t n)
{
	while (n > 0) {
		size_t room, k;
		const char *nl;

		if (s->size + n <= lc->max_bytes) {
			sink_put(s, buf, n);
			return;
		}
		room = s->size < lc->max_bytes ? (size_t)(lc->max_bytes - s->size) : 0;
		nl = memrchr(buf, '\n', room < n ? room : n);
		k = nl ? (size_t)(nl - buf) + 1 : 0;
		if (k == 0 && s->size == 0)
			k = room < n ? room : n; /* one line longer than a file: cut it */
		sink_put(s, buf, k);
		buf += k;
		n -= k;
		if (n > 0)
			rotate(lc, s);
	}
}

/* Copy what the pipe holds now into the log; at the pipe's end stop watching it. */
static void drain(struct logcfg *lc, struct sink *s)
{
	static char buf[64 << 10];

	while (s->pipe_fd >= 0) {
		size_t want = lc->max_bytes < sizeof(buf) ? (size_t)lc->max_bytes : sizeof(buf);
		ssize_t n = read(s->pipe_fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(s->pipe_fd);
			s->pipe_fd = -1;
			return;
		}
		sink_write(lc, s, buf, (size_t)n);
	}
}

static void drain_all(struct logcfg *lc)
{
	for (unsigned i = 0; i < lc->n; i++)
		drain(lc, &lc->sinks[i]);
}

/* Once every writer is gone: copy the rest, up to each pipe's end (a second at most). */
static void drain_to_end(struct logcfg *lc)
{
	for (int round = 0; round < 10; round++) {
		struct pollfd p[2];
		unsigned n = 0;

		drain_all(lc);
		for (unsigned i = 0; i < lc->n; i++)
			if (lc->sinks[i].pipe_fd >= 0)
				p[n++] =
				    (struct pollfd){ .fd = lc->sinks[i].pipe_fd, .events = POLLIN };
		if (n == 0 || poll(p, n, 100) < 0)
			return;
	}
}

/*
 * Until the payload has ended: forward signals to it, reap what ends, and copy its output
 * into the logs.  Returns its wait status.
 */
static int supervise(pid_t payload, const sigset_t *mask, struct logcfg *lc)
{
	int sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);

	for (;;) {
		struct pollfd p[3];
		unsigned n = 0, first;
		int sig = 0, st = 0;
		bool done = false;

		if (sfd >= 0)
			p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		first = n;
		for (unsigned i = 0; i < lc->n; i++)
			p[n++] = (struct pollfd){ .fd = lc->sinks[i].pipe_fd, .events = POLLIN };
		if (n == 0) {
			/* No signalfd and no log to copy: the plain wait. */
			siginfo_t info;

			sig = sigwaitinfo(mask, &info);
		} else {
			/* Without a signalfd, the signals are looked at every 100 ms. */
			if (poll(p, n, sfd >= 0 ? -1 : 100) < 0)
				continue;
			for (unsigned i = 0; i < lc->n; i++)
				if (p[first + i].revents)
					drain(lc, &lc->sinks[i]);
			if (sfd >= 0) {
				struct signalfd_siginfo si;

				if ((p[0].revents & POLLIN) &&
				    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					sig = (int)si.ssi_signo;
			} else {
				siginfo_t info;

				sig = sigtimedwait(mask, &info, &(struct timespec){ 0 });
			}
		}
		if (sig <= 0)
			continue;
		if (sig != SIGCHLD) {
			kill(payload, sig);
			continue;
		}
		for (;;) {
			int s;
			pid_t r = waitpid(-1, &s, WNOHANG);

			if (r <= 0)
				break;
			if (r == payload) {
				st = s;
				done = true;
			}
		}
		if (done) {
			if (sfd >= 0)
				close(sfd);
			return st;
		}
	}
}

int main(int argc, char *argv[])
{
	_cleanup_(closep) int dirfd = -1;
	int sync_fd = -1;
	struct failure f = { 0 };
	struct creds creds = { 0 };
	struct child_ctx ctx = { 0 };
	struct logcfg logs = { 0 };
	json_t *spec = NULL, *v;
	const char *netns = NULL;
	char text[256];
	uint64_t starttime = 0;
	struct timespec start;
	sigset_t mask;
	bool env_allocated = false;
	struct stat sst;
	pid_t payload;
	int st = 0, r;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s PROCDIR\n", argv[0]);
		return 2;
	}
	/* Only a pipe or socket on fd 3 is taken for the sync channel. */
	if (fstat(SYNC_FD, &sst) == 0 && (S_ISFIFO(sst.st_mode) || S_ISSOCK(sst.st_mode))) {
		sync_fd = SYNC_FD;
		(void)fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
	}
	/* Nothing netnsd leaked (by mistake) may reach the payload. */
	(void)close_range(FIRST_EXTRA_FD, ~0U, CLOSE_RANGE_CLOEXEC);
	setup_signals(&mask);
	if (chdir("/") < 0) {
		fail(&f, "runtime", errno);
		goto failed;
	}

	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fail(&f, "runtime", errno);
		goto failed;
	}
	/* Started by systemd, we inherit no pipe: netnsd then listens on the FIFO PROCDIR/sync.
	 * Opened without blocking, so a netnsd that is gone (no reader: ENXIO) never holds
	 * us up, and written without blocking (two short lines always fit). */
	if (sync_fd < 0) {
		int fd = openat(dirfd, "sync", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);

		if (fd >= 0 && fstat(fd, &sst) == 0 && S_ISFIFO(sst.st_mode))
			sync_fd = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (load_spec(dirfd, &spec, &f) < 0)
		goto failed;

	/* Orphans of the payload are reparented to us, not to init or netnsd. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fail(&f, "runtime", errno);
		goto failed;
	}
	if (pid_starttime(getpid(), &starttime) == 0) {
		snprintf(text, sizeof(text), "pid=%d\nstarttime=%" PRIu64 "\n", (int)getpid(),
			 starttime);
		r = write_at_atomic(dirfd, "shim.pid", text, 0644);
		if (r < 0) {
			fail(&f, "runtime", -r);
			goto failed;
		}
	}

	v = json_object_get(spec, "netns");
	if (v && !json_is_null(v)) {
		netns = json_string_value(v);
		if (!netns_name_valid(netns)) {
			fail(&f, "spec", EINVAL);
			goto failed;
		}
	}
	if (string_vector(json_object_get(spec, "argv"), true, &ctx.argv) < 0 || !ctx.argv[0][0]) {
		fail(&f, "spec", EINVAL);
		goto failed;
	}
	v = json_object_get(spec, "env");
	if (v) {
		if (string_vector(v, false, &ctx.envp) < 0) {
			fail(&f, "spec", EINVAL);
			goto failed;
		}
		env_allocated = true;
	} else {
		static char *default_env[] = { "PATH=" DEFAULT_PATH, NULL };

		ctx.envp = default_env;
	}
	ctx.path = DEFAULT_PATH;
	for (i = 0; ctx.envp[i]; i++)
		if (strncmp(ctx.envp[i], "PATH=", 5) == 0)
			ctx.path = ctx.envp[i] + 5;
	v = json_object_get(spec, "cwd");
	ctx.cwd = json_is_string(v) ? json_string_value(v) : "/";
	v = json_object_get(spec, "fds");
	if (v) {
		json_int_t n = json_integer_value(v);

		if (!json_is_integer(v) || n < 0 || n > MAX_EXTRA_FDS) {
			fail(&f, "spec", EINVAL);
			goto failed;
		}
		ctx.n_fds = (unsigned)n;
		for (i = 0; i < ctx.n_fds; i++)
			if (fcntl((int)(FIRST_EXTRA_FD + i), F_GETFD) < 0) {
				fail(&f, "fds", EBADF);
				goto failed;
			}
	}

	v = json_object_get(spec, "tty");
	if (v && !json_is_boolean(v)) {
		fail(&f, "spec", EINVAL);
		goto failed;
	}
	ctx.tty = json_is_true(v);
	if (ctx.tty) {
		pid_t sid;

		ctx.tty_steal = ioctl(STDIN_FILENO, TIOCGSID, &sid) == 0 && sid == getsid(0);
	}

	if (netns && enter_netns(netns, &f) < 0)
		goto failed;
	if (resolve_creds(spec, &creds, &f) < 0)
		goto failed;
	ctx.creds = &creds;
	r = setup_logs(spec, &logs);
	if (r < 0) {
		fail(&f, r == -EINVAL ? "spec" : "fds", -r);
		goto failed;
	}

	payload = spawn_payload(&ctx, &f);
	if (payload < 0)
		goto failed;

	/* From here on the payload runs: report it, then only supervise. */
	clock_gettime(CLOCK_REALTIME, &start);
	(void)pid_starttime(payload, &starttime);
	/* The report first: the caller waits for it; the record is for a later netnsd. */
	snprintf(text, sizeof(text), "ok %d %" PRIu64 " %lld %ld\n", (int)payload, starttime,
		 (long long)start.tv_sec, start.tv_nsec);
	sync_report(&sync_fd, text, false);
	snprintf(text, sizeof(text), "pid=%d\nstarttime=%" PRIu64 "\nstart_time=%lld.%09ld\n",
		 (int)payload, starttime, (long long)start.tv_sec, start.tv_nsec);
	(void)write_at_atomic(dirfd, "pid", text, 0644);

	/* Let go of the payload's stdio and extra fds: holding a pipe open would delay its
	 * reader's EOF until we exit. */
	{
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		if (ctx.n_fds)
			close_range(FIRST_EXTRA_FD, FIRST_EXTRA_FD + ctx.n_fds - 1, 0);
	}
	free(ctx.argv);
	if (env_allocated)
		free(ctx.envp);
	free(creds.groups);
	json_decref(spec);
	spec = NULL;

	st = supervise(payload, &mask, &logs);
	/* What it wrote before it ended is in the log before anyone learns that it ended. */
	drain_all(&logs);
	format_status(text, sizeof(text), payload, st);
	(void)write_at_atomic(dirfd, "status", text, 0644);
	kill_leftovers();
	drain_to_end(&logs);
	free_logs(&logs);
	/* Tell netnsd now rather than through our exit, which first tears down the mount
	 * namespace (a millisecond or more, and nobody waits for it). */
	sync_report(&sync_fd, "exit\n", true);
	return 0;

failed:
	report_failure(dirfd, &sync_fd, &f);
	free_logs(&logs);
	free(ctx.argv);
	if (env_allocated)
		free(ctx.envp);
	free(creds.groups);
	json_decref(spec);
	return 1;
}
