/* Unit tests for src/imap/imap-parser.c: every input is fed whole, one byte
   at a time and in random chunks, and must give the same transcript. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-parser.h"
#include "lib/buf.h"

static const struct imap_parser_limits test_limits = {
    .max_line = 200,
    .max_literal = 100,
    .max_literals = 150,
    .max_args = 20,
    .max_depth = 4,
};

static void render_arg(struct buf *out, const struct imap_arg *arg)
{
	switch (arg->type) {
	case IMAP_ARG_ATOM:
		buf_printf(out, "A:%s", arg->str);
		break;
	case IMAP_ARG_NIL:
		buf_append_str(out, "NIL");
		break;
	case IMAP_ARG_STRING:
		buf_printf(out, "S:<%s>", arg->str);
		break;
	case IMAP_ARG_LITERAL:
		if (arg->streamed) {
			buf_printf(out, "L%zu:streamed", arg->len);
			break;
		}
		buf_printf(out, "%sL%zu:<", arg->literal8 ? "~" : "", arg->len);
		/* A NUL of a literal8 is shown as "\0". */
		for (size_t i = 0; i < arg->len; i++) {
			if (arg->str[i] == '\0')
				buf_append_str(out, "\\0");
			else
				buf_append_char(out, arg->str[i]);
		}
		buf_append_char(out, '>');
		break;
	case IMAP_ARG_LIST:
		buf_append_char(out, '(');
		for (size_t i = 0; i < arg->count; i++) {
			if (i > 0)
				buf_append_char(out, ' ');
			render_arg(out, &arg->list[i]);
		}
		buf_append_char(out, ')');
		break;
	}
}

static void render_event(struct imap_parser *p, enum imap_parse_result r, struct buf *out)
{
	const struct imap_command *cmd;
	const char *tag, *error;

	switch (r) {
	case IMAP_PARSE_NEED_MORE:
		break;
	case IMAP_PARSE_COMMAND:
		cmd = imap_parser_command(p);
		buf_printf(out, "[%s %s", cmd->tag, cmd->name);
		for (size_t i = 0; i < cmd->count; i++) {
			buf_append_char(out, ' ');
			render_arg(out, &cmd->args[i]);
		}
		buf_append_str(out, "]");
		break;
	case IMAP_PARSE_CONTINUE:
		buf_printf(out, "[+%llu]", (unsigned long long)imap_parser_literal_size(p));
		break;
	case IMAP_PARSE_ERROR:
		error = imap_parser_error(p, &tag);
		buf_printf(out, "[ERR %s %s]", tag == NULL ? "*" : tag, error);
		break;
	}
}

/* Feed input in chunks of chunk bytes (0: random sizes) and return the
   transcript (malloc'ed). */
static char *run(const char *input, size_t len, size_t chunk)
{
	struct imap_parser *p = imap_parser_new(&test_limits);
	struct buf out = BUF_INIT;
	size_t pos = 0;

	while (pos < len) {
		size_t n = chunk != 0 ? chunk : (size_t)(rand() % 7) + 1;
		size_t consumed;
		enum imap_parse_result r;

		if (n > len - pos)
			n = len - pos;
		/* Consume the whole chunk, event by event. */
		do {
			r = imap_parser_feed(p, input + pos, n, &consumed);
			assert_true(consumed <= n);
			pos += consumed;
			n -= consumed;
			render_event(p, r, &out);
		} while (n > 0);
	}
	imap_parser_free(&p);
	assert_null(p);
	return buf_steal(&out);
}

/* check() for input of len bytes, which may hold NULs. */
static void check_len(const char *input, size_t len, const char *expected)
{
	char *whole = run(input, len, len);
	char *bytes = run(input, len, 1);

	if (strcmp(whole, expected) != 0)
		fail_msg("input %s\n got      %s\n expected %s", input, whole, expected);
	assert_string_equal(bytes, expected);
	for (int i = 0; i < 20; i++) {
		char *random = run(input, len, 0);
		assert_string_equal(random, expected);
		free(random);
	}
	free(whole);
	free(bytes);
}

static void check(const char *input, const char *expected)
{
	check_len(input, strlen(input), expected);
}

static void test_simple(void **state)
{
	check("a1 NOOP\r\n", "[a1 NOOP]");
	check("a1 noop\r\nb CAPABILITY\r\n", "[a1 NOOP][b CAPABILITY]");
	check("\r\na1 NOOP\n", "[a1 NOOP]");
	check("x LOGIN user pass\r\n", "[x LOGIN A:user A:pass]");
	check("x LOGIN user pass \r\n", "[x LOGIN A:user A:pass]");
	check("t] SELECT INBOX\r\n", "[t] SELECT A:INBOX]");
}

static void test_tokens(void **state)
{
	check("a SELECT \"Sent Items\"\r\n", "[a SELECT S:<Sent Items>]");
	check("a LOGIN \"q\\\"x\\\\\" \"\"\r\n", "[a LOGIN S:<q\"x\\> S:<>]");
	check("a X NIL nil \"NIL\"\r\n", "[a X NIL NIL S:<NIL>]");
	check("a STORE 1:*,4,7:5 +FLAGS.SILENT (\\Seen \\Deleted)\r\n",
	      "[a STORE A:1:*,4,7:5 A:+FLAGS.SILENT (A:\\Seen A:\\Deleted)]");
	check("a LIST \"\" %/*\r\n", "[a LIST S:<> A:%/*]");
	check("a X (a (b (c)) ()) d\r\n", "[a X (A:a (A:b (A:c)) ()) A:d]");
	check("a X \"caf\xc3\xa9\"\r\n", "[a X S:<caf\xc3\xa9>]");
}

static void test_fetch_atoms(void **state)
{
	check("a FETCH 1 (BODY[HEADER.FIELDS (FROM TO)]<0.100> FLAGS)\r\n",
	      "[a FETCH A:1 (A:BODY[HEADER.FIELDS (FROM TO)]<0.100> A:FLAGS)]");
	check("a FETCH 1:2 BODY.PEEK[1.2.MIME]\r\n", "[a FETCH A:1:2 A:BODY.PEEK[1.2.MIME]]");
	check("a FETCH 1 BODY[]\r\n", "[a FETCH A:1 A:BODY[]]");
	check("a FETCH 1 (BODY[HEADER.FIELDS (\"X Y\" \"a]b\")])\r\n",
	      "[a FETCH A:1 (A:BODY[HEADER.FIELDS (\"X Y\" \"a]b\")])]");
	check("a FETCH 1 BODY[TEXT\r\nb NOOP\r\n", "[ERR a Missing ']'][b NOOP]");
}

static void test_literals(void **state)
{
	check("a LOGIN {4}\r\nuser {3}\r\np\"w\r\n", "[+4][+3][a LOGIN L4:<user> L3:<p\"w>]");
	check("a LOGIN {4+}\r\nuser {3+}\r\np\nw\r\n", "[a LOGIN L4:<user> L3:<p\nw>]");
	check("a X ({0}\r\n)\r\n", "[+0][a X (L0:<>)]");
	check("a X {2}\nab\n", "[+2][a X L2:<ab>]");
}

static void test_literal_limits(void **state)
{
	/* Synchronising: refused before the continuation, the line is over. */
	check("a APPEND x {101}\r\nb NOOP\r\n", "[ERR a Literal too large][b NOOP]");
	/* Non-synchronising: the bytes are skipped. */
	check("a APPEND x {101+}\r\n"
	      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	      "b NOOP\r\nbbbbbbbbbbbbbbb X\r\nc NOOP\r\n",
	      "[ERR a Literal too large][c NOOP]");
	/* Total of literals in one command. */
	check(
	    "a X {100+}\r\n"
	    "01234567890123456789012345678901234567890123456789012345678901234567890123456789012345"
	    "67890123456789"
	    " {60+}\r\n012345678901234567890123456789012345678901234567890123456789\r\nb NOOP\r\n",
	    "[ERR a Literal too large][b NOOP]");
	check("a X {99999999999999999999}\r\nb NOOP\r\n", "[ERR a Literal too large][b NOOP]");
}

static void test_errors(void **state)
{
	check("a\r\nb NOOP\r\n", "[ERR * Invalid tag][b NOOP]");
	check("a \r\nb NOOP\r\n", "[ERR a Missing command name][b NOOP]");
	check("+ NOOP\r\nb NOOP\r\n", "[ERR * Invalid tag][b NOOP]");
	check("a X (b\r\nc NOOP\r\n", "[ERR a Missing ')'][c NOOP]");
	check("a X b)\r\nc NOOP\r\n", "[ERR a Unexpected ')'][c NOOP]");
	check("a X \"b\r\nc NOOP\r\n", "[ERR a Invalid character in quoted string][c NOOP]");
	check("a X \"\\b\"\r\nc NOOP\r\n", "[ERR a Invalid escape in quoted string][c NOOP]");
	check("a X \"b\"c\r\nd NOOP\r\n", "[ERR a Missing space between arguments][d NOOP]");
	check("a X  b\r\nd NOOP\r\n", "[ERR a Invalid argument][d NOOP]");
	check("a X {x}\r\nd NOOP\r\n", "[ERR a Invalid literal size][d NOOP]");
	check("a X {3}x\r\nd NOOP\r\n", "[ERR a Literal size not followed by CRLF][d NOOP]");
	check("a X b\rc\r\nd NOOP\r\n", "[ERR a CR not followed by LF][d NOOP]");
	check("a X ((((((b))))))\r\nd NOOP\r\n", "[ERR a Lists nested too deeply][d NOOP]");
	check("a X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\r\nd NOOP\r\n",
	      "[ERR a Too many arguments][d NOOP]");
	check("a X a\x01\r\nd NOOP\r\n", "[ERR a Invalid character in atom][d NOOP]");
}

static void test_resync(void **state)
{
	/* A non-synchronising literal on a bad line is skipped, CRLFs and
	   all; a synchronising one ends the line. */
	check("a X \"\\b\" {5+}\r\n\r\nb\r\n Y\r\nc NOOP\r\n",
	      "[ERR a Invalid escape in quoted string][c NOOP]");
	check("a X \"\\b\" {5}\r\nc NOOP\r\n", "[ERR a Invalid escape in quoted string][c NOOP]");
	check("a X ) {5+}\r\n12345 {2+}\r\n\r\n\r\nc NOOP\r\n", "[ERR a Unexpected ')'][c NOOP]");
}

static void test_line_limit(void **state)
{
	struct buf in = BUF_INIT;
	char *out;

	buf_append_str(&in, "a X ");
	for (int i = 0; i < 300; i++)
		buf_append_char(&in, 'x');
	/* Literal bytes do not count towards the line length. */
	buf_append_str(&in, "\r\nb X {90+}\r\n");
	for (int i = 0; i < 90; i++)
		buf_append_char(&in, 'y');
	buf_append_str(&in, " {90+}\r\n");
	for (int i = 0; i < 40; i++)
		buf_append_char(&in, 'z');
	buf_append_str(&in, "\r\n");
	out = run(in.data, in.len, 1);
	assert_string_equal(out, "[ERR a Line too long][ERR b Literal too large]");
	free(out);
	buf_free(&in);
}

struct sink_state {
	struct buf data;
	int opened, closed;
};

static bool sink_open(void *ctx, const struct imap_command *partial, uint64_t size)
{
	struct sink_state *s = ctx;

	assert_string_equal(partial->name, "APPEND");
	s->opened++;
	return size > 3;
}

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct sink_state *s = ctx;

	buf_append(&s->data, data, len);
	return 0;
}

static void sink_close(void *ctx)
{
	struct sink_state *s = ctx;

	s->closed++;
}

static void test_sink(void **state)
{
	struct sink_state s = {BUF_INIT, 0, 0};
	struct imap_literal_sink sink = {sink_open, sink_write, sink_close, &s};
	struct imap_parser *p = imap_parser_new(&test_limits);
	const char *in = "a APPEND box {2}\r\nab {250+}\r\n";
	struct buf body = BUF_INIT, out = BUF_INIT;
	size_t pos = 0, consumed;
	enum imap_parse_result r;

	imap_parser_set_sink(p, &sink);
	buf_append_str(&body, in);
	for (int i = 0; i < 250; i++)
		buf_append_char(&body, (char)('a' + i % 26));
	buf_append_str(&body, "\r\n");
	/* The 250-byte literal is over max_literal (100): the sink is
	   not consulted for a literal the limit refuses. */
	while (pos < body.len) {
		r = imap_parser_feed(p, body.data + pos, body.len - pos, &consumed);
		pos += consumed;
		render_event(p, r, &out);
	}
	assert_string_equal(out.data, "[+2][ERR a Literal too large]");
	buf_clear(&out);
	buf_clear(&body);
	buf_append_str(&body, "b APPEND box {50+}\r\n");
	for (int i = 0; i < 50; i++)
		buf_append_char(&body, 'q');
	buf_append_str(&body, "\r\n");
	for (pos = 0; pos < body.len; pos += consumed) {
		r = imap_parser_feed(p, body.data + pos, 1, &consumed);
		render_event(p, r, &out);
	}
	assert_string_equal(out.data, "[b APPEND A:box L50:streamed]");
	assert_int_equal(s.data.len, 50);
	assert_int_equal(s.opened, 2);
	assert_int_equal(s.closed, 1);
	imap_parser_free(&p);
	buf_free(&out);
	buf_free(&body);
	buf_free(&s.data);
}

static void test_arg_helpers(void **state)
{
	struct imap_parser *p = imap_parser_new(&test_limits);
	const char *in = "a X 42 abc \"s\" NIL (x) 99999999999999999999 {1+}\r\nL\r\n";
	const struct imap_command *cmd;
	size_t consumed;
	uint64_t n;

	assert_int_equal(imap_parser_feed(p, in, strlen(in), &consumed), IMAP_PARSE_COMMAND);
	assert_true(imap_parser_idle(p));
	cmd = imap_parser_command(p);
	assert_int_equal(cmd->count, 7);
	assert_int_equal(imap_arg_number(&cmd->args[0], &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(imap_arg_number(&cmd->args[1], &n), -1);
	assert_int_equal(imap_arg_number(&cmd->args[5], &n), -1);
	assert_string_equal(imap_arg_astring(&cmd->args[2]), "s");
	assert_null(imap_arg_atom(&cmd->args[2]));
	assert_string_equal(imap_arg_atom(&cmd->args[3]), "NIL");
	assert_null(imap_arg_astring(&cmd->args[4]));
	assert_string_equal(imap_arg_astring(&cmd->args[6]), "L");
	imap_parser_free(&p);
	imap_parser_free(&p);
}

/* The kind of the first error of input, fed whole. */
static enum imap_parse_error first_error_kind(const char *input)
{
	struct imap_parser *p = imap_parser_new(&test_limits);
	size_t pos = 0, len = strlen(input), consumed;
	enum imap_parse_error kind = (enum imap_parse_error) - 1;

	while (pos < len) {
		enum imap_parse_result r = imap_parser_feed(p, input + pos, len - pos, &consumed);

		pos += consumed;
		if (r == IMAP_PARSE_ERROR) {
			kind = imap_parser_error_kind(p);
			break;
		}
	}
	imap_parser_free(&p);
	return kind;
}

static void test_error_kinds(void **state)
{
	(void)state;
	assert_int_equal(first_error_kind("a APPEND x {101}\r\n"), IMAP_PARSE_ERR_LITERAL_TOO_BIG);
	assert_int_equal(first_error_kind("a X {99999999999999999999}\r\n"),
	                 IMAP_PARSE_ERR_LITERAL_TOO_BIG);
	assert_int_equal(first_error_kind("a NOOP)\r\n"), IMAP_PARSE_ERR_SYNTAX);
	assert_int_equal(first_error_kind("a X {1x}\r\n"), IMAP_PARSE_ERR_SYNTAX);
	{
		char line[300];

		memset(line, 'x', sizeof(line) - 1);
		memcpy(line, "a NOOP ", 7);
		line[sizeof(line) - 1] = '\0';
		assert_int_equal(first_error_kind(line), IMAP_PARSE_ERR_LINE_TOO_LONG);
	}
}

/* '[' is an atom char except after a fetch-att name of FETCH / UID FETCH
   (RFC 3501 ATOM-CHAR excludes only resp-specials ']'... and '[' is fine). */
static void test_bracket_atoms(void **state)
{
	(void)state;
	check("a SELECT a[b\r\n", "[a SELECT A:a[b]");
	check("a LIST \"\" a[b%\r\n", "[a LIST S:<> A:a[b%]");
	check("a CREATE x[1]\r\n", "[a CREATE A:x[1]]");
	check("a CREATE x[\r\nb NOOP\r\n", "[a CREATE A:x[][b NOOP]");
	check("a RENAME [a [b\r\n", "[a RENAME A:[a A:[b]");
	check("a STATUS a[b (MESSAGES)\r\n", "[a STATUS A:a[b (A:MESSAGES)]");
	/* Not a section outside FETCH, even after BODY. */
	check("a SELECT BODY[x\r\n", "[a SELECT A:BODY[x]");
	/* Sections in FETCH and UID FETCH keep their spaces. */
	check("a UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (A B)])\r\n",
	      "[a UID A:FETCH A:1 (A:BODY.PEEK[HEADER.FIELDS (A B)])]");
	check("a fetch 1 binary.size[1 ]\r\n", "[a FETCH A:1 A:binary.size[1 ]]");
	check("a UID FETCH 1 BINARY[1\r\nb NOOP\r\n", "[ERR a Missing ']'][b NOOP]");
	/* In FETCH, an atom that is not a fetch-att name takes '[' plainly. */
	check("a FETCH 1 X[a\r\n", "[a FETCH A:1 A:X[a]");
}

/* A quoted string inside a section: a backslash escapes the next byte, so
   "x\\" ends after the second backslash. */
static void test_section_quoted(void **state)
{
	(void)state;
	check("a FETCH 1 BODY[HEADER.FIELDS (\"x\\\\\")]\r\n",
	      "[a FETCH A:1 A:BODY[HEADER.FIELDS (\"x\\\\\")]]");
	check("a FETCH 1 (BODY[HEADER.FIELDS (\"a\\\\\" \"b\\\"]\")] FLAGS)\r\n",
	      "[a FETCH A:1 (A:BODY[HEADER.FIELDS (\"a\\\\\" \"b\\\"]\")] A:FLAGS)]");
	check("a FETCH 1 BODY[HEADER.FIELDS (\"\\\\\" Y)]<0.5>\r\n",
	      "[a FETCH A:1 A:BODY[HEADER.FIELDS (\"\\\\\" Y)]<0.5>]");
	check("a FETCH 1 BODY[HEADER.FIELDS (\"\\x\")]\r\nb NOOP\r\n",
	      "[ERR a Invalid escape in quoted string][b NOOP]");
	check("a FETCH 1 BODY[HEADER.FIELDS (\"x\\\r\nb NOOP\r\n",
	      "[ERR a Invalid escape in quoted string][b NOOP]");
	check("a FETCH 1 BODY[HEADER.FIELDS (\"x\r\nb NOOP\r\n", "[ERR a Missing '\"'][b NOOP]");
}

/* literal8 (RFC 3516 4.3): "~{n}" and "~{n+}", NULs kept; '~' otherwise
   starts an atom. */
static void test_literal8(void **state)
{
	static const char nul_input[] = "a APPEND x ~{5+}\r\na\0b\0c\r\n";

	(void)state;
	check("a APPEND x ~{3}\r\nabc\r\n", "[+3][a APPEND A:x ~L3:<abc>]");
	check("a APPEND x (\\Seen) ~{2+}\r\nab\r\n", "[a APPEND A:x (A:\\Seen) ~L2:<ab>]");
	check_len(nul_input, sizeof(nul_input) - 1, "[a APPEND A:x ~L5:<a\\0b\\0c>]");
	check("a X ~a ~ (~{1+}\r\nz)\r\n", "[a X A:~a A:~ (~L1:<z>)]");
	check("a X ~{101+}\r\n"
	      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	      "bbbbbbbbbbbbbbbbbbbbb\r\nc NOOP\r\n",
	      "[ERR a Literal too large][c NOOP]");
	check("a X ~{x}\r\nb NOOP\r\n", "[ERR a Invalid literal size][b NOOP]");
	/* A literal8 on a bad line is skipped like a literal. */
	check("a X ) ~{3+}\r\n\r\n\r\nc NOOP\r\n", "[ERR a Unexpected ')'][c NOOP]");
}

static void test_literal8_astring(void **state)
{
	struct imap_parser *p = imap_parser_new(&test_limits);
	const char *in = "a LOGIN ~{1+}\r\nu {1+}\r\np\r\n";
	size_t consumed;
	const struct imap_command *cmd;

	(void)state;
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &consumed), IMAP_PARSE_COMMAND);
	cmd = imap_parser_command(p);
	assert_int_equal(cmd->count, 2);
	assert_true(cmd->args[0].literal8);
	assert_null(imap_arg_astring(&cmd->args[0]));
	assert_false(cmd->args[1].literal8);
	assert_string_equal(imap_arg_astring(&cmd->args[1]), "p");
	imap_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_kinds),      cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_tokens),           cmocka_unit_test(test_fetch_atoms),
	    cmocka_unit_test(test_literals),         cmocka_unit_test(test_literal_limits),
	    cmocka_unit_test(test_errors),           cmocka_unit_test(test_resync),
	    cmocka_unit_test(test_line_limit),       cmocka_unit_test(test_sink),
	    cmocka_unit_test(test_arg_helpers),      cmocka_unit_test(test_bracket_atoms),
	    cmocka_unit_test(test_section_quoted),   cmocka_unit_test(test_literal8),
	    cmocka_unit_test(test_literal8_astring),
	};

	srand(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
