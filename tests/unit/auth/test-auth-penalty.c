/* Unit tests for src/auth/auth-penalty.c: the delay doubles per failure up
   to the cap, per IP, and is forgotten after AUTH_PENALTY_FORGET_S. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "auth/auth-penalty.h"

static void test_delays_grow_and_cap(void **state)
{
	struct auth_penalty *p = auth_penalty_new();
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
	struct auth_penalty *p = auth_penalty_new();
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

/* The table is bounded: when full, the address idle longest makes room. */
static void test_bounded(void **state)
{
	struct auth_penalty *p = auth_penalty_new();
	char ip[32];

	for (unsigned i = 0; i < AUTH_PENALTY_MAX_IPS + 10; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		auth_penalty_fail(p, ip, 1000 + i);
	}
	assert_int_equal(auth_penalty_size(p), AUTH_PENALTY_MAX_IPS);
	assert_int_equal(auth_penalty_count(p, "10.0.0.0", 100000), 0);
	assert_int_equal(auth_penalty_count(p, ip, 100000), 1);
	auth_penalty_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delays_grow_and_cap),
	    cmocka_unit_test(test_forgotten),
	    cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
