/**
 * @file wic_limits.c  Overload protection of the edge (configuration group
 * `limits`): WebSocket connections in all and per source address, per
 * address rates of REGISTER and INVITE (token buckets), a cap on pending
 * transactions, and the lockout of an address or a user after repeated
 * failed authentication. Refusals are 503 with Retry-After (or, for a
 * connection, a refused handshake) and counted by reason.
 *
 * State is kept per source address only while it matters: an address
 * with no connection, full buckets and no lock is forgotten by the tick.
 */
#include "wic_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/* What the edge knows of one source address. */
struct wic_peer {
	unsigned flows;
	double reg_tokens, inv_tokens;
	gint64 refilled;            /* µs, monotonic */
	unsigned fails;
	time_t fail_since;
	time_t locked_until;
	time_t refused_log;         /* last refusal logged (one a second) */
};

/* Failed authentications of one user ("tenant/user"). */
struct wic_user_fails {
	unsigned fails;
	time_t fail_since;
	time_t locked_until;
};

struct wic_limits {
	GHashTable *peers;          /* address -> struct wic_peer, owned */
	GHashTable *users;          /* "tenant/user" -> struct wic_user_fails */
	unsigned long refused[WIC_LIMIT_COUNT];
	unsigned long lockouts[2];  /* address, user */
	time_t swept;               /* last sweep of idle entries */
};

static const char *const limit_names[WIC_LIMIT_COUNT] = {
	[WIC_LIMIT_CONNECTIONS] = "connections",
	[WIC_LIMIT_ADDRESS_CONNECTIONS] = "address_connections",
	[WIC_LIMIT_REGISTER_RATE] = "register_rate",
	[WIC_LIMIT_INVITE_RATE] = "invite_rate",
	[WIC_LIMIT_TRANSACTIONS] = "transactions",
	[WIC_LIMIT_LOCKED] = "locked_out",
};

int wic_limits_create(struct wic *wic)
{
	struct wic_limits *l = calloc(1, sizeof *l);

	if (!l)
		return ENOMEM;
	l->peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	l->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	wic->limits = l;
	return 0;
}

void wic_limits_destroy(struct wic *wic)
{
	struct wic_limits *l = wic->limits;

	if (!l)
		return;
	g_hash_table_destroy(l->peers);
	g_hash_table_destroy(l->users);
	free(l);
	wic->limits = NULL;
}

static const struct conf_limits *conf_of(const struct wic *wic)
{
	return &wic->conf->limits;
}

static struct wic_peer *peer_get(struct wic *wic, const char *addr)
{
	struct wic_peer *p = g_hash_table_lookup(wic->limits->peers, addr);
	const struct conf_limits *c = conf_of(wic);

	if (p)
		return p;
	p = g_new0(struct wic_peer, 1);
	p->reg_tokens = 2.0 * c->register_rate;
	p->inv_tokens = 2.0 * c->invite_rate;
	p->refilled = g_get_monotonic_time();
	g_hash_table_insert(wic->limits->peers, g_strdup(addr), p);
	return p;
}

/* Tops the buckets up for the time since the last refill. */
static void peer_refill(struct wic_peer *p, const struct conf_limits *c)
{
	gint64 now = g_get_monotonic_time();
	double s = (double)(now - p->refilled) / 1e6;

	p->refilled = now;
	p->reg_tokens += s * c->register_rate;
	if (p->reg_tokens > 2.0 * c->register_rate)
		p->reg_tokens = 2.0 * c->register_rate;
	p->inv_tokens += s * c->invite_rate;
	if (p->inv_tokens > 2.0 * c->invite_rate)
		p->inv_tokens = 2.0 * c->invite_rate;
}

static void refuse_log(struct wic *wic, struct wic_peer *p, unsigned long id,
		       enum wic_limit why, const char *addr)
{
	time_t now = time(NULL);

	wic->limits->refused[why]++;
	if (p && p->refused_log == now)
		return;             /* one line a second per address */
	if (p)
		p->refused_log = now;
	log_warn("limits", id, "refused peer=%s: %s (%lu so far)", addr,
		 limit_names[why], wic->limits->refused[why]);
}

const char *wic_limits_connect(struct wic *wic, const char *addr)
{
	const struct conf_limits *c = conf_of(wic);
	struct wic_peer *p = g_hash_table_lookup(wic->limits->peers, addr);

	if (g_hash_table_size(wic->flows) >= (guint)c->max_connections) {
		refuse_log(wic, p, 0, WIC_LIMIT_CONNECTIONS, addr);
		return "too many connections";
	}
	if (p && p->flows >= (unsigned)c->max_connections_per_address) {
		refuse_log(wic, p, 0, WIC_LIMIT_ADDRESS_CONNECTIONS, addr);
		return "too many connections from this address";
	}
	return NULL;
}

bool wic_limits_full(struct wic *wic)
{
	static time_t logged;
	time_t now;

	if (g_hash_table_size(wic->flows) < (guint)conf_of(wic)->max_connections)
		return false;
	wic->limits->refused[WIC_LIMIT_CONNECTIONS]++;
	now = time(NULL);
	if (logged != now) {        /* one line a second */
		logged = now;
		log_warn("limits", 0, "connection closed at accept: %d "
			 "connections (max_connections; %lu refused so far)",
			 conf_of(wic)->max_connections,
			 wic->limits->refused[WIC_LIMIT_CONNECTIONS]);
	}
	return true;
}

void wic_limits_flow_open(struct wic *wic, const char *addr)
{
	peer_get(wic, addr)->flows++;
}

void wic_limits_flow_closed(struct wic *wic, const char *addr)
{
	struct wic_peer *p = g_hash_table_lookup(wic->limits->peers, addr);

	if (p && p->flows)
		p->flows--;
}

/* A stateless 503 with Retry-After to @p msg (taken). */
static void reply_503(struct wic_flow *flow, msg_t *msg, const char *phrase)
{
	char ra[16];
	tagi_t tags[2];
	msg_t *rsp;

	snprintf(ra, sizeof ra, "%d", conf_of(flow->wic)->retry_after);
	tags[0] = (tagi_t){ SIPTAG_RETRY_AFTER_STR(ra) };
	tags[1] = (tagi_t){ TAG_END() };
	rsp = wic_sip_response(msg, 503, phrase, NULL, tags);
	if (rsp)
		wic_flow_send_msg(flow, rsp);
	msg_destroy(rsp);
	msg_destroy(msg);
}

bool wic_limits_request(struct wic_flow *flow, msg_t *msg, const sip_t *sip)
{
	struct wic *wic = flow->wic;
	const struct conf_limits *c = conf_of(wic);
	sip_method_t m = sip->sip_request->rq_method;
	struct wic_peer *p;
	enum wic_limit why;

	if (wic_tl_pending(wic->tl) >= (size_t)c->max_transactions) {
		why = WIC_LIMIT_TRANSACTIONS;
		p = g_hash_table_lookup(wic->limits->peers, flow->peer);
		goto refuse;
	}
	if (m != sip_method_register && m != sip_method_invite)
		return true;
	if ((m == sip_method_register && !c->register_rate) ||
	    (m == sip_method_invite && !c->invite_rate))
		return true;
	p = peer_get(wic, flow->peer);
	peer_refill(p, c);
	if (m == sip_method_register) {
		if (p->reg_tokens >= 1.0) {
			p->reg_tokens -= 1.0;
			return true;
		}
		why = WIC_LIMIT_REGISTER_RATE;
	} else {
		if (p->inv_tokens >= 1.0) {
			p->inv_tokens -= 1.0;
			return true;
		}
		why = WIC_LIMIT_INVITE_RATE;
	}
refuse:
	refuse_log(wic, p, flow->id, why, flow->peer);
	reply_503(flow, msg, why == WIC_LIMIT_TRANSACTIONS ? "Overloaded" :
			     "Too Many Requests From This Address");
	return false;
}

static char *user_key(const char *tenant, const char *user)
{
	return g_strdup_printf("%s/%s", tenant ? tenant : "", user);
}

bool wic_limits_locked(struct wic *wic, const char *addr, unsigned long id,
		       const char *tenant, const char *user)
{
	struct wic_peer *p = g_hash_table_lookup(wic->limits->peers, addr);
	time_t now = time(NULL);
	bool locked = p && p->locked_until > now;

	if (!locked && user && *user) {
		char *k = user_key(tenant, user);
		struct wic_user_fails *u = g_hash_table_lookup(wic->limits->users, k);

		g_free(k);
		locked = u && u->locked_until > now;
	}
	if (locked)
		refuse_log(wic, p, id, WIC_LIMIT_LOCKED, addr);
	return locked;
}

/* Counts one failure in @p fails since @p since; true when it locks. */
static bool fail_count(unsigned *fails, time_t *since, time_t *until,
		       const struct conf_limits *c, time_t now)
{
	if (!c->auth_failures)
		return false;
	if (now - *since >= c->auth_window) {
		*since = now;
		*fails = 0;
	}
	if (++*fails < (unsigned)c->auth_failures)
		return false;
	*fails = 0;
	*until = now + c->lockout_time;
	return true;
}

void wic_limits_auth_failed(struct wic *wic, const char *addr,
			    unsigned long id, const char *tenant,
			    const char *user)
{
	const struct conf_limits *c = conf_of(wic);
	struct wic_peer *p = peer_get(wic, addr);
	time_t now = time(NULL);

	if (fail_count(&p->fails, &p->fail_since, &p->locked_until, c, now)) {
		wic->limits->lockouts[0]++;
		log_warn("limits", id, "address %s locked out for %d s: "
			 "%d failed authentications within %d s", addr,
			 c->lockout_time, c->auth_failures, c->auth_window);
	}
	if (user && *user) {
		char *k = user_key(tenant, user);
		struct wic_user_fails *u = g_hash_table_lookup(wic->limits->users, k);

		if (!u) {
			u = g_new0(struct wic_user_fails, 1);
			g_hash_table_insert(wic->limits->users, k, u);
		} else {
			g_free(k);
		}
		if (fail_count(&u->fails, &u->fail_since, &u->locked_until, c, now)) {
			wic->limits->lockouts[1]++;
			log_warn("limits", id, "user %s of tenant %s locked "
				 "out for %d s: %d failed authentications within "
				 "%d s", user, tenant ? tenant : "-",
				 c->lockout_time, c->auth_failures, c->auth_window);
		}
	}
}

static gboolean peer_idle(gpointer k, gpointer v, gpointer arg)
{
	const struct wic_peer *p = v;
	const struct wic *wic = arg;
	const struct conf_limits *c = conf_of(wic);
	time_t now = time(NULL);

	(void)k;
	return !p->flows && p->locked_until <= now &&
	       now - p->fail_since >= c->auth_window &&
	       g_get_monotonic_time() - p->refilled >= 2 * G_USEC_PER_SEC;
}

static gboolean user_idle(gpointer k, gpointer v, gpointer arg)
{
	const struct wic_user_fails *u = v;
	const struct wic *wic = arg;
	time_t now = time(NULL);

	(void)k;
	return u->locked_until <= now &&
	       now - u->fail_since >= conf_of(wic)->auth_window;
}

void wic_limits_tick(struct wic *wic, time_t now)
{
	struct wic_limits *l = wic->limits;

	if (now - l->swept < 10)     /* a sweep every 10 s is enough */
		return;
	l->swept = now;
	g_hash_table_foreach_remove(wic->limits->peers, peer_idle, wic);
	g_hash_table_foreach_remove(wic->limits->users, user_idle, wic);
}

const char *wic_limit_name(enum wic_limit why)
{
	return why < WIC_LIMIT_COUNT ? limit_names[why] : "unknown";
}

unsigned long wic_limit_refusals(const struct wic *wic, enum wic_limit why)
{
	return wic->limits && why < WIC_LIMIT_COUNT ? wic->limits->refused[why] : 0;
}

unsigned long wic_limit_lockouts(const struct wic *wic, bool users)
{
	return wic->limits ? wic->limits->lockouts[users] : 0;
}
