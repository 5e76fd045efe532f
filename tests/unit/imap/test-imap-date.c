/* Unit tests for src/imap/imap-date.c and imap_seqset_format(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-date.h"
#include "imap/imap-seqset.h"
#include "lib/buf.h"

static void test_datetime(void **state)
{
	int64_t t;

	assert_int_equal(imap_parse_datetime("17-Jul-1996 02:44:25 -0700", &t), 0);
	assert_int_equal(t, 837596665);
	assert_int_equal(imap_parse_datetime(" 1-Jan-1970 00:00:00 +0000", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(imap_parse_datetime("1-jan-1970 01:00:00 +0100", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(imap_parse_datetime("29-Feb-2024 23:59:59 +0000", &t), 0);
	assert_int_equal(t, 1709251199);
	static const char *const bad[] = {
	    "",
	    "17-Jul-1996",
	    "17-Jul-1996 02:44:25",
	    "17-Jul-1996 02:44:25 0700",
	    "32-Jul-1996 02:44:25 +0000",
	    "17-Foo-1996 02:44:25 +0000",
	    "17-Jul-1996 24:00:00 +0000",
	    "17-Jul-1996 02:44:25 +0760",
	    "17-Jul-1996 02:44:25 +07000",
	    "x7-Jul-1996 02:44:25 +0000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_parse_datetime(bad[i], &t) != -1)
			fail_msg("accepted %s", bad[i]);
	}
}

static void test_date(void **state)
{
	int64_t d;

	assert_int_equal(imap_parse_date("1-Jan-1970", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(imap_parse_date("01-Feb-1970", &d), 0);
	assert_int_equal(d, 31);
	assert_int_equal(imap_parse_date("1-Mar-2000", &d), 0);
	assert_int_equal(d, 11017);
	assert_int_equal(imap_parse_date("1-Mar-2000x", &d), -1);
	assert_int_equal(imap_parse_date("1-Mar-", &d), -1);
	assert_int_equal(imap_parse_date("-Mar-2000", &d), -1);
	assert_int_equal(imap_parse_date("1-Ma", &d), -1);
}

static void test_header_date(void **state)
{
	int64_t d, want;

	assert_int_equal(imap_parse_date("7-Feb-1994", &want), 0);
	assert_int_equal(imap_parse_header_date("Mon, 7 Feb 1994 21:52:25 -0800", &d), 0);
	assert_int_equal(d, want);
	assert_int_equal(imap_parse_header_date("7 Feb 1994 21:52:25 -0800", &d), 0);
	assert_int_equal(d, want);
	assert_int_equal(imap_parse_header_date("  Monday,07 February 94 21:52 PST", &d), 0);
	assert_int_equal(d, want);
	assert_int_equal(imap_parse_date("1-Jan-2001", &want), 0);
	assert_int_equal(imap_parse_header_date("1 Jan 01 00:00 GMT", &d), 0);
	assert_int_equal(d, want);
	assert_int_equal(imap_parse_header_date("", &d), -1);
	assert_int_equal(imap_parse_header_date("Mon, Feb 1994", &d), -1);
	assert_int_equal(imap_parse_header_date("31 Feb 1994", &d), -1);
	assert_int_equal(imap_parse_header_date("7 Xyz 1994", &d), -1);
}

static void test_seqset_format(void **state)
{
	struct buf b = BUF_INIT;
	uint32_t a[] = {1, 2, 3, 5, 7, 8, 4};

	imap_seqset_format(&b, a, 7);
	assert_string_equal(buf_cstr(&b), "1:3,5,7:8,4");
	buf_clear(&b);
	imap_seqset_format(&b, a, 1);
	assert_string_equal(buf_cstr(&b), "1");
	buf_clear(&b);
	imap_seqset_format(&b, a, 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_datetime),
	    cmocka_unit_test(test_date),
	    cmocka_unit_test(test_header_date),
	    cmocka_unit_test(test_seqset_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
