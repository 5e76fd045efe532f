/* Unit tests for src/sieve/sieve-lexer.c, sieve-parser.c and
   sieve-validate.c: every token type, every prefix and every split of
   scripts, error messages with line and column, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sieve/sieve-lexer.h"
#include "sieve/sieve-private.h"
#include "sieve/sieve.h"

struct tokcase {
	enum sieve_tok type;
	unsigned line, column;
	const char *text;
	uint64_t number;
};

static void lex_expect(const char *src, const struct tokcase *want, size_t n)
{
	struct sieve_lexer lx;
	struct sieve_error err;

	sieve_lexer_init(&lx, src, strlen(src));
	for (size_t i = 0; i < n; i++) {
		struct sieve_token tok;
		assert_int_equal(sieve_lex_next(&lx, &tok, &err), 0);
		assert_int_equal(tok.type, want[i].type);
		assert_int_equal(tok.line, want[i].line);
		assert_int_equal(tok.column, want[i].column);
		if (want[i].text)
			assert_string_equal(tok.text, want[i].text);
		if (tok.type == SIEVE_TOK_NUMBER)
			assert_true(tok.number == want[i].number);
		free(tok.text);
	}
}

static void test_tokens(void **state)
{
	static const char src[] = "if :is [\"a\\\"b\\\\c\\d\", 10K]\n"
	                          "  (2M, 3g) { } ; # comment\n"
	                          "/* multi\nline */ _id9 text: # c\n"
	                          "line1\n..dot\n.\n0";
	static const struct tokcase want[] = {
	    {SIEVE_TOK_IDENT, 1, 1, "if", 0},
	    {SIEVE_TOK_TAG, 1, 4, "is", 0},
	    {SIEVE_TOK_LBRACKET, 1, 8, NULL, 0},
	    {SIEVE_TOK_STRING, 1, 9, "a\"b\\cd", 0},
	    {SIEVE_TOK_COMMA, 1, 20, NULL, 0},
	    {SIEVE_TOK_NUMBER, 1, 22, NULL, 10240},
	    {SIEVE_TOK_RBRACKET, 1, 25, NULL, 0},
	    {SIEVE_TOK_LPAREN, 2, 3, NULL, 0},
	    {SIEVE_TOK_NUMBER, 2, 4, NULL, 2097152},
	    {SIEVE_TOK_COMMA, 2, 6, NULL, 0},
	    {SIEVE_TOK_NUMBER, 2, 8, NULL, 3221225472ull},
	    {SIEVE_TOK_RPAREN, 2, 10, NULL, 0},
	    {SIEVE_TOK_LBRACE, 2, 12, NULL, 0},
	    {SIEVE_TOK_RBRACE, 2, 14, NULL, 0},
	    {SIEVE_TOK_SEMICOLON, 2, 16, NULL, 0},
	    {SIEVE_TOK_IDENT, 4, 9, "_id9", 0},
	    {SIEVE_TOK_STRING, 4, 14, "line1\r\n.dot\r\n", 0},
	    {SIEVE_TOK_NUMBER, 8, 1, NULL, 0},
	    {SIEVE_TOK_EOF, 8, 2, NULL, 0},
	};
	(void)state;
	lex_expect(src, want, sizeof(want) / sizeof(want[0]));
}

static void test_multiline_crlf(void **state)
{
	static const struct tokcase want[] = {
	    {SIEVE_TOK_STRING, 1, 1, "a\r\n\r\nb\r\n", 0},
	    {SIEVE_TOK_SEMICOLON, 6, 1, NULL, 0},
	};
	static const struct tokcase want2[] = {
	    {SIEVE_TOK_IDENT, 1, 1, "text", 0},
	    {SIEVE_TOK_TAG, 1, 5, "x", 0},
	};
	(void)state;
	lex_expect("text:\r\na\r\n\r\nb\r\n.\r\n;", want, 2);
	/* "text:x" is an identifier and a tag, not a multi-line string */
	lex_expect("text:x", want2, 2);
}

struct errcase {
	const char *src;
	unsigned line, column;
	const char *message;
};

static void check_errors(const struct errcase *c, size_t n, const struct sieve_limits *lim)
{
	for (size_t i = 0; i < n; i++) {
		struct sieve_script *s = (struct sieve_script *)1;
		struct sieve_error err;
		if (sieve_compile(c[i].src, strlen(c[i].src), lim, &s, &err) == 0)
			fail_msg("compiled: %s", c[i].src);
		assert_null(s);
		if (err.line != c[i].line || err.column != c[i].column ||
		    strcmp(err.message, c[i].message) != 0)
			fail_msg("%s\nwant %u:%u: %s\ngot  %u:%u: %s", c[i].src, c[i].line,
			         c[i].column, c[i].message, err.line, err.column, err.message);
	}
}

static void test_errors(void **state)
{
	static const struct errcase cases[] = {
	    {"keep", 1, 5, "expected ';' or '{', found end of script"},
	    {"keep;\n  frobnicate;", 2, 3, "unknown command 'frobnicate'"},
	    {"fileinto \"x\";", 1, 1, "command 'fileinto' requires \"fileinto\""},
	    {"require \"fileinto\";\nif header :is \"a\" \"b\" {\n  fileinto :copy \"x\";\n}", 3,
	     12, "tag ':copy' requires \"copy\""},
	    {"require \"nosuch\";", 1, 9, "unknown extension \"nosuch\""},
	    {"keep; require \"fileinto\";", 1, 7, "require must come before other commands"},
	    {"if true { require \"fileinto\"; }", 1, 11, "require must come before other commands"},
	    {"\"abc", 1, 1, "unterminated string"},
	    {"keep; /* open", 1, 7, "unterminated comment"},
	    {"keep;\ntext:\nabc\n", 2, 1, "unterminated multi-line string"},
	    {"keep @", 1, 6, "unexpected character '@'"},
	    {"if size :over 99999999999999999999 { }", 1, 15, "number too large"},
	    {"if size :over 17179869184G { }", 1, 15, "number too large"},
	    {"if size :over 12x { }", 1, 17, "bad character in number"},
	    {"if header :is \"a\" { }", 1, 4, "header needs 2 arguments"},
	    {"if header :is 1 \"a\" { }", 1, 15, "argument 1 of header must be a string list"},
	    {"redirect [\"a\", \"b\"];", 1, 10, "argument 1 of redirect must be a string"},
	    {"if header :nope \"a\" \"b\" { }", 1, 11, "unknown tag ':nope' for header"},
	    {"if header :is \"a\" :is \"b\" { }", 1, 19, "tag ':is' after positional arguments"},
	    {"if header :comparator \"i;foo\" \"a\" \"b\" { }", 1, 23,
	     "unknown comparator 'i;foo'"},
	    {"if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { }", 1, 23,
	     "unknown comparator 'i;ascii-numeric'"},
	    {"if header :comparator { }", 1, 11, "tag ':comparator' needs a string"},
	    {"if true keep;", 1, 9, "unknown test 'keep'"},
	    {"if true;", 1, 1, "if needs a block"},
	    {"keep { }", 1, 1, "keep takes no block"},
	    {"else { }", 1, 1, "else without if"},
	    {"if (true, false) { }", 1, 1, "if needs one test"},
	    {"if allof true { }", 1, 4, "allof needs a test list"},
	    {"if (true) { }", 1, 1, "if needs one test"},
	    {"if size 10 { }", 1, 4, "size needs exactly one of :over and :under"},
	    {"if anyof (true false) { }", 1, 16, "true takes no test"},
	    {"if anyof (true 1) { }", 1, 16, "too many arguments for true"},
	    {"if anyof (true, ) { }", 1, 17, "expected identifier, found ')'"},
	    {"require \"index\"; if header :index 2 \"r\" :is \"c\" {}", 1, 41,
	     "tag ':is' after positional arguments"},
	    {"if header [\"a\" \"b\"] \"c\" { }", 1, 16, "expected string, found string"},
	    {"if header [\"a\", 1] \"c\" { }", 1, 17, "expected string, found number"},
	    {"require \"variables\"; set \"1a\" \"x\";", 1, 26, "bad variable name '1a'"},
	    {"require \"relational\"; if header :value \"xx\" \"a\" \"b\" {}", 1, 40,
	     "unknown relational operator 'xx'"},
	    {"require \"regex\"; if header :regex \"a\" \"(\" {}", 1, 39,
	     "bad regular expression '('"},
	    {"require \"vacation\"; vacation :seconds 5 \"x\";", 1, 39,
	     ":seconds requires \"vacation-seconds\""},
	    {"require \"date\"; if date :zone \"EST\" \"date\" \"year\" \"1\" {}", 1, 31,
	     "bad time zone 'EST' (expected +hhmm)"},
	    {"require \"editheader\"; addheader \"a:b\" \"x\";", 1, 33, "bad header name 'a:b'"},
	    {"require \"encoded-character\"; keep :x;", 1, 35, "unknown tag ':x' for keep"},
	    {"require \"encoded-character\"; redirect \"${unicode:D800}\";", 1, 39,
	     "bad encoded character"},
	    {"}", 1, 1, "expected identifier, found '}'"},
	    {"if true {", 1, 10, "expected '}', found end of script"},
	    {"keep :", 1, 6, "bad tag"},
	    {"keep;\x01", 1, 6, "unexpected character 0x01"},
	};
	(void)state;
	check_errors(cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

static void test_nul(void **state)
{
	static const char src[] = "keep;\n\"a\0b\";";
	struct sieve_script *s;
	struct sieve_error err;

	(void)state;
	assert_int_equal(sieve_compile(src, sizeof(src) - 1, NULL, &s, &err), -1);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 3);
	assert_string_equal(err.message, "NUL byte in script");
	/* an empty script (even without a buffer) compiles to nothing */
	assert_int_equal(sieve_compile(NULL, 0, NULL, &s, &err), 0);
	assert_int_equal(s->ncmds, 0);
	sieve_script_free(&s);
}

static void test_limits(void **state)
{
	struct sieve_limits lim = {.max_script_size = 20, .max_nesting = 3, .max_commands = 100};
	static const struct errcase cases[] = {
	    {"keep; keep; keep; keep;", 1, 1, "script too large (23 bytes, limit 20)"},
	    {"keep;keep;keep;keep;", 0, 0, NULL},
	};
	static const struct errcase nest[] = {
	    {"if true{if true{if true{if true{}}}}", 1, 28, "nesting too deep (limit 3)"},
	    {"if not not not true{}", 1, 16, "nesting too deep (limit 3)"},
	    {"keep;keep;keep;keep;keep;keep;", 1, 26, "too many commands (limit 5)"},
	};
	struct sieve_script *s;
	struct sieve_error err;

	(void)state;
	check_errors(cases, 1, &lim);
	assert_int_equal(sieve_compile(cases[1].src, strlen(cases[1].src), &lim, &s, &err), 0);
	sieve_script_free(&s);
	assert_null(s);
	lim.max_script_size = 0;
	check_errors(nest, 2, &lim);
	lim.max_commands = 5;
	check_errors(nest + 2, 1, &lim);
}

/* Scripts that compile; every prefix of each must compile or fail with
   an error inside the prefix, never crash. */
static const char *const good[] = {
    "require [\"fileinto\", \"variables\", \"imap4flags\", \"relational\", "
    "\"comparator-i;ascii-numeric\", \"copy\", \"body\", \"date\", \"index\"];\n"
    "# a comment\n"
    "if allof (header :contains [\"from\", \"to\"] \"boss\", not size :over 10K) {\n"
    "  fileinto :copy :flags [\"\\\\Seen\"] \"Boss\"; /* why */\n"
    "} elsif header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-score\" \"5\" {\n"
    "  set :lower \"x\" \"${1}\"; addflag \"x\" \"a\";\n"
    "} else { keep; }\n"
    "if body :content [\"text\"] :matches \"*x?\" { stop; }\n"
    "if date :index 1 :zone \"+0100\" \"date\" \"year\" \"2024\" { discard; }\n",
    "require \"vacation\";\r\nvacation :days 3 :subject \"s\" text:\r\nHello\r\n..\r\n.\r\n;",
    "require [\"encoded-character\", \"fileinto\"];\n"
    "fileinto \"${hex: 41 42}${unicode:263a}x\";",
};

static void test_prefixes(void **state)
{
	(void)state;
	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		size_t len = strlen(good[g]);
		struct sieve_script *s;
		struct sieve_error err;
		if (sieve_compile(good[g], len, NULL, &s, &err) < 0)
			fail_msg("%u:%u: %s", err.line, err.column, err.message);
		sieve_script_free(&s);
		for (size_t cut = 0; cut < len; cut++) {
			if (sieve_compile(good[g], cut, NULL, &s, &err) == 0) {
				sieve_script_free(&s);
				continue;
			}
			/* the error is inside the prefix (or just past its end) */
			unsigned line = 1;
			for (size_t i = 0; i < cut; i++)
				line += good[g][i] == '\n';
			assert_true(err.line >= 1 && err.line <= line + 1);
			assert_true(err.column >= 1);
			assert_true(err.message[0] != '\0');
		}
	}
}

/* Split the source into two pieces joined by a newline or a comment at
   every token boundary: the same tree must come out (white space and
   comments are insignificant between tokens). */
static void test_splits(void **state)
{
	const char *src = good[0];
	size_t len = strlen(src);
	struct sieve_script *ref, *s;
	struct sieve_error err;

	(void)state;
	assert_int_equal(sieve_compile(src, len, NULL, &ref, &err), 0);
	bool quoted = false, comment = false;
	for (size_t cut = 1; cut < len; cut++) {
		char c = src[cut - 1];
		/* only between tokens: after ' ', ';', '{' or '}' outside strings
		   and comments */
		if (c == '\\' && quoted) {
			cut++;
			continue;
		}
		if (c == '"' && !comment)
			quoted = !quoted;
		if (c == '#' && !quoted)
			comment = true;
		if (c == '\n')
			comment = false;
		if (quoted || comment || strchr(" ;{}", c) == NULL)
			continue;
		char *head = strndup(src, cut);
		char *open = strstr(head, "/*"), *close = strstr(head, "*/");
		bool in_block = open && (!close || close < open);
		free(head);
		if (in_block)
			continue;
		char *buf = malloc(len + 16);
		memcpy(buf, src, cut);
		memcpy(buf + cut, "/*x*/\n", 6);
		memcpy(buf + cut + 6, src + cut, len - cut);
		int rc = sieve_compile(buf, len + 6, NULL, &s, &err);
		if (rc < 0)
			fail_msg("cut %zu: %u:%u %s", cut, err.line, err.column, err.message);
		assert_int_equal(s->ncmds, ref->ncmds);
		assert_int_equal(s->exts, ref->exts);
		sieve_script_free(&s);
		free(buf);
	}
	sieve_script_free(&ref);
}

static void test_encoded(void **state)
{
	const char *src = good[2];
	struct sieve_script *s;
	struct sieve_error err;

	(void)state;
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), 0);
	assert_string_equal(s->cmds[1].args[0].sl.items[0], "AB\xe2\x98\xbax");
	sieve_script_free(&s);
	/* without the extension the text stays as it is */
	src = "require \"fileinto\"; fileinto \"${hex:41}\";";
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), 0);
	assert_string_equal(s->cmds[1].args[0].sl.items[0], "${hex:41}");
	sieve_script_free(&s);
	/* malformed sequences are left alone (RFC 5228 section 2.4.2.4) */
	src = "require [\"encoded-character\", \"fileinto\"]; fileinto \"${hex:zz}${hex:4}\";";
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), 0);
	assert_string_equal(s->cmds[1].args[0].sl.items[0], "${hex:zz}\x04");
	assert_true(sieve_script_requires(s, "encoded-character"));
	assert_false(sieve_script_requires(s, "body"));
	sieve_script_free(&s);
}

static void test_extensions_list(void **state)
{
	(void)state;
	/* every extension in the capability string can be required */
	char *list = strdup(sieve_extensions());
	for (char *tok = strtok(list, " "); tok; tok = strtok(NULL, " ")) {
		char src[128];
		struct sieve_script *s;
		struct sieve_error err;
		snprintf(src, sizeof(src), "require \"%s\";", tok);
		if (sieve_compile(src, strlen(src), NULL, &s, &err) < 0)
			fail_msg("%s: %s", tok, err.message);
		assert_true(sieve_script_requires(s, tok));
		sieve_script_free(&s);
	}
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens),          cmocka_unit_test(test_multiline_crlf),
	    cmocka_unit_test(test_errors),          cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_limits),          cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_splits),          cmocka_unit_test(test_encoded),
	    cmocka_unit_test(test_extensions_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
