/**
 * @file call_priv.h  Private to gateway/call/. The core owns the calls; a
 * call owns its WIC dialogs and its W8 leg (released to the trunk when the
 * call ends).
 */
#ifndef WTPF_CALL_PRIV_H
#define WTPF_CALL_PRIV_H

#include "gateway/call/call.h"
#include "gateway/wic/wic.h"
#include "w8/w8.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct conf_trunk;
struct media_sdp;

#define CALL_MAX_DEVICES 8     /**< devices rung per user */
#define CALL_CONTACT "<sip:wtpf@wtpf.invalid;transport=ws;ob>"
#define CALL_REASON_ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

/** One log line about a call, tagged with its correlation id and number. */
#define call_log(call, fmt, ...) \
	log_info("call", 0, "corr=%s call=%lu " fmt, (call)->corr, (call)->id, \
		 ##__VA_ARGS__)

enum call_dir { CALL_OUT = 1, CALL_IN };
enum call_state { CALL_SETUP = 0, CALL_EARLY, CALL_ANSWERED, CALL_ENDED };

/** One device ringing for an inbound call. */
struct call_branch {
	struct call *call;
	struct wic_dialog *wd;
	struct wic_ctrans *ct;     /**< the INVITE, until its final answer */
	int status;                /**< best status so far */
	bool done;
	unsigned stage;            /**< the routing step that rang it */
	char number[32];           /**< the user it belongs to */
	char aor[256];             /**< and its AOR */
};

/** Where an inbound call is being routed (call_route.c). */
struct call_route {
	char tenant[64];           /**< the tenant of the served number */
	char served[32];           /**< the number being rung (user or group) */
	struct call_plan *plan;    /**< the services' plan for it (owned) */
	unsigned stage;            /**< bumped each time the target changes */
	size_t hunt_next;          /**< next member to ring (hunting) */
	guint ring_timer;          /**< no answer / member timeout (GLib id) */
	guint group_timer;         /**< the group's overflow timeout */
	char *history;             /**< History-Info entries so far (owned) */
	char *hi_last;             /**< index of the last entry ("1.1") */
	char *diversion;           /**< Diversion entries (RFC 5806) */
	unsigned diversions;       /**< diversions so far (incl. earlier hops) */
	GPtrArray *visited;        /**< numbers already served (loop check) */
	char *offer_wic;           /**< the offer as browsers get it */
	char *offer_ims;           /**< the offer as IMS sent it */
	const char *caller;        /**< From toward browsers (call's home) */
	const char *ims_from;      /**< the caller as IMS named it in From */
	const char *ims_identity;  /**< and its asserted identity, or NULL */
};

/** A request waiting for the other side's answer (re-INVITE, UPDATE). */
struct call_pending {
	struct wic_strans *wst;    /**< from the WIC, answered when W8 answers */
	struct wic_ctrans *wct;    /**< to the WIC, for a request from W8 */
	bool w8_waiting;           /**< W8 asked; answer with w8_leg_respond */
};

/** The parties of a call, for the exchange after a transfer (call_join.c). */
enum call_party { CALL_PARTY_WIC, CALL_PARTY_LEG, CALL_PARTY_FWD };

/** A fresh offer/answer between the parties a transfer joined. */
struct call_join {
	uint8_t step;              /**< none, waiting for the offer, the answer */
	uint8_t offerer, answerer; /**< enum call_party */
	uint32_t cseq;             /**< the browser's 2xx to ACK (offerer WIC) */
};

struct call {
	unsigned long id;
	time_t started, answered;  /**< Unix times; answered 0 before */
	su_home_t home[1];         /**< small strings living as long as the call */
	struct call_core *cc;
	enum call_dir dir;
	enum call_state state;
	char aor[256];             /**< the WIC user's identity */
	/* WIC side */
	struct wic_dialog *wd;     /**< OUT: our UAS dialog; IN: the winner's */
	struct wic_strans *wst;    /**< OUT: the INVITE from the WIC, until final */
	struct call_branch **branches;   /**< owned, each allocated */
	size_t branch_count, branch_cap;
	struct call_route route;   /**< IN: where it is being routed */
	struct w8_leg *fwd;        /**< IN: a diverted call's leg to IMS */
	bool fwd_done;             /**< fwd's dialog ended (BYE or terminated) */
	bool fwd_waiting;          /**< fwd asked (re-INVITE/UPDATE): answer it */
	const struct w8_trunk *w8t;  /**< the trunk of the leg */
	char tenant[64];           /**< the WIC user's tenant, once known */
	char party[32];            /**< the WIC user's number (busy state) */
	bool busy_told;            /**< the busy hook was told it started */
	const char *remote;        /**< the IMS party as browsers see it (home) */
	unsigned long xfer_from;   /**< a transfer's call: the transferor's call */
	uint32_t xfer_cseq;        /**< the transferor's REFER (NOTIFY id) */
	struct call_branch *winner;
	/* W8 side */
	struct w8_leg *leg;
	bool leg_done;             /**< W8_EV_TERMINATED seen */
	bool w8_final_sent;        /**< IN: a final answer went to IMS */
	bool wic_gone;             /**< the WIC side ended its dialog itself */
	struct call_pending pend;
	struct call_join join;
	char *key;                 /**< "call-id;local-tag" of the WIC dialog */
	/* SDP */
	const struct conf_trunk *trunk;  /**< SDP policy toward IMS */
	struct media_sdp *offer;   /**< the offer awaiting its answer */
	struct media_sdp *last_wic, *last_ims;  /**< last SDP from each side */
	/* Its record (call_cdr.c) */
	char corr[20];             /**< correlation id: log lines, the record */
	long long started_ms, answered_ms;   /**< Unix ms; answered 0 before */
	int status;                /**< setup's final status (200: answered) */
	bool recording;            /**< from call_cdr_start() to _end() */
	void *notes;               /**< json_t array: what the services did;
				        NULL: nothing yet */
	struct call_legrec *legs;  /**< the legs it had, for the record */
	unsigned nlegs;
};

/** One leg a call had, as its record lists it. */
struct call_legrec {
	const char *side;          /**< "wic" or "ims" (static) */
	const char *role;          /**< static */
	char *call_id;             /**< owned */
};

struct call_core {
	const struct conf *conf;
	struct ident *ident;       /**< the tenants' numbers (borrowed) */
	const struct call_hooks *hooks;   /**< the services, or NULL */
	void *hooks_arg;
	struct wic *wic;
	struct w8 *w8;
	GHashTable *calls;         /**< id -> struct call * (owned) */
	GHashTable *by_dialog;     /**< key -> struct call * */
	unsigned long next_id;
	struct call_stats stats;
};

/* call.c */
char *call_payload(const sip_t *sip);
struct call *call_new(struct call_core *cc, enum call_dir dir);
/**
 * True when the tenant of @p call (call->tenant) already has its
 * max_calls other calls; counted over the calls in progress.
 */
bool call_tenant_full(const struct call *call);
/** "Retry-After: N\r\n" for the limits' 503s, in @p buf. */
const char *call_retry_after(const struct call *call, char *buf, size_t size);
void call_index(struct call *call, struct wic_dialog *wd);
void call_end(struct call *call, const char *why);
int call_status_map(int status);

/* call_out.c: WIC -> IMS */
void call_out_start(struct call_core *cc, struct wic_flow *flow,
		    struct wic_strans *st, const sip_t *sip);
void call_out_w8_event(void *arg, struct w8_leg *leg, enum w8_event ev,
		       int status, const char *phrase, const sip_t *sip);

void call_busy(struct call *call, bool busy);
void call_answered(struct call *call);

/* call_in.c: IMS -> WIC */
size_t call_in_lookup(struct call_core *cc, const struct w8_trunk *t,
		      const char *called, struct wic_target *out, size_t max,
		      char *aor, size_t aor_size);
int call_in_serves(struct call_core *cc, const struct w8_trunk *t,
		   const char *called, char *tenant, size_t tsize,
		   char num[32]);
void call_in_start(void *arg, struct w8_trunk *t, struct w8_leg *leg,
		   const char *called, const sip_t *sip);
void call_in_fail(struct call *call, int status, const char *phrase,
		  const char *why);
void call_in_all_failed(struct call *call, unsigned stage);
size_t call_in_ring(struct call *call, const char *number);
char *call_in_caller(struct call_core *cc, const char *tenant,
		     su_home_t *home, const sip_t *sip);

void call_leg_adopt(struct call *call, struct w8_leg *leg);

/* call_xfer.c: REFER from a browser, blind and attended (Replaces) */
void call_xfer_refer(struct call *call, struct wic_strans *st, const sip_t *sip);
void call_xfer_answered(struct call *nc);
bool call_xfer_failed(struct call *nc, int status, const char *phrase);
void call_xfer_ended(struct call *nc);

/* call_cdr.c: the call's record, its correlation id and the counters */
void call_cdr_start(struct call *call);
void call_cdr_answered(struct call *call);
void call_note(struct call *call, const char *service, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void call_cdr_legs(struct call *call);

/** Frees what call_cdr_start() and the notes left, when call_cdr_end()
 * did not run. */
void call_cdr_free(struct call *call);
void call_cdr_end(struct call *call, const char *why);

/* call_join.c: fresh SDP between the parties a transfer joined (RFC 3725) */
int call_join_start(struct call *call, enum call_party offerer,
		    enum call_party answerer);
bool call_join_busy(const struct call *call);
bool call_join_w8_event(struct call *call, enum call_party from,
			enum w8_event ev, int status, const sip_t *sip);
void call_join_abort(struct call *call);

/* call_route.c: what an inbound call does (services' plan, diversion,
 * ring groups) */
void call_route_start(struct call *call, const char *number);
void call_route_stage_failed(struct call *call, int status);
void call_route_history_in(struct call *call, const sip_t *sip);
void call_route_external(struct call *call, const char *target);
void call_route_free(struct call *call);
void call_route_destroy(struct call *call);

/* call_fwd.c: a call diverted to IMS (a second W8 leg) */
int call_fwd_start(struct call *call, const char *target);
void call_fwd_adopt(struct call *call, struct w8_leg *leg);
bool call_fwd_in_event(struct call *call, enum w8_event ev, int status,
		       const char *phrase, const sip_t *sip);

/* call_sdp.c: SDP crossing from one side to the other */
enum call_side { CALL_TO_IMS = 0, CALL_TO_WIC };
int call_sdp_pass(struct call *call, enum call_side to, bool offer,
		  const sip_t *sip, char **out, const char **why);
int call_sdp_pass_text(struct call *call, enum call_side to, bool offer,
		       const char *body, size_t len, bool final, char **out,
		       const char **why);
/** The last SDP that came from IMS (@p from CALL_TO_WIC: it went toward
 *  the browser) or from the browser, as received (malloc'd), or NULL. */
char *call_sdp_last(const struct call *call, enum call_side from);
void call_sdp_free(struct call *call);

/* call_dialog.c: in-dialog requests, both directions */
void call_dialog_wic_request(struct call *call, struct wic_strans *st,
			     const sip_t *sip);
bool call_dialog_w8_event(struct call *call, enum w8_event ev, int status,
			  const char *phrase, const sip_t *sip);

#endif
