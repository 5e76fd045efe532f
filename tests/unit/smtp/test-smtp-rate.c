/* Unit tests for src/smtp/smtp-rate.c: the hourly counters of the
   submission limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "smtp/smtp-rate.h"

#define T0 ((time_t)1800000000)

static void test_limit_and_window(void **state)
{
	struct smtp_rate *r = smtp_rate_new(3, NULL);

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
	struct smtp_rate *r = smtp_rate_new(0, NULL);

	(void)state;
	for (int i = 0; i < 1000; i++)
		smtp_rate_add(r, "x", T0);
	assert_true(smtp_rate_allows(r, "x", T0));
	assert_int_equal(smtp_rate_count(r, "x", T0), 1000);
	smtp_rate_free(&r);
}

/* The key table stays bounded; the key idle longest in a full set goes
   first, so a recent key outlives four tables' worth of older ones. */
static void test_bounded_keys(void **state)
{
	const char *error = NULL;
	struct shm_table *table = smtp_rate_table_new(&error);
	struct smtp_rate *r = smtp_rate_new(1, table);
	char key[32];

	(void)state;
	assert_non_null(table);
	smtp_rate_add(r, "busy", T0 + 7200);
	for (int i = 0; i < SMTP_RATE_KEYS_MAX * 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		smtp_rate_add(r, key, T0);
	}
	assert_true(shm_table_used(table) <= shm_table_capacity(table));
	assert_true(shm_table_capacity(table) < SMTP_RATE_KEYS_MAX + SHM_TABLE_WAYS);
	assert_int_equal(smtp_rate_count(r, "busy", T0 + 7200), 1);
	assert_false(smtp_rate_allows(r, "busy", T0 + 7200));
	assert_int_equal(smtp_rate_count(r, "k0", T0), 0);
	smtp_rate_free(&r);
	shm_table_free(&table);
}

/* Two processes count into one record: the limit is the server's. */
static void test_shared(void **state)
{
	const char *error = NULL;
	struct shm_table *table = smtp_rate_table_new(&error);
	struct smtp_rate *r;
	int status = 0;
	pid_t pid;

	(void)state;
	assert_non_null(table);
	r = smtp_rate_new(2, table);
	smtp_rate_add(r, "alice@example.org", T0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct smtp_rate *c = smtp_rate_new(2, table);
		bool ok = smtp_rate_allows(c, "alice@example.org", T0 + 1);

		smtp_rate_add(c, "alice@example.org", T0 + 1);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(smtp_rate_count(r, "alice@example.org", T0 + 2), 2);
	assert_false(smtp_rate_allows(r, "alice@example.org", T0 + 2));
	smtp_rate_free(&r);
	shm_table_free(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_and_window),
	    cmocka_unit_test(test_no_limit),
	    cmocka_unit_test(test_bounded_keys),
	    cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
