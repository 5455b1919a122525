/**
 * @file test_wic_sip.c  SIP on the WebSocket edge: what the parser refuses
 * and why, how responses are built, how AORs are made canonical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/wic/wic_priv.h"
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <stdlib.h>
#include <sofia-sip/url.h>

#define HDRS(method, cseq_method) \
	method " sip:demo.example SIP/2.0\r\n" \
	"Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK776asdhds\r\n" \
	"Max-Forwards: 70\r\n" \
	"To: <sip:alice@demo.example>\r\n" \
	"From: <sip:alice@demo.example>;tag=1928301774\r\n" \
	"Call-ID: a84b4c76e66710\r\n" \
	"CSeq: 314159 " cseq_method "\r\n"

static int parse(const char *text, msg_t **msgp, const char **why)
{
	*why = NULL;
	return wic_sip_parse(text, strlen(text), msgp, why);
}

static void test_good_request(void **state)
{
	msg_t *msg;
	const char *why;

	(void)state;
	assert_int_equal(parse(HDRS("REGISTER", "REGISTER")
			       "Contact: <sip:x@abc.invalid;transport=ws>\r\n"
			       "Content-Length: 0\r\n\r\n", &msg, &why), 0);
	assert_non_null(sip_object(msg)->sip_contact);
	msg_destroy(msg);
}

static void test_garbage_is_protocol_error(void **state)
{
	static const char *const junk[] = {
		"hello world",
		"",
		"\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"SIP/2.0 200\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n",  /* unanswerable */
	};
	msg_t *msg;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		assert_int_equal(parse(junk[i], &msg, &why), EPROTO);
		assert_null(msg);
		assert_non_null(why);
	}
}

static void test_bad_header_named(void **state)
{
	msg_t *msg;
	const char *why;

	(void)state;
	assert_int_equal(parse(HDRS("REGISTER", "REGISTER")
			       "Contact: <sip:x@abc.invalid;transport=ws\r\n"
			       "Content-Length: 0\r\n\r\n", &msg, &why), EBADMSG);
	assert_non_null(msg);
	assert_string_equal(why, "Bad Contact Header");
	msg_destroy(msg);

	assert_int_equal(parse(HDRS("OPTIONS", "OPTIONS")
			       "Expires: soon\r\nContent-Length: 0\r\n\r\n",
			       &msg, &why), EBADMSG);
	assert_string_equal(why, "Bad Expires Header");
	msg_destroy(msg);
}

/* A header that comes once, given twice, is on Sofia's error list as
 * itself (not as an error header): it is named by its class. */
static void test_duplicate_header_named(void **state)
{
	msg_t *msg;
	const char *why;

	(void)state;
	assert_int_equal(parse(HDRS("OPTIONS", "OPTIONS")
			       "Max-Forwards: 69\r\nContent-Length: 0\r\n\r\n",
			       &msg, &why), EBADMSG);
	assert_string_equal(why, "Bad Max-Forwards Header");
	msg_destroy(msg);
	assert_int_equal(parse(HDRS("OPTIONS", "OPTIONS")
			       "Call-ID: again\r\nContent-Length: 0\r\n\r\n",
			       &msg, &why), EBADMSG);
	assert_string_equal(why, "Bad Call-ID Header");
	msg_destroy(msg);
}

static void test_cseq_mismatch(void **state)
{
	msg_t *msg;
	const char *why;

	(void)state;
	assert_int_equal(parse(HDRS("REGISTER", "INVITE")
			       "Content-Length: 0\r\n\r\n", &msg, &why), EBADMSG);
	assert_string_equal(why, "CSeq Method Does Not Match Request");
	msg_destroy(msg);
}

static void test_max_forwards_zero(void **state)
{
	msg_t *msg;
	const char *why;
	const char *text =
		"INVITE sip:bob@demo.example SIP/2.0\r\n"
		"Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK776asdhds\r\n"
		"Max-Forwards: 0\r\n"
		"To: <sip:bob@demo.example>\r\n"
		"From: <sip:alice@demo.example>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";

	(void)state;
	assert_int_equal(parse(text, &msg, &why), ELOOP);
	assert_string_equal(why, "Too Many Hops");
	msg_destroy(msg);
}

static void test_response_copies_and_tags(void **state)
{
	msg_t *req, *rsp;
	const char *why;
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(parse(HDRS("OPTIONS", "OPTIONS")
			       "Via: SIP/2.0/WSS second.invalid;branch=z9hG4bK2\r\n"
			       "Content-Length: 0\r\n\r\n", &req, &why), 0);
	rsp = wic_sip_response(req, 400, "Bad Thing Here", "totag1", NULL);
	assert_non_null(rsp);
	text = wic_sip_to_string(rsp, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "SIP/2.0 400 Bad Thing Here\r\n"));
	assert_non_null(strstr(text, "branch=z9hG4bK776asdhds"));
	assert_non_null(strstr(text, "second.invalid"));
	assert_non_null(strstr(text, "tag=totag1"));
	assert_non_null(strstr(text, "Call-ID: a84b4c76e66710\r\n"));
	assert_non_null(strstr(text, "CSeq: 314159 OPTIONS\r\n"));
	assert_non_null(strstr(text, "Content-Length: 0\r\n"));
	msg_destroy(rsp);
	/* 100 Trying gets no To tag. */
	rsp = wic_sip_response(req, 100, NULL, "totag1", NULL);
	text = wic_sip_to_string(rsp, &len);
	assert_null(strstr(text, "tag=totag1"));
	assert_non_null(strstr(text, "SIP/2.0 100 Trying"));
	msg_destroy(rsp);
	msg_destroy(req);
}

/* The text sent is the bytes Sofia encodes, body included, whichever way
 * they are gathered. */
static void test_to_string_matches_sofia(void **state)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
				  "t=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
	msg_t *req, *rsp;
	const char *why;
	char *text, *ref;
	size_t len, rlen = 0;

	(void)state;
	assert_int_equal(parse(HDRS("OPTIONS", "OPTIONS")
			       "Content-Length: 0\r\n\r\n", &req, &why), 0);
	rsp = wic_sip_response(req, 200, NULL, "totag2", NULL);
	assert_non_null(rsp);
	assert_int_equal(sip_add_tl(rsp, sip_object(rsp),
				    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
				    SIPTAG_PAYLOAD_STR(sdp), TAG_END()), 0);
	text = wic_sip_to_string(rsp, &len);
	assert_non_null(text);
	ref = msg_as_string(msg_home(rsp), rsp, NULL, 0, &rlen);
	assert_non_null(ref);
	assert_int_equal(len, rlen);
	assert_string_equal(text, ref);
	assert_non_null(strstr(text, "\r\n\r\nv=0\r\n"));
	assert_non_null(strstr(text, "Content-Type: application/sdp\r\n"));
	msg_destroy(rsp);
	msg_destroy(req);
}

/* Both encoders' answers to @p req, parsed back: same status, same
 * headers of each class, same body. */
static void same_as_sofia(msg_t *req, int status, const char *to_tag,
			  tag_type_t tag, tag_value_t value, ...)
{
	static const msg_hclass_t *const classes[] = {
		sip_via_class, sip_from_class, sip_to_class, sip_call_id_class,
		sip_cseq_class, sip_contact_class, sip_require_class,
		sip_retry_after_class, sip_www_authenticate_class,
		sip_content_type_class, sip_content_length_class,
		sip_unknown_class, sip_payload_class,
	};
	su_home_t home[1] = { SU_HOME_INIT(home) };
	msg_t *rsp, *a, *b;
	char *text, *ref;
	size_t len, rlen;
	ta_list ta;

	ta_start(ta, tag, value);
	text = wic_sip_response_text(req, status, NULL, to_tag, ta_args(ta),
				     &len);
	rsp = wic_sip_response(req, status, NULL, to_tag, ta_args(ta));
	ta_end(ta);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_non_null(rsp);
	ref = wic_sip_to_string(rsp, &rlen);
	a = msg_make(sip_default_mclass(), 0, text, (ssize_t)len);
	b = msg_make(sip_default_mclass(), 0, ref, (ssize_t)rlen);
	assert_non_null(a);
	assert_non_null(b);
	assert_false(msg_has_error(a));
	assert_int_equal(sip_object(a)->sip_status->st_status, status);
	assert_string_equal(sip_object(a)->sip_status->st_phrase,
			    sip_object(b)->sip_status->st_phrase);
	for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
		msg_header_t *ha = msg_header_access((msg_pub_t *)sip_object(a),
						     classes[i]);
		msg_header_t *hb = msg_header_access((msg_pub_t *)sip_object(b),
						     classes[i]);
		for (; ha || hb; ha = ha->sh_next, hb = hb->sh_next) {
			assert_non_null(ha);
			assert_non_null(hb);
			assert_string_equal(sip_header_as_string(home, (sip_header_t *)ha),
					    sip_header_as_string(home, (sip_header_t *)hb));
		}
	}
	free(text);
	msg_destroy(a);
	msg_destroy(b);
	msg_destroy(rsp);
	su_home_deinit(home);
}

/* The direct printer says what Sofia's message would have said. */
static void test_response_text_matches_message(void **state)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
				  "t=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_contact_t *m = sip_contact_make(home,
		"<sip:a@x.invalid;transport=ws>;expires=300;+sip.ice, "
		"<sip:b@y.invalid;transport=ws>;reg-id=1;"
		"+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\""
		";expires=12");
	msg_t *req, *tagged;
	const char *why;

	(void)state;
	assert_non_null(m);
	assert_int_equal(parse(HDRS("REGISTER", "REGISTER")
			       "Via: SIP/2.0/WSS second.invalid;branch=z9hG4bK2\r\n"
			       "Content-Length: 0\r\n\r\n", &req, &why), 0);
	same_as_sofia(req, 200, "tt1", SIPTAG_CONTACT(m),
		      SIPTAG_REQUIRE_STR("outbound"),
		      SIPTAG_HEADER_STR("P-Associated-URI: <sip:a@x.invalid>, "
					"<tel:+4940555000001>"), TAG_END());
	same_as_sofia(req, 401, "tt1", SIPTAG_WWW_AUTHENTICATE_STR(
		      "Bearer realm=\"x.invalid\", error=\"invalid_token\""),
		      TAG_END());
	same_as_sofia(req, 200, "tt1", SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		      TAG_IF(0, SIPTAG_RETRY_AFTER_STR("5")),
		      SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	same_as_sofia(req, 503, NULL, SIPTAG_RETRY_AFTER_STR("30"), TAG_END());
	same_as_sofia(req, 403, "tt1", SIPTAG_HEADER_STR("X-Test: one\r\n"),
		      SIPTAG_HEADER_STR("X-Other: two"), TAG_END());
	same_as_sofia(req, 100, "tt1", TAG_END());
	same_as_sofia(req, 486, "tt1", TAG_NULL());
	/* a To that has a tag keeps it, alone */
	assert_int_equal(parse(HDRS("BYE", "BYE") "Content-Length: 0\r\n\r\n",
			       &tagged, &why), 0);
	assert_int_equal(sip_to_tag(msg_home(tagged), sip_object(tagged)->sip_to,
				    "theirs"), 0);
	same_as_sofia(tagged, 200, "tt1", TAG_END());
	msg_destroy(tagged);
	su_home_deinit(home);
	msg_destroy(req);
}

/* Tags the printer does not print are refused, for the message builder. */
static void test_response_text_refuses(void **state)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	msg_t *req;
	const char *why;
	size_t len = 7;

	(void)state;
	assert_int_equal(parse(HDRS("OPTIONS", "OPTIONS")
			       "Content-Length: 0\r\n\r\n", &req, &why), 0);
	errno = 0;
	assert_null(wic_sip_response_text(req, 200, NULL, NULL, (tagi_t[]){
		{ SIPTAG_CSEQ_STR("1 OPTIONS") }, { TAG_END() } }, &len));
	assert_int_equal(errno, ENOTSUP);
	assert_null(wic_sip_response_text(req, 200, NULL, NULL, (tagi_t[]){
		{ SIPTAG_TO(sip_to_make(home, "<sip:x@y.invalid>")) },
		{ TAG_END() } }, &len));
	assert_int_equal(errno, ENOTSUP);
	assert_null(wic_sip_response_text(req, 99, NULL, NULL, NULL, &len));
	assert_int_equal(errno, EINVAL);
	/* nothing pasted may start a line of its own */
	assert_null(wic_sip_response_text(req, 200, NULL, NULL, (tagi_t[]){
		{ SIPTAG_RETRY_AFTER_STR("5\r\nX-Injected: 1") },
		{ TAG_END() } }, &len));
	assert_int_equal(errno, ENOTSUP);
	assert_null(wic_sip_response_text(req, 200, NULL, NULL, (tagi_t[]){
		{ SIPTAG_HEADER_STR("P-A: 1\nP-B: 2") }, { TAG_END() } }, &len));
	assert_int_equal(errno, ENOTSUP);
	assert_null(wic_sip_response_text(req, 400, "Bad\r\nX-Injected: 1",
					  NULL, NULL, &len));
	assert_int_equal(errno, ENOTSUP);
	assert_int_equal(len, 7);
	su_home_deinit(home);
	msg_destroy(req);
}

static void check_aor(const char *uri, int err, const char *want)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *url = url_hdup(home, (url_t *)url_make(home, uri));
	char aor[256] = "";

	assert_non_null(url);
	assert_int_equal(wic_sip_aor(home, url, aor, sizeof aor), err);
	if (want)
		assert_string_equal(aor, want);
	su_home_deinit(home);
}

/* Tags, branches, Call-IDs: n characters of [0-9a-v], NUL-terminated,
 * every character value used, and no two alike. */
static void test_token(void **state)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	char a[25], b[25], seen[32] = { 0 };
	unsigned kinds = 0;

	(void)state;
	memset(a, 'X', sizeof a);
	wic_sip_token(a, 12);
	assert_int_equal(strlen(a), 12);
	wic_sip_token(a, 24);
	assert_int_equal(strlen(a), 24);
	for (int i = 0; i < 200; i++) {
		wic_sip_token(b, 24);
		assert_string_not_equal(a, b);
		for (const char *p = b; *p; p++) {
			const char *d = strchr(digits, *p);
			assert_non_null(d);
			seen[d - digits] = 1;
		}
	}
	for (int i = 0; i < 32; i++)
		kinds += seen[i];
	assert_int_equal(kinds, 32);
	wic_sip_token(b, 0);
	assert_string_equal(b, "");
}

static void test_aor_canonical(void **state)
{
	(void)state;
	check_aor("sip:alice@Demo.EXAMPLE:5060;transport=ws", 0,
		  "sip:alice@demo.example");
	check_aor("sips:Alice@demo.example", 0, "sip:Alice@demo.example");
	check_aor("tel:+4930123400001", 0, "tel:+4930123400001");
	check_aor("sip:demo.example", EINVAL, NULL);
	check_aor("http://example.com/", EINVAL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_request),
		cmocka_unit_test(test_garbage_is_protocol_error),
		cmocka_unit_test(test_bad_header_named),
		cmocka_unit_test(test_duplicate_header_named),
		cmocka_unit_test(test_cseq_mismatch),
		cmocka_unit_test(test_max_forwards_zero),
		cmocka_unit_test(test_response_copies_and_tags),
		cmocka_unit_test(test_to_string_matches_sofia),
		cmocka_unit_test(test_response_text_matches_message),
		cmocka_unit_test(test_response_text_refuses),
		cmocka_unit_test(test_aor_canonical),
		cmocka_unit_test(test_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
