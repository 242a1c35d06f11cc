/*
 * impair.c: link impairments in tc's words: reading "10ms", "0.5%" and
 * "1mbit" into the units of the protocol's impair object (milliseconds,
 * percent, kbit/s) and writing an impair object back as "delay 10ms loss 1%
 * rate 1mbit".  Pure functions, no I/O: unit-tested in
 * tests/unit/test-netnsctl-impair.c.  Ranges are the daemon's to judge.
 */

#include <errno.h>
#include <math.h> /* isfinite(), a macro: no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netnsctl.h"

/* A finite, non-negative decimal number followed by a suffix: the number, or -EINVAL. */
static int number_prefix(const char *s, double *ret, const char **ret_suffix)
{
	char *end;
	double v;

	/* strtod() takes "inf", "nan", hex and leading blanks; none of them is a tc number. */
	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	if (strchr(s, 'x') || strchr(s, 'X'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	*ret = v;
	*ret_suffix = end;
	return 0;
}

int impair_parse_ms(const char *s, double *ret_ms)
{
	const char *unit;
	double v;

	if (number_prefix(s, &v, &unit) < 0)
		return -EINVAL;
	if (!strcasecmp(unit, "ms") || !strcasecmp(unit, "msec") || !strcasecmp(unit, "msecs"))
		;
	else if (!strcasecmp(unit, "s") || !strcasecmp(unit, "sec") || !strcasecmp(unit, "secs"))
		v *= 1000;
	else if (!strcasecmp(unit, "us") || !strcasecmp(unit, "usec") ||
		 !strcasecmp(unit, "usecs"))
		v /= 1000;
	else if (!(*unit == '\0' && v == 0))
		return -EINVAL; /* a unit is required: tc reads a bare number as microseconds */
	*ret_ms = v;
	return 0;
}

int impair_parse_pct(const char *s, double *ret_pct)
{
	const char *unit;
	double v;

	if (number_prefix(s, &v, &unit) < 0 || (*unit && strcmp(unit, "%")))
		return -EINVAL;
	*ret_pct = v;
	return 0;
}

/* tc's rate units: bits or bytes per second, decimal (k = 1000) or binary (ki = 1024). */
static const struct {
	const char *unit;
	double bits;
} rate_units[] = {
	{ "bit", 1 },	     { "kbit", 1e3 },	       { "mbit", 1e6 },
	{ "gbit", 1e9 },     { "tbit", 1e12 },	       { "kibit", 1024. },
	{ "mibit", 1048576. }, { "gibit", 1073741824. }, { "tibit", 1099511627776. },
	{ "bps", 8 },	     { "kbps", 8e3 },	       { "mbps", 8e6 },
	{ "gbps", 8e9 },     { "tbps", 8e12 },	       { "kibps", 8 * 1024. },
	{ "mibps", 8 * 1048576. }, { "gibps", 8 * 1073741824. },
};

int impair_parse_kbit(const char *s, long long *ret_kbit)
{
	const char *unit;
	double v, kbit;

	if (number_prefix(s, &v, &unit) < 0)
		return -EINVAL;
	if (*unit == '\0') {
		if (v != 0)
			return -EINVAL; /* tc reads a bare number as bytes/s: say it */
		*ret_kbit = 0;
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(rate_units); i++) {
		if (strcasecmp(unit, rate_units[i].unit))
			continue;
		long long whole;
		double diff;

		kbit = v * rate_units[i].bits / 1000;
		if (kbit > 9e15)
			return -ERANGE;
		/* The protocol counts whole kbit/s; refuse what it cannot say exactly. */
		whole = (long long)(kbit + 0.5);
		diff = kbit - (double)whole;
		if (diff < 0)
			diff = -diff;
		if (diff > 1e-6 * (kbit > 1 ? kbit : 1))
			return -ERANGE;
		*ret_kbit = whole;
		return 0;
	}
	return -EINVAL;
}

/* A number as the daemon reads it back (to 0.0001 at most), without trailing zeros. */
static void put_number(char *buf, size_t size, double v)
{
	char *p;

	snprintf(buf, size, "%.4f", v);
	p = strchr(buf, '.');
	if (!p)
		return;
	for (char *e = buf + strlen(buf) - 1; e > p && *e == '0'; e--)
		*e = '\0';
	if (p[1] == '\0')
		*p = '\0';
}

static void put_rate(char *buf, size_t size, long long kbit)
{
	if (kbit && kbit % 1000000 == 0)
		snprintf(buf, size, "%lldgbit", kbit / 1000000);
	else if (kbit && kbit % 1000 == 0)
		snprintf(buf, size, "%lldmbit", kbit / 1000);
	else
		snprintf(buf, size, "%lldkbit", kbit);
}

/* The members of the impair object in the order tc prints them, with their units. */
static const struct {
	const char *word, *member, *unit;
} impair_members[] = {
	{ "delay", "delay_ms", "ms" },	       { "jitter", "jitter_ms", "ms" },
	{ "loss", "loss_pct", "%" },	       { "duplicate", "duplicate_pct", "%" },
	{ "reorder", "reorder_pct", "%" },     { "corrupt", "corrupt_pct", "%" },
	{ "rate", "rate_kbit", NULL },
};

char *impair_format(json_t *impair)
{
	char out[256] = "", num[64];
	size_t len = 0;

	for (size_t i = 0; i < ELEMENTSOF(impair_members); i++) {
		json_t *v = json_object_get(impair, impair_members[i].member);

		if (!json_is_number(v) || json_number_value(v) == 0)
			continue;
		if (impair_members[i].unit)
			put_number(num, sizeof(num), json_number_value(v));
		else
			put_rate(num, sizeof(num), (long long)json_number_value(v));
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s %s%s", len ? " " : "",
					impair_members[i].word, num, impair_members[i].unit ?: "");
		if (len >= sizeof(out))
			break;
	}
	return strdup(out);
}
