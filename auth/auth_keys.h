/**
 * @file auth_keys.h  Private to auth/: what a key set holds, for the JWT
 * verifier and signer (auth_jwt.c). Not part of the public API.
 */
#ifndef WTPF_AUTH_KEYS_H
#define WTPF_AUTH_KEYS_H

#include <stddef.h>

struct auth_keyset;

enum auth_key_type { AUTH_KEY_HMAC = 0, AUTH_KEY_RSA, AUTH_KEY_EC };

/** One verification key. */
struct auth_key {
	char kid[128];           /**< "" when the key has no "kid" */
	char alg[16];            /**< the JWK's "alg", "" when unconstrained */
	enum auth_key_type type; /**< EC keys are always P-256 */
	unsigned char *data;     /**< HMAC secret, or SubjectPublicKeyInfo PEM */
	size_t len;              /**< bytes in data (no NUL counted) */
	void *pkey;              /**< RSA and EC: the parsed key (EVP_PKEY *),
				      owned; NULL for HMAC */
};

/**
 * Checks a JWS signature (base64url @p sig64) over @p input with key @p k
 * and digest @p md ("SHA256", "SHA384", "SHA512"): an HMAC for an HMAC
 * key, compared in constant time; RSASSA-PKCS1 v1.5 or ECDSA (R || S) for
 * an RSA or EC key. @p siglen: the length the algorithm needs, 0 for any.
 * The caller has matched the algorithm to the key's type. Returns 0,
 * EKEYREJECTED or ENOMEM with @p *why set. O(input).
 */
int auth_sig_verify(const struct auth_key *k, const char *md, size_t siglen,
		    const char *input, size_t inlen, const char *sig64,
		    size_t sig64len, const char **why);

/** Key @p i of @p ks, or NULL past the end. */
const struct auth_key *auth_keyset_key(const struct auth_keyset *ks,
				       size_t i);

/**
 * Strict base64url decoding (RFC 4648 §5, no padding, canonical trailing
 * bits). Returns 0 and a malloc'd buffer (NUL-terminated for convenience,
 * the NUL not counted in @p *outlen), ENOMEM, or EBADMSG.
 */
int auth_b64url_decode(const char *s, size_t len, unsigned char **outp,
		       size_t *outlen);

#endif
