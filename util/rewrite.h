/**
 * @file rewrite.h  Number rewriting rules: a POSIX extended regular
 * expression and a replacement in which $0 is the whole match, $1..$9 the
 * capture groups and $$ a dollar sign. Used for dial plans (what a browser
 * dials -> the Request-URI toward IMS), the calling number shown to a
 * browser, and barring patterns (a pattern with no replacement).
 */
#ifndef WTPF_REWRITE_H
#define WTPF_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

struct rewrite;

/**
 * Compiles @p match (anchored only where it says ^ or $) and @p replace
 * (NULL: a pattern that only matches). Returns 0, ENOMEM, or EINVAL with
 * @p *why a static reason: a bad pattern, or a replacement naming a group
 * the pattern does not have. Free with rewrite_free().
 */
int rewrite_compile(struct rewrite **rp, const char *match, const char *replace,
		    const char **why);

/** Frees a rule. NULL is allowed. */
void rewrite_free(struct rewrite *r);

/** True when @p in matches the rule's pattern. */
bool rewrite_matches(const struct rewrite *r, const char *in);

/**
 * When @p in matches, writes the replacement, with the text before and
 * after the match kept, to @p out and returns 1; returns 0 when it does
 * not match, ENOSPC (positive) when @p out is too small.
 */
int rewrite_apply(const struct rewrite *r, const char *in, char *out,
		  size_t size);

#endif
