/* Unit tests for src/mime/mime-imap.c and mime-address.c: exact ENVELOPE,
   BODY and BODYSTRUCTURE strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-address.h"
#include "mime/mime-imap.h"
#include "mime/mime-parser.h"

static void check_envelope(const char *msg, const char *want)
{
	struct mime_part *root = mime_parse(msg, strlen(msg), NULL);
	struct buf b = BUF_INIT;

	mime_imap_envelope(root, &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
	mime_part_free(&root);
}

static void check_structure(const char *msg, bool ext, const char *want)
{
	struct mime_part *root = mime_parse(msg, strlen(msg), NULL);
	struct buf b = BUF_INIT;

	mime_imap_bodystructure(root, ext, &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
	mime_part_free(&root);
}

static void test_envelope_basic(void **state)
{
	check_envelope("Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
	               "Subject: =?utf-8?q?caf=C3=A9?= \"x\"\r\n"
	               "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
	               "To: mooch@owatagu.example, \"A \\\"B\\\"\" <ab@x.example>\r\n"
	               "Message-ID: <B27397-0100000@Blurdybloop.example>\r\n"
	               "\r\nbody\r\n",
	               "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"=?utf-8?q?caf=C3=A9?= \\\"x\\\"\" "
	               "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
	               "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
	               "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
	               "((NIL NIL \"mooch\" \"owatagu.example\")"
	               "(\"A \\\"B\\\"\" NIL \"ab\" \"x.example\")) "
	               "NIL NIL NIL \"<B27397-0100000@Blurdybloop.example>\")");
}

static void test_envelope_missing(void **state)
{
	check_envelope("\r\n", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	check_envelope("From: \r\nSender: a@b\r\n\r\n",
	               "(NIL NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL)");
	check_envelope("Subject: \xc3\xa9t\xc3\xa9\r\n\r\n",
	               "(NIL {5}\r\n\xc3\xa9t\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static void check_addresses(const char *value, const char *want)
{
	struct mime_address *list;
	size_t count;
	struct buf b = BUF_INIT;

	mime_address_list_parse(value, strlen(value), &list, &count);
	for (size_t i = 0; i < count; i++) {
		const struct mime_address *a = &list[i];

		if (a->group_start)
			buf_printf(&b, "[group %s]", a->mailbox);
		else if (a->group_end)
			buf_append_str(&b, "[end]");
		else
			buf_printf(&b, "[%s|%s|%s|%s]", a->name ? a->name : "-",
			           a->route ? a->route : "-", a->mailbox, a->domain);
	}
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
	mime_address_list_free(&list, count);
	assert_null(list);
}

static void test_addresses(void **state)
{
	check_addresses("a@b.c", "[-|-|a|b.c]");
	check_addresses("a@b.c (Real Name)", "[Real Name|-|a|b.c]");
	check_addresses("John Q. Public <jqp@x.example>", "[John Q. Public|-|jqp|x.example]");
	check_addresses("\"john doe\"@x.example", "[-|-|\"john doe\"|x.example]");
	check_addresses("undisclosed-recipients:;", "[group undisclosed-recipients][end]");
	check_addresses("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, x@y",
	                "[group A Group][Ed Jones|-|c|a.test][-|-|joe|where.test]"
	                "[John|-|jdoe|one.test][end][-|-|x|y]");
	check_addresses("<@r1.example,@r2.example:m@h.example>",
	                "[-|@r1.example,@r2.example|m|h.example]");
	check_addresses("postmaster", "[-|-|postmaster|]");
	check_addresses("=?utf-8?q?J=C3=B6rg?= <j@x>", "[=?utf-8?q?J=C3=B6rg?=|-|j|x]");
	check_addresses("a@b, , ,c@d", "[-|-|a|b][-|-|c|d]");
	check_addresses(",,<>,", "[-|-||]");
	check_addresses("\"unterminated <a@b>", "[-|-|\"unterminated <a@b>\"|]");
	check_addresses("x@[127.0.0.1] (c (nested) c)", "[c (nested) c|-|x|[127.0.0.1]]");
}

static void test_envelope_groups(void **state)
{
	check_envelope("From: x\r\nTo: undisclosed-recipients:;\r\n\r\n",
	               "(NIL NIL ((NIL NIL \"x\" \"MISSING_DOMAIN\")) "
	               "((NIL NIL \"x\" \"MISSING_DOMAIN\")) ((NIL NIL \"x\" \"MISSING_DOMAIN\")) "
	               "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	               "NIL NIL NIL NIL)");
}

static void test_bodystructure_text(void **state)
{
	const char *msg = "Subject: x\r\n\r\nhello\r\nworld\r\n";

	check_structure(msg, false,
	                "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	                "\"7bit\" 14 2)");
	check_structure(msg, true,
	                "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	                "\"7bit\" 14 2 NIL NIL NIL NIL)");
	check_structure("Content-Type: image/png; name=\"a.png\"\r\n"
	                "Content-Transfer-Encoding: BASE64 (c)\r\n"
	                "Content-ID: <i@d>\r\n"
	                "Content-Description: pic\r\n"
	                "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	                "Content-Disposition: inline; filename=a.png\r\n"
	                "Content-Language: en-US, (c) de\r\n"
	                "Content-Location: a.png\r\n\r\nAAAA",
	                true,
	                "(\"image\" \"png\" (\"name\" \"a.png\") \"<i@d>\" \"pic\" \"BASE64\" 4 "
	                "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" (\"filename\" \"a.png\")) "
	                "(\"en-US\" \"de\") \"a.png\")");
}

static void test_bodystructure_multipart(void **state)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=outer\r\n"
	                  "\r\n"
	                  "--outer\r\n"
	                  "Content-Type: text/plain; charset=utf-8\r\n"
	                  "\r\n"
	                  "hi\r\n"
	                  "--outer\r\n"
	                  "Content-Type: message/rfc822\r\n"
	                  "\r\n"
	                  "Subject: inner\r\n"
	                  "From: a@b\r\n"
	                  "\r\n"
	                  "x\r\n"
	                  "--outer--\r\n";

	check_structure(msg, false,
	                "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 1)"
	                "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 30 "
	                "(NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	                "((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) "
	                "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 1) 4)"
	                " \"mixed\")");
	check_structure(
	    msg, true,
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 1 NIL NIL "
	    "NIL NIL)"
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 30 "
	    "(NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	    "((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) "
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 1 NIL NIL "
	    "NIL NIL) 4 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)");
}

/* Cases found by the Dovecot differential (tests/e2e/test_mime_dovecot.py). */
static void test_bodystructure_default_charset(void **state)
{
	check_structure("Content-Type: text/html\r\n\r\nx\r\n", false,
	                "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)");
	check_structure(
	    "Content-Type: text/html; format=flowed\r\n\r\nx\r\n", false,
	    "(\"text\" \"html\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 3 1)");
	check_structure("Content-Type: image/gif\r\n\r\nx\r\n", false,
	                "(\"image\" \"gif\" NIL NIL NIL \"7bit\" 3)");
}

static void test_bodystructure_rfc2231(void **state)
{
	check_structure("Content-Type: application/pdf; name*0=\"a \"; name*1=b;\r\n"
	                " name*2=\".pdf\"; x=y\r\n\r\n",
	                false,
	                "(\"application\" \"pdf\" (\"name\" \"a b.pdf\" \"x\" \"y\") NIL NIL "
	                "\"7bit\" 0)");
	/* extended segments: the name gets its star, the value stays encoded */
	check_structure("Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
	                " filename*1=\".txt\"; filename*0*=utf-8'en'%E2%82%AC\r\n\r\n",
	                true,
	                "(\"application\" \"pdf\" NIL NIL NIL \"7bit\" 0 NIL (\"attachment\" "
	                "(\"filename*\" \"utf-8'en'%E2%82%AC.txt\")) NIL NIL)");
	/* a gap ends the chain: *2 without *1 stays as written */
	check_structure("Content-Type: a/b; n*0=x; n*2=z\r\n\r\n", false,
	                "(\"a\" \"b\" (\"n\" \"x\" \"n*2\" \"z\") NIL NIL \"7bit\" 0)");
	/* a repeated segment number: the first one is joined, the next sent
	   as written */
	check_structure("Content-Type: a/b; n*0=a; n*1=b; n*1=c; n*0=d\r\n\r\n", false,
	                "(\"a\" \"b\" (\"n\" \"ab\" \"n*1\" \"c\" \"n*0\" \"d\") NIL NIL "
	                "\"7bit\" 0)");
	check_structure("Content-Type: a/b; n*=utf-8''x; n*x=y; *0=z\r\n\r\n", false,
	                "(\"a\" \"b\" (\"n*\" \"utf-8''x\" \"n*x\" \"y\" \"*0\" \"z\") NIL NIL "
	                "\"7bit\" 0)");
}

static void test_bodystructure_unparsed(void **state)
{
	/* boundary never shows up: a multipart with no parts found */
	check_structure("Content-Type: multipart/mixed; boundary=X\r\n\r\ntext\r\n", true,
	                "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL "
	                "NIL NIL NIL) \"mixed\" (\"boundary\" \"X\") NIL NIL NIL)");
	check_structure("Content-Type: multipart/mixed\r\n\r\ntext\r\n", false,
	                "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) "
	                "\"mixed\")");
	/* an encoded message/rfc822 stays opaque but keeps the message form */
	check_structure("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	                "U3ViamVjdDogeA0KDQp5DQo=\r\n",
	                false,
	                "(\"message\" \"rfc822\" NIL NIL NIL \"base64\" 26 "
	                "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" "
	                "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) 1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_envelope_basic),
	    cmocka_unit_test(test_envelope_missing),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_envelope_groups),
	    cmocka_unit_test(test_bodystructure_text),
	    cmocka_unit_test(test_bodystructure_multipart),
	    cmocka_unit_test(test_bodystructure_default_charset),
	    cmocka_unit_test(test_bodystructure_rfc2231),
	    cmocka_unit_test(test_bodystructure_unparsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
