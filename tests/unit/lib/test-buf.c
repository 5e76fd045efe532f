/* Unit tests for src/lib/buf.c and log_value() in src/lib/log.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/log.h"

static void test_append_and_consume(void **state)
{
	struct buf b = BUF_INIT;

	assert_string_equal(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_append_str(&b, "ab");
	assert_int_equal(b.len, 2000);
	buf_consume(&b, 1999);
	assert_string_equal(buf_cstr(&b), "b");
	buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(buf_cstr(&b), "b42-x");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_null(b.data);
}

static void test_steal(void **state)
{
	struct buf b = BUF_INIT;
	char *s = buf_steal(&b);

	assert_string_equal(s, "");
	free(s);
	buf_append(&b, "x\0y", 3);
	s = buf_steal(&b);
	assert_memory_equal(s, "x\0y", 4);
	assert_null(b.data);
	free(s);
}

static void test_log_value(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} cases[] = {
	    {"user@example.com", 100, "user@example.com"},
	    {"a b", 100, "\"a b\""},
	    {"x\r\nsid=evil", 100, "\"x\\x0d\\x0asid=evil\""},
	    {"q\"\\", 100, "\"q\\\"\\\\\""},
	    {"", 100, "\"\""},
	    {"abcdef", 3, "abc..."},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v = log_value(cases[i].in, strlen(cases[i].in), cases[i].max);
		assert_string_equal(v, cases[i].out);
		free(v);
	}
}

static void test_session_id(void **state)
{
	char a[SESSION_ID_LEN + 1], b[SESSION_ID_LEN + 1];

	session_id_new(a);
	session_id_new(b);
	assert_int_equal(strlen(a), SESSION_ID_LEN);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_and_consume),
	    cmocka_unit_test(test_steal),
	    cmocka_unit_test(test_log_value),
	    cmocka_unit_test(test_session_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
