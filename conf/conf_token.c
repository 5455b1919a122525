/**
 * @file conf_token.c  The admin token of admin.token_file: read and checked
 * the same way by the configuration check, the admin listener and wtpfctl.
 */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_SPACE " \t\r\n\v\f"

int conf_token_parse(const char *text, char **tokp, char *why, size_t whysize)
{
	size_t b = strspn(text, TOKEN_SPACE), n = strlen(text + b);

	*tokp = NULL;
	while (n && strchr(TOKEN_SPACE, text[b + n - 1]))
		n--;
	if (!n) {
		snprintf(why, whysize, "the token is empty");
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[b + i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(why, whysize, "the token must be one line without "
				 "control characters");
			return EINVAL;
		}
	}
	if (n < CONF_TOKEN_MIN || n > CONF_TOKEN_MAX) {
		snprintf(why, whysize, "the token has %zu character%s; it must "
			 "have %d to %d", n, n == 1 ? "" : "s", CONF_TOKEN_MIN,
			 CONF_TOKEN_MAX);
		return EINVAL;
	}
	*tokp = strndup(text + b, n);
	if (!*tokp) {
		snprintf(why, whysize, "out of memory");
		return ENOMEM;
	}
	return 0;
}

int conf_token_read(const char *path, char **tokp, char *why, size_t whysize)
{
	char buf[CONF_TOKEN_MAX + 256];
	FILE *f = fopen(path, "r");
	size_t n;
	int err = 0;

	*tokp = NULL;
	if (!f) {
		err = errno;
		snprintf(why, whysize, "%s", strerror(err));
		return err;
	}
	errno = 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	if (ferror(f)) {
		err = errno ? errno : EIO;   /* a folder: EISDIR */
		snprintf(why, whysize, "%s", strerror(err));
	} else if (n == sizeof buf - 1 && fgetc(f) != EOF) {
		err = EINVAL;
		snprintf(why, whysize, "the file is larger than a token can be "
			 "(%d characters)", CONF_TOKEN_MAX);
	}
	fclose(f);
	if (err)
		return err;
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		snprintf(why, whysize, "the file holds a NUL byte");
		return EINVAL;
	}
	return conf_token_parse(buf, tokp, why, whysize);
}
