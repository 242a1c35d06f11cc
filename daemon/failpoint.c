/*
 * failpoint.c: the registry behind failpoint.h, compiled only with
 * --enable-failpoints.  One failpoint at a time is armed; hits are counted in
 * the arming process and nowhere else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failpoint.h"

#if ENABLE_FAILPOINTS

static const struct {
	const char *name, *what;
} table[FP_MAX] = {
#define FAILPOINT_ROW(id, n, w) [FP_##id] = { n, w },
	FAILPOINT_LIST(FAILPOINT_ROW)
#undef FAILPOINT_ROW
};

static struct {
	int armed; /* an enum failpoint, or -1 */
	unsigned long nth, hits;
	pid_t pid;
} fp = { .armed = -1 };

int failpoint_arm(const char *spec)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long nth = 1;

	if (colon) {
		char *end;

		errno = 0;
		nth = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || nth == 0 || colon[1] == '-')
			return -EINVAL;
	}
	for (int i = 0; i < FP_MAX; i++) {
		if (strlen(table[i].name) == len && !strncmp(table[i].name, spec, len)) {
			fp.armed = i;
			fp.nth = nth;
			fp.hits = 0;
			fp.pid = getpid();
			return 0;
		}
	}
	return -EINVAL;
}

bool failpoint_fires(enum failpoint id)
{
	if ((int)id != fp.armed || getpid() != fp.pid)
		return false;
	if (++fp.hits < fp.nth)
		return false;
	/* Async-signal-safe: the caller may be between a fork and an exec. */
	(void)!write(STDERR_FILENO, "netnsd: failpoint ", 18);
	(void)!write(STDERR_FILENO, table[id].name, strlen(table[id].name));
	(void)!write(STDERR_FILENO, " hit\n", 5);
	return true;
}

void failpoint_hit(enum failpoint id)
{
	if (failpoint_fires(id))
		_exit(FAILPOINT_EXIT_STATUS);
}

void failpoint_list(void)
{
	for (int i = 0; i < FP_MAX; i++)
		printf("%s\t%s\n", table[i].name, table[i].what);
}

#endif
