/* Unit tests for src/smtp/smtp-submission-header.c: From: addresses, the
   RFC 6409 section 8 fixes and the Received field of a submission. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp-submission-header.h"

static const struct {
	const char *hdr;
	int ret;
	const char *first, *last;
	size_t count;
	enum submission_from_error kind;
} from_cases[] = {
    {"From: alice@example.org\r\n", 0, "alice@example.org", "alice@example.org", 1, 0},
    {"Subject: x\r\nfrom: Alice <alice@Example.ORG>\r\n", 0, "alice@example.org",
     "alice@example.org", 1, 0},
    /* folded, several mailboxes, a group */
    {"From: \"A, B\" <a@example.org>,\r\n\t b@example.net\r\n", 0, "a@example.org", "b@example.net",
     2, 0},
    {"From: team: a@example.org, c@example.com;\r\n", 0, "a@example.org", "c@example.com", 2, 0},
    /* every From field counts */
    {"From: a@example.org\r\nFrom: z@example.com\r\n", 0, "a@example.org", "z@example.com", 2, 0},
    {"\"Quoted local\"@example.org", -1, NULL, NULL, 0, SUBMISSION_FROM_MISSING},
    {"Subject: none\r\n", -1, NULL, NULL, 0, SUBMISSION_FROM_MISSING},
    {"From: undisclosed\r\n", -1, NULL, NULL, 0, SUBMISSION_FROM_MALFORMED},
    {"From: a@example.org, nobody\r\n", -1, NULL, NULL, 0, SUBMISSION_FROM_MALFORMED},
    {"From: a@[192.0.2.1]\r\n", -1, NULL, NULL, 0, SUBMISSION_FROM_MALFORMED},
    {"From: <\"john doe\"@example.org>\r\n", 0, "\"john doe\"@example.org",
     "\"john doe\"@example.org", 1, 0},
};

static void test_from_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
		char **addrs = NULL;
		size_t count = 0;
		enum submission_from_error kind = 99;
		int ret = submission_from_addresses(from_cases[i].hdr, strlen(from_cases[i].hdr),
		                                    &addrs, &count, &kind);

		if (ret != from_cases[i].ret)
			fail_msg("case %zu: ret %d", i, ret);
		if (ret < 0) {
			assert_int_equal(kind, from_cases[i].kind);
			continue;
		}
		assert_int_equal(count, from_cases[i].count);
		assert_string_equal(addrs[0], from_cases[i].first);
		assert_string_equal(addrs[count - 1], from_cases[i].last);
		submission_addresses_free(&addrs, count);
		assert_null(addrs);
	}
}

static void test_fixes_added_when_missing(void **state)
{
	const char *hdr = "From: a@example.org\r\nSubject: x\r\n";
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(submission_header_fixes(hdr, strlen(hdr), "mail.example.org", 0, &out), 2);
	assert_true(out.len > 0);
	assert_memory_equal(out.data, "Message-ID: <", 13);
	/* 32 hex digits, then our name */
	assert_memory_equal(out.data + 13 + 32, "@mail.example.org>\r\nDate: ", 26);
	for (size_t i = 13; i < 13 + 32; i++)
		assert_non_null(strchr("0123456789abcdef", out.data[i]));
	assert_memory_equal(out.data + out.len - 2, "\r\n", 2);
	buf_free(&out);
}

static void test_fixes_kept_when_present(void **state)
{
	const char *hdr = "From: a@example.org\r\nmessage-id: <x@y>\r\nDATE: Thu, 1 Jan 1970 "
	                  "00:00:00 +0000\r\n";
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(submission_header_fixes(hdr, strlen(hdr), "h", 0, &out), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	/* a field whose name only starts with Date is not a Date */
	hdr = "Message-ID: <x@y>\r\nDate-Received: no\r\n";
	assert_int_equal(submission_header_fixes(hdr, strlen(hdr), "h", 0, &out), 1);
	assert_memory_equal(out.data, "Date: ", 6);
	buf_free(&out);
}

/* Two ids in a row differ (random, not a counter reset per process). */
static void test_message_ids_differ(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	(void)state;
	submission_header_fixes("", 0, "h", 0, &a);
	submission_header_fixes("", 0, "h", 0, &b);
	assert_true(a.len == b.len && memcmp(a.data, b.data, 46) != 0);
	buf_free(&a);
	buf_free(&b);
}

static void test_trace(void **state)
{
	struct submission_trace t = {"client.example",
	                             "192.0.2.7",
	                             "mail.example.org",
	                             "ID1",
	                             "TLSv1.3 with cipher X",
	                             "b@example.org",
	                             "a@example.org",
	                             false,
	                             0};
	struct buf out = BUF_INIT;

	(void)state;
	submission_trace_append(&t, &out);
	buf_append_str(&out, "");
	assert_non_null(strstr(out.data, "Return-Path: <a@example.org>\r\nReceived: from "
	                                 "client.example ([192.0.2.7])\r\n\tby mail.example.org "
	                                 "(Tern) with ESMTPSA id ID1\r\n\t(using TLSv1.3"));
	assert_non_null(strstr(out.data, "\tfor <b@example.org>;\r\n\t"));
	buf_free(&out);
	t.client_ip = NULL;
	t.smtputf8 = true;
	t.mail_from = "";
	submission_trace_append(&t, &out);
	buf_append_str(&out, "");
	assert_null(strstr(out.data, "192.0.2.7"));
	assert_non_null(strstr(out.data, "Return-Path: <>\r\nReceived: from client.example\r\n"));
	assert_non_null(strstr(out.data, "with UTF8SMTPSA id"));
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_table),
	    cmocka_unit_test(test_fixes_added_when_missing),
	    cmocka_unit_test(test_fixes_kept_when_present),
	    cmocka_unit_test(test_message_ids_differ),
	    cmocka_unit_test(test_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
