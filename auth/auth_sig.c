/**
 * @file auth_sig.c  JWS signature checks with OpenSSL (private to auth/,
 * declared in auth_keys.h): HMAC compared in constant time, RSASSA-PKCS1
 * v1.5 and ECDSA P-256 against the key parsed once at load.
 *
 * libjwt takes a key only as PEM bytes, and OpenSSL 3 decoded them for
 * every token (most of an ES256 check's cost); for an HMAC it decoded the
 * whole token once more and looked HMAC up by name. The caller (auth_jwt.c)
 * has already held the algorithm against the policy and the key's type.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth/auth_keys.h"

/** The digests by name, fetched once (OpenSSL 3 looks a name up on each
 *  implicit use). */
static const char *const md_names[] = {"SHA256", "SHA384", "SHA512"};

enum { MD_COUNT = sizeof(md_names) / sizeof(md_names[0]) };

/* The digest called @p name, or NULL (unknown, or out of memory). */
static const EVP_MD *md_by_name(const char *name)
{
	static EVP_MD *mds[MD_COUNT];

	for (size_t i = 0; i < MD_COUNT; i++) {
		if (strcmp(md_names[i], name))
			continue;
		if (!mds[i])
			mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
		return mds[i];
	}
	return NULL;
}


/* A JWS ES256 signature (R || S, RFC 7518 3.4) as the DER that OpenSSL
 * verifies; OPENSSL_free() it. Returns its length, or 0. */
static int es_der(const unsigned char *sig, size_t len, unsigned char **der)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	int n = 0;

	if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;   /* es owns them */
		n = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return n > 0 ? n : 0;
}


/* RS* or ES256 against k->pkey. Returns 0, EKEYREJECTED or ENOMEM. */
static int pkey_verify(const struct auth_key *k, const char *md_name,
		       const char *input, size_t inlen,
		       const unsigned char *sig, size_t siglen)
{
	const EVP_MD *md = md_by_name(md_name);
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx;
	int ok, n;

	if (!md)
		return ENOMEM;
	if (k->type == AUTH_KEY_EC) {
		n = es_der(sig, siglen, &der);
		if (!n)
			return ENOMEM;
		sig = der;
		siglen = (size_t)n;
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input,
			      inlen) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? 0 : EKEYREJECTED;
}


/* HS*: the HMAC of @p input, compared in constant time. Returns 0,
 * EKEYREJECTED or ENOMEM. */
static int hmac_verify(const struct auth_key *k, const char *md_name,
		       const char *input, size_t inlen,
		       const unsigned char *sig, size_t siglen)
{
	static EVP_MAC *hmac;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	int ok;

	if (!hmac)
		hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	if (!ctx)
		return ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)md_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ctx, k->data, k->len, params) == 1 &&
	     EVP_MAC_update(ctx, (const unsigned char *)input, inlen) == 1 &&
	     EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) == 1 &&
	     maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
	EVP_MAC_CTX_free(ctx);
	OPENSSL_cleanse(mac, sizeof(mac));
	ERR_clear_error();
	return ok ? 0 : EKEYREJECTED;
}


int auth_sig_verify(const struct auth_key *k, const char *md, size_t siglen,
		    const char *input, size_t inlen, const char *sig64,
		    size_t sig64len, const char **why)
{
	unsigned char *sig = NULL;
	size_t len = 0;
	int err;

	err = auth_b64url_decode(sig64, sig64len, &sig, &len);
	if (err == ENOMEM) {
		*why = "out of memory";
		return ENOMEM;
	}
	if (err || !len || (siglen && len != siglen) ||
	    (k->type != AUTH_KEY_HMAC && !k->pkey)) {
		free(sig);
		*why = "bad signature";
		return EKEYREJECTED;
	}
	err = k->type == AUTH_KEY_HMAC ?
	      hmac_verify(k, md, input, inlen, sig, len) :
	      pkey_verify(k, md, input, inlen, sig, len);
	free(sig);
	if (err)
		*why = err == ENOMEM ? "out of memory" : "bad signature";
	return err;
}
