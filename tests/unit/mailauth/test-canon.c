/* Unit tests for src/mailauth/canon.c (RFC 6376 section 3.4): the RFC
   3.4.6 example, edge cases, and byte-at-a-time equality of the body
   state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mailauth/canon.h"

static void collect(void *context, const void *data, size_t len)
{
	buf_append(context, data, len);
}

/* Canonicalize body in chunks of step bytes (0: all at once). */
static void body(enum canon_alg alg, const char *in, size_t step, struct buf *out)
{
	struct canon_body cb;
	size_t len = strlen(in);

	buf_clear(out);
	canon_body_init(&cb, alg, collect, out);
	if (step == 0)
		canon_body_feed(&cb, in, len);
	for (size_t i = 0; step > 0 && i < len; i += step)
		canon_body_feed(&cb, in + i, len - i < step ? len - i : step);
	canon_body_finish(&cb);
}

static void expect_body(enum canon_alg alg, const char *in, const char *want)
{
	struct buf out = BUF_INIT;

	for (size_t step = 0; step <= 3; step++) {
		body(alg, in, step, &out);
		if (out.len != strlen(want) || memcmp(buf_cstr(&out), want, out.len) != 0)
			fail_msg("%s body of \"%s\" (step %zu): got \"%s\"", canon_alg_name(alg),
			         in, step, buf_cstr(&out));
	}
	buf_free(&out);
}

static void expect_header(enum canon_alg alg, const char *in, const char *want)
{
	struct buf out = BUF_INIT;

	canon_header(alg, in, strlen(in), true, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_rfc_example(void **state)
{
	/* RFC 6376 3.4.6 */
	expect_header(CANON_RELAXED, "A: X", "a:X\r\n");
	expect_header(CANON_RELAXED, "B : Y\t\r\n\tZ  ", "b:Y Z\r\n");
	expect_header(CANON_SIMPLE, "B : Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  \r\n");
	expect_body(CANON_RELAXED, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
	expect_body(CANON_SIMPLE, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n");
}

/* The header cases of ../shared/conformance/dkim/canonicalization.json:
   each field is name ":" value, value ending in CRLF. */
static void test_vector_headers(void **state)
{
	static const struct {
		const char *in, *relaxed;
	} cases[] = {
	    {"A: X", "a:X\r\n"},
	    {"B : Y\t\r\n\tZ  ", "b:Y Z\r\n"},
	    {"Foo:Bar", "foo:Bar\r\n"},
	    {"BaZ:Foo", "baz:Foo\r\n"},
	    {"Foo:Bar\r\n baz", "foo:Bar baz\r\n"},
	    {"Foo:Bar \t baz", "foo:Bar baz\r\n"},
	    {"Foo  :   Bar \t baz   ", "foo:Bar baz\r\n"},
	};
	struct buf want = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_header(CANON_RELAXED, cases[i].in, cases[i].relaxed);
		buf_clear(&want);
		buf_printf(&want, "%s\r\n", cases[i].in);
		expect_header(CANON_SIMPLE, cases[i].in, want.data);
	}
	buf_free(&want);
}

static void test_header_edges(void **state)
{
	expect_header(CANON_RELAXED, "SUBJECT:   hello   world  ", "subject:hello world\r\n");
	expect_header(CANON_RELAXED, "X:", "x:\r\n");
	expect_header(CANON_RELAXED, "X:\r\n y", "x:y\r\n");
	expect_header(CANON_SIMPLE, "X: a\n b", "X: a\r\n b\r\n"); /* bare LF */
}

static void test_body_edges(void **state)
{
	expect_body(CANON_SIMPLE, "", "\r\n");
	expect_body(CANON_RELAXED, "", "");
	expect_body(CANON_SIMPLE, "\r\n\r\n", "\r\n");
	expect_body(CANON_RELAXED, "\r\n \t \r\n", "");
	expect_body(CANON_SIMPLE, "Foo bar", "Foo bar\r\n");
	expect_body(CANON_RELAXED, "Foo bar", "Foo bar\r\n");
	expect_body(CANON_RELAXED, "Foo  \t\r\nbar\r\n", "Foo\r\nbar\r\n");
	expect_body(CANON_RELAXED, "Foo\r\n \t \r\n\r\n", "Foo\r\n");
	expect_body(CANON_SIMPLE, "Foo\r\n \t \r\n\r\n", "Foo\r\n \t \r\n");
	expect_body(CANON_RELAXED, "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n");
	/* bare LF counts as CRLF; a lone CR is data */
	expect_body(CANON_SIMPLE, "a\nb\n\n", "a\r\nb\r\n");
	expect_body(CANON_SIMPLE, "a\rb\r", "a\rb\r\r\n");
	expect_body(CANON_RELAXED, "a \r", "a \r\r\n");
}

static void test_byte_at_a_time(void **state)
{
	static const char *const inputs[] = {" C \r\nD \t E\r\n\r\n\r\n",
	                                     "x\r\n\r\n  \r\ny  \t z\t\r\n", "\r\r\n\n \r\n"};
	struct buf a = BUF_INIT, b = BUF_INIT;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		for (int alg = CANON_SIMPLE; alg <= CANON_RELAXED; alg++) {
			body((enum canon_alg)alg, inputs[i], 0, &a);
			body((enum canon_alg)alg, inputs[i], 1, &b);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.data, b.data, a.len);
		}
	}
	buf_free(&a);
	buf_free(&b);
}

static void test_large(void **state)
{
	/* more than the output buffer, with a long run of empty lines held */
	struct buf in = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

	for (int i = 0; i < 3000; i++)
		buf_append_str(&in, i % 7 == 0 ? "line  with   space \r\n" : "\r\n");
	body(CANON_RELAXED, in.data, 0, &a);
	body(CANON_RELAXED, in.data, 5, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_memory_equal(a.data + a.len - 2, "\r\n", 2);
	buf_free(&in);
	buf_free(&a);
	buf_free(&b);
}

static void test_parse(void **state)
{
	enum canon_alg alg;

	assert_int_equal(canon_alg_parse("relaxed", 7, &alg), 0);
	assert_int_equal(alg, CANON_RELAXED);
	assert_int_equal(canon_alg_parse("simple", 6, &alg), 0);
	assert_int_equal(alg, CANON_SIMPLE);
	assert_int_equal(canon_alg_parse("Simple", 6, &alg), -1);
	assert_int_equal(canon_alg_parse("relax", 5, &alg), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_example),    cmocka_unit_test(test_vector_headers),
	    cmocka_unit_test(test_header_edges),   cmocka_unit_test(test_body_edges),
	    cmocka_unit_test(test_byte_at_a_time), cmocka_unit_test(test_large),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
