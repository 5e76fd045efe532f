/* Unit tests for src/pop3/pop3-parser.c: every input fed whole and one
   byte at a time gives the same events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "pop3/pop3-parser.h"

/* The events of input as text: "name|arg|arg;" per command, "!error;" per
   error, fed in pieces of step bytes (0: all at once). */
static char *events(size_t max_line, const char *input, size_t len, size_t step)
{
	struct pop3_parser *p = pop3_parser_new(max_line);
	struct buf out = BUF_INIT;
	size_t pos = 0, guard = 0;

	while (pos < len && guard++ < 100000) {
		size_t n = step == 0 || len - pos < step ? len - pos : step, consumed;
		enum pop3_parse_result r = pop3_parser_feed(p, input + pos, n, &consumed);

		assert_true(consumed > 0 && consumed <= n);
		pos += consumed;
		if (r == POP3_PARSE_COMMAND) {
			const struct pop3_command *cmd = pop3_parser_command(p);

			buf_append_str(&out, cmd->name);
			for (size_t i = 0; i < cmd->count; i++)
				buf_printf(&out, "|%s", cmd->args[i]);
			buf_printf(&out, "<%s>;", cmd->rest);
		} else if (r == POP3_PARSE_ERROR) {
			buf_printf(&out, "!%s;", pop3_parser_error(p));
		}
	}
	pop3_parser_free(&p);
	assert_null(p);
	return buf_steal(&out);
}

static void check(size_t max_line, const char *input, size_t len, const char *want)
{
	for (size_t step = 0; step <= 3; step++) {
		char *got = events(max_line, input, len, step);

		assert_string_equal(got, want);
		free(got);
	}
}

#define CHECK(max, in, want) check(max, in, sizeof(in) - 1, want)

static void test_commands(void **state)
{
	CHECK(255, "user alice\r\n", "USER|alice<alice>;");
	CHECK(255, "StAt\r\nlist 1\n", "STAT<>;LIST|1<1>;");
	/* arguments keep their case; runs of spaces separate them */
	CHECK(255, "TOP  1   10 \r\n", "TOP|1|10<1   10 >;");
	/* PASS takes the rest of the line, spaces and all */
	CHECK(255, "PASS correct horse  battery\r\n",
	      "PASS|correct|horse|battery<correct horse  battery>;");
	CHECK(255, "\r\n", "<>;");
	CHECK(255, "   \r\n", "<>;");
	/* a CR inside a line is data; only the one before LF goes */
	CHECK(255, "NOOP a\rb\r\r\n", "NOOP|a\rb\r<a\rb\r>;");
	CHECK(255, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
	      "AUTH|PLAIN|AGFsaWNlAHNlY3JldA==<PLAIN AGFsaWNlAHNlY3JldA==>;");
}

static void test_limits(void **state)
{
	/* 10 bytes with CR LF fit a limit of 10; 11 do not */
	CHECK(10, "NOOP 123\r\n", "NOOP|123<123>;");
	CHECK(10, "NOOP 1234\r\nSTAT\r\n", "!Line too long.;STAT<>;");
	/* the rest of a long line is skipped, whatever it holds */
	CHECK(8, "XXXXXXXXXXXXXXXXXXX\nQUIT\r\nNOOP\r\n", "!Line too long.;QUIT<>;NOOP<>;");
	CHECK(255, "A 1 2 3 4 5 6 7 8\r\n", "A|1|2|3|4|5|6|7|8<1 2 3 4 5 6 7 8>;");
	CHECK(255, "A 1 2 3 4 5 6 7 8 9\r\nSTAT\r\n", "!Too many arguments.;STAT<>;");
	check(255, "NO\0OP\r\nSTAT\r\n", 13, "!NUL byte in command line.;STAT<>;");
	/* no line end yet: nothing */
	CHECK(255, "STAT", "");
}

static void test_reuse_after_limit_change(void **state)
{
	struct pop3_parser *p = pop3_parser_new(8);
	size_t consumed;

	assert_int_equal(pop3_parser_feed(p, "LIST 12345\r\n", 12, &consumed), POP3_PARSE_ERROR);
	assert_int_equal(consumed, 8);
	assert_int_equal(pop3_parser_feed(p, "345\r\n", 5, &consumed), POP3_PARSE_NEED_MORE);
	pop3_parser_set_max_line(p, 100);
	assert_int_equal(pop3_parser_feed(p, "LIST 12345\r\n", 12, &consumed), POP3_PARSE_COMMAND);
	assert_int_equal(consumed, 12);
	assert_string_equal(pop3_parser_command(p)->args[0], "12345");
	pop3_parser_free(&p);
	pop3_parser_free(&p); /* NULL is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_reuse_after_limit_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
