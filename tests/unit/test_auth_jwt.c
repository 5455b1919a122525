/**
 * @file test_auth_jwt.c  JWT keys, verification and Bearer parsing.
 *
 * Keys are in tests/data/jwt (made once with openssl; JWKS files and the
 * node:crypto tokens come from tests/data/jwt/mint.js). Other tokens are
 * minted here with libjwt, whose ES256 output is the standard JWS R||S
 * form (the node-made tokens cross-check that), or built by hand for the
 * malformed and hostile ones.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/evp.h>

#include "auth/auth.h"

#define DATA WTPF_TEST_DATA "/jwt/"
#define ISS "https://idp.example.org"
#define AUD "wtpf"
#define NOW 1800000000L  /* 2027-01-15 */

static const char *const algs_hs[] = {"HS256", NULL};
static const char *const algs_rs[] = {"RS256", NULL};
static const char *const algs_es[] = {"ES256", NULL};
static const char *const algs_rs_hs[] = {"RS256", "HS256", NULL};
static const char *const algs_all[] = {"HS256", "RS256", "ES256", NULL};

#define assert_refused(err, why, code, reason) do {	\
	assert_int_equal((err), (code));		\
	assert_non_null(why);				\
	assert_string_equal((why), (reason));		\
} while (0)


/* ---- helpers ---------------------------------------------------------- */

static char *slurp(const char *path, size_t *lenp)
{
	char *buf = malloc(65536);
	FILE *f = fopen(path, "rb");
	size_t len;

	assert_non_null(buf);
	assert_non_null(f);
	len = fread(buf, 1, 65535, f);
	fclose(f);
	buf[len] = '\0';
	while (len && strchr(" \r\n", buf[len - 1]))
		buf[--len] = '\0';
	if (lenp)
		*lenp = len;

	return buf;
}


static struct auth_keyset *load(const char *name)
{
	struct auth_keyset *ks = NULL;
	const char *why = NULL;
	char path[512];

	snprintf(path, sizeof(path), DATA "%s", name);
	assert_int_equal(auth_keyset_load(&ks, path, &why), 0);
	assert_null(why);
	assert_non_null(ks);

	return ks;
}


static int load_text(const char *text, const char **why)
{
	char path[] = "/tmp/test_auth_jwt.XXXXXX";
	struct auth_keyset *ks = NULL;
	int fd = mkstemp(path);
	int err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	err = auth_keyset_load(&ks, path, why);
	unlink(path);
	if (!err) {
		assert_non_null(ks);
		auth_keyset_free(ks);
	}

	return err;
}


static char *b64url(const char *s, size_t len)
{
	char *out = malloc(len / 3 * 4 + 8);
	int n;

	assert_non_null(out);
	n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
			    (int)len);
	while (n && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}

	return out;
}


/* A token made by hand: b64url(head).b64url(claims).sig */
static char *craft(const char *head, const char *claims, const char *sig)
{
	char *h = b64url(head, strlen(head));
	char *c = b64url(claims, strlen(claims));
	char *tok = NULL;

	assert_true(asprintf(&tok, "%s.%s.%s", h, c, sig) > 0);
	free(h);
	free(c);

	return tok;
}


/* A token signed by libjwt with @p key (a private PEM, or a secret). */
static char *mint_key(jwt_alg_t alg, const char *key, size_t klen,
		      const char *kid, const char *claims)
{
	jwt_t *jwt = NULL;
	char *tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	if (kid)
		assert_int_equal(jwt_add_header(jwt, "kid", kid), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)key,
				     (int)klen), 0);
	tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	jwt_free(jwt);

	return tok;
}


static char *mint(jwt_alg_t alg, const char *keyfile, const char *kid,
		  const char *claims)
{
	char path[512], *key, *tok;
	size_t klen;

	snprintf(path, sizeof(path), DATA "%s", keyfile);
	key = slurp(path, &klen);
	tok = mint_key(alg, key, klen, kid, claims);
	free(key);

	return tok;
}


/* Default claims, valid at NOW. */
static char *claims_exp(long exp)
{
	char *c = NULL;

	assert_true(asprintf(&c, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
			     "\"sub\":\"alice\",\"exp\":%ld}", exp) > 0);
	return c;
}


static struct auth_jwt_policy policy(const struct auth_keyset *ks,
				     const char *const *algs)
{
	struct auth_jwt_policy pol = {
		.issuer = ISS, .audience = AUD, .algorithms = algs,
		.keys = ks, .clock_skew = 0, .max_token_size = 0,
	};

	return pol;
}


static int verify(const char *tok, const struct auth_jwt_policy *pol,
		  time_t now, const char **why)
{
	struct auth_claims c;

	return auth_jwt_verify(tok, pol, now, &c, why);
}


/* Mints with @p keyfile, verifies against @p keysfile: returns the error. */
static int roundtrip(jwt_alg_t alg, const char *keyfile, const char *kid,
		     const char *keysfile, const char *const *algs,
		     const char **why)
{
	struct auth_keyset *ks = load(keysfile);
	struct auth_jwt_policy pol = policy(ks, algs);
	char *claims = claims_exp(NOW + 600);
	char *tok = mint(alg, keyfile, kid, claims);
	int err = verify(tok, &pol, NOW, why);

	free(tok);
	free(claims);
	auth_keyset_free(ks);
	return err;
}


/* ---- keys ------------------------------------------------------------- */

static void test_keys_formats(void **state)
{
	static const struct { const char *file; size_t n; } files[] = {
		{"hmac.secret", 1}, {"rsa.pub", 1}, {"ec1.pub", 1},
		{"jwks-ec.json", 2}, {"jwks-rsa-oct.json", 2},
	};
	struct auth_keyset *ks = NULL;
	const char *why = NULL;
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ks = load(files[i].file);
		assert_int_equal(auth_keyset_count(ks), files[i].n);
		auth_keyset_free(ks);
	}

	assert_int_equal(auth_keyset_load(&ks, DATA "nope.pem", &why), ENOENT);
	assert_non_null(why);
	assert_int_equal(auth_keyset_count(NULL), 0);
	auth_keyset_free(NULL);

	/* a private key must not end up used as an HMAC secret */
	assert_int_equal(auth_keyset_load(&ks, DATA "ec1.key", &why), EINVAL);
	assert_non_null(strstr(why, "not a public key"));
}


static void test_keys_bad_secrets(void **state)
{
	const char *why = NULL;
	(void)state;

	assert_refused(load_text("", &why), why, EINVAL, "empty HMAC secret");
	assert_int_equal(load_text(" \n\n", &why), EINVAL);
	assert_refused(load_text("0123456789abcdef0123456789abcde\n", &why),
		       why, EINVAL, "HMAC secret shorter than 32 bytes");
	assert_int_equal(load_text("0123456789abcdef0123456789abcdef\n", &why),
			 0);
	assert_int_equal(load_text("-----BEGIN CERTIFICATE-----\nMII\n", &why),
			 EINVAL);
	assert_int_equal(load_text("-----BEGIN PUBLIC KEY-----\nAAAA\n"
				   "-----END PUBLIC KEY-----\n", &why), EINVAL);
}


static void test_keys_bad_jwks(void **state)
{
	const char *why = NULL;
	(void)state;

	assert_int_equal(load_text("{\"keys\": [", &why), EINVAL);
	assert_int_equal(load_text("{\"nokeys\": []}", &why), EINVAL);
	assert_refused(load_text("{\"keys\": []}", &why), why, EINVAL,
		       "JWKS has no usable signature key");
	/* only keys we do not do: skipped, so nothing left */
	assert_int_equal(load_text("{\"keys\":[{\"kty\":\"OKP\",\"crv\":"
		"\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"
		",{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\"AAAA\"}]}", &why), EINVAL);
	/* x of the wrong size; a point not on the curve */
	assert_int_equal(load_text("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
		"\"x\":\"AAAA\",\"y\":\"AAAA\"}]}", &why), EINVAL);
	assert_refused(load_text("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
		"\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		"\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}", &why),
		why, EINVAL, "invalid EC JWK (point not on P-256)");
	/* short oct secret, alg not fitting kty, duplicate kid */
	assert_int_equal(load_text("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}"
				   "]}", &why), EINVAL);
	assert_refused(load_text("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"RS256\","
		"\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"}]}", &why),
		why, EINVAL, "JWK alg does not fit its kty");
	assert_refused(load_text("{\"keys\":["
		"{\"kty\":\"oct\",\"kid\":\"a\",\"k\":"
		"\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"},"
		"{\"kty\":\"oct\",\"kid\":\"a\",\"k\":"
		"\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"}]}", &why),
		why, EINVAL, "duplicate kid in JWKS");
}


/* ---- good tokens ------------------------------------------------------ */

static void test_hs256_good(void **state)
{
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	struct auth_claims c;
	const char *why = "x";
	char *tok, *secret;
	jwt_t *jwt = NULL;
	size_t slen;
	(void)state;

	tok = auth_jwt_sign_hs256(ks, ISS, AUD, "bob", "sip:bob@example.org",
				  NOW, 300);
	assert_non_null(tok);
	assert_int_equal(auth_jwt_verify(tok, &pol, NOW + 10, &c, &why), 0);
	assert_null(why);
	assert_string_equal(c.iss, ISS);
	assert_string_equal(c.sub, "bob");
	assert_string_equal(c.impu, "sip:bob@example.org");
	assert_string_equal(c.kid, "");
	assert_int_equal(c.exp, NOW + 300);

	/* the secret is the file without its trailing newline */
	secret = slurp(DATA "hmac.secret", &slen);
	assert_int_equal(slen, 64);
	assert_int_equal(jwt_decode(&jwt, tok, (unsigned char *)secret,
				    (int)slen), 0);
	jwt_free(jwt);
	free(secret);
	free(tok);

	assert_int_equal(roundtrip(JWT_ALG_HS256, "hmac.secret", NULL,
				   "hmac.secret", algs_hs, &why), 0);
	assert_null(auth_jwt_sign_hs256(ks, ISS, AUD, "bob", NULL, NOW, 0));
	auth_keyset_free(ks);

	ks = load("rsa.pub");  /* no HMAC key: cannot sign */
	assert_null(auth_jwt_sign_hs256(ks, ISS, AUD, "bob", NULL, NOW, 60));
	auth_keyset_free(ks);
}


static void test_rs256_es256_good(void **state)
{
	const char *why = "x";
	(void)state;

	assert_int_equal(roundtrip(JWT_ALG_RS256, "rsa.key", NULL, "rsa.pub",
				   algs_rs, &why), 0);
	assert_int_equal(roundtrip(JWT_ALG_RS256, "rsa.key", "rsa-1",
				   "jwks-rsa-oct.json", algs_rs, &why), 0);
	assert_int_equal(roundtrip(JWT_ALG_HS256, "hmac.secret", "hs-1",
				   "jwks-rsa-oct.json", algs_rs_hs, &why), 0);
	assert_int_equal(roundtrip(JWT_ALG_ES256, "ec1.key", NULL, "ec1.pub",
				   algs_es, &why), 0);
	assert_int_equal(roundtrip(JWT_ALG_ES256, "ec1.key", "ec-2025",
				   "jwks-ec.json", algs_es, &why), 0);
	/* a kid the PEM key set does not know: its only, kid-less key */
	assert_int_equal(roundtrip(JWT_ALG_ES256, "ec2.key", "ec-2026",
				   "ec2.pub", algs_all, &why), 0);
}


/* Tokens made by node:crypto (mint.js): a standard ES256/RS256 signer. */
static void test_interop_node(void **state)
{
	static const struct { const char *tok, *keys; } cases[] = {
		{"node-es256.jwt", "jwks-ec.json"},
		{"node-es256.jwt", "ec2.pub"},
		{"node-rs256.jwt", "jwks-rsa-oct.json"},
		{"node-rs256.jwt", "rsa.pub"},
	};
	const char *why = "x";
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_keyset *ks = load(cases[i].keys);
		struct auth_jwt_policy pol = policy(ks, algs_all);
		struct auth_claims c;
		char path[512], *tok;

		snprintf(path, sizeof(path), DATA "%s", cases[i].tok);
		tok = slurp(path, NULL);
		assert_int_equal(auth_jwt_verify(tok, &pol, NOW, &c, &why), 0);
		assert_string_equal(c.sub, "alice");
		assert_string_equal(c.impu, "sip:alice@example.org");
		assert_int_equal(c.exp, 4102444800L);
		assert_string_equal(c.kid, i < 2 ? "ec-2026" : "rsa-1");

		/* not yet valid before its nbf */
		assert_refused(verify(tok, &pol, 1600000000L, &why), why,
			       EKEYEXPIRED, "token not yet valid");
		free(tok);
		auth_keyset_free(ks);
	}
}


static void test_jwks_rotation(void **state)
{
	struct auth_keyset *ks = load("jwks-ec.json");
	struct auth_jwt_policy pol = policy(ks, algs_es);
	char *claims = claims_exp(NOW + 600);
	struct auth_claims c;
	const char *why;
	char *tok;
	(void)state;

	tok = mint(JWT_ALG_ES256, "ec1.key", "ec-2025", claims);
	assert_int_equal(auth_jwt_verify(tok, &pol, NOW, &c, &why), 0);
	assert_string_equal(c.kid, "ec-2025");
	free(tok);

	tok = mint(JWT_ALG_ES256, "ec2.key", "ec-2026", claims);
	assert_int_equal(auth_jwt_verify(tok, &pol, NOW, &c, &why), 0);
	assert_string_equal(c.kid, "ec-2026");
	free(tok);

	/* signed with the new key, claiming the old kid */
	tok = mint(JWT_ALG_ES256, "ec2.key", "ec-2025", claims);
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	free(tok);

	tok = mint(JWT_ALG_ES256, "ec1.key", "ec-2099", claims);
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "unknown key id");
	free(tok);

	tok = mint(JWT_ALG_ES256, "ec1.key", NULL, claims);
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "several keys fit a token without kid");
	free(tok);

	free(claims);
	auth_keyset_free(ks);
}


/* ---- time ------------------------------------------------------------- */

static void test_expiry(void **state)
{
	struct auth_keyset *ks = load("ec1.pub");
	struct auth_jwt_policy pol = policy(ks, algs_es);
	char *claims = claims_exp(NOW - 100);
	char *tok = mint(JWT_ALG_ES256, "ec1.key", NULL, claims);
	const char *why;
	(void)state;

	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYEXPIRED,
		       "token expired");
	assert_int_equal(verify(tok, &pol, NOW - 100, &why), 0);
	assert_refused(verify(tok, &pol, NOW - 99, &why), why, EKEYEXPIRED,
		       "token expired");

	pol.clock_skew = 120;  /* expired 100 s ago, within the skew */
	assert_int_equal(verify(tok, &pol, NOW, &why), 0);
	assert_int_equal(verify(tok, &pol, NOW + 20, &why), 0);
	assert_refused(verify(tok, &pol, NOW + 21, &why), why, EKEYEXPIRED,
		       "token expired");

	free(tok);
	free(claims);
	auth_keyset_free(ks);
}


static void test_not_before(void **state)
{
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	const char *why;
	char *tok;
	(void)state;

	tok = mint(JWT_ALG_HS256, "hmac.secret", NULL, "{\"iss\":\"" ISS
		   "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":1800000600,"
		   "\"nbf\":1800000100}");
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYEXPIRED,
		       "token not yet valid");
	pol.clock_skew = 100;
	assert_int_equal(verify(tok, &pol, NOW, &why), 0);
	free(tok);

	/* NumericDate may be a real number */
	tok = mint(JWT_ALG_HS256, "hmac.secret", NULL, "{\"iss\":\"" ISS
		   "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":1800000600.5}");
	assert_int_equal(verify(tok, &pol, NOW, &why), 0);
	free(tok);

	auth_keyset_free(ks);
}


/* ---- claims ----------------------------------------------------------- */

static void test_issuer_audience(void **state)
{
	struct auth_keyset *ks = load("rsa.pub");
	struct auth_jwt_policy pol = policy(ks, algs_rs);
	char *claims = claims_exp(NOW + 60);
	char *tok = mint(JWT_ALG_RS256, "rsa.key", NULL, claims);
	const char *why;
	(void)state;

	pol.issuer = "https://evil.example.org";
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "wrong issuer");
	pol.issuer = ISS;
	pol.audience = "someone-else";
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "wrong audience");
	pol.audience = NULL;
	assert_int_equal(verify(tok, &pol, NOW, &why), 0);
	free(tok);

	tok = mint(JWT_ALG_RS256, "rsa.key", NULL, "{\"iss\":\"" ISS "\","
		   "\"aud\":[\"x\",\"" AUD "\"],\"sub\":\"a\",\"exp\":1800000600}");
	pol.audience = AUD;
	assert_int_equal(verify(tok, &pol, NOW, &why), 0);
	pol.audience = "y";
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "wrong audience");
	free(tok);

	tok = mint(JWT_ALG_RS256, "rsa.key", NULL, "{\"iss\":\"" ISS "\","
		   "\"sub\":\"a\",\"exp\":1800000600}");
	pol.audience = AUD;  /* no aud at all */
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "wrong audience");
	free(tok);

	free(claims);
	auth_keyset_free(ks);
}


static int verify_claims(const char *claims, struct auth_claims *c,
			 const char **why)
{
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	char *tok = mint(JWT_ALG_HS256, "hmac.secret", NULL, claims);
	int err = auth_jwt_verify(tok, &pol, NOW, c, why);

	free(tok);
	auth_keyset_free(ks);
	return err;
}


static void test_sub_impu_exp(void **state)
{
	struct auth_claims c;
	const char *why;
	char *claims, big[400];
	(void)state;

#define BASE "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""
	assert_refused(verify_claims("{" BASE ",\"exp\":1800000600}", &c, &why),
		       why, EPERM, "missing sub");
	assert_refused(verify_claims("{" BASE ",\"sub\":\"\",\"exp\":1800000600}",
				     &c, &why), why, EPERM, "missing sub");
	assert_refused(verify_claims("{" BASE ",\"sub\":7,\"exp\":1800000600}",
				     &c, &why), why, EPERM, "missing sub");
	assert_refused(verify_claims("{" BASE ",\"sub\":\"a\"}", &c, &why),
		       why, EPERM, "token has no exp");
	assert_refused(verify_claims("{" BASE ",\"sub\":\"a\",\"exp\":\"soon\"}",
				     &c, &why), why, EBADMSG,
		       "malformed exp or nbf");

	assert_int_equal(verify_claims("{" BASE ",\"sub\":\"a\",\"impu\":"
		"\"sip:a@example.org\",\"exp\":1800000600}", &c, &why), 0);
	assert_string_equal(c.impu, "sip:a@example.org");
	assert_int_equal(c.exp, 1800000600L);
	assert_int_equal(verify_claims("{" BASE ",\"sub\":\"a\","
				       "\"exp\":1800000600}", &c, &why), 0);
	assert_string_equal(c.impu, "");

	/* too long: refused, never truncated */
	memset(big, 'x', 300);
	big[300] = '\0';
	assert_true(asprintf(&claims, "{" BASE ",\"sub\":\"%s\",\"exp\":"
			     "1800000600}", big) > 0);
	assert_refused(verify_claims(claims, &c, &why), why, EPERM,
		       "sub too long");
	assert_string_equal(c.sub, "");
	free(claims);
	assert_true(asprintf(&claims, "{" BASE ",\"sub\":\"a\",\"impu\":\"%s\","
			     "\"exp\":1800000600}", big) > 0);
	assert_refused(verify_claims(claims, &c, &why), why, EPERM,
		       "impu too long");
	free(claims);
#undef BASE
}


/* ---- hostile tokens --------------------------------------------------- */

static void test_wrong_key(void **state)
{
	const char *why;
	char *claims = claims_exp(NOW + 60), *tok;
	struct auth_keyset *ks;
	struct auth_jwt_policy pol;
	(void)state;

	assert_refused(roundtrip(JWT_ALG_ES256, "ec2.key", NULL, "ec1.pub",
				 algs_es, &why), why, EKEYREJECTED,
		       "bad signature");

	/* HS256 with another secret of the same length */
	ks = load("hmac.secret");
	pol = policy(ks, algs_hs);
	tok = mint_key(JWT_ALG_HS256, "ffffffffffffffffffffffffffffffff"
		       "ffffffffffffffffffffffffffffffff", 64, NULL, claims);
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	free(tok);
	auth_keyset_free(ks);

	/* RS256 with its claims swapped for others */
	ks = load("rsa.pub");
	pol = policy(ks, algs_rs);
	tok = mint(JWT_ALG_RS256, "rsa.key", NULL, claims);
	{
		char *other = craft("{\"alg\":\"RS256\"}", "{\"iss\":\"" ISS
				    "\",\"aud\":\"" AUD "\",\"sub\":\"root\","
				    "\"exp\":1800000060}", "");
		char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
		char *o1 = strchr(other, '.');
		char *forged = NULL;

		assert_true(asprintf(&forged, "%.*s.%.*s%s", (int)(dot1 - tok),
				     tok, (int)(strlen(o1 + 1) - 1), o1 + 1,
				     dot2) > 0);
		assert_refused(verify(forged, &pol, NOW, &why), why,
			       EKEYREJECTED, "bad signature");
		free(forged);
		free(other);
	}
	free(tok);
	auth_keyset_free(ks);
	free(claims);
}


/* HMAC tokens: HS384 and HS512 verify; a flipped MAC byte, other claims
 * under the same MAC, or an HS256 MAC relabelled HS512 are refused. */
static void test_hmac(void **state)
{
	static const char *const algs_h384[] = {"HS384", NULL};
	static const char *const algs_h512[] = {"HS512", NULL};
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	struct auth_jwt_policy p512 = policy(ks, algs_h512);
	char *claims = claims_exp(NOW + 60);
	char *tok, *sig, *forged;
	const char *why;
	(void)state;

	assert_int_equal(roundtrip(JWT_ALG_HS384, "hmac.secret", NULL,
				   "hmac.secret", algs_h384, &why), 0);
	assert_int_equal(roundtrip(JWT_ALG_HS512, "hmac.secret", NULL,
				   "hmac.secret", algs_h512, &why), 0);

	tok = mint(JWT_ALG_HS256, "hmac.secret", NULL, claims);
	assert_int_equal(verify(tok, &pol, NOW, &why), 0);
	sig = strrchr(tok, '.') + 1;
	sig[5] = sig[5] == 'A' ? 'B' : 'A';
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	sig[5] = sig[5] == 'A' ? 'B' : 'A';

	forged = craft("{\"alg\":\"HS256\"}", "{\"iss\":\"" ISS "\",\"aud\":\""
		       AUD "\",\"sub\":\"root\",\"exp\":1800000060}", sig);
	assert_refused(verify(forged, &pol, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	free(forged);

	forged = craft("{\"alg\":\"HS512\"}", claims, sig);
	assert_refused(verify(forged, &p512, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	free(forged);
	free(tok);
	free(claims);
	auth_keyset_free(ks);
}


static void test_alg_none(void **state)
{
	static const char *const algs_none[] = {"none", "HS256", NULL};
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	char *claims = claims_exp(NOW + 60);
	const char *why;
	char *tok;
	(void)state;

	tok = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, "");
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "algorithm none refused");
	pol.algorithms = algs_none;  /* even when misconfigured */
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "algorithm none refused");
	free(tok);

	tok = craft("{\"alg\":\"None\"}", claims, "c2ln");
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "algorithm none refused");
	free(tok);

	free(claims);
	auth_keyset_free(ks);
}


/* HS256 keyed with the RSA public key PEM: the classic confusion attack. */
static void test_alg_confusion(void **state)
{
	struct auth_keyset *ks = load("rsa.pub");
	struct auth_jwt_policy pol = policy(ks, algs_rs_hs);
	char *claims = claims_exp(NOW + 60), *pem, *tok;
	jwt_t *jwt = NULL;
	const char *why;
	size_t plen;
	(void)state;

	pem = slurp(DATA "rsa.pub", &plen);
	pem[plen++] = '\n';  /* the exact file bytes */
	tok = mint_key(JWT_ALG_HS256, pem, plen, NULL, claims);

	/* libjwt alone falls for it: that is what must be prevented */
	assert_int_equal(jwt_decode(&jwt, tok, (unsigned char *)pem,
				    (int)plen), 0);
	jwt_free(jwt);

	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "no key for algorithm");
	pol.algorithms = algs_rs;
	assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
		       "algorithm not allowed");
	free(tok);
	auth_keyset_free(ks);

	/* kid naming the RSA key of a JWKS that also has an HMAC key */
	ks = load("jwks-rsa-oct.json");
	pol = policy(ks, algs_rs_hs);
	tok = mint_key(JWT_ALG_HS256, pem, plen, "rsa-1", claims);
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "key type does not match algorithm");
	free(tok);
	tok = mint(JWT_ALG_RS256, "rsa.key", "hs-1", claims);
	assert_refused(verify(tok, &pol, NOW, &why), why, EKEYREJECTED,
		       "key type does not match algorithm");
	free(tok);

	free(pem);
	free(claims);
	auth_keyset_free(ks);
}


static void test_alg_policy(void **state)
{
	static const char *const algs_es384[] = {"ES384", NULL};
	const char *why;
	(void)state;

	assert_refused(roundtrip(JWT_ALG_HS256, "hmac.secret", NULL,
				 "hmac.secret", algs_rs, &why), why, EPERM,
		       "algorithm not allowed");
	assert_refused(roundtrip(JWT_ALG_ES256, "ec1.key", NULL, "ec1.pub",
				 algs_rs, &why), why, EPERM,
		       "algorithm not allowed");
	assert_refused(roundtrip(JWT_ALG_ES256, "ec1.key", NULL, "rsa.pub",
				 algs_all, &why), why, EKEYREJECTED,
		       "no key for algorithm");
	assert_refused(roundtrip(JWT_ALG_HS384, "hmac.secret", NULL,
				 "hmac.secret", algs_hs, &why), why, EPERM,
		       "algorithm not allowed");
	{
		struct auth_keyset *ks = load("ec1.pub");
		struct auth_jwt_policy pol = policy(ks, algs_es384);
		char *tok = craft("{\"alg\":\"ES384\"}", "{}", "AAAA");

		assert_refused(verify(tok, &pol, NOW, &why), why, EPERM,
			       "algorithm not supported");
		free(tok);
		auth_keyset_free(ks);
	}
}


static void test_malformed_structure(void **state)
{
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	const char *why;
	const char *bad[] = {
		"", ".", "..", "abc", "abc.def", "a.b.c.d",
		"eyJhbGciOiJIUzI1NiJ9..c2ln", ".eyJzdWIiOiJ4In0.c2ln",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIi*iJ4In0.c2ln",  /* bad char */
		"eyJhbGciOiJIUzI1NiJ9=.eyJzdWIiOiJ4In0.c2ln", /* padding */
		"e.eyJzdWIiOiJ4In0.c2ln",                     /* 1 char */
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In1.c2ln",  /* non-canonical */
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2l+",  /* base64, not url */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(verify(bad[i], &pol, NOW, &why), why, EBADMSG,
			       "malformed token");

	assert_int_equal(verify(NULL, &pol, NOW, &why), EINVAL);
	assert_int_equal(auth_jwt_verify(bad[0], NULL, NOW, NULL, NULL),
			 EINVAL);
	auth_keyset_free(ks);
}


static void test_malformed_json(void **state)
{
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	char *claims = claims_exp(NOW + 60);
	const char *why;
	const char *heads[] = {
		"{\"alg\":\"HS256\"",  /* bad JSON */
		"[\"HS256\"]",  /* not an object */
		"{\"alg\":\"HS256\",\"alg\":\"none\"}",  /* duplicate */
		"{\"typ\":\"JWT\"}",  /* no alg */
		"{\"alg\":\"HS256\",\"kid\":5}",
		"{\"alg\":\"HS256\",\"crit\":[\"b64\"]}",
		"{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",  /* libjwt: JWT only */
	};
	char *t;
	(void)state;

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		t = craft(heads[i], claims, "c2ln");
		assert_int_equal(verify(t, &pol, NOW, &why), EBADMSG);
		free(t);
	}

	t = craft("{\"alg\":\"HS256\"}", "not json", "c2ln");
	assert_refused(verify(t, &pol, NOW, &why), why, EBADMSG,
		       "malformed token");
	free(t);

	free(claims);
	auth_keyset_free(ks);
}


static void test_malformed_size(void **state)
{
	struct auth_keyset *ks = load("hmac.secret");
	struct auth_jwt_policy pol = policy(ks, algs_hs);
	char *claims = claims_exp(NOW + 60);
	char *good = mint(JWT_ALG_HS256, "hmac.secret", NULL, claims);
	char *huge = malloc(9001), *t;
	const char *why;
	(void)state;

	/* signature of the wrong size; empty signature */
	assert_true(asprintf(&t, "%sAA", good) > 0);
	assert_refused(verify(t, &pol, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	*strrchr(t, '.') = '\0';
	strcat(t, ".");
	assert_refused(verify(t, &pol, NOW, &why), why, EKEYREJECTED,
		       "bad signature");
	free(t);

	assert_non_null(huge);
	memset(huge, 'A', 9000);
	huge[9000] = '\0';
	assert_refused(verify(huge, &pol, NOW, &why), why, EPERM,
		       "token too large");
	pol.max_token_size = strlen(good) - 1;
	assert_refused(verify(good, &pol, NOW, &why), why, EPERM,
		       "token too large");
	pol.max_token_size = strlen(good);
	assert_int_equal(verify(good, &pol, NOW, &why), 0);

	free(huge);
	free(good);
	free(claims);
	auth_keyset_free(ks);
}


static void test_peek_issuer(void **state)
{
	char *claims = claims_exp(NOW + 60);
	char *tok = mint(JWT_ALG_ES256, "ec1.key", NULL, claims);
	char iss[64], small[8];
	(void)state;

	assert_int_equal(auth_jwt_peek_issuer(tok, iss, sizeof(iss)), 0);
	assert_string_equal(iss, ISS);
	assert_int_equal(auth_jwt_peek_issuer(tok, small, sizeof(small)),
			 EBADMSG);
	assert_string_equal(small, "");
	free(tok);

	tok = craft("{\"alg\":\"none\"}", "{\"sub\":\"x\"}", "");
	assert_int_equal(auth_jwt_peek_issuer(tok, iss, sizeof(iss)), EBADMSG);
	free(tok);
	tok = craft("{\"alg\":\"none\"}", "{\"iss\":[1]}", "");
	assert_int_equal(auth_jwt_peek_issuer(tok, iss, sizeof(iss)), EBADMSG);
	free(tok);
	assert_int_equal(auth_jwt_peek_issuer("garbage", iss, sizeof(iss)),
			 EBADMSG);
	assert_int_equal(auth_jwt_peek_issuer(NULL, iss, sizeof(iss)), EBADMSG);
	free(claims);
}


/* What the pick callback of auth_jwt_verify_pick() saw and gives. */
struct pick {
	struct auth_jwt_policy pol;
	char seen[64];
	int calls;
};

static int pick_policy(void *arg, const char *iss,
		       struct auth_jwt_policy *pol, const char **why)
{
	struct pick *pk = arg;

	pk->calls++;
	snprintf(pk->seen, sizeof(pk->seen), "%s", iss);
	if (strcmp(iss, ISS)) {
		*why = "issuer not known here";
		return EPERM;
	}
	*pol = pk->pol;
	return 0;
}


static void test_verify_pick(void **state)
{
	struct auth_keyset *ks = load("ec1.pub");
	struct pick pk = { .pol = policy(ks, algs_es) };
	char *claims = claims_exp(NOW + 60);
	char *tok = mint(JWT_ALG_ES256, "ec1.key", NULL, claims);
	char *other = mint(JWT_ALG_ES256, "ec2.key", NULL, claims);
	struct auth_claims c;
	const char *why;
	(void)state;

	/* one decode: the policy comes from the token's own iss */
	assert_int_equal(auth_jwt_verify_pick(tok, pick_policy, &pk, NOW, &c,
					      &why), 0);
	assert_int_equal(pk.calls, 1);
	assert_string_equal(pk.seen, ISS);
	assert_string_equal(c.sub, "alice");
	assert_null(why);

	/* the picked policy still checks the signature and the times */
	assert_int_equal(auth_jwt_verify_pick(other, pick_policy, &pk, NOW, &c,
					      &why), EKEYREJECTED);
	assert_string_equal(why, "bad signature");
	assert_string_equal(c.sub, "");
	assert_int_equal(auth_jwt_verify_pick(tok, pick_policy, &pk, NOW + 600,
					      &c, &why), EKEYEXPIRED);

	/* the caller's refusal and reason come back as they are */
	free(tok);
	tok = craft("{\"alg\":\"ES256\"}", "{\"iss\":\"https://else\"}", "x");
	assert_int_equal(auth_jwt_verify_pick(tok, pick_policy, &pk, NOW, &c,
					      &why), EPERM);
	assert_string_equal(why, "issuer not known here");
	assert_string_equal(pk.seen, "https://else");

	/* no string iss: malformed, and nobody is asked */
	free(tok);
	pk.calls = 0;
	tok = craft("{\"alg\":\"ES256\"}", "{\"iss\":[1]}", "x");
	assert_int_equal(auth_jwt_verify_pick(tok, pick_policy, &pk, NOW, &c,
					      &why), EBADMSG);
	assert_int_equal(pk.calls, 0);

	/* the picked policy's size limit holds */
	free(tok);
	tok = mint(JWT_ALG_ES256, "ec1.key", NULL, claims);
	pk.pol.max_token_size = 32;
	assert_int_equal(auth_jwt_verify_pick(tok, pick_policy, &pk, NOW, &c,
					      &why), EPERM);
	assert_string_equal(why, "token too large");
	assert_int_equal(auth_jwt_verify_pick(tok, NULL, &pk, NOW, &c, &why),
			 EINVAL);

	free(other);
	free(tok);
	free(claims);
	auth_keyset_free(ks);
}


/* ---- Bearer ----------------------------------------------------------- */

static void test_bearer(void **state)
{
	static const char jwt[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
	const char *p1[] = {jwt, NULL};
	const char *p2[] = {"access_token=\"eyJhbGciOiJFUzI1NiJ9."
			    "eyJzdWIiOiJ4In0.c2ln\"", NULL};
	const char *p3[] = {"realm=\"x\"", "Access_Token=abc.def-_.ghi", NULL};
	const char *junk[][3] = {
		{"", NULL}, {"abc def", NULL}, {"abc+/def", NULL},
		{"eyJ.a.b=", NULL}, {jwt, "realm=\"x\"", NULL},
		{"access_token=\"\"", NULL}, {"access_token=", NULL},
		{"access_token=\"abc", NULL}, {"access_token=\"a b\"", NULL},
		{"access_token=\"a\"", "access_token=\"b\"", NULL},
		{"realm=\"x\"", NULL}, {"token=\"abc\"", NULL},
	};
	const char *t;
	size_t len = 0;
	(void)state;

	t = auth_bearer_find(p1, &len);
	assert_ptr_equal(t, jwt);
	assert_int_equal(len, strlen(jwt));

	t = auth_bearer_find(p2, &len);
	assert_non_null(t);
	assert_int_equal(len, strlen(jwt));
	assert_memory_equal(t, jwt, len);
	assert_ptr_equal(t, p2[0] + strlen("access_token=\""));

	t = auth_bearer_find(p3, &len);
	assert_non_null(t);
	assert_int_equal(len, 13);
	assert_memory_equal(t, "abc.def-_.ghi", 13);

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_null(auth_bearer_find(junk[i], &len));

	assert_null(auth_bearer_find(NULL, &len));
	assert_null(auth_bearer_find((const char *[]){NULL}, &len));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_formats),
		cmocka_unit_test(test_keys_bad_secrets),
		cmocka_unit_test(test_keys_bad_jwks),
		cmocka_unit_test(test_hs256_good),
		cmocka_unit_test(test_rs256_es256_good),
		cmocka_unit_test(test_interop_node),
		cmocka_unit_test(test_jwks_rotation),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_not_before),
		cmocka_unit_test(test_issuer_audience),
		cmocka_unit_test(test_sub_impu_exp),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_alg_confusion),
		cmocka_unit_test(test_alg_policy),
		cmocka_unit_test(test_malformed_structure),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_malformed_size),
		cmocka_unit_test(test_peek_issuer),
		cmocka_unit_test(test_verify_pick),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_bearer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
