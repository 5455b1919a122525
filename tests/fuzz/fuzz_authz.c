/**
 * @file fuzz_authz.c  libFuzzer harness for the Authorization header
 * parsing of auth/: the input is a header value ("Bearer ...", "Digest
 * ..."), split into parameters by Sofia's parser as the edge gets it, then
 *   - auth_bearer_find(): a token found is a non-empty run of JWT
 *     characters inside one of the parameters;
 *   - auth_digest_parse() and auth_digest_verify(): credentials that parse
 *     are NUL-terminated, and a nonce this verifier did not issue is never
 *     accepted;
 *   - for credentials that parse (with plain username, realm and uri): a
 *     challenge for their realm, answered by auth_digest_answer(), parsed
 *     again, verifies once and is refused when replayed;
 * and, read as a WWW-Authenticate value from a P-CSCF, the trunk's answer
 * auth_digest_answer() is a header Sofia parses.
 */
#include "auth/auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#define NOW 1700000000

static struct auth_digest *verifier;

static void verifier_free(void)
{
	auth_digest_free(verifier);
}

static void check_bearer(const sip_authorization_t *au)
{
	size_t len = 0;
	const char *tok = auth_bearer_find(au->au_params, &len);
	bool inside = false;

	if (!tok)
		return;
	for (size_t i = 0; au->au_params && au->au_params[i]; i++) {
		const char *p = au->au_params[i];
		if (tok >= p && tok + len <= p + strlen(p))
			inside = true;
	}
	if (!inside || !len || strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
				      "klmnopqrstuvwxyz0123456789-_.") < len)
		abort();
}

static bool plain(const char *s)
{
	return !strpbrk(s, "\"\\");
}

/* Challenge, answer, parse, verify: the whole digest exchange. */
static void round_trip(const struct auth_digest_cred *c)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char challenge[1024], answer[2048], ha1[65];
	sip_www_authenticate_t *wa;
	sip_authorization_t *au;
	struct auth_digest_cred c2;
	const char *why = NULL;
	int err;

	if (!plain(c->username) || !plain(c->realm) || !plain(c->uri) ||
	    auth_digest_challenge(verifier, c->realm, c->alg, false, NOW,
				  challenge, sizeof challenge))
		goto out;
	wa = sip_www_authenticate_make(home, challenge);
	if (!wa)
		abort();           /* our own challenge does not parse */
	err = auth_digest_answer(wa->au_params, c->username, "pass word",
				 "REGISTER", c->uri, 1, answer, sizeof answer);
	if (err == ENOSPC)
		goto out;
	au = err ? NULL : sip_authorization_make(home, answer);
	if (!au || auth_digest_parse(au->au_params, &c2, &why))
		abort();           /* our own answer does not parse */
	if (auth_digest_ha1(c2.alg, c2.username, c2.realm, "pass word", ha1) ||
	    auth_digest_verify(verifier, &c2, "REGISTER", ha1, NOW, &why))
		abort();           /* a right answer refused */
	if (auth_digest_verify(verifier, &c2, "REGISTER", ha1, NOW, &why) !=
	    EACCES)
		abort();           /* a replay accepted */
out:
	su_home_deinit(home);
}

static void check_digest(const sip_authorization_t *au)
{
	struct auth_digest_cred c;
	const char *why = NULL;
	char ha1[65];

	if (auth_digest_parse(au->au_params, &c, &why)) {
		if (!why)
			abort();
		return;
	}
	if (!memchr(c.username, '\0', sizeof c.username) ||
	    !memchr(c.realm, '\0', sizeof c.realm) ||
	    !memchr(c.nonce, '\0', sizeof c.nonce) ||
	    !memchr(c.uri, '\0', sizeof c.uri))
		abort();
	auth_digest_ha1(c.alg, c.username, c.realm, "secret", ha1);
	if (!auth_digest_verify(verifier, &c, "REGISTER", ha1, NOW, &why))
		abort();           /* a nonce never issued, accepted */
	round_trip(&c);
}

/* The input as a challenge from a P-CSCF, answered as the trunk does. */
static void check_answer(su_home_t *home, const char *text)
{
	sip_www_authenticate_t *wa = sip_www_authenticate_make(home, text);
	char answer[2048];

	if (!wa || auth_digest_answer(wa->au_params, "pbx@ims.example.net",
				      "secret", "REGISTER", "sip:ims.example.net",
				      1, answer, sizeof answer))
		return;
	if (!sip_authorization_make(home, answer)) {
		fprintf(stderr, "answer does not parse: %s\n", answer);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_authorization_t *au;
	char *text;

	if (!verifier) {
		if (auth_digest_create(&verifier, 300, 64))
			abort();
		atexit(verifier_free);
	}
	text = su_strndup(home, (const char *)data, (isize_t)size);
	if (!text)
		return 0;
	au = sip_authorization_make(home, text);
	if (au) {
		check_bearer(au);
		check_digest(au);
	}
	check_answer(home, text);
	su_home_deinit(home);
	return 0;
}
