/**
 * @file wic_ws_stub.c  Stands in for gateway/wic/wic_ws.c and wic_http.c in
 * the fuzzing harnesses: no libwebsockets context and no socket. A flow is
 * made by the harness (fixture_flow_open()), its output stays queued on
 * the flow for the harness to read, and a close request is only recorded
 * (flow->close_code), as the real side records it until the next write.
 */
#include "gateway/wic/wic_priv.h"

#include <stdlib.h>

int wic_ws_start(struct wic *wic)
{
	wic->ws = NULL;
	wic->lws = NULL;
	return 0;
}

/* As lws_context_destroy() does through LWS_CALLBACK_CLOSED: every flow
 * still open is closed and freed. */
void wic_ws_stop(struct wic *wic)
{
	GList *flows = wic->flows ? g_hash_table_get_values(wic->flows) : NULL;

	for (GList *l = flows; l; l = l->next)
		wic_flow_closed(l->data);
	g_list_free(flows);
}

void wic_ws_tick(struct wic *wic)
{
	(void)wic;
}

void wic_ws_want_write(struct wic_flow *flow)
{
	(void)flow;
}

int wic_http_serve(struct lws *wsi, const char *uri)
{
	(void)wsi;
	(void)uri;
	return -1;
}

int wic_http_done(struct lws *wsi)
{
	(void)wsi;
	return -1;
}

int wic_ws_tls_reload(struct wic *wic)
{
	(void)wic;
	return 0;
}
