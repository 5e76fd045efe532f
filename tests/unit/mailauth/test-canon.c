/* Unit tests for src/mailauth/canon.c (RFC 6376 section 3.4): the RFC
   3.4.6 example, edge cases, and byte-at-a-time equality of the body
   state machine. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* The byte-at-a-time state machine canon.c had before its run scanning,
   kept as the reference the fast path must match byte for byte. */
struct ref_body {
	bool relaxed, pending_cr, pending_space, any_content;
	size_t empty_lines;
	struct buf *out;
};

static void ref_content(struct ref_body *r, char c)
{
	for (; r->empty_lines > 0; r->empty_lines--)
		buf_append(r->out, "\r\n", 2);
	if (r->pending_space)
		buf_append_char(r->out, ' ');
	r->pending_space = false;
	r->any_content = true;
	buf_append_char(r->out, c);
}

static void ref_byte(struct ref_body *r, char c)
{
	if (r->pending_cr) {
		r->pending_cr = false;
		if (c == '\n') {
			r->pending_space = false;
			r->empty_lines++;
			return;
		}
		ref_content(r, '\r');
	}
	if (c == '\r') {
		r->pending_cr = true;
	} else if (c == '\n') {
		r->pending_space = false;
		r->empty_lines++;
	} else if (r->relaxed && (c == ' ' || c == '\t')) {
		r->pending_space = true;
	} else {
		ref_content(r, c);
	}
}

static void ref_canon(enum canon_alg alg, const char *in, size_t len, struct buf *out)
{
	struct ref_body r = {.relaxed = alg == CANON_RELAXED, .out = out};

	buf_clear(out);
	for (size_t i = 0; i < len; i++)
		ref_byte(&r, in[i]);
	if (r.pending_cr)
		ref_content(&r, '\r');
	if (!r.relaxed || r.any_content)
		buf_append(out, "\r\n", 2);
}

/* The fast path fed in pieces cut at the given offsets (sorted, in
   range). */
static void cut_canon(enum canon_alg alg, const char *in, size_t len, const size_t *cuts,
                      size_t ncuts, struct buf *out)
{
	struct canon_body cb;
	size_t at = 0;

	buf_clear(out);
	canon_body_init(&cb, alg, collect, out);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		canon_body_feed(&cb, in + at, to - at);
		at = to;
	}
	canon_body_finish(&cb);
}

static void expect_same(enum canon_alg alg, const char *in, size_t len, const size_t *cuts,
                        size_t ncuts)
{
	struct buf want = BUF_INIT, got = BUF_INIT;

	ref_canon(alg, in, len, &want);
	cut_canon(alg, in, len, cuts, ncuts, &got);
	if (got.len != want.len || (got.len > 0 && memcmp(got.data, want.data, got.len) != 0))
		fail_msg("%s body of %zu bytes cut in %zu: %zu bytes, want %zu",
		         canon_alg_name(alg), len, ncuts + 1, got.len, want.len);
	buf_free(&want);
	buf_free(&got);
}

/* Every single cut point, then one byte at a time, against the reference:
   cuts inside CRLF, inside WSP runs, between SP and the byte after it,
   among trailing empty lines, and in the 8-byte words the fast path
   reads. */
static void test_cut_everywhere(void **state)
{
	static const char *const inputs[] = {
	    "ab cd ef gh ij kl mn op qr st uv wx\r\n",
	    "word word  word\tword \t word\r\n\r\n  \r\n\r\n",
	    "a\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nb \r\n \r\n\t\r\n",
	    "x\rb\r\r\n\n\r \r\r\nend  ",
	    "\x01 \x02\x1f \x7f \x80\xff \xc3\xa9 12345678 1234567 \r\n",
	    "no line end at all, twelve words long and then some more text",
	    "spaces at end        ",
	    "        spaces first\r\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t len = strlen(inputs[i]), cuts[256];

		for (int alg = CANON_SIMPLE; alg <= CANON_RELAXED; alg++) {
			for (size_t c = 0; c <= len; c++)
				expect_same((enum canon_alg)alg, inputs[i], len, &c, 1);
			for (size_t c = 0; c < len; c++)
				cuts[c] = c + 1;
			expect_same((enum canon_alg)alg, inputs[i], len, cuts, len);
		}
	}
}

/* Each special piece at each offset of a line of plain content (letters
   and single spaces), so that it falls in every lane of the 8- and 16-byte
   blocks the fast path tests at once, and at the edge between blocks. */
static void test_special_in_blocks(void **state)
{
	static const char *const pieces[] = {
	    "  ",     " \t",    "\t",        " \r\n",     "\r\n",     "\n",          "\r",
	    "\x01",   " \x01",  "\x80 ",     " ",         "\r\n\r\n", "\r\n ",       "\r\n\t",
	    "\r\n\n", "\r\r\n", "\r\nx\r\n", "\r\n \r\n", "\r\n\x01", "\r\n\r\n\r\n"};
	static const char plain[] = "ab cd efgh i jklmnop qr stuvwxyz AB CD EFGH IJ KLMN";
	char in[128];

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		for (size_t k = 0; k + 1 < sizeof(plain); k++) {
			size_t pl = strlen(pieces[i]), len = sizeof(plain) - 1 + pl, cut = k + 1;

			memcpy(in, plain, k);
			memcpy(in + k, pieces[i], pl);
			memcpy(in + k + pl, plain + k, sizeof(plain) - 1 - k);
			for (int alg = CANON_SIMPLE; alg <= CANON_RELAXED; alg++) {
				expect_same((enum canon_alg)alg, in, len, NULL, 0);
				expect_same((enum canon_alg)alg, in, len, &cut, 1);
				expect_same((enum canon_alg)alg, in, k + pl, NULL,
				            0); /* ends there */
			}
		}
	}
}

/* xorshift64: a fixed seed, so a failure repeats. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random bodies biased to the bytes that matter (SP, HTAB, CR, LF, other
   controls, 8-bit), random cuts: 2,000 cases, at most 300 bytes each. */
static void test_random_differential(void **state)
{
	static const char alphabet[] = "  \t\r\n\r\nab\x01\x80 .";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char in[300];
	size_t cuts[8];

	for (int n = 0; n < 2000; n++) {
		size_t len = (size_t)(next_rand(&seed) % sizeof(in)), ncuts;

		for (size_t i = 0; i < len; i++) {
			uint64_t r = next_rand(&seed);

			in[i] = r % 3 == 0 ? (char)('a' + r % 26)
			                   : alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
		}
		ncuts = (size_t)(next_rand(&seed) % 8);
		for (size_t i = 0; i < ncuts; i++)
			cuts[i] = len == 0 ? 0 : (size_t)(next_rand(&seed) % (len + 1));
		for (size_t i = 1; i < ncuts; i++) /* insertion sort */
			for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];

				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		expect_same(CANON_RELAXED, in, len, cuts, ncuts);
		expect_same(CANON_SIMPLE, in, len, cuts, ncuts);
	}
}

/* Bodies of ordinary lines, every length from 1 to 40 and cut at every
   point in turn, so that line ends fall in every lane of the blocks that
   take whole lines at once; then with an empty line, trailing empty lines
   and a line ending in a space among them. */
static void test_lines_in_blocks(void **state)
{
	static const char *const tails[] = {"", "\r\n", "\r\n\r\n", "a \r\n", "\r\n\r\nb\r\n"};
	char in[1024];

	for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
		for (size_t width = 1; width <= 40; width++) {
			size_t len = 0;

			for (size_t line = 0; len + width + 2 + 16 < sizeof(in) && line < 12;
			     line++) {
				for (size_t i = 0; i < width; i++)
					in[len++] = i % 5 == 4 && i + 1 < width
					                ? ' '
					                : (char)('a' + (line + i) % 26);
				in[len++] = '\r';
				in[len++] = '\n';
				if (line == 6)
					len += (size_t)snprintf(in + len, 16, "%s", tails[t]);
			}
			len += (size_t)snprintf(in + len, 16, "%s", tails[t]);
			for (size_t cut = 0; cut <= len; cut += 7)
				expect_same(CANON_RELAXED, in, len, &cut, 1);
			expect_same(CANON_SIMPLE, in, len, NULL, 0);
		}
	}
}

/* A body larger than the output buffer in one run, and one made of runs
   that straddle it: output in pieces, still equal to the reference. */
static void test_large_runs(void **state)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	size_t cut = CANON_OUT_SIZE / 2 + 3;

	for (int i = 0; i < 3 * CANON_OUT_SIZE / 10; i++)
		buf_append_str(&in, "0123 5678 ");
	buf_append_str(&in, "\r\n");
	for (int i = 0; i < 400; i++)
		buf_append_str(&in, "line of text   with\t tab \r\n\r\n");
	for (int alg = CANON_SIMPLE; alg <= CANON_RELAXED; alg++) {
		ref_canon((enum canon_alg)alg, in.data, in.len, &want);
		cut_canon((enum canon_alg)alg, in.data, in.len, NULL, 0, &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, got.len);
		cut_canon((enum canon_alg)alg, in.data, in.len, &cut, 1, &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, got.len);
	}
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
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
	    cmocka_unit_test(test_rfc_example),
	    cmocka_unit_test(test_vector_headers),
	    cmocka_unit_test(test_header_edges),
	    cmocka_unit_test(test_body_edges),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_cut_everywhere),
	    cmocka_unit_test(test_random_differential),
	    cmocka_unit_test(test_lines_in_blocks),
	    cmocka_unit_test(test_large_runs),
	    cmocka_unit_test(test_special_in_blocks),
	};
	int failed;

	/* every test on each scanning path: the wide (AVX2) one where the CPU
	   has it, then the 16-byte one alone */
	canon_body_use_wide(true);
	failed = cmocka_run_group_tests_name("wide", tests, NULL, NULL);
	canon_body_use_wide(false);
	return failed + cmocka_run_group_tests_name("narrow", tests, NULL, NULL);
}
