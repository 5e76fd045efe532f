/* Unit tests for src/imap/imap-sort.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-sort.h"
#include "lib/buf.h"

static void check_base(const char *subject, const char *want, bool want_reply)
{
	struct buf b = BUF_INIT;
	bool reply = !want_reply;

	imap_sort_base_subject(subject, strlen(subject), &b, &reply);
	assert_string_equal(buf_cstr(&b), want);
	assert_int_equal(reply, want_reply);
	buf_free(&b);
}

static void test_base_subject(void **state)
{
	(void)state;
	check_base("Hello", "HELLO", false);
	check_base("Re: Hello", "HELLO", true);
	check_base("RE:re: Fwd:  Hello  ", "HELLO", true);
	check_base("Fw: hello", "HELLO", true);
	check_base("[tern] Re: hello", "HELLO", true);
	check_base("Re[2]: hello", "HELLO", true);
	check_base("[tern] hello", "HELLO", false);
	check_base("[tern]", "[TERN]", false); /* the blob stays when nothing is left */
	check_base("hello (fwd)", "HELLO", true);
	check_base("hello (FWD) (fwd)  ", "HELLO", true);
	check_base("[Fwd: hello]", "HELLO", true);
	check_base("[fwd: Re: [x] hello (fwd)]", "HELLO", true);
	check_base("a\t\tb   c", "A B C", false);
	check_base("", "", false);
	check_base("Re:", "", true);
	check_base("Reply", "REPLY", false);
	check_base("=?utf-8?q?Re=3A_caf=C3=A9?=", "CAFE\xcc\x81", true);
	check_base("=?iso-8859-1?q?=E9t=E9?=", "E\xcc\x81TE\xcc\x81", false);
}

static void check_casemap(const char *in, const char *want)
{
	struct buf b = BUF_INIT;

	imap_sort_casemap(in, strlen(in), &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_casemap(void **state)
{
	(void)state;
	check_casemap("abcXYZ09", "ABCXYZ09");
	check_casemap("\xc3\xa9", "E\xcc\x81");                /* é */
	check_casemap("\xc3\x89", "E\xcc\x81");                /* É */
	check_casemap("\xc3\xbf", "Y\xcc\x88");                /* ÿ -> Ÿ -> Y + diaeresis */
	check_casemap("\xc5\xbe", "Z\xcc\x8c");                /* ž */
	check_casemap("\xc5\x91", "O\xcc\x8b");                /* ő */
	check_casemap("\xc4\x8d", "C\xcc\x8c");                /* č */
	check_casemap("\xce\xb1\xcf\x82", "\xce\x91\xce\xa3"); /* ας */
	check_casemap("\xd0\xb4", "\xd0\x94");                 /* д */
	check_casemap("\xc3\x9f", "\xc3\x9f");                 /* ß stays */
	check_casemap("\xff"
	              "a\xc3",
	              "\xff"
	              "A\xc3");                        /* not UTF-8: kept */
	check_casemap("\xe2\x82\xac", "\xe2\x82\xac"); /* € */
}

static void test_parse(void **state)
{
	struct imap_sort_crit c[IMAP_SORT_MAX_CRITS];
	const char *ok[] = {"reverse", "DATE", "subject", "DisplayFrom"};
	const char *bad1[] = {"REVERSE"};
	const char *bad2[] = {"DATE", "BOGUS"};
	const char *bad3[] = {"REVERSE", "REVERSE", "DATE"};

	(void)state;
	assert_int_equal(imap_sort_parse(ok, 4, c), 3);
	assert_int_equal(c[0].key, IMAP_SORT_DATE);
	assert_true(c[0].reverse);
	assert_int_equal(c[1].key, IMAP_SORT_SUBJECT);
	assert_false(c[1].reverse);
	assert_int_equal(c[2].key, IMAP_SORT_DISPLAYFROM);
	assert_int_equal(imap_sort_parse(bad1, 1, c), -1);
	assert_int_equal(imap_sort_parse(bad2, 2, c), -1);
	assert_int_equal(imap_sort_parse(bad3, 3, c), -1);
	assert_int_equal(imap_sort_parse(ok, 0, c), -1);
}

static void test_dates(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(imap_sort_parse_date("Thu, 01 Jan 1970 00:00:10 +0000", &t), 0);
	assert_int_equal(t, 10);
	assert_int_equal(imap_sort_parse_date("1 Jan 1970 01:00:00 +0100", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(imap_sort_parse_date("Thu, 1 Jan 1970 00:00 -0130", &t), 0);
	assert_int_equal(t, 5400);
	assert_int_equal(imap_sort_parse_date("1 Jan 1970 00:00:00 EST", &t), 0);
	assert_int_equal(t, 5 * 3600);
	assert_int_equal(imap_sort_parse_date("garbage", &t), -1);
	assert_int_equal(imap_sort_parse_date(NULL, &t), -1);
}

static void test_fill_compare(void **state)
{
	struct imap_sort_msg m[3] = {{0}};
	struct imap_sort_crit c[IMAP_SORT_MAX_CRITS];
	const char *by_from[] = {"FROM"};
	const char *by_dfrom[] = {"REVERSE", "DISPLAYFROM"};
	const char *by_date[] = {"DATE"};

	const char *all_keys[] = {"SUBJECT", "FROM", "TO", "CC", "DISPLAYFROM", "DISPLAYTO"};
	struct imap_sort_crit all[IMAP_SORT_MAX_CRITS];
	struct imap_sort_msg only_date = {0};

	(void)state;
	assert_int_equal(imap_sort_parse(all_keys, 6, all), 6);
	for (int i = 0; i < 3; i++) {
		m[i].seq = (uint32_t)i + 1;
		m[i].arrival = 100 - i;
	}
	/* keys no criterion uses are left empty */
	imap_sort_parse(by_date, 1, c);
	imap_sort_msg_fill(&only_date, c, 1, "subject", "a@b", "c@d", "e@f", NULL);
	assert_string_equal(only_date.subject, "");
	assert_string_equal(only_date.from, "");
	assert_string_equal(only_date.display_to, "");
	imap_sort_msg_free(&only_date);
	imap_sort_msg_fill(&m[0], all, 6, "b", "\"Zed\" <alice@x.org>", NULL, NULL,
	                   "1 Jan 1970 00:00:50 +0000");
	imap_sort_msg_fill(&m[1], all, 6, "a", "bob@x.org", "c@d", "Cc <cc@x>", NULL);
	imap_sort_msg_fill(&m[2], all, 6, "Re: a", "=?utf-8?q?=C3=A9ve?= <eve@x.org>", NULL, NULL,
	                   "junk");
	assert_string_equal(m[0].from, "ALICE");
	assert_string_equal(m[0].display_from, "ZED");
	assert_string_equal(m[1].display_from, "BOB@X.ORG");
	assert_string_equal(m[2].display_from, "E\xcc\x81VE");
	assert_string_equal(m[1].cc, "CC");
	assert_string_equal(m[0].to, "");
	assert_int_equal(m[0].date, 50);
	assert_int_equal(m[1].date, 99); /* no Date: INTERNALDATE */
	assert_int_equal(m[2].date, 98);

	imap_sort_parse(by_from, 1, c);
	assert_true(imap_sort_compare(c, 1, &m[0], &m[1]) < 0);
	imap_sort_parse(by_dfrom, 2, c);
	assert_true(imap_sort_compare(c, 1, &m[0], &m[1]) < 0); /* ZED before BOB reversed */
	imap_sort_parse(by_date, 1, c);
	imap_sort_messages(m, 3, c, 1);
	assert_int_equal(m[0].seq, 1);
	assert_int_equal(m[1].seq, 3);
	assert_int_equal(m[2].seq, 2);
	/* equal keys: mailbox order */
	assert_true(imap_sort_compare(c, 0, &m[1], &m[2]) > 0);
	for (int i = 0; i < 3; i++)
		imap_sort_msg_free(&m[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_subject), cmocka_unit_test(test_casemap),
	    cmocka_unit_test(test_parse),        cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_fill_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
