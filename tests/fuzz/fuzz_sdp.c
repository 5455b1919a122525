/**
 * @file fuzz_sdp.c  libFuzzer harness for media/ (SDP checks and
 * normalisation): any input must be accepted or refused without a crash,
 * a leak or a hang, and these must hold for what is accepted:
 *   - a policy that changes nothing gives the input back byte for byte;
 *   - a normalised SDP is no longer than its input, and normalising it
 *     again with the same policy changes nothing (the edit is idempotent).
 *
 * The input is one SDP body (offer or answer, from a browser or from IMS).
 * Built and run by tests/fuzz/CMakeLists.txt (test fuzz.sdp); see
 * tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"

static const char *const codecs[] = {
	"opus", "PCMA", "telephone-event", "VP8", "rtx", NULL,
};

/** Normalises @p sdp with @p pol; checks what must hold; may return NULL. */
static struct media_sdp *normalise(const struct media_sdp *sdp,
				   const struct media_policy *pol)
{
	struct media_sdp *out = NULL, *again = NULL;
	size_t len, olen, alen;
	const char *text = media_sdp_text(sdp, &len), *otext, *atext;

	if (media_sdp_normalise(&out, sdp, pol, NULL))
		return NULL;
	otext = media_sdp_text(out, &olen);
	if (olen > len)
		abort();
	if (!pol->strip_bundle && !pol->codecs &&
	    (olen != len || memcmp(otext, text, len)))
		abort();
	if (media_sdp_normalise(&again, out, pol, NULL))
		abort();
	atext = media_sdp_text(again, &alen);
	if (alen != olen || memcmp(atext, otext, olen))
		abort();
	media_sdp_free(again);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct media_policy none = { 0 };
	const struct media_policy pol = { true, codecs, 0 };
	struct media_sdp *sdp = NULL, *out;
	struct media_summary sum;
	char line[512];

	if (media_sdp_parse(&sdp, (const char *)data, size, NULL, NULL))
		return 0;
	media_sdp_kind(sdp);
	media_sdp_check(sdp, MEDIA_SDP_OFFER, NULL);
	media_sdp_check(sdp, MEDIA_SDP_ANSWER, NULL);
	if (media_sdp_check_answer(sdp, sdp, NULL))
		abort();
	media_sdp_summary(sdp, sdp, &sum);
	if (sum.ice_restart || sum.fingerprint_changed)
		abort();
	media_summary_print(&sum, line, sizeof(line));

	out = normalise(sdp, &none);
	if (!out)
		abort();
	media_sdp_free(out);
	out = normalise(sdp, &pol);
	if (out) {
		media_sdp_check(out, MEDIA_SDP_OFFER, NULL);
		media_sdp_check_answer(out, sdp, NULL);
		media_sdp_summary(out, sdp, &sum);
		media_summary_print(&sum, line, sizeof(line));
		media_sdp_free(out);
	}
	media_sdp_free(sdp);
	return 0;
}
