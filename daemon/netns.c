/*
 * netns.c: creating, finding and removing named network namespaces (see
 * netns.h).  The creation sequence follows iproute2's `ip netns add`.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "failpoint.h"
#include "log.h"
#include "netns.h"
#include "nl.h"
#include "util.h"

static int host_fd = -1;
static struct nl *host_nl;

static void netns_unpin_all(void);
static dev_t nsfs_dev;
static char boot_id[37];

int netns_init(void)
{
	struct stat st;

	host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_fd < 0)
		return -errno;
	if (fstat(host_fd, &st) < 0)
		return -errno;
	nsfs_dev = st.st_dev;
	{
		_cleanup_(freep) char *s = NULL;

		if (read_small_file("/proc/sys/kernel/random/boot_id", 64, &s) >= 0)
			snprintf(boot_id, sizeof(boot_id), "%.36s", s);
	}
	return 0;
}

void netns_exit(void)
{
	netns_unpin_all();
	nl_close(host_nl);
	host_nl = NULL;
	if (host_fd >= 0)
		close(TAKE_FD(host_fd));
}

int netns_host_fd(void)
{
	return host_fd;
}

static int netns_path(char buf[static PATH_MAX], const char *name)
{
	if ((size_t)snprintf(buf, PATH_MAX, NETNS_RUN_DIR "/%s", name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Make the run directory a shared mount point so that namespaces mounted on
 * it propagate to every mount namespace that `ip netns exec` and others
 * create from it.  When it is not a mount point yet, bind it onto itself,
 * make that private (so it does not join a peer group it came from) and then
 * shared.
 */
static int make_run_dir_shared(void)
{
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_PRIVATE | MS_REC, NULL) < 0)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

static int lock_run_dir(void)
{
	int fd;

	/* 0755 whatever the umask, as `ip netns` makes it: everybody may list namespaces. */
	if (mkdir(NETNS_RUN_DIR, 0755) == 0)
		(void)chmod(NETNS_RUN_DIR, 0755);
	else if (errno != EEXIST)
		return -errno;
	fd = open(NETNS_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static uint64_t socket_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		return 0;
	return cookie;
}

/*
 * Inside the new namespace: lo up, without netlink (one ioctl pair), and the
 * namespace's cookie from the same socket.
 */
static int loopback_up(uint64_t *cookie)
{
	_cleanup_(closep) int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo" };

	if (fd < 0)
		return -errno;
	*cookie = socket_cookie(fd);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

/*
 * Write one sysctl of the current namespace.  /proc/sys/net resolves against
 * the namespace of the opening thread, which is why this runs between
 * unshare() and the switch back.
 */
static int write_sysctl(const struct netns_sysctl *s)
{
	char path[PATH_MAX];
	_cleanup_(closep) int fd = -1;
	size_t n;
	char *p;

	n = (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", s->key);
	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	/*
	 * As sysctl(8) reads keys: when the first separator is a dot, dots
	 * separate and a slash stands for a dot inside a name
	 * (net.ipv4.conf.eth0/100.forwarding); otherwise it is a path.
	 */
	if (s->key[strcspn(s->key, "./")] == '.')
		for (p = path + strlen("/proc/sys/"); *p; p++)
			*p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return write_all(fd, s->value, strlen(s->value));
}

static void return_home(void)
{
	/*
	 * Staying in the wrong namespace would silently corrupt every later
	 * operation; there is no safe way to continue.
	 */
	if (setns(host_fd, CLONE_NEWNET) < 0) {
		log_error("Failed to return to the host network namespace: %m");
		abort();
	}
}

static int etc_write(const char *name, const char *file, const char *content)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int r;

	if ((size_t)snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", name) >= sizeof(dir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	return write_file_atomic(path, content, strlen(content), 0644);
}

void netns_etc_remove(const char *name)
{
	static const char *const files[] = { "resolv.conf", "hosts" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s/%s", name, files[i]);
		unlink(path);
	}
	/* Only when empty: anything else there was put there by someone else. */
	snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s", name);
	rmdir(path);
}

/* The kernel half: placeholder, unshare, lo, sysctls, bind mount. */
static int create_mount(const struct netns_spec *spec, const char *path, uint64_t *cookie,
			struct netns_failure *fail)
{
	_cleanup_(closep) int lock_fd = -1, fd = -1;
	int r;

	fail->part = NETNS_PART_NAME;
	lock_fd = lock_run_dir();
	if (lock_fd < 0)
		return lock_fd;
	r = make_run_dir_shared();
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(TAKE_FD(fd));

	FAILPOINT(NETNS_UNSHARE);
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	r = loopback_up(cookie);
	for (size_t i = 0; r == 0 && i < spec->n_sysctls; i++) {
		r = write_sysctl(&spec->sysctls[i]);
		if (r < 0)
			*fail = (struct netns_failure){ NETNS_PART_SYSCTL, i };
	}
	if (r == 0)
		FAILPOINT(NETNS_MOUNT);
	if (r == 0 && mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	if (r == 0)
		FAILPOINT(NETNS_MOUNTED);
	return_home();
	if (r < 0)
		unlink(path);
	return r;
}

int netns_create(const struct netns_spec *spec, struct netns_id *ret_id,
		 struct netns_failure *ret_fail)
{
	struct netns_failure fail = { NETNS_PART_NAME, 0 };
	char path[PATH_MAX];
	uint64_t cookie = 0;
	struct stat st;
	int r;

	r = netns_path(path, spec->name);
	if (r < 0)
		goto fail;
	r = create_mount(spec, path, &cookie, &fail);
	if (r < 0)
		goto fail;
	if (stat(path, &st) < 0) {
		r = -errno;
		goto undo;
	}
	if (spec->nsid >= 0) {
		_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);

		fail.part = NETNS_PART_NSID;
		r = fd < 0 ? -errno : netns_set_nsid(fd, spec->nsid);
		if (r < 0)
			goto undo;
	}
	if (spec->resolv_conf) {
		fail.part = NETNS_PART_RESOLV_CONF;
		r = etc_write(spec->name, "resolv.conf", spec->resolv_conf);
		if (r < 0)
			goto undo;
	}
	if (spec->hosts) {
		fail.part = NETNS_PART_HOSTS;
		r = etc_write(spec->name, "hosts", spec->hosts);
		if (r < 0)
			goto undo;
	}
	*ret_id = (struct netns_id){ st.st_dev, st.st_ino, cookie };
	return 0;
undo:
	if (spec->resolv_conf || spec->hosts)
		netns_etc_remove(spec->name);
	netns_remove(spec->name);
fail:
	if (ret_fail)
		*ret_fail = fail;
	return r;
}

int netns_remove(const char *name)
{
	char path[PATH_MAX];
	int r;

	r = netns_path(path, name);
	if (r < 0)
		return r;
	FAILPOINT(NETNS_UMOUNT);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	FAILPOINT(NETNS_UMOUNTED);
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

int netns_stat(const char *name, struct netns_id *ret_id)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	r = netns_path(path, name);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return -errno;
	if (st.st_dev != nsfs_dev)
		return -ENOTCONN;
	*ret_id = (struct netns_id){ st.st_dev, st.st_ino, 0 };
	return 0;
}

int netns_socket(const char *name, int domain, int type, int protocol)
{
	_cleanup_(closep) int nsfd = -1;
	int fd;

	if (!name) {
		fd = socket(domain, type | SOCK_CLOEXEC, protocol);
		return fd < 0 ? -errno : fd;
	}
	nsfd = netns_open(name);
	if (nsfd < 0)
		return nsfd;
	FAILPOINT(NETNS_SETNS);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		fd = -errno;
	return_home();
	return fd;
}

int netns_cookie(const char *name, uint64_t *ret)
{
	_cleanup_(closep) int fd = netns_socket(name, AF_UNIX, SOCK_DGRAM, 0);
	uint64_t c;

	if (fd < 0)
		return fd;
	c = socket_cookie(fd);
	if (!c)
		return -EOPNOTSUPP;
	*ret = c;
	return 0;
}

struct pin {
	char *name;
	int fd;
	struct netns_id id;
};

static struct pin *pins;
static size_t npins, pins_cap;

int netns_pin(const char *name)
{
	int fd;

	for (size_t i = 0; i < npins; i++)
		if (!strcmp(pins[i].name, name))
			return 0;
	if (npins == pins_cap) {
		size_t cap = pins_cap ? pins_cap * 2 : 64;
		struct pin *p = realloc(pins, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		pins = p;
		pins_cap = cap;
	}
	if (netns_stat(name, &pins[npins].id) < 0)
		return -ENOENT;
	/*
	 * A socket, not an fd on the mount: it keeps the namespace (and so
	 * its inode number) alive without making the mount busy for umount.
	 */
	fd = netns_socket(name, AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	pins[npins].name = strdup(name);
	if (!pins[npins].name) {
		close(fd);
		return -ENOMEM;
	}
	pins[npins++].fd = fd;
	return 0;
}

void netns_unpin(const char *name)
{
	for (size_t i = 0; i < npins; i++) {
		if (strcmp(pins[i].name, name))
			continue;
		close(pins[i].fd);
		free(pins[i].name);
		pins[i] = pins[--npins];
		return;
	}
}

bool netns_pinned_mounted(const char *name)
{
	struct netns_id id;

	for (size_t i = 0; i < npins; i++)
		if (!strcmp(pins[i].name, name))
			return netns_stat(name, &id) == 0 && netns_id_equal(&id, &pins[i].id);
	return false;
}

static void netns_unpin_all(void)
{
	for (size_t i = 0; i < npins; i++) {
		close(pins[i].fd);
		free(pins[i].name);
	}
	free(pins);
	pins = NULL;
	npins = pins_cap = 0;
}

static int fd_id(int fd, struct netns_id *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_dev != nsfs_dev)
		return -ENOENT; /* not a namespace: a placeholder nothing is mounted on */
	*ret = (struct netns_id){ .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

int netns_open_checked(const char *name, struct netns_id *ret_id, bool *ret_pinned)
{
	struct netns_id id, mounted;
	int fd, r;

	for (size_t i = 0; i < npins; i++) {
		if (strcmp(pins[i].name, name))
			continue;
		/* The namespace of the pinning socket: the one netnsd holds. */
		fd = ioctl(pins[i].fd, SIOCGSKNS);
		if (fd < 0)
			break;
		if (fd_id(fd, &id) == 0 && netns_id_equal(&id, &pins[i].id) &&
		    netns_stat(name, &mounted) == 0 && netns_id_equal(&mounted, &id)) {
			*ret_id = id;
			*ret_pinned = true;
			return fd;
		}
		close(fd);
		break;
	}
	fd = netns_open(name);
	if (fd < 0)
		return fd;
	r = fd_id(fd, &id);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_id = id;
	/* Without SIOCGSKNS (before Linux 4.9) the mounted one may still be ours. */
	*ret_pinned = false;
	for (size_t i = 0; i < npins; i++)
		if (!strcmp(pins[i].name, name))
			*ret_pinned = netns_id_equal(&id, &pins[i].id);
	return fd;
}

int netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd, r;

	r = netns_path(path, name);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void netns_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

int netns_list_names(char ***ret)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		if (errno != ENOENT)
			return -errno;
		v = calloc(1, sizeof(char *));
		if (!v)
			return -ENOMEM;
		*ret = v;
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n + 2 > cap) {
			char **nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(char *));
			if (!nv)
				goto oom;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			goto oom;
		v[++n] = NULL;
	}
	closedir(d);
	if (!v && !(v = calloc(1, sizeof(char *))))
		return -ENOMEM;
	*ret = v;
	return (int)n;
oom:
	closedir(d);
	netns_strv_free(v);
	return -ENOMEM;
}

int netns_pid_id(pid_t pid, struct netns_id *ret_id)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	*ret_id = (struct netns_id){ st.st_dev, st.st_ino, 0 };
	return 0;
}

int netns_pids_scan(const struct netns_id *ids, size_t n,
		    void (*cb)(size_t index, pid_t pid, void *data), void *data)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int dfd;

	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char path[64];
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%ld/ns/net", pid);
		if (fstatat(dfd, path, &st, 0) < 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (ids[i].ino == st.st_ino && ids[i].dev == st.st_dev)
				cb(i, (pid_t)pid, data);
	}
	closedir(d);
	return 0;
}

struct pid_vec {
	pid_t *v;
	size_t n, cap;
	int err;
};

static void collect_pid(size_t index, pid_t pid, void *data)
{
	struct pid_vec *pv = data;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 16;
		pid_t *nv = realloc(pv->v, cap * sizeof(pid_t));

		if (!nv) {
			pv->err = -ENOMEM;
			return;
		}
		pv->v = nv;
		pv->cap = cap;
	}
	pv->v[pv->n++] = pid;
}

int netns_pids(const struct netns_id *id, pid_t **ret, size_t *ret_n)
{
	struct pid_vec pv = { 0 };
	int r;

	r = netns_pids_scan(id, 1, collect_pid, &pv);
	if (r == 0)
		r = pv.err;
	if (r < 0) {
		free(pv.v);
		return r;
	}
	*ret = pv.v;
	*ret_n = pv.n;
	return 0;
}

/* nsid: through one rtnetlink socket of the host, opened on first use. */

static int host_handle(struct nl **ret)
{
	int r;

	if (!host_nl) {
		r = nl_open(-1, host_fd, &host_nl);
		if (r < 0)
			return r;
	}
	*ret = host_nl;
	return 0;
}

int netns_get_nsid(int fd, int *ret_nsid)
{
	struct nl *nl;
	int r = host_handle(&nl);

	return r < 0 ? r : nl_nsid_get(nl, fd, ret_nsid);
}

int netns_set_nsid(int fd, int nsid)
{
	struct nl *nl;
	int r = host_handle(&nl);

	if (r < 0)
		return r;
	r = nl_nsid_set(nl, fd, nsid);
	return r < 0 ? r : 0;
}

const char *netns_boot_id(void)
{
	return boot_id;
}
