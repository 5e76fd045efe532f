/* Unit tests for src/managesieve/managesieve-parser.c: every input fed
   whole and one byte at a time gives the same events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "managesieve/managesieve-parser.h"

struct sinkbuf {
	struct buf b;
	bool refuse;
};

static int sink(void *ctx, const void *data, size_t len)
{
	struct sinkbuf *s = ctx;

	if (s->refuse)
		return -1;
	buf_append(&s->b, data, len);
	return 0;
}

/* The events of input as text: per command its tokens, "a:" atom, "s:"
   string, "l:" literal, "S<n>:" streamed (then the sink's bytes), joined
   by "|" and ended by ";"; "!<kind>;" per error. Fed in pieces of step
   bytes (0: all at once). stream_min 0: no sink. */
static char *events(const char *input, size_t len, size_t step, uint64_t max_literal,
                    uint64_t stream_min)
{
	struct msieve_parser *p = msieve_parser_new(64, max_literal);
	struct sinkbuf sb = {BUF_INIT, false};
	struct buf out = BUF_INIT;
	size_t pos = 0, guard = 0;

	if (stream_min > 0)
		msieve_parser_set_sink(p, stream_min, sink, &sb);
	while (pos < len && guard++ < 100000) {
		size_t n = step == 0 || len - pos < step ? len - pos : step, consumed;
		enum msieve_parse_result r = msieve_parser_feed(p, input + pos, n, &consumed);
		const char *text;

		assert_true(consumed <= n);
		assert_true(consumed > 0 || n == 0);
		pos += consumed;
		if (r == MSIEVE_PARSE_COMMAND) {
			const struct msieve_command *cmd = msieve_parser_command(p);

			for (size_t i = 0; i < cmd->count; i++) {
				const struct msieve_token *t = &cmd->tokens[i];

				if (i > 0)
					buf_append_char(&out, '|');
				if (t->streamed) {
					buf_printf(&out, "S%zu:", t->len);
					buf_append(&out, sb.b.data, sb.b.len);
					buf_clear(&sb.b);
				} else {
					buf_append_str(&out, t->type == MSIEVE_ATOM ? "a:"
					                     : t->literal           ? "l:"
					                                            : "s:");
					buf_append(&out, t->data, t->len);
				}
			}
			buf_append_char(&out, ';');
		} else if (r == MSIEVE_PARSE_ERROR)
			buf_printf(&out, "!%d;", (int)msieve_parser_error(p, &text));
	}
	msieve_parser_free(&p);
	buf_free(&sb.b);
	buf_append_char(&out, '\0');
	return buf_steal(&out);
}

static void check(const char *input, const char *want, uint64_t max_literal, uint64_t stream_min)
{
	size_t len = strlen(input);

	for (size_t step = 0; step <= 3; step++) {
		char *got = events(input, len, step, max_literal, stream_min);

		assert_string_equal(got, want);
		free(got);
	}
}

static void test_tokens(void **state)
{
	(void)state;
	check("CAPABILITY\r\n", "a:CAPABILITY;", 100, 0);
	check("noop\n\r\n", "a:noop;;", 100, 0);
	check("AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHB3\"\r\n",
	      "a:AUTHENTICATE|s:PLAIN|s:AGFsaWNlAHB3;", 100, 0);
	check("X \"a\\\"b\\\\c\"  \"\"\r\n", "a:X|s:a\"b\\c|s:;", 100, 0);
	check("HAVESPACE \"n\" 123\r\n", "a:HAVESPACE|s:n|a:123;", 100, 0);
}

static void test_literals(void **state)
{
	(void)state;
	check("PUTSCRIPT \"s\" {5+}\r\nkeep;\r\n", "a:PUTSCRIPT|s:s|l:keep;;", 100, 0);
	check("PUTSCRIPT {1}\r\nx {4}\r\na\r\nb\r\nNOOP\r\n", "a:PUTSCRIPT|l:x|l:a\r\nb;a:NOOP;",
	      100, 0);
	check("X {0+}\r\n\r\n", "a:X|l:;", 100, 0);
	/* over the limit: skipped, then the line, then the next command */
	check("PUTSCRIPT \"s\" {11+}\r\nhello world rest\r\nNOOP\r\n", "!2;a:NOOP;", 10, 0);
	/* big literals go to the sink */
	check("P \"n\" {6+}\r\nabcdef \"x\"\r\n", "a:P|s:n|S6:abcdef|s:x;", 100, 4);
	check("P {3+}\r\nabc\r\n", "a:P|l:abc;", 100, 4);
}

static void test_errors(void **state)
{
	(void)state;
	check("X \"abc\r\nNOOP\r\n", "!0;a:NOOP;", 100, 0);
	check("X \"a\\b\"\r\nNOOP\r\n", "!0;a:NOOP;", 100, 0);
	check("X {1a}\r\nNOOP\r\n", "!0;a:NOOP;", 100, 0);
	check("X (y)\r\n", "!0;", 100, 0);
	check("X\rY\r\nNOOP\r\n", "!0;a:NOOP;", 100, 0);
	check("A B C D E F G H I\r\nNOOP\r\n", "!1;a:NOOP;", 100, 0);
	check(
	    "X \"0123456789012345678901234567890123456789012345678901234567890123456789\"\r\nN\r\n",
	    "!1;a:N;", 100, 0);
	check("X {99999999999999999999999}\r\nN\r\n", "!2;a:N;", 100, 0);
}

static void test_sink_refuses(void **state)
{
	struct msieve_parser *p = msieve_parser_new(64, 100);
	struct sinkbuf sb = {BUF_INIT, true};
	const char *in = "P {5+}\r\nabcde\r\nN\r\n", *text;
	size_t consumed;

	(void)state;
	msieve_parser_set_sink(p, 1, sink, &sb);
	assert_int_equal(msieve_parser_feed(p, in, strlen(in), &consumed), MSIEVE_PARSE_ERROR);
	assert_int_equal(msieve_parser_error(p, &text), MSIEVE_ERR_SINK);
	assert_int_equal(consumed, 15);
	assert_int_equal(msieve_parser_feed(p, in + 15, 3, &consumed), MSIEVE_PARSE_COMMAND);
	assert_true(msieve_token_is(&msieve_parser_command(p)->tokens[0], "n"));
	msieve_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_sink_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
