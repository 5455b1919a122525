/**
 * @file wic_auth.c  Authenticating WICs: tenants' token keys, the Origin
 * policy, Bearer tokens (at the handshake or in REGISTER) and SIP digest
 * against users in the store, with the 401 challenges that go with them.
 */
#include "wic_priv.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>

/* Loads the issuers' keys of @p ct into new arrays. */
static int issuers_load(const struct conf_tenant *ct, struct wic_issuer **isp,
			size_t *np)
{
	struct wic_issuer *is = calloc(ct->issuer_count + 1, sizeof *is);

	if (!is)
		return ENOMEM;
	for (size_t k = 0; k < ct->issuer_count; k++) {
		const char *why = "";
		is[k].conf = &ct->issuers[k];
		if (auth_keyset_load(&is[k].keys, ct->issuers[k].keys, &why)) {
			log_err("auth", 0, "tenant %s: issuer %s: keys %s: %s",
				ct->name, ct->issuers[k].issuer,
				ct->issuers[k].keys, why);
			for (size_t j = 0; j < k; j++)
				auth_keyset_free(is[j].keys);
			free(is);
			return EINVAL;
		}
	}
	*isp = is;
	*np = ct->issuer_count;
	return 0;
}

static void issuers_free(struct wic_issuer *is, size_t n)
{
	for (size_t k = 0; k < n; k++)
		auth_keyset_free(is[k].keys);
	free(is);
}

static struct wic_tenant *tenant_named(const struct wic *wic, const char *name)
{
	for (size_t i = 0; i < wic->tenant_count; i++)
		if (!strcmp(wic->tenants[i]->name, name))
			return wic->tenants[i];
	return NULL;
}

/*
 * Makes the tenants those of @p conf: a tenant keeps its object (flows
 * point to it) and takes its new configuration and keys; new ones are
 * added; those gone stay, marked removed, so that their flows' pointers
 * hold. All keys are loaded before anything changes.
 */
int wic_tenants_load(struct wic *wic, const struct conf *conf)
{
	size_t n = conf->tenant_count, added = 0;
	struct wic_issuer **is = calloc(n + 1, sizeof *is);
	size_t *nis = calloc(n + 1, sizeof *nis);
	struct wic_tenant **ts = NULL;
	int err = is && nis ? 0 : ENOMEM;

	for (size_t i = 0; !err && i < n; i++)
		err = issuers_load(&conf->tenants[i], &is[i], &nis[i]);
	for (size_t i = 0; !err && i < n; i++)
		added += !tenant_named(wic, conf->tenants[i].name);
	if (!err && !(ts = realloc(wic->tenants, (wic->tenant_count + added + 1) *
					       sizeof *ts)))
		err = ENOMEM;
	if (err) {
		for (size_t i = 0; is && nis && i < n; i++)
			if (is[i])
				issuers_free(is[i], nis[i]);
		free(is);
		free(nis);
		return err;
	}
	wic->tenants = ts;
	for (size_t i = 0; i < wic->tenant_count; i++)
		ts[i]->removed = !conf_tenant_find(conf, ts[i]->name);
	for (size_t i = 0; i < n; i++) {
		struct wic_tenant *t = tenant_named(wic, conf->tenants[i].name);
		if (!t) {
			t = calloc(1, sizeof *t);
			if (!t) {
				issuers_free(is[i], nis[i]);
				continue;
			}
			snprintf(t->name, sizeof t->name, "%s", conf->tenants[i].name);
			ts[wic->tenant_count++] = t;
		}
		issuers_free(t->issuers, t->issuer_count);
		t->conf = &conf->tenants[i];
		t->issuers = is[i];
		t->issuer_count = nis[i];
	}
	free(is);
	free(nis);
	return 0;
}

void wic_tenants_free(struct wic *wic)
{
	for (size_t i = 0; wic->tenants && i < wic->tenant_count; i++) {
		issuers_free(wic->tenants[i]->issuers, wic->tenants[i]->issuer_count);
		free(wic->tenants[i]);
	}
	free(wic->tenants);
	wic->tenants = NULL;
}

bool wic_origin_allowed(const struct wic *wic, const char *origin)
{
	for (size_t i = 0; i < wic->tenant_count; i++)
		if (!wic->tenants[i]->removed &&
		    conf_strv_has(wic->tenants[i]->conf->origins, origin))
			return true;
	return false;
}

const struct wic_tenant *wic_tenant_for(const struct wic *wic,
					 const char *origin, const char *domain)
{
	for (size_t i = 0; i < wic->tenant_count; i++) {
		const struct conf_tenant *t = wic->tenants[i]->conf;
		if (!wic->tenants[i]->removed && conf_strv_has(t->origins, origin) &&
		    (!domain || !strcasecmp(t->domain, domain)))
			return wic->tenants[i];
	}
	return NULL;
}

/* The AOR a token covers: its `impu` claim, else sip:SUB@DOMAIN. */
static int token_aor(const struct conf_tenant *t, const struct auth_claims *c,
		     char *aor, size_t size)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char raw[300];
	url_t *url;
	int err;

	if (c->impu[0])
		snprintf(raw, sizeof raw, "%s", c->impu);
	else
		snprintf(raw, sizeof raw, "sip:%s@%s", c->sub, t->domain);
	url = url_hdup(home, (url_t *)url_make(home, raw));
	err = url ? wic_sip_aor(home, url, aor, size) : EINVAL;
	su_home_deinit(home);
	return err;
}

static const struct wic_issuer *issuer_find(const struct wic_tenant *t,
					    const char *iss)
{
	for (size_t k = 0; k < t->issuer_count; k++)
		if (!strcmp(t->issuers[k].conf->issuer, iss))
			return &t->issuers[k];
	return NULL;
}

/* Whose token it is: the tenant (given, or found by Origin and issuer). */
struct token_pick {
	const struct wic *wic;
	bool by_origin;               /**< false: only tenant t */
	const char *origin;
	const struct wic_tenant *t;   /**< the tenant, once known */
};

/* auth_jwt_pick_f: the policy of the issuer the token names. */
static int token_policy(void *arg, const char *iss,
			struct auth_jwt_policy *pol, const char **why)
{
	struct token_pick *tp = arg;
	const struct wic_issuer *is = NULL;
	const struct conf_issuer *ci;

	if (!tp->by_origin) {
		is = issuer_find(tp->t, iss);
	} else {
		for (size_t i = 0; !is && i < tp->wic->tenant_count; i++) {
			const struct wic_tenant *t = tp->wic->tenants[i];
			if (t->removed ||
			    !conf_strv_has(t->conf->origins, tp->origin))
				continue;
			if ((is = issuer_find(t, iss)))
				tp->t = t;
		}
	}
	if (!is) {
		*why = tp->by_origin ? "token issuer not trusted for this Origin"
				  : "token issuer not trusted by the tenant";
		return EPERM;
	}
	ci = is->conf;
	*pol = (struct auth_jwt_policy){
		.issuer = ci->issuer,
		.audience = ci->audience && *ci->audience ? ci->audience : NULL,
		.algorithms = (const char *const *)ci->algorithms,
		.keys = is->keys,
		.clock_skew = (unsigned)tp->wic->conf->auth.clock_skew,
	};
	return 0;
}

/* Verifies the token of tenant @p tp->t, or of the tenant found for it. */
static int token_verify(struct token_pick *tp, const char *token,
			struct wic_identity *id, const char **why)
{
	struct auth_claims claims;
	const struct wic_tenant *t;
	int err;

	err = auth_jwt_verify_pick(token, token_policy, tp, time(NULL), &claims,
				   why);
	if (err)
		return err;
	t = tp->t;
	memset(id, 0, sizeof *id);
	id->tenant = t;
	id->how = WIC_AUTHN_BEARER;
	id->until = claims.exp;
	snprintf(id->subject, sizeof id->subject, "%s", claims.sub);
	id->claimed = claims.impu[0] != '\0';
	if (token_aor(t->conf, &claims, id->aor, sizeof id->aor)) {
		*why = "token identity is not a valid SIP or tel URI";
		return EPERM;
	}
	return 0;
}

int wic_auth_token(struct wic *wic, const char *origin, const char *token,
		   struct wic_identity *id, const char **why)
{
	struct token_pick tp = { .wic = wic, .by_origin = true, .origin = origin };

	return token_verify(&tp, token, id, why);
}

/* Sends 401 with a Bearer challenge and, if allowed, Digest ones. */
static void challenge(struct wic *wic, struct wic_strans *st,
		      const struct conf_tenant *t, const char *bearer_error,
		      bool stale)
{
	char bearer[512], dsha[512] = "", dmd5[512] = "";
	tagi_t tags[4];
	size_t n = 0;
	time_t now = time(NULL);

	snprintf(bearer, sizeof bearer, "Bearer realm=\"%s\"%s%s%s", t->domain,
		 bearer_error ? ", error=\"" : "",
		 bearer_error ? bearer_error : "", bearer_error ? "\"" : "");
	if (t->issuer_count)
		tags[n++] = (tagi_t){ SIPTAG_WWW_AUTHENTICATE_STR(bearer) };
	if (t->allow_digest &&
	    !auth_digest_challenge(wic->digest, t->domain, AUTH_DIGEST_SHA256,
				   stale, now, dsha, sizeof dsha) &&
	    !auth_digest_challenge(wic->digest, t->domain, AUTH_DIGEST_MD5,
				   stale, now, dmd5, sizeof dmd5)) {
		tags[n++] = (tagi_t){ SIPTAG_WWW_AUTHENTICATE_STR(dsha) };
		tags[n++] = (tagi_t){ SIPTAG_WWW_AUTHENTICATE_STR(dmd5) };
	}
	tags[n] = (tagi_t){ TAG_END() };
	wic_strans_reply_tags(st, SIP_401_UNAUTHORIZED, tags);
}

/*
 * The last Bearer token a flow presented and what it proved. A refresh
 * with the same token (what browsers send) skips the signature check and
 * the JSON: about a third of a REGISTER's cost. Matched on the token's
 * bytes, kept here (a few hundred bytes a flow; comparing them costs less
 * than hashing them); stale after a reload (a key may have been revoked)
 * and at the token's expiry.
 */
struct wic_tok_memo {
	unsigned long gen;
	struct wic_identity id;
	size_t len;
	char token[];   /* len bytes, no NUL */
};

static bool memo_find(const struct wic_flow *flow, const struct wic_tenant *t,
		      const char *tok, size_t len, struct wic_identity *id)
{
	const struct wic_tok_memo *m = flow->tok_memo;

	if (!m || m->gen != flow->wic->conf_gen || m->id.tenant != t ||
	    m->len != len || memcmp(m->token, tok, len) ||
	    (m->id.until && time(NULL) >= m->id.until))
		return false;
	*id = m->id;
	return true;
}

static void memo_store(struct wic_flow *flow, const char *tok, size_t len,
		       const struct wic_identity *id)
{
	struct wic_tok_memo *m = flow->tok_memo;

	if (!m || m->len != len) {
		free(m);
		m = flow->tok_memo = malloc(sizeof *m + len);
		if (!m)
			return;   /* no memo: the next refresh verifies again */
	}
	memcpy(m->token, tok, len);
	m->len = len;
	m->gen = flow->wic->conf_gen;
	m->id = *id;
}

/* Counts a refused authentication; all but stale nonces (a normal part
 * of digest) count toward the lockout of the address and the user. */
static void auth_failed(struct wic_flow *flow, enum wic_auth_fail why,
			const struct wic_tenant *t, const char *user)
{
	flow->wic->auth_fail[why]++;
	if (why != WIC_AUTH_STALE_NONCE)
		wic_limits_auth_failed(flow->wic, flow->peer, flow->id,
				       t ? t->conf->name : NULL, user);
}

static int auth_bearer(struct wic_flow *flow, struct wic_strans *st,
		       const struct wic_tenant *t, const sip_authorization_t *au,
		       struct wic_identity *id)
{
	size_t len;
	const char *tok = auth_bearer_find(au->au_params, &len);
	const char *why = "no token";
	char *token;
	int err = EBADMSG;

	if (tok && memo_find(flow, t, tok, len, id))
		return 0;
	if (tok && (token = strndup(tok, len))) {
		struct token_pick tp = { .wic = flow->wic, .t = t };

		err = token_verify(&tp, token, id, &why);
		free(token);
		if (!err)
			memo_store(flow, tok, len, id);
	}
	if (err) {
		log_warn("auth", flow->id, "bearer token refused: %s", why);
		auth_failed(flow, WIC_AUTH_INVALID_TOKEN, t, NULL);
		challenge(flow->wic, st, t->conf, "invalid_token", false);
	}
	return err;
}

/* RFC 7616 3.4.6: the digest-uri must name the Request-URI. */
static bool digest_uri_matches(const char *uri, const url_t *ruri)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *u = url_hdup(home, (url_t *)url_make(home, uri));
	bool same = u && !url_cmp(u, ruri);

	su_home_deinit(home);
	return same;
}

static int auth_digest(struct wic_flow *flow, struct wic_strans *st,
		       const struct wic_tenant *t, const sip_authorization_t *au,
		       const char *method, const url_t *ruri,
		       struct wic_identity *id)
{
	struct auth_digest_cred cred;
	struct store_user user;
	const char *why = NULL;
	const char *ha1;
	int err;

	if (!t->conf->allow_digest) {
		auth_failed(flow, WIC_AUTH_DIGEST_NOT_ALLOWED, t, NULL);
		wic_strans_reply(st, 403, "Digest Not Allowed", TAG_END());
		return EPERM;
	}
	if (auth_digest_parse(au->au_params, &cred, &why)) {
		log_warn("auth", flow->id, "bad digest credentials: %s", why);
		auth_failed(flow, WIC_AUTH_MALFORMED, t, NULL);
		wic_strans_reply(st, 400, why, TAG_END());
		return EBADMSG;
	}
	if (!digest_uri_matches(cred.uri, ruri)) {
		log_warn("auth", flow->id, "digest uri \"%s\" is not the "
			 "Request-URI", cred.uri);
		auth_failed(flow, WIC_AUTH_URI_MISMATCH, t, cred.username);
		wic_strans_reply(st, 400, "Digest URI Does Not Match Request-URI",
				 TAG_END());
		return EBADMSG;
	}
	err = store_user_get(flow->wic->store, t->conf->name, cred.username, &user);
	if (err == ENOENT) {
		why = "unknown user";
		err = EACCES;
		auth_failed(flow, WIC_AUTH_UNKNOWN_USER, t, cred.username);
	} else if (!err) {
		ha1 = cred.alg == AUTH_DIGEST_SHA256 ? user.ha1_sha256 : user.ha1_md5;
		err = auth_digest_verify(flow->wic->digest, &cred, method, ha1,
					 time(NULL), &why);
		if (err)
			auth_failed(flow, err == ESTALE ? WIC_AUTH_STALE_NONCE :
				    WIC_AUTH_BAD_CREDENTIALS, t, cred.username);
	}
	if (err == ESTALE) {
		challenge(flow->wic, st, t->conf, NULL, true);
		return err;
	}
	if (err) {
		log_warn("auth", flow->id, "digest refused user=%s: %s",
			 cred.username, why ? why : strerror(err));
		wic_strans_reply(st, err == EACCES ? 403 : 500,
				 err == EACCES ? "Bad Credentials" : "Store Failure",
				 TAG_END());
		return err;
	}
	memset(id, 0, sizeof *id);
	id->tenant = t;
	id->how = WIC_AUTHN_DIGEST;
	snprintf(id->subject, sizeof id->subject, "%s", cred.username);
	if (snprintf(id->aor, sizeof id->aor, "sip:%.*s@%s", 120, cred.username,
		     t->conf->domain) >= (int)sizeof id->aor) {
		wic_strans_reply(st, 403, "Identity Too Long", TAG_END());
		return EPERM;
	}
	return 0;
}

/* A digest username parameter without its quotes (a static copy). */
static const char *username_unquoted(const char *v)
{
	static char buf[256];
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

int wic_auth_request(struct wic_flow *flow, struct wic_strans *st, sip_t *sip,
		     const struct wic_tenant *t, struct wic_identity *id)
{
	const sip_authorization_t *au;
	const char *user = NULL;

	/* a locked-out address or user is refused before its credentials
	 * are looked at: guessing gains nothing while locked */
	for (au = sip->sip_authorization; au && !user; au = au->au_next)
		if (!strcasecmp(au->au_scheme, "Digest"))
			user = msg_params_find(au->au_params, "username=");
	if (wic_limits_locked(flow->wic, flow->peer, flow->id, t->conf->name,
			      user ? username_unquoted(user) : NULL)) {
		char ra[16];

		snprintf(ra, sizeof ra, "%d", flow->wic->conf->limits.lockout_time);
		wic_strans_reply(st, 403, "Locked Out After Failed Authentications",
				 SIPTAG_RETRY_AFTER_STR(ra), TAG_END());
		return EACCES;
	}
	for (au = sip->sip_authorization; au; au = au->au_next) {
		if (!strcasecmp(au->au_scheme, "Bearer"))
			return auth_bearer(flow, st, t, au, id);
		if (!strcasecmp(au->au_scheme, "Digest")) {
			const char *realm = msg_params_find(au->au_params, "realm=");
			if (realm && strcmp(realm, t->conf->domain) &&
			    (strlen(realm) != strlen(t->conf->domain) + 2 ||
			     strncmp(realm + 1, t->conf->domain, strlen(t->conf->domain))))
				continue;   /* credentials for another realm */
			return auth_digest(flow, st, t, au,
					   sip->sip_request->rq_method_name,
					   sip->sip_request->rq_url, id);
		}
	}
	challenge(flow->wic, st, t->conf, NULL, false);
	return EACCES;
}

static const char *const auth_fail_names[WIC_AUTH_FAIL_COUNT] = {
	[WIC_AUTH_INVALID_TOKEN] = "invalid_token",
	[WIC_AUTH_HANDSHAKE_TOKEN] = "handshake_token",
	[WIC_AUTH_MALFORMED] = "malformed",
	[WIC_AUTH_URI_MISMATCH] = "uri_mismatch",
	[WIC_AUTH_UNKNOWN_USER] = "unknown_user",
	[WIC_AUTH_BAD_CREDENTIALS] = "bad_credentials",
	[WIC_AUTH_STALE_NONCE] = "stale_nonce",
	[WIC_AUTH_DIGEST_NOT_ALLOWED] = "digest_not_allowed",
	[WIC_AUTH_NOT_COVERED] = "identity_not_covered",
};

const char *wic_auth_fail_name(enum wic_auth_fail why)
{
	return why < WIC_AUTH_FAIL_COUNT ? auth_fail_names[why] : "unknown";
}

unsigned long wic_auth_failures(const struct wic *wic, enum wic_auth_fail why)
{
	return why < WIC_AUTH_FAIL_COUNT ? wic->auth_fail[why] : 0;
}
