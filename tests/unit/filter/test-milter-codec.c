/* The milter codec: encoders against libmilter's wire format, the
   decoder byte at a time and in one go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "filter/milter-codec.h"

static void test_encode_optneg(void **state)
{
	struct buf b = BUF_INIT;
	static const uint8_t want[] = {0, 0, 0, 13,   'O', 0,    0,    0,   6,
	                               0, 0, 1, 0xff, 0,   0x1f, 0xff, 0xff};

	(void)state;
	milter_encode_optneg(&b, 6, MILTER_ACTIONS_ALL, MILTER_PROTOCOL_ALL);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	buf_free(&b);
}

static void test_encode_connect_macro(void **state)
{
	struct buf b = BUF_INIT;
	static const char want[] = "\0\0\0\x17"
	                           "Cmx.example\0"
	                           "4\x01\xbb"
	                           "1.2.3.4\0";
	const char *names[] = {"j", "{client_addr}"};
	const char *values[] = {"mail.test", NULL};
	static const char macro[] = "\0\0\0\x1d"
	                            "DCj\0mail.test\0{client_addr}\0\0";

	(void)state;
	milter_encode_connect(&b, "mx.example", '4', 443, "1.2.3.4");
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, b.len);
	buf_clear(&b);
	milter_encode_macro(&b, SMFIC_CONNECT, names, values, 2);
	assert_int_equal(b.len, sizeof(macro) - 1);
	assert_memory_equal(b.data, macro, b.len);
	buf_clear(&b);
	milter_encode_connect(&b, "unknown", 'U', 0, NULL);
	assert_int_equal(b.len, 5 + 8 + 1);
	buf_free(&b);
}

static void test_encode_args_header_body(void **state)
{
	struct buf b = BUF_INIT;
	const char *args[] = {"<a@b.example>", "SIZE=10"};
	static const char mail[] = "\0\0\0\x17M<a@b.example>\0SIZE=10\0";
	static const char hdr[] = "\0\0\0\x08LTo\0x@y\0";

	(void)state;
	milter_encode_args(&b, SMFIC_MAIL, args, 2);
	assert_int_equal(b.len, sizeof(mail) - 1);
	assert_memory_equal(b.data, mail, b.len);
	buf_clear(&b);
	milter_encode_header(&b, "To", "x@y");
	assert_int_equal(b.len, sizeof(hdr) - 1);
	assert_memory_equal(b.data, hdr, b.len);
	buf_clear(&b);
	milter_encode_body(&b, "hello", 5);
	assert_memory_equal(b.data,
	                    "\0\0\0\x06"
	                    "Bhello",
	                    10);
	buf_clear(&b);
	milter_encode_simple(&b, SMFIC_BODYEOB);
	assert_memory_equal(b.data,
	                    "\0\0\0\x01"
	                    "E",
	                    5);
	buf_free(&b);
}

/* All replies of in, fed byte at a time (one) or in one go; returns the
   count, replies' commands in cmds, and the last reply's copy of fields
   in the callback-free way: the caller checks via check(). */
struct seen {
	char cmds[32];
	size_t count;
	unsigned code;
	char text[128], name[64], value[64];
	uint32_t index, version, actions, protocol;
	size_t body_len;
};

static void record(struct seen *s, const struct milter_reply *r)
{
	s->cmds[s->count++] = r->cmd;
	if (r->cmd == SMFIR_REPLYCODE) {
		s->code = r->code;
		strcpy(s->text, r->text);
	}
	if (r->name != NULL)
		strcpy(s->name, r->name);
	if (r->value != NULL)
		strcpy(s->value, r->value);
	if (r->cmd == SMFIR_CHGHEADER || r->cmd == SMFIR_INSHEADER)
		s->index = r->index;
	if (r->cmd == SMFIC_OPTNEG) {
		s->version = r->version;
		s->actions = r->actions;
		s->protocol = r->protocol;
	}
	if (r->cmd == SMFIR_REPLBODY)
		s->body_len += r->len;
}

static int decode(const struct buf *in, bool one, struct seen *s)
{
	struct milter_decoder d = {0};
	size_t pos = 0;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	while (pos < in->len && ret >= 0) {
		size_t n = one ? 1 : in->len - pos, used;
		struct milter_reply r;
		const char *error;

		ret = milter_decoder_feed(&d, in->data + pos, n, &used, &r, &error);
		assert_true(used <= n);
		pos += used;
		if (ret > 0)
			record(s, &r);
	}
	milter_decoder_clear(&d);
	return ret < 0 ? -1 : 0;
}

static void every_reply(struct buf *b)
{
	uint8_t optneg[12] = {0, 0, 0, 6, 0, 0, 0, 0x15, 0, 0, 0, 0x10};
	uint8_t chg[4 + 10] = {0, 0, 0, 2, 'S', 'u', 'b', 'j', 0, 0};
	uint8_t ins[4 + 8] = {0, 0, 0, 0, 'X', '-', 'A', 0, 'v', 0};

	milter_encode_packet(b, SMFIC_OPTNEG, optneg, sizeof(optneg));
	milter_encode_packet(b, SMFIR_CONTINUE, NULL, 0);
	milter_encode_packet(b, SMFIR_ADDHEADER, "X-Spam\0yes\0", 11);
	milter_encode_packet(b, SMFIR_INSHEADER, ins, 10);
	milter_encode_packet(b, SMFIR_CHGHEADER, chg, 10);
	milter_encode_packet(b, SMFIR_ADDRCPT, "<new@x>\0", 8);
	milter_encode_packet(b, SMFIR_ADDRCPT_PAR, "<p@x>\0NOTIFY=NEVER\0", 19);
	milter_encode_packet(b, SMFIR_DELRCPT, "<old@x>\0", 8);
	milter_encode_packet(b, SMFIR_CHGFROM, "<f@x>\0", 6);
	milter_encode_packet(b, SMFIR_REPLBODY, "new body\r\n", 10);
	milter_encode_packet(b, SMFIR_QUARANTINE, "spammy\0", 7);
	milter_encode_packet(b, SMFIR_PROGRESS, NULL, 0);
	milter_encode_packet(b, SMFIR_SKIP, NULL, 0);
	milter_encode_packet(b, SMFIR_ACCEPT, NULL, 0);
	milter_encode_packet(b, SMFIR_REJECT, NULL, 0);
	milter_encode_packet(b, SMFIR_TEMPFAIL, NULL, 0);
	milter_encode_packet(b, SMFIR_DISCARD, NULL, 0);
	milter_encode_packet(b, SMFIR_REPLYCODE, "554 5.7.1 go away\0", 18);
}

static void test_decode_every_reply(void **state)
{
	struct buf b = BUF_INIT;
	struct seen one, all;

	(void)state;
	every_reply(&b);
	assert_int_equal(decode(&b, true, &one), 0);
	assert_int_equal(decode(&b, false, &all), 0);
	assert_int_equal(one.count, 18);
	assert_memory_equal(one.cmds, "Ochim+2-ebqpsartdy", 18);
	assert_memory_equal(&one, &all, sizeof(one));
	assert_int_equal(one.version, 6);
	assert_int_equal(one.actions, 0x15);
	assert_int_equal(one.protocol, 0x10);
	assert_int_equal(one.code, 554);
	assert_string_equal(one.text, "5.7.1 go away");
	assert_int_equal(one.index, 2); /* the CHGHEADER's, after INSHEADER's 0 */
	assert_int_equal(one.body_len, 10);
	buf_free(&b);
}

static void test_decode_fields(void **state)
{
	struct buf b = BUF_INIT;
	struct seen s;
	uint8_t chg[] = {0, 0, 0, 1, 'S', 'u', 'b', 'j', 'e', 'c', 't', 0, 0};

	(void)state;
	/* CHGHEADER with an empty value: delete the field */
	milter_encode_packet(&b, SMFIR_CHGHEADER, chg, sizeof(chg));
	assert_int_equal(decode(&b, true, &s), 0);
	assert_int_equal(s.index, 1);
	assert_string_equal(s.name, "Subject");
	assert_string_equal(s.value, "");
	buf_clear(&b);
	milter_encode_packet(&b, SMFIR_ADDRCPT_PAR, "<p@x>\0NOTIFY=NEVER\0", 19);
	assert_int_equal(decode(&b, true, &s), 0);
	assert_string_equal(s.name, "<p@x>");
	assert_string_equal(s.value, "NOTIFY=NEVER");
	buf_free(&b);
}

static void expect_bad(const char *data, size_t len)
{
	struct buf b = BUF_INIT;
	struct seen s;

	buf_append(&b, data, len);
	assert_int_equal(decode(&b, true, &s), -1);
	assert_int_equal(decode(&b, false, &s), -1);
	buf_free(&b);
}

static void test_decode_bad(void **state)
{
	(void)state;
	expect_bad("\0\0\0\0", 4);                   /* no command byte */
	expect_bad("\0\x20\0\0", 4);                 /* over the packet limit */
	expect_bad("\0\0\0\x01Z", 5);                /* unknown reply */
	expect_bad("\0\0\0\x03hab", 7);              /* header without NUL */
	expect_bad("\0\0\0\x04hab\0", 8);            /* header without value */
	expect_bad("\0\0\0\x0ey250 2.0.0 ok\0", 18); /* not a 4xx/5xx */
	expect_bad("\0\0\0\x03m\0\0", 7);            /* CHGHEADER without index */
	expect_bad("\0\0\0\x05O\0\0\0\x06", 9);      /* short OPTNEG */
}

static void test_decode_need_more(void **state)
{
	struct milter_decoder d = {0};
	struct milter_reply r;
	const char *error;
	size_t used;

	(void)state;
	assert_int_equal(milter_decoder_feed(&d, "\0\0\0\x05h", 5, &used, &r, &error), 0);
	assert_int_equal(used, 5);
	assert_int_equal(milter_decoder_feed(&d, "a\0", 2, &used, &r, &error), 0);
	assert_int_equal(milter_decoder_feed(&d,
	                                     "b\0\0\0\0\x01"
	                                     "c",
	                                     7, &used, &r, &error),
	                 1);
	assert_int_equal(used, 2);
	assert_int_equal(r.cmd, SMFIR_ADDHEADER);
	assert_string_equal(r.name, "a");
	assert_string_equal(r.value, "b");
	assert_int_equal(milter_decoder_feed(&d,
	                                     "\0\0\0\x01"
	                                     "c",
	                                     5, &used, &r, &error),
	                 1);
	assert_int_equal(r.cmd, SMFIR_CONTINUE);
	milter_decoder_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_optneg),
	    cmocka_unit_test(test_encode_connect_macro),
	    cmocka_unit_test(test_encode_args_header_body),
	    cmocka_unit_test(test_decode_every_reply),
	    cmocka_unit_test(test_decode_fields),
	    cmocka_unit_test(test_decode_bad),
	    cmocka_unit_test(test_decode_need_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
