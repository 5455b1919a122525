/**
 * @file ctxwake.h  GLib wake-ups that cost nothing from the loop's own
 * thread.
 *
 * Sofia-SIP's GLib port calls g_main_context_wakeup() for every message
 * it queues to itself, and the nua layer queues one for each call the
 * application makes (nua_invite(), nua_bye(), nua_handle_destroy()...)
 * and for each event it reports back: about six per call. Each wake-up
 * is a write to GLib's eventfd, a read of it and one more turn of the
 * loop (poll, prepare and check of every source). From the thread that
 * owns the context none of it is needed: the loop is running, and the
 * port's prepare sees the queued message before the loop next blocks.
 *
 * This module defines g_main_context_wakeup() for the process: from the
 * context's owner it returns at once; from any other thread it calls
 * GLib's own. It takes effect in a program that links it and calls
 * ctxwake_check() (which pulls it in from the static library).
 */
#ifndef WTPF_CTXWAKE_H
#define WTPF_CTXWAKE_H

/**
 * Whether the process's g_main_context_wakeup() is this module's:
 * 0 when it is, ENOTSUP when the dynamic linker bound GLib's (the
 * program then runs as before, one eventfd write per wake-up), ENOENT
 * when GLib's own cannot be found.
 */
int ctxwake_check(void);

#endif
