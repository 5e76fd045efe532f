/* Unit tests for src/smtp/smtp-rate.c: the hourly counters of the
   submission limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "smtp/smtp-rate.h"

#define T0 ((time_t)1800000000)

static void test_limit_and_window(void **state)
{
	struct smtp_rate *r = smtp_rate_new(3);

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(smtp_rate_allows(r, "alice", T0 + i * 60));
		smtp_rate_add(r, "alice", T0 + i * 60);
	}
	assert_false(smtp_rate_allows(r, "alice", T0 + 180));
	/* other keys are counted apart */
	assert_true(smtp_rate_allows(r, "bob", T0 + 180));
	assert_int_equal(smtp_rate_count(r, "alice", T0 + 180), 3);
	/* the first event leaves the hour after 60 minutes, the rest later */
	assert_int_equal(smtp_rate_count(r, "alice", T0 + 3600), 2);
	assert_true(smtp_rate_allows(r, "alice", T0 + 3600));
	assert_int_equal(smtp_rate_count(r, "alice", T0 + 3600 + 120), 0);
	/* a long gap clears everything */
	smtp_rate_add(r, "alice", T0 + 3 * 3600);
	assert_int_equal(smtp_rate_count(r, "alice", T0 + 3 * 3600), 1);
	smtp_rate_free(&r);
	assert_null(r);
}

static void test_no_limit(void **state)
{
	struct smtp_rate *r = smtp_rate_new(0);

	(void)state;
	for (int i = 0; i < 1000; i++)
		smtp_rate_add(r, "x", T0);
	assert_true(smtp_rate_allows(r, "x", T0));
	assert_int_equal(smtp_rate_count(r, "x", T0), 1000);
	smtp_rate_free(&r);
}

/* The key table stays bounded; idle keys go first. */
static void test_bounded_keys(void **state)
{
	struct smtp_rate *r = smtp_rate_new(1);
	char key[32];

	(void)state;
	smtp_rate_add(r, "busy", T0 + 7200);
	for (int i = 0; i < SMTP_RATE_KEYS_MAX + 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		smtp_rate_add(r, key, T0 + (i < SMTP_RATE_KEYS_MAX / 2 ? 0 : 7200));
	}
	/* the busy key (recent) survived the sweep of the idle ones */
	assert_int_equal(smtp_rate_count(r, "busy", T0 + 7200), 1);
	assert_false(smtp_rate_allows(r, "busy", T0 + 7200));
	smtp_rate_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_and_window),
	    cmocka_unit_test(test_no_limit),
	    cmocka_unit_test(test_bounded_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
