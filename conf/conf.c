/**
 * @file conf.c  Table-driven configuration loader (libconfig).
 *
 * Each option is one row of a schema table: name, type, where it lands in
 * struct conf, default, bounds and a line of documentation. The loader walks
 * the file against the tables, so unknown keys, wrong types and bounds are
 * checked in one place; semantic checks that tie several options together
 * follow in conf_check.c.
 */
#include "conf.h"
#include "conf_priv.h"

#include <errno.h>
#include <libconfig.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF(type, field) offsetof(type, field)

static const char *const alg_default[] = { "HS256", "RS256", "ES256", NULL };

static const struct conf_opt issuer_opts[] = {
	{ "issuer", CT_STR, OFF(struct conf_issuer, issuer), .required = 1,
	  .doc = "expected `iss` claim of the tokens" },
	{ "audience", CT_STR, OFF(struct conf_issuer, audience),
	  .doc = "expected `aud` claim; empty: not checked" },
	{ "keys", CT_PATH, OFF(struct conf_issuer, keys), .required = 1,
	  .doc = "PEM public key, JWKS file (keys chosen by kid) or HMAC secret file" },
	{ "algorithms", CT_STRV, OFF(struct conf_issuer, algorithms),
	  .def_strv = alg_default, .doc = "accepted `alg` values: HS256, RS256, ES256" },
	{ NULL }
};

static const struct conf_opt rule_opts[] = {
	{ "match", CT_STR, OFF(struct conf_rule, match), .required = 1,
	  .doc = "POSIX extended regular expression (anchor it with ^ and $)" },
	{ "replace", CT_STR, OFF(struct conf_rule, replace), .required = 1,
	  .doc = "replacement: $0 the match, $1..$9 its groups, $$ a dollar; "
		 "a result starting tel: or sip: is used as the URI as it is" },
	{ NULL }
};

static const struct conf_opt diversion_opts[] = {
	{ "identity", CT_STR, OFF(struct conf_diversion, identity), .required = 1,
	  .doc = "the diverting number (one of the tenant's)" },
	{ "unconditional", CT_STR, OFF(struct conf_diversion, unconditional),
	  .def_str = "", .doc = "divert every call here (a number of the "
	  "tenant, a ring group, an external number or a sip:/tel: URI)" },
	{ "busy", CT_STR, OFF(struct conf_diversion, busy), .def_str = "",
	  .doc = "divert here when every device answers busy" },
	{ "no_answer", CT_STR, OFF(struct conf_diversion, no_answer),
	  .def_str = "", .doc = "divert here when nobody answers in time" },
	{ "not_reachable", CT_STR, OFF(struct conf_diversion, not_reachable),
	  .def_str = "", .doc = "divert here when no device is registered" },
	{ "no_answer_time", CT_INT, OFF(struct conf_diversion, no_answer_time),
	  .def_int = 0, .min = 0, .max = 3600,
	  .doc = "seconds of ringing before no_answer; 0: the tenant's default" },
	{ NULL }
};

static const struct conf_opt group_opts[] = {
	{ "number", CT_STR, OFF(struct conf_group, number), .required = 1,
	  .doc = "the group's number (one of the tenant's, used by no user)" },
	{ "name", CT_STR, OFF(struct conf_group, name), .def_str = "",
	  .doc = "a name for logs and the console" },
	{ "strategy", CT_STR, OFF(struct conf_group, strategy),
	  .def_str = "simultaneous", .doc = "simultaneous (ring all), "
	  "sequential (in order), round_robin (each call starts one further), "
	  "longest_idle (the member idle longest first)" },
	{ "members", CT_STRV, OFF(struct conf_group, members), .required = 1,
	  .doc = "the agents' numbers; each rings on all its devices" },
	{ "member_timeout", CT_INT, OFF(struct conf_group, member_timeout),
	  .def_int = 15, .min = 1, .max = 600,
	  .doc = "hunting: seconds each member rings before the next" },
	{ "timeout", CT_INT, OFF(struct conf_group, timeout), .def_int = 60,
	  .min = 1, .max = 3600,
	  .doc = "seconds before the call goes to overflow" },
	{ "overflow", CT_STR, OFF(struct conf_group, overflow), .def_str = "",
	  .doc = "where calls go after the timeout, or when no member can take "
	  "them; empty: 480" },
	{ "call_waiting", CT_BOOL, OFF(struct conf_group, call_waiting),
	  .def_int = 0, .doc = "also ring members already on a call" },
	{ "wrap_up", CT_INT, OFF(struct conf_group, wrap_up), .def_int = 0,
	  .min = 0, .max = 3600,
	  .doc = "seconds a member is left alone after a call" },
	{ NULL }
};

static const struct conf_opt services_opts[] = {
	{ "emergency", CT_STRV, OFF(struct conf_services, emergency),
	  .doc = "emergency numbers: passed to IMS untouched (no dial plan, "
		 "no barring) and never diverted" },
	{ "barred", CT_STRV, OFF(struct conf_services, barred),
	  .doc = "regular expressions of barred destinations (e.g. premium "
		 "rate), matched against the dialled number and the number the "
		 "dial plan makes of it: 403" },
	{ "dial_plan", CT_LIST, OFF(struct conf_services, dial_plan),
	  .sub = rule_opts, .elem_size = sizeof(struct conf_rule),
	  .count_off = OFF(struct conf_services, dial_plan_count),
	  .doc = "what a browser dials -> the Request-URI toward IMS; the first "
		 "rule that matches applies, no match passes the number as dialled" },
	{ "caller_display", CT_LIST, OFF(struct conf_services, caller_display),
	  .sub = rule_opts, .elem_size = sizeof(struct conf_rule),
	  .count_off = OFF(struct conf_services, caller_display_count),
	  .doc = "the calling number of an inbound call as the browser sees "
		 "it (first match)" },
	{ "diversion", CT_LIST, OFF(struct conf_services, diversions),
	  .sub = diversion_opts, .elem_size = sizeof(struct conf_diversion),
	  .count_off = OFF(struct conf_services, diversion_count),
	  .doc = "call diversion per number (settings in the store take "
		 "precedence)" },
	{ "no_answer_time", CT_INT, OFF(struct conf_services, no_answer_time),
	  .def_int = 20, .min = 1, .max = 3600,
	  .doc = "seconds of ringing before diversion on no answer" },
	{ "max_diversions", CT_INT, OFF(struct conf_services, max_diversions),
	  .def_int = 5, .min = 1, .max = 20,
	  .doc = "diversions one call may take (counted in History-Info); "
		 "past it the call fails with 480" },
	{ "announce_diversion", CT_BOOL, OFF(struct conf_services, announce_diversion),
	  .def_int = 0, .doc = "tell the caller with 181 Call Is Being Forwarded" },
	{ "ring_groups", CT_LIST, OFF(struct conf_services, groups),
	  .sub = group_opts, .elem_size = sizeof(struct conf_group),
	  .count_off = OFF(struct conf_services, group_count),
	  .doc = "ring groups of the contact centre" },
	{ NULL }
};

static const struct conf_opt idset_opts[] = {
	{ "name", CT_STR, OFF(struct conf_idset, name), .required = 1,
	  .doc = "name of the set, unique within the tenant (\"main\" is the "
		 "tenant's own trunk and ranges)" },
	{ "trunk", CT_STR, OFF(struct conf_idset, trunk), .required = 1,
	  .doc = "trunk through which its numbers are reached" },
	{ "ranges", CT_STRV, OFF(struct conf_idset, ranges), .required = 1,
	  .doc = "its numbers, written as the tenant's ranges" },
	{ "enabled", CT_BOOL, OFF(struct conf_idset, enabled), .def_int = 1,
	  .doc = "false withdraws the set: its registrations and calls are "
		 "refused, and its trunk un-registers when no set uses it" },
	{ "anonymous", CT_BOOL, OFF(struct conf_idset, anonymous), .def_int = 0,
	  .doc = "the pool for users who do not authenticate (REGISTER for "
		 "sip:anonymous@DOMAIN with no credentials)" },
	{ "max_identities", CT_INT, OFF(struct conf_idset, max_identities),
	  .def_int = 0, .min = 0, .max = 10000000,
	  .doc = "identities of this set in use at once; 0: only the tenant's limit" },
	{ NULL }
};

static const struct conf_opt tenant_opts[] = {
	{ "name", CT_STR, OFF(struct conf_tenant, name), .required = 1,
	  .doc = "short unique name of the third party" },
	{ "domain", CT_STR, OFF(struct conf_tenant, domain), .required = 1,
	  .doc = "SIP domain of the tenant's users; also its digest realm" },
	{ "origins", CT_STRV, OFF(struct conf_tenant, origins), .required = 1,
	  .doc = "WebSocket Origins allowed to connect (exact match)" },
	{ "allow_digest", CT_BOOL, OFF(struct conf_tenant, allow_digest),
	  .def_int = 0, .doc = "offer and accept SIP digest for users in the store" },
	{ "trunk", CT_STR, OFF(struct conf_tenant, trunk), .def_str = "",
	  .doc = "trunk its calls use; empty: the first trunk" },
	{ "ranges", CT_STRV, OFF(struct conf_tenant, ranges),
	  .doc = "numbers agreed with the operator: +E164 numbers, intervals "
		 "(+4930123400000-+4930123409999), wildcards (tel:+3314529!.*!)" },
	{ "local_calls", CT_BOOL, OFF(struct conf_tenant, local_calls),
	  .def_int = 0, .doc = "calls between the tenant's own registered users "
			       "stay inside the gateway (default: through IMS, "
			       "so the operator's services and charging apply)" },
	{ "max_calls", CT_INT, OFF(struct conf_tenant, max_calls), .def_int = 0,
	  .min = 0, .max = 1000000,
	  .doc = "calls of the tenant at once, both ways; past it a new call "
		 "gets 503 with Retry-After; 0: no limit" },
	{ "max_identities", CT_INT, OFF(struct conf_tenant, max_identities),
	  .def_int = 0, .min = 0, .max = 10000000,
	  .doc = "identities in use at once over all its sets (held ones "
		 "count); 0: as many as the ranges hold" },
	{ "allocation", CT_STR, OFF(struct conf_tenant, allocation),
	  .def_str = "sequential",
	  .doc = "how a number is picked for a user whose token names none: "
		 "sequential (lowest free) or random" },
	{ "hold_time", CT_INT, OFF(struct conf_tenant, hold_time),
	  .def_int = 3600, .min = 0, .max = 31536000,
	  .doc = "seconds a number stays with its user after the last device "
		 "went away, before anybody else can get it" },
	{ "impi_template", CT_STR, OFF(struct conf_tenant, impi_template),
	  .def_str = "{user}.{device}@{domain}",
	  .doc = "private identity of each device: {user} (the number), "
		 "{subject}, {device} (from +sip.instance) and {domain}" },
	{ "issuers", CT_LIST, OFF(struct conf_tenant, issuers), .sub = issuer_opts,
	  .elem_size = sizeof(struct conf_issuer),
	  .count_off = OFF(struct conf_tenant, issuer_count),
	  .doc = "token issuers trusted for Bearer authentication" },
	{ "services", CT_GROUP, OFF(struct conf_tenant, services),
	  .sub = services_opts,
	  .doc = "the third party's services: number transformation, barring, "
		 "emergency numbers, call diversion and ring groups" },
	{ "identity_sets", CT_LIST, OFF(struct conf_tenant, idsets),
	  .sub = idset_opts, .elem_size = sizeof(struct conf_idset),
	  .count_off = OFF(struct conf_tenant, idset_count),
	  .doc = "further identity sets: other trunks' numbers, or the "
		 "anonymous pool" },
	{ NULL }
};

static const struct conf_opt trunk_opts[] = {
	{ "name", CT_STR, OFF(struct conf_trunk, name), .required = 1,
	  .doc = "unique name of the trunk" },
	{ "mode", CT_STR, OFF(struct conf_trunk, mode), .def_str = "registration",
	  .doc = "registration (one RFC 6140 REGISTER for the range) or static" },
	{ "bind", CT_STR, OFF(struct conf_trunk, bind), .def_str = "sip:127.0.0.1:5090",
	  .doc = "local SIP URI to listen on: sip: for UDP and TCP, sips: for "
		 "TLS (with tls_dir)" },
	{ "pcscf", CT_STRV, OFF(struct conf_trunk, pcscf), .required = 1,
	  .doc = "P-CSCFs in order of preference (SIP URIs; a domain alone is "
		 "resolved with NAPTR/SRV)" },
	{ "domain", CT_STR, OFF(struct conf_trunk, domain), .required = 1,
	  .doc = "home network domain: the REGISTER Request-URI" },
	{ "impu", CT_STR, OFF(struct conf_trunk, impu), .def_str = "",
	  .doc = "the trunk's public identity (registration mode)" },
	{ "impi", CT_STR, OFF(struct conf_trunk, impi), .def_str = "",
	  .doc = "the trunk's private identity: digest username" },
	{ "password", CT_STR, OFF(struct conf_trunk, password), .def_str = "",
	  .doc = "digest password provisioned in the HSS" },
	{ "register_expires", CT_INT, OFF(struct conf_trunk, register_expires),
	  .def_int = 600, .min = 60, .max = 86400,
	  .doc = "seconds asked for in REGISTER; refreshed well before expiry" },
	{ "retry_min", CT_INT, OFF(struct conf_trunk, retry_min), .def_int = 5,
	  .min = 1, .max = 3600, .doc = "first retry after a failed registration (s)" },
	{ "retry_max", CT_INT, OFF(struct conf_trunk, retry_max), .def_int = 300,
	  .min = 1, .max = 86400, .doc = "back-off limit between retries (s)" },
	{ "options_interval", CT_INT, OFF(struct conf_trunk, options_interval),
	  .def_int = 30, .min = 1, .max = 3600,
	  .doc = "static mode: seconds between OPTIONS to each P-CSCF" },
	{ "failover_time", CT_INT, OFF(struct conf_trunk, failover_time),
	  .def_int = 10, .min = 1, .max = 600,
	  .doc = "seconds allowed to notice a failed P-CSCF and move to the next" },
	{ "ringing_refresh", CT_INT, OFF(struct conf_trunk, ringing_refresh),
	  .def_int = 60, .min = 5, .max = 60,
	  .doc = "seconds between repeats of a ringing call's provisional "
		 "response toward IMS" },
	{ "overload_pending_acks", CT_INT, OFF(struct conf_trunk, overload_pending_acks),
	  .def_int = 5000, .min = 0, .max = 1000000,
	  .doc = "answered calls from IMS awaiting their ACK at which new "
		 "INVITEs from IMS get 503 (overload); 0: never" },
	{ "trusted", CT_BOOL, OFF(struct conf_trunk, trusted), .def_int = 1,
	  .doc = "trunk in the trust domain: assert identities with "
		 "P-Asserted-Identity (else P-Preferred-Identity)" },
	{ "tel_uri", CT_BOOL, OFF(struct conf_trunk, tel_uri), .def_int = 0,
	  .doc = "dialled numbers as tel: URIs (else sip:NUMBER@domain;user=phone)" },
	{ "tls_dir", CT_PATH, OFF(struct conf_trunk, tls_dir), .def_str = "",
	  .doc = "folder with agent.pem and cafile.pem for SIP over TLS" },
	{ "session_expires", CT_INT, OFF(struct conf_trunk, session_expires),
	  .def_int = 1800, .min = 0, .max = 86400,
	  .doc = "session timer asked for on calls (RFC 4028), so that a dead "
		 "dialog is noticed and both legs end; 0: only honour the far "
		 "end's (the far end's interval is always honoured)" },
	{ "tls_verify", CT_BOOL, OFF(struct conf_trunk, tls_verify), .def_int = 1,
	  .doc = "check the P-CSCF's TLS certificate against cafile.pem and "
		 "the host of its URI (subjectAltName or CN)" },
	{ "tls_verify_client", CT_BOOL, OFF(struct conf_trunk, tls_verify_client),
	  .def_int = 0, .doc = "mutual TLS: a TLS connection opened to the "
				"trunk must show a certificate from cafile.pem" },
	{ "tls_peer_names", CT_STRV, OFF(struct conf_trunk, tls_peer_names),
	  .doc = "with tls_verify_client: the names (a subjectAltName DNS name "
		 "or IP address, or the CN) one of which that certificate must "
		 "carry; empty: any certificate from cafile.pem" },
	{ "tls_ciphers", CT_STR, OFF(struct conf_trunk, tls_ciphers),
	  .def_str = CONF_TLS12_CIPHERS,
	  .doc = "OpenSSL cipher list for TLS 1.2 (TLS 1.3 uses its own AEAD "
		 "suites)" },
	{ "tls_min_version", CT_STR, OFF(struct conf_trunk, tls_min_version),
	  .def_str = "1.2", .doc = "oldest TLS version accepted: 1.2 or 1.3" },
	{ "strip_bundle", CT_BOOL, OFF(struct conf_trunk, strip_bundle),
	  .def_int = 1, .doc = "remove BUNDLE grouping from SDP toward IMS "
				"(TS 23.228 U.1.1: IMS does not support it)" },
	{ "codecs", CT_STRV, OFF(struct conf_trunk, codecs),
	  .doc = "codec allow-list for SDP toward IMS (encoding names, e.g. "
		 "opus, PCMA, telephone-event); empty: all" },
	{ "resolv_conf", CT_PATH, OFF(struct conf_trunk, resolv_conf),
	  .def_str = "", .doc = "resolv.conf naming the DNS servers for P-CSCF "
				"look-ups (NAPTR, SRV, A); empty: the system's" },
	{ "diversion_header", CT_BOOL, OFF(struct conf_trunk, diversion_header),
	  .def_int = 0, .doc = "diverted calls also carry the older Diversion "
	  "header (RFC 5806) besides History-Info (RFC 7044)" },
	{ "max_sdp_size", CT_INT, OFF(struct conf_trunk, max_sdp_size),
	  .def_int = 65536, .min = 1024, .max = 1048576,
	  .doc = "largest SDP body accepted in either direction (bytes)" },
	{ NULL }
};

static const struct conf_opt admin_opts[] = {
	{ "address", CT_STR, OFF(struct conf_admin, address),
	  .def_str = "127.0.0.1", .doc = "address of the admin HTTP listener "
					  "(keep it on loopback or a management network)",
	  .restart = 1 },
	{ "port", CT_INT, OFF(struct conf_admin, port), .def_int = 8090,
	  .min = 0, .max = 65535,
	  .doc = "its port (GET /metrics for Prometheus, GET /health, the "
		 "JSON API under /api/); 0: none", .restart = 1 },
	{ "token_file", CT_PATH, OFF(struct conf_admin, token_file),
	  .def_str = "", .doc = "file holding the bearer token of the /api/ "
	  "routes (at least 16 characters); empty: the API is closed" },
	{ NULL }
};

static const struct conf_opt websocket_opts[] = {
	{ "ws_address", CT_STR, OFF(struct conf_websocket, ws_address),
	  .def_str = "127.0.0.1", .doc = "address of the plain ws listener",
	  .restart = 1 },
	{ "ws_port", CT_INT, OFF(struct conf_websocket, ws_port), .def_int = 8080,
	  .min = 0, .max = 65535, .doc = "port of the ws listener; 0 disables it",
	  .restart = 1 },
	{ "wss_address", CT_STR, OFF(struct conf_websocket, wss_address),
	  .def_str = "0.0.0.0", .doc = "address of the TLS (wss) listener",
	  .restart = 1 },
	{ "wss_port", CT_INT, OFF(struct conf_websocket, wss_port), .def_int = 0,
	  .min = 0, .max = 65535, .doc = "port of the wss listener; 0 disables it",
	  .restart = 1 },
	{ "tls_certificate", CT_PATH, OFF(struct conf_websocket, tls_certificate),
	  .def_str = "", .doc = "PEM certificate chain for wss", .restart = 1 },
	{ "tls_key", CT_PATH, OFF(struct conf_websocket, tls_key), .def_str = "",
	  .doc = "PEM private key for wss", .restart = 1 },
	{ "max_frame_size", CT_INT, OFF(struct conf_websocket, max_frame_size),
	  .def_int = 65536, .min = 1024, .max = 1048576,
	  .doc = "largest WebSocket frame accepted (bytes)" },
	{ "max_message_size", CT_INT, OFF(struct conf_websocket, max_message_size),
	  .def_int = 65536, .min = 1024, .max = 1048576,
	  .doc = "largest SIP message accepted, fragments joined (bytes)" },
	{ "ping_interval", CT_INT, OFF(struct conf_websocket, ping_interval),
	  .def_int = 30, .min = 0, .max = 3600,
	  .doc = "seconds between WebSocket pings; 0 disables them" },
	{ "idle_timeout", CT_INT, OFF(struct conf_websocket, idle_timeout),
	  .def_int = 120, .min = 5, .max = 86400,
	  .doc = "seconds without any frame (pongs count) before closing" },
	{ "handshake_timeout", CT_INT, OFF(struct conf_websocket, handshake_timeout),
	  .def_int = 10, .min = 1, .max = 300,
	  .doc = "seconds allowed for the TLS and HTTP upgrade handshake",
	  .restart = 1 },
	{ NULL }
};

static const struct conf_opt limits_opts[] = {
	{ "max_connections", CT_INT, OFF(struct conf_limits, max_connections),
	  .def_int = 19000, .min = 1, .max = 1000000,
	  .doc = "WebSocket connections in all; past it a connection is "
		 "closed at once, before any TLS" },
	{ "max_connections_per_address", CT_INT,
	  OFF(struct conf_limits, max_connections_per_address),
	  .def_int = 2000, .min = 1, .max = 1000000,
	  .doc = "WebSocket connections from one source address (a NAT may "
		 "hide many browsers); past it the handshake gets 503" },
	{ "register_rate", CT_INT, OFF(struct conf_limits, register_rate),
	  .def_int = 200, .min = 0, .max = 1000000,
	  .doc = "REGISTERs a second from one source address (bursts of "
		 "twice that); past it 503 with Retry-After; 0: no limit" },
	{ "invite_rate", CT_INT, OFF(struct conf_limits, invite_rate),
	  .def_int = 100, .min = 0, .max = 1000000,
	  .doc = "INVITEs a second from one source address (bursts of twice "
		 "that); past it 503 with Retry-After; 0: no limit" },
	{ "max_transactions", CT_INT, OFF(struct conf_limits, max_transactions),
	  .def_int = 50000, .min = 100, .max = 10000000,
	  .doc = "SIP transactions toward browsers pending at once (each "
		 "holds its request); past it new requests get 503" },
	{ "auth_failures", CT_INT, OFF(struct conf_limits, auth_failures),
	  .def_int = 20, .min = 0, .max = 1000000,
	  .doc = "failed authentications from one address, or for one user, "
		 "within auth_window that lock it out; 0: no lockout" },
	{ "auth_window", CT_INT, OFF(struct conf_limits, auth_window),
	  .def_int = 60, .min = 1, .max = 86400,
	  .doc = "seconds over which failed authentications count" },
	{ "lockout_time", CT_INT, OFF(struct conf_limits, lockout_time),
	  .def_int = 300, .min = 1, .max = 86400,
	  .doc = "seconds a locked address or user gets 403 without its "
		 "credentials being checked" },
	{ "retry_after", CT_INT, OFF(struct conf_limits, retry_after),
	  .def_int = 5, .min = 1, .max = 3600,
	  .doc = "Retry-After (seconds) of the 503s the limits send" },
	{ NULL }
};

static const struct conf_opt registrar_opts[] = {
	{ "min_expires", CT_INT, OFF(struct conf_registrar, min_expires),
	  .def_int = 60, .min = 1, .max = 86400,
	  .doc = "shortest registration accepted (423 below it)" },
	{ "max_expires", CT_INT, OFF(struct conf_registrar, max_expires),
	  .def_int = 3600, .min = 1, .max = 604800,
	  .doc = "longest registration granted (longer ones are cut to it)" },
	{ "default_expires", CT_INT, OFF(struct conf_registrar, default_expires),
	  .def_int = 600, .min = 1, .max = 604800,
	  .doc = "expiry when the REGISTER gives none" },
	{ NULL }
};

static const struct conf_opt auth_opts[] = {
	{ "clock_skew", CT_INT, OFF(struct conf_auth, clock_skew), .def_int = 30,
	  .min = 0, .max = 600, .doc = "seconds of clock skew allowed on exp/nbf" },
	{ "nonce_lifetime", CT_INT, OFF(struct conf_auth, nonce_lifetime),
	  .def_int = 300, .min = 10, .max = 86400,
	  .doc = "seconds a digest nonce stays valid", .restart = 1 },
	{ "max_nonces", CT_INT, OFF(struct conf_auth, max_nonces),
	  .def_int = 100000, .min = 100, .max = 10000000,
	  .doc = "outstanding digest nonces remembered for replay checks",
	  .restart = 1 },
	{ NULL }
};

static const struct conf_opt store_opts[] = {
	{ "path", CT_PATH, OFF(struct conf_store, path), .def_str = "wtpf.db",
	  .doc = "SQLite database file (created and migrated on start)",
	  .restart = 1 },
	{ "cdr_days", CT_INT, OFF(struct conf_store, cdr_days), .def_int = 90,
	  .min = 0, .max = 36500,
	  .doc = "days call records are kept: older ones are deleted at start "
		 "and every hour; 0: kept for ever" },
	{ "cdr_commit_ms", CT_INT, OFF(struct conf_store, cdr_commit_ms),
	  .def_int = 100, .min = 0, .max = 5000,
	  .doc = "call records are written in one transaction per this many "
		 "milliseconds (at most 500 records): a crash loses the records "
		 "of the calls that ended in that time; 0: each record is "
		 "committed when its call ends" },
	{ NULL }
};

static const struct conf_opt web_opts[] = {
	{ "root", CT_PATH, OFF(struct conf_web, root), .def_str = "",
	  .doc = "folder of the web pages: phone/ and vendor/ served on the "
		 "ws and wss listeners (/phone/), console/ on the admin "
		 "listener (/console/); empty: no pages" },
	{ NULL }
};

const struct conf_opt conf_root_opts[] = {
	{ "log_level", CT_STR, OFF(struct conf, log_level), .def_str = "info",
	  .doc = "error, warn, info or debug" },
	{ "log_format", CT_STR, OFF(struct conf, log_format), .def_str = "text",
	  .doc = "text (for people) or kv (key=value fields, one event a line)" },
	{ "websocket", CT_GROUP, OFF(struct conf, websocket), .sub = websocket_opts,
	  .doc = "the SIP-over-WebSocket edge (RFC 7118)" },
	{ "registrar", CT_GROUP, OFF(struct conf, registrar), .sub = registrar_opts,
	  .doc = "the registrar of the WICs" },
	{ "limits", CT_GROUP, OFF(struct conf, limits), .sub = limits_opts,
	  .doc = "overload protection of the WebSocket edge: connections, "
		 "request rates, pending transactions, authentication lockout" },
	{ "auth", CT_GROUP, OFF(struct conf, auth), .sub = auth_opts,
	  .doc = "token and digest verification" },
	{ "store", CT_GROUP, OFF(struct conf, store), .sub = store_opts,
	  .doc = "persistent store" },
	{ "admin", CT_GROUP, OFF(struct conf, admin), .sub = admin_opts,
	  .doc = "operations listener: /metrics, /health, the JSON API under "
		 "/api/ and the console page" },
	{ "web", CT_GROUP, OFF(struct conf, web), .sub = web_opts,
	  .doc = "the softphone and operations console pages" },
	{ "trunks", CT_LIST, OFF(struct conf, trunks), .sub = trunk_opts,
	  .elem_size = sizeof(struct conf_trunk),
	  .count_off = OFF(struct conf, trunk_count), .restart = 1,
	  .doc = "W8 trunks toward the P-CSCFs of IMS networks" },
	{ "tenants", CT_LIST, OFF(struct conf, tenants), .sub = tenant_opts,
	  .elem_size = sizeof(struct conf_tenant),
	  .count_off = OFF(struct conf, tenant_count), .required = 1,
	  .doc = "the third parties served" },
	{ NULL }
};

void conf_err(struct conf_ctx *cx, const config_setting_t *s, const char *key,
	      const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	unsigned line = s ? config_setting_source_line(s) : 0;
	char msg[512];

	/* the root group has no line of its own: it is the file, from line 1 */
	if (!line)
		line = 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* one error, one line: a value quoted in msg may hold line ends */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	conf_errs_append(cx, "%s:%u: %s: %s\n", file ? file : cx->path, line,
		      key, msg);
}

void conf_errs_append(struct conf_ctx *cx, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t old = cx->errs ? strlen(cx->errs) : 0;
	char *grown = realloc(cx->errs, old + (size_t)n + 1);
	if (grown) {
		memcpy(grown + old, line, (size_t)n + 1);
		cx->errs = grown;
	}
	free(line);
	cx->nerr++;
}

static void key_path(char *buf, size_t size, const char *parent,
		     const char *name)
{
	snprintf(buf, size, "%s%s%s", parent, *parent ? "." : "", name);
}

static const struct conf_opt *opt_find(const struct conf_opt *opts,
				       const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

int conf_load(const char *path, struct conf **confp, char **errs)
{
	return conf_load_keys(path, NULL, confp, errs);
}

/*
 * What libconfig 1.5 cannot be trusted with: a path that is not a regular
 * file (it blocks on a FIFO or a device) and `@include` (an empty or
 * folder name makes it exit the process, a reload included). One file
 * holds the whole configuration.
 */
static int file_checks(struct conf_ctx *cx, FILE *f, const char *path)
{
	struct stat st;
	char line[4096];
	int n = 0, err = 0;

	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		conf_errs_append(cx, "%s: not a regular file\n", path);
		return EINVAL;
	}
	while (fgets(line, sizeof line, f)) {
		const char *p = line + strspn(line, " \t");

		n++;
		if (!strncmp(p, "@include", 8)) {
			conf_errs_append(cx, "%s:%d: @include is not supported: "
					 "one file holds the whole configuration\n",
					 path, n);
			err = EINVAL;
		}
		if (!strchr(line, '\n') && !feof(f)) {   /* a longer line: skip it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
	}
	return err;
}

int conf_load_keys(const char *path, conf_key_check_h *check,
		   struct conf **confp, char **errs)
{
	struct conf_ctx cx = { .path = path, .key_check = check };
	struct conf *conf = NULL;
	config_t cfg;
	struct stat st;
	FILE *f;
	int err = 0;

	if (errs)
		*errs = NULL;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {   /* before open: */
		conf_errs_append(&cx, "%s: not a regular file\n", path);  /* a FIFO blocks */
		err = EINVAL;
		goto out;
	}
	f = fopen(path, "r");
	if (!f) {
		err = errno;
		conf_errs_append(&cx, "%s: cannot open: %s\n", path, strerror(err));
		goto out;
	}
	err = file_checks(&cx, f, path);
	fclose(f);
	if (err)
		goto out;
	config_init(&cfg);
	cx.base_dir = conf_dir_of(path);
	if (cx.base_dir)
		config_set_include_dir(&cfg, cx.base_dir);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		conf_errs_append(&cx, "%s:%d: syntax error: %s\n",
			      config_error_file(&cfg) ? config_error_file(&cfg) : path,
			      config_error_line(&cfg), config_error_text(&cfg));
		err = EINVAL;
	} else {
		conf = calloc(1, sizeof *conf);
		if (!conf || !cx.base_dir) {
			err = ENOMEM;
		} else {
			conf->file = strdup(path);
			conf_walk_group(&cx, config_root_setting(&cfg), "",
					conf_root_opts, conf);
			if (!cx.nerr)
				conf_check(&cx, config_root_setting(&cfg), conf);
			if (cx.nerr)
				err = EINVAL;
		}
	}
	free(cx.base_dir);
	config_destroy(&cfg);
out:
	if (err) {
		conf_free(conf);
		conf = NULL;
		if (errs)
			*errs = cx.errs;
		else
			free(cx.errs);
		return err;
	}
	free(cx.errs);
	*confp = conf;
	return 0;
}

void conf_walk_group(struct conf_ctx *cx, const config_setting_t *group,
		     const char *parent, const struct conf_opt *opts, void *obj)
{
	const config_setting_t *outer = cx->anchor;
	char key[256];
	int n = group ? config_setting_length(group) : 0;

	if (group)
		cx->anchor = group;
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		key_path(key, sizeof key, parent, name ? name : "?");
		if (!name || !opt_find(opts, name))
			conf_err(cx, s, key, "unknown key");
	}
	for (const struct conf_opt *o = opts; o->name; o++) {
		config_setting_t *s = group ? config_setting_get_member(group, o->name) : NULL;
		key_path(key, sizeof key, parent, o->name);
		if (!s && o->required)
			conf_err(cx, cx->anchor, key, "missing (required)");
		conf_set_value(cx, s, key, o, obj);
	}
	cx->anchor = outer;
}

static void schema_print_opts(FILE *out, const struct conf_opt *opts,
			      const char *parent)
{
	static const char *const tn[] = { "int", "bool", "string", "path",
					  "strings", "group", "list" };
	char key[256];

	for (const struct conf_opt *o = opts; o->name; o++) {
		key_path(key, sizeof key, parent, o->name);
		fprintf(out, "%-36s %-7s ", key, tn[o->type]);
		if (o->type == CT_INT)
			fprintf(out, "default %ld, range [%ld, %ld]; ", o->def_int,
				o->min, o->max);
		else if (o->type == CT_BOOL)
			fprintf(out, "default %s; ", o->def_int ? "true" : "false");
		else if (o->def_str)
			fprintf(out, "default \"%s\"; ", o->def_str);
		fprintf(out, "%s%s%s\n", o->required ? "required; " : "",
			o->restart ? "restart; " : "", o->doc);
		if (o->sub) {
			char sub[260];
			snprintf(sub, sizeof sub, "%s%s", key,
				 o->type == CT_LIST ? "[]" : "");
			schema_print_opts(out, o->sub, sub);
		}
	}
}

void conf_schema_print(void *out)
{
	schema_print_opts(out, conf_root_opts, "");
}
