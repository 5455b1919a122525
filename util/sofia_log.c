/**
 * @file sofia_log.c  Sofia-SIP log redirection (see sofia_log.h).
 */
#include "sofia_log.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sofia-sip/su_log.h>

extern su_log_t tport_log[];
extern su_log_t nta_log[];
extern su_log_t nua_log[];

static void sofia_logger(void *arg, char const *fmt, va_list ap)
{
	static char line[1024];
	static size_t len;
	size_t n;

	(void)arg;
	/* Sofia writes a line in several pieces: gather up to the newline. */
	if (len < sizeof line - 1)
		vsnprintf(line + len, sizeof line - len, fmt, ap);
	n = strlen(line);
	len = n;
	if (!n || line[n - 1] != '\n')
		return;
	line[n - 1] = '\0';
	log_write(LOG_DEBUG, "sofia", 0, "%s", line);
	len = 0;
	line[0] = '\0';
}

void sofia_log_redirect(void)
{
	su_log_redirect(NULL, sofia_logger, NULL);
	su_log_redirect(tport_log, sofia_logger, NULL);
	su_log_redirect(nta_log, sofia_logger, NULL);
	su_log_redirect(nua_log, sofia_logger, NULL);
}
