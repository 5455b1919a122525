/**
 * @file test_auth_digest.c  SIP digest: RFC 7616 vectors, challenge and
 * verification, nonce table, parsing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

#define RFC_USER   "Mufasa"
#define RFC_PASS   "Circle of Life"
#define RFC_REALM  "http-auth@example.org"
#define RFC_URI    "/dir/index.html"
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

#define REALM "example.org"
#define T0    ((time_t)1700000000)

/* ---- RFC 7616 section 3.9.1 ------------------------------------------ */

static void rfc_vector(enum auth_digest_alg alg, const char *ha1_expect,
		       const char *resp_expect)
{
	char ha1[65], resp[65];

	assert_int_equal(auth_digest_ha1(alg, RFC_USER, RFC_REALM, RFC_PASS,
					 ha1), 0);
	assert_string_equal(ha1, ha1_expect);
	assert_int_equal(auth_digest_response(alg, ha1, RFC_NONCE, "00000001",
					      RFC_CNONCE, "auth", "GET",
					      RFC_URI, resp), 0);
	assert_string_equal(resp, resp_expect);
}

static void test_rfc7616_md5(void **state)
{
	(void)state;
	rfc_vector(AUTH_DIGEST_MD5, "3d78807defe7de2157e2b0b6573a855f",
		   "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_rfc7616_sha256(void **state)
{
	(void)state;
	rfc_vector(AUTH_DIGEST_SHA256,
		   "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
		   "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* The Authorization header of the RFC's SHA-256 example, as Sofia splits it. */
static void test_rfc7616_parse(void **state)
{
	const char *params[] = {
		"username=\"" RFC_USER "\"", "realm=\"" RFC_REALM "\"",
		"uri=\"" RFC_URI "\"", "algorithm=SHA-256",
		"nonce=\"" RFC_NONCE "\"", "nc=00000001",
		"cnonce=\"" RFC_CNONCE "\"", "qop=auth",
		"response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\"",
		"opaque=\"" RFC_OPAQUE "\"", NULL,
	};
	struct auth_digest_cred c;
	const char *why = "unset";

	(void)state;
	assert_int_equal(auth_digest_parse(params, &c, &why), 0);
	assert_null(why);
	assert_int_equal(c.alg, AUTH_DIGEST_SHA256);
	assert_string_equal(c.username, RFC_USER);
	assert_string_equal(c.realm, RFC_REALM);
	assert_string_equal(c.uri, RFC_URI);
	assert_string_equal(c.nonce, RFC_NONCE);
	assert_string_equal(c.cnonce, RFC_CNONCE);
	assert_string_equal(c.nc, "00000001");
	assert_string_equal(c.qop, "auth");
	assert_string_equal(c.opaque, RFC_OPAQUE);
}

/* ---- helpers --------------------------------------------------------- */

/** Copies the nonce of a challenge header value into @p nonce. */
static void challenge_nonce(const char *chal, char *nonce, size_t size)
{
	const char *p = strstr(chal, "nonce=\""), *e;

	assert_non_null(p);
	p += strlen("nonce=\"");
	e = strchr(p, '"');
	assert_non_null(e);
	assert_true((size_t)(e - p) < size);
	memcpy(nonce, p, (size_t)(e - p));
	nonce[e - p] = '\0';
}

/** Issues a challenge and returns its nonce. */
static void issue(struct auth_digest *d, const char *realm,
		  enum auth_digest_alg alg, time_t now, char nonce[256])
{
	char chal[512];

	assert_int_equal(auth_digest_challenge(d, realm, alg, false, now, chal,
					       sizeof chal), 0);
	challenge_nonce(chal, nonce, 256);
}

/**
 * What a client does: computes the response with @p password and sends
 * the Authorization parameters, which are parsed into @p c.
 */
static void client_answer(enum auth_digest_alg alg, const char *realm,
			  const char *nonce, unsigned nc, const char *password,
			  struct auth_digest_cred *c)
{
	char ha1[65], resp[65], p_nonce[300], p_nc[16], p_resp[80], p_realm[300];
	const char *params[] = {
		"username=\"alice\"", p_realm, p_nonce, "uri=\"sip:example.org\"",
		p_resp, alg == AUTH_DIGEST_SHA256 ? "algorithm=SHA-256" :
		"algorithm=MD5", "cnonce=\"0a4f113b\"", p_nc, "qop=auth", NULL,
	};
	const char *why = NULL;

	snprintf(p_nc, sizeof p_nc, "nc=%08x", nc);
	assert_int_equal(auth_digest_ha1(alg, "alice", realm, password, ha1), 0);
	assert_int_equal(auth_digest_response(alg, ha1, nonce, p_nc + 3,
					      "0a4f113b", "auth", "REGISTER",
					      "sip:example.org", resp), 0);
	snprintf(p_realm, sizeof p_realm, "realm=\"%s\"", realm);
	snprintf(p_nonce, sizeof p_nonce, "nonce=\"%s\"", nonce);
	snprintf(p_resp, sizeof p_resp, "response=\"%s\"", resp);
	assert_int_equal(auth_digest_parse(params, c, &why), 0);
}

static int verify_as(struct auth_digest *d, const struct auth_digest_cred *c,
		     const char *realm, time_t now, const char **why)
{
	char ha1[65];

	assert_int_equal(auth_digest_ha1(c->alg, "alice", realm, "secret",
					 ha1), 0);
	return auth_digest_verify(d, c, "REGISTER", ha1, now, why);
}

static int setup(void **state)
{
	struct auth_digest *d = NULL;

	if (auth_digest_create(&d, 300, 16))
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	auth_digest_free(*state);
	return 0;
}

/* ---- challenge ------------------------------------------------------- */

static void test_challenge_format(void **state)
{
	struct auth_digest *d = *state;
	char buf[512], nonce[256];

	assert_int_equal(auth_digest_challenge(d, REALM, AUTH_DIGEST_SHA256,
					       false, T0, buf, sizeof buf), 0);
	assert_true(!strncmp(buf, "Digest realm=\"example.org\", nonce=\"", 35));
	assert_non_null(strstr(buf, "\", algorithm=SHA-256, qop=\"auth\""));
	assert_null(strstr(buf, "stale"));
	challenge_nonce(buf, nonce, sizeof nonce);
	assert_true(strlen(nonce) >= 32);

	assert_int_equal(auth_digest_challenge(d, REALM, AUTH_DIGEST_MD5, true,
					       T0, buf, sizeof buf), 0);
	assert_non_null(strstr(buf, ", algorithm=MD5, qop=\"auth\""));
	assert_non_null(strstr(buf, ", stale=true"));
	assert_int_equal(strlen(strstr(buf, ", stale=true")),
			 strlen(", stale=true"));
}

static void test_challenge_fresh_nonces(void **state)
{
	struct auth_digest *d = *state;
	char n1[256], n2[256];

	issue(d, REALM, AUTH_DIGEST_SHA256, T0, n1);
	issue(d, REALM, AUTH_DIGEST_SHA256, T0, n2);
	assert_string_not_equal(n1, n2);
}

static void test_challenge_errors(void **state)
{
	struct auth_digest *d = *state;
	char buf[512], small[40];

	assert_int_equal(auth_digest_challenge(d, REALM, AUTH_DIGEST_SHA256,
					       false, T0, small, sizeof small),
			 ENOSPC);
	assert_int_equal(auth_digest_challenge(d, "bad\r\nrealm",
					       AUTH_DIGEST_MD5, false, T0, buf,
					       sizeof buf), EINVAL);
	assert_int_equal(auth_digest_challenge(d, "", AUTH_DIGEST_MD5, false,
					       T0, buf, sizeof buf), EINVAL);
	/* A quote in the realm is escaped, not passed through. */
	assert_int_equal(auth_digest_challenge(d, "a\"b", AUTH_DIGEST_MD5,
					       false, T0, buf, sizeof buf), 0);
	assert_true(!strncmp(buf, "Digest realm=\"a\\\"b\", ", 21));
}

static void test_create_errors(void **state)
{
	struct auth_digest *d = NULL;

	(void)state;
	assert_int_equal(auth_digest_create(&d, 0, 10), EINVAL);
	assert_int_equal(auth_digest_create(&d, 10, 0), EINVAL);
	assert_null(d);
	auth_digest_free(NULL);
}

/* ---- verification ---------------------------------------------------- */

static void roundtrip(struct auth_digest *d, enum auth_digest_alg alg)
{
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	issue(d, REALM, alg, T0, nonce);
	client_answer(alg, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 1, &why), 0);
	assert_null(why);

	/* The same request again is a replay. */
	assert_int_equal(verify_as(d, &c, REALM, T0 + 2, &why), EACCES);
	assert_string_equal(why, "nonce count replayed");

	/* The next nc is accepted, an older one is not. */
	client_answer(alg, REALM, nonce, 2, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 3, &why), 0);
	client_answer(alg, REALM, nonce, 5, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 4, &why), 0);
	client_answer(alg, REALM, nonce, 4, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 5, &why), EACCES);
	assert_string_equal(why, "nonce count replayed");
}

static void test_verify_sha256(void **state)
{
	roundtrip(*state, AUTH_DIGEST_SHA256);
}

static void test_verify_md5(void **state)
{
	roundtrip(*state, AUTH_DIGEST_MD5);
}

static void test_verify_wrong_password(void **state)
{
	struct auth_digest *d = *state;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	issue(d, REALM, AUTH_DIGEST_SHA256, T0, nonce);
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "wrong", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), EACCES);
	assert_string_equal(why, "wrong password or response");

	/* A wrong answer does not use up the nonce count. */
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), 0);

	/* Tampering with the signed request is a wrong response too. */
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 2, "secret", &c);
	strcpy(c.uri, "sip:other.org");
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), EACCES);
	assert_string_equal(why, "wrong password or response");
}

static void test_verify_expired(void **state)
{
	struct auth_digest *d = *state;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	issue(d, REALM, AUTH_DIGEST_SHA256, T0, nonce);
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 301, &why), ESTALE);
	assert_string_equal(why, "nonce expired");
	/* Still refused later, when the entry has been pruned. */
	assert_int_equal(verify_as(d, &c, REALM, T0 + 5000, &why), ESTALE);

	/* The last second of the lifetime is still good. */
	issue(d, REALM, AUTH_DIGEST_SHA256, T0 + 1000, nonce);
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 1300, &why), 0);
}

static void test_verify_forged(void **state)
{
	struct auth_digest *d = *state, *other = NULL;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	issue(d, REALM, AUTH_DIGEST_SHA256, T0, nonce);

	/* One character changed. */
	nonce[10] = nonce[10] == 'A' ? 'B' : 'A';
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), ESTALE);
	assert_non_null(why);

	/* Made up, and the RFC's. */
	client_answer(AUTH_DIGEST_SHA256, REALM, RFC_NONCE, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), ESTALE);
	client_answer(AUTH_DIGEST_SHA256, REALM, "x", 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), ESTALE);

	/* Issued by another verifier (another process key). */
	assert_int_equal(auth_digest_create(&other, 300, 4), 0);
	issue(other, REALM, AUTH_DIGEST_SHA256, T0, nonce);
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), ESTALE);
	auth_digest_free(other);
}

static void test_verify_other_realm(void **state)
{
	struct auth_digest *d = *state;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	issue(d, "tenant-a.org", AUTH_DIGEST_SHA256, T0, nonce);
	client_answer(AUTH_DIGEST_SHA256, "tenant-b.org", nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, "tenant-b.org", T0, &why), ESTALE);
}

static void test_verify_other_algorithm(void **state)
{
	struct auth_digest *d = *state;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	/* Challenged with SHA-256, answered with MD5: a downgrade. */
	issue(d, REALM, AUTH_DIGEST_SHA256, T0, nonce);
	client_answer(AUTH_DIGEST_MD5, REALM, nonce, 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0, &why), EACCES);
	assert_string_equal(why, "algorithm differs from the challenge");
}

static void test_verify_bad_ha1(void **state)
{
	struct auth_digest *d = *state;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[256];

	issue(d, REALM, AUTH_DIGEST_SHA256, T0, nonce);
	client_answer(AUTH_DIGEST_SHA256, REALM, nonce, 1, "secret", &c);
	/* An MD5 HA1 for a SHA-256 answer. */
	assert_int_equal(auth_digest_verify(d, &c, "REGISTER",
					    "3d78807defe7de2157e2b0b6573a855f",
					    T0, &why), EINVAL);
	assert_int_equal(auth_digest_verify(NULL, &c, "REGISTER", "00", T0,
					    &why), EINVAL);
}

static void test_table_overflow(void **state)
{
	struct auth_digest *d = NULL;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[5][256];

	(void)state;
	assert_int_equal(auth_digest_create(&d, 300, 3), 0);
	for (int i = 0; i < 5; i++)
		issue(d, REALM, AUTH_DIGEST_SHA256, T0 + i, nonce[i]);

	/* The two oldest were dropped; the last three are remembered. */
	for (int i = 0; i < 5; i++) {
		client_answer(AUTH_DIGEST_SHA256, REALM, nonce[i], 1, "secret",
			      &c);
		assert_int_equal(verify_as(d, &c, REALM, T0 + 10, &why),
				 i < 2 ? ESTALE : 0);
		if (i < 2)
			assert_string_equal(why, "nonce no longer remembered");
	}
	auth_digest_free(d);
}

static void test_table_prune(void **state)
{
	struct auth_digest *d = NULL;
	struct auth_digest_cred c;
	const char *why = NULL;
	char nonce[4][256];

	(void)state;
	assert_int_equal(auth_digest_create(&d, 10, 2), 0);
	issue(d, REALM, AUTH_DIGEST_MD5, T0, nonce[0]);
	issue(d, REALM, AUTH_DIGEST_MD5, T0 + 5, nonce[1]);
	/* nonce[0] expired and pruned: its slot goes to nonce[2] and nonce[1]
	 * is kept. nonce[3] then drops nonce[1], the oldest. */
	issue(d, REALM, AUTH_DIGEST_MD5, T0 + 11, nonce[2]);
	client_answer(AUTH_DIGEST_MD5, REALM, nonce[1], 1, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 12, &why), 0);
	issue(d, REALM, AUTH_DIGEST_MD5, T0 + 12, nonce[3]);
	client_answer(AUTH_DIGEST_MD5, REALM, nonce[1], 2, "secret", &c);
	assert_int_equal(verify_as(d, &c, REALM, T0 + 12, &why), ESTALE);
	for (int i = 2; i < 4; i++) {
		client_answer(AUTH_DIGEST_MD5, REALM, nonce[i], 1, "secret", &c);
		assert_int_equal(verify_as(d, &c, REALM, T0 + 13, &why), 0);
	}
	auth_digest_free(d);
}

/* ---- parsing --------------------------------------------------------- */

#define P_USER   "username=\"alice\""
#define P_REALM  "realm=\"example.org\""
#define P_NONCE  "nonce=\"abc\""
#define P_URI    "uri=\"sip:example.org\""
#define P_RESP   "response=\"0123456789abcdef0123456789abcdef\""
#define P_CNONCE "cnonce=\"xyz\""
#define P_NC     "nc=00000001"
#define P_QOP    "qop=auth"

/** Parses @p params, expecting EBADMSG with @p why_expect. */
static void parse_refused(const char *const *params, const char *why_expect)
{
	struct auth_digest_cred c;
	const char *why = NULL;

	assert_int_equal(auth_digest_parse(params, &c, &why), EBADMSG);
	assert_non_null(why);
	if (why_expect)
		assert_string_equal(why, why_expect);
}

static void test_parse_ok_variants(void **state)
{
	const char *params[] = {
		"USERNAME=alice", "Realm=\"ex\\\"ample\"", "nonce=abc",
		"uri=\"sip:example.org\"",
		"response=0123456789ABCDEF0123456789ABCDEF", "cnonce=xyz",
		"NC=0000000a", "qop=\"auth\"", "algorithm=md5", "userhash=false",
		"future-param=\"whatever\"", NULL,
	};
	struct auth_digest_cred c;
	const char *why = NULL;

	(void)state;
	assert_int_equal(auth_digest_parse(params, &c, &why), 0);
	assert_string_equal(c.username, "alice");
	assert_string_equal(c.realm, "ex\"ample");
	assert_string_equal(c.qop, "auth");
	assert_string_equal(c.nc, "0000000a");
	assert_string_equal(c.response, "0123456789abcdef0123456789abcdef");
	assert_string_equal(c.opaque, "");
	assert_int_equal(c.alg, AUTH_DIGEST_MD5);
}

static void test_parse_missing(void **state)
{
	(void)state;
	parse_refused((const char *[]){ P_REALM, P_NONCE, P_URI, P_RESP,
		P_CNONCE, P_NC, P_QOP, NULL }, "username missing");
	parse_refused((const char *[]){ P_USER, P_NONCE, P_URI, P_RESP,
		P_CNONCE, P_NC, P_QOP, NULL }, "realm missing");
	parse_refused((const char *[]){ P_USER, P_REALM, P_URI, P_RESP,
		P_CNONCE, P_NC, P_QOP, NULL }, "nonce missing");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_RESP,
		P_CNONCE, P_NC, P_QOP, NULL }, "uri missing");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_CNONCE, P_NC, P_QOP, NULL }, "response missing");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_NC, P_QOP, NULL }, "cnonce missing");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_QOP, NULL }, "nc missing");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, NULL },
		"qop missing (RFC 2069 digest not supported)");
	parse_refused((const char *[]){ "username=\"\"", P_REALM, P_NONCE,
		P_URI, P_RESP, P_CNONCE, P_NC, P_QOP, NULL }, "username missing");
	parse_refused((const char *[]){ NULL }, "username missing");
	parse_refused(NULL, NULL);
}

static void test_parse_bad_nc(void **state)
{
	const char *bad[] = { "nc=1", "nc=0000001", "nc=000000001",
			      "nc=0000000g", "nc=00000000", "nc=\"\"", NULL };

	(void)state;
	for (int i = 0; bad[i]; i++)
		parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
			P_RESP, P_CNONCE, bad[i], P_QOP, NULL },
			i == 5 ? "nc missing" : i == 2 ? "nc too long" :
			"nc is not 8 hex digits above zero");
}

static void test_parse_unsupported(void **state)
{
	(void)state;
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, "qop=auth-int", NULL },
		"auth-int not supported");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, "qop=other", NULL }, "unsupported qop");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, P_QOP, "algorithm=SHA-512-256", NULL },
		"unsupported algorithm");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, P_QOP, "algorithm=MD5-sess", NULL },
		"session algorithms (-sess) not supported");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, P_QOP, "algorithm=SHA-256-sess", NULL },
		"session algorithms (-sess) not supported");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, P_QOP,
		"algorithm=a-very-long-algorithm-name-indeed-yes", NULL },
		"unsupported algorithm");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, P_QOP, "userhash=true", NULL },
		"userhash not supported (usernames are sent in clear)");
	/* An MD5-sized response with SHA-256. */
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		P_RESP, P_CNONCE, P_NC, P_QOP, "algorithm=SHA-256", NULL },
		"response is not a hex digest of the algorithm's size");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI,
		"response=\"0123456789abcdef0123456789abcdeg\"", P_CNONCE, P_NC,
		P_QOP, NULL },
		"response is not a hex digest of the algorithm's size");
}

static void test_parse_junk(void **state)
{
	(void)state;
	parse_refused((const char *[]){ P_USER, "junk", P_REALM, NULL },
		      "malformed parameter");
	parse_refused((const char *[]){ "=x", NULL }, "malformed parameter");
	parse_refused((const char *[]){ "username=\"alice", NULL },
		      "malformed parameter value");
	parse_refused((const char *[]){ "username=\"alice\"x", NULL },
		      "malformed parameter value");
	parse_refused((const char *[]){ "username=al ice", NULL },
		      "malformed parameter value");
	parse_refused((const char *[]){ "username=\"a\\", NULL },
		      "malformed parameter value");
	parse_refused((const char *[]){ "username=\"a\r\nb\"", NULL },
		      "malformed parameter value");
	parse_refused((const char *[]){ P_USER, "Username=\"bob\"", NULL },
		      "duplicate parameter");
	parse_refused((const char *[]){ "algorithm=MD5", "algorithm=SHA-256",
					NULL }, "duplicate parameter");
}

static void test_parse_too_long(void **state)
{
	char user[300], uri[600];

	(void)state;
	/* 255 characters fit, 256 do not: refused, never truncated. */
	snprintf(user, sizeof user, "username=%0255d", 0);
	parse_refused((const char *[]){ user, P_NONCE, P_URI, P_RESP, P_CNONCE,
		P_NC, P_QOP, NULL }, "realm missing");
	snprintf(user, sizeof user, "username=%0256d", 0);
	parse_refused((const char *[]){ user, P_REALM, P_NONCE, P_URI, P_RESP,
		P_CNONCE, P_NC, P_QOP, NULL }, "username too long");
	snprintf(uri, sizeof uri, "uri=\"sip:%0520d\"", 0);
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, uri, P_RESP,
		P_CNONCE, P_NC, P_QOP, NULL }, "uri too long");
	parse_refused((const char *[]){ P_USER, P_REALM, P_NONCE, P_URI, P_RESP,
		P_CNONCE, P_NC, "qop=\"auth-int-and-more-and-more\"", NULL },
		"qop too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_rfc7616_parse),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test_setup_teardown(test_challenge_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_fresh_nonces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_md5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_wrong_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_other_realm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_other_algorithm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_bad_ha1, setup, teardown),
		cmocka_unit_test(test_table_overflow),
		cmocka_unit_test(test_table_prune),
		cmocka_unit_test(test_parse_ok_variants),
		cmocka_unit_test(test_parse_missing),
		cmocka_unit_test(test_parse_bad_nc),
		cmocka_unit_test(test_parse_unsupported),
		cmocka_unit_test(test_parse_junk),
		cmocka_unit_test(test_parse_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
