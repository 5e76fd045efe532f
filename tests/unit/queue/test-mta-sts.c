/* Unit tests for src/queue/mta-sts.c: TXT records, policies, MX patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "queue/mta-sts.h"

static int txt(const char *s, char *id)
{
	return mta_sts_txt_parse(s, strlen(s), id);
}

static void test_txt(void **state)
{
	char id[MTA_STS_MAX_ID + 1];

	assert_int_equal(txt("v=STSv1; id=20160831085700Z;", id), 0);
	assert_string_equal(id, "20160831085700Z");
	assert_int_equal(txt("v=STSv1;id=abc", id), 0);
	assert_string_equal(id, "abc");
	assert_int_equal(txt("v=STSv1; ext=foo; id=X1 ", id), 0);
	assert_string_equal(id, "X1");
	assert_int_equal(txt("id=abc; v=STSv1", id), -1);     /* v first */
	assert_int_equal(txt("v=STSv2; id=abc", id), -1);     /* version */
	assert_int_equal(txt("v=STSv1;", id), -1);            /* no id */
	assert_int_equal(txt("v=STSv1; id=a-b", id), -1);     /* alnum only */
	assert_int_equal(txt("v=STSv1; id=", id), -1);        /* empty */
	assert_int_equal(txt("v=STSv1; id=a; id=b", id), -1); /* twice */
	assert_int_equal(txt("v=STSv1; id=123456789012345678901234567890123", id), -1);
	assert_int_equal(txt("v=STSv1; id=12345678901234567890123456789012", id), 0);
	assert_int_equal(mta_sts_txt_parse("v=STSv1; id=a\0b", 15, id), -1);
	assert_int_equal(txt("", id), -1);
}

static struct mta_sts_policy *parse(const char *s, const char **error)
{
	struct mta_sts_policy *p = NULL;

	*error = NULL;
	if (mta_sts_policy_parse(s, strlen(s), &p, error) < 0) {
		assert_non_null(*error);
		return NULL;
	}
	return p;
}

static void test_policy_ok(void **state)
{
	const char *error;
	struct mta_sts_policy *p =
	    parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	          "mx: *.Example.NET.\r\nmax_age: 604800\r\n",
	          &error);

	assert_non_null(p);
	assert_int_equal(p->mode, MTA_STS_MODE_ENFORCE);
	assert_int_equal(p->max_age, 604800);
	assert_int_equal(p->mx.count, 2);
	assert_string_equal(p->mx.items[0], "mail.example.com");
	assert_string_equal(p->mx.items[1], "*.example.net");
	mta_sts_policy_free(&p);
	assert_null(p);

	/* LF only, spaces around values, unknown keys ignored, no final
	   line end, the first of a repeated mode counts. */
	p = parse("version:STSv1\nmode:  testing \nmode: enforce\nfoo-bar: baz qux\n"
	          "mx: a.test\nmax_age: 99999999999",
	          &error);
	assert_null(p); /* 11 digits */
	p = parse("version:STSv1\nmode:  testing \nmode: enforce\nfoo-bar: baz qux\n"
	          "mx: a.test\nmax_age: 9999999999",
	          &error);
	assert_non_null(p);
	assert_int_equal(p->mode, MTA_STS_MODE_TESTING);
	assert_int_equal(p->max_age, MTA_STS_MAX_AGE); /* capped */
	mta_sts_policy_free(&p);

	/* mode none needs no mx */
	p = parse("version: STSv1\nmode: none\nmax_age: 0\n", &error);
	assert_non_null(p);
	assert_int_equal(p->mode, MTA_STS_MODE_NONE);
	assert_int_equal(p->mx.count, 0);
	mta_sts_policy_free(&p);
	mta_sts_policy_free(&p); /* NULL is fine */
}

static void test_policy_bad(void **state)
{
	static const char *const bad[] = {
	    "mode: enforce\nmx: a.test\nmax_age: 1\n",                  /* no version */
	    "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n",  /* version */
	    "version: STSv1\nmx: a.test\nmax_age: 1\n",                 /* no mode */
	    "version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n",   /* mode */
	    "version: STSv1\nmode: enforce\nmx: a.test\n",              /* no max_age */
	    "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n", /* max_age */
	    "version: STSv1\nmode: enforce\nmax_age: 1\n",              /* no mx */
	    "version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 1\n", /* empty label */
	    "version: STSv1\nmode: enforce\nmx: a.*.test\nmax_age: 1\n",
	    "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n",
	    "version: STSv1\nmode: enforce\nmx:\nmax_age: 1\n",
	    "version: STSv1\nmode enforce\nmx: a.test\nmax_age: 1\n", /* no colon */
	    ": x\nversion: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1\n",
	    "version: STSv1\nmode: enforce\x01\nmx: a.test\nmax_age: 1\n",
	    "version: STSv1\nmo de: enforce\nmx: a.test\nmax_age: 1\n",
	    "",
	};
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mta_sts_policy *p = parse(bad[i], &error);

		if (p != NULL)
			fail_msg("accepted bad policy %zu", i);
	}
}

static void test_policy_size(void **state)
{
	const char *head = "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1\n";
	size_t len = MTA_STS_MAX_POLICY + 1;
	char *big = xmalloc(len);
	struct mta_sts_policy *p = NULL;
	const char *error;

	memset(big, '\n', len);
	memcpy(big, head, strlen(head));
	assert_int_equal(mta_sts_policy_parse(big, len, &p, &error), -1);
	assert_int_equal(mta_sts_policy_parse(big, len - 1, &p, &error), 0);
	mta_sts_policy_free(&p);
	free(big);
}

/* Every prefix of a valid policy either parses or fails cleanly. */
static void test_policy_prefixes(void **state)
{
	const char *s =
	    "version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\nmax_age: 86400\r\n";
	size_t len = strlen(s), ok = 0;

	for (size_t n = 0; n <= len; n++) {
		char *copy = xstrndup(s, n); /* exact-size buffer for ASan */
		struct mta_sts_policy *p = NULL;
		const char *error;

		if (mta_sts_policy_parse(copy, n, &p, &error) == 0)
			ok++;
		mta_sts_policy_free(&p);
		free(copy);
	}
	/* "max_age: 8" to "86400", then with "\r" and "\r\n". */
	assert_int_equal(ok, 7);
}

static void test_pattern(void **state)
{
	assert_true(mta_sts_pattern_match("mail.example.com", "mail.example.com"));
	assert_true(mta_sts_pattern_match("mail.example.com", "MAIL.Example.com."));
	assert_false(mta_sts_pattern_match("mail.example.com", "mail.example.co"));
	assert_false(mta_sts_pattern_match("mail.example.com", "xmail.example.com"));
	assert_true(mta_sts_pattern_match("*.example.net", "mx1.example.net"));
	assert_true(mta_sts_pattern_match("*.example.net", "MX1.EXAMPLE.NET."));
	assert_false(mta_sts_pattern_match("*.example.net", "example.net"));
	assert_false(mta_sts_pattern_match("*.example.net", "a.b.example.net"));
	assert_false(mta_sts_pattern_match("*.example.net", ".example.net"));
	assert_false(mta_sts_pattern_match("*.example.net", "mx1.example.network"));
	assert_false(mta_sts_pattern_match("*.example.net", "mx1xexample.net"));
}

static void test_allows_mx(void **state)
{
	const char *error;
	struct mta_sts_policy *p = parse(
	    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n",
	    &error);

	assert_non_null(p);
	assert_true(mta_sts_policy_allows_mx(p, "mail.example.com"));
	assert_true(mta_sts_policy_allows_mx(p, "b.example.net"));
	assert_false(mta_sts_policy_allows_mx(p, "evil.example.org"));
	assert_false(mta_sts_policy_allows_mx(p, "x.mail.example.com"));
	mta_sts_policy_free(&p);
	assert_string_equal(mta_sts_mode_name(MTA_STS_MODE_ENFORCE), "enforce");
	assert_string_equal(mta_sts_mode_name(MTA_STS_MODE_TESTING), "testing");
	assert_string_equal(mta_sts_mode_name(MTA_STS_MODE_NONE), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_txt),
	    cmocka_unit_test(test_policy_ok),
	    cmocka_unit_test(test_policy_bad),
	    cmocka_unit_test(test_policy_size),
	    cmocka_unit_test(test_policy_prefixes),
	    cmocka_unit_test(test_pattern),
	    cmocka_unit_test(test_allows_mx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
