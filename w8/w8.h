/**
 * @file w8.h  The W8 trunk toward the P-CSCF (Gm for business trunking,
 * TS 24.525): one Sofia nua agent per trunk over UDP, TCP and TLS, in
 * registration mode (one RFC 6140 REGISTER for the whole number range) or
 * static mode (OPTIONS keepalive, requests accepted only from the
 * configured P-CSCFs), with failover along an ordered list of P-CSCFs.
 *
 * Call legs on the trunk are dialogs the call core drives through this API;
 * SDP passes through untouched (nua's media handling is off).
 */
#ifndef WTPF_W8_H
#define WTPF_W8_H

#include <stdbool.h>
#include <stddef.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/sip.h>

struct conf;
struct conf_trunk;
struct w8;
struct w8_trunk;
struct w8_leg;

/** What a trunk can do now. */
enum w8_state {
	W8_STATE_DOWN = 0,      /**< no usable P-CSCF */
	W8_STATE_REGISTERING,   /**< registration mode: REGISTER under way */
	W8_STATE_UP,            /**< registered, or a P-CSCF answers OPTIONS */
	W8_STATE_WITHDRAWN,     /**< no enabled identity set uses it */
};

/**
 * Creates every trunk of @p conf (borrowed; must outlive the set) on @p root
 * and starts registering / probing. Returns 0 or an errno code after a log
 * line naming the trunk and the problem (e.g. the bind address is taken).
 */
int w8_create(struct w8 **w8p, su_root_t *root, const struct conf *conf);

/**
 * Starts a clean stop: registered trunks un-register. Returns true when
 * nothing is pending any more; poll until true (or a deadline), then
 * w8_destroy().
 */
bool w8_shutdown(struct w8 *w8);

/**
 * Frees everything. NULL is allowed. A trunk whose SIP stack has not
 * finished shutting down (no w8_shutdown() poll reached true: a start
 * that failed, or a stop past its deadline) is shut down here, running
 * the default GLib context for up to 2 s; call it before the su_root
 * goes.
 */
void w8_destroy(struct w8 *w8);

/**
 * Loads a TLS trunk's agent.pem and cafile.pem again (SIGHUP): new TLS
 * connections, both ways, use the new certificate and CA list; open ones
 * keep theirs. A key that does not match its certificate, or files that
 * cannot be read, change nothing. Returns 0 (also for a trunk without
 * TLS), or an errno code after a log line naming the trunk.
 */
int w8_trunk_tls_reload(struct w8_trunk *t);

/** Number of trunks; w8_trunk_at() walks them. */
size_t w8_trunk_count(const struct w8 *w8);

/** The @p i-th trunk (0 <= i < w8_trunk_count()). */
struct w8_trunk *w8_trunk_at(struct w8 *w8, size_t i);

/** The trunk called @p name, or the first one for NULL or "". */
struct w8_trunk *w8_trunk_get(struct w8 *w8, const char *name);

/** Name of a trunk. */
const char *w8_trunk_name(const struct w8_trunk *t);

/** The configuration of a trunk (its SDP policy, identity options...). */
const struct conf_trunk *w8_trunk_conf(const struct w8_trunk *t);

/**
 * State of a trunk; @p pcscf (may be NULL) gets the serving P-CSCF URI and
 * @p last_error (may be NULL) the last failure, or "" when none.
 */
enum w8_state w8_trunk_state(const struct w8_trunk *t, const char **pcscf,
			     const char **last_error);

/**
 * Withdraws the trunk (@p withdraw true: no enabled identity set uses it;
 * registration mode un-registers, and does not register again) or puts it
 * back in service (registers again). Calls through a withdrawn trunk are
 * refused: new INVITEs to it get 503, outgoing ones ENETDOWN.
 */
void w8_trunk_withdraw(struct w8_trunk *t, bool withdraw);

/** What the SIP processing time histograms of the trunks are kept for. */
enum w8_sip_kind { W8_SIP_INVITE = 0, W8_SIP_OTHER, W8_SIP_RESPONSE,
		   W8_SIP_KINDS };

struct histo;

/**
 * The time the gateway spends on a SIP message from IMS (calls' requests
 * and responses), from nua's event to its hand-over to the browsers' side,
 * for @p kind; its label ("INVITE", "other", "response") in @p label.
 */
const struct histo *w8_sip_time(const struct w8 *w8, enum w8_sip_kind kind,
				const char **label);

/** Printable name of a state. */
const char *w8_state_name(enum w8_state s);

/**
 * How many reads of the trunks' TCP connections were cut to 16 KiB
 * because more was waiting (a P-CSCF sending faster than the
 * gateway read): a sign of backlog. Process-wide. O(1).
 */
unsigned long w8_reads_bounded(void);

/** Answered calls from IMS on @p t whose ACK has not come yet. */
size_t w8_trunk_acks_pending(const struct w8_trunk *t);

/** INVITEs from IMS that @p t refused with 503 because it was overloaded
 *  (trunk.overload_pending_acks), since the gateway started. */
unsigned long w8_trunk_overload_refused(const struct w8_trunk *t);

/* ---- call legs ------------------------------------------------------- */

/** What happened on a leg. */
enum w8_event {
	W8_EV_PROGRESS,    /**< 1xx to our INVITE (sip may carry SDP) */
	W8_EV_ANSWERED,    /**< 2xx to our INVITE (ACK sent by the trunk) */
	W8_EV_FAILED,      /**< final non-2xx to our INVITE, or no answer */
	W8_EV_CANCELLED,   /**< their INVITE to us was cancelled */
	W8_EV_ACKED,       /**< the ACK of our 2xx arrived */
	W8_EV_REINVITE,    /**< in-dialog INVITE: answer with w8_leg_respond() */
	W8_EV_UPDATE,      /**< UPDATE received: answer with w8_leg_respond() */
	W8_EV_INFO,        /**< INFO received (answered 200 by the trunk) */
	W8_EV_REINVITE_DONE, /**< answer to our re-INVITE / UPDATE (status) */
	W8_EV_BYE,         /**< the far end hung up */
	W8_EV_TERMINATED,  /**< the dialog is gone: release the leg */
};

/**
 * Called for each event of a leg. @p sip is the message that caused it (or
 * NULL), borrowed for the call only.
 */
typedef void (w8_leg_h)(void *arg, struct w8_leg *leg, enum w8_event ev,
			int status, const char *phrase, const sip_t *sip);

/**
 * Called for a new INVITE from IMS. @p called is the called number or
 * user part (Request-URI user part, else To user part). The handler must
 * take the leg: w8_leg_bind() it and answer with w8_leg_respond().
 */
typedef void (w8_incoming_h)(void *arg, struct w8_trunk *t,
			     struct w8_leg *leg, const char *called,
			     const sip_t *sip);

/** Sets who receives new INVITEs (NULL: they get 480). */
void w8_incoming_handler_set(struct w8 *w8, w8_incoming_h *h, void *arg);

/** What an outgoing INVITE says about its caller and callee. */
struct w8_call_params {
	const char *target;     /**< number (+E.164 or digits) or sip:/tel: URI */
	const char *identity;   /**< caller IMPU asserted toward IMS */
	const char *display;    /**< caller display name, or NULL */
	const char *privacy;    /**< Privacy header value, or NULL */
	const char *sdp;        /**< offer, or NULL */
	const char *from;       /**< From value instead of the one made of
				     identity (a diverted call's caller), or NULL */
	const char *extra;      /**< extra header lines ("Name: value\r\n"...:
				     History-Info, Diversion), or NULL */
};

/**
 * Sends an INVITE on trunk @p t. Returns 0 with a new leg in @p *legp that
 * reports to @p h; ENETDOWN when the trunk has no usable P-CSCF; EINVAL for
 * a target that is not a number or URI.
 */
int w8_leg_invite(struct w8_trunk *t, const struct w8_call_params *p,
		  w8_leg_h *h, void *arg, struct w8_leg **legp);

/**
 * Connects a call to another user of the gateway without leaving it (a
 * tenant's internal calls, when it keeps them local): the far end reaches
 * the incoming handler as a new INVITE for @p called on trunk @p t, and
 * what either end does arrives as events on the other. Same contract as
 * w8_leg_invite() otherwise.
 */
int w8_leg_invite_local(struct w8_trunk *t, const struct w8_call_params *p,
			const char *called, w8_leg_h *h, void *arg,
			struct w8_leg **legp);

/** True for a leg of a local call (w8_leg_invite_local(), either end). */
bool w8_leg_is_local(const struct w8_leg *leg);

/** Binds an incoming leg to its handler. */
void w8_leg_bind(struct w8_leg *leg, w8_leg_h *h, void *arg);

/**
 * Answers the pending request of a leg (the initial INVITE, a re-INVITE or
 * an UPDATE) with @p status, optionally with SDP. @p extra is a block of
 * extra header lines ("Name: value\r\n"...), or NULL.
 */
int w8_leg_respond(struct w8_leg *leg, int status, const char *phrase,
		   const char *sdp, const char *extra);

/** Sends a re-INVITE (or UPDATE when @p update) with @p sdp. */
int w8_leg_reoffer(struct w8_leg *leg, const char *sdp, bool update);

/**
 * Sends a re-INVITE without SDP (RFC 3725 third-party call control): the
 * far end offers in its 2xx (W8_EV_REINVITE_DONE), and the ACK waits for
 * w8_leg_ack() with the answer. ENOTSUP for a local call's leg, EPIPE
 * before the answer or after the end, EBUSY while one is pending.
 */
int w8_leg_ask_offer(struct w8_leg *leg);

/**
 * Sends the ACK of the 2xx to w8_leg_ask_offer()'s re-INVITE, with the
 * answer @p sdp (NULL: none). EALREADY when no such 2xx waits.
 */
int w8_leg_ack(struct w8_leg *leg, const char *sdp);

/** Relays an INFO with @p content_type and @p body. */
int w8_leg_info(struct w8_leg *leg, const char *content_type, const char *body);

/**
 * Ends the leg: CANCEL before an answer (with @p reason as a Reason header
 * value, or NULL), BYE after it. The handler still gets W8_EV_TERMINATED.
 */
int w8_leg_hangup(struct w8_leg *leg, const char *reason);

/** Drops the call core's interest: no more events; frees when the dialog ends. */
void w8_leg_release(struct w8_leg *leg);

/** Call-ID of the leg, for logs. */
const char *w8_leg_call_id(const struct w8_leg *leg);

#endif
