/* Unit tests for src/lib/mutf7.c: modified UTF-7 (RFC 3501 5.1.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/mutf7.h"

/* Pairs that convert both ways. */
static const struct {
	const char *utf8, *mutf7;
} pairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"a&b", "a&-b"},
    {"&", "&-"},
    /* RFC 3501 5.1.3's example: ~peter/mail/台北/日本語 */
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"Entw\xc3\xbc"
     "rfe",
     "Entw&APw-rfe"},
    {"\xc3\xa9-", "&AOk--"},
    {"\xc3\xa9&\xc3\xa9", "&AOk-&-&AOk-"},
    /* U+1F600 as a surrogate pair */
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},
    {"\xd0\x9f\xd1\x80\xd0\xb8", "&BB8EQAQ4-"},
};

static void test_both_ways(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct buf b = BUF_INIT;

		assert_int_equal(mutf7_from_utf8(pairs[i].utf8, &b), 0);
		assert_string_equal(buf_cstr(&b), pairs[i].mutf7);
		buf_clear(&b);
		assert_int_equal(mutf7_to_utf8(pairs[i].mutf7, &b), 0);
		assert_string_equal(buf_cstr(&b), pairs[i].utf8);
		buf_free(&b);
	}
}

static void test_bad_mutf7(void **state)
{
	static const char *const bad[] = {
	    "&",           /* unterminated */
	    "&AOk",        /* unterminated */
	    "&AOl-",       /* leftover bits not zero */
	    "&AOkA-",      /* 6 leftover bits */
	    "&AGE-",       /* 'a' shifted */
	    "&2D0-",       /* lone high surrogate */
	    "&3gA-",       /* lone low surrogate */
	    "&AO*-",       /* not base64 */
	    "caf\xc3\xa9", /* 8-bit */
	    "a\tb",        /* control */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT;

		buf_append_str(&b, "x");
		assert_int_equal(mutf7_to_utf8(bad[i], &b), -1);
		assert_string_equal(buf_cstr(&b), "x"); /* unchanged */
		buf_free(&b);
	}
}

static void test_bad_utf8(void **state)
{
	static const char *const bad[] = {"\xc3", "\xed\xa0\x80", "a\x01", "\x7f"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT;

		assert_int_equal(mutf7_from_utf8(bad[i], &b), -1);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
	assert_true(mutf7_has_8bit("caf\xc3\xa9"));
	assert_false(mutf7_has_8bit("&AOk-"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_both_ways),
	    cmocka_unit_test(test_bad_mutf7),
	    cmocka_unit_test(test_bad_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
