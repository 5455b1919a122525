/**
 * @file auth.h  Client credentials: Bearer JWTs minted with libjwt (HS256
 * from a shared secret file, ES256 from a PEM private key) and SIP digest
 * answers (RFC 7616/8760: MD5 or SHA-256, qop=auth) to the challenges of
 * a 401 or 407.
 *
 * Ownership: bauth_jwt_create() returns a signer the caller frees with
 * bauth_jwt_free(); minted tokens are malloc'd and freed by the caller.
 */
#ifndef WTPF_BENCH_AUTH_H
#define WTPF_BENCH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct bsip_msg;
struct bauth_jwt;

/**
 * Loads the key of a token signer: @p alg "HS256" (@p keyfile holds the
 * secret; trailing white space is not part of it) or "ES256" (@p keyfile
 * is a PEM private key). Claims: iss @p iss, aud @p aud (none when NULL
 * or empty), exp = now + @p ttl. Returns 0, EINVAL or an errno code of the
 * file (with a message on stderr).
 */
int bauth_jwt_create(struct bauth_jwt **jp, const char *alg,
		     const char *keyfile, const char *iss, const char *aud,
		     long ttl);

/**
 * Mints a token for subject @p sub (with an "impu" claim when @p impu is
 * not NULL) issued at @p now. Returns a malloc'd string, or NULL.
 * Costs one HMAC or one ECDSA signature.
 */
char *bauth_jwt_mint(const struct bauth_jwt *j, const char *sub,
		     const char *impu, time_t now);

/** Frees @p j; NULL is allowed. */
void bauth_jwt_free(struct bauth_jwt *j);

enum bauth_alg { BAUTH_MD5, BAUTH_SHA256 };

/** A digest challenge, and the nonce count used with it. */
struct bauth_chal {
	enum bauth_alg alg;
	bool qop_auth;          /**< qop=auth offered (else RFC 2069 form) */
	bool stale;
	bool proxy;             /**< from Proxy-Authenticate (407) */
	char realm[256];
	char nonce[256];
	char opaque[256];
	uint32_t nc;
};

/**
 * Picks the best digest challenge of response @p m (SHA-256 before MD5;
 * WWW-Authenticate, else Proxy-Authenticate) into @p c (nc reset).
 * Returns 0, or ENOENT when it has none that this tool can answer.
 */
int bauth_chal_pick(const struct bsip_msg *m, struct bauth_chal *c);

/**
 * Writes the header line answering @p c for @p method @p uri as @p user
 * with @p password ("Authorization: Digest ...\r\n", or
 * "Proxy-Authorization: ..." for a 407) into @p out. Increments @p c->nc.
 * Returns 0, ENOSPC, or EIO when the hash is unavailable.
 */
int bauth_digest_line(struct bauth_chal *c, const char *user,
		      const char *password, const char *method,
		      const char *uri, char *out, size_t size);

#endif
