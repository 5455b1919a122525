/**
 * @file fuzz_sdp_sofia.c  Differential harness: media/ checks an SDP's
 * syntax itself (media_grammar.c) where it used Sofia-SIP's strict
 * sdp_parse() before. Whatever media_sdp_parse() accepts, sdp_parse()
 * with sdp_f_strict must accept too, with as many m-sections: media/ may
 * refuse more, never less. One exception, a Sofia quirk: it refuses an
 * rtpmap for a payload type missing from its m= line ("unknown payload
 * type"), and only in the RTP profiles it parses (not UDP/TLS/RTP/SAVPF),
 * a line media/ lets pass as RFC 8866 does.
 *
 * The input is one SDP body; seeds are corpus/sdp/. Built and run by
 * tests/fuzz/CMakeLists.txt (test fuzz.sdp_sofia).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "media/media.h"

/* m= lines of @p text. */
static size_t m_lines(const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if ((i == 0 || text[i - 1] == '\n') && text[i] == 'm' &&
		    text[i + 1] == '=')
			n++;
	}
	return n;
}

/* True when Sofia's strict parser takes @p text with @p nm m-sections,
 * or refuses it only for its rtpmap quirk. */
static int sofia_agrees(const char *text, size_t len, size_t nm)
{
	su_home_t *home = su_home_new(sizeof(*home));
	sdp_parser_t *p;
	sdp_session_t *s;
	const char *e;
	size_t n = 0;
	int ok;

	if (!home)
		return 1;
	p = sdp_parse(home, text, (issize_t)len, sdp_f_strict);
	s = sdp_session(p);
	for (sdp_media_t *m = s ? s->sdp_media : NULL; m; m = m->m_next)
		n++;
	e = s ? NULL : sdp_parsing_error(p);
	ok = s ? n == nm : e && strstr(e, "unknown payload type") != NULL;
	sdp_parser_free(p);
	su_home_unref(home);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_sdp *sdp = NULL;
	const char *text;
	size_t len;

	if (media_sdp_parse(&sdp, (const char *)data, size, NULL, NULL))
		return 0;
	text = media_sdp_text(sdp, &len);
	if (!sofia_agrees(text, len, m_lines(text, len)))
		abort();
	media_sdp_free(sdp);
	return 0;
}
