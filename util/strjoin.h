/**
 * @file strjoin.h  Strings joined and numbers printed without a format:
 * for the few that are built on every request, where snprintf() cost a
 * tenth of a REGISTER refresh.
 */
#ifndef WTPF_STRJOIN_H
#define WTPF_STRJOIN_H

#include <stddef.h>

/**
 * Joins the strings given, up to a NULL, into @p buf of @p size bytes
 * (size > 0), NUL-terminated. Returns the joined length, or @p size when
 * it did not fit (buf then holds the first size - 1 bytes). O(length).
 */
size_t str_join(char *buf, size_t size, ...);

/** Room for any unsigned long in decimal, and its NUL. */
#define STR_ULONG_MAX 21

/**
 * Writes @p v in decimal and a NUL to @p buf (STR_ULONG_MAX bytes).
 * Returns the number of digits.
 */
size_t str_ulong(char *buf, unsigned long v);

#endif
