/**
 * @file ctl_locate.c  Where wtpfctl finds the admin listener and its token:
 * the configuration's admin group (with the gateway's own loader, else
 * read leniently), WTPF_ADMIN_URL and WTPF_ADMIN_TOKEN.
 */
#include "gateway/ctl/ctl.h"
#include "conf/conf.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The admin group of a configuration. */
struct admin_where {
	char address[256];
	int port;
	char token_file[4096];
};

/*
 * Reads only the admin group of @p file with libconfig: a configuration the
 * gateway would refuse (being edited, or to be reloaded and refused) still
 * tells where its running listener is. The defaults are conf.c's. Returns
 * false when the file does not parse or has no admin group.
 */
static bool admin_lenient(const char *file, struct admin_where *w)
{
	config_t cf;
	const char *addr = "127.0.0.1", *tf = "";
	const char *slash = strrchr(file, '/');
	int port = 8090;
	bool ok;

	config_init(&cf);
	ok = config_read_file(&cf, file) == CONFIG_TRUE &&
	     config_lookup(&cf, "admin") != NULL;
	/* each of the three, when there, must have its type */
	if (ok && ((config_lookup(&cf, "admin.address") &&
		    !config_lookup_string(&cf, "admin.address", &addr)) ||
		   (config_lookup(&cf, "admin.port") &&
		    !config_lookup_int(&cf, "admin.port", &port)) ||
		   (config_lookup(&cf, "admin.token_file") &&
		    !config_lookup_string(&cf, "admin.token_file", &tf))))
		ok = false;
	if (ok) {
		snprintf(w->address, sizeof w->address, "%s", addr);
		w->port = port;
		if (*tf && *tf != '/' && slash)
			snprintf(w->token_file, sizeof w->token_file, "%.*s/%s",
				 (int)(slash - file), file, tf);
		else
			snprintf(w->token_file, sizeof w->token_file, "%s", tf);
	}
	config_destroy(&cf);
	return ok;
}

/* Fills @p w from @p file: the gateway's own loader, else admin_lenient().
 * Returns 0, or EX_USAGE with the loader's errors in @p *errs (malloc'd). */
static int admin_where(const char *file, struct admin_where *w, char **errs)
{
	struct conf *conf = NULL;

	*errs = NULL;
	if (!conf_load(file, &conf, errs)) {
		snprintf(w->address, sizeof w->address, "%s", conf->admin.address);
		w->port = conf->admin.port;
		snprintf(w->token_file, sizeof w->token_file, "%s",
			 conf->admin.token_file ? conf->admin.token_file : "");
		conf_free(conf);
		return EX_DONE;
	}
	if (admin_lenient(file, w)) {
		free(*errs);
		*errs = NULL;
		return EX_DONE;
	}
	return EX_USAGE;
}

/* The token of the environment, or NULL after a message. */
static char *token_env(const char *text)
{
	char why[200], *tok = NULL;

	if (conf_token_parse(text, &tok, why, sizeof why))
		ctl_err("WTPF_ADMIN_TOKEN: %s", why);
	return tok;
}

/* The token of @p w's token file, or NULL after a message. */
static char *token_file(const struct admin_where *w, const char *file)
{
	char why[300], *tok = NULL;

	if (!*w->token_file)
		ctl_err("%s names no admin.token_file: the API is closed (set "
			"one, or WTPF_ADMIN_TOKEN)", file);
	else if (conf_token_read(w->token_file, &tok, why, sizeof why))
		ctl_err("cannot read the admin token: %s: %s", w->token_file, why);
	return tok;
}

/* The listener of @p w as the target (an address of every interface is
 * reached on loopback). EX_UNREACHABLE when it is off. */
static int target_of(struct ctl *c, const struct admin_where *w,
		     const char *file)
{
	if (!w->port) {
		ctl_err("the admin listener is off in %s (admin.port = 0)", file);
		return EX_UNREACHABLE;
	}
	snprintf(c->t.host, sizeof c->t.host, "%s",
		 !*w->address || !strcmp(w->address, "0.0.0.0") ? "127.0.0.1" :
		 !strcmp(w->address, "::") ? "::1" : w->address);
	snprintf(c->t.port, sizeof c->t.port, "%d", w->port);
	return EX_DONE;
}

/* -c FILE: the file says where and which token; WTPF_ADMIN_TOKEN only
 * stands in for a token file that is not named or cannot be read. */
static int locate_file(struct ctl *c, const char *file, const char *etok)
{
	struct admin_where w;
	char *errs = NULL;
	int rc = admin_where(file, &w, &errs);

	if (rc) {
		ctl_err("cannot load %s%s%s", file, errs ? ":\n" : "",
			errs ? errs : "");
		free(errs);
		return rc;
	}
	if ((rc = target_of(c, &w, file)))
		return rc;
	if (*w.token_file || !etok)
		c->token = token_file(&w, file);
	if (!c->token && etok) {
		if (*w.token_file)
			fputs("(using WTPF_ADMIN_TOKEN instead)\n", stderr);
		c->token = token_env(etok);
	}
	return c->token ? EX_DONE : EX_USAGE;
}

/* No -c: WTPF_ADMIN_URL and WTPF_ADMIN_TOKEN each give their own value;
 * the default file gives what they leave. With the URL set and no usable
 * default file, no token is sent (the gateway answers 401). */
static int locate_env(struct ctl *c, const char *file, const char *url,
		      const char *etok)
{
	struct admin_where w;
	char why[300], *errs = NULL;
	int rc;

	if (url && ctl_url_parse(url, &c->t, why, sizeof why)) {
		ctl_err("WTPF_ADMIN_URL: %s", why);
		return EX_USAGE;
	}
	if (etok && !(c->token = token_env(etok)))
		return EX_USAGE;
	if (url && etok)
		return EX_DONE;
	rc = admin_where(file, &w, &errs);
	if (rc && url) {
		free(errs);
		return EX_DONE;
	}
	if (rc) {
		ctl_err("cannot load %s%s%s", file, errs ? ":\n" : "",
			errs ? errs : "");
		fputs("(give the gateway's configuration with -c FILE, or set "
		      "WTPF_ADMIN_URL and WTPF_ADMIN_TOKEN)\n", stderr);
		free(errs);
		return rc;
	}
	if (!url && (rc = target_of(c, &w, file)))
		return rc;
	if (!etok && !(c->token = token_file(&w, file)))
		return EX_USAGE;
	return EX_DONE;
}

int ctl_locate(struct ctl *c, const char *file, bool given)
{
	const char *url = getenv("WTPF_ADMIN_URL");
	const char *etok = getenv("WTPF_ADMIN_TOKEN");

	if (url && !*url)
		url = NULL;
	if (etok && !*etok)
		etok = NULL;
	return given ? locate_file(c, file, etok) : locate_env(c, file, url, etok);
}
