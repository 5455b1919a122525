/**
 * @file media_str.c  Small readers over the SDP text: pieces, tokens,
 * attribute lines, payload types.
 */
#include "media_priv.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 4566 token characters: alphanumerics and "-!#$%&'*+.^_`{|}~". */
static const bool token_char[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['-'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,
	['\''] = 1, ['*'] = 1, ['+'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

bool mstr_is_token(struct mstr s, bool slash)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (!token_char[c] && !(slash && c == '/'))
			return false;
	}
	return s.n > 0;
}

bool mstr_caseeq(struct mstr a, struct mstr b)
{
	if (!a.p || !b.p)
		return !a.p && !b.p;
	return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

const char *mstr_token(const char *p, const char *end, struct mstr *tok)
{
	while (p < end && is_blank(*p))
		p++;
	tok->p = p;
	while (p < end && !is_blank(*p))
		p++;
	tok->n = (size_t)(p - tok->p);
	return p;
}

int mstr_pt(struct mstr v)
{
	size_t i;
	int pt = 0;

	if (!v.p)
		return -1;
	for (i = 0; i < v.n && i < 4 && isdigit((unsigned char)v.p[i]); i++)
		pt = pt * 10 + (v.p[i] - '0');
	if (i == 0 || i > 3 || pt > 127)
		return -1;
	if (i < v.n && !is_blank(v.p[i]))
		return -1;
	return pt;
}

static struct mstr trim_end(struct mstr s)
{
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

bool mline_attr(const struct mline *l, struct mstr *name, struct mstr *value)
{
	const char *colon;

	if (l->n < 2 || l->p[0] != 'a' || l->p[1] != '=')
		return false;
	colon = memchr(l->p + 2, ':', l->n - 2);
	name->p = l->p + 2;
	name->n = colon ? (size_t)(colon - name->p) : l->n - 2;
	*name = trim_end(*name);
	value->p = colon ? colon + 1 : NULL;
	value->n = colon ? (size_t)(l->p + l->n - value->p) : 0;
	if (value->p)
		*value = trim_end(*value);
	return true;
}

bool mline_is_bundle(const struct mline *l)
{
	struct mstr name, value, tok;

	if (!mline_attr(l, &name, &value) || !mstr_eq(name, "group") ||
	    !value.p)
		return false;
	mstr_token(value.p, value.p + value.n, &tok);
	return mstr_eq(tok, "BUNDLE");
}
