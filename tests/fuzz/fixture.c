/**
 * @file fixture.c  The gateway the harnesses of tests/fuzz/ run against
 * (see fixture.h): a built-in configuration in a temporary folder, the
 * store, identity sets and WebSocket edge, and optionally the trunk, the
 * services and the call core.
 */
#include "tests/fuzz/fixture.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "gateway/call/call.h"
#include "gateway/ident/ident.h"
#include "gateway/svc/svc.h"
#include "gateway/wic/wic_priv.h"
#include "store/store.h"
#include "util/log.h"
#include "util/sip_mclass.h"
#include "util/sofia_log.h"
#include "w8/w8.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_glib.h>

/* Where tests/data is: set by CMake. */
#ifndef WTPF_TEST_DATA
#error "WTPF_TEST_DATA must name tests/data"
#endif

/*
 * The configuration: printf format with, in order, the store path, the
 * trunk's port, the P-CSCF's port, the fixture's folder and the test data
 * folder four times.
 */
static const char conf_text[] =
	"log_level = \"error\";\n"
	"websocket = { ws_port = 8080; wss_port = 0; max_message_size = 65536; };  # never opened\n"
	"registrar = { min_expires = 60; max_expires = 3600; default_expires = 600; };\n"
	"auth = { nonce_lifetime = 300; max_nonces = 1000; };\n"
	"store = { path = \"%s\"; };\n"
	"admin = { port = 0; };\n"
	"trunks = ( {\n"
	"  name = \"ims\"; mode = \"static\";\n"
	"  bind = \"sip:127.0.0.1:%u\";\n"
	"  pcscf = [ \"sip:127.0.0.1:%u;transport=udp\" ];\n"
	"  domain = \"ims.example.net\";\n"
	"  options_interval = 3600; failover_time = 2; trusted = true;\n"
	"  session_expires = 1800; strip_bundle = true;\n"
	"  codecs = [ \"opus\", \"PCMA\", \"PCMU\", \"telephone-event\" ];\n"
	"  diversion_header = true;\n"
	"  resolv_conf = \"%s/resolv.conf\";    # DNS stays on the loopback\n"
	"} );\n"
	"tenants = ( {\n"
	"  name = \"acme\"; domain = \"" FIXTURE_DOMAIN "\";\n"
	"  origins = [ \"" FIXTURE_ORIGIN "\", \"http://127.0.0.1:8080\" ];\n"
	"  allow_digest = true; trunk = \"ims\";\n"
	"  ranges = [ \"+4930123400000-+4930123400099\" ];\n"
	"  max_identities = 60; allocation = \"sequential\"; hold_time = 30;\n"
	"  issuers = (\n"
	"    { issuer = \"" FIXTURE_ISSUER "\"; audience = \"" FIXTURE_AUDIENCE "\";\n"
	"      keys = \"%s/jwt/hmac.secret\"; algorithms = [ \"HS256\" ]; },\n"
	"    { issuer = \"https://idp.example.org\"; audience = \"wtpf\";\n"
	"      keys = \"%s/jwt/jwks-ec.json\"; algorithms = [ \"ES256\" ]; },\n"
	"    { issuer = \"https://idp2.example.org\";\n"
	"      keys = \"%s/jwt/jwks-rsa-oct.json\"; algorithms = [ \"RS256\", \"HS256\" ]; }\n"
	"  );\n"
	"  services = {\n"
	"    emergency = [ \"112\", \"110\" ];\n"
	"    barred = [ \"^(\\\\+49|0)?900\" ];\n"
	"    dial_plan = ( { match = \"^0([1-9][0-9]+)$\"; replace = \"+49$1\"; },\n"
	"                  { match = \"^00([1-9][0-9]+)$\"; replace = \"+$1\"; },\n"
	"                  { match = \"^([0-9]{2})$\"; replace = \"+49301234000$1\"; } );\n"
	"    caller_display = ( { match = \"^\\\\+4930123([0-9]+)$\"; replace = \"$1\"; } );\n"
	"    diversion = ( { identity = \"+4930123400009\"; busy = \"+4930123400050\";\n"
	"                    no_answer = \"+4930123400050\"; not_reachable = \"+4930123400050\"; },\n"
	"                  { identity = \"+4930123400008\"; unconditional = \"+4930987654321\"; } );\n"
	"    no_answer_time = 20; max_diversions = 3; announce_diversion = true;\n"
	"    ring_groups = ( { number = \"+4930123400050\"; name = \"support\";\n"
	"                      strategy = \"sequential\";\n"
	"                      members = [ \"+4930123400000\", \"+4930123400001\" ];\n"
	"                      member_timeout = 10; timeout = 30;\n"
	"                      overflow = \"+4930123400051\"; } );\n"
	"  };\n"
	"  identity_sets = ( { name = \"guests\"; trunk = \"ims\";\n"
	"    ranges = [ \"+4930123400100-+4930123400119\" ];\n"
	"    anonymous = true; max_identities = 10; } );\n"
	"}, {\n"
	"  name = \"beta\"; domain = \"beta.example.net\";\n"
	"  origins = [ \"https://beta.example.net\" ];\n"
	"  allow_digest = false; trunk = \"ims\"; local_calls = true;\n"
	"  ranges = [ \"+4940555000-+4940555099\" ];\n"
	"  issuers = ( { issuer = \"https://idp.beta.example.net\";\n"
	"      keys = \"%s/jwt/hmac.secret\"; algorithms = [ \"HS256\" ]; } );\n"
	"} );\n";

static struct fixture *the_fixture;

/* A local port of @p type free now: bound once and released. */
static uint16_t port_try(int type, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, type, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		port = 0;
	else
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A port free for UDP and TCP alike (the trunk binds both next). */
static uint16_t free_port(void)
{
	for (int i = 0; i < 50; i++) {
		uint16_t port = port_try(SOCK_DGRAM, 0);
		if (port && port_try(SOCK_STREAM, port) == port)
			return port;
	}
	return 0;
}

/* The P-CSCF's socket: bound, non-blocking. */
static int pcscf_open(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void dir_remove(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char p[512];

	while (dir && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", path, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

static void fixture_free(void)
{
	struct fixture *fx = the_fixture;

	if (!fx)
		return;
	if (fx->calls)
		call_core_shutdown(fx->calls);
	fixture_pump(fx, 20);
	call_core_destroy(fx->calls);
	svc_destroy(fx->svc);
	wic_destroy(fx->wic);
	if (fx->w8) {
		for (int i = 0; i < 200 && !w8_shutdown(fx->w8); i++)
			fixture_pump(fx, 5);
	}
	w8_destroy(fx->w8);
	ident_destroy(fx->ident);
	if (fx->root) {
		g_source_destroy(su_glib_root_gsource(fx->root));
		su_root_destroy(fx->root);
	}
	store_close(fx->store);
	conf_free(fx->conf);
	if (fx->pcscf_fd >= 0)
		close(fx->pcscf_fd);
	dir_remove(fx->dir);
	free(fx);
	the_fixture = NULL;
	su_deinit();
}

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz fixture: %s: %s\n", what, strerror(err));
	exit(2);
}

/* A digest user, so that digest credentials reach the store look-up. */
static void user_add(struct fixture *fx)
{
	struct store_user u;
	char md5[65];

	memset(&u, 0, sizeof u);
	snprintf(u.tenant, sizeof u.tenant, "acme");
	snprintf(u.username, sizeof u.username, "bob");
	auth_digest_ha1(AUTH_DIGEST_MD5, "bob", FIXTURE_DOMAIN, "bob-password",
			md5);
	auth_digest_ha1(AUTH_DIGEST_SHA256, "bob", FIXTURE_DOMAIN,
			"bob-password", u.ha1_sha256);
	snprintf(u.ha1_md5, sizeof u.ha1_md5, "%.32s", md5);
	store_user_put(fx->store, &u);
}

static void conf_make(struct fixture *fx)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	char path[128], db[128], *text, *errs = NULL;
	FILE *fp;
	int n;

	snprintf(fx->dir, sizeof fx->dir, "%s/wtpf-fuzz-XXXXXX", base);
	if (!mkdtemp(fx->dir))
		die("mkdtemp", errno);
	snprintf(db, sizeof db, "%s/wtpf.db", fx->dir);
	snprintf(path, sizeof path, "%s/wtpf.conf", fx->dir);
	snprintf(path, sizeof path, "%s/resolv.conf", fx->dir);
	fp = fopen(path, "w");
	if (!fp)
		die("resolv.conf", errno);
	fputs("nameserver 127.0.0.1\n", fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/wtpf.conf", fx->dir);
	n = asprintf(&text, conf_text, db, fx->trunk_port, fx->pcscf_port,
		     fx->dir, WTPF_TEST_DATA, WTPF_TEST_DATA, WTPF_TEST_DATA,
		     WTPF_TEST_DATA);
	fp = n > 0 ? fopen(path, "w") : NULL;
	if (!fp)
		die("configuration file", errno);
	fputs(text, fp);
	fclose(fp);
	free(text);
	if (conf_load(path, &fx->conf, &errs)) {
		fprintf(stderr, "fuzz fixture: configuration refused:\n%s",
			errs ? errs : "?\n");
		exit(2);
	}
}

struct fixture *fixture_get(enum fixture_parts parts)
{
	struct fixture *fx = the_fixture;
	int err;

	if (fx)
		return fx;
	fx = calloc(1, sizeof *fx);
	if (!fx)
		die("calloc", ENOMEM);
	the_fixture = fx;
	fx->pcscf_fd = -1;
	log_level_set(LOG_ERROR);
	sofia_log_redirect();
	su_init();
	if (parts == FIXTURE_TRUNK) {
		fx->pcscf_fd = pcscf_open(&fx->pcscf_port);
		fx->trunk_port = free_port();
		if (fx->pcscf_fd < 0 || !fx->trunk_port)
			die("loopback sockets", errno);
	} else {
		fx->pcscf_port = 9;       /* discard: nothing is ever sent */
		fx->trunk_port = 9;
	}
	conf_make(fx);
	log_level_set(LOG_ERROR);
	if ((err = store_open(&fx->store, fx->conf->store.path)))
		die("store", err);
	user_add(fx);
	fx->root = su_glib_root_create(NULL);
	if (!fx->root)
		die("su_root", ENOMEM);
	su_root_threading(fx->root, 0);
	g_source_attach(su_glib_root_gsource(fx->root), NULL);
	if ((err = ident_create(&fx->ident, fx->conf, fx->store)))
		die("ident", err);
	if ((err = wic_create(&fx->wic, fx->root, NULL, fx->conf, fx->store,
			      fx->ident)))
		die("wic", err);
	if (parts == FIXTURE_TRUNK) {
		if ((err = w8_create(&fx->w8, fx->root, fx->conf)))
			die("w8", err);
		if ((err = call_core_create(&fx->calls, fx->conf, fx->wic, fx->w8,
					    fx->ident)) ||
		    (err = svc_create(&fx->svc, fx->conf, fx->store)))
			die("call core", err);
		call_core_hooks_set(fx->calls, svc_hooks(), fx->svc);
	}
	atexit(fixture_free);
	return fx;
}

void fixture_pump(struct fixture *fx, int rounds)
{
	(void)fx;
	for (int i = 0; i < rounds; i++)
		if (!g_main_context_iteration(NULL, FALSE))
			break;
}

/* Any non-NULL pointer: the stub of wic_ws.c never uses it. */
static char fake_wsi;

struct wic_flow *fixture_flow_open(struct fixture *fx, const char *origin)
{
	struct wic_flow *flow = NULL;

	if (wic_flow_create(fx->wic, (struct lws *)&fake_wsi, &flow))
		die("flow", ENOMEM);
	snprintf(flow->peer, sizeof flow->peer, "192.0.2.7");
	snprintf(flow->origin, sizeof flow->origin, "%s", origin);
	flow->tls = true;
	return flow;
}

int fixture_flow_token(struct fixture *fx, struct wic_flow *flow,
		       const char *token)
{
	const char *why = NULL;
	int err;

	if (!wic_origin_allowed(fx->wic, flow->origin))
		return EPERM;
	err = wic_auth_token(fx->wic, flow->origin, token, &flow->ident, &why);
	if (!err)
		flow->ident_from_handshake = true;
	else
		memset(&flow->ident, 0, sizeof flow->ident);
	return err;
}

void fixture_flow_message(struct wic_flow *flow, const char *data, size_t len)
{
	/* on_receive() hands over a NUL-terminated copy */
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, data, len);
	copy[len] = '\0';
	wic_flow_on_message(flow, copy, len);
	free(copy);
}

/* A header a response copies from its request (RFC 3261 8.2.6.2). */
static bool echoed(const char *name)
{
	static const char *const names[] = { "Via", "From", "To", "Call-ID",
					     "CSeq", NULL };

	for (size_t i = 0; name && names[i]; i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

/*
 * Whether Sofia, which parsed a request, parses again what the gateway made
 * of it. Sofia does not always print what it parsed in a form it parses
 * again: "CSeq: 10 INV x" is method "INV" but "CSeq: 10 INV" is refused,
 * and a sip: URI with a '/' in its host loses it. Headers a response only
 * copies from its request may so come back refused: that is Sofia's, not
 * the gateway's. What the gateway writes itself, and every header of its
 * requests, must parse.
 */
void fixture_check_sip(const char *data, size_t len, const char *where)
{
	msg_t *msg = msg_make(sip_mclass_extended(), 0, data, (ssize_t)len);
	sip_t *sip = msg ? sip_object(msg) : NULL;
	bool ok = sip && !msg_has_error(msg) &&
		  (sip->sip_request || sip->sip_status);

	for (const sip_header_t *h = ok ? (const sip_header_t *)sip->sip_error
					: NULL; h; h = (const sip_header_t *)h->sh_next)
		if (!sip->sip_status || !sip_is_error(h) ||
		    !echoed(h->sh_error->er_name))
			ok = false;
	if (ok && sip->sip_request)
		ok = sip->sip_via && sip->sip_from && sip->sip_to &&
		     sip->sip_call_id && sip->sip_cseq;
	if (ok && sip->sip_status)
		ok = (sip->sip_via || sip->sip_error) &&
		     (sip->sip_from || sip->sip_error) &&
		     (sip->sip_to || sip->sip_error) &&
		     (sip->sip_call_id || sip->sip_error) &&
		     (sip->sip_cseq || sip->sip_error);
	if (!ok) {
		fprintf(stderr, "%s sent a malformed SIP message:\n%.*s\n", where,
			(int)len, data);
		abort();
	}
	msg_destroy(msg);
}

void fixture_flow_drain(struct wic_flow *flow, fixture_out_f *fn, void *arg)
{
	struct wic_out *o;

	while ((o = flow->out_head)) {
		const char *text = (const char *)o->data + LWS_PRE;
		flow->out_head = o->next;
		if (!flow->out_head)
			flow->out_tail = &flow->out_head;
		flow->out_bytes -= o->len;
		fixture_check_sip(text, o->len, "the WebSocket edge");
		if (fn)
			fn(arg, text, o->len);
		free(o);
	}
}

void fixture_flow_close(struct wic_flow *flow)
{
	wic_flow_closed(flow);
}

char *fixture_token(struct fixture *fx, const char *sub, const char *impu)
{
	struct auth_keyset *ks = NULL;
	const char *why = NULL;
	char path[512];
	char *tok;

	(void)fx;
	snprintf(path, sizeof path, "%s/jwt/hmac.secret", WTPF_TEST_DATA);
	if (auth_keyset_load(&ks, path, &why))
		die("token key", EINVAL);
	tok = auth_jwt_sign_hs256(ks, FIXTURE_ISSUER, FIXTURE_AUDIENCE, sub, impu,
				  time(NULL), 86400);
	auth_keyset_free(ks);
	return tok;
}
