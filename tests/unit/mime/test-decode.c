/* Unit tests for src/mime/mime-decode.c: base64 and quoted-printable,
   whole, one byte at a time and in random chunks (all must agree). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-decode.h"

/* chunk: 0 whole, 1 byte at a time, else random sizes from seed chunk */
static unsigned int decode_chunked(enum mime_encoding enc, const char *in, size_t len, int chunk,
                                   struct buf *out)
{
	struct mime_decoder *d = mime_decoder_new(enc);
	unsigned int seed = (unsigned int)chunk, errors;
	size_t off = 0;

	while (off < len) {
		size_t n = chunk == 0 ? len - off : chunk == 1 ? 1 : 1 + (size_t)rand_r(&seed) % 13;

		if (n > len - off)
			n = len - off;
		mime_decoder_feed(d, in + off, n, out);
		off += n;
	}
	mime_decoder_finish(d, out);
	errors = mime_decoder_errors(d);
	mime_decoder_free(&d);
	assert_null(d);
	return errors;
}

/* Decode in every chunking and check the output and error count. */
static void check(enum mime_encoding enc, const char *in, const char *want, size_t want_len,
                  unsigned int want_errors)
{
	for (int chunk = 0; chunk < 12; chunk++) {
		struct buf out = BUF_INIT;
		unsigned int errors = decode_chunked(enc, in, strlen(in), chunk, &out);

		assert_int_equal(out.len, want_len);
		assert_memory_equal(out.data == NULL ? "" : out.data, want, want_len);
		assert_int_equal(errors, want_errors);
		buf_free(&out);
	}
}

#define CHECK(enc, in, want, errors) check(enc, in, want, sizeof(want) - 1, errors)

static void test_encoding_names(void **state)
{
	(void)state;
	assert_int_equal(mime_encoding_from_name(NULL), MIME_ENCODING_IDENTITY);
	assert_int_equal(mime_encoding_from_name(""), MIME_ENCODING_IDENTITY);
	assert_int_equal(mime_encoding_from_name("7bit"), MIME_ENCODING_IDENTITY);
	assert_int_equal(mime_encoding_from_name("8BIT"), MIME_ENCODING_IDENTITY);
	assert_int_equal(mime_encoding_from_name("Binary"), MIME_ENCODING_IDENTITY);
	assert_int_equal(mime_encoding_from_name("BASE64"), MIME_ENCODING_BASE64);
	assert_int_equal(mime_encoding_from_name(" base64 (comment)"), MIME_ENCODING_BASE64);
	assert_int_equal(mime_encoding_from_name("Quoted-Printable"), MIME_ENCODING_QP);
	assert_int_equal(mime_encoding_from_name("x-uuencode"), MIME_ENCODING_UNKNOWN);
	assert_int_equal(mime_encoding_from_name("base-64"), MIME_ENCODING_UNKNOWN);
}

static void test_base64(void **state)
{
	(void)state;
	CHECK(MIME_ENCODING_BASE64, "", "", 0);
	CHECK(MIME_ENCODING_BASE64, "aGVsbG8gd29ybGQ=", "hello world", 0);
	CHECK(MIME_ENCODING_BASE64, "aGVsbG8gd29ybA==", "hello worl", 0);
	CHECK(MIME_ENCODING_BASE64, "aGVsbG8gd29y", "hello wor", 0);
	CHECK(MIME_ENCODING_BASE64, "aGVs\r\nbG8g\r\n d29y\tbGQ=\r\n", "hello world", 0);
	CHECK(MIME_ENCODING_BASE64, "AP8A/w==", "\x00\xff\x00\xff", 0);
	CHECK(MIME_ENCODING_BASE64, "+/+/", "\xfb\xff\xbf", 0);
}

static void test_base64_broken(void **state)
{
	(void)state;
	/* junk characters are skipped and counted */
	CHECK(MIME_ENCODING_BASE64, "aGV*sbG8!", "hello", 3); /* two junk, no padding */
	/* missing padding: the whole bytes, one error */
	CHECK(MIME_ENCODING_BASE64, "aGVsbG8gd29ybGQ", "hello world", 1);
	CHECK(MIME_ENCODING_BASE64, "aGVsbG8gd29ybA", "hello worl", 1);
	/* a lone character holds no byte */
	CHECK(MIME_ENCODING_BASE64, "aGVsb", "hel", 1);
	CHECK(MIME_ENCODING_BASE64, "aGVsbGx", "helll", 1);
	/* padding ends the data */
	CHECK(MIME_ENCODING_BASE64, "aGk=\r\naGk=", "hi", 1);
	CHECK(MIME_ENCODING_BASE64, "aGk=\r\n\r\n", "hi", 0);
	CHECK(MIME_ENCODING_BASE64, "aA==\r\n==", "h", 0);
	/* "=" where no padding can be is junk */
	CHECK(MIME_ENCODING_BASE64, "=aGk=", "hi", 1);
	/* one "=" after two characters, then data: the data is ignored */
	CHECK(MIME_ENCODING_BASE64, "aA=aGk=", "h", 1);
	CHECK(MIME_ENCODING_BASE64, "-- boundary junk --", "n\x8b\xa7u\xaa\xf2\x8e\xe9\xe4", 4);
}

static void test_qp(void **state)
{
	(void)state;
	CHECK(MIME_ENCODING_QP, "", "", 0);
	CHECK(MIME_ENCODING_QP, "caf=C3=A9\r\n", "caf\xc3\xa9\r\n", 0);
	CHECK(MIME_ENCODING_QP, "caf=c3=a9", "caf\xc3\xa9", 0);
	CHECK(MIME_ENCODING_QP, "long=\r\nline\r\n", "longline\r\n", 0);
	CHECK(MIME_ENCODING_QP, "long=\nline\n", "longline\n", 0);
	CHECK(MIME_ENCODING_QP, "a=3D=3db", "a==b", 0);
	CHECK(MIME_ENCODING_QP, "no final break=", "no final break", 0);
	/* rule 3: trailing whitespace is deleted, inner whitespace kept */
	CHECK(MIME_ENCODING_QP, "a b  \r\nc\t \nd  ", "a b\r\nc\nd", 0);
	CHECK(MIME_ENCODING_QP, "a=20\r\n", "a \r\n", 0);
	/* soft break with whitespace after the "=" */
	CHECK(MIME_ENCODING_QP, "soft= \t\r\nbreak", "softbreak", 0);
	CHECK(MIME_ENCODING_QP, "8bit \xe9 kept\r\n", "8bit \xe9 kept\r\n", 0);
	/* a lone CR is text */
	CHECK(MIME_ENCODING_QP, "a \rb", "a \rb", 0);
	CHECK(MIME_ENCODING_QP, "a \r", "a \r", 0);
}

static void test_qp_broken(void **state)
{
	(void)state;
	CHECK(MIME_ENCODING_QP, "a=G1b", "a=G1b", 1);
	CHECK(MIME_ENCODING_QP, "a=4", "a=4", 1);
	CHECK(MIME_ENCODING_QP, "a=4x", "a=4x", 1);
	CHECK(MIME_ENCODING_QP, "a==41", "a=A", 1);
	CHECK(MIME_ENCODING_QP, "a= b", "a= b", 1);
	CHECK(MIME_ENCODING_QP, "100% =\rx", "100% x", 1);
	CHECK(MIME_ENCODING_QP, "a=", "a", 0);
	CHECK(MIME_ENCODING_QP, "a= ", "a", 0);
}

static void test_qp_long_whitespace(void **state)
{
	char in[1200], want[1200];

	(void)state;
	/* a whitespace run longer than the held state is written out */
	memset(in, ' ', 600);
	strcpy(in + 600, "x\r\n");
	memcpy(want, in, 604);
	check(MIME_ENCODING_QP, in, want, 603, 0);
	memset(in, ' ', 600);
	strcpy(in + 600, "\r\n");
	/* trailing: only the last held run is dropped (the state is bounded) */
	memset(want, ' ', 512);
	memcpy(want + 512, "\r\n", 2);
	check(MIME_ENCODING_QP, in, want, 514, 0);
}

static void test_identity(void **state)
{
	(void)state;
	CHECK(MIME_ENCODING_IDENTITY, "=3D as is\r\n", "=3D as is\r\n", 0);
}

static void test_decode_q(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(mime_decode_q("J=C3=B6rg_und_=3f=", 18, &out), 1);
	assert_string_equal(out.data, "J\xc3\xb6rg und ?=");
	buf_free(&out);
}

/* Random bytes encoded by a tiny reference encoder come back whole. */
static void test_base64_roundtrip(void **state)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int seed = 7;

	(void)state;
	for (int round = 0; round < 200; round++) {
		unsigned char raw[300];
		char enc[500];
		size_t n = (size_t)rand_r(&seed) % sizeof(raw), e = 0;
		struct buf out = BUF_INIT;

		for (size_t i = 0; i < n; i++)
			raw[i] = (unsigned char)rand_r(&seed);
		for (size_t i = 0; i < n; i += 3) {
			unsigned int v = (unsigned int)raw[i] << 16;

			v |= i + 1 < n ? (unsigned int)raw[i + 1] << 8 : 0;
			v |= i + 2 < n ? raw[i + 2] : 0;
			enc[e++] = alpha[v >> 18];
			enc[e++] = alpha[(v >> 12) & 63];
			enc[e++] = i + 1 < n ? alpha[(v >> 6) & 63] : '=';
			enc[e++] = i + 2 < n ? alpha[v & 63] : '=';
			if (i % 57 == 54)
				enc[e++] = '\n';
		}
		enc[e] = '\0';
		assert_int_equal(decode_chunked(MIME_ENCODING_BASE64, enc, e, round % 5, &out), 0);
		assert_int_equal(out.len, n);
		if (n > 0)
			assert_memory_equal(out.data, raw, n);
		buf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encoding_names),   cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_broken),    cmocka_unit_test(test_qp),
	    cmocka_unit_test(test_qp_broken),        cmocka_unit_test(test_qp_long_whitespace),
	    cmocka_unit_test(test_identity),         cmocka_unit_test(test_decode_q),
	    cmocka_unit_test(test_base64_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
