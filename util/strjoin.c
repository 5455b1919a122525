/**
 * @file strjoin.c  Strings joined and numbers printed without a format.
 */
#include "strjoin.h"

#include <stdarg.h>
#include <string.h>

size_t str_join(char *buf, size_t size, ...)
{
	size_t n = 0;
	const char *s;
	va_list ap;

	va_start(ap, size);
	while ((s = va_arg(ap, const char *))) {
		size_t len = strlen(s);

		if (len >= size - n) {
			memcpy(buf + n, s, size - n - 1);
			buf[size - 1] = '\0';
			va_end(ap);
			return size;
		}
		memcpy(buf + n, s, len);
		n += len;
	}
	va_end(ap);
	buf[n] = '\0';
	return n;
}

size_t str_ulong(char *buf, unsigned long v)
{
	char tmp[STR_ULONG_MAX];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}
