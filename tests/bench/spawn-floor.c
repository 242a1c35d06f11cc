/*
 * spawn-floor.c: the floor under proc.spawn + proc.wait, for bench_proc.py.
 *
 * Runs a program N times inside a named network namespace, one after the
 * other, with nothing but the system calls that takes, and prints one JSON
 * line with the wall-clock and CPU time per run:
 *
 *	spawn-floor MODE NETNS N [PROGRAM]	(PROGRAM defaults to /bin/true)
 *
 * MODE
 *	fork	the floor of the issue: fork(); in the child setns() into
 *		/run/netns/NETNS (opened once, before the loop), execve(); in the
 *		parent waitpid().
 *	vfork	the same with clone(CLONE_VM | CLONE_VFORK), as posix_spawn() and
 *		netnsd-shim start their payload: no copy of the page tables.
 *	mnt	fork + setns + the mount context `ip netns exec` and netnsd-shim
 *		give a payload: unshare(CLONE_NEWNS), every mount MS_SLAVE|MS_REC,
 *		a sysfs of the namespace on /sys.  The cost of that context grows
 *		with the number of mounts in the host (each one is copied).
 *
 * stdin/stdout/stderr of the program are /dev/null.  The parent's CPU time
 * (getrusage RUSAGE_SELF) and the children's (RUSAGE_CHILDREN) are reported
 * separately.  Exit status 0 on success, 1 if a run failed (the program
 * exited non-zero or a system call failed), 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_FORK, MODE_VFORK, MODE_MNT };

struct ctx {
	enum mode mode;
	int nsfd;
	int nullfd;
	char *argv[2];
	char *envp[2];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* The child: only system calls (it may share the parent's memory). */
static int child(void *arg)
{
	struct ctx *c = arg;

	if (setns(c->nsfd, CLONE_NEWNET) < 0)
		_exit(120);
	if (c->mode == MODE_MNT) {
		if (unshare(CLONE_NEWNS) < 0)
			_exit(121);
		if (mount("none", "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			_exit(122);
		(void)umount2("/sys", MNT_DETACH);
		if (mount("netns", "/sys", "sysfs", 0, NULL) < 0)
			_exit(123);
	}
	if (dup2(c->nullfd, 0) < 0 || dup2(c->nullfd, 1) < 0 || dup2(c->nullfd, 2) < 0)
		_exit(124);
	execve(c->argv[0], c->argv, c->envp);
	_exit(127);
}

int main(int argc, char *argv[])
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	struct ctx c = { 0 };
	struct rusage self, kids;
	char path[4096];
	double t0, t1;
	long i, n;
	int failed = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "Usage: %s fork|vfork|mnt NETNS N [PROGRAM]\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "fork") == 0)
		c.mode = MODE_FORK;
	else if (strcmp(argv[1], "vfork") == 0)
		c.mode = MODE_VFORK;
	else if (strcmp(argv[1], "mnt") == 0)
		c.mode = MODE_MNT;
	else {
		fprintf(stderr, "%s: unknown mode '%s'\n", argv[0], argv[1]);
		return 2;
	}
	n = strtol(argv[3], NULL, 10);
	if (n <= 0) {
		fprintf(stderr, "%s: bad N '%s'\n", argv[0], argv[3]);
		return 2;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", argv[2]);
	c.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (c.nsfd < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], path, strerror(errno));
		return 1;
	}
	c.nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	c.argv[0] = argc == 5 ? argv[4] : "/bin/true";
	c.envp[0] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

	t0 = now_us();
	for (i = 0; i < n; i++) {
		pid_t pid;
		int st;

		if (c.mode == MODE_VFORK) {
			pid = clone(child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
				    &c);
		} else {
			pid = fork();
			if (pid == 0)
				child(&c);
		}
		if (pid < 0) {
			fprintf(stderr, "%s: fork: %s\n", argv[0], strerror(errno));
			return 1;
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR) {
				fprintf(stderr, "%s: waitpid: %s\n", argv[0], strerror(errno));
				return 1;
			}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	t1 = now_us();
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	printf("{\"mode\":\"%s\",\"n\":%ld,\"failed\":%d,\"total_us\":%.0f,\"per_us\":%.1f,"
	       "\"cpu_self_us\":%.1f,\"cpu_children_us\":%.1f}\n",
	       argv[1], n, failed, t1 - t0, (t1 - t0) / (double)n,
	       (tv_us(&self.ru_utime) + tv_us(&self.ru_stime)) / (double)n,
	       (tv_us(&kids.ru_utime) + tv_us(&kids.ru_stime)) / (double)n);
	return failed ? 1 : 0;
}
