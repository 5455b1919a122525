/**
 * @file wic_ws.c  The libwebsockets side of the edge: ws and wss listeners
 * on the GLib loop, the handshake policy (subprotocol `sip`, allowed Origin,
 * optional token), frame reassembly and size limits, keepalive and idle
 * timeout, and writing queued messages. Plain HTTP requests go to
 * wic_http.c.
 */
#include "wic_priv.h"
#include "store/store.h"
#include "conf/conf.h"
#include "util/log.h"
#include "util/twheel.h"
#include "util/uvloop.h"

#include <errno.h>
#include <stddef.h>
#include <libwebsockets.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Per-connection data that libwebsockets allocates for us. */
struct wic_pss {
	struct wic_flow *flow;
	struct wic_identity ident;   /* from a token given at the handshake */
	bool has_ident;
	lws_usec_t last_rx;          /* last frame received, pongs included */
	lws_usec_t next_ping;        /* when the next keepalive ping is due */
	bool ping_due;               /* a ping waits for the next writeable */
	bool write_failed;           /* a direct write failed: close */
	struct twheel_entry ka;      /* in wic_ws.wheel while the flow is open */
};

/* What libwebsockets needs to outlive its context, and the loop it runs on. */
struct wic_ws {
	struct lws_protocols protocols[2];
	lws_retry_bo_t retry;
	struct uvloop *uv;
	struct twheel wheel;         /* keepalive and idle deadlines */
	uv_timer_t sweep;            /* turns the wheel every WIC_WS_TICK_US */
	bool sweeping;
	char *tls_cert, *tls_key;    /* the wss vhost's files, as started */
};

/* The size of libwebsockets' receive buffer, per connection. */
#define WIC_WS_RX_CHUNK 4096

/* The keepalive wheel's resolution. */
#define WIC_WS_TICK_US 100000

/*
 * Keepalive. libwebsockets' own validity pings have an empty payload, and
 * lws 4.1 does not report an empty pong to the protocol callback, so the
 * idle timer could not see clients that only answer pings. The edge sends
 * its own pings, with a payload. lws keeps its timers in one sorted list
 * (an O(connections) insert each), so the deadlines live in a timing wheel
 * with 100 ms slots instead: the next ping or the idle deadline, whichever
 * comes first; a frame received does not touch the wheel, the sweep looks
 * at last_rx when the entry comes due.
 */
static const unsigned char ping_payload[] = "wtpf";

static int64_t usec_to_tick_up(lws_usec_t us)
{
	return (int64_t)((us + WIC_WS_TICK_US - 1) / WIC_WS_TICK_US);
}

static void keepalive_arm(struct wic_ws *ws, struct wic_pss *pss,
			  const struct conf_websocket *c)
{
	lws_usec_t at = pss->last_rx + (lws_usec_t)c->idle_timeout * LWS_USEC_PER_SEC;

	if (c->ping_interval && pss->next_ping < at)
		at = pss->next_ping;
	twheel_add(&ws->wheel, &pss->ka, usec_to_tick_up(at));
}

static void keepalive_start(struct wic_ws *ws, struct wic_pss *pss,
			    const struct conf_websocket *c)
{
	pss->last_rx = lws_now_usecs();
	pss->next_ping = pss->last_rx + (lws_usec_t)c->ping_interval * LWS_USEC_PER_SEC;
	keepalive_arm(ws, pss, c);
}

/* Writes a keepalive ping; -1 when the connection failed. */
static int write_ping(struct lws *wsi)
{
	unsigned char buf[LWS_PRE + sizeof ping_payload];

	memcpy(buf + LWS_PRE, ping_payload, sizeof ping_payload - 1);
	return lws_write(wsi, buf + LWS_PRE, sizeof ping_payload - 1,
			 LWS_WRITE_PING) < (int)sizeof ping_payload - 1 ? -1 : 0;
}

/* A deadline came: closes an idle flow, or sends a ping. */
static void keepalive_due(struct twheel_entry *e, void *arg)
{
	struct wic_pss *pss = (struct wic_pss *)((char *)e - offsetof(struct wic_pss, ka));
	struct wic_flow *flow = pss->flow;
	const struct conf_websocket *c = &flow->wic->conf->websocket;
	lws_usec_t now = *(const lws_usec_t *)arg;

	if (now >= pss->last_rx + (lws_usec_t)c->idle_timeout * LWS_USEC_PER_SEC) {
		log_info("wic", flow->id, "idle for %d s: closing", c->idle_timeout);
		wic_flow_close(flow, WIC_CLOSE_GOING_AWAY, "idle timeout");
		return;
	}
	if (c->ping_interval && now >= pss->next_ping) {
		pss->next_ping = now + (lws_usec_t)c->ping_interval * LWS_USEC_PER_SEC;
		/* as messages (wic_ws_want_write()): at once when nothing is
		 * waiting to go, else after what is */
		if (!flow->out_head && !flow->close_code && !pss->write_failed &&
		    !lws_partial_buffered(flow->wsi)) {
			if (write_ping(flow->wsi)) {
				pss->write_failed = true;
				lws_callback_on_writable(flow->wsi);
			}
		} else {
			pss->ping_due = true;
			lws_callback_on_writable(flow->wsi);
		}
	}
	keepalive_arm(flow->wic->ws, pss, c);
}

static void sweep(uv_timer_t *t)
{
	struct wic_ws *ws = t->data;
	lws_usec_t now = lws_now_usecs();

	twheel_tick(&ws->wheel, (int64_t)(now / WIC_WS_TICK_US), keepalive_due,
		    &now);
}

static struct wic *wic_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

static void peer_name(struct lws *wsi, char *buf, size_t size)
{
	char ip[64] = "";

	lws_get_peer_simple(wsi, ip, sizeof ip);
	snprintf(buf, size, "%s", strncmp(ip, "::ffff:", 7) ? ip : ip + 7);
}

/* Finds a token in the handshake: Authorization header or ?access_token=. */
static bool handshake_token(struct lws *wsi, char *buf, size_t size)
{
	int n = lws_hdr_copy(wsi, buf, (int)size, WSI_TOKEN_HTTP_AUTHORIZATION);
	const char *v;

	if (n > 7 && !strncasecmp(buf, "Bearer ", 7)) {
		memmove(buf, buf + 7, (size_t)n - 6);
		return true;
	}
	/* lws copies the whole "name=value" argument into buf and returns
	 * a pointer to the value inside it. */
	v = lws_get_urlarg_by_name(wsi, "access_token=", buf, (int)size);
	if (!v)
		return false;
	memmove(buf, v, strlen(v) + 1);
	return true;
}

/* True when the comma-separated list @p list holds the token "sip". */
static bool list_has_sip(const char *list)
{
	for (const char *p = list; *p;) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 3 && !strncasecmp(p, "sip", 3))
			return true;
		p += n;
	}
	return false;
}

/*
 * Before libwebsockets picks a subprotocol: when the client offers some but
 * not `sip`, lws would hang up without a word, so the refusal is logged here.
 */
static int on_confirm_upgrade(struct lws *wsi, const char *up)
{
	char protos[256] = "", origin[256] = "", peer[64];
	int n = lws_hdr_copy(wsi, protos, sizeof protos, WSI_TOKEN_PROTOCOL);

	if (!up || strcasecmp(up, "websocket") || n == 0 ||
	    (n > 0 && list_has_sip(protos)))
		return 0;
	peer_name(wsi, peer, sizeof peer);
	if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		origin[0] = '\0';
	log_warn("wic", 0, "handshake refused peer=%s origin=\"%s\": "
		 "subprotocols \"%s\" offered, not 'sip'", peer, origin,
		 n > 0 ? protos : "(too long)");
	return -1;
}

/* The handshake policy. Returns 0 to accept, 1 to refuse. */
static int on_filter(struct lws *wsi, struct wic_pss *pss, const char *proto)
{
	struct wic *wic = wic_of(wsi);
	char origin[256] = "", peer[64], token[8192];
	const char *why = NULL;
	unsigned status = HTTP_STATUS_FORBIDDEN;

	peer_name(wsi, peer, sizeof peer);
	if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		origin[0] = '\0';
	if (wic->closing)
		why = "shutting down";
	else if ((why = wic_limits_connect(wic, peer)))
		status = HTTP_STATUS_SERVICE_UNAVAILABLE;
	else if (!proto)
		why = "no 'sip' subprotocol requested";
	else if (!origin[0])
		why = "no Origin header";
	else if (!wic_origin_allowed(wic, origin))
		why = "Origin not allowed";
	else if (handshake_token(wsi, token, sizeof token)) {
		const char *twhy = NULL;
		if (wic_limits_locked(wic, peer, 0, NULL, NULL)) {
			why = "address locked out after failed authentications";
		} else if (wic_auth_token(wic, origin, token, &pss->ident, &twhy)) {
			why = twhy;
			wic->auth_fail[WIC_AUTH_HANDSHAKE_TOKEN]++;
			wic_limits_auth_failed(wic, peer, 0, NULL, NULL);
		}
		else
			pss->has_ident = true;
	}
	if (why) {
		if (status != HTTP_STATUS_SERVICE_UNAVAILABLE)  /* else logged */
			log_warn("wic", 0, "handshake refused peer=%s "
				 "origin=\"%s\": %s", peer, origin, why);
		/* Tell the client why in plain HTTP before hanging up. */
		lws_return_http_status(wsi, status, why);
		return 1;
	}
	return 0;
}

static int on_established(struct lws *wsi, struct wic_pss *pss)
{
	struct wic *wic = wic_of(wsi);
	struct wic_flow *flow;

	if (wic_flow_create(wic, wsi, &flow))
		return -1;
	peer_name(wsi, flow->peer, sizeof flow->peer);
	lws_hdr_copy(wsi, flow->origin, sizeof flow->origin, WSI_TOKEN_ORIGIN);
	flow->tls = lws_is_ssl(wsi);
	if (pss->has_ident) {
		flow->ident = pss->ident;
		flow->ident_from_handshake = true;
	}
	pss->flow = flow;
	wic_limits_flow_open(wic, flow->peer);
	keepalive_start(wic->ws, pss, &wic->conf->websocket);
	log_info("wic", flow->id, "flow open peer=%s tls=%d origin=\"%s\"%s%s",
		 flow->peer, flow->tls, flow->origin,
		 pss->has_ident ? " identity=" : "",
		 pss->has_ident ? flow->ident.aor : "");
	return 0;
}

/* Joins fragments; enforces the frame and message limits. */
static int on_receive(struct lws *wsi, struct wic_pss *pss,
		      struct wic_flow *flow, const char *in, size_t len)
{
	const struct conf_websocket *c = &flow->wic->conf->websocket;
	size_t rest = lws_remaining_packet_payload(wsi);
	char *grown;

	pss->last_rx = lws_now_usecs();
	if (len + rest > (size_t)c->max_frame_size ||
	    flow->rx_len + len + rest > (size_t)c->max_message_size) {
		log_warn("wic", flow->id, "message larger than %d bytes: closing",
			 c->max_message_size);
		wic_flow_close(flow, WIC_CLOSE_TOO_BIG, "message too big");
		return 0;
	}
	grown = realloc(flow->rx, flow->rx_len + len + 1);
	if (!grown)
		return -1;
	flow->rx = grown;
	memcpy(flow->rx + flow->rx_len, in, len);
	flow->rx_len += len;
	flow->rx[flow->rx_len] = '\0';
	if (rest || !lws_is_final_fragment(wsi))
		return 0;
	wic_flow_on_message(flow, flow->rx, flow->rx_len);
	/* an idle flow holds no receive buffer */
	free(flow->rx);
	flow->rx = NULL;
	flow->rx_len = 0;
	return 0;
}

/* Writes the first queued message; -1 when the connection failed. */
static int write_one(struct lws *wsi, struct wic_flow *flow)
{
	struct wic_out *o = flow->out_head;

	if (lws_write(wsi, o->data + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len)
		return -1;
	flow->out_head = o->next;
	if (!flow->out_head)
		flow->out_tail = &flow->out_head;
	flow->out_bytes -= o->len;
	free(o);
	return 0;
}

static int on_writeable(struct lws *wsi, struct wic_pss *pss,
			struct wic_flow *flow)
{
	if (pss->write_failed)
		return -1;
	if (wic_flow_held(flow))
		return 0;   /* wic_flows_release() asks again */
	if (pss->ping_due && !flow->close_code) {
		pss->ping_due = false;
		if (write_ping(wsi))
			return -1;
		if (flow->out_head)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (flow->out_head) {
		if (write_one(wsi, flow))
			return -1;
		if (flow->out_head || flow->close_code)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (flow->close_code) {
		lws_close_reason(wsi, (enum lws_close_status)flow->close_code,
				 (unsigned char *)flow->close_reason,
				 strlen(flow->close_reason));
		/* Not "return -1": on libuv, lws 4.1 built with _DEBUG closes
		 * a connection that a writeable callback refused a second
		 * time at once, before the close frame went out. Refused from
		 * a timer callback, the close frame is sent and the peer's
		 * awaited (lws' close timeout, 5 s). */
		lws_set_timer_usecs(wsi, 1);
		return 0;
	}
	return 0;
}

static int wic_ws_cb(struct lws *wsi, enum lws_callback_reasons reason,
		     void *user, void *in, size_t len)
{
	struct wic_pss *pss = user;
	struct wic_flow *flow = pss ? pss->flow : NULL;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return wic_http_serve(wsi, in);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return wic_http_done(wsi);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return on_confirm_upgrade(wsi, in);
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* past max_connections: closed at accept, before any TLS */
		return wic_of(wsi) && wic_limits_full(wic_of(wsi));
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return on_filter(wsi, pss, in);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return flow ? on_receive(wsi, pss, flow, in, len) : -1;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (flow)
			pss->last_rx = lws_now_usecs();
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return flow ? on_writeable(wsi, pss, flow) : 0;
	case LWS_CALLBACK_TIMER:
		/* armed only to close: see on_writeable() */
		return flow && flow->close_code ? -1 : 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (flow && len >= 2)
			log_info("wic", flow->id, "peer closed with %u",
				 ((const unsigned char *)in)[0] << 8 |
				 ((const unsigned char *)in)[1]);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (flow) {
			twheel_remove(&flow->wic->ws->wheel, &pss->ka);
			wic_limits_flow_closed(flow->wic, flow->peer);
			pss->flow = NULL;
			wic_flow_closed(flow);
		}
		return 0;
	default:
		return 0;
	}
}

/*
 * Output. Waiting for a writeable callback costs two or more epoll_ctl
 * calls per message (POLLOUT on, then off), more than the message itself:
 * when nothing is queued before it and lws holds no unsent rest of an
 * earlier write, a message is written at once. lws keeps whatever the
 * socket does not take and asks for POLLOUT itself (lws_partial_buffered).
 */
void wic_ws_want_write(struct wic_flow *flow)
{
	struct lws *wsi = flow->wsi;
	struct wic_pss *pss;

	if (!wsi || wic_flow_held(flow))
		return;
	pss = lws_wsi_user(wsi);
	while (flow->out_head && !flow->close_code && !pss->ping_due &&
	       !pss->write_failed && !lws_partial_buffered(wsi)) {
		if (write_one(wsi, flow))
			pss->write_failed = true;   /* closed at the callback */
	}
	if (flow->out_head || flow->close_code || pss->ping_due ||
	    pss->write_failed)
		lws_callback_on_writable(wsi);
}

static int vhost_create(struct wic *wic, const struct lws_protocols *protos,
			const lws_retry_bo_t *retry, bool tls)
{
	const struct conf_websocket *c = &wic->conf->websocket;
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof info);
	info.vhost_name = tls ? "wss" : "ws";
	info.iface = tls ? c->wss_address : c->ws_address;
	info.port = tls ? c->wss_port : c->ws_port;
	info.protocols = protos;
	info.retry_and_idle_policy = retry;
	info.timeout_secs = (unsigned)c->handshake_timeout;
	/* the wait for the HTTP upgrade request is the "ah idle" timeout */
	info.timeout_secs_ah_idle = (unsigned)c->handshake_timeout;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* lws binds an IPv4 address only with IPv6 off for the vhost;
	 * otherwise it listens on every address of the host. */
	if (info.iface && strchr(info.iface, '.') && !strchr(info.iface, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (tls) {
		/* without this option on the vhost too, lws 4.1 silently
		 * serves the vhost without TLS */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = c->tls_certificate;
		info.ssl_private_key_filepath = c->tls_key;
		/* TLS 1.2 or later, forward-secret AEAD suites only, whatever
		 * the system's OpenSSL configuration allows */
		info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
				       SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION |
				       SSL_OP_NO_RENEGOTIATION |
				       SSL_OP_CIPHER_SERVER_PREFERENCE;
		info.ssl_cipher_list = CONF_TLS12_CIPHERS;
		info.alpn = "http/1.1";
	}
	if (!lws_create_vhost(wic->lws, &info)) {
		log_err("wic", 0, "cannot listen on %s %s:%d", info.vhost_name,
			info.iface, info.port);
		return EADDRINUSE;
	}
	log_info("wic", 0, "listening %s://%s:%d", info.vhost_name, info.iface,
		 info.port);
	return 0;
}

/*
 * Group commit: what the callbacks of one libuv iteration write to the
 * store is committed once, at its end. Their replies wait until then
 * (wic_flow_held()), so nothing is told before it is stored; under load
 * many new registrations share one commit instead of one each.
 */
static void dispatch_begin(void *arg)
{
	struct wic *wic = arg;

	store_batch_begin(wic->store);
}

static void dispatch_end(void *arg)
{
	struct wic *wic = arg;

	store_batch_commit(wic->store);   /* tells on_commit(): released */
}

int wic_ws_start(struct wic *wic)
{
	const struct conf_websocket *c = &wic->conf->websocket;
	struct lws_context_creation_info info;
	void *foreign[1];
	struct wic_ws *ws = calloc(1, sizeof *ws);
	int err = 0;

	if (!ws)
		return ENOMEM;
	wic->ws = ws;
	twheel_init(&ws->wheel, (int64_t)(lws_now_usecs() / WIC_WS_TICK_US));
	/* libwebsockets runs on libuv (epoll) inside the GLib loop: see
	 * util/uvloop.h for why not on GLib itself */
	err = uvloop_create(&ws->uv, g_main_loop_get_context(wic->gloop));
	if (err) {
		log_err("wic", 0, "cannot create the libuv loop: %s", strerror(err));
		return err;
	}
	uvloop_on_dispatch(ws->uv, dispatch_begin, dispatch_end, wic);
	foreign[0] = uvloop_loop(ws->uv);
	uv_timer_init(foreign[0], &ws->sweep);
	ws->sweep.data = ws;
	ws->sweeping = true;
	uv_timer_start(&ws->sweep, sweep, WIC_WS_TICK_US / 1000,
		       WIC_WS_TICK_US / 1000);
	ws->protocols[0] = (struct lws_protocols){
		.name = "sip", .callback = wic_ws_cb,
		.per_session_data_size = sizeof(struct wic_pss),
		/* lws reads frames in chunks of this size into one buffer
		 * per connection; on_receive() joins them, so the limits
		 * stay max_frame_size and max_message_size while an idle
		 * connection costs 4 KiB here, not max_frame_size */
		.rx_buffer_size = WIC_WS_RX_CHUNK,
	};
	/* lws' own (empty) pings and validity timers stay off: see
	 * keepalive_arm() */
	ws->retry = (lws_retry_bo_t){
		.secs_since_valid_ping = 0,
		.secs_since_valid_hangup = 0,
	};
	/* WTPF_LWS_DEBUG=1 in the environment: every libwebsockets log line */
	lws_set_log_level(getenv("WTPF_LWS_DEBUG") ? 0xfff : LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	/* lws 4.1 reads VALIDATE_UTF8 off the context, not the vhost */
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       (c->wss_port ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info.foreign_loops = foreign;
	info.user = wic;
	/* lws reads the TLS accept and upgrade timeouts off the context */
	info.timeout_secs = (unsigned)c->handshake_timeout;
	info.port = CONTEXT_PORT_NO_LISTEN;
	wic->lws = lws_create_context(&info);
	if (!wic->lws) {
		log_err("wic", 0, "cannot create the WebSocket context "
			"(is libwebsockets-evlib-uv installed?)");
		return ENOMEM;
	}
	if (c->wss_port) {
		ws->tls_cert = strdup(c->tls_certificate);
		ws->tls_key = strdup(c->tls_key);
	}
	if (c->ws_port)
		err = vhost_create(wic, ws->protocols, &ws->retry, false);
	if (!err && c->wss_port)
		err = vhost_create(wic, ws->protocols, &ws->retry, true);
	return err;
}

void wic_ws_stop(struct wic *wic)
{
	/* On a foreign libuv loop, lws_context_destroy() starts closing
	 * lws' handles; once the loop has run their close callbacks, a
	 * second call frees the context. */
	if (wic->ws && wic->ws->sweeping)
		uv_close((uv_handle_t *)&wic->ws->sweep, NULL);
	if (wic->lws) {
		lws_context_destroy(wic->lws);
		uvloop_drain(wic->ws->uv, 2000);
		lws_context_destroy(wic->lws);
	}
	wic->lws = NULL;
	if (wic->ws) {
		uvloop_destroy(wic->ws->uv, 500);
		free(wic->ws->tls_cert);
		free(wic->ws->tls_key);
	}
	free(wic->ws);
	wic->ws = NULL;
}

/* The whole of file @p path, or NULL (with @p *len 0). */
static char *file_read(const char *path, size_t *len)
{
	gchar *data = NULL;
	gsize n = 0;

	*len = 0;
	if (!g_file_get_contents(path, &data, &n, NULL))
		return NULL;
	*len = n;
	return data;
}

/* True when PEM @p cert and PEM @p key parse and belong together
 * (libwebsockets logs a mismatch but reports success). */
static bool tls_pair_ok(const char *cert, size_t cert_len, const char *key,
			size_t key_len)
{
	BIO *cb = BIO_new_mem_buf(cert, (int)cert_len);
	BIO *kb = BIO_new_mem_buf(key, (int)key_len);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	bool ok = x && k && X509_check_private_key(x, k) == 1;

	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return ok;
}

int wic_ws_tls_reload(struct wic *wic)
{
	struct wic_ws *ws = wic->ws;
	size_t cert_len, key_len;
	char *cert, *key;
	int err = 0;

	if (!ws || !ws->tls_cert || !wic->lws)
		return 0;
	cert = file_read(ws->tls_cert, &cert_len);
	key = file_read(ws->tls_key, &key_len);
	if (!cert || !key || !tls_pair_ok(cert, cert_len, key, key_len) ||
	    lws_tls_cert_updated(wic->lws, ws->tls_cert, ws->tls_key, cert,
				 cert_len, key, key_len)) {
		log_err("wic", 0, "wss certificate %s / key %s not reloaded "
			"(unreadable, or they do not match): the running ones "
			"stay", ws->tls_cert, ws->tls_key);
		err = EINVAL;
	} else {
		log_info("wic", 0, "wss certificate reloaded from %s",
			 ws->tls_cert);
	}
	if (key)
		OPENSSL_cleanse(key, key_len);
	g_free(cert);
	g_free(key);
	return err;
}
