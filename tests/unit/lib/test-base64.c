/* Unit tests for src/lib/base64.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base64.h"

static void test_every_byte(void **state)
{
	for (int c = 0; c < 256; c++) {
		const char *pos = c != 0 ? strchr(base64_alphabet, c) : NULL;
		int want = pos != NULL ? (int)(pos - base64_alphabet) : -1;

		assert_int_equal(base64_value((unsigned char)c), want);
	}
	assert_int_equal(strlen(base64_alphabet), 64);
	assert_int_equal(base64_value('='), -1);
	assert_int_equal(base64_value('/'), 63);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
