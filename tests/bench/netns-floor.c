/*
 * netns-floor.c: the raw-syscall floor for creating and deleting named
 * network namespaces, for the netnsd benchmark (tests/bench/bench_netns.py).
 *
 * It performs, per namespace, the same system calls netnsd's kernel layer
 * (daemon/netns.c) performs, in the same order, and nothing else: no JSON, no
 * socket, no state.  That is what no implementation of "ip netns add" can go
 * below, so netnsd's per-namespace cost is reported as a multiple of it.
 *
 *   create: mkdir + open + flock(/run/netns), mount("", /run/netns,
 *           MS_SHARED|MS_REC), open(O_CREAT|O_EXCL) placeholder, unshare
 *           (CLONE_NEWNET), lo up (two ioctls), bind mount
 *           /proc/thread-self/ns/net onto the placeholder, setns back, stat.
 *   delete: umount2(MNT_DETACH), unlink.
 *
 * With --persist FILE it also appends a record of about the size netnsd's
 * journal writes (about 180 bytes for a create, 50 for a delete) to FILE and
 * fdatasyncs it, once per namespace: the cost netnsd pays before it may
 * reply to a change that arrived alone.
 *
 * Usage:
 *   netns-floor create PREFIX N [--persist FILE]
 *   netns-floor delete PREFIX N [--persist FILE]
 *   netns-floor purge PREFIX        unmount and remove every /run/netns/PREFIX*
 *
 * create and delete print one JSON line: the total (wall clock), the CPU time
 * of this process over the same loop, and per-step nanoseconds.
 * Exit status 0 on success, 1 on failure (with a message on stderr).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR "/run/netns"

enum step {
	S_LOCK,
	S_SHARED,
	S_PLACEHOLDER,
	S_UNSHARE,
	S_LO_UP,
	S_BIND,
	S_SETNS,
	S_STAT,
	S_UMOUNT,
	S_UNLINK,
	S_PERSIST,
	S_MAX,
};

static const char *const step_names[S_MAX] = {
	"lock", "shared", "placeholder", "unshare", "lo_up", "bind",
	"setns", "stat", "umount", "unlink", "persist",
};

static uint64_t step_ns[S_MAX];
static uint64_t mark;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Charge the time since the previous lap to step s. */
static void lap(enum step s)
{
	uint64_t t = now_ns();

	step_ns[s] += t - mark;
	mark = t;
}

static void die(const char *what, const char *name)
{
	fprintf(stderr, "netns-floor: %s '%s': %s\n", what, name, strerror(errno));
	exit(1);
}

static int persist_fd = -1;
static char boot_id[40] = "00000000-0000-0000-0000-000000000000";
static unsigned long long seq;

static void persist(const char *line, size_t len, const char *name)
{
	if (persist_fd < 0)
		return;
	if (write(persist_fd, line, len) != (ssize_t)len || fdatasync(persist_fd) < 0)
		die("Failed to persist the record of", name);
	lap(S_PERSIST);
}

static void create_one(int host_fd, const char *name)
{
	char path[PATH_MAX], rec[512];
	struct ifreq ifr = { .ifr_name = "lo" };
	struct timespec now;
	struct stat st;
	struct tm tm;
	int lock_fd, fd, sk;
	int n;

	snprintf(path, sizeof(path), RUN_DIR "/%s", name);
	if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
		die("Failed to create", RUN_DIR);
	lock_fd = open(RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0)
		die("Failed to lock", RUN_DIR);
	lap(S_LOCK);
	if (mount("", RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		die("Failed to make shared", RUN_DIR);
	lap(S_SHARED);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		die("Failed to create", path);
	close(fd);
	lap(S_PLACEHOLDER);
	if (unshare(CLONE_NEWNET) < 0)
		die("Failed to unshare for", name);
	lap(S_UNSHARE);
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
		die("Failed to read lo in", name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
		die("Failed to bring lo up in", name);
	close(sk);
	lap(S_LO_UP);
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		die("Failed to bind mount", path);
	lap(S_BIND);
	if (setns(host_fd, CLONE_NEWNET) < 0)
		die("Failed to return to the host namespace from", name);
	close(lock_fd);
	lap(S_SETNS);
	if (stat(path, &st) < 0)
		die("Failed to stat", path);
	lap(S_STAT);
	if (persist_fd >= 0) {
		/* Shaped like netnsd's journal record of a put. */
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		n = snprintf(rec, sizeof(rec),
			     "{\"seq\":%llu,\"op\":\"put\",\"c\":\"netns\",\"k\":\"%s\",\"v\":{"
			     "\"created\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"identity\":{"
			     "\"dev\":%llu,\"ino\":%llu,\"boot_id\":\"%s\"}}}\n",
			     ++seq, name, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			     tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000,
			     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, boot_id);
		lap(S_PERSIST);
		persist(rec, (size_t)n, name);
	}
}

static void delete_one(const char *name)
{
	char path[PATH_MAX], rec[256];
	int n;

	snprintf(path, sizeof(path), RUN_DIR "/%s", name);
	if (umount2(path, MNT_DETACH) < 0)
		die("Failed to unmount", path);
	lap(S_UMOUNT);
	if (unlink(path) < 0)
		die("Failed to remove", path);
	lap(S_UNLINK);
	if (persist_fd >= 0) {
		n = snprintf(rec, sizeof(rec),
			     "{\"seq\":%llu,\"op\":\"del\",\"c\":\"netns\",\"k\":\"%s\"}\n", ++seq,
			     name);
		persist(rec, (size_t)n, name);
	}
}

/* Best-effort removal of everything this benchmark may have left behind. */
static int purge(const char *prefix)
{
	DIR *d = opendir(RUN_DIR);
	struct dirent *de;
	char path[PATH_MAX];
	int removed = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), RUN_DIR "/%s", de->d_name);
		umount2(path, MNT_DETACH);
		if (unlink(path) == 0)
			removed++;
	}
	closedir(d);
	printf("{\"removed\":%d}\n", removed);
	return 0;
}

static void read_boot_id(void)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (fscanf(f, "%36s", boot_id) != 1)
			snprintf(boot_id, sizeof(boot_id), "unknown");
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	const char *cmd, *prefix, *persist_path = NULL;
	uint64_t start, total, cpu;
	char name[256];
	long n;
	int host_fd;

	if (argc == 3 && !strcmp(argv[1], "purge"))
		return purge(argv[2]);
	if (argc == 6 && !strcmp(argv[4], "--persist"))
		persist_path = argv[5];
	else if (argc != 4)
		goto usage;
	cmd = argv[1];
	prefix = argv[2];
	n = strtol(argv[3], NULL, 10);
	if (n <= 0 || (strcmp(cmd, "create") && strcmp(cmd, "delete")))
		goto usage;
	if (persist_path) {
		persist_fd = open(persist_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (persist_fd < 0)
			die("Failed to open", persist_path);
	}
	read_boot_id();
	host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_fd < 0)
		die("Failed to open", "/proc/thread-self/ns/net");

	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	start = mark = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%ld", prefix, i);
		if (cmd[0] == 'c')
			create_one(host_fd, name);
		else
			delete_one(name);
	}
	total = now_ns() - start;
	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu;

	printf("{\"op\":\"%s\",\"n\":%ld,\"persist\":%s,\"total_ns\":%" PRIu64
	       ",\"cpu_ns\":%" PRIu64 ",\"steps_ns\":{",
	       cmd, n, persist_fd >= 0 ? "true" : "false", total, cpu);
	for (int s = 0, first = 1; s < S_MAX; s++) {
		if (!step_ns[s])
			continue;
		printf("%s\"%s\":%" PRIu64, first ? "" : ",", step_names[s], step_ns[s]);
		first = 0;
	}
	printf("}}\n");
	return 0;
usage:
	fprintf(stderr, "Usage: netns-floor create|delete PREFIX N [--persist FILE]\n"
			"       netns-floor purge PREFIX\n");
	return 2;
}
