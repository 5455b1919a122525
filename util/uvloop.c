/**
 * @file uvloop.c  A libuv loop as one GLib source (see uvloop.h).
 */
#include "util/uvloop.h"

#include <errno.h>
#include <stdlib.h>

struct uvloop {
	uv_loop_t loop;
	GSource *source;
};

/* The GLib side: watches the backend (epoll) descriptor. */
struct uv_gsource {
	GSource base;
	uv_loop_t *loop;
	gpointer tag;
	uvloop_hook_f *before, *after;   /**< around each dispatch */
	void *hook_arg;
};

/* Milliseconds until libuv has work, -1 for none; 0 when it has some now. */
static int uv_wait_ms(uv_loop_t *loop)
{
	if (!uv_loop_alive(loop))
		return -1;
	uv_update_time(loop);
	return uv_backend_timeout(loop);
}

static gboolean uv_gsource_prepare(GSource *s, gint *timeout)
{
	struct uv_gsource *us = (struct uv_gsource *)s;

	*timeout = uv_wait_ms(us->loop);
	return *timeout == 0;
}

static gboolean uv_gsource_check(GSource *s)
{
	struct uv_gsource *us = (struct uv_gsource *)s;

	if (g_source_query_unix_fd(s, us->tag) & G_IO_IN)
		return TRUE;
	return uv_wait_ms(us->loop) == 0;
}

static gboolean uv_gsource_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	struct uv_gsource *us = (struct uv_gsource *)s;

	(void)cb;
	(void)data;
	if (us->before)
		us->before(us->hook_arg);
	uv_run(us->loop, UV_RUN_NOWAIT);
	if (us->after)
		us->after(us->hook_arg);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs uv_gsource_funcs = {
	.prepare = uv_gsource_prepare,
	.check = uv_gsource_check,
	.dispatch = uv_gsource_dispatch,
};

int uvloop_create(struct uvloop **out, GMainContext *ctx)
{
	struct uvloop *ul = calloc(1, sizeof *ul);
	struct uv_gsource *us;
	int err;

	*out = NULL;
	if (!ul)
		return ENOMEM;
	err = uv_loop_init(&ul->loop);
	if (err) {
		free(ul);
		return -err;
	}
	ul->source = g_source_new(&uv_gsource_funcs, sizeof *us);
	us = (struct uv_gsource *)ul->source;
	us->loop = &ul->loop;
	us->tag = g_source_add_unix_fd(ul->source, uv_backend_fd(&ul->loop),
				       G_IO_IN);
	/* no poll-set churn per dispatch (see g_source_set_can_recurse()):
	 * uv_run() is never entered from inside itself */
	g_source_set_can_recurse(ul->source, TRUE);
	g_source_attach(ul->source, ctx);
	*out = ul;
	return 0;
}

uv_loop_t *uvloop_loop(struct uvloop *ul)
{
	return &ul->loop;
}

void uvloop_on_dispatch(struct uvloop *ul, uvloop_hook_f *before,
			uvloop_hook_f *after, void *arg)
{
	struct uv_gsource *us = (struct uv_gsource *)ul->source;

	us->before = before;
	us->after = after;
	us->hook_arg = arg;
}

static void close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void drain(uv_loop_t *loop, unsigned max_ms)
{
	gint64 until = g_get_monotonic_time() + (gint64)max_ms * 1000;

	while (uv_loop_alive(loop) && g_get_monotonic_time() < until) {
		uv_run(loop, UV_RUN_NOWAIT);
		if (uv_loop_alive(loop))
			g_usleep(1000);
	}
}

void uvloop_drain(struct uvloop *ul, unsigned max_ms)
{
	drain(&ul->loop, max_ms);
}

void uvloop_destroy(struct uvloop *ul, unsigned max_ms)
{
	if (!ul)
		return;
	g_source_destroy(ul->source);
	g_source_unref(ul->source);
	drain(&ul->loop, max_ms);
	if (uv_loop_alive(&ul->loop)) {
		uv_walk(&ul->loop, close_handle, NULL);
		drain(&ul->loop, 100);
	}
	uv_loop_close(&ul->loop);
	free(ul);
}
