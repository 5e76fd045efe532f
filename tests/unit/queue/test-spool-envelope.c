/* Unit tests for src/queue/spool-envelope.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "queue/spool-envelope.h"

static void full_envelope(struct spool_envelope *env)
{
	struct spool_rcpt *r;

	memset(env, 0, sizeof(*env));
	env->id = xstrdup("0640b1c2d3e4f5a6b7c8d9e0");
	env->arrival = 1764766000;
	env->size = 1234;
	env->data_skip = 40;
	env->sender = xstrdup("alice@example.org");
	env->ret = SPOOL_RET_HDRS;
	env->envid = xstrdup("QQ 314159 %x");
	env->body = SPOOL_BODY_8BITMIME;
	env->requiretls = true;
	env->smtputf8 = true;
	env->auth_user = xstrdup("alice@example.org");
	env->client_ip = xstrdup("::1");
	env->helo = xstrdup("client.test");
	env->smtp_id = xstrdup("ABCDEF0123");
	r = spool_envelope_add_rcpt(env, "bob@remote.test",
	                            SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_DELAY, "rfc822",
	                            "Bob Smith@remote.test", NULL);
	r->rcpt_index = 0;
	r = spool_envelope_add_rcpt(env, "\"odd <>name\"@remote.test", SPOOL_NOTIFY_NEVER, NULL,
	                            NULL, "fwd@example.test");
	r->rcpt_index = 3;
	spool_envelope_add_rcpt(env, "j\xc3\xb6rg@b\xc3\xbc\x63her.test", 0, "utf-8",
	                        "j\xc3\xb6rg@b\xc3\xbc\x63her.test", NULL);
}

static void format_ok(const struct spool_envelope *env, struct buf *out)
{
	const char *error = NULL;

	assert_int_equal(spool_envelope_format(env, out, &error), 0);
}

static void test_round_trip(void **state)
{
	struct spool_envelope env, back;
	struct buf text = BUF_INIT, again = BUF_INIT;
	const char *error = NULL;

	full_envelope(&env);
	format_ok(&env, &text);
	assert_int_equal(spool_envelope_parse(text.data, text.len, &back, &error), 0);
	assert_string_equal(back.id, env.id);
	assert_int_equal(back.arrival, env.arrival);
	assert_int_equal(back.size, 1234);
	assert_int_equal(back.data_skip, 40);
	assert_string_equal(back.sender, "alice@example.org");
	assert_int_equal(back.ret, SPOOL_RET_HDRS);
	assert_string_equal(back.envid, "QQ 314159 %x");
	assert_int_equal(back.body, SPOOL_BODY_8BITMIME);
	assert_true(back.requiretls);
	assert_true(back.smtputf8);
	assert_string_equal(back.auth_user, "alice@example.org");
	assert_string_equal(back.client_ip, "::1");
	assert_string_equal(back.helo, "client.test");
	assert_string_equal(back.smtp_id, "ABCDEF0123");
	assert_int_equal(back.rcpts.count, 3);
	assert_string_equal(back.rcpts.items[0].address, "bob@remote.test");
	assert_int_equal(back.rcpts.items[0].notify, SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_DELAY);
	assert_string_equal(back.rcpts.items[0].orcpt_type, "rfc822");
	assert_string_equal(back.rcpts.items[0].orcpt, "Bob Smith@remote.test");
	assert_null(back.rcpts.items[0].alias);
	assert_string_equal(back.rcpts.items[1].address, "\"odd <>name\"@remote.test");
	assert_int_equal(back.rcpts.items[1].notify, SPOOL_NOTIFY_NEVER);
	assert_int_equal(back.rcpts.items[1].rcpt_index, 3);
	assert_null(back.rcpts.items[1].orcpt);
	assert_string_equal(back.rcpts.items[1].alias, "fwd@example.test");
	assert_string_equal(back.rcpts.items[2].address, "j\xc3\xb6rg@b\xc3\xbc\x63her.test");
	assert_int_equal(back.rcpts.items[2].notify, 0);
	/* what is read back writes the same bytes */
	format_ok(&back, &again);
	assert_int_equal(again.len, text.len);
	assert_memory_equal(again.data, text.data, text.len);
	spool_envelope_clear(&env);
	spool_envelope_clear(&back);
	buf_free(&text);
	buf_free(&again);
}

/* The format a person reads: one field per line, escapes only where needed. */
static void test_readable(void **state)
{
	struct spool_envelope env;
	struct buf text = BUF_INIT;

	full_envelope(&env);
	format_ok(&env, &text);
	assert_non_null(strstr(buf_cstr(&text), "tern-envelope 1\nid 0640b1c2d3e4f5a6b7c8d9e0\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nfrom <alice@example.org>\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nenvid QQ%20314159%20%25x\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nrcpt <bob@remote.test> index=0 "
	                                        "notify=SUCCESS,DELAY "
	                                        "orcpt=rfc822;Bob%20Smith@remote.test\n"));
	assert_non_null(strstr(buf_cstr(&text), "alias=<fwd@example.test>\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nrequiretls yes\nsmtputf8 yes\n"));
	assert_true(text.len > 4 && memcmp(text.data + text.len - 4, "end\n", 4) == 0);
	spool_envelope_clear(&env);
	buf_free(&text);
}

static void test_minimal_and_null_sender(void **state)
{
	static const char text[] = "tern-envelope 1\nid abc\narrival 5\nsize 0\nfrom <>\n"
	                           "client 127.0.0.1\nrcpt <x@y.test>\nend\n";
	struct spool_envelope env;
	const char *error = NULL;

	assert_int_equal(spool_envelope_parse(text, sizeof(text) - 1, &env, &error), 0);
	assert_string_equal(env.sender, "");
	assert_int_equal(env.ret, SPOOL_RET_UNSET);
	assert_int_equal(env.body, SPOOL_BODY_UNSET);
	assert_false(env.requiretls);
	assert_null(env.envid);
	assert_null(env.auth_user);
	assert_int_equal(env.rcpts.count, 1);
	spool_envelope_clear(&env);
}

static void test_unknown_fields_skipped(void **state)
{
	static const char text[] = "tern-envelope 1\nid abc\nfuture-field one two\narrival 5\n"
	                           "size 0\nfrom <a@b.test>\nclient 127.0.0.1\n"
	                           "rcpt <x@y.test> index=1 later=thing\nend\n";
	struct spool_envelope env;
	const char *error = NULL;

	assert_int_equal(spool_envelope_parse(text, sizeof(text) - 1, &env, &error), 0);
	assert_int_equal(env.rcpts.items[0].rcpt_index, 1);
	spool_envelope_clear(&env);
}

static void test_format_refuses(void **state)
{
	struct spool_envelope env;
	struct buf text = BUF_INIT;
	const char *error = NULL;

	full_envelope(&env);
	free(env.id);
	env.id = xstrdup("../etc");
	assert_int_equal(spool_envelope_format(&env, &text, &error), -1);
	assert_non_null(error);
	free(env.id);
	env.id = xstrdup("ok");
	free(env.client_ip);
	env.client_ip = NULL;
	assert_int_equal(spool_envelope_format(&env, &text, &error), -1);
	spool_envelope_clear(&env);
	env.id = xstrdup("ok");
	env.sender = xstrdup("");
	env.client_ip = xstrdup("1.2.3.4");
	assert_int_equal(spool_envelope_format(&env, &text, &error), -1); /* no recipient */
	spool_envelope_clear(&env);
	buf_free(&text);
}

#define GOOD_HEAD "tern-envelope 1\nid abc\narrival 5\nsize 0\n"
#define GOOD_TAIL "client 127.0.0.1\nrcpt <x@y.test>\nend\n"

/* Every one of these is refused, and leaves nothing to free. */
static const char *const malformed[] = {
    "",
    "tern-envelope 1\n",
    "tern-envelope 2\nend\n",
    "tern-envelope\nend\n",
    "tern-envelope 1 x\nend\n",
    "other 1\nend\n",
    GOOD_HEAD "from <a@b.test>\n" GOOD_TAIL "x",
    GOOD_HEAD "from <a@b.test>\nclient 127.0.0.1\nrcpt <x@y.test>\nend",
    GOOD_HEAD "from <a@b.test>\nclient 127.0.0.1\nrcpt <x@y.test>\n",
    GOOD_HEAD "from a@b.test\n" GOOD_TAIL,
    GOOD_HEAD "from <a@b.test\n" GOOD_TAIL,
    GOOD_HEAD "from <a@b.test>\nfrom <c@d.test>\n" GOOD_TAIL,
    GOOD_HEAD GOOD_TAIL, /* no from */
    "tern-envelope 1\nid abc\nsize 0\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid abc\narrival 5\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\narrival 5\nsize 0\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid ../x\narrival 5\nsize 0\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid a\nid a\narrival 5\nsize 0\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid abc\narrival -5\nsize 0\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid abc\narrival 5\nsize 99999999999999999999\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid abc\narrival 5\nsize 1x\nfrom <>\n" GOOD_TAIL,
    "tern-envelope 1\nid abc\narrival 5\narrival 5\nsize 0\nfrom <>\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nclient 127.0.0.1\nend\n", /* no recipient */
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <>\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt x@y\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> notify=SOMETIMES\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> notify=NEVER,DELAY\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> notify=SUCCESS,\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> notify=\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> orcpt=nosemicolon\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> orcpt=;x\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> orcpt=a;b orcpt=a;b\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> index=x\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> index=99999999999\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> alias=nobrackets\nend\n",
    GOOD_HEAD "from <>\nclient 127.0.0.1\nrcpt <x@y> noequals\nend\n",
    GOOD_HEAD "from <x%2@y>\n" GOOD_TAIL,
    GOOD_HEAD "from <x%zz@y>\n" GOOD_TAIL,
    GOOD_HEAD "from <x%00@y>\n" GOOD_TAIL,
    GOOD_HEAD "from <x%>\n" GOOD_TAIL,
    GOOD_HEAD "from <a\r@b>\n" GOOD_TAIL,
    GOOD_HEAD "from <a\t@b>\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nret SOME\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nbody 9BIT\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nrequiretls no\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nsmtputf8 yes\nsmtputf8 yes\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nenvid two words\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nenvid\n" GOOD_TAIL,
    GOOD_HEAD "from <>\n\n" GOOD_TAIL,
    GOOD_HEAD "from <>\n end\n" GOOD_TAIL,
    GOOD_HEAD "from <>\nclient 127.0.0.1\nclient 127.0.0.2\nrcpt <x@y.test>\nend\n",
};

static void test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		struct spool_envelope env;
		const char *error = NULL;

		if (spool_envelope_parse(malformed[i], strlen(malformed[i]), &env, &error) == 0)
			fail_msg("case %zu parsed: %s", i, malformed[i]);
		assert_non_null(error);
		assert_null(env.id);
		assert_null(env.sender);
		assert_int_equal(env.rcpts.count, 0);
	}
}

/* A NUL in the bytes is refused, as is every prefix of a good envelope. */
static void test_nul_and_truncation(void **state)
{
	struct spool_envelope env;
	struct buf text = BUF_INIT;
	const char *error = NULL;

	full_envelope(&env);
	format_ok(&env, &text);
	spool_envelope_clear(&env);
	for (size_t n = 0; n < text.len; n++) {
		struct spool_envelope part;

		assert_int_equal(spool_envelope_parse(text.data, n, &part, &error), -1);
	}
	text.data[20] = '\0';
	assert_int_equal(spool_envelope_parse(text.data, text.len, &env, &error), -1);
	buf_free(&text);
}

static void test_ids(void **state)
{
	assert_true(spool_id_valid("0640b1c2d3e4f5a6b7c8d9e0"));
	assert_true(spool_id_valid("A"));
	assert_false(spool_id_valid(""));
	assert_false(spool_id_valid("a.b"));
	assert_false(spool_id_valid("a/b"));
	assert_false(spool_id_valid(".."));
	assert_false(
	    spool_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_readable),
	    cmocka_unit_test(test_minimal_and_null_sender),
	    cmocka_unit_test(test_unknown_fields_skipped),
	    cmocka_unit_test(test_format_refuses),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_nul_and_truncation),
	    cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
