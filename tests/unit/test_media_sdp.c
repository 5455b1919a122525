/**
 * @file test_media_sdp.c  SDP checks and normalisation (media/): real
 * browser and eIMS-AGW bodies from tests/data/sdp, byte-for-byte
 * pass-through, BUNDLE and codec edits, refusals with their reasons,
 * limits, hostile input, line ends, and fuzzer regressions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/media.h"

#define SDP_DIR WTPF_TEST_DATA "/sdp/"

static const char *const data_files[] = {
	"chrome-offer.sdp", "chrome-av-offer.sdp", "chrome-hold.sdp",
	"chrome-ice-restart.sdp", "firefox-offer.sdp", "rtpengine-answer.sdp",
	"plain-answer.sdp",
};

/* ---- helpers --------------------------------------------------------- */

/** Reads tests/data/sdp/@p name into a NUL-terminated malloc'd string. */
static char *load(const char *name)
{
	char path[512], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), SDP_DIR "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/** Returns a malloc'd copy of @p text with the first @p old replaced. */
static char *edit(const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	size_t pre, n;
	char *out;

	assert_non_null(at);
	pre = (size_t)(at - text);
	n = strlen(text) - strlen(old) + strlen(new);
	out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, text, pre);
	memcpy(out + pre, new, strlen(new));
	strcpy(out + pre + strlen(new), at + strlen(old));
	return out;
}

/** Like edit(), freeing @p text. */
static char *edit_free(char *text, const char *old, const char *new)
{
	char *out = edit(text, old, new);

	free(text);
	return out;
}

/** Returns a malloc'd copy of @p text with every CR removed. */
static char *to_lf(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	assert_non_null(out);
	for (; *text; text++) {
		if (*text != '\r')
			*o++ = *text;
	}
	*o = '\0';
	return out;
}

static struct media_sdp *parse_ok(const char *text)
{
	struct media_sdp *sdp = NULL;
	const char *why = NULL;

	assert_int_equal(media_sdp_parse(&sdp, text, strlen(text), NULL, &why), 0);
	assert_non_null(sdp);
	return sdp;
}

static struct media_sdp *parse_file(const char *name)
{
	char *text = load(name);
	struct media_sdp *sdp = parse_ok(text);

	free(text);
	return sdp;
}

/** Parses @p text (@p len SIZE_MAX: all of it) and expects @p err with
 * reason @p reason. */
static void parse_refused(const char *text, size_t len,
			  const struct media_policy *pol, int err,
			  const char *reason)
{
	struct media_sdp *sdp = NULL;
	const char *why = NULL;

	if (len == SIZE_MAX)
		len = strlen(text);
	assert_int_equal(media_sdp_parse(&sdp, text, len, pol, &why), err);
	assert_null(sdp);
	if (reason)
		assert_string_equal(why, reason);
}

/** Checks @p text as @p role and expects @p reason (NULL: accepted). */
static void check_text(const char *text, enum media_sdp_role role,
		       const char *reason)
{
	struct media_sdp *sdp = parse_ok(text);
	const char *why = NULL;
	int err = media_sdp_check(sdp, role, &why);

	if (reason) {
		assert_int_equal(err, EPROTO);
		assert_string_equal(why, reason);
	}
	else {
		assert_int_equal(err, 0);
	}
	media_sdp_free(sdp);
}

/*
 * The result of an edit is indexed as it is written: it must read as the
 * same SDP as its text parsed afresh (m-sections, their ports, types and
 * directions, ICE credentials and fingerprints, as the summary and the
 * checks see them).
 */
static void index_same(const struct media_sdp *out, const char *text)
{
	struct media_sdp *fresh = parse_ok(text);
	struct media_summary a, b;
	const char *wa = NULL, *wb = NULL;

	media_sdp_summary(out, fresh, &a);
	media_sdp_summary(fresh, out, &b);
	assert_int_equal(a.kind, b.kind);
	assert_int_equal(a.count, b.count);
	assert_memory_equal(a.m, b.m, sizeof(a.m[0]) * a.count);
	assert_int_equal(a.bundle, b.bundle);
	assert_int_equal(a.hold, b.hold);
	assert_false(a.ice_restart);          /* same ufrags both ways */
	assert_false(a.fingerprint_changed);
	assert_false(b.ice_restart);
	assert_false(b.fingerprint_changed);
	for (int role = MEDIA_SDP_OFFER; role <= MEDIA_SDP_ANSWER; role++) {
		assert_int_equal(media_sdp_check(out, role, &wa),
				 media_sdp_check(fresh, role, &wb));
	}
	assert_int_equal(media_sdp_check_answer(fresh, out, &wa),
			 media_sdp_check_answer(fresh, fresh, &wb));
	media_sdp_free(fresh);
}

/** Normalises @p text with @p pol and expects exactly @p expect. */
static void normalise_expect(const char *text, const struct media_policy *pol,
			     const char *expect)
{
	struct media_sdp *sdp = parse_ok(text), *out = NULL;
	const char *why = NULL, *res;
	size_t len;

	assert_int_equal(media_sdp_normalise(&out, sdp, pol, &why), 0);
	res = media_sdp_text(out, &len);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(res, expect, len);
	index_same(out, expect);
	media_sdp_free(out);
	media_sdp_free(sdp);
}

/** Normalises @p text with @p pol and expects EPROTO with @p reason. */
static void normalise_refused(const char *text, const struct media_policy *pol,
			      const char *reason)
{
	struct media_sdp *sdp = parse_ok(text), *out = NULL;
	const char *why = NULL;

	assert_int_equal(media_sdp_normalise(&out, sdp, pol, &why), EPROTO);
	assert_null(out);
	assert_string_equal(why, reason);
	media_sdp_free(sdp);
}

/** Whatever happens to @p len bytes of @p body, nothing may crash. */
static void survive(const char *body, size_t len)
{
	static const char *const codecs[] = { "opus", "PCMA", NULL };
	const struct media_policy pol = { true, codecs, 0 };
	struct media_sdp *sdp = NULL, *out = NULL;
	struct media_summary sum;
	char line[512];

	if (media_sdp_parse(&sdp, body, len, NULL, NULL))
		return;
	media_sdp_check(sdp, MEDIA_SDP_OFFER, NULL);
	media_sdp_check(sdp, MEDIA_SDP_ANSWER, NULL);
	media_sdp_summary(sdp, sdp, &sum);
	media_summary_print(&sum, line, sizeof(line));
	if (media_sdp_normalise(&out, sdp, &pol, NULL) == 0) {
		media_sdp_check_answer(out, sdp, NULL);
		media_sdp_free(out);
	}
	media_sdp_free(sdp);
}

/* ---- the test data as it comes --------------------------------------- */

static void test_data_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++)
		media_sdp_free(parse_file(data_files[i]));
}

static void test_classify(void **state)
{
	struct media_sdp *sdp;

	(void)state;
	sdp = parse_file("chrome-offer.sdp");
	assert_int_equal(media_sdp_kind(sdp), MEDIA_SDP_WEBRTC);
	media_sdp_free(sdp);
	sdp = parse_file("firefox-offer.sdp");
	assert_int_equal(media_sdp_kind(sdp), MEDIA_SDP_WEBRTC);
	media_sdp_free(sdp);
	sdp = parse_file("rtpengine-answer.sdp");
	assert_int_equal(media_sdp_kind(sdp), MEDIA_SDP_WEBRTC);
	media_sdp_free(sdp);
	sdp = parse_file("plain-answer.sdp");
	assert_int_equal(media_sdp_kind(sdp), MEDIA_SDP_PLAIN);
	assert_string_equal(media_sdp_kind_name(media_sdp_kind(sdp)), "plain");
	media_sdp_free(sdp);
}

static void test_check_accepts_webrtc(void **state)
{
	static const char *const offers[] = {
		"chrome-offer.sdp", "chrome-av-offer.sdp", "chrome-hold.sdp",
		"chrome-ice-restart.sdp", "firefox-offer.sdp",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		char *text = load(offers[i]);

		check_text(text, MEDIA_SDP_OFFER, NULL);
		free(text);
	}
}

/* The eIMS-AGW's answer to the Chrome offer: ICE-lite, setup:passive. */
static void test_check_rtpengine_answer(void **state)
{
	struct media_sdp *offer, *answer;
	const char *why = NULL;

	(void)state;
	offer = parse_file("chrome-offer.sdp");
	answer = parse_file("rtpengine-answer.sdp");
	assert_int_equal(media_sdp_check(answer, MEDIA_SDP_ANSWER, &why), 0);
	assert_int_equal(media_sdp_check_answer(answer, offer, &why), 0);
	media_sdp_free(answer);
	media_sdp_free(offer);
}

/* ---- pass-through ---------------------------------------------------- */

/* A policy that changes nothing gives the input back byte for byte. */
static void test_passthrough_bytes(void **state)
{
	static const char *const all[] = {
		"opus", "red", "G722", "PCMU", "PCMA", "CN", "telephone-event",
		"VP8", "VP9", "H264", "rtx", "ulpfec", NULL,
	};
	static const char *const empty[] = { NULL };
	const struct media_policy none = { 0 };
	const struct media_policy every = { false, all, 0 };
	const struct media_policy no_list = { false, empty, 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++) {
		char *text = load(data_files[i]);

		normalise_expect(text, NULL, text);
		normalise_expect(text, &none, text);
		normalise_expect(text, &every, text);
		normalise_expect(text, &no_list, text);
		free(text);
	}
}

/* ---- BUNDLE ---------------------------------------------------------- */

static void test_strip_bundle(void **state)
{
	const struct media_policy pol = { .strip_bundle = true };
	char *text, *expect;

	(void)state;
	text = load("chrome-offer.sdp");
	expect = edit(text, "a=group:BUNDLE 0\r\n", "");
	assert_non_null(strstr(expect, "a=mid:0\r\n"));
	normalise_expect(text, &pol, expect);
	free(expect);
	free(text);

	text = load("chrome-av-offer.sdp");
	expect = edit(text, "a=group:BUNDLE 0 1\r\n", "");
	normalise_expect(text, &pol, expect);
	free(expect);
	free(text);

	/* Nothing to strip: unchanged. */
	text = load("rtpengine-answer.sdp");
	normalise_expect(text, &pol, text);
	free(text);
}

static void test_strip_bundle_summary(void **state)
{
	const struct media_policy pol = { .strip_bundle = true };
	struct media_sdp *sdp, *out = NULL;
	struct media_summary sum;

	(void)state;
	sdp = parse_file("chrome-offer.sdp");
	media_sdp_summary(sdp, NULL, &sum);
	assert_true(sum.bundle);
	assert_int_equal(media_sdp_normalise(&out, sdp, &pol, NULL), 0);
	media_sdp_summary(out, NULL, &sum);
	assert_false(sum.bundle);
	assert_int_equal(media_sdp_check(out, MEDIA_SDP_OFFER, NULL), 0);
	media_sdp_free(out);
	media_sdp_free(sdp);
}

/* ---- codec allow-list ------------------------------------------------ */

static void test_codecs_audio(void **state)
{
	static const char *const codecs[] = {
		"OPUS", "pcma", "telephone-event", NULL,
	};
	const struct media_policy pol = { false, codecs, 0 };
	char *text, *expect;

	(void)state;
	text = load("chrome-offer.sdp");
	expect = edit(text, "UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n",
		      "UDP/TLS/RTP/SAVPF 111 8 110 126\r\n");
	expect = edit_free(expect, "a=rtpmap:63 red/48000/2\r\n", "");
	expect = edit_free(expect, "a=fmtp:63 111/111\r\n", "");
	expect = edit_free(expect, "a=rtpmap:9 G722/8000\r\n", "");
	expect = edit_free(expect, "a=rtpmap:0 PCMU/8000\r\n", "");
	expect = edit_free(expect, "a=rtpmap:13 CN/8000\r\n", "");
	assert_non_null(strstr(expect, "a=rtcp-fb:111 transport-cc\r\n"));
	normalise_expect(text, &pol, expect);
	free(expect);
	free(text);
}

/* red stays with opus; without opus (which it repeats), red goes too. */
static void test_codecs_red_follows_opus(void **state)
{
	static const char *const with_opus[] = { "opus", "red", NULL };
	static const char *const no_opus[] = { "red", "PCMU", NULL };
	const struct media_policy p1 = { false, with_opus, 0 };
	const struct media_policy p2 = { false, no_opus, 0 };
	char *text, *expect;

	(void)state;
	text = load("chrome-offer.sdp");
	expect = edit(text, " 111 63 9 0 8 13 110 126\r\n", " 111 63\r\n");
	expect = edit_free(expect, "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
			   "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n"
			   "a=rtpmap:110 telephone-event/48000\r\n"
			   "a=rtpmap:126 telephone-event/8000\r\n", "");
	normalise_expect(text, &p1, expect);
	free(expect);

	expect = edit(text, " 111 63 9 0 8 13 110 126\r\n", " 0\r\n");
	expect = edit_free(expect, "a=rtpmap:111 opus/48000/2\r\n"
			   "a=rtcp-fb:111 transport-cc\r\n"
			   "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
			   "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
			   "a=rtpmap:9 G722/8000\r\n", "");
	expect = edit_free(expect, "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n"
			   "a=rtpmap:110 telephone-event/48000\r\n"
			   "a=rtpmap:126 telephone-event/8000\r\n", "");
	normalise_expect(text, &p2, expect);
	free(expect);
	free(text);
}

/** Removes [@p from, @p to) of @p text, both found in order. */
static char *cut_free(char *text, const char *from, const char *to)
{
	char *a = strstr(text, from), *b;

	assert_non_null(a);
	b = strstr(a, to);
	assert_non_null(b);
	memmove(a, b, strlen(b) + 1);
	return text;
}

/* Video: rtx goes with the codec its apt= names, and its rtcp-fb lines. */
static void test_codecs_video_rtx(void **state)
{
	static const char *const codecs[] = { "opus", "VP8", "rtx", NULL };
	const struct media_policy pol = { false, codecs, 0 };
	char *text, *expect;

	(void)state;
	text = load("chrome-av-offer.sdp");
	expect = edit(text, "SAVPF 111 63 9 0 8 13 110 126\r\n", "SAVPF 111\r\n");
	expect = edit_free(expect, "SAVPF 96 97 98 99 102 103 116 117 118\r\n",
			   "SAVPF 96 97\r\n");
	/* Every line of 63, 9, 0, 8, 13, 110, 126 and 98 to 118 goes. */
	expect = edit_free(expect, "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
			   "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
			   "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n"
			   "a=rtpmap:110 telephone-event/48000\r\n"
			   "a=rtpmap:126 telephone-event/8000\r\n", "");
	expect = cut_free(expect, "a=rtpmap:98 VP9/90000\r\n", "a=ssrc-group:FID");
	assert_non_null(strstr(expect, "a=fmtp:97 apt=96\r\na=ssrc-group:FID"));
	normalise_expect(text, &pol, expect);
	free(expect);
	free(text);
}

/* Static payload types without a=rtpmap are known by their RFC 3551 name. */
static void test_codecs_static_pt(void **state)
{
	static const char *const codecs[] = { "PCMA", "telephone-event", NULL };
	const struct media_policy pol = { false, codecs, 0 };
	const char *text =
		"v=0\r\no=- 1 1 IN IP4 198.51.100.30\r\ns=-\r\n"
		"c=IN IP4 198.51.100.30\r\nt=0 0\r\n"
		"m=audio 6000 RTP/AVP 0 8 101\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
	const char *expect =
		"v=0\r\no=- 1 1 IN IP4 198.51.100.30\r\ns=-\r\n"
		"c=IN IP4 198.51.100.30\r\nt=0 0\r\n"
		"m=audio 6000 RTP/AVP 8 101\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";

	(void)state;
	normalise_expect(text, &pol, expect);
}

static void test_codecs_none_left(void **state)
{
	static const char *const amr[] = { "AMR-WB", NULL };
	static const char *const dtmf[] = { "telephone-event", "CN", NULL };
	static const char *const opus[] = { "opus", NULL };
	const struct media_policy p_amr = { false, amr, 0 };
	const struct media_policy p_dtmf = { false, dtmf, 0 };
	const struct media_policy p_opus = { false, opus, 0 };
	char *text;

	(void)state;
	text = load("chrome-offer.sdp");
	normalise_refused(text, &p_amr, "No Allowed Codec In Audio Media");
	normalise_refused(text, &p_dtmf, "No Allowed Codec In Audio Media");
	free(text);
	text = load("chrome-av-offer.sdp");
	normalise_refused(text, &p_opus, "No Allowed Codec In Video Media");
	free(text);
}

/* A rejected m-section (port 0) is left as it is. */
static void test_codecs_rejected_section(void **state)
{
	static const char *const opus[] = { "opus", NULL };
	const struct media_policy pol = { false, opus, 0 };
	char *text;

	(void)state;
	text = load("chrome-av-offer.sdp");
	text = edit_free(text, "m=video 9 ", "m=video 0 ");
	{
		struct media_sdp *sdp = parse_ok(text), *out = NULL;
		struct media_summary sum;
		const char *res;

		assert_int_equal(media_sdp_normalise(&out, sdp, &pol, NULL), 0);
		res = media_sdp_text(out, NULL);
		assert_non_null(strstr(res, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
		assert_non_null(strstr(res, "m=video 0 UDP/TLS/RTP/SAVPF 96 97 98 "));
		media_sdp_summary(out, NULL, &sum);
		assert_int_equal(sum.count, 2);
		assert_int_equal(sum.m[1].port, 0);
		media_sdp_free(out);
		media_sdp_free(sdp);
	}
	free(text);
}

/* ---- refusals -------------------------------------------------------- */

static void refuse_edit(const char *file, const char *old, const char *new,
			enum media_sdp_role role, const char *reason)
{
	char *text = load(file), *bad = edit(text, old, new);

	check_text(bad, role, reason);
	free(bad);
	free(text);
}

static void test_refuse_missing_ice(void **state)
{
	(void)state;
	refuse_edit("chrome-offer.sdp", "a=ice-ufrag:4ZcD\r\n", "",
		    MEDIA_SDP_OFFER, "No ICE Credentials In Audio Media");
	refuse_edit("chrome-offer.sdp", "a=ice-pwd:2/1muCWoOi3uLifh0NuRHlGz\r\n",
		    "", MEDIA_SDP_OFFER, "No ICE Credentials In Audio Media");
	refuse_edit("rtpengine-answer.sdp", "a=ice-ufrag:b8TgHKNQ\r\n", "",
		    MEDIA_SDP_ANSWER, "No ICE Credentials In Audio Media");
	refuse_edit("chrome-offer.sdp", "a=ice-ufrag:4ZcD\r\n",
		    "a=ice-ufrag:4Z\r\n", MEDIA_SDP_OFFER,
		    "Bad ICE Credentials In Audio Media");
	refuse_edit("chrome-offer.sdp", "a=ice-pwd:2/1muCWoOi3uLifh0NuRHlGz\r\n",
		    "a=ice-pwd:short\r\n", MEDIA_SDP_OFFER,
		    "Bad ICE Credentials In Audio Media");
}

static void test_refuse_missing_fingerprint(void **state)
{
	char *text, *bad;

	(void)state;
	text = load("chrome-offer.sdp");
	bad = edit(text, "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:"
		   "F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:"
		   "19:08\r\n", "");
	check_text(bad, MEDIA_SDP_OFFER, "No DTLS Fingerprint In Audio Media");
	free(bad);
	bad = edit(text, "a=fingerprint:sha-256 7B:8B", "a=fingerprint:sha-1 7B:8B");
	check_text(bad, MEDIA_SDP_OFFER, "Bad DTLS Fingerprint In Audio Media");
	free(bad);
	bad = edit(text, "a=fingerprint:sha-256 7B:8B", "a=fingerprint:md5 7B:8B");
	check_text(bad, MEDIA_SDP_OFFER, "Bad DTLS Fingerprint In Audio Media");
	free(bad);
	bad = edit(text, "19:08\r\n", "19:0G\r\n");
	check_text(bad, MEDIA_SDP_OFFER, "Bad DTLS Fingerprint In Audio Media");
	free(bad);
	free(text);

	/* Firefox's fingerprint is at session level: removing it refuses. */
	refuse_edit("firefox-offer.sdp", "a=fingerprint:sha-256 5E:C1",
		    "a=x-fingerprint:sha-256 5E:C1", MEDIA_SDP_OFFER,
		    "No DTLS Fingerprint In Audio Media");
}

static void test_refuse_video_fingerprint(void **state)
{
	char *text = load("chrome-av-offer.sdp");
	const char *fp = "a=fingerprint:sha-256 1F:0E:54:A9:7C:2B:D3:88:60:4E:"
			 "F1:9A:C7:35:B2:0D:6E:93:4A:C8:17:FE:52:B6:09:D4:AB:3C:"
			 "71:E8:26:95\r\n";
	char *bad = strdup(text), *video, *f;

	(void)state;
	/* Remove the second (video) fingerprint only. */
	assert_non_null(bad);
	video = strstr(bad, "m=video");
	assert_non_null(video);
	f = strstr(video, fp);
	assert_non_null(f);
	memmove(f, f + strlen(fp), strlen(f + strlen(fp)) + 1);
	check_text(bad, MEDIA_SDP_OFFER, "No DTLS Fingerprint In Video Media");
	free(bad);
	free(text);
}

static void test_refuse_setup(void **state)
{
	(void)state;
	refuse_edit("chrome-offer.sdp", "a=setup:actpass\r\n", "",
		    MEDIA_SDP_OFFER, "No DTLS Setup In Audio Media");
	refuse_edit("rtpengine-answer.sdp", "a=setup:passive\r\n", "",
		    MEDIA_SDP_ANSWER, "No DTLS Setup In Audio Media");
	/* actpass is for offers; an answer must choose. */
	refuse_edit("rtpengine-answer.sdp", "a=setup:passive\r\n",
		    "a=setup:actpass\r\n", MEDIA_SDP_ANSWER,
		    "Bad DTLS Setup In Audio Media");
	refuse_edit("chrome-offer.sdp", "a=setup:actpass\r\n",
		    "a=setup:holdconn\r\n", MEDIA_SDP_OFFER,
		    "Bad DTLS Setup In Audio Media");
	/* Session-level a=setup counts for the m-section. */
	refuse_edit("rtpengine-answer.sdp", "a=ice-lite\r\n",
		    "a=ice-lite\r\na=setup:active\r\n", MEDIA_SDP_ANSWER, NULL);
}

static void test_refuse_rtcp_mux(void **state)
{
	(void)state;
	refuse_edit("rtpengine-answer.sdp", "a=rtcp-mux\r\n", "",
		    MEDIA_SDP_ANSWER, "No RTCP Mux In Audio Media");
}

static void test_refuse_plain(void **state)
{
	char *text;

	(void)state;
	text = load("plain-answer.sdp");
	check_text(text, MEDIA_SDP_ANSWER,
		   "Answer Is Not WebRTC (RTP/AVP Without ICE/DTLS)");
	check_text(text, MEDIA_SDP_OFFER,
		   "Offer Is Not WebRTC (RTP/AVP Without ICE/DTLS)");
	free(text);

	/* SDES-SRTP is neither plain nor WebRTC. */
	refuse_edit("plain-answer.sdp", "RTP/AVP 0 101\r\n",
		    "RTP/SAVP 0 101\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
		    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
		    MEDIA_SDP_ANSWER, "Unsupported Transport In Audio Media");
}

static void test_refuse_no_media(void **state)
{
	(void)state;
	check_text("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n",
		   MEDIA_SDP_OFFER, "No Media In SDP");
}

static void test_answer_vs_offer(void **state)
{
	struct media_sdp *av, *ans, *one;
	char *text, *bad;
	const char *why = NULL;

	(void)state;
	av = parse_file("chrome-av-offer.sdp");
	ans = parse_file("rtpengine-answer.sdp");
	assert_int_equal(media_sdp_check_answer(ans, av, &why), EPROTO);
	assert_string_equal(why, "Answer Media Count Differs From Offer");

	text = load("rtpengine-answer.sdp");
	bad = edit(text, "m=audio", "m=video");
	one = parse_ok(bad);
	media_sdp_free(av);
	av = parse_file("chrome-offer.sdp");
	assert_int_equal(media_sdp_check_answer(one, av, &why), EPROTO);
	assert_string_equal(why, "Answer Media Type Differs From Offer");
	media_sdp_free(one);
	free(bad);
	free(text);

	text = load("chrome-offer.sdp");
	bad = edit(text, "m=audio 54321", "m=audio 0");
	one = parse_ok(bad);
	assert_int_equal(media_sdp_check_answer(ans, one, &why), EPROTO);
	assert_string_equal(why, "Answer Accepts Rejected Media");
	assert_int_equal(media_sdp_check_answer(NULL, one, &why), EINVAL);
	media_sdp_free(one);
	free(bad);
	free(text);
	media_sdp_free(ans);
	media_sdp_free(av);
}

/* ---- summary: hold, resume, ICE restart ------------------------------ */

static void summary_line(const char *file, const char *prev_file,
			 const char *expect)
{
	struct media_sdp *sdp = parse_file(file), *prev = NULL;
	struct media_summary sum;
	char line[256];

	if (prev_file)
		prev = parse_file(prev_file);
	media_sdp_summary(sdp, prev, &sum);
	assert_int_equal(media_summary_print(&sum, line, sizeof(line)), 0);
	assert_string_equal(line, expect);
	media_sdp_free(prev);
	media_sdp_free(sdp);
}

static void test_summary(void **state)
{
	(void)state;
	summary_line("chrome-offer.sdp", NULL,
		     "kind=webrtc m=audio:54321:sendrecv bundle=yes hold=no "
		     "ice-restart=no fp-changed=no");
	summary_line("chrome-hold.sdp", "chrome-offer.sdp",
		     "kind=webrtc m=audio:54321:sendonly bundle=yes hold=yes "
		     "ice-restart=no fp-changed=no");
	summary_line("chrome-offer.sdp", "chrome-hold.sdp",
		     "kind=webrtc m=audio:54321:sendrecv bundle=yes hold=no "
		     "ice-restart=no fp-changed=no");
	summary_line("chrome-ice-restart.sdp", "chrome-offer.sdp",
		     "kind=webrtc m=audio:54333:sendrecv bundle=yes hold=no "
		     "ice-restart=yes fp-changed=no");
	summary_line("plain-answer.sdp", NULL,
		     "kind=plain m=audio:6000:sendrecv bundle=no hold=no "
		     "ice-restart=no fp-changed=no");
	summary_line("firefox-offer.sdp", "chrome-offer.sdp",
		     "kind=webrtc m=audio:9:sendrecv bundle=yes hold=no "
		     "ice-restart=yes fp-changed=yes");
}

static void test_summary_details(void **state)
{
	struct media_sdp *sdp;
	struct media_summary sum;
	char *text, small[16];

	(void)state;
	/* Session-level direction, overridden per m-section. */
	text = load("chrome-av-offer.sdp");
	text = edit_free(text, "a=extmap-allow-mixed\r\n",
			 "a=extmap-allow-mixed\r\na=inactive\r\n");
	text = edit_free(text, "a=sendrecv\r\n", "");
	sdp = parse_ok(text);
	media_sdp_summary(sdp, NULL, &sum);
	assert_int_equal(sum.count, 2);
	assert_string_equal(sum.m[0].type, "audio");
	assert_int_equal(sum.m[0].dir, MEDIA_DIR_INACTIVE);
	assert_string_equal(sum.m[1].type, "video");
	assert_int_equal(sum.m[1].dir, MEDIA_DIR_SENDRECV);
	assert_false(sum.hold);
	assert_int_equal(media_summary_print(&sum, small, sizeof(small)), ENOSPC);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(media_summary_print(NULL, small, sizeof(small)), EINVAL);
	assert_string_equal(media_dir_name(MEDIA_DIR_RECVONLY), "recvonly");
	media_sdp_free(sdp);
	free(text);
}

/* ---- limits ---------------------------------------------------------- */

/** A valid offer padded with a=x lines to exactly @p size bytes. */
static char *padded(size_t size)
{
	char *text = load("chrome-offer.sdp"), *out;
	size_t n = strlen(text);

	assert_true(size >= n + 5);
	out = malloc(size + 1);
	assert_non_null(out);
	memcpy(out, text, n);
	while (size - n > 4000) {
		memcpy(out + n, "a=x:", 4);
		memset(out + n + 4, 'x', 3000 - 6);
		memcpy(out + n + 2994, "\r\n", 2);
		n += 2996;
	}
	memcpy(out + n, "a=y:", 4);
	memset(out + n + 4, 'y', size - n - 6);
	memcpy(out + size - 2, "\r\n", 2);
	out[size] = '\0';
	free(text);
	return out;
}

static void test_limit_size(void **state)
{
	const struct media_policy small = { .max_size = 1000 };
	const struct media_policy big = { .max_size = 200000 };
	char *text;
	struct media_sdp *sdp = NULL;

	(void)state;
	text = load("chrome-offer.sdp");
	parse_refused(text, strlen(text), &small, EMSGSIZE, "SDP Too Large");
	free(text);

	text = padded(MEDIA_SDP_MAX_SIZE);
	media_sdp_free(parse_ok(text));
	free(text);
	text = padded(MEDIA_SDP_MAX_SIZE + 1);
	parse_refused(text, strlen(text), NULL, EMSGSIZE, "SDP Too Large");
	assert_int_equal(media_sdp_parse(&sdp, text, strlen(text), &big, NULL), 0);
	media_sdp_free(sdp);
	free(text);
}

static void test_limit_line(void **state)
{
	char *text = load("chrome-offer.sdp"), *line, *bad;

	(void)state;
	line = malloc(MEDIA_SDP_MAX_LINE + 8);
	assert_non_null(line);
	memcpy(line, "a=x:", 4);
	memset(line + 4, 'x', MEDIA_SDP_MAX_LINE - 4);
	strcpy(line + MEDIA_SDP_MAX_LINE, "\r\n");
	bad = edit(text, "a=rtcp-rsize\r\n", line);
	media_sdp_free(parse_ok(bad));
	free(bad);

	strcpy(line + MEDIA_SDP_MAX_LINE, "x\r\n");
	bad = edit(text, "a=rtcp-rsize\r\n", line);
	parse_refused(bad, strlen(bad), NULL, EMSGSIZE, "SDP Line Too Long");
	free(bad);
	free(line);
	free(text);
}

/** An SDP with @p n m-sections (plain RTP, to keep it short). */
static char *many_m(size_t n)
{
	static const char head[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
				   "c=IN IP4 192.0.2.1\r\nt=0 0\r\n";
	static const char m[] = "m=audio 6000 RTP/AVP 0\r\n";
	char *out = malloc(sizeof(head) + n * (sizeof(m) - 1));

	assert_non_null(out);
	strcpy(out, head);
	for (size_t i = 0; i < n; i++)
		strcpy(out + sizeof(head) - 1 + i * (sizeof(m) - 1), m);
	return out;
}

static void test_limit_msections(void **state)
{
	char *text;

	(void)state;
	text = many_m(MEDIA_SDP_MAX_MSECS);
	media_sdp_free(parse_ok(text));
	free(text);
	text = many_m(MEDIA_SDP_MAX_MSECS + 1);
	parse_refused(text, strlen(text), NULL, E2BIG, "Too Many Media Sections");
	free(text);
	text = many_m(10000);
	parse_refused(text, strlen(text), &(struct media_policy){ .max_size = 1 << 20 },
		      E2BIG, "Too Many Media Sections");
	free(text);
}

/* ---- hostile input --------------------------------------------------- */

static void test_hostile_simple(void **state)
{
	static const char nul[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=\0-\r\n";
	static const char *const bad_m[] = {
		"m=audio 70000 RTP/AVP 0", "m=audio 9 UDP/TLS/RTP/SAVPF x",
		"m=audio 9 RTP/AVP 128", "m=audio 9 RTP/AVP", "m=audio 9",
		"m=", "m=audio x RTP/AVP 0", "m=audio 9/ RTP/AVP 0",
		"m=audio 9/x RTP/AVP 0", "m=audio 1234567 RTP/AVP 0",
	};
	struct media_sdp *sdp = NULL;
	char *huge;

	(void)state;
	assert_int_equal(media_sdp_parse(NULL, "v=0", 3, NULL, NULL), EINVAL);
	assert_int_equal(media_sdp_parse(&sdp, NULL, 3, NULL, NULL), EINVAL);
	parse_refused("", 0, NULL, EBADMSG, "Empty SDP");
	parse_refused(nul, sizeof(nul) - 1, NULL, EBADMSG, "NUL Byte In SDP");
	parse_refused("v=0\ro=- 1 1 IN IP4 192.0.2.1\r", 29, NULL, EBADMSG,
		      "Bare CR In SDP");
	parse_refused("hello world\r\n", 13, NULL, EBADMSG, "Malformed SDP Line");
	parse_refused("v=0\r\n\r\ns=-\r\n", 12, NULL, EBADMSG, "Empty Line In SDP");
	parse_refused("v=0\r\n", 5, NULL, EBADMSG,
		      "Missing SDP Origin, Session Name Or Timing");
	for (size_t i = 0; i < sizeof(bad_m) / sizeof(bad_m[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
			 "s=-\r\nt=0 0\r\nc=IN IP4 192.0.2.1\r\n%s\r\n", bad_m[i]);
		parse_refused(text, strlen(text), NULL, EBADMSG,
			      "Malformed Media Line");
	}
	assert_int_equal(media_sdp_check(NULL, MEDIA_SDP_OFFER, NULL), EINVAL);
	assert_int_equal(media_sdp_normalise(&sdp, NULL, NULL, NULL), EINVAL);
	media_sdp_free(NULL);

	huge = malloc(60001);
	assert_non_null(huge);
	memset(huge, 'a', 60000);
	huge[60000] = '\0';
	huge[1] = '=';
	parse_refused(huge, 60000, NULL, EMSGSIZE, "SDP Line Too Long");
	free(huge);
}

/* Every prefix of every test file: accepted or refused, never a crash. */
/* Each line's syntax and place (media_grammar.c): one bad line in an
 * otherwise good SDP, and the reason it is refused with. */
static void test_grammar(void **state)
{
	static const struct {
		const char *session, *media, *reason;
	} cases[] = {
		{ "x=1", "", "Unknown SDP Line Type" },
		{ "v=0", "", "Repeated SDP Line" },
		{ "s=again", "", "Repeated SDP Line" },
		{ "c=IN IP4 192.0.2.9", "", "Repeated SDP Line" },
		{ "", "t=0 0", "Session Line In Media Section" },
		{ "", "i=one\r\ni=two", "Repeated SDP Line" },
		{ "r=604800 3600 0 90000", "", "Repeat Or Zone Line In Offer/Answer SDP" },
		{ "z=2882844526 -1h", "", "Repeat Or Zone Line In Offer/Answer SDP" },
		{ "b=AS", "", "Malformed SDP Bandwidth" },
		{ "b=AS:x", "", "Malformed SDP Bandwidth" },
		{ "k=secret", "", "Malformed SDP Key" },
		{ "", "c=IN IP4 192.0.2.1/300", "Malformed SDP Connection" },
		{ "", "c=IN IP5 192.0.2.1", "Malformed SDP Connection" },
		{ "", "c=XX IP4 192.0.2.1", "Malformed SDP Connection" },
		{ "", "c=IN  IP4 192.0.2.1", "Malformed SDP Connection" },
		{ "", "c=IN IP4 192.0.2.1 extra", "Malformed SDP Connection" },
		{ "", "c=IN IP4 bad@host", "Malformed SDP Connection" },
		{ "", "a=bad name:1", "Malformed SDP Attribute" },
		{ "", "a=rtpmap:0 PCMU", "Malformed SDP Attribute" },
		{ "", "a=rtpmap:0 PCMU/fast", "Malformed SDP Attribute" },
		{ "", "a=rtpmap:200 PCMU/8000", "Malformed SDP Attribute" },
		{ "", "a=rtpmap: 96 opus/48000/2", "Malformed SDP Attribute" },
		{ "", "a=rtpmap:0 PCMU/8000\r\na=rtpmap:0 PCMA/8000",
		  "Payload Type Mapped Twice" },
		{ "", "a=fmtp:LE 0-15", "Malformed SDP Attribute" },
		{ "", "a=fmtp: 0 x", "Malformed SDP Attribute" },
		{ "u=", "", "Empty SDP Text Field" },
	};
	static const char *const heads[] = {
		"v=0\r\no=- 1 x IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1/2\r\ns=-\r\nt=0 0\r\n",
		"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n",
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
			 "s=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n%s%s"
			 "m=audio 9 RTP/AVP 0 96\r\na=rtpmap:96 opus/48000/2\r\n"
			 "%s%s", cases[i].session, *cases[i].session ? "\r\n" : "",
			 cases[i].media, *cases[i].media ? "\r\n" : "");
		parse_refused(text, strlen(text), NULL, EBADMSG, cases[i].reason);
	}
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		snprintf(text, sizeof(text), "%sc=IN IP4 192.0.2.1\r\n"
			 "m=audio 9 RTP/AVP 0\r\n", heads[i]);
		parse_refused(text, strlen(text), NULL, EBADMSG,
			      "Malformed SDP Origin");
	}
	/* the same SDP with the bad lines left out passes */
	snprintf(text, sizeof(text), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
		 "s=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nb=AS:64\r\n"
		 "k=prompt\r\nm=audio 9 RTP/AVP 0 96\r\n"
		 "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 minptime=10\r\n");
	media_sdp_free(parse_ok(text));
	parse_refused("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
		      "m=audio 9 RTP/AVP 0\r\n", SIZE_MAX, NULL, EBADMSG,
		      "Missing SDP Connection");
	parse_refused("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
		      "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 96\r\n",
		      SIZE_MAX, NULL, EBADMSG, "Dynamic Payload Type Without rtpmap");
	parse_refused("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
		      "c=IN IP4 192.0.2.1\r\nm=audio 9 RTP/AVP 0\r\n", SIZE_MAX, NULL,
		      EBADMSG, "Missing SDP Origin, Session Name Or Timing");
	parse_refused("o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n", SIZE_MAX, NULL,
		      EBADMSG, "SDP Must Begin With v=");
}

static void test_hostile_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++) {
		char *text = load(data_files[i]);
		size_t n = strlen(text);

		for (size_t len = 0; len <= n; len++)
			survive(text, len);
		free(text);
	}
}

/* Random byte flips over a real offer (deterministic). */
static void test_hostile_mutations(void **state)
{
	static const char alphabet[] = "\r\n\0 :/=0123456789amv-";
	char *text = load("chrome-av-offer.sdp");
	size_t n = strlen(text);
	uint32_t seed = 12345;
	char *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, text, n);
		for (int k = 0; k < 1 + round % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % n] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
		}
		survive(buf, n);
	}
	free(buf);
	free(text);
}

/* ---- regressions (found by mutation tests and tests/fuzz) ------------ */

/*
 * Sofia-SIP 1.12.11's sdp_parse() loops allocating until memory runs out
 * (about a minute, gigabytes) on a non-token format after an unknown
 * proto. The module must refuse such m= lines before Sofia sees them.
 */
static void test_regress_sofia_format_loop(void **state)
{
	static const char *const lines[] = {
		"m=video 9 UDP/TL /RTP/SAVPF 96 97",
		"m=video 9 FOO /x",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel /",
		"m=application 9 FOO 96 @",
		/* fuzz_sdp timeout: stray bytes glued to the proto */
		"m=audio 30000 UDP/TLS/RTP/SAVPF\xff\xff\xff 111 126",
		"m=audio 9 RTP/AVP\x01 0",
		"m=aud\xffio 9 RTP/AVP 0",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
			 "s=-\r\nt=0 0\r\nc=IN IP4 192.0.2.1\r\n%s\r\n", lines[i]);
		parse_refused(text, strlen(text), NULL, EBADMSG,
			      "Malformed Media Line");
	}
}

/* ---- line ends ------------------------------------------------------- */

static void test_lf_preserved(void **state)
{
	static const char *const codecs[] = { "opus", "telephone-event", NULL };
	const struct media_policy pol = { true, codecs, 0 };
	char *crlf = load("chrome-offer.sdp"), *lf = to_lf(crlf), *expect;
	struct media_sdp *in, *out = NULL;
	const char *res;

	(void)state;
	normalise_expect(lf, NULL, lf);

	in = parse_ok(crlf);
	assert_int_equal(media_sdp_normalise(&out, in, &pol, NULL), 0);
	expect = to_lf(media_sdp_text(out, NULL));
	assert_non_null(strstr(media_sdp_text(out, NULL), "\r\n"));
	media_sdp_free(out);
	media_sdp_free(in);

	in = parse_ok(lf);
	assert_int_equal(media_sdp_normalise(&out, in, &pol, NULL), 0);
	res = media_sdp_text(out, NULL);
	assert_null(strchr(res, '\r'));
	assert_string_equal(res, expect);
	assert_int_equal(media_sdp_check(out, MEDIA_SDP_OFFER, NULL), 0);
	media_sdp_free(out);
	media_sdp_free(in);
	free(expect);
	free(lf);
	free(crlf);
}

/* Mixed line ends and a missing final line end stay as found. */
static void test_mixed_eol_preserved(void **state)
{
	const struct media_policy pol = { .strip_bundle = true };
	char *text = load("chrome-offer.sdp"), *mixed, *expect;

	(void)state;
	mixed = edit(text, "s=-\r\n", "s=-\n");
	mixed = edit_free(mixed, "a=mid:0\r\n", "a=mid:0\n");
	mixed[strlen(mixed) - 2] = '\0';         /* no final CRLF */
	normalise_expect(mixed, NULL, mixed);
	expect = edit(mixed, "a=group:BUNDLE 0\r\n", "");
	normalise_expect(mixed, &pol, expect);
	free(expect);

	/* Trailing empty lines are tolerated and kept. */
	free(mixed);
	mixed = malloc(strlen(text) + 5);
	assert_non_null(mixed);
	strcpy(mixed, text);
	strcat(mixed, "\r\n\r\n");
	normalise_expect(mixed, NULL, mixed);
	free(mixed);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_parse),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_check_accepts_webrtc),
		cmocka_unit_test(test_check_rtpengine_answer),
		cmocka_unit_test(test_passthrough_bytes),
		cmocka_unit_test(test_strip_bundle),
		cmocka_unit_test(test_strip_bundle_summary),
		cmocka_unit_test(test_codecs_audio),
		cmocka_unit_test(test_codecs_red_follows_opus),
		cmocka_unit_test(test_codecs_video_rtx),
		cmocka_unit_test(test_codecs_static_pt),
		cmocka_unit_test(test_codecs_none_left),
		cmocka_unit_test(test_codecs_rejected_section),
		cmocka_unit_test(test_refuse_missing_ice),
		cmocka_unit_test(test_refuse_missing_fingerprint),
		cmocka_unit_test(test_refuse_video_fingerprint),
		cmocka_unit_test(test_refuse_setup),
		cmocka_unit_test(test_refuse_rtcp_mux),
		cmocka_unit_test(test_refuse_plain),
		cmocka_unit_test(test_refuse_no_media),
		cmocka_unit_test(test_answer_vs_offer),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_details),
		cmocka_unit_test(test_limit_size),
		cmocka_unit_test(test_limit_line),
		cmocka_unit_test(test_limit_msections),
		cmocka_unit_test(test_hostile_simple),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_hostile_truncated),
		cmocka_unit_test(test_hostile_mutations),
		cmocka_unit_test(test_regress_sofia_format_loop),
		cmocka_unit_test(test_lf_preserved),
		cmocka_unit_test(test_mixed_eol_preserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
