/*
 * log.h: leveled logging to stderr.  Under systemd (JOURNAL_STREAM matches our
 * stderr) lines carry "<N>" priority prefixes so journald files them at the
 * right level; otherwise they carry a time stamp and a level word.
 */
#pragma once

#include <syslog.h>

#include "util.h"

void log_init(void);
/* Parse "debug", "info", "notice", "warning", "err"/"error"; -EINVAL otherwise. */
int log_level_from_string(const char *s);
void log_set_level(int level);
void log_msg(int level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...)	 log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...)	 log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...)	 log_msg(LOG_ERR, __VA_ARGS__)
