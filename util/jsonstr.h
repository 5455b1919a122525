/**
 * @file jsonstr.h  JSON string text written without a JSON library: for
 * the records made on every call, where building jansson objects only to
 * print them cost more than the rest of the record.
 */
#ifndef WTPF_JSONSTR_H
#define WTPF_JSONSTR_H

#include <glib.h>

/**
 * Appends @p s (NUL-terminated UTF-8) to @p out as a JSON string, quotes
 * included: '"' and '\' are escaped with a backslash, control characters
 * (below 0x20) as \b \f \n \r \t or \u00XX, every other byte is
 * copied (RFC 8259 section 7, as jansson prints it). The caller checks
 * that @p s is UTF-8 (g_utf8_validate()). O(length).
 */
void jsonstr_append(GString *out, const char *s);

#endif
