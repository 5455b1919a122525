/**
 * @file auth_digest_client.c  The client side of SIP digest: answering a
 * challenge from a P-CSCF with the trunk's credentials (RFC 7616, RFC 8760).
 */
#include "auth/auth.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/rand.h>

struct challenge {
	char realm[256], nonce[256], opaque[256], qop[64], algorithm[32];
};

/*
 * Copies @p v (quoted or not) into @p dst; a quoted-string keeps its
 * escapes, as it goes back quoted into the answer. False when too long, or
 * when it could not go back as it came: a quote or backslash that is no
 * escape inside quotes, or one at all (or a blank) in a token.
 */
static bool param_value(const char *v, char *dst, size_t size)
{
	size_t n = strlen(v);
	bool quoted = n >= 2 && v[0] == '"' && v[n - 1] == '"';

	if (quoted) {
		v++;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (quoted && v[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (v[i] == '"' || v[i] == '\\' ||
		    (!quoted && (v[i] == ' ' || v[i] == '\t')))
			return false;
	}
	if (n >= size)
		return false;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return true;
}

static int challenge_read(const char *const *params, struct challenge *ch)
{
	static const struct { const char *name; size_t off, size; } f[] = {
		{ "realm=", offsetof(struct challenge, realm), 256 },
		{ "nonce=", offsetof(struct challenge, nonce), 256 },
		{ "opaque=", offsetof(struct challenge, opaque), 256 },
		{ "qop=", offsetof(struct challenge, qop), 64 },
		{ "algorithm=", offsetof(struct challenge, algorithm), 32 },
	};

	memset(ch, 0, sizeof *ch);
	for (size_t i = 0; params && params[i]; i++)
		for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
			if (!strncasecmp(params[i], f[k].name, strlen(f[k].name)) &&
			    !param_value(params[i] + strlen(f[k].name),
					 (char *)ch + f[k].off, f[k].size))
				return EBADMSG;
	return ch->realm[0] && ch->nonce[0] ? 0 : EBADMSG;
}

/* True when the comma-separated qop list offers "auth". */
static bool qop_has_auth(const char *list)
{
	char buf[64], *save = NULL;

	snprintf(buf, sizeof buf, "%s", list);
	for (char *tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save))
		if (!strcasecmp(tok, "auth"))
			return true;
	return false;
}

int auth_digest_answer(const char *const *challenge, const char *user,
		       const char *password, const char *method,
		       const char *uri, unsigned nc, char *out, size_t size)
{
	enum auth_digest_alg alg = AUTH_DIGEST_MD5;
	struct challenge ch;
	char ha1[65], resp[65], ncs[9], cnonce[33] = "";
	unsigned char rnd[16];
	bool qop;
	int n, err;

	if ((err = challenge_read(challenge, &ch)))
		return err;
	if (!strcasecmp(ch.algorithm, "SHA-256"))
		alg = AUTH_DIGEST_SHA256;
	else if (ch.algorithm[0] && strcasecmp(ch.algorithm, "MD5"))
		return ENOTSUP;
	qop = ch.qop[0] && qop_has_auth(ch.qop);
	if (ch.qop[0] && !qop)
		return ENOTSUP;
	snprintf(ncs, sizeof ncs, "%08x", nc);
	if (qop) {
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			return EIO;
		for (size_t i = 0; i < sizeof rnd; i++)
			snprintf(cnonce + 2 * i, 3, "%02x", rnd[i]);
	}
	err = auth_digest_ha1(alg, user, ch.realm, password, ha1);
	if (!err)
		err = auth_digest_response(alg, ha1, ch.nonce, qop ? ncs : NULL,
					   qop ? cnonce : NULL, qop ? "auth" : NULL,
					   method, uri, resp);
	if (err)
		return err;
	n = snprintf(out, size, "Digest username=\"%s\", realm=\"%s\", "
		     "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s%s%s%s%s%s%s%s",
		     user, ch.realm, ch.nonce, uri, resp,
		     alg == AUTH_DIGEST_SHA256 ? "SHA-256" : "MD5",
		     qop ? ", qop=auth, nc=" : "", qop ? ncs : "",
		     qop ? ", cnonce=\"" : "", qop ? cnonce : "", qop ? "\"" : "",
		     ch.opaque[0] ? ", opaque=\"" : "", ch.opaque[0] ? ch.opaque : "");
	if (n > 0 && ch.opaque[0] && (size_t)n + 1 < size) {
		out[n] = '"';
		out[++n] = '\0';
	}
	return n > 0 && (size_t)n < size ? 0 : ENOSPC;
}
