/**
 * @file auth_bearer.c  Finding the token in `Authorization: Bearer ...`.
 *
 * Sofia splits the header's parameters at commas and keeps each one as
 * written: `Bearer eyJ..` gives {"eyJ..", NULL} (RFC 8898, token68) and
 * `Bearer access_token="eyJ.."` gives {"access_token=\"eyJ..\"", NULL}
 * (3GPP TS 24.371). Only JWT characters (base64url and '.') are accepted.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"

static const char at_name[] = "access_token=";


/* base64url and the dot: the characters of a compact JWT. */
static const char jwt_set[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

/* The first @p len bytes of @p s (NUL-terminated, possibly longer) are
 * all JWT characters: strspn() takes them 16 at a time. */
static bool jwt_chars(const char *s, size_t len)
{
	return len && strspn(s, jwt_set) >= len;
}


/* The value of an `access_token=` parameter, quotes removed, or NULL. */
static const char *access_token(const char *param, size_t *len)
{
	const char *v;
	size_t n;

	if (strncasecmp(param, at_name, sizeof(at_name) - 1))
		return NULL;

	v = param + sizeof(at_name) - 1;
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}

	if (!jwt_chars(v, n))
		return NULL;

	*len = n;
	return v;
}


/* Exactly one well-formed access_token parameter; others are ignored. */
static const char *find_access_token(const char *const *params, size_t *len)
{
	const char *tok = NULL, *v;
	size_t i, n = 0;

	for (i = 0; params[i]; i++) {
		if (strncasecmp(params[i], at_name, sizeof(at_name) - 1))
			continue;

		v = access_token(params[i], &n);
		if (!v || tok)
			return NULL;  /* malformed, or given twice */

		tok = v;
		*len = n;
	}

	return tok;
}


const char *auth_bearer_find(const char *const *params, size_t *len)
{
	const char *p;
	size_t n;

	if (!params || !params[0] || !len)
		return NULL;

	p = params[0];
	if (!strchr(p, '=') && !strchr(p, '"')) {
		/* token68: the only parameter */
		n = strlen(p);
		if (params[1] || !jwt_chars(p, n))
			return NULL;

		*len = n;
		return p;
	}

	return find_access_token(params, len);
}
