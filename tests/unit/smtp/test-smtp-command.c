/* Unit tests for src/smtp/smtp-command.c: SMTP command lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp-command.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct ok_case {
	const char *line;
	enum smtp_verb verb;
	const char *arg;  /* NULL: none */
	const char *path; /* normalized path, NULL: none */
	uint64_t size;
	enum smtp_body body;
};

static const struct ok_case ok_cases[] = {
    {"EHLO client.example.org", SMTP_VERB_EHLO, "client.example.org", NULL, 0, 0},
    {"ehlo [192.0.2.1]", SMTP_VERB_EHLO, "[192.0.2.1]", NULL, 0, 0},
    {"HeLo x ", SMTP_VERB_HELO, "x", NULL, 0, 0},
    {"MAIL FROM:<a@B.example>", SMTP_VERB_MAIL, NULL, "a@b.example", 0, 0},
    {"mail from:<>", SMTP_VERB_MAIL, NULL, "", 0, 0},
    {"MAIL FROM: <a@b>", SMTP_VERB_MAIL, NULL, "a@b", 0, 0},
    {"MAIL FROM:<a@b> SIZE=1000", SMTP_VERB_MAIL, NULL, "a@b", 1000, 0},
    {"MAIL FROM:<a@b> size=5 body=8bitmime", SMTP_VERB_MAIL, NULL, "a@b", 5, SMTP_BODY_8BITMIME},
    {"MAIL FROM:<a@b>  BODY=7BIT", SMTP_VERB_MAIL, NULL, "a@b", 0, SMTP_BODY_7BIT},
    {"MAIL FROM:<> SIZE=99999999999999999999999", SMTP_VERB_MAIL, NULL, "", UINT64_MAX, 0},
    {"MAIL FROM:<@relay.example:a@b>", SMTP_VERB_MAIL, NULL, "a@b", 0, 0},
    {"RCPT TO:<user@example.com>", SMTP_VERB_RCPT, NULL, "user@example.com", 0, 0},
    {"RCPT TO: <\"john doe\"@example.com>", SMTP_VERB_RCPT, NULL, "\"john doe\"@example.com", 0, 0},
    {"rcpt to:<Postmaster>", SMTP_VERB_RCPT, NULL, "Postmaster", 0, 0},
    {"DATA", SMTP_VERB_DATA, NULL, NULL, 0, 0},
    {"data ", SMTP_VERB_DATA, NULL, NULL, 0, 0},
    {"RSET", SMTP_VERB_RSET, NULL, NULL, 0, 0},
    {"NOOP", SMTP_VERB_NOOP, NULL, NULL, 0, 0},
    {"NOOP anything at all", SMTP_VERB_NOOP, "anything at all", NULL, 0, 0},
    {"QUIT", SMTP_VERB_QUIT, NULL, NULL, 0, 0},
    {"VRFY user", SMTP_VERB_VRFY, "user", NULL, 0, 0},
    {"HELP", SMTP_VERB_HELP, NULL, NULL, 0, 0},
    {"HELP mail", SMTP_VERB_HELP, "mail", NULL, 0, 0},
    {"StartTLS", SMTP_VERB_STARTTLS, NULL, NULL, 0, 0},
    {"AUTH PLAIN", SMTP_VERB_AUTH, "PLAIN", NULL, 0, 0},
    {"BDAT 100 LAST", SMTP_VERB_BDAT, "100 LAST", NULL, 0, 0},
    {"EXPN list", SMTP_VERB_EXPN, "list", NULL, 0, 0},
};

static void check_ok(const struct ok_case *tc, const char *line, size_t len)
{
	struct smtp_command cmd;
	struct smtp_reply_error err;

	if (smtp_command_parse(line, len, &cmd, &err) < 0)
		fail_msg("<%s>: %u %s %s", tc->line, err.code, err.enhanced, err.text);
	assert_int_equal(cmd.verb, tc->verb);
	if (tc->arg == NULL)
		assert_null(cmd.arg);
	else
		assert_string_equal(cmd.arg, tc->arg);
	if (tc->path == NULL) {
		assert_null(cmd.path.local);
	} else {
		char *n = address_normalize(&cmd.path);
		assert_string_equal(n, tc->path);
		free(n);
	}
	assert_true(cmd.size == tc->size);
	assert_int_equal(cmd.body, tc->body);
	smtp_command_clear(&cmd);
	assert_null(cmd.arg);
}

static void test_ok_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(ok_cases); i++) {
		const char *line = ok_cases[i].line;
		/* without a NUL after it, to catch reads past the end */
		size_t len = strlen(line);
		char *copy = malloc(len > 0 ? len : 1);

		memcpy(copy, line, len);
		check_ok(&ok_cases[i], copy, len);
		free(copy);
	}
}

#define SIZE1 " SIZE=1"

struct err_case {
	const char *line;
	unsigned code;
	const char *enhanced;
};

static const struct err_case err_cases[] = {
    {"", 500, "5.5.2"},
    {"   ", 500, "5.5.2"},
    {"FOO", 500, "5.5.2"},
    {"MAILFROM:<a@b>", 500, "5.5.2"},
    {"EHLOx", 500, "5.5.2"},
    {"MAIL\x01 FROM:<a@b>", 500, "5.5.1"},
    {"NOOP \x7f", 500, "5.5.1"},
    {"EHLO", 501, "5.5.4"},
    {"HELO ", 501, "5.5.4"},
    {"EHLO a b", 501, "5.5.4"},
    {"EHLO caf\xc3\xa9", 501, "5.5.4"},
    {"DATA x", 501, "5.5.4"},
    {"QUIT now", 501, "5.5.4"},
    {"RSET x", 501, "5.5.4"},
    {"STARTTLS x", 501, "5.5.4"},
    {"VRFY", 501, "5.5.4"},
    {"MAIL", 501, "5.5.4"},
    {"MAIL TO:<a@b>", 501, "5.5.4"},
    {"MAIL FROM <a@b>", 501, "5.5.4"},
    {"RCPT FROM:<a@b>", 501, "5.5.4"},
    {"MAIL FROM:", 501, "5.1.7"},
    {"MAIL FROM:a@b", 501, "5.1.7"},
    {"MAIL FROM:<a@b", 501, "5.1.7"},
    {"MAIL FROM:<a@b>x", 501, "5.1.7"},
    {"MAIL FROM:<a b@c>", 501, "5.1.7"},
    {"MAIL FROM:<Postmaster>", 501, "5.1.7"},
    {"RCPT TO:<>", 501, "5.1.3"},
    {"RCPT TO:<a@-b>", 501, "5.1.3"},
    {"RCPT TO:a@b", 501, "5.1.3"},
    {"MAIL FROM:<a@b> SIZE=", 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=12x", 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE", 501, "5.5.4"},
    {"MAIL FROM:<a@b> BODY=BINARY", 501, "5.5.4"},
    {"MAIL FROM:<a@b> BODY=7BIT BODY=7BIT", 501, "5.5.4"},
    {"MAIL FROM:<a@b> =x", 501, "5.5.4"},
    {"MAIL FROM:<a@b> -A=x", 501, "5.5.4"},
    {"MAIL FROM:<a@b> A=x=y", 501, "5.5.4"},
    {"MAIL FROM:<a@b> SMTPUTF8=yes", 501, "5.5.4"},
    {"MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8", 501, "5.5.4"},
    {"MAIL FROM:<a@b> REQUIRETLS=1", 501, "5.5.4"},
    {"MAIL FROM:<a@b> RET=ALL", 501, "5.5.4"},
    {"MAIL FROM:<a@b> RET", 501, "5.5.4"},
    {"MAIL FROM:<a@b> RET=FULL RET=HDRS", 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID", 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=a+2", 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=a+2b", 501, "5.5.4"}, /* xtext hex is upper case */
    {"MAIL FROM:<a@b> ENVID=a ENVID=b", 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=\xc3\xa9", 501, "5.5.4"},
    {"MAIL FROM:<a@b> "
     "ENVID="
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxx",
     501, "5.5.4"}, /* 101 characters */
    {"MAIL FROM:<a@b> NOTIFY=NEVER", 555, "5.5.4"},
    {"MAIL FROM:<a@b> X-FOO=\xff", 501, "5.5.4"}, /* not UTF-8 */
    {"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=SUCCESS,SUCCESS", 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=SUCCESS,", 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=", 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=SOMETIMES", 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=DELAY NOTIFY=DELAY", 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=a@b", 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=x400;a@b", 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;", 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;\xc3\xa9@b", 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;a@b ORCPT=rfc822;a@b", 501, "5.5.4"},
    {"RCPT TO:<a@b> RET=FULL", 555, "5.5.4"},
    {"RCPT TO:<a@b> SIZE=10", 555, "5.5.4"},
    {"RCPT TO:<a@b> AUTH=<>", 555, "5.5.4"}, /* RFC 4954 section 5: a MAIL parameter */
    {"MAIL FROM:<a@b>" SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1 SIZE1
         SIZE1 SIZE1 SIZE1 SIZE1,
     501, "5.5.4"},
};

static void test_err_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(err_cases); i++) {
		const struct err_case *tc = &err_cases[i];
		struct smtp_command cmd;
		struct smtp_reply_error err = {0, NULL, NULL};
		int ret = smtp_command_parse(tc->line, strlen(tc->line), &cmd, &err);

		if (ret != -1)
			fail_msg("case %zu <%s> should fail", i, tc->line);
		if (err.code != tc->code || strcmp(err.enhanced, tc->enhanced) != 0)
			fail_msg("case %zu <%s>: got %u %s %s", i, tc->line, err.code, err.enhanced,
			         err.text);
		assert_non_null(err.text);
		assert_null(cmd.arg);
		assert_null(cmd.path.local);
	}
}

/* The extension parameters land in their fields. */
static void test_xtext_decode(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"QQ+2B314", "QQ+314"}, {"a+3Db+2B", "a=b+"},           {"plain", "plain"},
	    {"+41+42", "AB"},       {"\xc3\xa9+20x", "\xc3\xa9 x"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = smtp_xtext_decode(cases[i].in, strlen(cases[i].in));

		assert_true(smtp_xtext_valid(cases[i].in, strlen(cases[i].in), true));
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_ext_params(void **state)
{
	struct smtp_command cmd;
	struct smtp_reply_error err;
	const char *mail = "MAIL FROM:<a@b> BODY=BINARYMIME SMTPUTF8 REQUIRETLS RET=HDRS "
	                   "ENVID=QQ+2B314 AUTH=<>";
	const char *rcpt = "RCPT TO:<\xc3\xa9@b> NOTIFY=failure,Delay "
	                   "ORCPT=utf-8;\xc3\xa9@b+2Bx";

	assert_int_equal(smtp_command_parse(mail, strlen(mail), &cmd, &err), 0);
	assert_int_equal(cmd.body, SMTP_BODY_BINARYMIME);
	assert_true(cmd.smtputf8);
	assert_true(cmd.requiretls);
	assert_int_equal(cmd.ret, SMTP_DSN_RET_HDRS);
	assert_string_equal(cmd.envid, "QQ+2B314");
	smtp_command_clear(&cmd);
	assert_null(cmd.envid);

	assert_int_equal(smtp_command_parse(rcpt, strlen(rcpt), &cmd, &err), 0);
	assert_int_equal(cmd.rcpt.notify, SMTP_DSN_NOTIFY_FAILURE | SMTP_DSN_NOTIFY_DELAY);
	assert_string_equal(cmd.rcpt.orcpt, "utf-8;\xc3\xa9@b+2Bx");
	assert_string_equal(cmd.path.local, "\xc3\xa9");
	smtp_command_clear(&cmd);

	rcpt = "RCPT TO:<a@b> NOTIFY=NEVER ORCPT=RFC822;a+2Bb@c";
	assert_int_equal(smtp_command_parse(rcpt, strlen(rcpt), &cmd, &err), 0);
	assert_int_equal(cmd.rcpt.notify, SMTP_DSN_NOTIFY_NEVER);
	assert_string_equal(cmd.rcpt.orcpt, "RFC822;a+2Bb@c");
	smtp_command_clear(&cmd);

	/* nothing given: all unset */
	assert_int_equal(smtp_command_parse("MAIL FROM:<a@b>", 15, &cmd, &err), 0);
	assert_int_equal(cmd.body, SMTP_BODY_UNSET);
	assert_false(cmd.smtputf8 || cmd.requiretls);
	assert_int_equal(cmd.ret, SMTP_DSN_RET_UNSET);
	assert_null(cmd.envid);
	smtp_command_clear(&cmd);
}

static void test_xtext(void **state)
{
	assert_true(smtp_xtext_valid("abc", 3, false));
	assert_true(smtp_xtext_valid("a+2B+3Db", 8, false));
	assert_true(smtp_xtext_valid("!~", 2, false));
	assert_false(smtp_xtext_valid("", 0, false));
	assert_false(smtp_xtext_valid("a=b", 3, false));
	assert_false(smtp_xtext_valid("a b", 3, false));
	assert_false(smtp_xtext_valid("a+", 2, false));
	assert_false(smtp_xtext_valid("a+2", 3, false));
	assert_false(smtp_xtext_valid("a+2g", 4, false));
	assert_false(smtp_xtext_valid("\xc3\xa9", 2, false));
	assert_true(smtp_xtext_valid("\xc3\xa9", 2, true));
	assert_false(smtp_xtext_valid("\xc3", 1, true));
	assert_false(smtp_xtext_valid("\xc0\xaf", 2, true)); /* overlong */
}

static void test_nul_byte(void **state)
{
	struct smtp_command cmd;
	struct smtp_reply_error err;

	assert_int_equal(smtp_command_parse("NOOP\0x", 6, &cmd, &err), -1);
	assert_int_equal(err.code, 500);
	assert_int_equal(smtp_command_parse("RCPT TO:<a\0@b>", 14, &cmd, &err), -1);
}

/* Every prefix of every valid line parses or fails cleanly (no crash, no
   leak under ASan). */
static void test_prefixes(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(ok_cases); i++) {
		const char *line = ok_cases[i].line;

		for (size_t n = 0; n <= strlen(line); n++) {
			struct smtp_command cmd;
			struct smtp_reply_error err;
			char *copy = malloc(n + 1);

			memcpy(copy, line, n);
			if (smtp_command_parse(copy, n, &cmd, &err) == 0)
				smtp_command_clear(&cmd);
			free(copy);
		}
	}
}

static void test_verb_names(void **state)
{
	assert_string_equal(smtp_verb_name(SMTP_VERB_MAIL), "MAIL");
	assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_verb_name(SMTP_VERB_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_table),     cmocka_unit_test(test_err_table),
	    cmocka_unit_test(test_nul_byte),     cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_verb_names),   cmocka_unit_test(test_ext_params),
	    cmocka_unit_test(test_xtext_decode), cmocka_unit_test(test_xtext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
