/**
 * @file rewrite.c  Regular-expression rewriting with $n references.
 */
#include "rewrite.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define REWRITE_GROUPS 10

struct rewrite {
	regex_t re;
	char *replace;      /**< NULL: match only */
};

/* The highest $n the replacement names, or -1 for a stray '$'. */
static int highest_group(const char *rep)
{
	int max = 0;

	for (const char *p = rep; *p; p++) {
		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (p[1] < '0' || p[1] > '9')
			return -1;
		if (p[1] - '0' > max)
			max = p[1] - '0';
		p++;
	}
	return max;
}

int rewrite_compile(struct rewrite **rp, const char *match, const char *replace,
		    const char **why)
{
	struct rewrite *r = calloc(1, sizeof *r);
	int top;

	if (!r)
		return ENOMEM;
	if (regcomp(&r->re, match, REG_EXTENDED)) {
		free(r);
		*why = "not a valid regular expression";
		return EINVAL;
	}
	if (replace) {
		top = highest_group(replace);
		if (top < 0 || (size_t)top > r->re.re_nsub) {
			regfree(&r->re);
			free(r);
			*why = top < 0 ? "'$' must be followed by a digit or '$'"
				       : "the replacement names a group the "
					 "pattern does not have";
			return EINVAL;
		}
		r->replace = strdup(replace);
		if (!r->replace) {
			rewrite_free(r);
			return ENOMEM;
		}
	}
	*rp = r;
	return 0;
}

void rewrite_free(struct rewrite *r)
{
	if (!r)
		return;
	regfree(&r->re);
	free(r->replace);
	free(r);
}

bool rewrite_matches(const struct rewrite *r, const char *in)
{
	return r && in && !regexec(&r->re, in, 0, NULL, 0);
}

/* Appends @p len bytes of @p s at @p *n; false when it does not fit. */
static bool put(char *out, size_t size, size_t *n, const char *s, size_t len)
{
	if (*n + len >= size)
		return false;
	memcpy(out + *n, s, len);
	*n += len;
	return true;
}

int rewrite_apply(const struct rewrite *r, const char *in, char *out,
		  size_t size)
{
	regmatch_t m[REWRITE_GROUPS];
	size_t n = 0;
	bool ok;

	if (!r || !in || !r->replace || regexec(&r->re, in, REWRITE_GROUPS, m, 0))
		return 0;
	ok = put(out, size, &n, in, (size_t)m[0].rm_so);
	for (const char *p = r->replace; ok && *p; p++) {
		if (*p != '$') {
			ok = put(out, size, &n, p, 1);
		} else if (p[1] == '$') {
			ok = put(out, size, &n, "$", 1);
			p++;
		} else {
			const regmatch_t *g = &m[p[1] - '0'];
			if (g->rm_so >= 0)
				ok = put(out, size, &n, in + g->rm_so,
					 (size_t)(g->rm_eo - g->rm_so));
			p++;
		}
	}
	if (ok)
		ok = put(out, size, &n, in + m[0].rm_eo, strlen(in + m[0].rm_eo));
	if (!ok || n >= size)
		return ENOSPC;
	out[n] = '\0';
	return 1;
}
