/**
 * @file wic_registrar.c  The registrar of the WICs (RFC 3261 section 10,
 * RFC 5626): bindings per AOR, keyed by +sip.instance and reg-id when the
 * client gives them and by Contact URI otherwise; each binding remembers the
 * flow it was made on, and dies with it.
 */
#include "wic_priv.h"
#include "util/strjoin.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>

struct wic_reg_aor;

/* With no binding left, the sweep still looks once an hour. */
#define REG_SWEEP_IDLE_S 3600

struct wic_binding {
	struct wic_reg_aor *aor;
	su_home_t home[1];
	sip_contact_t *contact;     /**< as the client registered it */
	char *instance;             /**< +sip.instance, or NULL */
	char *reg_id;               /**< reg-id, or NULL */
	char *call_id;
	char *impi;                 /**< the device's private identity, or NULL */
	uint32_t cseq;
	time_t expires_at;
	struct wic_flow *flow;
};

struct wic_reg_aor {
	char *aor;
	GList *bindings;            /**< struct wic_binding * (owned) */
	char tenant[64];            /**< with a number: its tenant */
	char number[NUMRANGE_NUM_MAX];  /**< "" : not a managed identity */
};

struct wic_reg {
	struct wic *wic;
	GHashTable *aors;           /**< aor -> struct wic_reg_aor * (owned) */
	size_t nbindings;
	time_t next_expiry;         /**< no binding expires before; 0: unknown */
};

/* What one Contact of a REGISTER asks for, decided before anything changes. */
struct reg_req {
	sip_contact_t *m;
	unsigned expires;
	const char *instance, *reg_id;
	struct wic_binding *b;      /**< the binding it refreshes, or NULL */
	time_t now;                 /**< the request's time: expiries and the
					 200 count from it */
};

static void aor_free(void *p)
{
	struct wic_reg_aor *a = p;

	free(a->aor);
	free(a);
}

static void binding_remove(struct wic_reg *reg, struct wic_binding *b,
			   const char *why)
{
	struct wic_reg_aor *a = b->aor;

	log_info("reg", b->flow ? b->flow->id : 0, "binding removed aor=%s "
		 "contact=%s: %s", a->aor, b->contact->m_url->url_host ?
		 b->contact->m_url->url_host : "", why);
	a->bindings = g_list_remove(a->bindings, b);
	if (b->flow)
		b->flow->bindings = g_list_remove(b->flow->bindings, b);
	if (b->impi)
		(void)store_device_del(reg->wic->store, a->tenant, b->impi);
	su_home_deinit(b->home);
	free(b);
	reg->nbindings--;
	if (!a->bindings) {
		/* the number's last device: its hold starts */
		if (a->number[0])
			ident_release(reg->wic->ident, a->tenant, a->number);
		g_hash_table_remove(reg->aors, a->aor);
	}
}

int wic_reg_create(struct wic *wic, struct wic_reg **regp)
{
	struct wic_reg *reg = calloc(1, sizeof *reg);

	if (!reg)
		return ENOMEM;
	reg->wic = wic;
	reg->aors = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, aor_free);
	*regp = reg;
	return 0;
}

static void aor_drop_all(gpointer k, gpointer v, gpointer u)
{
	struct wic_reg_aor *a = v;

	(void)k;
	(void)u;
	for (GList *l = a->bindings; l; l = l->next) {
		struct wic_binding *b = l->data;
		su_home_deinit(b->home);
		free(b);
	}
	g_list_free(a->bindings);
	a->bindings = NULL;
}

void wic_reg_destroy(struct wic_reg *reg)
{
	if (!reg)
		return;
	g_hash_table_foreach(reg->aors, aor_drop_all, NULL);
	g_hash_table_destroy(reg->aors);
	free(reg);
}

size_t wic_binding_count(const struct wic *wic)
{
	return wic->reg ? wic->reg->nbindings : 0;
}

size_t wic_reg_binding_count(const struct wic_reg *reg)
{
	return reg->nbindings;
}

void wic_reg_flow_closed(struct wic_reg *reg, struct wic_flow *flow)
{
	while (flow->bindings)
		binding_remove(reg, flow->bindings->data, "flow closed");
}

/* What a sweep of the bindings collects, and the earliest expiry left. */
struct sweep {
	time_t now;
	GList *expired;
	time_t next;                /**< earliest expiry not yet reached; 0: none */
};

static gboolean collect_expired(gpointer k, gpointer v, gpointer arg)
{
	struct wic_reg_aor *a = v;
	struct sweep *sw = arg;

	(void)k;
	for (GList *l = a->bindings; l; l = l->next) {
		struct wic_binding *b = l->data;
		if (b->expires_at <= sw->now)
			sw->expired = g_list_prepend(sw->expired, b);
		else if (!sw->next || b->expires_at < sw->next)
			sw->next = b->expires_at;
	}
	return FALSE;
}

/*
 * Removes the bindings that expired. The walk over every binding only
 * happens once the earliest expiry seen is due: refreshes move expiries
 * on, so with clients that refresh it happens about once per half of an
 * expiry period, not once a second (it was about 5 % of the idle CPU).
 */
void wic_reg_tick(struct wic_reg *reg, time_t now)
{
	struct sweep sw = { .now = now };

	if (reg->next_expiry && now < reg->next_expiry)
		return;
	g_hash_table_find(reg->aors, collect_expired, &sw);
	for (GList *l = sw.expired; l; l = l->next)
		binding_remove(reg, l->data, "expired");
	g_list_free(sw.expired);
	reg->next_expiry = sw.next ? sw.next : now + REG_SWEEP_IDLE_S;
}

/* A binding now expires at @p t: the next sweep is due by then. */
static void expiry_note(struct wic_reg *reg, time_t t)
{
	if (!reg->next_expiry || t < reg->next_expiry)
		reg->next_expiry = t;
}

/* ---- REGISTER -------------------------------------------------------- */

static struct wic_binding *binding_find(struct wic_reg_aor *a,
					const struct reg_req *r,
					const struct wic_flow *flow)
{
	for (GList *l = a ? a->bindings : NULL; l; l = l->next) {
		struct wic_binding *b = l->data;
		if (r->instance && b->instance) {
			if (!strcmp(r->instance, b->instance) &&
			    !g_strcmp0(r->reg_id, b->reg_id))
				return b;
		} else if (!r->instance && !b->instance && b->flow == flow &&
			   !url_cmp_all(b->contact->m_url, r->m->m_url)) {
			return b;
		}
	}
	return NULL;
}

/* Reads every Contact; answers and returns an error if one is unacceptable. */
static int reg_parse(struct wic_reg *reg, struct wic_strans *st, sip_t *sip,
		     struct wic_reg_aor *a, struct wic_flow *flow,
		     struct reg_req *rr, size_t *n)
{
	const struct conf_registrar *c = &reg->wic->conf->registrar;
	unsigned hdr_exp = sip->sip_expires ? sip->sip_expires->ex_delta
					    : (unsigned)c->default_expires;
	time_t until = flow->ident.until, now = time(NULL);
	sip_contact_t *m;
	size_t i = 0;

	/* A binding never outlives the token that proved the identity. */
	for (m = sip->sip_contact; m && i < 16; m = m->m_next, i++) {
		struct reg_req *r = &rr[i];
		r->m = m;
		r->expires = m->m_expires ? (unsigned)strtoul(m->m_expires, NULL, 10)
					  : hdr_exp;
		if (m->m_url->url_type != url_sip && m->m_url->url_type != url_sips) {
			wic_strans_reply(st, 400, "Contact Must Be a SIP URI", TAG_END());
			return EINVAL;
		}
		if (r->expires && r->expires < (unsigned)c->min_expires) {
			char me[16];
			snprintf(me, sizeof me, "%d", c->min_expires);
			wic_strans_reply(st, SIP_423_INTERVAL_TOO_BRIEF,
					 SIPTAG_MIN_EXPIRES_STR(me), TAG_END());
			return EINVAL;
		}
		if (r->expires > (unsigned)c->max_expires)
			r->expires = (unsigned)c->max_expires;
		if (r->expires && until && until - now < (time_t)r->expires)
			r->expires = until > now ? (unsigned)(until - now) : 1;
		r->instance = msg_params_find(m->m_params, "+sip.instance=");
		r->reg_id = msg_params_find(m->m_params, "reg-id=");
		r->b = binding_find(a, r, flow);
		if (r->b && !strcmp(r->b->call_id, sip->sip_call_id->i_id) &&
		    sip->sip_cseq->cs_seq <= r->b->cseq) {
			wic_strans_reply(st, 500, "Out of Order CSeq", TAG_END());
			return EINVAL;
		}
	}
	if (m) {
		wic_strans_reply(st, 400, "Too Many Contacts", TAG_END());
		return EINVAL;
	}
	*n = i;
	return 0;
}

static struct wic_reg_aor *aor_get(struct wic_reg *reg, const char *aor,
				   const struct wic_identity *id)
{
	struct wic_reg_aor *a = g_hash_table_lookup(reg->aors, aor);

	if (a)
		return a;
	a = calloc(1, sizeof *a);
	if (!a || !(a->aor = strdup(aor))) {
		free(a);
		return NULL;
	}
	snprintf(a->tenant, sizeof a->tenant, "%s", id->tenant->conf->name);
	snprintf(a->number, sizeof a->number, "%s", id->grant.number);
	g_hash_table_insert(reg->aors, a->aor, a);
	return a;
}

/* A new device of a managed number: its private identity, in the store. */
static void binding_device(struct wic_reg *reg, struct wic_binding *b,
			   const struct wic_identity *id)
{
	struct store_device d;
	char fallback[300];

	if (!b->aor->number[0])
		return;
	memset(&d, 0, sizeof d);
	snprintf(fallback, sizeof fallback, "%s:%s", b->call_id,
		 b->contact->m_url->url_host ? b->contact->m_url->url_host : "");
	if (ident_impi(reg->wic->ident, b->aor->tenant, b->aor->number,
		       id->subject, b->instance, fallback, d.impi, sizeof d.impi))
		return;
	b->impi = su_strdup(b->home, d.impi);
	snprintf(d.tenant, sizeof d.tenant, "%s", b->aor->tenant);
	snprintf(d.impu, sizeof d.impu, "%s", b->aor->number);
	snprintf(d.instance, sizeof d.instance, "%s", b->instance ? b->instance : "");
	d.updated = (long long)time(NULL);
	(void)store_device_put(reg->wic->store, &d);   /* logged on failure */
	log_info("reg", b->flow ? b->flow->id : 0, "device impu=%s impi=%s "
		 "instance=%s", d.impu, d.impi, d.instance[0] ? d.instance : "-");
}

static int binding_apply(struct wic_reg *reg, struct wic_reg_aor *a,
			 struct wic_flow *flow, const struct reg_req *r,
			 const sip_t *sip, const struct wic_identity *id)
{
	struct wic_binding *b = r->b;
	char impi[256] = "";
	bool fresh = !b;

	if (b && b->impi)
		snprintf(impi, sizeof impi, "%s", b->impi);
	if (!b) {
		b = calloc(1, sizeof *b);
		if (!b)
			return ENOMEM;
		su_home_init(b->home);
		b->aor = a;
		a->bindings = g_list_append(a->bindings, b);
		reg->nbindings++;
	} else {
		su_home_deinit(b->home);
		su_home_init(b->home);
	}
	b->contact = sip_contact_dup(b->home, r->m);
	if (b->contact)
		b->contact->m_next = NULL;
	b->instance = r->instance ? su_strdup(b->home, r->instance) : NULL;
	b->reg_id = r->reg_id ? su_strdup(b->home, r->reg_id) : NULL;
	b->call_id = su_strdup(b->home, sip->sip_call_id->i_id);
	b->cseq = sip->sip_cseq->cs_seq;
	b->expires_at = r->now + r->expires;
	expiry_note(reg, b->expires_at);
	b->impi = impi[0] ? su_strdup(b->home, impi) : NULL;
	if (fresh && b->contact)
		binding_device(reg, b, id);
	if (b->flow != flow) {
		if (b->flow)
			b->flow->bindings = g_list_remove(b->flow->bindings, b);
		b->flow = flow;
		flow->bindings = g_list_prepend(flow->bindings, b);
	}
	return b->contact ? 0 : ENOMEM;
}

/* 200 OK listing every binding of the AOR with its remaining time. */
static void reg_reply_ok(struct wic_strans *st, struct wic_reg_aor *a,
			 const struct wic_identity *id, bool outbound,
			 time_t now)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_contact_t *list = NULL, **tail = &list;
	char exp[32] = "expires=", pau[320];

	for (GList *l = a ? a->bindings : NULL; l; l = l->next) {
		struct wic_binding *b = l->data;
		sip_contact_t *m = sip_contact_dup(home, b->contact);
		if (!m)
			continue;
		m->m_next = NULL;
		str_ulong(exp + 8, (unsigned long)(b->expires_at > now ?
						   b->expires_at - now : 0));
		/* Sofia keeps the pointer it is given, not a copy */
		msg_header_replace_param(home, (msg_common_t *)m,
					 su_strdup(home, exp));
		*tail = m;
		tail = &m->m_next;
	}
	/* RFC 7315: the client learns its identity, its number too. */
	if (id->grant.number[0])
		str_join(pau, sizeof pau, "P-Associated-URI: <", id->aor,
			 ">, <tel:", id->grant.number, ">", NULL);
	else
		str_join(pau, sizeof pau, "P-Associated-URI: <", id->aor, ">",
			 NULL);
	wic_strans_reply(st, SIP_200_OK, SIPTAG_CONTACT(list),
			 TAG_IF(outbound, SIPTAG_REQUIRE_STR("outbound")),
			 SIPTAG_HEADER_STR(pau), TAG_END());
	su_home_deinit(home);
}

/* Applies Contact @p i of @p rr: removes, refreshes or adds its binding. */
static int reg_apply_one(struct wic_reg *reg, const struct wic_identity *id,
			 struct wic_flow *flow, struct reg_req *rr, size_t n,
			 size_t i, const sip_t *sip)
{
	struct wic_binding *b = rr[i].b;
	struct wic_reg_aor *a;

	if (!rr[i].expires) {
		if (!b)
			return 0;
		for (size_t j = i + 1; j < n; j++)
			if (rr[j].b == b)
				rr[j].b = NULL;
		binding_remove(reg, b, "un-registered");
		return 0;
	}
	a = aor_get(reg, id->aor, id);
	if (!a)
		return ENOMEM;
	if (!b) {   /* an earlier Contact of this request may have made it */
		rr[i].b = binding_find(a, &rr[i], flow);
	}
	return binding_apply(reg, a, flow, &rr[i], sip, id);
}

/* The flow's earlier identity is another one than @p id. */
static bool flow_bound_elsewhere(const struct wic_flow *flow,
				 const struct wic_identity *id)
{
	const struct wic_identity *f = &flow->ident;

	if (f->how == WIC_AUTHN_NONE)
		return false;
	if (f->grant.number[0])
		return strcmp(f->aor, id->aor) != 0;
	return !wic_ident_names(id, f->aor);
}

/* Picks the tenant and proves the identity; answers and fails otherwise. */
static int reg_authenticate(struct wic_reg *reg, struct wic_flow *flow,
			    struct wic_strans *st, sip_t *sip, const char *aor,
			    struct wic_identity *id)
{
	const url_t *ruri = sip->sip_request->rq_url;
	const struct wic_tenant *t;
	time_t now = time(NULL);

	t = wic_tenant_for(reg->wic, flow->origin, ruri->url_host);
	if (!t) {
		log_warn("reg", flow->id, "REGISTER for domain %s: not served for "
			 "Origin \"%s\"", ruri->url_host ? ruri->url_host : "-",
			 flow->origin);
		wic_strans_reply(st, 403, "Domain Not Served Here", TAG_END());
		return EPERM;
	}
	if (flow->ident.how != WIC_AUTHN_NONE && !sip->sip_authorization &&
	    flow->ident.tenant == t &&
	    (flow->ident_from_handshake ||
	     flow->ident.how == WIC_AUTHN_ANONYMOUS) &&
	    (!flow->ident.until || flow->ident.until > now)) {
		*id = flow->ident;
	} else if (wic_ident_is_anonymous_request(t->conf, sip)) {
		wic_ident_anonymous(flow, t, sip, id);
	} else if (wic_auth_request(flow, st, sip, t, id)) {
		return EACCES;
	}
	if (!wic_ident_names(id, aor) && !id->grant.number[0] &&
	    !ident_managed(reg->wic->ident, t->conf->name)) {
		log_warn("reg", flow->id, "REGISTER for %s refused: credentials "
			 "cover %s", aor, id->aor);
		reg->wic->auth_fail[WIC_AUTH_NOT_COVERED]++;
		wic_strans_reply(st, 403, "Identity Not Covered By Credentials",
				 TAG_END());
		return EPERM;
	}
	if (wic_ident_register(reg->wic, flow, st, id))
		return EPERM;
	if (!wic_ident_names(id, aor)) {
		log_warn("reg", flow->id, "REGISTER for %s refused: credentials "
			 "cover %s", aor, id->aor);
		reg->wic->auth_fail[WIC_AUTH_NOT_COVERED]++;
		wic_strans_reply(st, 403, "Identity Not Covered By Credentials",
				 TAG_END());
		return EPERM;
	}
	if (flow_bound_elsewhere(flow, id)) {
		wic_strans_reply(st, 403, "Flow Bound To Another Identity", TAG_END());
		return EPERM;
	}
	return 0;
}

static int reg_wildcard(struct wic_reg *reg, struct wic_strans *st,
			sip_t *sip, struct wic_reg_aor *a)
{
	if (sip->sip_contact->m_next || !sip->sip_expires ||
	    sip->sip_expires->ex_delta != 0) {
		wic_strans_reply(st, 400, "Wildcard Contact Needs Expires 0 Alone",
				 TAG_END());
		return EINVAL;
	}
	while (a && a->bindings) {
		struct wic_binding *b = a->bindings->data;
		bool last = !a->bindings->next;
		binding_remove(reg, b, "un-registered (*)");
		if (last)
			a = NULL;
	}
	return 0;
}

/* A REGISTER that left the number without devices: its hold starts; a
 * number this very request allocated and never used is freed at once. */
static void reg_release_unbound(struct wic_reg *reg,
				const struct wic_identity *id)
{
	if (!id->grant.number[0] || g_hash_table_lookup(reg->aors, id->aor))
		return;
	(id->grant.fresh ? ident_discard : ident_release)(reg->wic->ident,
		id->tenant->conf->name, id->grant.number);
}

static void reg_do(struct wic_reg *reg, struct wic_flow *flow,
		   struct wic_strans *st, sip_t *sip, struct wic_identity *id)
{
	struct reg_req rr[16];
	struct wic_reg_aor *a = g_hash_table_lookup(reg->aors, id->aor);
	time_t now = time(NULL);
	bool outbound = false;
	size_t n = 0;

	if (sip->sip_contact && sip->sip_contact->m_url->url_type == url_any) {
		if (reg_wildcard(reg, st, sip, a))
			return;
		a = g_hash_table_lookup(reg->aors, id->aor);
		log_info("reg", flow->id, "REGISTER aor=%s * -> 200", id->aor);
		reg_reply_ok(st, a, id, false, now);
		return;
	}
	memset(rr, 0, sizeof rr);
	if (reg_parse(reg, st, sip, a, flow, rr, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		if (rr[i].reg_id)
			outbound = true;
		rr[i].now = now;
		if (reg_apply_one(reg, id, flow, rr, n, i, sip)) {
			wic_strans_reply(st, 500, "Out of Memory", TAG_END());
			return;
		}
	}
	a = g_hash_table_lookup(reg->aors, id->aor);
	log_info("reg", flow->id, "REGISTER aor=%s contacts=%zu -> 200 bindings=%u%s%s",
		 id->aor, n, a ? g_list_length(a->bindings) : 0,
		 id->alias[0] ? " as=" : "", id->alias);
	/* the 200 waits for the commit: wic_flow_held() */
	reg_reply_ok(st, a, id, outbound && sip->sip_supported &&
		     sip_has_feature(sip->sip_supported, "outbound"), now);
}

void wic_reg_on_register(struct wic_reg *reg, struct wic_flow *flow,
			 struct wic_strans *st, sip_t *sip)
{
	struct wic_identity id;
	char aor[256];

	if (wic_sip_aor(NULL, sip->sip_to->a_url, aor, sizeof aor)) {
		wic_strans_reply(st, 400, "Invalid AOR in To", TAG_END());
		return;
	}
	if ((sip->sip_request->rq_url->url_type != url_sip &&
	     sip->sip_request->rq_url->url_type != url_sips) ||
	    !sip->sip_request->rq_url->url_host) {   /* RFC 3261 10.3 */
		wic_strans_reply(st, 416, "REGISTER Needs a SIP Domain URI", TAG_END());
		return;
	}
	memset(&id, 0, sizeof id);
	/* a new user's number and device: one store transaction, not two */
	store_batch_begin(reg->wic->store);
	if (reg_authenticate(reg, flow, st, sip, aor, &id)) {
		reg_release_unbound(reg, &id);
		store_batch_commit(reg->wic->store);
		return;
	}
	if (flow->ident.how == WIC_AUTHN_NONE || !flow->ident_from_handshake ||
	    flow->ident.how == WIC_AUTHN_ANONYMOUS ||
	    (id.until && id.until > flow->ident.until) || id.grant.number[0])
		flow->ident = id;   /* the freshest credentials */
	reg_do(reg, flow, st, sip, &id);
	reg_release_unbound(reg, &id);
	store_batch_commit(reg->wic->store);
}

size_t wic_lookup(struct wic *wic, const char *aor, struct wic_target *out,
		  size_t max)
{
	struct wic_reg_aor *a = g_hash_table_lookup(wic->reg->aors, aor);
	time_t now = time(NULL);
	size_t n = 0;

	for (GList *l = a ? a->bindings : NULL; l && n < max; l = l->next) {
		struct wic_binding *b = l->data;
		if (!b->flow || !b->flow->wsi || b->expires_at <= now)
			continue;
		out[n].flow = b->flow;
		out[n].contact = b->contact;
		n++;
	}
	return n;
}

/* One device for wic_registrations(). */
static int reg_report(const struct wic_reg_aor *a, const struct wic_binding *b,
		      time_t now, wic_reg_f *fn, void *arg)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const struct wic_flow *f = b->flow;
	struct wic_reg_info r = {
		.aor = a->aor,
		.tenant = a->tenant[0] ? a->tenant :
			  f && f->ident.tenant ? f->ident.tenant->conf->name : "",
		.number = a->number,
		.contact = url_as_string(home, b->contact->m_url),
		.instance = b->instance ? b->instance : "",
		.impi = b->impi ? b->impi : "",
		.peer = f ? f->peer : "",
		.tls = f && f->tls,
		.flow_id = f ? f->id : 0,
		.expires_in = (long)(b->expires_at - now),
	};
	int res = fn(arg, &r);

	su_home_deinit(home);
	return res;
}

int wic_registrations(struct wic *wic, const char *tenant, wic_reg_f *fn,
		      void *arg)
{
	GHashTableIter it;
	gpointer v;
	time_t now = time(NULL);
	int res = 0;

	g_hash_table_iter_init(&it, wic->reg->aors);
	while (!res && g_hash_table_iter_next(&it, NULL, &v)) {
		const struct wic_reg_aor *a = v;
		for (GList *l = a->bindings; !res && l; l = l->next) {
			const struct wic_binding *b = l->data;
			const struct wic_flow *f = b->flow;
			const char *t = a->tenant[0] ? a->tenant :
				f && f->ident.tenant ? f->ident.tenant->conf->name : "";
			if (b->expires_at <= now || (tenant && strcmp(tenant, t)))
				continue;
			res = reg_report(a, b, now, fn, arg);
		}
	}
	return res;
}
