/* Unit tests for src/mime/mime-text.c: HTML to text (whole, byte by byte
   and in random chunks) and text extraction of whole messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-parser.h"
#include "mime/mime-text.h"

static void html_check(const char *in, const char *want)
{
	size_t len = strlen(in);

	for (int chunk = 0; chunk < 10; chunk++) {
		struct mime_html *h = mime_html_new();
		struct buf out = BUF_INIT;
		unsigned int seed = (unsigned int)chunk;
		size_t off = 0;

		while (off < len) {
			size_t n = chunk == 0   ? len - off
			           : chunk == 1 ? 1
			                        : 1 + (size_t)rand_r(&seed) % 7;

			if (n > len - off)
				n = len - off;
			mime_html_feed(h, in + off, n, &out);
			off += n;
		}
		mime_html_finish(h, &out);
		assert_string_equal(buf_cstr(&out), want);
		mime_html_free(&h);
		assert_null(h);
		buf_free(&out);
	}
}

static void test_html(void **state)
{
	(void)state;
	html_check("<p>Hello <b>world</b></p><p>second</p>", "Hello world\n\nsecond");
	html_check("a<br>b<br/>c<BR >d", "a\nb\nc\nd");
	html_check("<ul><li>one</li><li>two</li></ul>", "one\ntwo");
	html_check("  lots \r\n of\t\tspace  ", "lots of space");
	html_check("<html><head><title>T</title><style>p{color:red}</style>"
	           "<script>if (a<b && c>d) x='</p>';</script></head><body>text</body></html>",
	           "text");
	html_check("a<!-- <p>hidden</p> -- still -->b", "ab");
	html_check("<!DOCTYPE html><?xml x?>a", "a");
	html_check("<a href=\"x>y\" title='>'>link</a>", "link");
	html_check("<td>a</td><td>b</td>", "a b");
}

static void test_html_entities(void **state)
{
	(void)state;
	html_check("&lt;tag&gt; &amp; &quot;q&quot; &apos;", "<tag> & \"q\" '");
	html_check("a&nbsp;b caf&eacute; &euro;5 &copy;", "a b caf\xc3\xa9 \xe2\x82\xac"
	                                                  "5 \xc2\xa9");
	html_check("&#65;&#x42;&#X43;&#128512;", "ABC\xf0\x9f\x98\x80");
	html_check("&#0; &#xD800; &#x110000;", "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
	/* unknown or unterminated: as written */
	html_check("&bogus; AT&T &amp", "&bogus; AT&T &amp");
	html_check("&#;&#x;", "&#;&#x;");
	html_check("a < b > c", "a < b > c");
	html_check("x<", "x<");
	html_check("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
	           "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;");
}

static char *extract(const char *msg, size_t max, int *ret_r)
{
	struct mime_source src = {.mem = (const unsigned char *)msg, .mem_len = strlen(msg)};
	struct mime_part *root = mime_parse(msg, strlen(msg), NULL);
	struct buf out = BUF_INIT;
	const char *error;

	*ret_r = mime_text_extract(root, &src, max, &out, &error);
	mime_part_free(&root);
	return buf_steal(&out);
}

static const char mixed[] = "Subject: s\r\n"
                            "Content-Type: multipart/mixed; boundary=o\r\n"
                            "\r\n"
                            "--o\r\n"
                            "Content-Type: multipart/alternative; boundary=a\r\n"
                            "\r\n"
                            "--a\r\n"
                            "Content-Type: text/plain; charset=iso-8859-1\r\n"
                            "Content-Transfer-Encoding: quoted-printable\r\n"
                            "\r\n"
                            "Caf=E9 au lait=\r\n"
                            " for two\r\n"
                            "--a\r\n"
                            "Content-Type: text/html\r\n"
                            "\r\n"
                            "<p>Caf&eacute; (html)</p>\r\n"
                            "--a--\r\n"
                            "--o\r\n"
                            "Content-Type: text/plain; name=a.txt\r\n"
                            "Content-Disposition: attachment; filename=a.txt\r\n"
                            "\r\n"
                            "attached text\r\n"
                            "--o\r\n"
                            "Content-Type: image/png\r\n"
                            "Content-Transfer-Encoding: base64\r\n"
                            "\r\n"
                            "iVBORw0KGgo=\r\n"
                            "--o\r\n"
                            "Content-Type: message/rfc822\r\n"
                            "\r\n"
                            "Subject: fwd\r\n"
                            "Content-Type: text/html; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: base64\r\n"
                            "\r\n"
                            "PGRpdj5mb3J3YXJkZWQ8L2Rpdj48ZGl2PnRleHQ8L2Rpdj4=\r\n"
                            "--o--\r\n";

static void test_extract(void **state)
{
	int ret;
	char *s = extract(mixed, 1000, &ret);

	(void)state;
	assert_string_equal(s, "Caf\xc3\xa9 au lait for two\n\nforwarded\n\ntext");
	assert_int_equal(ret, 0);
	free(s);
	/* the cap cuts on a character boundary */
	s = extract(mixed, 4, &ret);
	assert_string_equal(s, "Caf");
	assert_int_equal(ret, 1);
	free(s);
	s = extract(mixed, 5, &ret);
	assert_string_equal(s, "Caf\xc3\xa9");
	assert_int_equal(ret, 1);
	free(s);
}

static void test_extract_simple(void **state)
{
	int ret;
	char *s;

	(void)state;
	s = extract("Subject: x\r\n\r\nline one\r\nline two\r\n", 1000, &ret);
	assert_string_equal(s, "line one\nline two\n");
	free(s);
	/* html only alternative */
	s = extract("Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
	            "Content-Type: text/html\r\n\r\n<b>bold</b>\r\n--b--\r\n",
	            1000, &ret);
	assert_string_equal(s, "bold");
	free(s);
	/* unknown encoding and non-text: nothing */
	s = extract("Content-Transfer-Encoding: x-uue\r\n\r\nbegin\r\n", 1000, &ret);
	assert_string_equal(s, "");
	free(s);
	s = extract("Content-Type: application/pdf\r\n\r\n%PDF\r\n", 1000, &ret);
	assert_string_equal(s, "");
	assert_int_equal(ret, 0);
	free(s);
	/* invalid bytes and an unknown charset: U+FFFD */
	s = extract("Content-Type: text/plain; charset=x-bogus\r\n\r\na\xffz", 1000, &ret);
	assert_string_equal(s, "a\xef\xbf\xbdz");
	free(s);
}

/* A body spanning several read steps: multibyte characters and HTML
   entities cut by the step boundaries come out whole. */
static void test_extract_large(void **state)
{
	struct buf m = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	struct mime_source src;
	struct mime_part *root;
	const char *error;

	(void)state;
	buf_append_str(&m, "Content-Type: text/html; charset=utf-8\r\n"
	                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	for (int i = 0; i < 9000; i++) {
		buf_append_str(&m, "=E2=82=AC&amp;x<b\r\n>");
		buf_append_str(&want, "\xe2\x82\xac&x");
		if (i % 7 == 6) {
			buf_append_str(&m, "<br>");
			buf_append_str(&want, "\n");
		} else {
			buf_append_str(&want, " ");
		}
	}
	want.len--; /* no trailing space */
	src = (struct mime_source){.mem = (const unsigned char *)m.data, .mem_len = m.len};
	root = mime_parse(m.data, m.len, NULL);
	assert_int_equal(mime_text_extract(root, &src, 1 << 20, &out, &error), 0);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	/* a source that fails */
	src.mem_len = 1000;
	buf_clear(&out);
	assert_int_equal(mime_text_extract(root, &src, 1 << 20, &out, &error), -1);
	mime_part_free(&root);
	buf_free(&m);
	buf_free(&want);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html),          cmocka_unit_test(test_html_entities),
	    cmocka_unit_test(test_extract),       cmocka_unit_test(test_extract_simple),
	    cmocka_unit_test(test_extract_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
