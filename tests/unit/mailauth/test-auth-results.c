/* Unit tests for src/mailauth/auth-results.c: the writer's quoting
   (RFC 8601 2.2), the parser on RFC 8601 appendix B examples and forged
   forms, authserv-id claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mailauth/auth-results.h"

static void test_writer(void **state)
{
	struct buf out = BUF_INIT;
	struct auth_results_writer w;

	auth_results_writer_init(&w, &out, "mx.example.org", false);
	auth_results_add(&w, "spf", "pass", NULL, "smtp.mailfrom", "jqd@d1.example", NULL);
	auth_results_add(&w, "dkim", "pass", "1024-bit key", "header.d", "example.com", "header.s",
	                 "sel", "header.b", "ab/c+d=e", "header.i", NULL, NULL);
	auth_results_add(&w, "dmarc", "fail", "a (nested) \\ comment", "header.from", "example.com",
	                 "policy.dmarc", "reject", NULL);
	auth_results_add(&w, "arc", "none", NULL, NULL);
	auth_results_writer_finish(&w);
	assert_string_equal(
	    out.data, "mx.example.org; spf=pass smtp.mailfrom=jqd@d1.example; dkim=pass (1024-bit "
	              "key) header.d=example.com header.s=sel header.b=\"ab/c+d=e\"; "
	              "dmarc=fail (a \\(nested\\) \\\\ comment) header.from=example.com "
	              "policy.dmarc=reject; arc=none");
	buf_free(&out);
}

static void test_writer_none_and_quoting(void **state)
{
	struct buf out = BUF_INIT;
	struct auth_results_writer w;

	auth_results_writer_init(&w, &out, "odd id", true);
	auth_results_writer_finish(&w);
	assert_string_equal(out.data, "\"odd id\"; none");
	buf_clear(&out);
	auth_results_writer_init(&w, &out, "h", true);
	auth_results_add(&w, "spf", "fail", NULL, "smtp.mailfrom", "\"a b\"@x\r\n.y", "smtp.helo",
	                 "@example.com", NULL);
	assert_string_equal(
	    out.data,
	    "h;\r\n\tspf=fail smtp.mailfrom=\"\\\"a b\\\"@x  .y\" smtp.helo=@example.com");
	buf_free(&out);
}

static struct auth_results *parse_ok(const char *s)
{
	struct auth_results *ar = NULL;
	const char *error = NULL;

	if (auth_results_parse(s, strlen(s), &ar, &error) < 0)
		fail_msg("parse of [%s] failed: %s", s, error);
	return ar;
}

static void test_parse(void **state)
{
	struct auth_results *ar;

	ar = parse_ok("example.com; none");
	assert_string_equal(ar->authserv_id, "example.com");
	assert_int_equal(ar->entries.count, 0);
	auth_results_free(&ar);

	/* RFC 8601 appendix B.6 */
	ar =
	    parse_ok("example.com;\r\n dkim=pass (good signature) header.d=mail-router.example.net;"
	             "\r\n dkim=fail (bad signature) header.d=newyork.example.com");
	assert_int_equal(ar->entries.count, 2);
	assert_string_equal(ar->entries.items[0].method, "dkim");
	assert_string_equal(ar->entries.items[1].result, "fail");
	assert_string_equal(auth_results_prop_value(&ar->entries.items[0], "header", "d"),
	                    "mail-router.example.net");
	auth_results_free(&ar);

	ar = parse_ok(
	    " (c (nested)) \"mx.example.org\" 1 ; SPF/1 = Pass reason=\"ok then\" "
	    "smtp.mailfrom = \"x y\"@example.net (c) ; auth=pass smtp.auth=sender@example.com");
	assert_string_equal(ar->authserv_id, "mx.example.org");
	assert_int_equal(ar->version, 1);
	assert_int_equal(ar->entries.count, 2);
	assert_string_equal(ar->entries.items[0].method, "spf");
	assert_string_equal(ar->entries.items[0].result, "pass");
	assert_string_equal(ar->entries.items[0].reason, "ok then");
	assert_string_equal(ar->entries.items[0].props[0].value, "\"x y\"@example.net");
	assert_string_equal(ar->entries.items[1].props[0].value, "sender@example.com");
	auth_results_free(&ar);
	assert_null(ar);
	auth_results_free(&ar);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "(unterminated",
	    "\"unterminated",
	    "example.com; spf",
	    "example.com; spf=pass smtp.mailfrom",
	    "example.com; spf=pass x",
	    "example.com; none; spf=pass",
	    "example.com junk",
	    "example.com; spf=pass (unterminated",
	    "((((((((((((((((((((deep))))))))))))))))))) example.com",
	};
	struct auth_results *ar = NULL;
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		if (auth_results_parse(bad[i], strlen(bad[i]), &ar, &error) == 0)
			fail_msg("[%s] parsed", bad[i]);
		assert_non_null(error);
	}
}

static void test_claims(void **state)
{
	static const char *const ours[] = {
	    "mx.example.org; spf=pass",
	    "MX.Example.ORG; none",
	    "(forged) \"mx.example.org\"; dkim=pass",
	    " \r\n\t(a (b)) mx.example.org 1; none",
	    "mx.example.org",
	};
	static const char *const theirs[] = {
	    "mx.example.org.evil; spf=pass",   "evil.example; spf=pass mx.example.org",
	    "\"mx.example.org; x\"; spf=pass", "(mx.example.org) other; none",
	    "(unterminated mx.example.org",
	};

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		assert_true(auth_results_claims(ours[i], strlen(ours[i]), "mx.example.org"));
	for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		assert_false(auth_results_claims(theirs[i], strlen(theirs[i]), "mx.example.org"));
}

/* The id read from every prefix of a value, one byte more each time: no
   overreads (ASan) and the full value gives the id. */
static void test_prefixes(void **state)
{
	const char *v = "(c) \"mx.example.org\" 1; dkim=pass header.d=a.example header.b=\"x/y\"";
	size_t len = strlen(v);

	for (size_t n = 0; n <= len; n++) {
		char *copy = malloc(n + 1);
		struct auth_results *ar = NULL;
		const char *error;

		memcpy(copy, v, n);
		if (auth_results_parse(copy, n, &ar, &error) == 0)
			auth_results_free(&ar);
		free(copy);
	}
	{
		struct auth_results *ar = parse_ok(v);

		assert_string_equal(auth_results_prop_value(&ar->entries.items[0], "header", "b"),
		                    "x/y");
		assert_null(auth_results_prop_value(&ar->entries.items[0], "header", "s"));
		auth_results_free(&ar);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer), cmocka_unit_test(test_writer_none_and_quoting),
	    cmocka_unit_test(test_parse),  cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_claims), cmocka_unit_test(test_prefixes),

	};

	return cmocka_run_group_tests_name("mailauth-auth-results", tests, NULL, NULL);
}
