/* Unit tests for src/lib/size.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/size.h"

static void test_parse_good(void **state)
{
	static const struct {
		const char *in;
		uint64_t out;
	} cases[] = {
	    {"0", 0},
	    {"1000", 1000},
	    {"512K", 512 * 1024},
	    {"512k", 512 * 1024},
	    {"25M", 25 * 1024 * 1024},
	    {"2g", UINT64_C(2) << 30},
	    {"3T", UINT64_C(3) << 40},
	    {"007", 7},
	    {"18446744073709551615", UINT64_MAX},
	    {"16777215T", UINT64_C(16777215) << 40},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;

		if (size_parse(cases[i].in, &v) != 0)
			fail_msg("refused \"%s\"", cases[i].in);
		if (v != cases[i].out)
			fail_msg("\"%s\" gave %llu", cases[i].in, (unsigned long long)v);
	}
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
	    "",          "K",  "-1", "+1",   " 1",  "1 ",  "1KB", "1X",
	    "1.5M",      "1P", "1e", "0x10", "1\n", "1KK", "M1",  "18446744073709551616",
	    "16777216T", "1B",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 99;

		if (size_parse(bad[i], &v) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(v, 99);
	}
}

static void test_format(void **state)
{
	char buf[SIZE_STR_MAX];
	uint64_t back;

	assert_string_equal(size_format(0, buf), "0");
	assert_string_equal(size_format(1000, buf), "1000");
	assert_string_equal(size_format(1536 * 1024, buf), "1536K");
	assert_string_equal(size_format(UINT64_C(1) << 30, buf), "1G");
	assert_string_equal(size_format(UINT64_C(5) << 50, buf), "5120T");
	assert_string_equal(size_format(UINT64_MAX, buf), "18446744073709551615");
	/* what it prints parses back */
	assert_int_equal(size_parse(size_format(UINT64_C(25) << 20, buf), &back), 0);
	assert_int_equal(back, UINT64_C(25) << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
