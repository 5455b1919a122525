/**
 * @file numrange.h  Sets of telephone numbers, as agreed with an operator:
 * explicit numbers ("+4930123400001"), intervals
 * ("+4930123400000-+4930123409999") and wildcarded public identities in the
 * TS 23.003 / TS 24.525 form ("tel:+3314529!.*!": the part between '!' is a
 * regular expression for the rest of the number). A leading "tel:" and
 * visual separators (- . ( ) and spaces inside a number) are ignored.
 */
#ifndef WTPF_NUMRANGE_H
#define WTPF_NUMRANGE_H

#include <stdbool.h>
#include <stddef.h>

struct numrange;

/**
 * Compiles the NULL-terminated @p specs into @p *rp. Returns 0, ENOMEM, or
 * EINVAL with @p *why a static reason and @p *bad the index of the spec at
 * fault. Free with numrange_free(). O(total length).
 */
int numrange_parse(struct numrange **rp, const char *const *specs,
		   const char **why, size_t *bad);

/** Frees a set. NULL is allowed. */
void numrange_free(struct numrange *r);

/**
 * True when @p number (with or without "tel:", separators ignored) lies in
 * the set. O(specs) comparisons, a regex match per wildcard spec.
 */
bool numrange_contains(const struct numrange *r, const char *number);

/** How many specs the set holds. */
size_t numrange_count(const struct numrange *r);

/** Longest number (with its '+'), plus the NUL. */
#define NUMRANGE_NUM_MAX 32

/**
 * Writes @p number without "tel:" and visual separators to @p out. Returns
 * false when it is not a number ('+' and digits, '*', '#').
 */
bool numrange_norm(const char *number, char out[NUMRANGE_NUM_MAX]);

/**
 * How many numbers the set can hand out: its explicit numbers and the
 * members of its intervals (wildcards are for membership only: a pattern
 * cannot be enumerated). Duplicates across specs count twice. O(specs).
 */
unsigned long long numrange_size(const struct numrange *r);

/**
 * Writes the @p idx-th number that can be handed out (0 <= idx <
 * numrange_size(), specs in their order, intervals low to high) to @p out.
 * Returns 0, or ERANGE past the end. O(specs).
 */
int numrange_nth(const struct numrange *r, unsigned long long idx,
		 char out[NUMRANGE_NUM_MAX]);

#endif
