/* Unit tests for src/imap/imap-seqset.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-seqset.h"
#include "lib/buf.h"

static char *render(const struct imap_seqset *set)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < set->count; i++)
		buf_printf(&out, "%s%u-%u", i > 0 ? "," : "", set->ranges[i].lo, set->ranges[i].hi);
	return buf_steal(&out);
}

static void test_valid(void **state)
{
	static const struct {
		const char *in;
		uint32_t star;
		const char *out;
	} cases[] = {
	    {"1", 10, "1-1"},
	    {"2:4", 10, "2-4"},
	    {"4:2", 10, "2-4"},
	    {"7:*", 10, "7-10"},
	    {"*:7", 10, "7-10"},
	    {"*", 10, "10-10"},
	    {"20:*", 10, "10-20"},
	    {"1,3:4,9", 10, "1-1,3-4,9-9"},
	    {"9,1,2,3", 10, "1-3,9-9"},
	    {"1:5,3:8,10", 10, "1-8,10-10"},
	    {"4294967295", 1, "4294967295-4294967295"},
	    {"1:4294967295,5", 1, "1-4294967295"},
	    {"1:*", 0, "0-1"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_seqset set;
		const char *error;
		char *out;

		assert_int_equal(imap_seqset_parse(cases[i].in, cases[i].star, &set, &error), 0);
		out = render(&set);
		assert_string_equal(out, cases[i].out);
		free(out);
		imap_seqset_free(&set);
	}
}

static void test_invalid(void **state)
{
	static const char *const cases[] = {
	    "",    "0",          "1:0", "01", "1,",   ",1", "1::2",  "a",
	    "1:a", "4294967296", "1 2", "-1", "1,,2", "**", "1:*:2",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_seqset set;
		const char *error = NULL;

		assert_int_equal(imap_seqset_parse(cases[i], 10, &set, &error), -1);
		assert_non_null(error);
		assert_int_equal(set.count, 0);
	}
}

static void test_contains(void **state)
{
	struct imap_seqset set;
	const char *error;

	assert_int_equal(imap_seqset_parse("2:4,8,10:*", 12, &set, &error), 0);
	assert_false(imap_seqset_contains(&set, 1));
	assert_true(imap_seqset_contains(&set, 2));
	assert_true(imap_seqset_contains(&set, 4));
	assert_false(imap_seqset_contains(&set, 5));
	assert_true(imap_seqset_contains(&set, 8));
	assert_false(imap_seqset_contains(&set, 9));
	assert_true(imap_seqset_contains(&set, 12));
	assert_false(imap_seqset_contains(&set, 13));
	assert_int_equal(imap_seqset_max(&set), 12);
	imap_seqset_free(&set);
	assert_int_equal(imap_seqset_max(&set), 0);
}

static void test_from_nums(void **state)
{
	const uint32_t nums[] = {9, 3, 4, 0, 5, 3, 12};
	struct imap_seqset set;

	(void)state;
	imap_seqset_from_nums(nums, 7, &set);
	assert_int_equal(set.count, 3);
	assert_int_equal(set.ranges[0].lo, 3);
	assert_int_equal(set.ranges[0].hi, 5);
	assert_int_equal(set.ranges[1].lo, 9);
	assert_int_equal(set.ranges[2].hi, 12);
	assert_false(imap_seqset_contains(&set, 0));
	assert_false(imap_seqset_contains(&set, 6));
	imap_seqset_free(&set);
	imap_seqset_from_nums(NULL, 0, &set);
	assert_int_equal(set.count, 0);
	assert_false(imap_seqset_contains(&set, 1));
	imap_seqset_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_from_nums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
