/**
 * @file auth.c  JWT minting and digest answers (see auth.h).
 */
#include "bench/wtpf-bench/auth.h"
#include "bench/wtpf-bench/sip.h"

#include <errno.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jwt.h>
#include <openssl/evp.h>

struct bauth_jwt {
	jwt_alg_t alg;
	unsigned char *key;
	size_t key_len;
	char *iss;
	char *aud;
	long ttl;
};

static int read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!f)
		return errno;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			unsigned char *nb = realloc(buf, cap = n + 8192);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r < 4096) {
			if (ferror(f))
				err = EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int bauth_jwt_create(struct bauth_jwt **jp, const char *alg,
		     const char *keyfile, const char *iss, const char *aud,
		     long ttl)
{
	struct bauth_jwt *j = calloc(1, sizeof *j);
	int err;

	if (!j)
		return ENOMEM;
	if (!strcasecmp(alg, "HS256"))
		j->alg = JWT_ALG_HS256;
	else if (!strcasecmp(alg, "ES256"))
		j->alg = JWT_ALG_ES256;
	else {
		err = EINVAL;
		goto out;
	}
	err = read_file(keyfile, &j->key, &j->key_len);
	if (err) {
		fprintf(stderr, "wtpf-bench: %s: %s\n", keyfile, strerror(err));
		goto out;
	}
	if (j->alg == JWT_ALG_HS256)
		while (j->key_len && isspace(j->key[j->key_len - 1]))
			j->key[--j->key_len] = '\0';
	j->iss = strdup(iss);
	j->aud = aud && *aud ? strdup(aud) : NULL;
	j->ttl = ttl;
	if (!j->iss || (aud && *aud && !j->aud)) {
		err = ENOMEM;
		goto out;
	}
	/* one trial signature says whether the key is usable */
	char *t = bauth_jwt_mint(j, "probe", NULL, time(NULL));
	if (!t) {
		fprintf(stderr, "wtpf-bench: %s: not a usable %s key\n",
			keyfile, alg);
		err = EINVAL;
		goto out;
	}
	free(t);
	*jp = j;
	return 0;
 out:
	bauth_jwt_free(j);
	return err;
}

char *bauth_jwt_mint(const struct bauth_jwt *j, const char *sub,
		     const char *impu, time_t now)
{
	jwt_t *jwt = NULL;
	char *tok = NULL;

	if (jwt_new(&jwt))
		return NULL;
	if (jwt_add_grant(jwt, "iss", j->iss) ||
	    (j->aud && jwt_add_grant(jwt, "aud", j->aud)) ||
	    jwt_add_grant(jwt, "sub", sub) ||
	    (impu && jwt_add_grant(jwt, "impu", impu)) ||
	    jwt_add_grant_int(jwt, "iat", (long)now) ||
	    jwt_add_grant_int(jwt, "exp", (long)now + j->ttl) ||
	    jwt_set_alg(jwt, j->alg, j->key, (int)j->key_len))
		goto out;
	tok = jwt_encode_str(jwt);
 out:
	jwt_free(jwt);
	return tok;
}

void bauth_jwt_free(struct bauth_jwt *j)
{
	if (!j)
		return;
	if (j->key)
		memset(j->key, 0, j->key_len);
	free(j->key);
	free(j->iss);
	free(j->aud);
	free(j);
}

/* Next "name=value" of a challenge; value unquoted into @p val. */
static const char *next_param(const char *p, const char *end, char *name,
			      size_t nsize, char *val, size_t vsize)
{
	size_t n = 0, v = 0;

	while (p < end && (*p == ',' || isspace((unsigned char)*p)))
		p++;
	if (p >= end)
		return NULL;
	while (p < end && *p != '=' && *p != ',' && !isspace((unsigned char)*p))
		if (n + 1 < nsize)
			name[n++] = *p++;
		else
			p++;
	name[n] = '\0';
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && *p == '=') {
		p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (v + 1 < vsize)
					val[v++] = *p;
			}
			p += p < end;
		} else {
			while (p < end && *p != ',' && !isspace((unsigned char)*p))
				if (v + 1 < vsize)
					val[v++] = *p++;
				else
					p++;
		}
	}
	val[v] = '\0';
	return p;
}

/* Parses one challenge; 0, or ENOENT when not a digest one we answer. */
static int chal_parse(const char *v, size_t n, struct bauth_chal *c)
{
	const char *p = v, *end = v + n;
	char name[32], val[256];
	bool alg_ok = true;

	memset(c, 0, sizeof *c);
	if (n < 7 || strncasecmp(v, "Digest", 6) || !isspace((unsigned char)v[6]))
		return ENOENT;
	p += 7;
	c->alg = BAUTH_MD5;
	while ((p = next_param(p, end, name, sizeof name, val, sizeof val))) {
		if (!strcasecmp(name, "realm"))
			snprintf(c->realm, sizeof c->realm, "%s", val);
		else if (!strcasecmp(name, "nonce"))
			snprintf(c->nonce, sizeof c->nonce, "%s", val);
		else if (!strcasecmp(name, "opaque"))
			snprintf(c->opaque, sizeof c->opaque, "%s", val);
		else if (!strcasecmp(name, "stale"))
			c->stale = !strcasecmp(val, "true");
		else if (!strcasecmp(name, "algorithm")) {
			if (!strcasecmp(val, "SHA-256"))
				c->alg = BAUTH_SHA256;
			else if (strcasecmp(val, "MD5"))
				alg_ok = false;
		} else if (!strcasecmp(name, "qop")) {
			for (char *t = strtok(val, ", "); t; t = strtok(NULL, ", "))
				if (!strcasecmp(t, "auth"))
					c->qop_auth = true;
		}
	}
	return alg_ok && c->nonce[0] ? 0 : ENOENT;
}

int bauth_chal_pick(const struct bsip_msg *m, struct bauth_chal *c)
{
	static const char *const names[] = { "WWW-Authenticate",
					     "Proxy-Authenticate" };
	struct bauth_chal t;
	bool found = false;

	for (int k = 0; k < 2 && !found; k++)
		for (const struct bsip_hdr *h = bsip_msg_find(m, names[k], NULL);
		     h; h = bsip_msg_find(m, names[k], h)) {
			if (chal_parse(h->val, h->vlen, &t))
				continue;
			t.proxy = k == 1;
			if (!found || (t.alg == BAUTH_SHA256 && c->alg != BAUTH_SHA256))
				*c = t;
			found = true;
		}
	return found ? 0 : ENOENT;
}

/* Lower-case hex hash of the ':'-joined @p parts into @p out. */
static int hash_join(enum bauth_alg alg, const char *const *parts, char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok;

	if (!ctx)
		return ENOMEM;
	ok = EVP_DigestInit_ex(ctx, alg == BAUTH_SHA256 ? EVP_sha256() :
			       EVP_md5(), NULL);
	for (int i = 0; ok && parts[i]; i++)
		ok = (!i || EVP_DigestUpdate(ctx, ":", 1)) &&
		     EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	ok = ok && EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return EIO;
	for (unsigned int i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	return 0;
}

int bauth_digest_line(struct bauth_chal *c, const char *user,
		      const char *password, const char *method,
		      const char *uri, char *out, size_t size)
{
	char ha1[65], ha2[65], resp[65], nc[9], cnonce[17];
	int err, n;

	const char *p1[] = { user, c->realm, password, NULL };
	const char *p2[] = { method, uri, NULL };
	if ((err = hash_join(c->alg, p1, ha1)) ||
	    (err = hash_join(c->alg, p2, ha2)))
		return err;
	c->nc++;
	snprintf(nc, sizeof nc, "%08x", c->nc);
	bsip_token(cnonce, 16);
	if (c->qop_auth) {
		const char *p3[] = { ha1, c->nonce, nc, cnonce, "auth", ha2, NULL };
		err = hash_join(c->alg, p3, resp);
	} else {
		const char *p3[] = { ha1, c->nonce, ha2, NULL };
		err = hash_join(c->alg, p3, resp);
	}
	if (err)
		return err;
	n = snprintf(out, size, "%s: Digest username=\"%s\", realm=\"%s\", "
		     "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s",
		     c->proxy ? "Proxy-Authorization" : "Authorization", user,
		     c->realm, c->nonce, uri, resp,
		     c->alg == BAUTH_SHA256 ? "SHA-256" : "MD5");
	if (n > 0 && (size_t)n < size && c->qop_auth)
		n += snprintf(out + n, size - (size_t)n,
			      ", qop=auth, nc=%s, cnonce=\"%s\"", nc, cnonce);
	if (n > 0 && (size_t)n < size && c->opaque[0])
		n += snprintf(out + n, size - (size_t)n, ", opaque=\"%s\"",
			      c->opaque);
	if (n > 0 && (size_t)n < size)
		n += snprintf(out + n, size - (size_t)n, "\r\n");
	return n > 0 && (size_t)n < size ? 0 : ENOSPC;
}
