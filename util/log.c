/**
 * @file log.c  Event log lines on stderr.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level log_max = LOG_INFO;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *name, enum log_level *lvl)
{
	for (unsigned i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (name && !strcmp(name, log_names[i])) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

void log_level_set(enum log_level lvl)
{
	log_max = lvl;
}

int log_enabled(enum log_level lvl)
{
	return lvl <= log_max;
}

void log_write(enum log_level lvl, const char *mod, unsigned long conn,
	       const char *fmt, ...)
{
	char ts[32], line[2048];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(lvl))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03ldZ %-5s %s ", ts,
		     (long)(tv.tv_usec / 1000), log_names[lvl], mod);
	if (conn && n < (int)sizeof line)
		n += snprintf(line + n, sizeof line - n, "conn=%lu ", conn);
	if (n < (int)sizeof line) {
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof line - n, fmt, ap);
		va_end(ap);
	}
	/* One write per line, with control characters from peers neutralised. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}
