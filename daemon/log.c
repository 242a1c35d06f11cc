/*
 * log.c: the daemon's only writer of diagnostics.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool to_journal;

void log_init(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
		to_journal = st.st_dev == dev && st.st_ino == ino;
}

int log_level_from_string(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} map[] = {
		{ "debug", LOG_DEBUG },	    { "info", LOG_INFO }, { "notice", LOG_NOTICE },
		{ "warning", LOG_WARNING }, { "err", LOG_ERR },	  { "error", LOG_ERR },
	};

	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		if (!strcmp(s, map[i].name))
			return map[i].level;
	return -EINVAL;
}

void log_set_level(int level)
{
	max_level = level;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = { "emerg",	"alert",  "crit", "error",
					     "warning", "notice", "info", "debug" };
	char line[2048];
	int saved = errno;
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (to_journal) {
		fprintf(stderr, "<%d>%s\n", level, line);
	} else {
		char ts[32];

		fprintf(stderr, "%s netnsd[%d] %s: %s\n", format_rfc3339(realtime_usec(), ts),
			(int)getpid(), names[level & 7], line);
	}
	errno = saved;
}
