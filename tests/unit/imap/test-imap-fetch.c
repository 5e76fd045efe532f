/* Unit tests for src/imap/imap-fetch.c: FETCH attribute parsing and
   section extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-fetch.h"
#include "imap/imap-parser.h"
#include "store/mail-msg.h"
#include "store/maildir.h"

static const struct imap_parser_limits limits = {1000, 1000, 1000, 100, 8};

/* Parse "a FETCH 1 <items>" and FETCH's item argument. */
static int parse(const char *items, bool uid, struct fetch_request *req, const char **error)
{
	struct imap_parser *p = imap_parser_new(&limits);
	char *line = NULL;
	size_t consumed;
	int ret;

	assert_true(asprintf(&line, "a FETCH 1 %s\r\n", items) > 0);
	/* Some malformed items are already refused by the parser. */
	if (imap_parser_feed(p, line, strlen(line), &consumed) != IMAP_PARSE_COMMAND) {
		*error = "parser";
		ret = -1;
	} else {
		ret = imap_fetch_parse(&imap_parser_command(p)->args[1], uid, req, error);
	}
	imap_parser_free(&p);
	free(line);
	return ret;
}

static void test_items(void **state)
{
	struct fetch_request req;
	const char *error;

	assert_int_equal(parse("FLAGS", false, &req, &error), 0);
	assert_int_equal(req.items, FETCH_FLAGS);
	imap_fetch_request_free(&req);
	assert_int_equal(parse("(uid rfc822.size INTERNALDATE)", false, &req, &error), 0);
	assert_int_equal(req.items, FETCH_UID | FETCH_RFC822_SIZE | FETCH_INTERNALDATE);
	imap_fetch_request_free(&req);
	assert_int_equal(parse("FAST", true, &req, &error), 0);
	assert_int_equal(req.items,
	                 FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_RFC822_SIZE | FETCH_UID);
	assert_false(req.sets_seen);
	imap_fetch_request_free(&req);
}

static void test_bodies(void **state)
{
	struct fetch_request req;
	const char *error;

	assert_int_equal(parse("(BODY[] BODY.PEEK[HEADER] body[text]<5.10> RFC822 RFC822.HEADER "
	                       "RFC822.TEXT BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.1> "
	                       "BODY[HEADER.FIELDS.NOT (X-A)])",
	                       false, &req, &error),
	                 0);
	assert_int_equal(req.bodies.count, 8);
	assert_true(req.sets_seen);
	assert_string_equal(req.bodies.items[0].name, "BODY[]");
	assert_int_equal(req.bodies.items[0].section, FETCH_SECTION_ALL);
	assert_false(req.bodies.items[0].peek);
	assert_string_equal(req.bodies.items[1].name, "BODY[HEADER]");
	assert_true(req.bodies.items[1].peek);
	assert_string_equal(req.bodies.items[2].name, "BODY[TEXT]<5>");
	assert_true(req.bodies.items[2].partial);
	assert_int_equal(req.bodies.items[2].offset, 5);
	assert_int_equal(req.bodies.items[2].length, 10);
	assert_string_equal(req.bodies.items[3].name, "RFC822");
	assert_string_equal(req.bodies.items[4].name, "RFC822.HEADER");
	assert_true(req.bodies.items[4].peek);
	assert_string_equal(req.bodies.items[5].name, "RFC822.TEXT");
	assert_int_equal(req.bodies.items[6].section, FETCH_SECTION_HEADER_FIELDS);
	assert_int_equal(req.bodies.items[6].field_count, 2);
	assert_string_equal(req.bodies.items[6].fields[0], "From");
	assert_string_equal(req.bodies.items[6].fields[1], "To");
	assert_string_equal(req.bodies.items[6].name, "BODY[HEADER.FIELDS (FROM \"TO\")]<0>");
	assert_int_equal(req.bodies.items[7].section, FETCH_SECTION_HEADER_FIELDS_NOT);
	imap_fetch_request_free(&req);
}

static void test_structure(void **state)
{
	struct fetch_request req;
	const char *error;

	assert_int_equal(parse("ALL", false, &req, &error), 0);
	assert_int_equal(req.items,
	                 FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_RFC822_SIZE | FETCH_ENVELOPE);
	assert_true(imap_fetch_needs_header(&req));
	assert_false(imap_fetch_needs_tree(&req));
	imap_fetch_request_free(&req);
	assert_int_equal(parse("FULL", false, &req, &error), 0);
	assert_true(req.items & FETCH_BODY);
	assert_true(imap_fetch_needs_tree(&req));
	imap_fetch_request_free(&req);
	assert_int_equal(parse("(BODYSTRUCTURE BODY.PEEK[1.2.MIME] BODY[2.HEADER] body[1]<0.100>)",
	                       false, &req, &error),
	                 0);
	assert_true(req.items & FETCH_BODYSTRUCTURE);
	assert_int_equal(req.bodies.count, 3);
	assert_int_equal(req.bodies.items[0].section, FETCH_SECTION_PART);
	assert_int_equal(req.bodies.items[0].sec->path_len, 2);
	assert_int_equal(req.bodies.items[0].sec->kind, MIME_SECTION_MIME);
	assert_string_equal(req.bodies.items[0].name, "BODY[1.2.MIME]");
	assert_string_equal(req.bodies.items[1].name, "BODY[2.HEADER]");
	assert_string_equal(req.bodies.items[2].name, "BODY[1]<0>");
	assert_true(req.bodies.items[2].partial);
	imap_fetch_request_free(&req);
	/* Root-level sections need only the header, BODY[] not even that. */
	assert_int_equal(parse("(BODY.PEEK[] FLAGS)", false, &req, &error), 0);
	assert_false(imap_fetch_needs_header(&req));
	imap_fetch_request_free(&req);
	assert_int_equal(parse("BODY.PEEK[TEXT]", false, &req, &error), 0);
	assert_true(imap_fetch_needs_header(&req));
	assert_false(imap_fetch_needs_tree(&req));
	imap_fetch_request_free(&req);
}

static void test_invalid(void **state)
{
	static const char *const cases[] = {
	    "FOO",
	    "()",
	    "(FLAGS (UID))",
	    "BODY[",
	    "BODY[HEADER",
	    "BODY[X]",
	    "BODY[]<>",
	    "BODY[]<1>",
	    "BODY[]<1.0>",
	    "BODY[]<1.2",
	    "BODY[HEADER.FIELDS ()]",
	    "BODY[HEADER.FIELDS (A:)]",
	    "BODY[HEADER.FIELDS A]",
	    "\"FLAGS\"",
	    "ENVELOPES",
	    "BODY[MIME]",
	    "BODY[1.X]",
	    "BODY[0]",
	    "BODY[1.]",
	    "BODY[]x",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fetch_request req;
		const char *error = NULL;

		if (parse(cases[i], false, &req, &error) != -1)
			fail_msg("accepted %s", cases[i]);
		assert_non_null(error);
	}
}

static void test_sections(void **state)
{
	const char *msg = "From: a\r\nTo: b,\r\n c\r\nX-A: 1\r\n\r\nbody\r\n";
	char *fields[] = {"to", "X-B"};
	struct buf out = BUF_INIT;
	bool complete;
	size_t hlen = mail_msg_header_length(msg, strlen(msg), &complete);

	assert_true(complete);
	assert_int_equal(hlen, strlen(msg) - 6);
	imap_header_filter(msg, hlen, fields, 2, false, &out);
	assert_string_equal(out.data, "To: b,\r\n c\r\n\r\n");
	buf_clear(&out);
	imap_header_filter(msg, hlen, fields, 2, true, &out);
	assert_string_equal(out.data, "From: a\r\nX-A: 1\r\n\r\n");
	buf_free(&out);
	assert_int_equal(mail_msg_header_length("A: b\n\nx", 7, &complete), 6);
	assert_true(complete);
	assert_int_equal(mail_msg_header_length("A: b\r\n", 6, &complete), 6);
	assert_false(complete);
}

static void test_clip(void **state)
{
	struct fetch_body body = {.partial = true, .offset = 5, .length = 10};
	uint64_t start, len;

	imap_fetch_clip(&body, 100, &start, &len);
	assert_int_equal(start, 5);
	assert_int_equal(len, 10);
	imap_fetch_clip(&body, 8, &start, &len);
	assert_int_equal(len, 3);
	imap_fetch_clip(&body, 3, &start, &len);
	assert_int_equal(len, 0);
	body.partial = false;
	imap_fetch_clip(&body, 3, &start, &len);
	assert_int_equal(start, 0);
	assert_int_equal(len, 3);
}

static void test_render(void **state)
{
	struct buf out = BUF_INIT;

	imap_append_flags(&out, MAIL_SEEN | MAIL_RECENT | MAIL_ANSWERED);
	assert_string_equal(out.data, "(\\Answered \\Seen \\Recent)");
	buf_clear(&out);
	imap_append_flags(&out, 0);
	assert_string_equal(out.data, "()");
	buf_clear(&out);
	imap_append_astring(&out, "a\"b\\");
	assert_string_equal(out.data, "\"a\\\"b\\\\\"");
	buf_clear(&out);
	imap_append_astring(&out, "caf\xc3\xa9");
	assert_string_equal(out.data, "{5}\r\ncaf\xc3\xa9");
	buf_clear(&out);
	setenv("TZ", "UTC", 1);
	imap_append_datetime(&out, 0);
	assert_string_equal(out.data, "\"01-Jan-1970 00:00:00 +0000\"");
	buf_free(&out);
}

/* BINARY, BINARY.PEEK, BINARY.SIZE (RFC 3516 section 4). */
static void test_binary(void **state)
{
	struct fetch_request req;
	const char *error;

	assert_int_equal(parse("(BINARY[1.2] binary.peek[]<3.4> BINARY.SIZE[2] BODY.PEEK[1])", true,
	                       &req, &error),
	                 0);
	assert_int_equal(req.bodies.count, 4);
	assert_true(req.sets_seen);
	assert_int_equal(req.bodies.items[0].kind, FETCH_KIND_BINARY);
	assert_false(req.bodies.items[0].peek);
	assert_string_equal(req.bodies.items[0].name, "BINARY[1.2]");
	assert_int_equal(req.bodies.items[0].sec->path_len, 2);
	assert_int_equal(req.bodies.items[1].kind, FETCH_KIND_BINARY);
	assert_true(req.bodies.items[1].peek);
	assert_true(req.bodies.items[1].partial);
	assert_int_equal(req.bodies.items[1].offset, 3);
	assert_int_equal(req.bodies.items[1].length, 4);
	assert_string_equal(req.bodies.items[1].name, "BINARY[]<3>");
	assert_int_equal(req.bodies.items[1].section, FETCH_SECTION_ALL);
	assert_int_equal(req.bodies.items[2].kind, FETCH_KIND_BINARY_SIZE);
	assert_true(req.bodies.items[2].peek);
	assert_string_equal(req.bodies.items[2].name, "BINARY.SIZE[2]");
	assert_int_equal(req.bodies.items[3].kind, FETCH_KIND_BODY);
	assert_true(imap_fetch_needs_tree(&req));
	imap_fetch_request_free(&req);

	assert_int_equal(parse("BINARY.PEEK[1]", false, &req, &error), 0);
	assert_false(req.sets_seen);
	imap_fetch_request_free(&req);

	/* no HEADER/TEXT/MIME, no partial BINARY.SIZE, no unknown forms */
	static const char *const bad[] = {
	    "BINARY[HEADER]", "BINARY[1.MIME]", "BINARY[1.TEXT]", "BINARY.SIZE[1]<0.4>", "BINARY[1",
	    "BINARY",         "BINARY.FOO[1]",  "BINARY[1]<0.0>", "BINARY[x]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], false, &req, &error), -1);
}

/* The one flag table: parse and print agree. */
static void test_flag_names(void **state)
{
	unsigned flags = 0;
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(imap_flag_parse("\\sEEn", &flags), 0);
	assert_int_equal(imap_flag_parse("\\Draft", &flags), 0);
	assert_int_equal(imap_flag_parse("$Keyword", &flags), 1);
	assert_int_equal(imap_flag_parse("bad]atom", &flags), -1);
	assert_int_equal(imap_flag_parse("a*", &flags), -1);
	assert_int_equal(flags, MAIL_SEEN | MAIL_DRAFT);
	assert_int_equal(imap_flag_parse("\\Recent", &flags), -1);
	assert_int_equal(imap_flag_parse("\\Unknown", &flags), -1);
	assert_int_equal(flags, MAIL_SEEN | MAIL_DRAFT);
	imap_append_flags(&out, MAIL_STORED_FLAGS);
	assert_string_equal(buf_cstr(&out), "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flag_names), cmocka_unit_test(test_items),
	    cmocka_unit_test(test_bodies),     cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_structure),  cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_clip),       cmocka_unit_test(test_render),
	    cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
