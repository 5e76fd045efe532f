/* Unit tests for src/smtp/smtp-client-reply.c: replies whole, byte at a
   time, multi-line, enhanced codes, and what the parser refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp-client-reply.h"

/* Parse every reply of text, step bytes per call (0: all at once); the
   replies' "code enhanced|text" joined by ';' into out. Returns the last
   result. */
static int parse_all(const char *text, size_t step, char *out, size_t outlen)
{
	struct smtp_reply_parser p;
	struct smtp_reply r = {0};
	size_t len = strlen(text), pos = 0;
	int ret = 0;

	out[0] = '\0';
	smtp_reply_parser_init(&p);
	while (pos < len) {
		size_t n = step == 0 || len - pos < step ? len - pos : step;
		size_t off = 0;

		while (off < n) {
			size_t used = 0;
			const char *error = NULL;

			ret = smtp_reply_parse(&p, text + pos + off, n - off, &used, &r, &error);
			if (ret < 0) {
				assert_non_null(error);
				goto out;
			}
			off += used;
			if (ret == 1) {
				size_t l = strlen(out);

				snprintf(out + l, outlen - l, "%u %s|%s;", r.code, r.enhanced,
				         buf_cstr(&r.text));
			}
		}
		pos += n;
	}
out:
	smtp_reply_clear(&r);
	buf_free(&r.text);
	smtp_reply_parser_free(&p);
	return ret;
}

static void check(const char *text, const char *want)
{
	char got[2048], got1[2048];

	assert_true(parse_all(text, 0, got, sizeof(got)) >= 0);
	assert_string_equal(got, want);
	assert_true(parse_all(text, 1, got1, sizeof(got1)) >= 0);
	assert_string_equal(got1, want);
}

static void test_single_lines(void **state)
{
	check("220 mx.test ESMTP ready\r\n", "220 |mx.test ESMTP ready;");
	check("250 2.1.0 Ok\r\n", "250 2.1.0|Ok;");
	check("451 4.4.1 try later\n", "451 4.4.1|try later;");
	check("354\r\n", "354 |;");
	/* an enhanced code of another class is text */
	check("550 4.1.1 odd\r\n", "550 |4.1.1 odd;");
	/* 3xx replies have none (RFC 3463) */
	check("354 2.0.0 go\r\n", "354 |2.0.0 go;");
	check("250 2.1.5\r\n", "250 2.1.5|;");
}

static void test_multiline(void **state)
{
	check("250-mx.test hello\r\n250-SIZE 1000\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
	      "250 |mx.test hello\nSIZE 1000\nPIPELINING\nSTARTTLS;");
	check("250 2.0.0 a\r\n550 5.1.1 b\r\n", "250 2.0.0|a;550 5.1.1|b;");
}

static void test_refused(void **state)
{
	char out[256];
	char big[SMTP_REPLY_MAX_LINE + 20];

	assert_int_equal(parse_all("hello\r\n", 0, out, sizeof(out)), -1);
	assert_int_equal(parse_all("25\r\n", 0, out, sizeof(out)), -1);
	assert_int_equal(parse_all("650 x\r\n", 0, out, sizeof(out)), -1);
	assert_int_equal(parse_all("260 x\r\n", 0, out, sizeof(out)), -1);
	assert_int_equal(parse_all("250x\r\n", 0, out, sizeof(out)), -1);
	assert_int_equal(parse_all("250-a\r\n251 b\r\n", 1, out, sizeof(out)), -1);
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse_all(big, 7, out, sizeof(out)), -1);
}

static void test_too_many_lines(void **state)
{
	char text[SMTP_REPLY_MAX_LINES * 8 + 16] = "";
	char out[64];

	for (int i = 0; i <= SMTP_REPLY_MAX_LINES; i++)
		strcat(text, "250-x\r\n");
	strcat(text, "250 x\r\n");
	assert_int_equal(parse_all(text, 0, out, sizeof(out)), -1);
}

static void test_need_more(void **state)
{
	char out[64];

	assert_int_equal(parse_all("250-a\r\n250 b", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_line_is(void **state)
{
	assert_true(smtp_reply_line_is("SIZE 100", 8, "SIZE"));
	assert_true(smtp_reply_line_is("size", 4, "SIZE"));
	assert_true(smtp_reply_line_is("AUTH=PLAIN", 10, "AUTH"));
	assert_false(smtp_reply_line_is("SIZEX", 5, "SIZE"));
	assert_false(smtp_reply_line_is("SIZ", 3, "SIZE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_lines), cmocka_unit_test(test_multiline),
	    cmocka_unit_test(test_refused),      cmocka_unit_test(test_too_many_lines),
	    cmocka_unit_test(test_need_more),    cmocka_unit_test(test_line_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
