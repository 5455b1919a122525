/**
 * @file numrange.c  Number sets: explicit numbers, intervals, wildcards.
 */
#include "numrange.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NUM_MAX NUMRANGE_NUM_MAX
/* Digits of an interval that may vary: 10^18 fits an unsigned long long. */
#define SPAN_DIGITS 18

enum spec_kind { SPEC_ONE, SPEC_INTERVAL, SPEC_WILDCARD };

struct spec {
	enum spec_kind kind;
	char lo[NUM_MAX], hi[NUM_MAX];   /**< ONE: lo; INTERVAL: lo..hi */
	size_t fixed;                    /**< INTERVAL: length of lo and hi's
					      common prefix */
	unsigned long long base, size;   /**< INTERVAL: lo's varying digits as
					      a number; how many members */
	regex_t re;                      /**< WILDCARD: ^prefix(re)$ */
};

struct numrange {
	size_t count;
	struct spec specs[];
};

/* Copies a number without "tel:" and separators; false when it is not one. */
static bool number_norm(const char *in, size_t len, char out[NUM_MAX])
{
	size_t n = 0;

	if (len >= 4 && !strncasecmp(in, "tel:", 4)) {
		in += 4;
		len -= 4;
	}
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (strchr("-.() ", c) && i)
			continue;
		if (!(isdigit((unsigned char)c) || (c == '+' && !n) ||
		      c == '*' || c == '#') || n + 1 >= NUM_MAX)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n > 0 && strcmp(out, "+");
}

/* "prefix!re!" -> ^prefix(re)$, the prefix escaped. */
static int wildcard_compile(struct spec *s, const char *spec, const char **why)
{
	const char *b1 = strchr(spec, '!'), *b2 = b1 ? strchr(b1 + 1, '!') : NULL;
	char prefix[NUM_MAX] = "", pat[512];
	size_t n = 0;

	if (!b2 || b2[1] || b2 == b1 + 1) {
		*why = "wildcard needs one !regex! at the end";
		return EINVAL;
	}
	if (b1 > spec && !number_norm(spec, (size_t)(b1 - spec), prefix)) {
		*why = "wildcard prefix is not a number";
		return EINVAL;
	}
	if (b1 == spec || (b1 - spec == 4 && !strncasecmp(spec, "tel:", 4)))
		prefix[0] = '\0';
	n = (size_t)snprintf(pat, sizeof pat, "^%s%s(%.*s)$",
			     prefix[0] == '+' ? "\\" : "", prefix,
			     (int)(b2 - b1 - 1), b1 + 1);
	if (n >= sizeof pat) {
		*why = "wildcard too long";
		return EINVAL;
	}
	if (regcomp(&s->re, pat, REG_EXTENDED | REG_NOSUB)) {
		*why = "bad regular expression in wildcard";
		return EINVAL;
	}
	s->kind = SPEC_WILDCARD;
	return 0;
}

static unsigned long long digits_value(const char *d)
{
	unsigned long long v = 0;

	for (; *d; d++)
		v = v * 10 + (unsigned long long)(*d - '0');
	return v;
}

/* The part of an interval that varies must be digits, short enough. */
static int interval_span(struct spec *s, const char **why)
{
	size_t len = strlen(s->lo), f = 0;

	while (f < len && s->lo[f] == s->hi[f])
		f++;
	if (len - f > SPAN_DIGITS ||
	    strspn(s->lo + f, "0123456789") != len - f ||
	    strspn(s->hi + f, "0123456789") != len - f) {
		*why = "interval too wide (more than 18 varying digits) or not digits";
		return EINVAL;
	}
	s->fixed = f;
	s->base = digits_value(s->lo + f);
	s->size = digits_value(s->hi + f) - s->base + 1;
	s->kind = SPEC_INTERVAL;
	return 0;
}

static int spec_compile(struct spec *s, const char *spec, const char **why)
{
	const char *dash;

	if (strchr(spec, '!'))
		return wildcard_compile(s, spec, why);
	/* An interval: two numbers of one length joined by "-" (a dash
	 * before a '+' or after the first digit run separates them). */
	if (!strncasecmp(spec, "tel:", 4))
		spec += 4;
	dash = strstr(spec, "-+");
	if (!dash && spec[0] != '+' && strchr(spec, '-'))
		dash = strrchr(spec, '-');
	if (dash) {
		if (!number_norm(spec, (size_t)(dash - spec), s->lo) ||
		    !number_norm(dash + 1, strlen(dash + 1), s->hi)) {
			*why = "interval ends are not numbers";
			return EINVAL;
		}
		if (strlen(s->lo) != strlen(s->hi) || strcmp(s->lo, s->hi) > 0) {
			*why = "interval ends must have one length, low first";
			return EINVAL;
		}
		return interval_span(s, why);
	}
	if (!number_norm(spec, strlen(spec), s->lo)) {
		*why = "not a number, interval or !wildcard!";
		return EINVAL;
	}
	s->kind = SPEC_ONE;
	return 0;
}

int numrange_parse(struct numrange **rp, const char *const *specs,
		   const char **why, size_t *bad)
{
	size_t n = 0;
	struct numrange *r;

	while (specs && specs[n])
		n++;
	r = calloc(1, sizeof *r + n * sizeof r->specs[0]);
	if (!r)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int err = spec_compile(&r->specs[i], specs[i], why);
		if (err) {
			*bad = i;
			numrange_free(r);
			return err;
		}
		r->count = i + 1;
	}
	*rp = r;
	return 0;
}

void numrange_free(struct numrange *r)
{
	for (size_t i = 0; r && i < r->count; i++)
		if (r->specs[i].kind == SPEC_WILDCARD)
			regfree(&r->specs[i].re);
	free(r);
}

bool numrange_contains(const struct numrange *r, const char *number)
{
	char num[NUM_MAX];

	if (!r || !number || !number_norm(number, strlen(number), num))
		return false;
	for (size_t i = 0; i < r->count; i++) {
		const struct spec *s = &r->specs[i];
		if ((s->kind == SPEC_ONE && !strcmp(num, s->lo)) ||
		    (s->kind == SPEC_INTERVAL && strlen(num) == strlen(s->lo) &&
		     strcmp(num, s->lo) >= 0 && strcmp(num, s->hi) <= 0) ||
		    (s->kind == SPEC_WILDCARD && !regexec(&s->re, num, 0, NULL, 0)))
			return true;
	}
	return false;
}

size_t numrange_count(const struct numrange *r)
{
	return r ? r->count : 0;
}

bool numrange_norm(const char *number, char out[NUMRANGE_NUM_MAX])
{
	return number && number_norm(number, strlen(number), out);
}

static unsigned long long spec_size(const struct spec *s)
{
	return s->kind == SPEC_ONE ? 1 : s->kind == SPEC_INTERVAL ? s->size : 0;
}

unsigned long long numrange_size(const struct numrange *r)
{
	unsigned long long n = 0;

	for (size_t i = 0; r && i < r->count; i++)
		n += spec_size(&r->specs[i]);
	return n;
}

int numrange_nth(const struct numrange *r, unsigned long long idx,
		 char out[NUMRANGE_NUM_MAX])
{
	for (size_t i = 0; r && i < r->count; i++) {
		const struct spec *s = &r->specs[i];
		if (idx >= spec_size(s)) {
			idx -= spec_size(s);
			continue;
		}
		if (s->kind == SPEC_ONE) {
			snprintf(out, NUMRANGE_NUM_MAX, "%s", s->lo);
		} else {
			size_t width = strlen(s->lo) - s->fixed;
			snprintf(out, NUMRANGE_NUM_MAX, "%.*s%0*llu", (int)s->fixed,
				 s->lo, (int)width, s->base + idx);
		}
		return 0;
	}
	return ERANGE;
}
