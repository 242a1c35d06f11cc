/*
 * util.h: small helpers every module may use: structural cleanup (the
 * _cleanup_ attribute with explicit TAKE_PTR/TAKE_FD hand-off), container_of,
 * time stamps and name validation.  Nothing here allocates behind the caller's
 * back or logs.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Monotonic and wall clock in useful units. */
uint64_t now_usec(void);
uint64_t realtime_usec(void);

/*
 * Format a wall-clock time in microseconds as RFC 3339 UTC with millisecond
 * precision ("2026-11-22T15:04:05.123Z").  buf must hold 32 bytes.
 */
const char *format_rfc3339(uint64_t usec, char buf[static 32]);

/* Names.  Both return true when the name is acceptable to the kernel and to us. */
#define NETNS_NAME_MAX 64
bool netns_name_valid(const char *name);
bool ifname_valid(const char *name);

/* Read the whole (small) file into a NUL-terminated buffer, at most max bytes. */
int read_small_file(const char *path, size_t max, char **ret);

/* Read dirfd/name into buf (NUL-terminated, at most size - 1 bytes); the length or -errno. */
ssize_t read_at(int dirfd, const char *name, char *buf, size_t size);

/*
 * Replace dirfd/name with text through a rename, so a reader never sees a
 * partial file.  No fsync: for runtime files on tmpfs, which must survive a
 * crash of the writer, not a reboot (that is write_file_atomic()'s job).
 * The file gets exactly mode, whatever the umask.
 */
int write_at_atomic(int dirfd, const char *name, const char *text, mode_t mode);

/* Field 22 of /proc/PID/stat: its start time in clock ticks after boot; -ESRCH when gone. */
int pid_starttime(pid_t pid, uint64_t *ret);

/*
 * Write data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory.  mode is the new file's mode, exactly,
 * whatever the umask.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p with exactly the given mode (whatever the umask) for every created component. */
int mkdir_p(const char *path, mode_t mode);

/*
 * Take an exclusive flock() on path (created 0600 if missing) for as long as the returned
 * descriptor (close-on-exec, so no child inherits the lock) stays open, and write our pid
 * into the file.  Returns the descriptor; -EBUSY when another process holds the lock, with
 * *ret_holder (optional) set to the pid it wrote (0 if unknown); or -errno.
 */
int lock_file(const char *path, pid_t *ret_holder);

/* Write all bytes, retrying on EINTR and short writes. */
int write_all(int fd, const void *data, size_t len);
