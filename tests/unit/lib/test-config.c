/* Unit tests for src/lib/config.c: the generic config syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/xalloc.h"

/* A compact rendering of a tree: key=<value>@line for values,
   key[label]@line{...} for blocks, separated by spaces. */
static void render(struct buf *b, const struct config_entry *e)
{
	for (size_t i = 0; i < e->child_count; i++) {
		const struct config_entry *c = e->children[i];
		if (i > 0)
			buf_append_char(b, ' ');
		if (c->type == CONFIG_ENTRY_VALUE) {
			buf_printf(b, "%s=<%s>@%u", c->key, c->value, c->line);
			continue;
		}
		buf_printf(b, "%s", c->key);
		if (c->value != NULL)
			buf_printf(b, "[%s]", c->value);
		buf_printf(b, "@%u{", c->line);
		render(b, c);
		buf_append_char(b, '}');
	}
}

/* Parse in pieces of step bytes; returns the rendering or "ERR:<error>". */
static char *parse_in_steps(const char *input, size_t len, size_t step)
{
	struct config_parser *p = config_parser_new("t.conf");
	struct config_entry *root = NULL;
	struct buf b = BUF_INIT;
	const char *error = NULL;
	int ret = 0;

	for (size_t off = 0; off < len && ret == 0; off += step)
		ret =
		    config_parser_feed(p, input + off, len - off < step ? len - off : step, &error);
	if (ret == 0)
		ret = config_parser_finish(p, &root, &error);
	if (ret < 0) {
		assert_non_null(error);
		buf_printf(&b, "ERR:%s", error);
	} else {
		render(&b, root);
	}
	config_entry_free(&root);
	config_parser_free(&p);
	return buf_steal(&b);
}

static const struct {
	const char *in;
	const char *out;
} good_cases[] = {
    {"", ""},
    {"\n\n# only a comment\n   \t\n", ""},
    {"hostname = mail.example.com\n", "hostname=<mail.example.com>@1"},
    {"a=b", "a=<b>@1"},
    {"log_level = info            # trailing comment\n", "log_level=<info>@1"},
    {"  key_1\t=\t spaced  value \t\n", "key_1=<spaced  value>@1"},
    {"empty =\n", "empty=<>@1"},
    {"empty = # nothing\n", "empty=<>@1"},
    {"x = a=b\n", "x=<a=b>@1"},
    {"name = \"quoted # and spaces and \\\" escapes\"\n",
     "name=<quoted # and spaces and \" escapes>@1"},
    {"q = \"back\\\\slash\"  # c\n", "q=<back\\slash>@1"},
    {"q = \"\"\n", "q=<>@1"},
    {"crlf = yes\r\nb = 2\r\n", "crlf=<yes>@1 b=<2>@2"},
    {"tls {\n\tcert = /etc/tern/cert.pem\n}\n", "tls@1{cert=</etc/tern/cert.pem>@2}"},
    {"tls{\n}\n", "tls@1{}"},
    {"listener smtp {\n  address = 127.0.0.1:25, [::1]:25\n  tls = starttls\n}\n",
     "listener[smtp]@1{address=<127.0.0.1:25, [::1]:25>@2 tls=<starttls>@3}"},
    {"listener smtp{ # c\n} # c\n", "listener[smtp]@1{}"},
    {"a {\nb {\nc = 1\n}\n}\nd = 2\n", "a@1{b@2{c=<1>@3}} d=<2>@6"},
    {"a = 1\n\n\nb = 2", "a=<1>@1 b=<2>@4"},
    {"a=1\nb{\nc=2\n}\n", "a=<1>@1 b@2{c=<2>@3}"},
    {"a {\nb {\nc {\nd {\ne {\nf {\ng {\nh {\n}\n}\n}\n}\n}\n}\n}\n}\n",
     "a@1{b@2{c@3{d@4{e@5{f@6{g@7{h@8{}}}}}}}}"},
    {"k = caf\xc3\xa9\n", "k=<caf\xc3\xa9>@1"},
};

static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *error;
} bad_cases[] = {
    {"tls {\ncert = x\n", 0, "t.conf:1: block \"tls\" is not closed"},
    {"a {\nb {\n}\n", 0, "t.conf:1: block \"a\" is not closed"},
    {"a = 1\n}\n", 0, "t.conf:2: \"}\" without an open block"},
    {"hostname mail\n", 0, "t.conf:1: missing \"=\" after \"hostname\""},
    {"hostname\n", 0, "t.conf:1: missing \"=\" after \"hostname\""},
    {"Hostname = x\n", 0, "t.conf:1: bad key \"Hostname\" (use a-z, 0-9 and _)"},
    {"\nhost-name = x\n", 0, "t.conf:2: bad key \"host-name\" (use a-z, 0-9 and _)"},
    {"= x\n", 0, "t.conf:1: bad key \"\" (use a-z, 0-9 and _)"},
    {"k = \"open\n", 0, "t.conf:1: unterminated quoted value"},
    {"k = \"open", 0, "t.conf:1: unterminated quoted value"},
    {"k = \"a\" b\n", 0, "t.conf:1: text after the quoted value"},
    {"k = \"a\\n\"\n", 0, "t.conf:1: bad escape in quoted value (only \\\" and \\\\)"},
    {"a = 1\nb = x\0y\n", 14, "t.conf:2: NUL byte"},
    {"a {\nb {\nc {\nd {\ne {\nf {\ng {\nh {\ni {\n", 0, "t.conf:9: blocks nested deeper than 8"},
    {"tls { cert = x }\n", 0, "t.conf:1: text after \"{\" (put each entry on its own line)"},
    {"tls {\n} x\n", 0, "t.conf:2: text after \"}\""},
    {"listener smtp extra {\n}\n", 0, "t.conf:1: missing \"=\" after \"listener\""},
};

static void test_good(void **state)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		size_t len = strlen(good_cases[i].in);
		/* Whole, byte at a time and in odd pieces: all the same. */
		size_t steps[] = {len > 0 ? len : 1, 1, 3};
		for (size_t s = 0; s < 3; s++) {
			char *out = parse_in_steps(good_cases[i].in, len, steps[s]);
			assert_string_equal(out, good_cases[i].out);
			free(out);
		}
	}
}

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		size_t len = bad_cases[i].len != 0 ? bad_cases[i].len : strlen(bad_cases[i].in);
		char *expected = xasprintf("ERR:%s", bad_cases[i].error);
		size_t steps[] = {1, len};
		for (size_t s = 0; s < 2; s++) {
			char *out = parse_in_steps(bad_cases[i].in, len, steps[s]);
			assert_string_equal(out, expected);
			free(out);
		}
		free(expected);
	}
}

static void test_long_line(void **state)
{
	char *in = xmalloc(CONFIG_MAX_LINE + 16);
	char *out;

	memcpy(in, "k = ", 4);
	memset(in + 4, 'x', CONFIG_MAX_LINE - 4);
	in[CONFIG_MAX_LINE] = '\n';
	/* exactly CONFIG_MAX_LINE bytes before the LF is fine */
	out = parse_in_steps(in, CONFIG_MAX_LINE + 1, 1000);
	assert_int_equal(strncmp(out, "k=<xxx", 6), 0);
	free(out);
	in[CONFIG_MAX_LINE] = 'x';
	in[CONFIG_MAX_LINE + 1] = '\n';
	out = parse_in_steps(in, CONFIG_MAX_LINE + 2, 1000);
	assert_string_equal(out, "ERR:t.conf:1: line longer than 8192 bytes");
	free(out);
	free(in);
}

static void test_too_many_entries(void **state)
{
	struct buf b = BUF_INIT;
	char *out;

	for (int i = 0; i < CONFIG_MAX_ENTRIES; i++)
		buf_printf(&b, "k%d = %d\n", i, i);
	out = parse_in_steps(b.data, b.len, b.len);
	assert_int_equal(strncmp(out, "k0=<0>@1", 8), 0);
	free(out);
	buf_append_str(&b, "one_more = 1\n");
	out = parse_in_steps(b.data, b.len, 4096);
	assert_string_equal(out, "ERR:t.conf:10001: more than 10000 entries");
	free(out);
	buf_free(&b);
}

/* Every prefix of a file that uses every construct parses or fails cleanly. */
static void test_every_prefix(void **state)
{
	static const char input[] =
	    "# comment\nhostname = mail.example.com\nlog_level = info  # c\n"
	    "tls {\n\tcert = /etc/tern/cert.pem\n}\nlistener smtp {\n"
	    "\taddress = 127.0.0.1:25, [::1]:25\n\ttls = starttls\n}\n"
	    "name = \"q # \\\" \\\\ x\"\nempty =\r\na {\nb {\n}\n}\n";
	size_t len = sizeof(input) - 1;

	for (size_t n = 0; n <= len; n++) {
		char *out = parse_in_steps(input, n, 1);
		char *whole = parse_in_steps(input, n, n > 0 ? n : 1);
		assert_string_equal(out, whole);
		free(out);
		free(whole);
	}
}

static void test_parse_buffer_and_misuse(void **state)
{
	struct config_entry *root = NULL;
	struct config_parser *p;
	const char *error;
	char *err = NULL;

	assert_int_equal(config_parse_buffer("f", "a = 1\n", 6, &root, &err), 0);
	assert_int_equal(root->child_count, 1);
	config_entry_free(&root);
	assert_null(root);
	assert_int_equal(config_parse_buffer("f", "a\n", 2, &root, &err), -1);
	assert_string_equal(err, "f:1: missing \"=\" after \"a\"");
	free(err);

	p = config_parser_new("g");
	assert_int_equal(config_parser_feed(p, "}\n", 2, &error), -1);
	/* the error sticks */
	assert_int_equal(config_parser_feed(p, "a = 1\n", 6, &error), -1);
	assert_string_equal(error, "g:1: \"}\" without an open block");
	assert_int_equal(config_parser_finish(p, &root, &error), -1);
	config_parser_free(&p);
	assert_null(p);
	config_parser_free(&p);
	config_entry_free(&root);
}

static void test_quote(void **state)
{
	char *q = config_quote("a\"b\\c\x01");
	char long_in[100];

	assert_string_equal(q, "\"a\\\"b\\\\c\\x01\"");
	free(q);
	memset(long_in, 'z', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	q = config_quote(long_in);
	assert_int_equal(strlen(q), 64 + 5);
	assert_string_equal(q + 65, "\"...");
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),         cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_long_line),    cmocka_unit_test(test_too_many_entries),
	    cmocka_unit_test(test_every_prefix), cmocka_unit_test(test_parse_buffer_and_misuse),
	    cmocka_unit_test(test_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
