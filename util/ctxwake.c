/**
 * @file ctxwake.c  g_main_context_wakeup() without the eventfd from the
 * owning thread (see ctxwake.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util/ctxwake.h"

#include <dlfcn.h>
#include <errno.h>
#include <glib.h>

typedef void wake_f(GMainContext *ctx);

/* GLib's g_main_context_wakeup(), looked up once; NULL if missing. */
static wake_f *glib_wakeup(void)
{
	static wake_f *real;    /* same value from any thread: no lock */
	wake_f *f = g_atomic_pointer_get(&real);

	if (!f) {
		f = (wake_f *)dlsym(RTLD_NEXT, "g_main_context_wakeup");
		g_atomic_pointer_set(&real, f);
	}
	return f;
}

void g_main_context_wakeup(GMainContext *ctx)
{
	wake_f *real;

	/* The owner is inside (or between) iterations of its own loop:
	 * whatever it queued is seen by a source's prepare before the
	 * loop blocks again. */
	if (g_main_context_is_owner(ctx ? ctx : g_main_context_default()))
		return;
	real = glib_wakeup();
	if (real)
		real(ctx);
}

int ctxwake_check(void)
{
	void *bound = dlsym(RTLD_DEFAULT, "g_main_context_wakeup");

	if (!glib_wakeup())
		return ENOENT;
	return bound == (void *)g_main_context_wakeup ? 0 : ENOTSUP;
}
