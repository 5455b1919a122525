/**
 * @file fuzz_jwt.c  libFuzzer harness for JWT handling in auth/: the
 * input is
 *   - a token (anything not starting with '{' or '-'), verified with
 *     auth_jwt_verify() against the test keys of tests/data/jwt (HS256
 *     secret, JWKS of EC and of RSA + oct keys, RSA and EC PEM keys) under
 *     several policies (and by auth_jwt_verify_pick() with each policy
 *     picked by the token's iss), and read by auth_jwt_peek_issuer();
 *   - or a key file (JWKS '{...}' or PEM '-----BEGIN'), loaded with
 *     auth_keyset_load() and used to verify the test tokens.
 * What must hold: a refusal says why and leaves the claims empty; an
 * accepted token has a non-empty sub and the policy's issuer; and a token
 * signed by auth_jwt_sign_hs256() for a subject taken from the input
 * verifies back to that subject.
 */
#include "auth/auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WTPF_TEST_DATA
#error "WTPF_TEST_DATA must name tests/data"
#endif

#define NOW 1800000000L     /* 2027: the test tokens are valid then */

enum { K_HMAC, K_JWKS_EC, K_JWKS_RSA_OCT, K_RSA_PEM, K_EC_PEM, K_N };

static const char *const key_files[K_N] = {
	"hmac.secret", "jwks-ec.json", "jwks-rsa-oct.json", "rsa.pub", "ec1.pub",
};

static struct auth_keyset *keys[K_N];
static char *tokens[2];      /* node-es256.jwt, node-rs256.jwt */
static char tmp_path[64];

static const char *const alg_hs[] = { "HS256", NULL };
static const char *const alg_es[] = { "ES256", NULL };
static const char *const alg_all[] = { "HS256", "HS384", "HS512", "RS256",
				       "RS384", "RS512", "ES256", NULL };
static const char *const alg_none[] = { "none", NULL };

static void fixture_free(void)
{
	for (int i = 0; i < K_N; i++)
		auth_keyset_free(keys[i]);
	free(tokens[0]);
	free(tokens[1]);
	if (tmp_path[0])
		unlink(tmp_path);
}

static char *file_text(const char *name)
{
	char path[512], *buf = calloc(1, 8192);
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/jwt/%s", WTPF_TEST_DATA, name);
	fp = fopen(path, "r");
	if (!fp || !buf)
		abort();
	n = fread(buf, 1, 8191, fp);
	fclose(fp);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

static void fixture_init(void)
{
	char path[512];
	const char *why;
	int fd;

	for (int i = 0; i < K_N; i++) {
		snprintf(path, sizeof path, "%s/jwt/%s", WTPF_TEST_DATA, key_files[i]);
		if (auth_keyset_load(&keys[i], path, &why)) {
			fprintf(stderr, "%s: %s\n", path, why);
			abort();
		}
	}
	tokens[0] = file_text("node-es256.jwt");
	tokens[1] = file_text("node-rs256.jwt");
	snprintf(tmp_path, sizeof tmp_path, "%s/wtpf-fuzz-key-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	fd = mkstemp(tmp_path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(fixture_free);
}

static bool claims_empty(const struct auth_claims *c)
{
	static const struct auth_claims zero;

	return !memcmp(c, &zero, sizeof zero);
}

/* auth_jwt_pick_f: the one policy, for its own issuer only. */
static int pick_one(void *arg, const char *iss, struct auth_jwt_policy *pol,
		    const char **why)
{
	const struct auth_jwt_policy *one = arg;

	if (strcmp(iss, one->issuer)) {
		*why = "other issuer";
		return EPERM;
	}
	*pol = *one;
	return 0;
}

/* The policy picked by iss accepts what the policy given accepts (@p err,
 * @p c: auth_jwt_verify()'s result), and only that. */
static void verify_pick(const char *token, const struct auth_jwt_policy *pol,
			int err, const struct auth_claims *c)
{
	struct auth_jwt_policy copy = *pol;
	struct auth_claims cp;
	const char *why = NULL;
	int e = auth_jwt_verify_pick(token, pick_one, &copy, NOW, &cp, &why);

	if (e && (!why || !claims_empty(&cp)))
		abort();
	if (!e != !err || (!e && memcmp(c, &cp, sizeof cp)))
		abort();
}

static void verify(const char *token, const struct auth_keyset *ks,
		   const char *iss, const char *aud, const char *const *algs)
{
	struct auth_jwt_policy pol = {
		.issuer = iss, .audience = aud, .algorithms = algs, .keys = ks,
		.clock_skew = 30,
	};
	struct auth_claims c;
	const char *why = NULL;
	int err = auth_jwt_verify(token, &pol, NOW, &c, &why);

	if (err && (!why || !claims_empty(&c)))
		abort();
	if (!err && (why || !c.sub[0] || strcmp(c.iss, iss) ||
		     !memchr(c.impu, '\0', sizeof c.impu)))
		abort();
	if (!err && !strcmp(algs[0], "none"))
		abort();     /* only possible if "none" were accepted */
	verify_pick(token, &pol, err, &c);
}

static void token_case(const char *token)
{
	char iss[256];

	(void)auth_jwt_peek_issuer(token, iss, sizeof iss);
	verify(token, keys[K_HMAC], "https://idp.acme.example.com", "wtpf", alg_hs);
	verify(token, keys[K_HMAC], "https://idp.example.org", NULL, alg_all);
	verify(token, keys[K_HMAC], "https://idp.example.org", NULL, alg_none);
	verify(token, keys[K_JWKS_EC], "https://idp.example.org", "wtpf", alg_es);
	verify(token, keys[K_JWKS_RSA_OCT], "https://idp.example.org", "other",
	       alg_all);
	verify(token, keys[K_RSA_PEM], "https://idp.example.org", NULL, alg_all);
	verify(token, keys[K_EC_PEM], "https://idp.example.org", NULL, alg_all);
}

/* The input as a key file: loaded, then the test tokens against it. */
static void keyfile_case(const uint8_t *data, size_t size)
{
	struct auth_keyset *ks = NULL;
	const char *why = NULL;
	FILE *fp = fopen(tmp_path, "wb");

	if (!fp)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (auth_keyset_load(&ks, tmp_path, &why)) {
		if (!why)
			abort();
		return;
	}
	verify(tokens[0], ks, "https://idp.example.org", "wtpf", alg_all);
	verify(tokens[1], ks, "https://idp.example.org", "wtpf", alg_all);
	auth_keyset_free(ks);
}

/* Signs for a subject from the input: it must verify back to it. */
static void sign_case(const uint8_t *data, size_t size)
{
	struct auth_jwt_policy pol = {
		.issuer = "https://idp.acme.example.com", .audience = "wtpf",
		.algorithms = alg_hs, .keys = keys[K_HMAC],
	};
	struct auth_claims c;
	char sub[200], *tok;
	const char *why = NULL;
	size_t n = size < sizeof sub - 1 ? size : sizeof sub - 1;

	memcpy(sub, data, n);
	sub[n] = '\0';
	if (!sub[0] || strlen(sub) != n)
		return;
	tok = auth_jwt_sign_hs256(keys[K_HMAC], pol.issuer, pol.audience, sub,
				  "sip:+4930123400001@acme.example.com", NOW, 60);
	if (!tok)
		return;      /* not a JSON string (invalid UTF-8) */
	if (auth_jwt_verify(tok, &pol, NOW, &c, &why) || strcmp(c.sub, sub)) {
		fprintf(stderr, "signed for '%s', verified: %s\n", sub,
			why ? why : c.sub);
		abort();
	}
	free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token;

	if (!keys[0])
		fixture_init();
	if (size && (data[0] == '{' || data[0] == '-')) {
		keyfile_case(data, size);
		return 0;
	}
	token = malloc(size + 1);
	if (!token)
		return 0;
	memcpy(token, data, size);
	token[size] = '\0';
	token_case(token);
	free(token);
	sign_case(data, size);
	return 0;
}
