/**
 * @file auth_keys.c  JWT verification keys: PEM public keys, JWKS files and
 * raw HMAC secrets, normalised to what libjwt takes (the secret bytes, or a
 * SubjectPublicKeyInfo PEM for RSA and EC P-256).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "auth/auth.h"
#include "auth/auth_keys.h"

enum {
	KEYFILE_MAX = 1024 * 1024, /**< larger key files are refused */
	HMAC_MIN = 32,             /**< RFC 7518 §3.2: at least 256 bits */
	RSA_MIN_BITS = 2048,
	EC_COORD = 32,             /**< P-256 coordinate size */
};

struct auth_keyset {
	struct auth_key *keys;
	size_t n;
};

static const char pem_pub[] = "-----BEGIN PUBLIC KEY-----";


static int b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}


int auth_b64url_decode(const char *s, size_t len, unsigned char **outp,
		       size_t *outlen)
{
	unsigned char *out;
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0;

	if (!s || !outp || !outlen || len % 4 == 1)
		return EBADMSG;

	out = malloc(len / 4 * 3 + 3);
	if (!out)
		return ENOMEM;

	for (i = 0; i < len; i++) {
		int v = b64url_val(s[i]);

		if (v < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}

	if (acc != 0)   /* non-canonical: leftover bits must be zero */
		goto bad;

	out[o] = '\0';
	*outp = out;
	*outlen = o;
	return 0;

 bad:
	free(out);
	return EBADMSG;
}


const struct auth_key *auth_keyset_key(const struct auth_keyset *ks,
				       size_t i)
{
	if (!ks || i >= ks->n)
		return NULL;

	return &ks->keys[i];
}


size_t auth_keyset_count(const struct auth_keyset *ks)
{
	return ks ? ks->n : 0;
}


void auth_keyset_free(struct auth_keyset *ks)
{
	size_t i;

	if (!ks)
		return;

	for (i = 0; i < ks->n; i++) {
		OPENSSL_cleanse(ks->keys[i].data, ks->keys[i].len);
		free(ks->keys[i].data);
		EVP_PKEY_free(ks->keys[i].pkey);
	}

	free(ks->keys);
	free(ks);
}


/* Takes ownership of @p data (freed on error too). */
static int keyset_add(struct auth_keyset *ks, enum auth_key_type type,
		      const char *kid, const char *alg, unsigned char *data,
		      size_t len, const char **why)
{
	struct auth_key *keys, *k;
	size_t i;

	for (i = 0; kid[0] && i < ks->n; i++) {
		if (!strcmp(ks->keys[i].kid, kid)) {
			*why = "duplicate kid in JWKS";
			goto fail;
		}
	}

	keys = realloc(ks->keys, (ks->n + 1) * sizeof(*keys));
	if (!keys) {
		*why = "out of memory";
		OPENSSL_cleanse(data, len);
		free(data);
		return ENOMEM;
	}
	ks->keys = keys;

	k = &ks->keys[ks->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	snprintf(k->alg, sizeof(k->alg), "%s", alg);
	k->type = type;
	k->data = data;
	k->len = len;
	return 0;

 fail:
	OPENSSL_cleanse(data, len);
	free(data);
	return EINVAL;
}


/* Accepts RSA of at least 2048 bits and EC on P-256 only. */
static int pkey_check(EVP_PKEY *pk, enum auth_key_type *type,
		      const char **why)
{
	char group[64];
	EVP_PKEY_CTX *ctx;
	int ok;

	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (EVP_PKEY_get_bits(pk) < RSA_MIN_BITS) {
			*why = "RSA key shorter than 2048 bits";
			return EINVAL;
		}
		*type = AUTH_KEY_RSA;
	}
	else if (EVP_PKEY_is_a(pk, "EC")) {
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL)
		    || strcmp(group, SN_X9_62_prime256v1)) {
			*why = "EC key is not on curve P-256";
			return EINVAL;
		}
		*type = AUTH_KEY_EC;
	}
	else {
		*why = "public key is neither RSA nor EC";
		return EINVAL;
	}

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	ok = ctx && EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		*why = "invalid public key";
		return EINVAL;
	}

	return 0;
}


/* Checks @p pk and adds it to @p ks as a SubjectPublicKeyInfo PEM. */
static int keyset_add_pkey(struct auth_keyset *ks, EVP_PKEY *pk,
			   const char *kid, const char *alg, const char **why)
{
	enum auth_key_type type;
	unsigned char *data;
	char *pem;
	long len;
	BIO *bio;
	int err;

	err = pkey_check(pk, &type, why);
	if (err)
		return err;

	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, pk)
	    || (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		BIO_free(bio);
		*why = "cannot encode public key";
		return ENOMEM;
	}

	data = malloc((size_t)len + 1);
	if (!data) {
		BIO_free(bio);
		*why = "out of memory";
		return ENOMEM;
	}
	memcpy(data, pem, (size_t)len);
	data[len] = '\0';
	BIO_free(bio);

	/* kept parsed too: OpenSSL 3 decoding a PEM key costs more than
	 * the verification itself */
	if (!EVP_PKEY_up_ref(pk)) {
		free(data);
		*why = "out of memory";
		return ENOMEM;
	}
	err = keyset_add(ks, type, kid, alg, data, (size_t)len, why);
	if (err)
		EVP_PKEY_free(pk);
	else
		ks->keys[ks->n - 1].pkey = pk;
	return err;
}


static int pem_load(struct auth_keyset *ks, const char *buf, size_t len,
		    const char **why)
{
	EVP_PKEY *pk = NULL;
	BIO *bio;
	int err;

	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio) {
		*why = "out of memory";
		return ENOMEM;
	}

	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pk) {
		*why = "unreadable PEM public key";
		return EINVAL;
	}

	err = keyset_add_pkey(ks, pk, "", "", why);
	EVP_PKEY_free(pk);
	return err;
}


/* Decodes the base64url string member @p name of @p jwk. */
static int jwk_bytes(const json_t *jwk, const char *name, unsigned char **bp,
		     size_t *lenp)
{
	const json_t *v = json_object_get(jwk, name);

	if (!json_is_string(v))
		return EINVAL;

	return auth_b64url_decode(json_string_value(v), json_string_length(v),
				  bp, lenp) ? EINVAL : 0;
}


static int pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld,
			 EVP_PKEY **pkp)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	int err = 0;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1
	    || EVP_PKEY_fromdata(ctx, pkp, EVP_PKEY_PUBLIC_KEY, params) != 1)
		err = EINVAL;

	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return err;
}


static int jwk_rsa(EVP_PKEY **pkp, const json_t *jwk, const char **why)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int err = EINVAL;

	if (jwk_bytes(jwk, "n", &n, &nlen) || jwk_bytes(jwk, "e", &e, &elen)
	    || !nlen || !elen) {
		*why = "RSA JWK without valid n and e";
		goto out;
	}

	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn_n || !bn_e || !bld
	    || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
	    || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
		*why = "out of memory";
		err = ENOMEM;
		goto out;
	}

	err = pkey_fromdata("RSA", bld, pkp);
	if (err)
		*why = "invalid RSA JWK";

 out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(e);
	return err;
}


static int jwk_ec(EVP_PKEY **pkp, const json_t *jwk, const char **why)
{
	unsigned char *x = NULL, *y = NULL, pt[1 + 2 * EC_COORD];
	size_t xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	int err = EINVAL;

	if (jwk_bytes(jwk, "x", &x, &xlen) || jwk_bytes(jwk, "y", &y, &ylen)
	    || xlen != EC_COORD || ylen != EC_COORD) {
		*why = "EC JWK without valid 32-byte x and y";
		goto out;
	}

	pt[0] = 0x04;  /* uncompressed point */
	memcpy(pt + 1, x, EC_COORD);
	memcpy(pt + 1 + EC_COORD, y, EC_COORD);

	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld,
			OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0)
	    || !OSSL_PARAM_BLD_push_octet_string(bld,
			OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt))) {
		*why = "out of memory";
		err = ENOMEM;
		goto out;
	}

	err = pkey_fromdata("EC", bld, pkp);
	if (err)
		*why = "invalid EC JWK (point not on P-256)";

 out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return err;
}


static int hmac_add(struct auth_keyset *ks, unsigned char *k, size_t len,
		    const char *kid, const char *alg, const char **why)
{
	if (len < HMAC_MIN) {
		OPENSSL_cleanse(k, len);
		free(k);
		*why = len ? "HMAC secret shorter than 32 bytes"
			   : "empty HMAC secret";
		return EINVAL;
	}

	return keyset_add(ks, AUTH_KEY_HMAC, kid, alg, k, len, why);
}


static int jwk_oct(struct auth_keyset *ks, const json_t *jwk,
		   const char *kid, const char *alg, const char **why)
{
	unsigned char *k;
	size_t len;

	if (jwk_bytes(jwk, "k", &k, &len)) {
		*why = "oct JWK without valid k";
		return EINVAL;
	}

	return hmac_add(ks, k, len, kid, alg, why);
}


/* The algorithm family a JWK "alg" names, or -1 for one we do not do. */
static int alg_family(const char *alg)
{
	static const char *const hs[] = {"HS256", "HS384", "HS512", NULL};
	static const char *const rs[] = {"RS256", "RS384", "RS512", NULL};
	size_t i;

	for (i = 0; hs[i]; i++) {
		if (!strcmp(alg, hs[i]))
			return AUTH_KEY_HMAC;
		if (!strcmp(alg, rs[i]))
			return AUTH_KEY_RSA;
	}

	return strcmp(alg, "ES256") ? -1 : AUTH_KEY_EC;
}


/*
 * Reads "kid" and "alg" of @p jwk. Returns 1 when the key is to be
 * skipped (encryption key, algorithm we do not implement), 0 or EINVAL.
 */
static int jwk_meta(const json_t *jwk, const char **kid, const char **alg,
		    const char **why)
{
	const json_t *k = json_object_get(jwk, "kid");
	const json_t *a = json_object_get(jwk, "alg");
	const json_t *use = json_object_get(jwk, "use");

	if (use && (!json_is_string(use)
		    || strcmp(json_string_value(use), "sig")))
		return 1;

	if ((k && !json_is_string(k)) || (a && !json_is_string(a))) {
		*why = "JWK kid or alg is not a string";
		return EINVAL;
	}

	*kid = k ? json_string_value(k) : "";
	*alg = a ? json_string_value(a) : "";
	if (strlen(*kid) >= sizeof(((struct auth_key *)0)->kid)) {
		*why = "JWK kid too long";
		return EINVAL;
	}

	return ((*alg)[0] && alg_family(*alg) < 0) ? 1 : 0;
}


static int jwk_load(struct auth_keyset *ks, const json_t *jwk,
		    const char **why)
{
	const char *kty, *crv, *kid = "", *alg = "";
	EVP_PKEY *pk = NULL;
	int err, fam;

	kty = json_string_value(json_object_get(jwk, "kty"));
	if (!json_is_object(jwk) || !kty) {
		*why = "JWK without kty";
		return EINVAL;
	}

	err = jwk_meta(jwk, &kid, &alg, why);
	if (err)
		return err == 1 ? 0 : err;

	crv = json_string_value(json_object_get(jwk, "crv"));
	if (!strcmp(kty, "oct"))
		fam = AUTH_KEY_HMAC;
	else if (!strcmp(kty, "RSA"))
		fam = AUTH_KEY_RSA;
	else if (!strcmp(kty, "EC") && crv && !strcmp(crv, "P-256"))
		fam = AUTH_KEY_EC;
	else
		return 0;  /* OKP, other curves: not ours, skipped */

	if (alg[0] && alg_family(alg) != fam) {
		*why = "JWK alg does not fit its kty";
		return EINVAL;
	}

	if (fam == AUTH_KEY_HMAC)
		return jwk_oct(ks, jwk, kid, alg, why);

	err = fam == AUTH_KEY_RSA ? jwk_rsa(&pk, jwk, why)
				  : jwk_ec(&pk, jwk, why);
	if (!err)
		err = keyset_add_pkey(ks, pk, kid, alg, why);

	EVP_PKEY_free(pk);
	return err;
}


static int jwks_load(struct auth_keyset *ks, const char *buf, size_t len,
		     const char **why)
{
	json_t *root, *keys, *jwk;
	size_t i;
	int err = 0;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		*why = "not a JWKS (JSON with a \"keys\" array)";
		err = EINVAL;
		goto out;
	}

	json_array_foreach(keys, i, jwk) {
		err = jwk_load(ks, jwk, why);
		if (err)
			goto out;
	}

	if (!ks->n) {
		*why = "JWKS has no usable signature key";
		err = EINVAL;
	}

 out:
	json_decref(root);
	return err;
}


static int file_read(const char *path, char **bufp, size_t *lenp,
		     const char **why)
{
	char *buf;
	size_t len;
	FILE *f;
	int err;

	f = fopen(path, "rb");
	if (!f) {
		*why = "cannot open key file";
		return errno ? errno : EIO;
	}

	buf = malloc(KEYFILE_MAX + 1);
	if (!buf) {
		fclose(f);
		*why = "out of memory";
		return ENOMEM;
	}

	len = fread(buf, 1, KEYFILE_MAX + 1, f);
	err = ferror(f) ? EIO : 0;
	fclose(f);
	if (!err && len > KEYFILE_MAX) {
		*why = "key file too large";
		err = EINVAL;
	}
	else if (err) {
		*why = "cannot read key file";
	}

	if (err) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return err;
	}

	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}


/* The file's content as a raw secret, trailing whitespace stripped. */
static int secret_load(struct auth_keyset *ks, const char *buf, size_t len,
		       const char **why)
{
	unsigned char *k;

	while (len && strchr(" \t\r\n", buf[len - 1]))
		--len;

	k = malloc(len + 1);
	if (!k) {
		*why = "out of memory";
		return ENOMEM;
	}
	memcpy(k, buf, len);
	k[len] = '\0';

	return hmac_add(ks, k, len, "", "", why);
}


static int content_load(struct auth_keyset *ks, const char *buf, size_t len,
			const char **why)
{
	size_t skip = strspn(buf, " \t\r\n");
	const char *p = buf + skip;

	if (skip == len && len) {
		*why = "key file holds only whitespace";
		return EINVAL;
	}

	if (!strncmp(p, pem_pub, sizeof(pem_pub) - 1))
		return pem_load(ks, buf, len, why);

	if (!strncmp(p, "-----BEGIN ", 11)) {
		*why = "PEM is not a public key (-----BEGIN PUBLIC KEY-----)";
		return EINVAL;
	}

	if (*p == '{')
		return jwks_load(ks, buf, len, why);

	return secret_load(ks, buf, len, why);
}


int auth_keyset_load(struct auth_keyset **ksp, const char *path,
		     const char **why)
{
	struct auth_keyset *ks = NULL;
	const char *dummy;
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;

	if (!ksp || !path) {
		*why = "invalid argument";
		return EINVAL;
	}

	err = file_read(path, &buf, &len, why);
	if (err)
		return err;

	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		*why = "out of memory";
		err = ENOMEM;
		goto out;
	}

	err = content_load(ks, buf, len, why);

 out:
	if (err) {
		auth_keyset_free(ks);
	}
	else {
		*ksp = ks;
		*why = NULL;
	}

	OPENSSL_cleanse(buf, len);
	free(buf);
	return err;
}
