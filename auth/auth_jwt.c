/**
 * @file auth_jwt.c  JWT verification, and HS256 signing on libjwt 1.10.
 *
 * A verifier that takes the algorithm from the token's own header (as
 * libjwt's jwt_decode() does, with whatever key bytes it is given) turns an
 * RSA PEM handed over with an "HS256" token into an HMAC secret (algorithm
 * confusion) and accepts "none". So the header is decoded here first, the
 * algorithm is held against the policy, the key is chosen by "kid" and its
 * type must fit the algorithm family; only then is the signature checked
 * (auth_sig.c, with OpenSSL). libjwt signs the demo's tokens.
 *
 * Checked (Debian 12): ES256 signatures are JWS raw R||S (64 bytes), and
 * tokens made by libjwt 1.10.2 and by node:crypto (ES256 with dsaEncoding
 * "ieee-p1363", RS256) verify (tests/data/jwt/mint.js); a DER-encoded
 * ECDSA signature is refused, as it should be. Any "typ" other than "JWT"
 * (RFC 9068 "at+jwt" included) is refused up front with a clear reason,
 * as libjwt 1.10 would.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>

#include "auth/auth.h"
#include "auth/auth_keys.h"

enum {
	TOKEN_MAX_DEFAULT = 8192,
	TOKEN_MAX_PEEK = 65536,  /**< peek has no policy yet: a hard cap */
};

/** Time claims are clamped to +-2^53 s, so that sums cannot overflow. */
#define TIME_LIMIT (1LL << 53)

/** A JWS algorithm this module verifies. */
struct alg_info {
	const char *name;
	enum auth_key_type type;
	size_t siglen;           /**< 0: depends on the key (RSA) */
	const char *md;          /**< its digest, by OpenSSL's name */
};

static const struct alg_info algs[] = {
	{"HS256", AUTH_KEY_HMAC, 32, "SHA256"},
	{"HS384", AUTH_KEY_HMAC, 48, "SHA384"},
	{"HS512", AUTH_KEY_HMAC, 64, "SHA512"},
	{"RS256", AUTH_KEY_RSA, 0, "SHA256"},
	{"RS384", AUTH_KEY_RSA, 0, "SHA384"},
	{"RS512", AUTH_KEY_RSA, 0, "SHA512"},
	{"ES256", AUTH_KEY_EC, 64, "SHA256"},
};

/** A token cut in its three segments, header and claims decoded. */
struct jwt_parts {
	const char *seg[3];
	size_t len[3];
	json_t *head;
	json_t *claims;
};


static bool b64url_chars(const char *s, size_t len)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i < len; i++) {
		if (!s[i] || !strchr(ok, s[i]))
			return false;
	}

	return true;
}


/* Exactly three base64url segments; header and claims not empty. */
static int split(const char *token, size_t len, struct jwt_parts *p)
{
	const char *d1, *d2;

	d1 = memchr(token, '.', len);
	if (!d1)
		return EBADMSG;

	d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
	if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
		return EBADMSG;

	p->seg[0] = token;
	p->len[0] = (size_t)(d1 - token);
	p->seg[1] = d1 + 1;
	p->len[1] = (size_t)(d2 - d1 - 1);
	p->seg[2] = d2 + 1;
	p->len[2] = len - (size_t)(d2 + 1 - token);

	if (!p->len[0] || !p->len[1])
		return EBADMSG;

	for (int i = 0; i < 3; i++) {
		if (!b64url_chars(p->seg[i], p->len[i]))
			return EBADMSG;
	}

	return 0;
}


/* Decodes a segment holding a JSON object (duplicate names refused). */
static int seg_json(const char *seg, size_t len, json_t **jp)
{
	unsigned char *buf;
	size_t blen;
	json_t *j;
	int err;

	err = auth_b64url_decode(seg, len, &buf, &blen);
	if (err)
		return err;

	j = json_loadb((const char *)buf, blen, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (!json_is_object(j)) {
		json_decref(j);
		return EBADMSG;
	}

	*jp = j;
	return 0;
}


static void parts_free(struct jwt_parts *p)
{
	json_decref(p->head);
	json_decref(p->claims);
	p->head = p->claims = NULL;
}


static int parts_parse(const char *token, size_t max, struct jwt_parts *p,
		       const char **why)
{
	size_t len = strnlen(token, max + 1);
	int err;

	memset(p, 0, sizeof(*p));

	if (len > max) {
		*why = "token too large";
		return EPERM;
	}

	err = split(token, len, p);
	if (!err)
		err = seg_json(p->seg[0], p->len[0], &p->head);
	if (!err)
		err = seg_json(p->seg[1], p->len[1], &p->claims);

	if (err == ENOMEM) {
		*why = "out of memory";
	}
	else if (err) {
		*why = "malformed token";
		err = EBADMSG;
	}

	if (err)
		parts_free(p);

	return err;
}


static bool policy_allows(const struct auth_jwt_policy *pol, const char *alg)
{
	const char *const *a;

	for (a = pol->algorithms; *a; a++) {
		if (!strcmp(*a, alg))
			return true;
	}

	return false;
}


/*
 * The header: "alg" allowed and implemented, "typ" what libjwt takes,
 * no "crit". Keys named by "jku", "jwk", "x5u" or "x5c" are ignored:
 * only the configured keys are ever used.
 */
static int head_check(const json_t *head, const struct auth_jwt_policy *pol,
		      const struct alg_info **aip, const char **why)
{
	const char *alg = json_string_value(json_object_get(head, "alg"));
	const json_t *typ = json_object_get(head, "typ");
	size_t i;

	if (!alg) {
		*why = "malformed token (no alg)";
		return EBADMSG;
	}

	if (!strcasecmp(alg, "none")) {
		*why = "algorithm none refused";
		return EPERM;
	}

	if (!policy_allows(pol, alg)) {
		*why = "algorithm not allowed";
		return EPERM;
	}

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (!strcmp(algs[i].name, alg))
			*aip = &algs[i];
	}
	if (!*aip) {
		*why = "algorithm not supported";
		return EPERM;
	}

	if (typ && (!json_is_string(typ)
		    || strcasecmp(json_string_value(typ), "JWT"))) {
		*why = "unsupported token typ (only JWT)";
		return EBADMSG;
	}

	if (json_object_get(head, "crit")) {
		*why = "unsupported crit header";
		return EBADMSG;
	}

	return 0;
}


static int head_kid(const json_t *head, char *kid, size_t size,
		    const char **why)
{
	const json_t *v = json_object_get(head, "kid");

	kid[0] = '\0';
	if (!v)
		return 0;

	if (!json_is_string(v) || json_string_length(v) >= size) {
		*why = "malformed token (kid)";
		return EBADMSG;
	}

	memcpy(kid, json_string_value(v), json_string_length(v) + 1);
	return 0;
}


static bool key_fits(const struct auth_key *k, const struct alg_info *ai)
{
	return k->type == ai->type && (!k->alg[0] || !strcmp(k->alg, ai->name));
}


/*
 * The key named by @p kid; without a kid, or with one none of the keys
 * has, the only key that fits @p ai among those without a kid (a token
 * with no kid may use any). Its type must fit the algorithm.
 */
static int key_select(const struct auth_keyset *ks, const struct alg_info *ai,
		      const char *kid, const struct auth_key **kp,
		      const char **why)
{
	const struct auth_key *k, *found = NULL;
	size_t i, n = 0;

	for (i = 0; kid[0] && (k = auth_keyset_key(ks, i)); i++) {
		if (!strcmp(k->kid, kid)) {
			if (!key_fits(k, ai)) {
				*why = "key type does not match algorithm";
				return EKEYREJECTED;
			}
			*kp = k;
			return 0;
		}
	}

	for (i = 0; (k = auth_keyset_key(ks, i)); i++) {
		if ((!kid[0] || !k->kid[0]) && key_fits(k, ai)) {
			found = k;
			n++;
		}
	}

	if (n == 1) {
		*kp = found;
		return 0;
	}

	*why = n ? "several keys fit a token without kid"
		 : kid[0] ? "unknown key id" : "no key for algorithm";
	return EKEYREJECTED;
}


/* The signature, with the key and algorithm chosen here (auth_sig.c). */
static int sig_check(const char *token, const struct jwt_parts *p,
		     const struct auth_key *k, const struct alg_info *ai,
		     const char **why)
{
	/* the signing input: header.claims, as received */
	return auth_sig_verify(k, ai->md, ai->siglen, token,
			       p->len[0] + 1 + p->len[1], p->seg[2], p->len[2],
			       why);
}


/* Copies a string claim; 0, ENOENT absent, EINVAL not a string, E2BIG. */
static int str_copy(const json_t *v, char *dst, size_t size)
{
	if (!v)
		return ENOENT;
	if (!json_is_string(v))
		return EINVAL;
	if (json_string_length(v) >= size)
		return E2BIG;

	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}


/* A NumericDate, clamped to +-2^53 so that sums cannot overflow. */
static int time_claim(const json_t *v, long long *t)
{
	double d;

	if (json_is_integer(v)) {
		*t = json_integer_value(v);
	}
	else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!(d > -(double)TIME_LIMIT && d < (double)TIME_LIMIT))
			d = d > 0 ? (double)TIME_LIMIT : -(double)TIME_LIMIT;
		*t = (long long)d;
	}
	else {
		return EBADMSG;
	}

	if (*t > TIME_LIMIT)
		*t = TIME_LIMIT;
	else if (*t < -TIME_LIMIT)
		*t = -TIME_LIMIT;

	return 0;
}


static bool aud_has(const json_t *aud, const char *want)
{
	const json_t *v;
	size_t i;

	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), want);

	json_array_foreach(aud, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), want))
			return true;
	}

	return false;
}


static int times_check(const json_t *claims, unsigned skew, time_t now,
		       long *exp, const char **why)
{
	const json_t *vexp = json_object_get(claims, "exp");
	const json_t *vnbf = json_object_get(claims, "nbf");
	long long e, nbf, t = (long long)now;

	if (!vexp) {
		*why = "token has no exp";
		return EPERM;
	}

	if (time_claim(vexp, &e) || (vnbf && time_claim(vnbf, &nbf))) {
		*why = "malformed exp or nbf";
		return EBADMSG;
	}

	if (t - (long long)skew > e) {
		*why = "token expired";
		return EKEYEXPIRED;
	}

	if (vnbf && t + (long long)skew < nbf) {
		*why = "token not yet valid";
		return EKEYEXPIRED;
	}

	*exp = (long)e;
	return 0;
}


static int claims_check(const json_t *c, const struct auth_jwt_policy *pol,
			time_t now, struct auth_claims *out, const char **why)
{
	const json_t *iss = json_object_get(c, "iss");
	int err;

	if (!json_is_string(iss) || strcmp(json_string_value(iss), pol->issuer)
	    || str_copy(iss, out->iss, sizeof(out->iss))) {
		*why = "wrong issuer";
		return EPERM;
	}

	if (pol->audience && !aud_has(json_object_get(c, "aud"),
				      pol->audience)) {
		*why = "wrong audience";
		return EPERM;
	}

	err = times_check(c, pol->clock_skew, now, &out->exp, why);
	if (err)
		return err;

	err = str_copy(json_object_get(c, "sub"), out->sub, sizeof(out->sub));
	if (err || !out->sub[0]) {
		*why = err == E2BIG ? "sub too long" : "missing sub";
		return EPERM;
	}

	err = str_copy(json_object_get(c, "impu"), out->impu,
		       sizeof(out->impu));
	if (err && err != ENOENT) {
		*why = err == E2BIG ? "impu too long" : "impu not a string";
		return EPERM;
	}

	return 0;
}


static bool policy_ok(const struct auth_jwt_policy *pol)
{
	return pol && pol->issuer && pol->algorithms && pol->keys;
}


/* The checks of auth_jwt_verify() on a parsed token; frees @p p. */
static int parts_verify(const char *token, struct jwt_parts *p,
			const struct auth_jwt_policy *pol, time_t now,
			struct auth_claims *out, const char **why)
{
	const struct alg_info *ai = NULL;
	const struct auth_key *key = NULL;
	int err;

	err = head_check(p->head, pol, &ai, why);
	if (!err)
		err = head_kid(p->head, out->kid, sizeof(out->kid), why);
	if (!err)
		err = key_select(pol->keys, ai, out->kid, &key, why);
	if (!err)
		err = sig_check(token, p, key, ai, why);
	/* the claims parsed here are those of the bytes libjwt verified */
	if (!err)
		err = claims_check(p->claims, pol, now, out, why);

	parts_free(p);
	if (err)
		memset(out, 0, sizeof(*out));
	else
		*why = NULL;

	return err;
}


static size_t token_max(const struct auth_jwt_policy *pol)
{
	return pol->max_token_size ? pol->max_token_size : TOKEN_MAX_DEFAULT;
}


int auth_jwt_verify(const char *token, const struct auth_jwt_policy *pol,
		    time_t now, struct auth_claims *out, const char **why)
{
	struct jwt_parts p = {0};
	const char *dummy;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;

	if (!token || !out || !policy_ok(pol)) {
		*why = "invalid argument";
		return EINVAL;
	}
	memset(out, 0, sizeof(*out));

	err = parts_parse(token, token_max(pol), &p, why);
	if (err)
		return err;

	return parts_verify(token, &p, pol, now, out, why);
}


int auth_jwt_verify_pick(const char *token, auth_jwt_pick_f *pick, void *arg,
			 time_t now, struct auth_claims *out, const char **why)
{
	struct auth_jwt_policy pol = {0};
	struct jwt_parts p = {0};
	const char *dummy;
	char iss[sizeof(out->iss)];
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;

	if (!token || !pick || !out) {
		*why = "invalid argument";
		return EINVAL;
	}
	memset(out, 0, sizeof(*out));

	err = parts_parse(token, TOKEN_MAX_PEEK, &p, why);
	if (err)
		return err;

	if (str_copy(json_object_get(p.claims, "iss"), iss, sizeof(iss))) {
		*why = "malformed token";
		err = EBADMSG;
	}
	else if ((err = pick(arg, iss, &pol, why))) {
		/* refused by the caller, its reason set */
	}
	else if (!policy_ok(&pol)) {
		*why = "invalid argument";
		err = EINVAL;
	}
	else if (strnlen(token, token_max(&pol) + 1) > token_max(&pol)) {
		*why = "token too large";
		err = EPERM;
	}

	if (err) {
		parts_free(&p);
		return err;
	}

	return parts_verify(token, &p, &pol, now, out, why);
}


int auth_jwt_peek_issuer(const char *token, char *iss, size_t size)
{
	struct jwt_parts p;
	const char *why;
	int err;

	if (!token || !iss || !size)
		return EBADMSG;
	iss[0] = '\0';

	err = parts_parse(token, TOKEN_MAX_PEEK, &p, &why);
	if (err)
		return EBADMSG;

	err = str_copy(json_object_get(p.claims, "iss"), iss, size);
	parts_free(&p);
	if (err) {
		iss[0] = '\0';
		return EBADMSG;
	}

	return 0;
}


/* The first HMAC key that may sign HS256. */
static const struct auth_key *hs256_key(const struct auth_keyset *ks)
{
	const struct auth_key *k;
	size_t i;

	for (i = 0; (k = auth_keyset_key(ks, i)); i++) {
		if (k->type == AUTH_KEY_HMAC
		    && (!k->alg[0] || !strcmp(k->alg, "HS256")))
			return k;
	}

	return NULL;
}


char *auth_jwt_sign_hs256(const struct auth_keyset *ks, const char *iss,
			  const char *aud, const char *sub, const char *impu,
			  time_t now, long ttl)
{
	const struct auth_key *k = hs256_key(ks);
	jwt_t *jwt = NULL;
	char *tok = NULL;

	if (!k || !iss || !sub || ttl <= 0 || jwt_new(&jwt))
		return NULL;

	if (jwt_add_grant(jwt, "iss", iss)
	    || (aud && jwt_add_grant(jwt, "aud", aud))
	    || jwt_add_grant(jwt, "sub", sub)
	    || (impu && jwt_add_grant(jwt, "impu", impu))
	    || jwt_add_grant_int(jwt, "iat", (long)now)
	    || jwt_add_grant_int(jwt, "exp", (long)now + ttl)
	    || (k->kid[0] && jwt_add_header(jwt, "kid", k->kid))
	    || jwt_set_alg(jwt, JWT_ALG_HS256, k->data, (int)k->len))
		goto out;

	tok = jwt_encode_str(jwt);

 out:
	jwt_free(jwt);
	return tok;
}
