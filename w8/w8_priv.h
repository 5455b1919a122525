/**
 * @file w8_priv.h  Private to w8/: the trunk objects. Ownership: struct w8
 * owns the trunks; a trunk owns its nua agent, its registration and probe
 * objects and its legs (a leg lives until its dialog ends and the call core
 * has released it).
 */
#ifndef WTPF_W8_PRIV_H
#define WTPF_W8_PRIV_H

#include "w8.h"
#include "util/histo.h"

#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/su_alloc.h>

struct conf_trunk;

/** TLS contexts a trunk's Sofia agent may make (IPv4, IPv6...). */
#define W8_TLS_CTX_MAX 4

/** RFC 4028 Min-SE floor: the smallest session interval accepted. */
#define W8_MIN_SE 90

/** What a nua handle's magic points to: every such object starts with it. */
enum w8_obj_kind { W8_OBJ_REG = 1, W8_OBJ_PROBE, W8_OBJ_LEG };
struct w8_obj {
	enum w8_obj_kind kind;
};

/** One P-CSCF of a trunk's list. */
struct w8_pcscf {
	char *uri;                  /**< as configured */
	char *route;                /**< the same with ;lr, for Route headers */
	struct sockaddr_storage addr;   /**< its address, for the source check */
	socklen_t addrlen;          /**< 0 when not known (a name) */
	bool up;                    /**< last probe or transaction succeeded */
	time_t last_ok;
};

/** REGISTER state of a registration-mode trunk. */
struct w8_reg {
	struct w8_obj obj;
	struct w8_trunk *trunk;
	nua_handle_t *nh;
	bool registered;
	bool auth_tried;
	bool unregistering;
	unsigned failures;          /**< consecutive, for the back-off */
	su_timer_t *retry;
	char *service_route;        /**< Service-Route of the last 200, or NULL */
};

/** OPTIONS probing of one P-CSCF. */
struct w8_probe {
	struct w8_obj obj;
	struct w8_trunk *trunk;
	size_t index;               /**< which P-CSCF */
	nua_handle_t *nh;           /**< pending OPTIONS, or NULL */
};

struct w8_trunk {
	struct w8 *w8;
	const struct conf_trunk *conf;
	su_home_t home[1];
	nua_t *nua;
	struct w8_pcscf *pcscf;
	size_t pcscf_count;
	size_t serving;             /**< index of the serving P-CSCF */
	struct w8_reg reg;
	struct w8_probe *probes;
	su_timer_t *probe_timer;
	su_timer_t *tick;           /**< each second: w8_ring_tick(), w8_overload_tick() */
	char last_error[160];
	char contact[256];          /**< our bnc Contact (registration mode) */
	char local_host[128];       /**< host:port of the bind URI */
	bool shut_down;             /**< nua_r_shutdown seen */
	int stopping;               /**< 0 running, 1 un-registering, 2 nua shut down */
	bool withdrawn;             /**< no enabled identity set uses it */
	struct w8_leg *legs;        /**< every leg of the trunk, until freed */
	size_t acks_pending;        /**< answered calls from IMS awaiting their ACK */
	bool overloaded;            /**< new INVITEs from IMS get 503 (w8_overload.c) */
	unsigned long overload_refused; /**< INVITEs refused so, since the start */
	unsigned long overload_logged;  /**< overload_refused when last logged */
	unsigned long overload_began;   /**< overload_refused when logged as begun */
	int64_t overload_log_at;    /**< when logged last (monotonic µs); 0: not
				     in a logged overload */
	struct ssl_ctx_st *tls_ctx[W8_TLS_CTX_MAX]; /**< Sofia's TLS contexts
				     (a reference each), for reloads */
	size_t tls_ctx_count;
};

struct w8 {
	const struct conf *conf;
	su_root_t *root;
	struct w8_trunk *trunks;
	size_t trunk_count;
	w8_incoming_h *in_h;
	void *in_arg;
	void *loop_q;               /**< GQueue of local-call events (w8_loop.c) */
	su_timer_t *loop_timer;
	struct histo sip_time[W8_SIP_KINDS];
};

/* w8_pcscf.c */
int w8_pcscf_load(struct w8_trunk *t);

/** The P-CSCF new requests go through: registration mode the one the
 *  trunk is registered through (NULL while not registered), static mode
 *  the first of the list that is up (NULL: none). */
const struct w8_pcscf *w8_pcscf_serving(const struct w8_trunk *t);

/** A request through the P-CSCF t->pcscf[@p index] failed in a way that
 *  blames it: marks that one down; in registration mode, when it is the
 *  one registered through, the trunk fails over to the next. Callers that
 *  know which P-CSCF a request went through name it here. */
void w8_pcscf_down(struct w8_trunk *t, size_t index, const char *why);

/** As w8_pcscf_down() for the one w8_pcscf_serving() names now (static
 *  mode: the first one up), for callers that did not keep which one a
 *  request went through. */
void w8_pcscf_failed(struct w8_trunk *t, const char *why);

void w8_pcscf_ok(struct w8_trunk *t, size_t index);
bool w8_pcscf_is_source(const struct w8_trunk *t, const msg_t *msg);
const char *w8_pcscf_transport(const struct w8_pcscf *pc);

/** Our Contact for a request or answer through @p via: the bind address
 *  with @p via's transport, and @p user (may be NULL) as user part. */
char *w8_contact_via(su_home_t *home, const struct w8_trunk *t,
		    const struct w8_pcscf *via, const char *user);

/** w8_contact_via() through the serving P-CSCF (static mode: the first
 *  one up; the first of the list when none is). */
char *w8_contact(su_home_t *home, const struct w8_trunk *t, const char *user);
void w8_trunk_error(struct w8_trunk *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* w8_tls.c: the TLS policy of trunk @p t applies to the TLS contexts
 * Sofia-SIP creates between w8_tls_begin() and w8_tls_end(); the latter
 * returns 0, or (with @p check) EPROTO after a log line when the trunk has
 * TLS but no context took the policy. */
void w8_tls_begin(struct w8_trunk *t);
int w8_tls_end(bool check);
/* Drops the trunk's references to its TLS contexts (after nua_destroy). */
void w8_tls_free(struct w8_trunk *t);
/* The TPTAG_TLS_VERIFY_POLICY value for trunk @p c. */
unsigned w8_tls_verify_policy(const struct conf_trunk *c);

/* w8_names.c: from w8_names_freeze(true) on, Sofia-SIP resolves numeric
 * addresses only; a host name is refused and logged, never looked up in
 * the loop's thread. */
void w8_names_freeze(bool on);

/* w8_recv.c: Sofia-SIP reads at most this many bytes of a stream at once
 * (a larger backlog costs it O(n^2) copying; see the file). */
#define W8_RECV_MAX 16384

/* w8_reg.c */
int w8_reg_start(struct w8_trunk *t);
void w8_reg_event(struct w8_reg *reg, nua_event_t ev, int status,
		  const char *phrase, const sip_t *sip);
void w8_reg_restart(struct w8_trunk *t);
bool w8_reg_stop(struct w8_trunk *t);
void w8_reg_free(struct w8_trunk *t);

/* w8_probe.c */
int w8_probe_start(struct w8_trunk *t);
void w8_probe_event(struct w8_probe *p, nua_event_t ev, int status,
		    const char *phrase, const sip_t *sip);
void w8_probe_free(struct w8_trunk *t);

/** A call leg: a dialog with IMS (nua handle), or one end of a local call. */
struct w8_leg {
	struct w8_obj obj;
	struct w8_trunk *trunk;
	nua_handle_t *nh;
	w8_leg_h *h;
	void *arg;
	char call_id[128];
	char called[64];     /**< incoming: the number called, for our Contact */
	size_t pcscf;        /**< outgoing: the P-CSCF its INVITE went through */
	bool require_100rel; /**< incoming: IMS required reliable provisionals */
	bool incoming;
	bool answered;       /**< a 2xx to the initial INVITE went or came */
	bool terminated;
	bool released;
	bool loop;           /**< a local call: no nua handle, a peer leg */
	bool ack_pending;    /**< our re-INVITE without SDP: its 2xx waits
				  for w8_leg_ack() */
	bool awaiting_ack;   /**< incoming: our 2xx went, its ACK has not
				  come (counted in trunk->acks_pending) */
	struct w8_leg *peer; /**< loop: the other end, or NULL once it is gone */
	msg_t *update;       /**< an UPDATE from IMS awaiting our answer (a
				  reference), or NULL */
	struct {             /**< incoming, ringing: its last provisional
				  response, repeated by w8_ring.c (status 0:
				  none to repeat); copies in the handle's home */
		int status;
		char *phrase, *sdp, *extra;
		int64_t at;  /**< sent at (g_get_monotonic_time()) */
	} ring;
	struct w8_leg **le_prev, *le_next;   /**< in trunk->legs */
};

/* w8_leg.c */
struct w8_leg *w8_leg_new(struct w8_trunk *t);
void w8_leg_free(struct w8_leg *leg);
void w8_leg_report(struct w8_leg *leg, enum w8_event ev, int status,
		   const char *phrase, const sip_t *sip);
void w8_leg_event(struct w8_leg *leg, nua_event_t ev, int status,
		  const char *phrase, const sip_t *sip);
void w8_leg_incoming(struct w8_trunk *t, nua_handle_t *nh, const sip_t *sip);

/* w8_overload.c: refusing INVITEs from IMS while ACKs lag */
/** Marks incoming @p leg as waiting for the ACK of its 2xx, or no longer
 *  (ACK come, leg ended): counts it in its trunk, which becomes overloaded
 *  at trunk.overload_pending_acks waiting and recovers at half of it. */
void w8_overload_ack_wait(struct w8_leg *leg, bool waiting);
/** Whether a new INVITE from IMS on @p t must be refused (503), counted. */
bool w8_overload_refuse(struct w8_trunk *t);
/** Logs @p t's overload as it begins, lasts (every W8_OVERLOAD_LOG_S)
 *  and ends, with the INVITEs refused. Run each second. */
void w8_overload_tick(struct w8_trunk *t);

/* w8_ring.c: provisional responses of ringing calls, repeated */
/** Notes the response @p status just sent on incoming @p leg: a
 * provisional (101-199, not reliable) is kept, with copies of its
 * @p phrase, @p sdp and @p extra headers, to be sent again while the call
 * rings; a final one ends that. */
void w8_ring_note(struct w8_leg *leg, int status, const char *phrase,
		  const char *sdp, const char *extra);
/** Repeats the provisional of each of @p t's legs ringing for
 *  trunk.ringing_refresh seconds since it was sent. Run each second. */
void w8_ring_tick(struct w8_trunk *t);

/* w8_loop.c: local calls, both ends inside the gateway */
int w8_loop_respond(struct w8_leg *leg, int status, const char *phrase,
		    const char *sdp);
int w8_loop_reoffer(struct w8_leg *leg, const char *sdp, bool update);
int w8_loop_info(struct w8_leg *leg, const char *ctype, const char *body);
int w8_loop_hangup(struct w8_leg *leg, const char *reason);
void w8_loop_forget(struct w8_leg *leg);
void w8_loop_stop(struct w8 *w8);

#endif
