/**
 * @file auth_digest.c  SIP digest (RFC 7616 / RFC 8760): MD5 and SHA-256,
 * qop=auth, self-authenticating nonces and a bounded replay table.
 *
 * A nonce is the base64 of 63 bytes:
 *
 *   issue time (8, big endian) | table slot (4) | algorithm (1) |
 *   random (18) | HMAC-SHA256(key, the 31 bytes before || realm) (32)
 *
 * The key is random and per process, so a restart invalidates every nonce
 * (clients are challenged again with stale=true). The slot names the entry
 * of the replay table that holds the nonce's random part and the highest
 * nonce count seen; the table is a ring in issue order, so "drop the oldest
 * when full" is "overwrite the next slot", and expired entries are pruned
 * from its oldest end as time passes.
 *
 * Not thread-safe: the gateway has one thread.
 */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

enum {
	NONCE_RND_LEN  = 18,
	NONCE_BODY_LEN = 8 + 4 + 1 + NONCE_RND_LEN,   /* 31 */
	NONCE_MAC_LEN  = 32,
	NONCE_BIN_LEN  = NONCE_BODY_LEN + NONCE_MAC_LEN, /* 63, no padding */
	NONCE_B64_LEN  = NONCE_BIN_LEN / 3 * 4,         /* 84 */
	KEY_LEN        = 32,
};

/** One issued nonce. */
struct nonce_ent {
	int64_t issued;
	uint32_t nc;                        /**< highest nc accepted, 0: none */
	bool live;
	unsigned char rnd[NONCE_RND_LEN];
};

/** A decoded nonce. */
struct nonce_bin {
	int64_t issued;
	uint32_t slot;
	enum auth_digest_alg alg;
	unsigned char rnd[NONCE_RND_LEN];
};

struct auth_digest {
	unsigned lifetime;
	size_t max;
	size_t head;             /**< slot of the oldest live entry */
	size_t count;            /**< live entries, from head on */
	struct nonce_ent *tab;
	EVP_MAC *mac;
	unsigned char key[KEY_LEN];
};

/* ---- hashing --------------------------------------------------------- */

static const EVP_MD *alg_md(enum auth_digest_alg alg)
{
	return alg == AUTH_DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
}

static size_t alg_hexlen(enum auth_digest_alg alg)
{
	return alg == AUTH_DIGEST_SHA256 ? 64 : 32;
}

static void hex_encode(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool is_lhex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return s[i] == '\0';
}

/**
 * Hex hash of the NULL-terminated @p parts joined with ':' into @p out.
 * Returns 0, ENOMEM or EIO (algorithm unavailable, e.g. MD5 in FIPS mode).
 */
static int hash_join(enum auth_digest_alg alg, const char *const *parts,
		     char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	int err = EIO;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ENOMEM;
	if (!EVP_DigestInit_ex(ctx, alg_md(alg), NULL))
		goto out;
	for (size_t i = 0; parts[i]; i++) {
		if (i && !EVP_DigestUpdate(ctx, ":", 1))
			goto out;
		if (!EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])))
			goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen * 2 != alg_hexlen(alg))
		goto out;
	hex_encode(md, mdlen, out);
	err = 0;
 out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(md, sizeof md);
	return err;
}

static bool alg_valid(enum auth_digest_alg alg)
{
	return alg == AUTH_DIGEST_MD5 || alg == AUTH_DIGEST_SHA256;
}

int auth_digest_ha1(enum auth_digest_alg alg, const char *user,
		    const char *realm, const char *password, char out[65])
{
	const char *parts[] = { user, realm, password, NULL };

	if (!alg_valid(alg) || !user || !realm || !password || !out)
		return EINVAL;
	return hash_join(alg, parts, out);
}

int auth_digest_response(enum auth_digest_alg alg, const char *ha1,
			 const char *nonce, const char *nc, const char *cnonce,
			 const char *qop, const char *method, const char *uri,
			 char out[65])
{
	const char *a2[] = { method, uri, NULL };
	char ha2[65];
	const char *kd[] = { ha1, nonce, nc, cnonce, qop, ha2, NULL };
	const char *kd2069[] = { ha1, nonce, ha2, NULL };
	int err;

	if (!alg_valid(alg) || !ha1 || !nonce || !method || !uri || !out)
		return EINVAL;
	if ((nc || cnonce || qop) && (!nc || !cnonce || !qop))
		return EINVAL;
	if (!is_lhex(ha1, alg_hexlen(alg)))
		return EINVAL;
	err = hash_join(alg, a2, ha2);
	if (err)
		return err;
	return hash_join(alg, qop ? kd : kd2069, out);
}

/* ---- nonces ---------------------------------------------------------- */

static int nonce_mac(struct auth_digest *d, const unsigned char *body,
		     const char *realm, unsigned char mac[NONCE_MAC_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx;
	size_t len = 0;
	int err = EIO;

	ctx = EVP_MAC_CTX_new(d->mac);
	if (!ctx)
		return ENOMEM;
	if (!EVP_MAC_init(ctx, d->key, sizeof d->key, params) ||
	    !EVP_MAC_update(ctx, body, NONCE_BODY_LEN) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)realm, strlen(realm)) ||
	    !EVP_MAC_final(ctx, mac, &len, NONCE_MAC_LEN) ||
	    len != NONCE_MAC_LEN)
		goto out;
	err = 0;
 out:
	EVP_MAC_CTX_free(ctx);
	return err;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/** Encodes and signs @p nb for @p realm into @p out (NONCE_B64_LEN + 1). */
static int nonce_encode(struct auth_digest *d, const struct nonce_bin *nb,
			const char *realm, char *out)
{
	unsigned char bin[NONCE_BIN_LEN];
	int err;

	put_be(bin, (uint64_t)nb->issued, 8);
	put_be(bin + 8, nb->slot, 4);
	bin[12] = (unsigned char)nb->alg;
	memcpy(bin + 13, nb->rnd, NONCE_RND_LEN);
	err = nonce_mac(d, bin, realm, bin + NONCE_BODY_LEN);
	if (err)
		return err;
	if (EVP_EncodeBlock((unsigned char *)out, bin, NONCE_BIN_LEN) !=
	    NONCE_B64_LEN)
		return EIO;
	return 0;
}

/**
 * Decodes @p s and checks its MAC for @p realm. Returns 0, or EBADMSG for
 * anything this verifier did not issue for that realm.
 */
static int nonce_decode(struct auth_digest *d, const char *s,
			const char *realm, struct nonce_bin *nb)
{
	unsigned char bin[NONCE_BIN_LEN + 3], mac[NONCE_MAC_LEN];

	if (strlen(s) != NONCE_B64_LEN)
		return EBADMSG;
	if (EVP_DecodeBlock(bin, (const unsigned char *)s, NONCE_B64_LEN) !=
	    NONCE_BIN_LEN)
		return EBADMSG;
	if (nonce_mac(d, bin, realm, mac))
		return EBADMSG;
	if (CRYPTO_memcmp(mac, bin + NONCE_BODY_LEN, NONCE_MAC_LEN))
		return EBADMSG;
	nb->issued = (int64_t)get_be(bin, 8);
	nb->slot = (uint32_t)get_be(bin + 8, 4);
	nb->alg = bin[12] ? AUTH_DIGEST_SHA256 : AUTH_DIGEST_MD5;
	memcpy(nb->rnd, bin + 13, NONCE_RND_LEN);
	return 0;
}

static bool expired(const struct auth_digest *d, int64_t issued, time_t now)
{
	return (int64_t)now - issued > (int64_t)d->lifetime;
}

/** Drops expired entries from the oldest end (amortised O(1) per call). */
static void table_prune(struct auth_digest *d, time_t now)
{
	while (d->count && expired(d, d->tab[d->head].issued, now)) {
		d->tab[d->head].live = false;
		d->head = (d->head + 1) % d->max;
		d->count--;
	}
}

/** The slot the next nonce goes to: the oldest one when the table is full. */
static size_t table_next(const struct auth_digest *d)
{
	return (d->head + d->count) % d->max;
}

static void table_commit(struct auth_digest *d, const struct nonce_bin *nb)
{
	struct nonce_ent *e = &d->tab[nb->slot];

	if (d->count == d->max)
		d->head = (d->head + 1) % d->max;
	else
		d->count++;
	e->issued = nb->issued;
	e->nc = 0;
	e->live = true;
	memcpy(e->rnd, nb->rnd, NONCE_RND_LEN);
}

/* ---- life cycle ------------------------------------------------------ */

int auth_digest_create(struct auth_digest **dp, unsigned nonce_lifetime,
		       size_t max_nonces)
{
	struct auth_digest *d;
	int err = ENOMEM;

	if (!dp || !nonce_lifetime || !max_nonces || max_nonces > UINT32_MAX)
		return EINVAL;
	d = calloc(1, sizeof *d);
	if (!d)
		return ENOMEM;
	d->lifetime = nonce_lifetime;
	d->max = max_nonces;
	d->tab = calloc(max_nonces, sizeof *d->tab);
	if (!d->tab)
		goto out;
	err = EIO;
	d->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!d->mac || RAND_bytes(d->key, sizeof d->key) != 1)
		goto out;
	*dp = d;
	return 0;
 out:
	auth_digest_free(d);
	return err;
}

void auth_digest_free(struct auth_digest *d)
{
	if (!d)
		return;
	OPENSSL_cleanse(d->key, sizeof d->key);
	EVP_MAC_free(d->mac);
	free(d->tab);
	free(d);
}

/* ---- challenge ------------------------------------------------------- */

/** Appends @p s as a quoted-string. Returns false when it does not fit. */
static bool put_quoted(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t n = *pos;

	if (n >= size)
		return false;
	buf[n++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			if (n >= size)
				return false;
			buf[n++] = '\\';
		}
		if (n >= size)
			return false;
		buf[n++] = *s;
	}
	if (n + 1 >= size)
		return false;
	buf[n++] = '"';
	buf[n] = '\0';
	*pos = n;
	return true;
}

static bool put_text(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t len = strlen(s);

	if (*pos + len >= size)
		return false;
	memcpy(buf + *pos, s, len + 1);
	*pos += len;
	return true;
}

static bool realm_ok(const char *realm)
{
	size_t len = strlen(realm);

	if (!len || len >= sizeof ((struct auth_digest_cred *)0)->realm)
		return false;
	for (; *realm; realm++)
		if ((unsigned char)*realm < 0x20 || *realm == 0x7f)
			return false;
	return true;
}

static int challenge_format(const char *realm, const char *nonce,
			    enum auth_digest_alg alg, bool stale,
			    char *buf, size_t size)
{
	size_t pos = 0;
	bool ok;

	ok = put_text(buf, size, &pos, "Digest realm=") &&
	     put_quoted(buf, size, &pos, realm) &&
	     put_text(buf, size, &pos, ", nonce=") &&
	     put_quoted(buf, size, &pos, nonce) &&
	     put_text(buf, size, &pos, alg == AUTH_DIGEST_SHA256 ?
		      ", algorithm=SHA-256" : ", algorithm=MD5") &&
	     put_text(buf, size, &pos, ", qop=\"auth\"") &&
	     (!stale || put_text(buf, size, &pos, ", stale=true"));
	return ok ? 0 : ENOSPC;
}

int auth_digest_challenge(struct auth_digest *d, const char *realm,
			  enum auth_digest_alg alg, bool stale, time_t now,
			  char *buf, size_t size)
{
	char nonce[NONCE_B64_LEN + 1];
	struct nonce_bin nb;
	int err;

	if (!d || !realm || !buf || !size || !alg_valid(alg) || !realm_ok(realm))
		return EINVAL;
	table_prune(d, now);
	nb.issued = (int64_t)now;
	nb.slot = (uint32_t)table_next(d);
	nb.alg = alg;
	if (RAND_bytes(nb.rnd, sizeof nb.rnd) != 1)
		return EIO;
	err = nonce_encode(d, &nb, realm, nonce);
	if (err)
		return err;
	err = challenge_format(realm, nonce, alg, stale, buf, size);
	if (err) {
		buf[0] = '\0';
		return err;
	}
	table_commit(d, &nb);
	return 0;
}

/* ---- parsing --------------------------------------------------------- */

#define CRED_FIELD(f) #f, offsetof(struct auth_digest_cred, f), \
	sizeof ((struct auth_digest_cred *)0)->f, #f " too long"

/** The string parameters kept in struct auth_digest_cred. */
static const struct cred_field {
	const char *name;
	size_t off, size;
	const char *too_long;
} cred_fields[] = {
	{ CRED_FIELD(username) }, { CRED_FIELD(realm) },
	{ CRED_FIELD(nonce) },    { CRED_FIELD(uri) },
	{ CRED_FIELD(response) }, { CRED_FIELD(cnonce) },
	{ CRED_FIELD(nc) },       { CRED_FIELD(qop) },
	{ CRED_FIELD(opaque) },
};

enum { N_CRED_FIELDS = sizeof cred_fields / sizeof cred_fields[0] };

/** Parameters that are interpreted at once and not kept. */
struct parse_extra {
	char algorithm[32];
	char userhash[8];
	bool has_algorithm, has_userhash;
};

/**
 * Copies @p v (a token or a quoted-string) into @p dst of @p size bytes.
 * Returns 0, EBADMSG when malformed, or E2BIG when it does not fit.
 */
static int param_copy(const char *v, char *dst, size_t size)
{
	bool quoted = *v == '"';
	size_t n = 0;

	if (quoted)
		v++;
	for (; *v && !(quoted && *v == '"'); v++) {
		if (quoted && *v == '\\' && !*++v)
			return EBADMSG;
		if (!quoted && (*v == '"' || *v == ' ' || *v == '\t'))
			return EBADMSG;
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return EBADMSG;
		if (n + 1 >= size)
			return E2BIG;
		dst[n++] = *v;
	}
	if (quoted && (*v != '"' || v[1]))
		return EBADMSG;
	dst[n] = '\0';
	return 0;
}

static bool name_is(const char *p, size_t len, const char *name)
{
	return strlen(name) == len && !strncasecmp(p, name, len);
}

/** Copies an interpreted-only parameter, once. */
static int extra_copy(const char *v, char *dst, size_t size, bool *has,
		      const char *too_long, const char **why)
{
	int err;

	if (*has) {
		*why = "duplicate parameter";
		return EBADMSG;
	}
	*has = true;
	err = param_copy(v, dst, size);
	if (err)
		*why = err == E2BIG ? too_long : "malformed parameter value";
	return err ? EBADMSG : 0;
}

/** Stores one "name=value" parameter. @p seen tracks duplicates. */
static int parse_one(const char *p, struct auth_digest_cred *c,
		     struct parse_extra *x, unsigned *seen, const char **why)
{
	const char *eq = strchr(p, '=');
	size_t len;
	int err;

	if (!eq || eq == p) {
		*why = "malformed parameter";
		return EBADMSG;
	}
	len = (size_t)(eq - p);
	for (unsigned i = 0; i < N_CRED_FIELDS; i++) {
		const struct cred_field *f = &cred_fields[i];

		if (!name_is(p, len, f->name))
			continue;
		if (*seen & 1u << i) {
			*why = "duplicate parameter";
			return EBADMSG;
		}
		*seen |= 1u << i;
		err = param_copy(eq + 1, (char *)c + f->off, f->size);
		if (err)
			*why = err == E2BIG ? f->too_long :
				"malformed parameter value";
		return err ? EBADMSG : 0;
	}
	if (name_is(p, len, "algorithm"))
		return extra_copy(eq + 1, x->algorithm, sizeof x->algorithm,
				  &x->has_algorithm, "unsupported algorithm", why);
	if (name_is(p, len, "userhash"))
		return extra_copy(eq + 1, x->userhash, sizeof x->userhash,
				  &x->has_userhash, "malformed userhash", why);
	return 0;  /* unknown parameters are ignored (RFC 7616 section 3.4) */
}

static int parse_algorithm(const struct parse_extra *x,
			   struct auth_digest_cred *c, const char **why)
{
	const char *a = x->algorithm;

	*why = NULL;
	if (x->has_userhash && !strcasecmp(x->userhash, "true")) {
		*why = "userhash not supported (usernames are sent in clear)";
		return EBADMSG;
	}
	if (x->has_userhash && strcasecmp(x->userhash, "false")) {
		*why = "malformed userhash";
		return EBADMSG;
	}
	if (!x->has_algorithm || !strcasecmp(a, "MD5"))
		c->alg = AUTH_DIGEST_MD5;
	else if (!strcasecmp(a, "SHA-256"))
		c->alg = AUTH_DIGEST_SHA256;
	else if (!strcasecmp(a, "MD5-sess") || !strcasecmp(a, "SHA-256-sess"))
		*why = "session algorithms (-sess) not supported";
	else
		*why = "unsupported algorithm";
	return *why ? EBADMSG : 0;
}

static bool nc_ok(const char *nc)
{
	size_t i;

	for (i = 0; nc[i]; i++)
		if (!isxdigit((unsigned char)nc[i]))
			return false;
	return i == 8 && strtoul(nc, NULL, 16) != 0;
}

/** Lower-cases the response and checks it is a digest of the right size. */
static bool response_ok(struct auth_digest_cred *c)
{
	size_t i;

	for (i = 0; c->response[i]; i++) {
		if (!isxdigit((unsigned char)c->response[i]))
			return false;
		c->response[i] = (char)tolower((unsigned char)c->response[i]);
	}
	return i == alg_hexlen(c->alg);
}

static const char *parse_check(struct auth_digest_cred *c)
{
	if (!c->username[0])
		return "username missing";
	if (!c->realm[0])
		return "realm missing";
	if (!c->nonce[0])
		return "nonce missing";
	if (!c->uri[0])
		return "uri missing";
	if (!c->response[0])
		return "response missing";
	if (!c->qop[0])
		return "qop missing (RFC 2069 digest not supported)";
	if (!strcasecmp(c->qop, "auth-int"))
		return "auth-int not supported";
	if (strcasecmp(c->qop, "auth"))
		return "unsupported qop";
	if (!c->cnonce[0])
		return "cnonce missing";
	if (!c->nc[0])
		return "nc missing";
	if (!nc_ok(c->nc))
		return "nc is not 8 hex digits above zero";
	if (!response_ok(c))
		return "response is not a hex digest of the algorithm's size";
	return NULL;
}

int auth_digest_parse(const char *const *params, struct auth_digest_cred *c,
		      const char **why)
{
	struct parse_extra x;
	const char *dummy;
	unsigned seen = 0;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!params || !c) {
		*why = "no parameters";
		return EBADMSG;
	}
	memset(c, 0, sizeof *c);
	memset(&x, 0, sizeof x);
	for (size_t i = 0; params[i]; i++) {
		err = parse_one(params[i], c, &x, &seen, why);
		if (err)
			return err;
	}
	if (parse_algorithm(&x, c, why))
		return EBADMSG;
	*why = parse_check(c);
	return *why ? EBADMSG : 0;
}

/* ---- verification ---------------------------------------------------- */

/** True when every string of @p c is NUL-terminated within its array. */
static bool cred_terminated(const struct auth_digest_cred *c)
{
	for (unsigned i = 0; i < N_CRED_FIELDS; i++) {
		const struct cred_field *f = &cred_fields[i];

		if (!memchr((const char *)c + f->off, '\0', f->size))
			return false;
	}
	return true;
}

/**
 * Finds the table entry of @p c's nonce into @p ep. Returns 0, ESTALE when
 * the nonce is forged, expired or forgotten, or EACCES when it was issued
 * for another algorithm; @p why says which.
 */
static int nonce_lookup(struct auth_digest *d, const struct auth_digest_cred *c,
			time_t now, struct nonce_ent **ep, const char **why)
{
	struct nonce_bin nb;
	struct nonce_ent *e;

	if (nonce_decode(d, c->nonce, c->realm, &nb)) {
		*why = "nonce not issued here for this realm";
		return ESTALE;
	}
	if (expired(d, nb.issued, now)) {
		*why = "nonce expired";
		return ESTALE;
	}
	e = nb.slot < d->max ? &d->tab[nb.slot] : NULL;
	if (!e || !e->live || e->issued != nb.issued ||
	    CRYPTO_memcmp(e->rnd, nb.rnd, NONCE_RND_LEN)) {
		*why = "nonce no longer remembered";
		return ESTALE;
	}
	if (nb.alg != c->alg) {
		*why = "algorithm differs from the challenge";
		return EACCES;
	}
	*ep = e;
	return 0;
}

/** Compares @p c's response with the expected one in constant time. */
static int response_check(const struct auth_digest_cred *c, const char *method,
			  const char *ha1, const char **why)
{
	char expect[65];
	size_t len;
	int err;

	err = auth_digest_response(c->alg, ha1, c->nonce, c->nc, c->cnonce,
				   c->qop, method, c->uri, expect);
	if (err) {
		*why = err == EINVAL ? "bad HA1" : "digest computation failed";
		return err;
	}
	len = strlen(expect);
	if (strlen(c->response) != len ||
	    CRYPTO_memcmp(expect, c->response, len)) {
		*why = "wrong password or response";
		err = EACCES;
	}
	OPENSSL_cleanse(expect, sizeof expect);
	return err;
}

int auth_digest_verify(struct auth_digest *d, const struct auth_digest_cred *c,
		       const char *method, const char *ha1, time_t now,
		       const char **why)
{
	struct nonce_ent *e = NULL;
	const char *dummy;
	uint32_t nc;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!d || !c || !method || !ha1 || !alg_valid(c->alg) ||
	    !cred_terminated(c) || !nc_ok(c->nc)) {
		*why = "bad arguments";
		return EINVAL;
	}
	table_prune(d, now);
	err = nonce_lookup(d, c, now, &e, why);
	if (err)
		return err;
	nc = (uint32_t)strtoul(c->nc, NULL, 16);
	if (nc <= e->nc) {
		*why = "nonce count replayed";
		return EACCES;
	}
	err = response_check(c, method, ha1, why);
	if (err)
		return err;
	e->nc = nc;  /* only a right answer moves the count: no burning */
	return 0;
}
