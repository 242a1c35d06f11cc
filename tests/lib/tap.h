/*
 * tap.h: a tiny TAP producer for the C unit tests.  Assertions print both
 * sides on failure and the test goes on, so one run reports every failure.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_ok(int cond, const char *desc, const char *detail)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, desc);
	if (!cond && detail)
		printf("# %s\n", detail);
	fflush(stdout);
}

#define OK(cond, desc) tap_ok(!!(cond), desc, #cond)

#define EQ_INT(a, b, desc)                                                       \
	do {                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);              \
		char _d[256];                                                    \
		snprintf(_d, sizeof(_d), "%s == %s: got %lld, expected %lld", #a, \
			 #b, _a, _b);                                            \
		tap_ok(_a == _b, desc, _d);                                      \
	} while (0)

#define EQ_STR(a, b, desc)                                                       \
	do {                                                                     \
		const char *_a = (a), *_b = (b);                                 \
		char _d[1024];                                                   \
		snprintf(_d, sizeof(_d), "%s == %s: got \"%s\", expected \"%s\"", \
			 #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");        \
		tap_ok(_a && _b && !strcmp(_a, _b), desc, _d);                  \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
