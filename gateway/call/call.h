/**
 * @file call.h  The call core: a B2BUA between WebSocket clients (the WIC
 * edge) and IMS (the W8 trunk). Each call has a WIC side (one dialog, or
 * several forked branches while an inbound call rings) and a W8 side (one
 * leg); SIP is rebuilt on each side, so nothing of one side's addressing
 * (Call-ID, tags, Via, Contact, .invalid hosts) reaches the other.
 */
#ifndef WTPF_CALL_H
#define WTPF_CALL_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct ident;
struct wic;
struct w8;
struct call_core;

/* ---- the services' hooks ------------------------------------------- */

/** What the services decided for a call a browser places. */
struct call_out_route {
	int status;             /**< 0: place the call; else refuse with it */
	const char *phrase;     /**< static reason phrase for @p status */
	char target[256];       /**< the number or URI toward IMS */
	bool emergency;         /**< an emergency number: passed untouched */
};

/** How many members a ring group may have. */
#define CALL_GROUP_MAX 100

/** What a number stands for, and what happens to calls to it. */
enum call_plan_kind {
	CALL_PLAN_USER = 0,   /**< a user: ring its devices, divert as set */
	CALL_PLAN_GROUP,      /**< a ring group: hunt among its members */
};

/** The services' plan for an inbound call to one number. */
struct call_plan {
	enum call_plan_kind kind;
	unsigned max_diversions;    /**< hop limit over the whole call */
	bool announce;              /**< 181 toward the caller on diversion */
	/* CALL_PLAN_USER: diversion targets, "" for none */
	char unconditional[256];
	char busy[256];
	char no_answer[256];
	char not_reachable[256];
	unsigned no_answer_time;    /**< seconds */
	/* CALL_PLAN_GROUP */
	char group[64];             /**< its name, for logs */
	bool hunt;                  /**< one member at a time, in order */
	char members[CALL_GROUP_MAX][32];   /**< who may ring now, in order */
	size_t member_count;
	unsigned member_timeout;    /**< hunting: seconds per member */
	unsigned timeout;           /**< seconds before overflow */
	char overflow[256];         /**< then, or with nobody to ring; "": 480 */
};

/** A finished call, as the services' record hook gets it (all borrowed). */
struct call_record {
	const char *corr;          /**< correlation id, as in its log lines */
	const char *direction;     /**< "outbound" (browser -> IMS) or "inbound" */
	const char *tenant;        /**< or "" */
	const char *user;          /**< the browser user's AOR, or the number called */
	const char *remote;        /**< the IMS party, or "" */
	long long started, answered, ended;   /**< Unix ms; answered 0: never */
	int status;                /**< 200 when answered, else the final status */
	const char *reason;        /**< why it ended */
	const char *legs;          /**< JSON array: side, Call-ID, role */
	const char *services;      /**< JSON array: what the services did */
};

/** Calls counted since the start, by direction (0 outbound, 1 inbound). */
#define CALL_STATUS_SLOTS 401  /**< failures 300..699, and one for others */
struct call_stats {
	unsigned long started[2];
	unsigned long answered[2];
	unsigned long failed[2][CALL_STATUS_SLOTS];  /**< [dir][status - 300] */
};

/** The counters (borrowed; they live as long as the core). */
const struct call_stats *call_core_stats(const struct call_core *cc);

/**
 * The table of hooks the call core calls at its decision points (seed 001's
 * services: number transformation, barring, emergency numbers...). Any
 * member may be NULL. The hooks run on the loop and must not block.
 */
struct call_hooks {
	/** A browser of @p tenant dialled @p dialled: fill @p r (target is
	 *  preset to @p dialled, status to 0). */
	void (*out_route)(void *arg, const char *tenant, const char *dialled,
			  struct call_out_route *r);
	/** The calling number of an inbound call for @p tenant as its
	 *  browsers see it: write it to @p out and return true, or false to
	 *  leave it. */
	bool (*in_caller)(void *arg, const char *tenant, const char *number,
			  char *out, size_t size);
	/** A call reached @p number of @p tenant (normalised): fill @p p
	 *  (zeroed; kind USER). Members that cannot take a call now (paused,
	 *  in wrap-up, busy without call waiting) are already left out. */
	void (*in_plan)(void *arg, const char *tenant, const char *number,
			struct call_plan *p);
	/** A user of @p tenant started (@p busy) or finished a call. */
	void (*busy)(void *arg, const char *tenant, const char *number,
		     bool busy);
	/** A call ended: keep its record. */
	void (*record)(void *arg, const struct call_record *r);
};

/** Sets the services' hooks (@p h and @p arg borrowed; NULL: none). */
void call_core_hooks_set(struct call_core *cc, const struct call_hooks *h,
			 void *arg);

/**
 * Creates the call core and hooks it to @p wic and @p w8; @p ident says
 * which tenant and trunk serve a number (all borrowed; they must outlive
 * the core). Returns 0 or ENOMEM.
 */
int call_core_create(struct call_core **ccp, const struct conf *conf,
		     struct wic *wic, struct w8 *w8, struct ident *ident);

/** Takes a new configuration (borrowed; it must outlive the core). */
void call_core_reload(struct call_core *cc, const struct conf *conf);

/** Hangs up every call (BYE or CANCEL on both sides). */
void call_core_shutdown(struct call_core *cc);

/** One call in progress, as the admin API lists it (all borrowed). */
struct call_info {
	unsigned long id;
	const char *direction;     /**< "outbound" (browser -> IMS) or "inbound" */
	const char *state;         /**< "setup", "early", "answered" */
	const char *user;          /**< the browser user's AOR, or the number called */
	const char *remote;        /**< the IMS party, or "" */
	const char *tenant;        /**< or "" when not yet known */
	long long started;         /**< Unix time */
	long long answered;        /**< Unix time, 0 before the answer */
};

/** Called per call by call_core_foreach(); non-zero stops. */
typedef int (call_info_f)(void *arg, const struct call_info *c);

/** Walks the calls in progress. Returns 0 or what @p fn returned. */
int call_core_foreach(struct call_core *cc, call_info_f *fn, void *arg);

/** Hangs up call @p id on both sides. Returns 0 or ENOENT. */
int call_core_hangup(struct call_core *cc, unsigned long id, const char *why);

/** Number of calls in progress. O(1). */
size_t call_core_count(const struct call_core *cc);

/** Frees the core; calls still present are dropped. NULL is allowed. */
void call_core_destroy(struct call_core *cc);

#endif
