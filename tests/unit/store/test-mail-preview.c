/* PREVIEW text (store/mail-objects.h): decoding, HTML, whitespace, the
   256-character cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-parser.h"
#include "store/mail-objects.h"

/* The preview of msg as a NUL-terminated string in *out (freed by the
   caller with buf_free()). */
static const char *preview(const char *msg, struct buf *out)
{
	size_t len = strlen(msg);
	struct mime_part *root = mime_parse(msg, len, NULL);
	struct mime_source src = {.mem = (const unsigned char *)msg, .mem_len = len};
	const char *error;

	assert_non_null(root);
	buf_clear(out);
	assert_int_equal(mail_preview_make(root, &src, out, &error), 0);
	mime_part_free(&root);
	return buf_cstr(out);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void test_collapse(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	mail_preview_collapse("  a \t\r\n\r\n b\x01"
	                      "c  ",
	                      strlen("  a \t\r\n\r\n b\x01"
	                             "c  "),
	                      256, &b);
	assert_string_equal(buf_cstr(&b), "a b c");
	buf_clear(&b);
	mail_preview_collapse("abcdef", 6, 3, &b);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_clear(&b);
	/* the cut counts characters, not bytes, and never splits one */
	mail_preview_collapse("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 2, &b);
	assert_string_equal(buf_cstr(&b), "\xc3\xa9\xc3\xa9");
	buf_clear(&b);
	/* a space is not put at the cut */
	mail_preview_collapse("ab cd", 5, 2, &b);
	assert_string_equal(buf_cstr(&b), "ab");
	buf_clear(&b);
	mail_preview_collapse("a\xc2\xa0"
	                      "b",
	                      4, 10, &b);
	assert_string_equal(buf_cstr(&b), "a b");
	buf_free(&b);
}

static void test_qp_latin1(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(preview("Content-Type: text/plain; charset=ISO-8859-1\r\n"
	                            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	                            "Caf=E9  cr=E8me =\r\nbr=FBl=E9e\r\n",
	                            &b),
	                    "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
	                    "e");
	buf_free(&b);
}

static void test_base64_utf8(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* "Grüße aus Köln" */
	assert_string_equal(preview("Content-Type: text/plain; charset=utf-8\r\n"
	                            "Content-Transfer-Encoding: base64\r\n\r\n"
	                            "R3LDvMOfZSBhdXMgS8O2bG4=\r\n",
	                            &b),
	                    "Gr\xc3\xbc\xc3\x9f"
	                    "e aus K\xc3\xb6ln");
	buf_free(&b);
}

static void test_html_and_alternative(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(
	    preview("Content-Type: text/html\r\n\r\n"
	            "<html><head><style>p{}</style></head><body>"
	            "<p>Hi&nbsp;<b>you</b> &amp; me</p><div>next</div></body></html>\r\n",
	            &b),
	    "Hi you & me next");
	/* alternative: the text/plain part, not the HTML one */
	assert_string_equal(preview("Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
	                            "--XX\r\nContent-Type: text/plain\r\n\r\nplain one\r\n"
	                            "--XX\r\nContent-Type: text/html\r\n\r\n<p>html one</p>\r\n"
	                            "--XX--\r\n",
	                            &b),
	                    "plain one");
	/* an attachment only: no text */
	assert_string_equal(preview("Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n", &b), "");
	buf_free(&b);
}

static void test_long_text(void **state)
{
	struct buf msg = BUF_INIT, b = BUF_INIT;
	const char *p;

	(void)state;
	buf_append_str(&msg, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
	for (int i = 0; i < 2000; i++)
		buf_append_str(&msg, "\xc3\xa9x   \r\n");
	p = preview(buf_cstr(&msg), &b);
	assert_int_equal(utf8_chars(p), MAIL_PREVIEW_CHARS);
	assert_true(p[strlen(p) - 1] != ' ');
	assert_memory_equal(p, "\xc3\xa9x \xc3\xa9x ", 8);
	buf_free(&msg);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collapse),    cmocka_unit_test(test_qp_latin1),
	    cmocka_unit_test(test_base64_utf8), cmocka_unit_test(test_html_and_alternative),
	    cmocka_unit_test(test_long_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
