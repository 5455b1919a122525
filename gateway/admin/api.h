/**
 * @file api.h  The admin JSON API under /api/ (token-protected, see
 * admin.h): health, registrations, calls (list, hang up), tenants,
 * identities, users (create with a password kept as HA1, delete), ring
 * groups and agents (pause, resume), diversion settings, trunks, reload.
 * Bad requests get 4xx with {"error": "..."} saying what is wrong.
 *
 * Ownership: every part is borrowed from the daemon and must outlive the
 * admin listener.
 */
#ifndef WTPF_API_H
#define WTPF_API_H

struct admin;
struct conf;
struct wic;
struct w8;
struct call_core;
struct ident;
struct store;
struct svc;

struct api_src {
	struct conf **conf;          /**< the running configuration (reloads) */
	struct wic *wic;
	struct w8 *w8;
	struct call_core *calls;
	struct ident *ident;
	struct store *store;
	struct svc *svc;
	/** Reloads the configuration as SIGHUP does. Returns 0 with, in
	 *  @p msgs, the keys of options that changed but need a restart (or
	 *  NULL); EINVAL, the configuration refused and the running one kept
	 *  whole; or EIO, applied part way. @p msgs then has the errors. Text
	 *  malloc'd, one item a line; the caller frees it. */
	int (*reload)(void *arg, char **msgs);
	void *reload_arg;
	long long started;           /**< Unix time the daemon started */
};

/** Registers the /api/ routes on @p a. Returns 0 or ENOSPC. */
int api_routes_add(struct admin *a, struct api_src *src);

#endif
