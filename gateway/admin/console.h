/**
 * @file console.h  The operations console on the admin listener: the
 * static files of WEB_ROOT/console/ at /console/ (open routes: the page
 * itself asks for the admin token and sends it to /api/).
 *
 * Ownership: @p conf is borrowed and must outlive the admin listener; the
 * web root is read from it on every request, so a reload applies at once.
 */
#ifndef WTPF_CONSOLE_H
#define WTPF_CONSOLE_H

struct admin;
struct conf;

/** Registers GET /console, /console/ and /console/FILE on @p a. Returns 0
 *  or ENOSPC. */
int console_routes_add(struct admin *a, struct conf **conf);

#endif
