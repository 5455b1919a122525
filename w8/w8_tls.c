/**
 * @file w8_tls.c  The trunk's TLS policy: versions, suites, peer checks.
 *
 * Sofia-SIP 1.12 builds its TLS context itself and offers no tag for the
 * cipher list or the oldest version: it sets "ALL:!ADH:!LOW:!EXP:!MD5"
 * with every protocol version OpenSSL still allows. The process therefore
 * defines SSL_CTX_set_cipher_list(): libsofia's call lands here (the
 * executable's definition comes first in symbol lookup), and while a trunk
 * is being created (w8_tls_begin() .. w8_tls_end()) the trunk's own list,
 * oldest version and options replace Sofia's. Every other caller
 * (libwebsockets for wss) reaches OpenSSL unchanged. w8_tls_end() reports
 * whether the policy was applied, so that a trunk never runs TLS with
 * Sofia's defaults unnoticed.
 *
 * The same hook puts in a certificate check of the trunk's own in place
 * of Sofia's (whose name check misses IP subjectAltNames with OpenSSL 3):
 * a P-CSCF's certificate must chain to cafile.pem and name the host of
 * one of the trunk's P-CSCF URIs; with mutual TLS, a connecting peer's
 * certificate must chain to cafile.pem and carry one of tls_peer_names.
 * Sofia still closes a connection whose verification failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "w8_priv.h"
#include "conf/conf.h"
#include "util/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

/* What Sofia-SIP 1.12 passes (tport_tls.c, tls_set_default()). */
#define SOFIA_CIPHERS "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH"

typedef int set_cipher_list_f(SSL_CTX *, const char *);

static struct w8_trunk *pending;           /* the trunk being created */
static unsigned applied;                   /* contexts given its policy */

static set_cipher_list_f *real_set_cipher_list(void)
{
	static set_cipher_list_f *real;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_CTX_set_cipher_list");
	return real;
}

static int ctx_index = -1;                 /* SSL_CTX ex_data: the trunk */
static int ssl_index = -1;                 /* SSL ex_data: handshake done */
static unsigned long failures;             /* for a bounded log */

/* Does @p cert name @p host (a DNS name or an IP address)? */
static bool cert_names(X509 *cert, const char *host)
{
	return X509_check_ip_asc(cert, host, 0) == 1 ||
	       X509_check_host(cert, host, 0, 0, NULL) == 1;
}

/* Does @p cert name the host of one of the trunk's P-CSCF URIs? */
static bool cert_names_pcscf(X509 *cert, const struct conf_trunk *c)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	bool found = false;

	for (size_t i = 0; !found && c->pcscf[i]; i++) {
		url_t *u = url_make(home, c->pcscf[i]);
		found = u && u->url_host && cert_names(cert, u->url_host);
	}
	su_home_deinit(home);
	return found;
}

static bool cert_names_peer(X509 *cert, const struct conf_trunk *c)
{
	for (size_t i = 0; c->tls_peer_names[i]; i++)
		if (cert_names(cert, c->tls_peer_names[i]))
			return true;
	return !c->tls_peer_names[0];
}

/* One line per refused connection, bounded: the first ten, then every
 * thousandth (peers choose how often this happens). */
static void log_refusal(const struct conf_trunk *c, bool incoming,
			const char *subject, const char *why)
{
	failures++;
	if (failures <= 10 || failures % 1000 == 0)
		log_warn("w8", 0, "trunk %s: TLS %s refused: %s%s%s%s (%lu refused)",
			 c->name, incoming ? "connection from a peer"
					   : "connection to the P-CSCF",
			 subject ? "certificate '" : "", subject ? subject : "",
			 subject ? "': " : "", why, failures);
}

static int refuse(X509_STORE_CTX *store, const struct conf_trunk *c,
		  bool incoming, int err)
{
	char subject[256] = "";
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	X509_STORE_CTX_set_error(store, err);
	if (cert)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
	log_refusal(c, incoming, subject, err == X509_V_ERR_HOSTNAME_MISMATCH ?
		    (incoming ? "names none of tls_peer_names"
			      : "names none of the trunk's P-CSCF hosts")
		    : X509_verify_cert_error_string(err));
	return 0;
}

/* A fatal alert the trunk sends ends a handshake it refused: a missing
 * client certificate, a version or suite outside the policy. Certificate
 * checks that failed were logged by verify_cb() already. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	const struct conf_trunk *c;
	char why[96];

	if (where & SSL_CB_HANDSHAKE_DONE)
		SSL_set_ex_data((SSL *)ssl, ssl_index, (void *)1);
	if (!(where & SSL_CB_WRITE_ALERT) || (ret >> 8) != SSL3_AL_FATAL ||
	    SSL_get_ex_data(ssl, ssl_index) ||      /* not a refusal */
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return;
	c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
	if (!c)
		return;
	if (SSL_is_server(ssl) && c->tls_verify_client &&
	    !SSL_get0_peer_certificate(ssl))
		snprintf(why, sizeof why, "no certificate shown");
	else
		snprintf(why, sizeof why, "%s (TLS alert sent)",
			 SSL_alert_desc_string_long(ret));
	log_refusal(c, SSL_is_server(ssl), NULL, why);
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store,
					      SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct conf_trunk *c = ssl ?
		SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index) : NULL;
	bool incoming = ssl && SSL_is_server(ssl);
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	if (!c)
		return ok;
	if (incoming ? !c->tls_verify_client : !c->tls_verify)
		return 1;                /* not asked for */
	if (!ok)
		return refuse(store, c, incoming, X509_STORE_CTX_get_error(store));
	if (X509_STORE_CTX_get_error_depth(store) > 0 || !cert)
		return 1;
	if (incoming ? cert_names_peer(cert, c) : cert_names_pcscf(cert, c))
		return 1;
	return refuse(store, c, incoming, X509_V_ERR_HOSTNAME_MISMATCH);
}

int SSL_CTX_set_cipher_list(SSL_CTX *ctx, const char *list)
{
	set_cipher_list_f *real = real_set_cipher_list();
	struct w8_trunk *t = pending;
	const struct conf_trunk *c = t ? t->conf : NULL;

	if (!real)
		return 0;
	if (!c || !list || strcmp(list, SOFIA_CIPHERS))
		return real(ctx, list);
	if (!real(ctx, c->tls_ciphers))
		return 0;
	SSL_CTX_set_min_proto_version(ctx, strcmp(c->tls_min_version, "1.3") ?
					   TLS1_2_VERSION : TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (ctx_index < 0)
		ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ssl_index < 0)
		ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ctx_index < 0 || ssl_index < 0 ||
	    !SSL_CTX_set_ex_data(ctx, ctx_index, (void *)c))
		return 0;
	/* Sofia has set the mode (peer certificates asked for and required
	 * as its policy says); the check becomes the trunk's */
	SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
	SSL_CTX_set_info_callback(ctx, info_cb);
	/* kept (one more reference) for w8_tls_reload() */
	if (t->tls_ctx_count < W8_TLS_CTX_MAX && SSL_CTX_up_ref(ctx))
		t->tls_ctx[t->tls_ctx_count++] = ctx;
	applied++;
	return 1;
}

void w8_tls_begin(struct w8_trunk *t)
{
	pending = t;
	applied = 0;
}

int w8_tls_end(bool check)
{
	const struct conf_trunk *c = pending ? pending->conf : NULL;

	pending = NULL;
	if (!check || !c || !*c->tls_dir || applied)
		return 0;
	log_err("w8", 0, "trunk %s: the TLS policy (tls_ciphers, "
		"tls_min_version) could not be applied to Sofia-SIP's TLS "
		"context: refusing to run TLS with its defaults", c->name);
	return EPROTO;
}

/* Can agent.pem (key and chain) and cafile.pem of @p dir be used? Tried
 * on a scratch context, so that a bad pair changes nothing. */
static bool files_usable(const char *agent, const char *ca)
{
	SSL_CTX *tmp = SSL_CTX_new(TLS_method());
	bool ok = tmp &&
		  SSL_CTX_use_certificate_chain_file(tmp, agent) == 1 &&
		  SSL_CTX_use_PrivateKey_file(tmp, agent, SSL_FILETYPE_PEM) == 1 &&
		  SSL_CTX_check_private_key(tmp) == 1 &&
		  SSL_CTX_load_verify_locations(tmp, ca, NULL) == 1;

	SSL_CTX_free(tmp);
	return ok;
}

static bool ctx_load(SSL_CTX *ctx, const char *agent, const char *ca)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);

	if (!store || !names || X509_STORE_load_file(store, ca) != 1) {
		X509_STORE_free(store);
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		return false;
	}
	SSL_CTX_set_cert_store(ctx, store);            /* takes it */
	SSL_CTX_set_client_CA_list(ctx, names);        /* takes it */
	return SSL_CTX_use_certificate_chain_file(ctx, agent) == 1 &&
	       SSL_CTX_use_PrivateKey_file(ctx, agent, SSL_FILETYPE_PEM) == 1;
}

int w8_trunk_tls_reload(struct w8_trunk *t)
{
	const struct conf_trunk *c = t->conf;
	char agent[4096], ca[4096];
	bool ok = true;

	if (!t->tls_ctx_count)
		return 0;
	snprintf(agent, sizeof agent, "%s/agent.pem", c->tls_dir);
	snprintf(ca, sizeof ca, "%s/cafile.pem", c->tls_dir);
	if (!files_usable(agent, ca)) {
		ERR_clear_error();
		log_err("w8", 0, "trunk %s: TLS files of %s not reloaded: "
			"agent.pem must hold a key and its certificate, and "
			"cafile.pem certificates; the running ones stay",
			c->name, c->tls_dir);
		return EINVAL;
	}
	for (size_t i = 0; i < t->tls_ctx_count; i++)
		ok = ctx_load(t->tls_ctx[i], agent, ca) && ok;
	ERR_clear_error();
	if (!ok) {
		log_err("w8", 0, "trunk %s: TLS files of %s reloaded only in "
			"part", c->name, c->tls_dir);
		return EIO;
	}
	log_info("w8", 0, "trunk %s: TLS certificate and CA list reloaded "
		 "from %s (new connections use them)", c->name, c->tls_dir);
	return 0;
}

void w8_tls_free(struct w8_trunk *t)
{
	for (size_t i = 0; i < t->tls_ctx_count; i++)
		SSL_CTX_free(t->tls_ctx[i]);
	t->tls_ctx_count = 0;
}

unsigned w8_tls_verify_policy(const struct conf_trunk *c)
{
	return (c->tls_verify ? TPTLS_VERIFY_OUT : 0) |
	       (c->tls_verify_client ? TPTLS_VERIFY_IN : 0);
}
