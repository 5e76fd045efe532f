/* Unit tests for src/mailauth/tag-list.c (RFC 6376 section 3.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mailauth/tag-list.h"

static void parse_ok(const char *s, struct tag_list *list)
{
	const char *error = NULL;

	if (tag_list_parse(s, strlen(s), list, &error) < 0)
		fail_msg("parse of \"%s\" failed: %s", s, error);
}

static void parse_bad(const char *s, unsigned flags)
{
	struct tag_list list;
	const char *error = NULL;

	assert_int_equal(tag_list_parse_flags(s, strlen(s), flags, &list, &error), -1);
	assert_non_null(error);
	assert_int_equal(list.tags.count, 0);
	tag_list_free(&list);
}

static void test_basic(void **state)
{
	struct tag_list list;

	parse_ok("v=1; a=rsa-sha256; d=example.com", &list);
	assert_int_equal(list.tags.count, 3);
	assert_string_equal(tag_list_value(&list, "v"), "1");
	assert_string_equal(tag_list_value(&list, "a"), "rsa-sha256");
	assert_string_equal(tag_list_value(&list, "d"), "example.com");
	assert_null(tag_list_get(&list, "D")); /* names are case-sensitive */
	assert_null(tag_list_value(&list, "x"));
	tag_list_free(&list);
	assert_int_equal(list.tags.count, 0);
}

static void test_whitespace(void **state)
{
	struct tag_list list;
	const char *s = " \r\n\tv = 1 ;\r\n b=ab cd\r\n\t ef ; c= ;";
	const struct tag *b;

	parse_ok(s, &list);
	assert_int_equal(list.tags.count, 3);
	assert_string_equal(tag_list_value(&list, "v"), "1");
	b = tag_list_get(&list, "b");
	/* 3.2: WSP inside a value is kept, around it removed */
	assert_string_equal(b->value, "ab cd\r\n\t ef");
	assert_int_equal(b->value_len, strlen("ab cd\r\n\t ef"));
	assert_memory_equal(s + b->value_start, "ab cd", 5);
	assert_int_equal(b->value_end - b->value_start, b->value_len);
	assert_string_equal(tag_list_value(&list, "c"), "");
	tag_list_free(&list);
}

static void test_compact(void **state)
{
	struct buf out = BUF_INIT;

	tag_value_compact("ab c\r\n\td\t", 9, &out);
	assert_string_equal(out.data, "abcd");
	buf_free(&out);
}

static void test_empty(void **state)
{
	struct tag_list list;

	parse_ok("", &list);
	assert_int_equal(list.tags.count, 0);
	parse_ok("  \r\n ", &list);
	assert_int_equal(list.tags.count, 0);
	parse_ok("a=1;", &list);
	assert_int_equal(list.tags.count, 1);
	tag_list_free(&list);
}

static void test_errors(void **state)
{
	parse_bad("a=1; a=2", 0); /* duplicate */
	parse_bad("a=1;;b=2", 0); /* empty tag-spec */
	parse_bad(";a=1", 0);
	parse_bad("1a=1", 0);   /* name must start with ALPHA */
	parse_bad("a", 0);      /* no '=' */
	parse_bad("a b=1", 0);  /* space inside a name */
	parse_bad("a=\x01", 0); /* control character */
	parse_bad("a-b=1", 0);
	parse_bad("=1", 0);
}

static void test_allow_empty(void **state)
{
	struct tag_list list;
	const char *error;
	const char *s = ";v=DKIM1;; p=abc;";

	assert_int_equal(tag_list_parse_flags(s, strlen(s), TAG_LIST_ALLOW_EMPTY, &list, &error),
	                 0);
	assert_int_equal(list.tags.count, 2);
	assert_string_equal(tag_list_value(&list, "p"), "abc");
	tag_list_free(&list);
	parse_bad("a=1; a=1", TAG_LIST_ALLOW_EMPTY);
}

static void test_values(void **state)
{
	struct tag_list list;

	/* '=' and ':' are VALCHARs; UTF-8 is accepted (RFC 8616) */
	parse_ok("b=abc==; h=From:To; i=\xc3\xa9@example.com; n_1=x", &list);
	assert_string_equal(tag_list_value(&list, "b"), "abc==");
	assert_string_equal(tag_list_value(&list, "h"), "From:To");
	assert_string_equal(tag_list_value(&list, "n_1"), "x");
	tag_list_free(&list);
}

static void test_limits(void **state)
{
	char s[TAG_LIST_MAX_TAGS * 8 + 16];
	size_t len = 0;

	for (int i = 0; i <= TAG_LIST_MAX_TAGS; i++)
		len += (size_t)snprintf(s + len, sizeof(s) - len, "t%d=1;", i);
	parse_bad(s, 0);
	assert_int_equal(tag_list_parse("a=\0", 3, &(struct tag_list){0}, &(const char *){0}), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),   cmocka_unit_test(test_whitespace),
	    cmocka_unit_test(test_compact), cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_errors),  cmocka_unit_test(test_allow_empty),
	    cmocka_unit_test(test_values),  cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
