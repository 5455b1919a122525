/**
 * @file auth.h  WIC authentication: Bearer tokens (RFC 8898, JWT) and SIP
 * digest (RFC 7616 / RFC 8760).
 *
 * Nothing here speaks SIP on the wire or knows the event loop: callers pass
 * header parameters as strings (Sofia's msg_param_t arrays are plain
 * `const char *` arrays) and the current time, and get back verdicts with a
 * short reason text suitable for a log line.
 */
#ifndef WTPF_AUTH_H
#define WTPF_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---- JWT: keys ------------------------------------------------------- */

/** The verification keys of one issuer (opaque). */
struct auth_keyset;

/**
 * Loads the keys in @p path: a PEM public key (RSA or EC P-256), a JWKS
 * (JSON, "keys": [...] with kty RSA, EC P-256 or oct, selected by "kid"),
 * or, for any other content, a raw HMAC secret (trailing newline removed).
 * Returns 0, ENOENT/EACCES when the file cannot be read, or EINVAL with
 * @p *why set to a static text naming the problem.
 */
int auth_keyset_load(struct auth_keyset **ksp, const char *path,
		     const char **why);

/** Frees a key set. NULL is allowed. */
void auth_keyset_free(struct auth_keyset *ks);

/** Number of keys held. */
size_t auth_keyset_count(const struct auth_keyset *ks);

/* ---- JWT: verification ----------------------------------------------- */

/** What a tenant's issuer accepts. Strings are borrowed. */
struct auth_jwt_policy {
	const char *issuer;              /**< required `iss` */
	const char *audience;            /**< required in `aud`; NULL: not checked */
	const char *const *algorithms;   /**< NULL-terminated, e.g. {"ES256",NULL} */
	const struct auth_keyset *keys;
	unsigned clock_skew;             /**< seconds allowed on exp and nbf */
	size_t max_token_size;           /**< 0: default 8192 bytes */
};

/** Claims of a verified token (NUL-terminated, truncated never: too long = refused). */
struct auth_claims {
	char iss[256];
	char sub[256];
	char impu[256];   /**< empty when the token has no `impu` claim */
	char kid[128];
	long exp;         /**< 0 when absent */
};

/**
 * Reads the `iss` claim of @p token WITHOUT verifying anything, so that the
 * caller can pick the issuer's policy. Returns 0 or EBADMSG.
 */
int auth_jwt_peek_issuer(const char *token, char *iss, size_t size);

/**
 * Verifies @p token against @p pol at time @p now: structure, `alg` in the
 * policy and matching the key's type (no `none`, no HS/RS confusion), the
 * key selected by `kid` (or the only key of that type), the signature,
 * `iss`, `aud`, `exp` and `nbf` (with the clock skew), and a non-empty
 * `sub`. Returns 0 and fills @p out, or an errno code with @p *why set to a
 * static reason ("token expired", "bad signature", "algorithm not allowed"...):
 * EBADMSG malformed, EPERM refused by policy, EKEYEXPIRED expired or not yet
 * valid, EKEYREJECTED signature or key mismatch.
 */
int auth_jwt_verify(const char *token, const struct auth_jwt_policy *pol,
		    time_t now, struct auth_claims *out, const char **why);

/**
 * Picks the policy for a token from its `iss` claim, not yet verified:
 * fills @p pol and returns 0, or returns an errno code with @p *why set.
 */
typedef int auth_jwt_pick_f(void *arg, const char *iss,
			    struct auth_jwt_policy *pol, const char **why);

/**
 * auth_jwt_verify() with the policy @p pick chooses by the token's `iss`:
 * the token is decoded once for both (no auth_jwt_peek_issuer() first).
 * A token without a string `iss` is EBADMSG; what @p pick returns is
 * returned as it is.
 */
int auth_jwt_verify_pick(const char *token, auth_jwt_pick_f *pick, void *arg,
			 time_t now, struct auth_claims *out, const char **why);

/**
 * Signs a token with an HMAC secret key set (HS256), for the demo and tests.
 * @p impu may be NULL. Returns a malloc'd string the caller frees, or NULL.
 */
char *auth_jwt_sign_hs256(const struct auth_keyset *ks, const char *iss,
			  const char *aud, const char *sub, const char *impu,
			  time_t now, long ttl);

/* ---- Authorization header parsing ------------------------------------ */

/**
 * Finds a Bearer token in Authorization parameters, accepting both
 * `Bearer <token68>` (RFC 8898) and `Bearer access_token="<jwt>"`
 * (TS 24.371). @p params are the header's parameters as Sofia splits them.
 * Returns a pointer into @p params' storage (length in @p *len), or NULL.
 */
const char *auth_bearer_find(const char *const *params, size_t *len);

/* ---- SIP digest ------------------------------------------------------ */

enum auth_digest_alg { AUTH_DIGEST_MD5 = 0, AUTH_DIGEST_SHA256 = 1 };

/** Parsed Digest credentials; every string points into a caller buffer. */
struct auth_digest_cred {
	char username[256], realm[256], nonce[256], uri[512], response[129];
	char cnonce[256], nc[9], qop[16], opaque[256];
	enum auth_digest_alg alg;
};

/** The nonce issuer and replay guard (opaque; one per gateway). */
struct auth_digest;

/**
 * Creates a digest verifier. Nonces live @p nonce_lifetime seconds; at most
 * @p max_nonces are remembered for replay checks (the oldest are dropped).
 */
int auth_digest_create(struct auth_digest **dp, unsigned nonce_lifetime,
		       size_t max_nonces);

/** Frees the verifier. NULL is allowed. */
void auth_digest_free(struct auth_digest *d);

/**
 * Writes a challenge header value (the part after "WWW-Authenticate: ")
 * for @p realm and @p alg with a fresh nonce into @p buf: `Digest
 * realm="...", nonce="...", algorithm=SHA-256, qop="auth"[, stale=true]`.
 * Returns 0 or ENOSPC.
 */
int auth_digest_challenge(struct auth_digest *d, const char *realm,
			  enum auth_digest_alg alg, bool stale, time_t now,
			  char *buf, size_t size);

/**
 * Parses Digest Authorization parameters. Returns 0, or EBADMSG with
 * @p *why set (missing field, unsupported algorithm or qop, too long).
 */
int auth_digest_parse(const char *const *params, struct auth_digest_cred *c,
		      const char **why);

/**
 * Checks @p c for a request with @p method against @p ha1 (hex HA1 for the
 * credentials' algorithm). The nonce must be one this verifier issued, not
 * expired, and its nc must grow (no replay). Returns 0; ESTALE when the
 * nonce is expired or unknown (challenge again with stale=true); EACCES
 * for a wrong response or a replay, with @p *why set.
 */
int auth_digest_verify(struct auth_digest *d, const struct auth_digest_cred *c,
		       const char *method, const char *ha1, time_t now,
		       const char **why);

/** Computes hex HA1 = H(user:realm:password) into @p out (65 bytes). */
int auth_digest_ha1(enum auth_digest_alg alg, const char *user,
		    const char *realm, const char *password, char out[65]);

/**
 * Computes the expected hex response into @p out (65 bytes): for qop=auth
 * H(HA1:nonce:nc:cnonce:qop:H(method:uri)); with @p nc, @p cnonce and
 * @p qop all NULL, the RFC 2069 form H(HA1:nonce:H(method:uri)) that some
 * servers still challenge with (client side only: the verifier requires qop).
 */
int auth_digest_response(enum auth_digest_alg alg, const char *ha1,
			 const char *nonce, const char *nc, const char *cnonce,
			 const char *qop, const char *method, const char *uri,
			 char out[65]);

/**
 * Answers a Digest challenge as a client (RFC 7616, RFC 8760): @p challenge
 * is the WWW-Authenticate or Proxy-Authenticate parameters as Sofia splits
 * them (realm, nonce, qop, algorithm, opaque). Writes the credentials value
 * (`Digest username="...", realm=..., response=...`) for @p method and
 * @p uri into @p out, using nonce count @p nc and a fresh cnonce when the
 * challenge offers qop=auth. MD5 and SHA-256 are supported. Returns 0,
 * EBADMSG (no realm or nonce), ENOTSUP (algorithm or qop) or ENOSPC.
 */
int auth_digest_answer(const char *const *challenge, const char *user,
		       const char *password, const char *method,
		       const char *uri, unsigned nc, char *out, size_t size);

#endif
