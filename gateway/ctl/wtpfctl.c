/**
 * @file wtpfctl.c  The operator's command line over the admin JSON API of a
 * running wtpfd (gateway/admin/api.h): status, registrations, calls,
 * tenants, identities, call records, users, ring group agents, diversion
 * settings and reload. Finds the admin listener and its token in the
 * configuration (-c FILE, default conf/wtpf.conf) or in WTPF_ADMIN_URL /
 * WTPF_ADMIN_TOKEN. Prints tables by default, the API's JSON with --json.
 *
 * This file has the options and the table of commands; ctl.h lists the
 * other parts.
 *
 * Exit status: 0 done, 1 the gateway refused (its error on stderr), 2 usage
 * or configuration error, 3 the gateway cannot be reached.
 */
#include "gateway/ctl/ctl.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"Usage: wtpfctl [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Operates a running wtpfd through its admin JSON API (/api/ on the admin\n"
"listener, with the admin token).\n"
"\n"
"Commands:\n"
"  status                       health, counts and trunks\n"
"  registrations [TENANT]       registered devices\n"
"  calls                        calls in progress\n"
"  hangup ID                    ends call ID (both sides get BYE)\n"
"  cdrs [TENANT]                the latest 50 call records, oldest of them\n"
"                               first (all of them with --json; CSV: GET\n"
"                               /api/cdrs?format=csv)\n"
"  tenants                      tenants and their identities in use\n"
"  identities [TENANT]          numbers allocated to users\n"
"  user add TENANT NAME         adds a digest user; the password comes from\n"
"                               --password or the first line of stdin\n"
"  user del TENANT NAME         deletes a digest user\n"
"  groups                       ring groups and their agents' state\n"
"  pause TENANT NUMBER          pauses an agent (its ring groups skip it)\n"
"  resume TENANT NUMBER         takes a paused agent back\n"
"  diversion list [TENANT]      diversion settings (configuration and store)\n"
"  diversion get TENANT NUMBER  the setting that applies to NUMBER\n"
"  diversion set TENANT NUMBER KEY=VALUE...\n"
"                               changes the stored setting of NUMBER (starting\n"
"                               from the one that applies); KEY: unconditional,\n"
"                               busy, no_answer, not_reachable (a number, a\n"
"                               sip:/tel: URI, or empty to clear) or time\n"
"                               (seconds before no answer; 0: the default)\n"
"  diversion del TENANT NUMBER  removes the stored setting (the\n"
"                               configuration's, if any, applies again)\n"
"  reload                       reloads the configuration, as SIGHUP does, and\n"
"                               names the changes that need a restart\n"
"\n"
"Options:\n"
"  -c, --config FILE    the admin listener's address and port, and the token\n"
"                       (admin.token_file), from FILE (default " CTL_DEFAULT_CONF ")\n"
"  -j, --json           print the API's JSON instead of tables\n"
"      --password PASS  the password of `user add` (else read from stdin)\n"
"  -t, --timeout SECS   give up on the gateway after SECS (default 10)\n"
"  -h, --help           this help\n"
"\n"
"Environment (without -c, each replaces its own value of " CTL_DEFAULT_CONF ",\n"
"which gives the other one; with -c, only the token, when FILE names no\n"
"token file or it cannot be read):\n"
"  WTPF_ADMIN_URL       the admin listener, http://HOST:PORT\n"
"  WTPF_ADMIN_TOKEN     the admin token\n"
"\n"
"Exit status: 0 done; 1 the gateway refused (its error on stderr); 2 usage\n"
"or configuration error; 3 the gateway cannot be reached.\n";

/* "wtpfctl: MESSAGE" and @p tail on stderr. */
static void complain(const char *tail, const char *fmt, va_list ap)
{
	fputs("wtpfctl: ", stderr);
	if (fmt)                /* never NULL; gcc -fsanitize cannot tell */
		vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	complain("\n", fmt, ap);
	va_end(ap);
}

int ctl_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	complain("\nTry 'wtpfctl --help'.\n", fmt, ap);
	va_end(ap);
	return EX_USAGE;
}

/* The commands; user and diversion check their own arguments. */
static const struct ctl_cmd cmds[] = {
	{ "status", "status", 0, 0, ctl_cmd_status },
	{ "registrations", "registrations [TENANT]", 0, 1, ctl_cmd_registrations },
	{ "calls", "calls", 0, 0, ctl_cmd_calls },
	{ "hangup", "hangup ID", 1, 1, ctl_cmd_hangup },
	{ "cdrs", "cdrs [TENANT]", 0, 1, ctl_cmd_cdrs },
	{ "tenants", "tenants", 0, 0, ctl_cmd_tenants },
	{ "identities", "identities [TENANT]", 0, 1, ctl_cmd_identities },
	{ "user", "user add|del TENANT NAME", 0, 99, ctl_cmd_user },
	{ "groups", "groups", 0, 0, ctl_cmd_groups },
	{ "pause", "pause TENANT NUMBER", 2, 2, ctl_cmd_pause },
	{ "resume", "resume TENANT NUMBER", 2, 2, ctl_cmd_resume },
	{ "diversion", "diversion list|get|set|del ...", 0, 99, ctl_cmd_diversion },
	{ "reload", "reload", 0, 0, ctl_cmd_reload },
};

static const struct ctl_cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "password", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .t.timeout_ms = 10000 };
	const char *conf = CTL_DEFAULT_CONF;
	const struct ctl_cmd *cmd;
	bool conf_given = false;
	char *e;
	long secs;
	int o, rc, n;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "c:jt:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			conf = optarg;
			conf_given = true;
			break;
		case 'j':
			c.json = true;
			break;
		case 'P':
			c.password = optarg;
			break;
		case 't':
			secs = strtol(optarg, &e, 10);
			if (*e || secs < 1 || secs > 3600)
				return ctl_usage("--timeout: seconds 1..3600, "
						 "not '%s'", optarg);
			c.t.timeout_ms = (int)secs * 1000;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EX_DONE;
		default:
			return ctl_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ctl_usage("no command given");
	if (!(cmd = cmd_find(argv[optind])))
		return ctl_usage("unknown command '%s'", argv[optind]);
	n = argc - optind - 1;
	if (n < cmd->min_args || n > cmd->max_args)
		return ctl_usage("usage: %s", cmd->usage);
	if ((rc = ctl_locate(&c, conf, conf_given)))
		return rc;
	rc = cmd->run(&c, n, argv + optind + 1);
	free(c.token);
	return rc;
}
