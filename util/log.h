/**
 * @file log.h  One line per event, with a level, the module and the
 * connection (and later the call) it belongs to.
 *
 * Lines look like:
 *   2026-11-21T20:07:00.123Z info  wic conn=3 REGISTER sip:alice@example.org -> 200
 * They go to stderr (or a file set with log_open()). Not thread-safe: the
 * gateway has one thread.
 */
#ifndef WTPF_LOG_H
#define WTPF_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/** Parses "error", "warn", "info" or "debug". Returns 0 or EINVAL. */
int log_level_parse(const char *name, enum log_level *lvl);

/** Sets the most verbose level that is written (default LOG_INFO). */
void log_level_set(enum log_level lvl);

/** How lines are written. */
enum log_format {
	LOG_FORMAT_TEXT = 0,  /**< "2026-...Z info  call call=3 event words" */
	LOG_FORMAT_KV,        /**< ts=... level=info mod=call call=3 msg="..." */
};

/** Parses "text" or "kv" into @p fmt (may be NULL). Returns 0 or EINVAL. */
int log_format_parse(const char *name, enum log_format *fmt);

/**
 * Sets the format (default text). In kv format the leading "key=value"
 * words of a message (conn=, corr=, call=...) become fields of their own
 * and the rest is msg="..." with quotes and backslashes escaped.
 */
void log_format_set(enum log_format fmt);

/** True when a line at @p lvl would be written (to skip costly formatting). */
int log_enabled(enum log_level lvl);

/**
 * Writes one line. @p mod is a short module name ("wic", "auth"...);
 * @p conn is the connection id, or 0 when the event has none.
 */
void log_write(enum log_level lvl, const char *mod, unsigned long conn,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_err(mod, conn, ...)  log_write(LOG_ERROR, mod, conn, __VA_ARGS__)
#define log_warn(mod, conn, ...) log_write(LOG_WARN, mod, conn, __VA_ARGS__)
#define log_info(mod, conn, ...) log_write(LOG_INFO, mod, conn, __VA_ARGS__)
#define log_dbg(mod, conn, ...) \
	do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, mod, conn, __VA_ARGS__); } while (0)

#endif
