/**
 * @file jsonstr.c  JSON string text (see jsonstr.h).
 */
#include "util/jsonstr.h"

void jsonstr_append(GString *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	/* the short escapes of RFC 8259, as jansson prints them */
	static const char shortx[0x20] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
		['\t'] = 't',
	};

	g_string_append_c(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)c);
		} else if (c < 0x20 && shortx[c]) {
			g_string_append_c(out, '\\');
			g_string_append_c(out, shortx[c]);
		} else if (c < 0x20) {
			g_string_append(out, "\\u00");
			g_string_append_c(out, hex[c >> 4]);
			g_string_append_c(out, hex[c & 15]);
		} else {
			g_string_append_c(out, (char)c);
		}
	}
	g_string_append_c(out, '"');
}
