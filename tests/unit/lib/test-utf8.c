/* Unit tests for src/lib/utf8.c: RFC 3629 well-formedness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/utf8.h"

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool valid;
	} cases[] = {
	    {"", true},
	    {"ascii", true},
	    {"\xc2\x80", true},
	    {"\xdf\xbf", true},
	    {"\xe0\xa0\x80", true},
	    {"\xef\xbf\xbf", true},
	    {"\xf0\x90\x80\x80", true},
	    {"\xf4\x8f\xbf\xbf", true},
	    {"\x80", false},
	    {"\xc0\x80", false},
	    {"\xc1\xbf", false},
	    {"\xe0\x9f\xbf", false},
	    {"\xed\xa0\x80", false},
	    {"\xf0\x8f\xbf\xbf", false},
	    {"\xf4\x90\x80\x80", false},
	    {"\xf5\x80\x80\x80", false},
	    {"\xc2", false},
	    {"\xe2\x82", false},
	    {"\xe2\x28\xa1", false},
	    {"\xff", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].s;

		if (utf8_valid((const unsigned char *)s, strlen(s)) != cases[i].valid)
			fail_msg("case %zu", i);
	}
}

/* A NUL is a valid code point; length, not the terminator, bounds the
   check. */
static void test_utf8_length(void **state)
{
	(void)state;
	assert_true(utf8_valid((const unsigned char *)"a\0b", 3));
	assert_true(utf8_valid((const unsigned char *)"\xe2\x82\xac", 3));
	assert_false(utf8_valid((const unsigned char *)"\xe2\x82\xac", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_utf8_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
