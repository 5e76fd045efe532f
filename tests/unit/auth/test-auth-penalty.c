/* Unit tests for src/auth/auth-penalty.c: the delay doubles per failure up
   to the cap, per IP, and is forgotten after AUTH_PENALTY_FORGET_S. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth-penalty.h"

static void test_delays_grow_and_cap(void **state)
{
	struct auth_penalty *p = auth_penalty_new(NULL);
	static const unsigned want[] = {500, 1000, 2000, 4000, 8000, 15000, 15000};
	uint64_t t = 1000000;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(auth_penalty_fail(p, "192.0.2.1", t += 1000), want[i]);
	assert_int_equal(auth_penalty_count(p, "192.0.2.1", t), 7);
	/* another IP starts at the first delay */
	assert_int_equal(auth_penalty_count(p, "192.0.2.2", t), 0);
	assert_int_equal(auth_penalty_fail(p, "192.0.2.2", t), 500);
	assert_int_equal(auth_penalty_count(p, "192.0.2.2", t), 1);
	auth_penalty_free(&p);
	assert_null(p);
	auth_penalty_free(NULL);
}

static void test_forgotten(void **state)
{
	struct auth_penalty *p = auth_penalty_new(NULL);
	uint64_t t = 5000;

	auth_penalty_fail(p, "::1", t);
	auth_penalty_fail(p, "::1", t);
	assert_int_equal(auth_penalty_count(p, "::1", t + AUTH_PENALTY_FORGET_S * 1000 - 1), 2);
	t += AUTH_PENALTY_FORGET_S * 1000;
	assert_int_equal(auth_penalty_count(p, "::1", t), 0);
	assert_int_equal(auth_penalty_fail(p, "::1", t), 500);
	assert_int_equal(auth_penalty_count(p, "::1", t), 1);
	auth_penalty_free(&p);
}

/* The table is bounded: when a set is full, the address idle longest there
   makes room; after four times the capacity none of the first is left. */
static void test_bounded(void **state)
{
	struct auth_penalty *p = auth_penalty_new(NULL);
	unsigned total = AUTH_PENALTY_MAX_IPS * 4, size;
	char ip[32];

	for (unsigned i = 0; i < total; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		auth_penalty_fail(p, ip, 1000 + i);
	}
	size = auth_penalty_size(p);
	assert_true(size <= AUTH_PENALTY_MAX_IPS + SHM_TABLE_WAYS);
	assert_true(size >= AUTH_PENALTY_MAX_IPS * 9 / 10);
	assert_int_equal(auth_penalty_count(p, ip, 100000), 1);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%u", i);
		assert_int_equal(auth_penalty_count(p, ip, 100000), 0);
	}
	auth_penalty_free(&p);
}

/* Two processes failing from one IP count into one record. */
static void test_shared(void **state)
{
	const char *error = NULL;
	struct shm_table *table = auth_penalty_table_new(&error);
	struct auth_penalty *p;
	int status = 0;
	pid_t pid;

	assert_non_null(table);
	p = auth_penalty_new(table);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct auth_penalty *c = auth_penalty_new(table);

		auth_penalty_fail(c, "203.0.113.9", 2000);
		_exit(auth_penalty_fail(c, "203.0.113.9", 2001) == 1000 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(auth_penalty_count(p, "203.0.113.9", 3000), 2);
	assert_int_equal(auth_penalty_fail(p, "203.0.113.9", 3000), 2000);
	auth_penalty_free(&p);
	shm_table_free(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delays_grow_and_cap),
	    cmocka_unit_test(test_forgotten),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
