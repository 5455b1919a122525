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
static enum log_format log_fmt = LOG_FORMAT_TEXT;

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

int log_format_parse(const char *name, enum log_format *fmt)
{
	enum log_format f;

	if (name && !strcmp(name, "text"))
		f = LOG_FORMAT_TEXT;
	else if (name && !strcmp(name, "kv"))
		f = LOG_FORMAT_KV;
	else
		return EINVAL;
	if (fmt)
		*fmt = f;
	return 0;
}

void log_format_set(enum log_format fmt)
{
	log_fmt = fmt;
}

void log_level_set(enum log_level lvl)
{
	log_max = lvl;
}

int log_enabled(enum log_level lvl)
{
	return lvl <= log_max;
}

/* Length of a leading "key=value " word of @p m (key [a-z_]+, value
 * without blanks or quotes), or 0. */
static size_t kv_word(const char *m)
{
	size_t k = strspn(m, "abcdefghijklmnopqrstuvwxyz_"), v;

	if (!k || m[k] != '=')
		return 0;
	v = strcspn(m + k + 1, " \"");
	if (!v || m[k + 1 + v] != ' ')
		return 0;
	return k + 1 + v + 1;
}

/* Appends @p m to @p out as kv fields: leading key=value words as they
 * are, the rest as msg="..." with quotes and backslashes escaped. */
static void kv_message(char *out, size_t size, size_t n, const char *m)
{
	size_t w;

	while (n < size && (w = kv_word(m)) > 0) {
		n += (size_t)snprintf(out + n, size - n, "%.*s", (int)w, m);
		m += w;
	}
	if (n + 6 >= size)
		return;
	n += (size_t)snprintf(out + n, size - n, "msg=\"");
	for (; *m && n + 3 < size; m++) {
		if (*m == '"' || *m == '\\')
			out[n++] = '\\';
		out[n++] = *m;
	}
	out[n++] = '"';
	out[n] = '\0';
}

void log_write(enum log_level lvl, const char *mod, unsigned long conn,
	       const char *fmt, ...)
{
	char ts[32], msg[2048], line[2400];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(lvl))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_fmt == LOG_FORMAT_KV)
		n = snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s mod=%s ", ts,
			     (long)(tv.tv_usec / 1000), log_names[lvl], mod);
	else
		n = snprintf(line, sizeof line, "%s.%03ldZ %-5s %s ", ts,
			     (long)(tv.tv_usec / 1000), log_names[lvl], mod);
	if (conn && n < (int)sizeof line)
		n += snprintf(line + n, sizeof line - n, "conn=%lu ", conn);
	if (n < (int)sizeof line) {
		if (log_fmt == LOG_FORMAT_KV)
			kv_message(line, sizeof line, (size_t)n, msg);
		else
			snprintf(line + n, sizeof line - n, "%s", msg);
	}
	/* One write per line, with control characters from peers neutralised. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}
