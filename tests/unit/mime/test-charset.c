/* Unit tests for src/mime/mime-charset.c: iconv to UTF-8 in any chunking,
   the fallback for unknown charsets and invalid bytes, RFC 2047 encoded
   words (the examples of RFC 2047 section 8 and broken ones) and RFC 2231
   parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-charset.h"
#include "mime/mime-header.h"

#define FFFD "\xef\xbf\xbd"

/* Convert in every chunking (whole, bytewise, random) and compare. */
static void conv_check(const char *charset, const char *in, size_t len, const char *want,
                       unsigned int want_errors)
{
	for (int chunk = 0; chunk < 10; chunk++) {
		struct mime_charset_conv *conv = mime_charset_conv_new(charset);
		struct buf out = BUF_INIT;
		unsigned int seed = (unsigned int)chunk;
		size_t off = 0;

		while (off < len) {
			size_t n = chunk == 0   ? len - off
			           : chunk == 1 ? 1
			                        : 1 + (size_t)rand_r(&seed) % 5;

			if (n > len - off)
				n = len - off;
			mime_charset_conv_feed(conv, in + off, n, &out);
			off += n;
		}
		mime_charset_conv_finish(conv, &out);
		assert_string_equal(buf_cstr(&out), want);
		assert_int_equal(mime_charset_conv_errors(conv), want_errors);
		mime_charset_conv_free(&conv);
		assert_null(conv);
		buf_free(&out);
	}
}

#define CONV(cs, in, want, errors) conv_check(cs, in, sizeof(in) - 1, want, errors)

static void test_conv(void **state)
{
	(void)state;
	CONV("iso-8859-1", "caf\xe9", "caf\xc3\xa9", 0);
	CONV("ISO-8859-15", "\xa4", "\xe2\x82\xac", 0);
	CONV("windows-1252", "\x80 \x93q\x94", "\xe2\x82\xac \xe2\x80\x9cq\xe2\x80\x9d", 0);
	CONV("koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4",
	     "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 0);
	CONV("shift_jis", "\x93\xfa\x96\x7b", "\xe6\x97\xa5\xe6\x9c\xac", 0);
	/* stateful: the shift state survives between chunks */
	CONV("iso-2022-jp", "\x1b$BF|K\\\x1b(B!", "\xe6\x97\xa5\xe6\x9c\xac!", 0);
	CONV("utf-16le", "h\0i\0", "hi", 0);
	/* stateful: RFC 2152 example (any chunking; see CONV_BLOCK) */
	CONV("utf-7", "Hi Mom -+Jjo--!", "Hi Mom -\xe2\x98\xba-!", 0);
	CONV("utf-7", "a+AGE-\nb+AGI-", "aa\nbb", 0);
	CONV("UTF-8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 0);
	CONV("utf-8*en", "a", "a", 0);
	CONV("gb2312", "\xc4\xe3\xba\xc3", "\xe4\xbd\xa0\xe5\xa5\xbd", 0);
}

static void test_conv_invalid(void **state)
{
	(void)state;
	/* UTF-8: one U+FFFD per maximal invalid subpart (as Python) */
	CONV("utf-8",
	     "a\xff"
	     "b",
	     "a" FFFD "b", 1);
	CONV("utf-8", "\xe2\x82", FFFD, 1);
	CONV("utf-8", "\xe2\x82x", FFFD "x", 1);
	CONV("utf-8", "\xc0\xaf", FFFD FFFD, 2);
	CONV("utf-8", "\xed\xa0\x80", FFFD FFFD FFFD, 3);
	CONV("utf-8", "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD, 4);
	/* us-ascii is read as UTF-8 */
	CONV("us-ascii", "caf\xc3\xa9 \xe9", "caf\xc3\xa9 " FFFD, 1);
	/* unknown charset: UTF-8 fallback, one error for the charset */
	CONV("x-no-such-charset", "caf\xc3\xa9", "caf\xc3\xa9", 1);
	CONV(NULL, "a", "a", 0);
	CONV("utf-8//TRANSLIT", "a", "a", 1);
	/* iconv: an invalid byte is replaced and skipped */
	CONV("shift_jis",
	     "a\x85\x40"
	     "b",
	     "a" FFFD "@b", 1);
	CONV("shift_jis", "a\x93", "a" FFFD, 1);
	assert_true(mime_charset_is_known("ISO-8859-2"));
	assert_true(mime_charset_is_known("us-ascii"));
	assert_false(mime_charset_is_known("x-nope"));
	assert_false(mime_charset_is_known(""));
}

static void test_to_utf8(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(mime_charset_to_utf8("latin1", "\xe9", 1, &out), 0);
	assert_string_equal(out.data, "\xc3\xa9");
	assert_int_equal(mime_charset_to_utf8("bogus", "x", 1, &out), 1);
	assert_string_equal(out.data, "\xc3\xa9x");
	buf_free(&out);
}

static char *hdr(const char *in, size_t max, int *ret_r)
{
	struct buf out = BUF_INIT;

	*ret_r = mime_header_decode(in, strlen(in), max, &out);
	return buf_steal(&out);
}

static void hdr_check(const char *in, const char *want, int want_ret)
{
	int ret;
	char *s = hdr(in, 1000, &ret);

	assert_string_equal(s, want);
	assert_int_equal(ret, want_ret);
	free(s);
}

static void test_rfc2047_examples(void **state)
{
	(void)state;
	/* RFC 2047 section 8 */
	hdr_check("(=?ISO-8859-1?Q?a?=)", "(a)", 0);
	hdr_check("(=?ISO-8859-1?Q?a?= b)", "(a b)", 0);
	hdr_check("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)", 0);
	hdr_check("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)", 0);
	hdr_check("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)", 0);
	hdr_check("(=?ISO-8859-1?Q?a_b?=)", "(a b)", 0);
	hdr_check("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)", 0);
	hdr_check("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>",
	          0);
	hdr_check("=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard", 0);
	hdr_check("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=", "If you can read this yo",
	          0);
	/* RFC 2231 section 5: language suffix */
	hdr_check("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore", 0);
}

static void test_rfc2047_more(void **state)
{
	(void)state;
	/* a UTF-8 character split across two words survives */
	hdr_check("=?utf-8?B?w6k=?= =?utf-8?b?4oI=?= =?UTF-8?B?rA==?=", "\xc3\xa9\xe2\x82\xac", 0);
	hdr_check("=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "\xe2\x82\xac", 0);
	/* inside a word, and with text on both sides */
	hdr_check("x=?utf-8?q?y?=z", "xyz", 0);
	hdr_check("a =?utf-8?q?b?= c", "a b c", 0);
	/* lower-case hex, "?" inside Q text */
	hdr_check("=?utf-8?q?=c3=a9?x?=", "\xc3\xa9?x", 0);
	/* empty text */
	hdr_check("a =?utf-8?q?"
	          "?= b",
	          "a  b", 0);
	/* raw 8-bit UTF-8 (RFC 6532) and invalid raw bytes */
	hdr_check("J\xc3\xb6rg \xff", "J\xc3\xb6rg " FFFD, 1);
	/* unknown charset: fallback, reported */
	hdr_check("=?x-bogus?q?abc?=", "abc", 1);
	/* invalid bytes in the charset */
	hdr_check("=?utf-8?q?=FF?=", FFFD, 1);
	/* folding is undone */
	hdr_check("long\r\n subject", "long subject", 0);
}

static void test_rfc2047_invalid(void **state)
{
	char big[700];

	(void)state;
	hdr_check("=?utf-8?x?abc?=", "=?utf-8?x?abc?=", 0);
	hdr_check("=?utf-8?q?a b?=", "=?utf-8?q?a b?=", 0);
	hdr_check("=?"
	          "?q?abc?=",
	          "=?"
	          "?q?abc?=",
	          0);
	hdr_check("=?utf-8?q?abc", "=?utf-8?q?abc", 0);
	hdr_check("=?utf-8?", "=?utf-8?", 0);
	hdr_check("=?", "=?", 0);
	hdr_check("=?utf 8?q?a?=", "=?utf 8?q?a?=", 0);
	/* whitespace between an encoded word and a broken one is kept */
	hdr_check("=?utf-8?q?a?= =?utf-8?x?b?=", "a =?utf-8?x?b?=", 0);
	/* longer than MIME_EW_MAX_LEN: left as written */
	strcpy(big, "=?utf-8?q?");
	memset(big + 10, 'a', 600);
	strcpy(big + 610, "?=");
	hdr_check(big, big, 0);
}

static void test_rfc2047_cap(void **state)
{
	int ret;
	char *s;

	(void)state;
	s = hdr("=?utf-8?q?=C3=A9=C3=A9=C3=A9?=", 5, &ret);
	assert_string_equal(s, "\xc3\xa9\xc3\xa9");
	assert_int_equal(ret, 1);
	free(s);
	s = hdr("abcdef", 3, &ret);
	assert_string_equal(s, "abc");
	assert_int_equal(ret, 1);
	free(s);
	s = hdr("abc", 3, &ret);
	assert_string_equal(s, "abc");
	assert_int_equal(ret, 0);
	free(s);
}

/* Decode "name=value" pairs (values unquoted) and render "name=value;". */
static char *params(const char *const *pairs, size_t n)
{
	struct mime_param in[16], *out;
	size_t count;
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		in[i].name = (char *)pairs[2 * i];
		in[i].value = (char *)pairs[2 * i + 1];
	}
	mime_params_decode(in, n, &out, &count);
	for (size_t i = 0; i < count; i++)
		buf_printf(&b, "%s=%s;", out[i].name, out[i].value);
	mime_params_free(&out, count);
	assert_null(out);
	return buf_steal(&b);
}

#define PARAMS(want, ...)                                                                          \
	do {                                                                                       \
		const char *const p_[] = {__VA_ARGS__};                                            \
		char *s_ = params(p_, sizeof(p_) / sizeof(p_[0]) / 2);                             \
		assert_string_equal(s_, want);                                                     \
		free(s_);                                                                          \
	} while (0)

static void test_rfc2231(void **state)
{
	(void)state;
	PARAMS("charset=us-ascii;", "charset", "us-ascii");
	/* RFC 2231 section 3 */
	PARAMS("URL=ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar;", "URL*0",
	       "ftp://cs.utk.edu/pub/moore/", "URL*1", "bulk-mailer/bulk-mailer.tar");
	/* section 4 */
	PARAMS("title=This is ***fun***;", "title*",
	       "us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
	/* section 4.1: mixed segments */
	PARAMS("title=This is even more ***fun*** isn't it!;", "title*0*",
	       "us-ascii'en'This%20is%20even%20more%20", "title*1*", "%2A%2A%2Afun%2A%2A%2A%20",
	       "title*2", "isn't it!");
	PARAMS("filename=caf\xc3\xa9.txt;", "filename*", "iso-8859-1''caf%E9.txt");
	PARAMS("filename=\xe2\x82\xac.pdf;", "filename*", "UTF-8''%e2%82%ac.pdf");
}

static void test_rfc2231_broken(void **state)
{
	(void)state;
	/* out of order, with a gap and a repeated number */
	PARAMS("name=abc;", "name*2", "c", "name*0", "a", "name*1", "b", "name*1", "x");
	PARAMS("name=ac;", "name*0", "a", "name*2", "c");
	/* the RFC 2231 form wins over the plain one, wherever it is */
	PARAMS("filename=new;type=x;", "filename", "old", "type", "x", "filename*", "''new");
	PARAMS("filename=new;", "filename*", "''new", "filename", "old");
	/* no charset quotes: the value as is; bad percent kept */
	PARAMS("f=100%;", "f*", "100%");
	PARAMS("f=%zz%4;", "f*", "''%zz%4");
	/* unknown charset: UTF-8 fallback */
	PARAMS("f=a" FFFD ";", "f*", "x-bogus''a%FF");
	/* invalid suffixes are plain names */
	PARAMS("a*x=1;a**=2;", "a*x", "1", "a**", "2");
	/* RFC 2047 in a plain value (common for filenames) */
	PARAMS("filename=J\xc3\xb6rg.txt;", "filename", "=?iso-8859-1?q?J=F6rg.txt?=");
	/* duplicate plain parameter: the first */
	PARAMS("a=1;", "a", "1", "A", "2");
	/* names that are only a suffix stay as written */
	PARAMS("*=x;*0=y;", "*", "x", "*0", "y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conv),           cmocka_unit_test(test_conv_invalid),
	    cmocka_unit_test(test_to_utf8),        cmocka_unit_test(test_rfc2047_examples),
	    cmocka_unit_test(test_rfc2047_more),   cmocka_unit_test(test_rfc2047_invalid),
	    cmocka_unit_test(test_rfc2047_cap),    cmocka_unit_test(test_rfc2231),
	    cmocka_unit_test(test_rfc2231_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
