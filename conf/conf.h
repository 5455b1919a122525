/**
 * @file conf.h  The gateway's configuration: schema, loader and validation.
 *
 * Every option is declared once, in the schema table of conf.c, with its
 * type, default and bounds. The loader reads a libconfig file, refuses
 * unknown keys, wrong types and out-of-range values, and reports every error
 * as "FILE:LINE: KEY: what is wrong". A loaded configuration is immutable and
 * owned by whoever called conf_load(); free it with conf_free().
 */
#ifndef WTPF_CONF_H
#define WTPF_CONF_H

#include <stdbool.h>
#include <stddef.h>

/** A NULL-terminated array of strings, owned by the configuration. */
typedef char **conf_strv_t;

/** One token issuer trusted by a tenant. */
struct conf_issuer {
	char *issuer;           /**< expected `iss` claim */
	char *audience;         /**< expected `aud` (string or array member) */
	char *keys;             /**< PEM or JWKS file, or an HS* secret file */
	conf_strv_t algorithms; /**< accepted `alg` values, e.g. "ES256" */
};

/** How the trunk presents itself to the P-CSCF. */
enum conf_trunk_mode { CONF_TRUNK_REGISTRATION = 0, CONF_TRUNK_STATIC = 1 };

/** TLS 1.2 suites of wss and of W8 TLS by default: forward-secret AEAD only. */
#define CONF_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1"

/** A W8 trunk toward one IMS network: its P-CSCFs and its credentials. */
struct conf_trunk {
	char *name;             /**< unique name; tenants refer to it */
	char *mode;             /**< "registration" (RFC 6140) or "static" */
	char *bind;             /**< local SIP URI, e.g. sip:127.0.0.1:5090 */
	conf_strv_t pcscf;      /**< ordered P-CSCF URIs; a bare domain uses NAPTR/SRV */
	char *domain;           /**< home network domain (REGISTER Request-URI) */
	char *impu;             /**< the trunk's own public identity */
	char *impi;             /**< its private identity (digest username) */
	char *password;         /**< digest password */
	int register_expires;   /**< seconds asked for in REGISTER */
	int retry_min;          /**< first retry after a failed registration (s) */
	int retry_max;          /**< longest retry interval (s) */
	int options_interval;   /**< static mode: seconds between OPTIONS pings */
	int failover_time;      /**< seconds allowed to move to the next P-CSCF */
	int ringing_refresh;    /**< seconds between repeats of a ringing
				     call's provisional response */
	int overload_pending_acks; /**< answered calls from IMS awaiting ACK at
				     which new INVITEs from IMS get 503; 0: never */
	bool trusted;           /**< in the trust domain: P-Asserted-Identity, else
				     P-Preferred-Identity */
	bool tel_uri;           /**< dialled numbers as tel: (else sip:...;user=phone) */
	char *tls_dir;          /**< Sofia TLS folder (agent.pem, cafile.pem); empty: none */
	bool tls_verify;        /**< refuse a P-CSCF certificate not from cafile.pem
				     or not naming the P-CSCF's host */
	bool tls_verify_client; /**< mutual TLS: connections to the trunk must show
				     a certificate from cafile.pem */
	conf_strv_t tls_peer_names; /**< with tls_verify_client: the certificate
				     names (subjectAltName or CN) accepted */
	char *tls_ciphers;      /**< OpenSSL cipher list for TLS 1.2 */
	char *tls_min_version;  /**< "1.2" or "1.3" */
	int session_expires;    /**< RFC 4028 interval asked for on calls; 0: none */
	bool strip_bundle;      /**< remove a=group:BUNDLE from offers toward IMS */
	conf_strv_t codecs;     /**< codec allow-list toward IMS; empty: all */
	int max_sdp_size;       /**< largest SDP body accepted (bytes) */
	char *resolv_conf;      /**< resolv.conf for NAPTR/SRV/A look-ups; empty: system's */
	bool diversion_header;  /**< diverted INVITEs also carry Diversion (RFC 5806) */
	enum conf_trunk_mode mode_id;  /**< derived from mode */
};

/** A rewriting rule: POSIX ERE and a replacement with $0..$9 (util/rewrite.h). */
struct conf_rule {
	char *match;
	char *replace;
};

/** Call diversion of one number (a row in the store replaces it). */
struct conf_diversion {
	char *identity;         /**< the diverting number */
	char *unconditional;    /**< targets: a number or sip:/tel: URI, "" none */
	char *busy;
	char *no_answer;
	char *not_reachable;    /**< no registered device */
	int no_answer_time;     /**< seconds; 0: the tenant's default */
};

/** How a ring group hunts among its members. */
enum conf_strategy {
	CONF_RING_SIMULTANEOUS = 0, CONF_RING_SEQUENTIAL, CONF_RING_ROUND_ROBIN,
	CONF_RING_LONGEST_IDLE,
};

/** A ring group: a number of the range whose calls go to agents. */
struct conf_group {
	char *number;           /**< the group's own number */
	char *name;
	char *strategy;         /**< simultaneous, sequential, round_robin, longest_idle */
	enum conf_strategy strategy_id;   /**< derived from strategy */
	conf_strv_t members;    /**< the agents' numbers, in hunting order */
	int member_timeout;     /**< seconds each member rings (hunting) */
	int timeout;            /**< seconds before the call overflows */
	char *overflow;         /**< where it then goes; "": 480 */
	bool call_waiting;      /**< ring members already on a call */
	int wrap_up;            /**< seconds a member rests after a call */
};

/** A tenant's services (seed 001), run by gateway/svc/. */
struct conf_services {
	conf_strv_t emergency;      /**< numbers that pass untouched, never diverted */
	conf_strv_t barred;         /**< patterns of destinations refused (403) */
	struct conf_rule *dial_plan;    /**< dialled -> target toward IMS, first match */
	size_t dial_plan_count;
	struct conf_rule *caller_display;   /**< inbound calling number as shown */
	size_t caller_display_count;
	struct conf_diversion *diversions;  /**< per number */
	size_t diversion_count;
	int no_answer_time;         /**< default seconds before "no answer" */
	int max_diversions;         /**< diversions one call may take (hop limit) */
	bool announce_diversion;    /**< 181 toward the caller when diverted */
	struct conf_group *groups;  /**< ring groups */
	size_t group_count;
};

/** How identities are picked from a set's free numbers. */
enum conf_alloc { CONF_ALLOC_SEQUENTIAL = 0, CONF_ALLOC_RANDOM = 1 };

/**
 * One identity set of a tenant (seed 004): numbers agreed with the operator
 * of one trunk. Disabling it withdraws that trunk only.
 */
struct conf_idset {
	char *name;             /**< unique within the tenant */
	char *trunk;            /**< the trunk its numbers are reached through */
	conf_strv_t ranges;     /**< its numbers (as the tenant's ranges) */
	bool enabled;           /**< false: registrations and calls refused */
	bool anonymous;         /**< the pool of users that did not authenticate */
	int max_identities;     /**< identities in use at once; 0: no own limit */
};

/** A third party served by the gateway. */
struct conf_tenant {
	char *name;             /**< short unique name, used in logs and the store */
	char *domain;           /**< SIP domain of its users; also the digest realm */
	conf_strv_t origins;    /**< allowed WebSocket Origins (exact match) */
	bool allow_digest;      /**< offer and accept SIP digest */
	char *trunk;            /**< name of the trunk its calls use */
	bool local_calls;       /**< calls between its own users stay inside */
	int max_calls;          /**< calls at once, both ways; 0: no limit */
	conf_strv_t ranges;     /**< its numbers: explicit, A-B intervals, !wildcards! */
	int max_identities;     /**< identities in use at once (all sets); 0: no limit */
	char *allocation;       /**< "sequential" or "random" */
	enum conf_alloc alloc_id;   /**< derived from allocation */
	int hold_time;          /**< seconds a released number stays with its user */
	char *impi_template;    /**< private identity of each device */
	struct conf_issuer *issuers;
	size_t issuer_count;
	struct conf_services services;
	struct conf_idset *idsets;  /**< further identity sets (the first set,
					 "main", is trunk + ranges) */
	size_t idset_count;
};

struct conf_websocket {
	char *ws_address;
	int ws_port;            /**< 0 disables the plain listener */
	char *wss_address;
	int wss_port;           /**< 0 disables the TLS listener */
	char *tls_certificate;
	char *tls_key;
	int max_frame_size;
	int max_message_size;
	int ping_interval;      /**< seconds; 0 disables pings */
	int idle_timeout;       /**< seconds without a frame before closing */
	int handshake_timeout;
};

/** Overload protection of the WebSocket edge (gateway/wic/wic_limits.c). */
struct conf_limits {
	int max_connections;            /**< WebSocket connections in all */
	int max_connections_per_address;/**< from one source address */
	int register_rate;              /**< REGISTERs a second from one address */
	int invite_rate;                /**< INVITEs a second from one address */
	int max_transactions;           /**< pending transactions toward browsers */
	int auth_failures;              /**< failed authentications that lock */
	int auth_window;                /**< seconds over which they count */
	int lockout_time;               /**< seconds an address or user is locked */
	int retry_after;                /**< Retry-After of the 503s */
};

struct conf_registrar {
	int min_expires;
	int max_expires;
	int default_expires;
};

struct conf_auth {
	int clock_skew;         /**< seconds allowed on exp / nbf */
	int nonce_lifetime;     /**< seconds a digest nonce stays valid */
	int max_nonces;         /**< outstanding nonces kept for replay checks */
};

struct conf_admin {
	char *address;          /**< listener address (default loopback only) */
	int port;               /**< 0 disables the admin listener */
	char *token_file;       /**< file holding the admin API's bearer token */
};

struct conf_store {
	char *path;             /**< SQLite database file */
	int cdr_days;           /**< call records older than this many days are
				     deleted; 0: kept for ever */
	int cdr_commit_ms;      /**< call records are committed together at
				     most this many ms after their call ended;
				     0: each at once */
};

/** The web pages the gateway serves (softphone, operations console). */
struct conf_web {
	char *root;             /**< folder with phone/, console/, vendor/; "": none */
};

struct conf {
	char *file;             /**< the file this was loaded from */
	char *log_level;
	char *log_format;       /**< "text" or "kv" */
	struct conf_websocket websocket;
	struct conf_registrar registrar;
	struct conf_limits limits;
	struct conf_auth auth;
	struct conf_store store;
	struct conf_admin admin;
	struct conf_web web;
	struct conf_tenant *tenants;
	size_t tenant_count;
	struct conf_trunk *trunks;
	size_t trunk_count;
};

/** The trunk called @p name, or NULL. O(trunks). */
const struct conf_trunk *conf_trunk_find(const struct conf *conf,
					 const char *name);

/**
 * Loads and validates @p path. On success stores a new configuration in
 * @p *confp and returns 0. On error returns EINVAL (or errno for I/O) and,
 * when @p errs is not NULL, a newly malloc'd text of all errors, one per
 * line, that the caller frees.
 */
int conf_load(const char *path, struct conf **confp, char **errs);

/**
 * Loads the key file @p path of a token issuer as the daemon will. Returns
 * 0, or an errno code with @p *why set to a static text saying why.
 */
typedef int conf_key_check_h(const char *path, const char **why);

/**
 * As conf_load(), and each issuer's `keys` file that is readable must also
 * pass @p check (NULL: none); one that does not is an error at the line of
 * its `keys` setting: "FILE:LINE: tenants[0].issuers[1].keys: PATH: WHY".
 * conf/ knows no key format: the daemon passes auth/'s loader.
 */
int conf_load_keys(const char *path, conf_key_check_h *check,
		   struct conf **confp, char **errs);

/** Bounds of the admin token (admin.token_file), in characters. */
#define CONF_TOKEN_MIN 16
#define CONF_TOKEN_MAX 512

/**
 * Takes the admin token out of @p text: without leading and trailing white
 * space, CONF_TOKEN_MIN to CONF_TOKEN_MAX characters, none of them a
 * control character. Returns 0 with the token in @p *tokp (malloc'd, the
 * caller frees), or EINVAL (ENOMEM) with the reason in @p why.
 */
int conf_token_parse(const char *text, char **tokp, char *why, size_t whysize);

/**
 * Reads the admin token of the file @p path (as conf_token_parse()). The
 * gateway, its configuration check and wtpfctl all read it this way.
 * Returns 0 with the token in @p *tokp (malloc'd), or an errno code (the
 * file's, or EINVAL) with the reason in @p why.
 */
int conf_token_read(const char *path, char **tokp, char *why, size_t whysize);

/** Called by conf_restart_changes() with the key of one option. */
typedef void conf_key_h(void *arg, const char *key);

/**
 * Calls @p fn with the key (written as in errors: "trunks[0].retry_max")
 * of every option read only at start whose value differs between the
 * configurations @p running and @p loaded: what a reload cannot change.
 * A list of such options whose length differs is named once, as a whole.
 * O(options).
 */
void conf_restart_changes(const struct conf *running, const struct conf *loaded,
			  conf_key_h *fn, void *arg);

/** Frees a configuration from conf_load(). NULL is allowed. */
void conf_free(struct conf *conf);

/** The tenant called @p name, or NULL. O(tenants). */
const struct conf_tenant *conf_tenant_find(const struct conf *conf,
					   const char *name);

/** True when @p s is one of the strings of @p v. */
bool conf_strv_has(conf_strv_t v, const char *s);

/**
 * Writes the schema as a documented example configuration (every option,
 * its type, default and bounds) to @p out. Used to keep conf/wtpf.conf
 * complete: `wtpfd --print-schema`.
 */
void conf_schema_print(void *out);

#endif
