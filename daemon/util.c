/*
 * util.c: time, name validation and small file helpers shared by all modules
 * and by netnsd-shim.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "failpoint.h"
#include "util.h"

uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

const char *format_rfc3339(uint64_t usec, char buf[static 32])
{
	time_t sec = (time_t)(usec / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03uZ", (unsigned)((usec / 1000) % 1000));
	return buf;
}

/*
 * Namespace names become file names under /run/netns and /etc/netns, so they
 * must never be "." or "..", never start with a dash (they are passed to tools
 * as arguments) and never contain a slash: [A-Za-z0-9_][A-Za-z0-9_.-]{0,63}.
 */
bool netns_name_valid(const char *name)
{
	size_t i;

	if (!name || !name[0])
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || (i > 0 && (c == '.' || c == '-'));

		if (!ok || i >= NETNS_NAME_MAX)
			return false;
	}
	return true;
}

/*
 * The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':'
 * or whitespace.
 */
bool ifname_valid(const char *name)
{
	size_t i;

	if (!name || !name[0] || strlen(name) > 15)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

/* Read up to size bytes; fewer only at end of file.  Returns the count or -errno. */
static ssize_t read_full(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

int read_small_file(const char *path, size_t max, char **ret)
{
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *buf = NULL;
	ssize_t len;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	len = read_full(fd, buf, max);
	if (len < 0)
		return (int)len;
	if ((size_t)len == max) {
		char c;

		if (read(fd, &c, 1) > 0)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return (int)len;
}

ssize_t read_at(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_(closep) int fd = -1;
	ssize_t len;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	len = read_full(fd, buf, size - 1);
	buf[len < 0 ? 0 : len] = '\0';
	return len;
}

int write_at_atomic(int dirfd, const char *name, const char *text, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	/* Exactly mode, whatever the umask (netnsd's unit sets UMask=0077). */
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, text, strlen(text));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	FAILPOINT(RUNTIME_RENAME);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int pid_starttime(pid_t pid, uint64_t *ret)
{
	char path[64], buf[1024], *p;
	_cleanup_(closep) int fd = -1;
	ssize_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	for (field = 2; field < 21 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EIO;
	*ret = strtoull(p + 1, NULL, 10);
	return 0;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_parent_dir(const char *path)
{
	_cleanup_(freep) char *copy = strdup(path);
	_cleanup_(closep) int dfd = -1;

	if (!copy)
		return -ENOMEM;
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	FAILPOINT(FILE_DIRSYNC);
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	_cleanup_(closep) int fd = -1;
	int r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	/* Exactly mode, whatever the umask (netnsd's unit sets UMask=0077). */
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	FAILPOINT(FILE_WRITE);
	if (r == 0)
		r = write_all(fd, data, len);
	FAILPOINT(FILE_FSYNC);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	FAILPOINT(FILE_RENAME);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return fsync_parent_dir(path);
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == 0)
			(void)chmod(buf, mode); /* exactly mode, whatever the umask */
		else if (errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) == 0) {
		if (chmod(buf, mode) < 0)
			return -errno;
	} else {
		struct stat st;

		if (errno != EEXIST)
			return -errno;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

int lock_file(const char *path, pid_t *ret_holder)
{
	_cleanup_(closep) int fd = -1;
	char buf[32];
	ssize_t n;

	if (ret_holder)
		*ret_holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return -errno;
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (ret_holder && n > 0) {
			buf[n] = '\0';
			*ret_holder = (pid_t)strtol(buf, NULL, 10);
		}
		return -EBUSY;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0)
		return -errno;
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return TAKE_FD(fd);
}
