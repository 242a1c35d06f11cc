/*
 * test-netnsctl-impair.c: netnsctl's reading of tc's units (client/impair.c):
 * times, percentages and rates into the protocol's milliseconds, percent and
 * whole kbit/s, what it refuses, and an impair object written back in tc's
 * words.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netnsctl.h"
#include "tap.h"

/* A time or a percentage: parse(s) gives want, or is refused with -EINVAL leaving it alone. */
static void real_is(int (*parse)(const char *, double *), const char *what, const char *s,
		    bool good, double want)
{
	double got = -1;
	char d[160];
	int r = parse(s, &got);

	if (good) {
		snprintf(d, sizeof(d), "%s '%s': r=%d, got %.6f, expected %.6f", what, s, r, got,
			 want);
		tap_ok(r == 0 && got > want - 1e-9 && got < want + 1e-9, d, d);
	} else {
		snprintf(d, sizeof(d), "%s '%s' refused (r=%d), output untouched", what, s, r);
		tap_ok(r == -EINVAL && got == -1, d, d);
	}
}

#define ms_ok(s, want)	real_is(impair_parse_ms, "time", s, true, want)
#define ms_bad(s)	real_is(impair_parse_ms, "time", s, false, 0)
#define pct_ok(s, want) real_is(impair_parse_pct, "percentage", s, true, want)
#define pct_bad(s)	real_is(impair_parse_pct, "percentage", s, false, 0)

static void kbit_ok(const char *s, long long want)
{
	long long got = -1;
	char d[128];
	int r = impair_parse_kbit(s, &got);

	snprintf(d, sizeof(d), "'%s': r=%d, got %lld kbit, expected %lld", s, r, got, want);
	tap_ok(r == 0 && got == want, d, d);
}

static void kbit_bad(const char *s, int want_r)
{
	long long got = -1;
	char d[128];
	int r = impair_parse_kbit(s, &got);

	snprintf(d, sizeof(d), "rate '%s' refused with %d (got %d)", s, want_r, r);
	tap_ok(r == want_r && got == -1, d, d);
}

static void format_is(const char *json, const char *want)
{
	json_t *v = json_loads(json, 0, NULL);
	char *got = impair_format(v);
	char d[512];

	snprintf(d, sizeof(d), "%s -> \"%s\" (expected \"%s\")", json, got ?: "(null)", want);
	tap_ok(got && !strcmp(got, want), d, d);
	free(got);
	json_decref(v);
}

int main(void)
{
	ms_ok("10ms", 10);
	ms_ok("1.5ms", 1.5);
	ms_ok("2s", 2000);
	ms_ok("0.25s", 250);
	ms_ok("250us", 0.25);
	ms_ok("1usec", 0.001);
	ms_ok("10MS", 10);
	ms_ok("3msec", 3);
	ms_ok("0", 0);
	ms_ok("0ms", 0);
	ms_bad("10");	 /* tc reads microseconds: a unit is required */
	ms_bad("");
	ms_bad("ms");
	ms_bad("-5ms");
	ms_bad("10 ms");
	ms_bad(" 10ms");
	ms_bad("10min");
	ms_bad("infms");
	ms_bad("nanms");
	ms_bad("0x10ms");
	ms_bad("1e999ms");

	pct_ok("1%", 1);
	pct_ok("0.5%", 0.5);
	pct_ok("100%", 100);
	pct_ok("25", 25);
	pct_ok(".1%", 0.1);
	pct_bad("");
	pct_bad("%");
	pct_bad("1%%");
	pct_bad("-1%");
	pct_bad("1 %");
	pct_bad("1percent");
	pct_bad("inf");

	kbit_ok("1mbit", 1000);
	kbit_ok("100kbit", 100);
	kbit_ok("1.5mbit", 1500);
	kbit_ok("1gbit", 1000000);
	kbit_ok("1tbit", 1000000000);
	kbit_ok("8000bit", 8);
	kbit_ok("125kbps", 1000);
	kbit_ok("1mbps", 8000);
	kbit_ok("1MBIT", 1000);
	kbit_ok("125kibps", 1024);
	kbit_bad("1kibit", -ERANGE); /* 1.024 kbit/s */
	kbit_ok("0", 0);
	kbit_ok("0kbit", 0);
	kbit_bad("1500bit", -ERANGE);
	kbit_bad("1bps", -ERANGE);
	kbit_bad("3kibit", -ERANGE);
	kbit_bad("1000", -EINVAL); /* tc reads bytes/s: a unit is required */
	kbit_bad("", -EINVAL);
	kbit_bad("mbit", -EINVAL);
	kbit_bad("1mbits", -EINVAL);
	kbit_bad("-1mbit", -EINVAL);
	kbit_bad("1e30gbit", -ERANGE);

	format_is("{}", "");
	format_is("null", "");
	format_is("{\"delay_ms\": 10, \"loss_pct\": 1}", "delay 10ms loss 1%");
	format_is("{\"rate_kbit\": 1000}", "rate 1mbit");
	format_is("{\"rate_kbit\": 2000000}", "rate 2gbit");
	format_is("{\"rate_kbit\": 1500}", "rate 1500kbit");
	format_is("{\"delay_ms\": 0.25, \"jitter_ms\": 1.5, \"reorder_pct\": 25}",
		  "delay 0.25ms jitter 1.5ms reorder 25%");
	format_is("{\"rate_kbit\": 100, \"corrupt_pct\": 0.1, \"duplicate_pct\": 0.5, "
		  "\"loss_pct\": 0}",
		  "duplicate 0.5% corrupt 0.1% rate 100kbit");
	format_is("{\"loss_pct\": 0.0001}", "loss 0.0001%");
	format_is("{\"delay_ms\": 60000}", "delay 60000ms");
	return tap_done();
}
