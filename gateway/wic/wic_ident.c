/**
 * @file wic_ident.c  Which public identity a REGISTER gets (seed 000): for a
 * tenant with identity sets, the number its token claims or one allocated
 * for its subject (gateway/ident); anonymous users from the anonymous set.
 * Bindings are then kept under sip:NUMBER@DOMAIN, and the client may go on
 * naming itself by the AOR it used before it learnt its number.
 */
#include "wic_priv.h"
#include "util/strjoin.h"
#include "conf/conf.h"
#include "util/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

bool wic_ident_anonymous_allowed(const struct conf_tenant *t)
{
	for (size_t k = 0; k < t->idset_count; k++)
		if (t->idsets[k].anonymous)
			return true;
	return false;
}

bool wic_ident_is_anonymous_request(const struct conf_tenant *t,
				    const sip_t *sip)
{
	const url_t *to = sip->sip_to->a_url;

	return !sip->sip_authorization && wic_ident_anonymous_allowed(t) &&
	       to->url_user && !strcasecmp(to->url_user, "anonymous");
}

void wic_ident_anonymous(struct wic_flow *flow, const struct wic_tenant *t,
			 const sip_t *sip, struct wic_identity *id)
{
	const char *inst = sip->sip_contact ?
		msg_params_find(sip->sip_contact->m_params, "+sip.instance=") : NULL;

	memset(id, 0, sizeof *id);
	id->tenant = t;
	id->how = WIC_AUTHN_ANONYMOUS;
	if (inst)
		snprintf(id->subject, sizeof id->subject, "anon-%.200s", inst);
	else
		snprintf(id->subject, sizeof id->subject, "anon-flow-%lu-%ld",
			 flow->id, (long)time(NULL));
	snprintf(id->aor, sizeof id->aor, "sip:anonymous@%.200s", t->conf->domain);
}

/* The number a claimed AOR names: tel:N, or the user part of sip:N@host. */
static void claim_number(const char *aor, char *out, size_t size)
{
	const char *at;

	if (!strncasecmp(aor, "tel:", 4)) {
		snprintf(out, size, "%s", aor + 4);
		return;
	}
	aor += strncasecmp(aor, "sips:", 5) ? 4 : 5;
	at = strchr(aor, '@');
	snprintf(out, size, "%.*s", at ? (int)(at - aor) : (int)strlen(aor), aor);
}

/* "identity set limit reached" -> "Identity Set Limit Reached" */
static void phrase_of(const char *why, char *out, size_t size)
{
	size_t i = 0;
	bool word = true;

	for (; *why && i + 1 < size; why++, i++) {
		out[i] = word ? (char)toupper((unsigned char)*why) : *why;
		word = *why == ' ';
	}
	out[i] = '\0';
}

static void refuse(struct wic_flow *flow, struct wic_strans *st,
		   const struct wic_identity *id, int err, const char *why)
{
	char phrase[96];

	phrase_of(why, phrase, sizeof phrase);
	log_warn("reg", flow->id, "REGISTER of %s (tenant %s, subject %s) "
		 "refused: %s", id->aor, id->tenant->conf->name, id->subject, why);
	if (err == ENOSPC)
		wic_strans_reply(st, 503, phrase, SIPTAG_RETRY_AFTER_STR("300"),
				 TAG_END());
	else
		wic_strans_reply(st, err == EPERM ? 403 : 500, phrase, TAG_END());
}

int wic_ident_register(struct wic *wic, struct wic_flow *flow,
		       struct wic_strans *st, struct wic_identity *id)
{
	const struct conf_tenant *t = id->tenant->conf;
	const char *pre, *why = "";
	char claim[256];
	struct ident_grant g;
	int err;

	if (!ident_managed(wic->ident, t->name)) {
		memset(&id->grant, 0, sizeof id->grant);
		return 0;
	}
	/* the AOR the credentials named, before any earlier resolution */
	pre = id->grant.number[0] && id->alias[0] ? id->alias : id->aor;
	if (id->claimed)
		claim_number(pre, claim, sizeof claim);
	err = ident_acquire(wic->ident, t->name, id->subject,
			    id->claimed ? claim : NULL,
			    id->how == WIC_AUTHN_ANONYMOUS, &g, &why);
	if (err) {
		refuse(flow, st, id, err, why);
		return err;
	}
	if (pre != id->alias)
		g_strlcpy(id->alias, pre, sizeof id->alias);
	str_join(id->aor, sizeof id->aor, "sip:", g.number, "@", t->domain,
		 NULL);
	if (!strcmp(id->alias, id->aor))
		id->alias[0] = '\0';
	id->grant = g;
	return 0;
}

bool wic_ident_names(const struct wic_identity *id, const char *aor)
{
	return !strcmp(id->aor, aor) || (id->alias[0] && !strcmp(id->alias, aor));
}
