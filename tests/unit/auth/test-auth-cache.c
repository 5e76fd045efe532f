/* Unit tests for src/auth/auth-cache.c, with explicit times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth-cache.h"

#define H1 "{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$one"
#define H2 "{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$two"

static void test_hit_and_expiry(void **state)
{
	struct auth_cache *c = auth_cache_new(300);

	assert_false(auth_cache_hit(c, "a@example.org", "secret", H1, 1000));
	auth_cache_add(c, "a@example.org", "secret", H1, 1000);
	assert_int_equal(auth_cache_count(c), 1);
	assert_true(auth_cache_hit(c, "a@example.org", "secret", H1, 1000));
	assert_true(auth_cache_hit(c, "a@example.org", "secret", H1, 1299));
	/* another password, another user, a split moved across the NUL */
	assert_false(auth_cache_hit(c, "a@example.org", "secreT", H1, 1001));
	assert_false(auth_cache_hit(c, "b@example.org", "secret", H1, 1001));
	assert_false(auth_cache_hit(c, "a@example.orgs", "ecret", H1, 1001));
	/* the stored hash changed (password set again): a miss at once */
	assert_false(auth_cache_hit(c, "a@example.org", "secret", H2, 1001));
	/* expired, and dropped by the lookup */
	assert_false(auth_cache_hit(c, "a@example.org", "secret", H1, 1300));
	assert_int_equal(auth_cache_count(c), 0);
	auth_cache_free(&c);
	assert_null(c);
	auth_cache_free(&c);
}

static void test_refresh_and_replace(void **state)
{
	struct auth_cache *c = auth_cache_new(10);

	auth_cache_add(c, "a@example.org", "pw", H1, 100);
	auth_cache_add(c, "a@example.org", "pw", H2, 105); /* verified against a new hash */
	assert_int_equal(auth_cache_count(c), 1);
	assert_false(auth_cache_hit(c, "a@example.org", "pw", H1, 106));
	assert_true(auth_cache_hit(c, "a@example.org", "pw", H2, 114));
	assert_false(auth_cache_hit(c, "a@example.org", "pw", H2, 115));
	auth_cache_free(&c);
}

static void test_disabled_cache(void **state)
{
	struct auth_cache *c = auth_cache_new(0);

	auth_cache_add(c, "a@example.org", "pw", H1, 100);
	assert_int_equal(auth_cache_count(c), 0);
	assert_false(auth_cache_hit(c, "a@example.org", "pw", H1, 100));
	auth_cache_free(&c);
}

static void test_bounded(void **state)
{
	struct auth_cache *c = auth_cache_new(60);
	char user[64];

	for (int i = 0; i < AUTH_CACHE_MAX_ENTRIES + 100; i++) {
		snprintf(user, sizeof(user), "u%d@example.org", i);
		auth_cache_add(c, user, "pw", H1, 100);
	}
	assert_int_equal(auth_cache_count(c), AUTH_CACHE_MAX_ENTRIES);
	/* full and nothing expired: not cached */
	auth_cache_add(c, "more@example.org", "pw", H1, 101);
	assert_false(auth_cache_hit(c, "more@example.org", "pw", H1, 101));
	assert_int_equal(auth_cache_count(c), AUTH_CACHE_MAX_ENTRIES);
	/* once the old ones expire, new ones fit again */
	auth_cache_add(c, "late@example.org", "pw", H1, 200);
	assert_true(auth_cache_hit(c, "late@example.org", "pw", H1, 201));
	assert_false(auth_cache_hit(c, "u0@example.org", "pw", H1, 201));
	assert_true(auth_cache_count(c) <= AUTH_CACHE_MAX_ENTRIES);
	auth_cache_free(&c);
}

/* Two caches (two processes) salt differently: nothing to compare across. */
static void test_monotonic_now(void **state)
{
	uint64_t a = auth_cache_now(), b = auth_cache_now();

	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_and_expiry), cmocka_unit_test(test_refresh_and_replace),
	    cmocka_unit_test(test_disabled_cache), cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_monotonic_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
