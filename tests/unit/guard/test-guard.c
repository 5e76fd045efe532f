/* Unit tests for src/guard/guard.c: keys per network, bans after
   max_failures within the window, growing bans, the allow list, bans
   shared across fork(), and the walk the supervisor persists from. A fake
   clock: times are passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard/guard.h"

#define T0 ((time_t)1800000000)

static char *allow[] = {"192.0.2.0/24"};

static struct guard_settings defaults(void)
{
	return (struct guard_settings){.enabled = true,
	                               .max_failures = 5,
	                               .window = 600,
	                               .ban_time = 900,
	                               .ban_time_max = 86400,
	                               .allow = allow,
	                               .allow_count = 1};
}

static void test_keys(void **state)
{
	static const struct {
		const char *ip, *key;
	} cases[] = {
	    {"203.0.113.7", "203.0.113.7"},
	    {"::ffff:203.0.113.7", "203.0.113.7"},
	    {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	    {"2001:db8:1:2::9", "2001:db8:1:2::/64"},
	    {"2001:db8:1:2::/64", "2001:db8:1:2::/64"},
	    {"::1", "::/64"},
	    {"unix", NULL},
	    {"unknown", NULL},
	    {"", NULL},
	    {"203.0.113.7/32", NULL},
	    {"2001:db8::/48", NULL},
	};
	char key[GUARD_KEY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = guard_key(cases[i].ip, key);

		if (ok != (cases[i].key != NULL))
			fail_msg("%s: parsed %d", cases[i].ip, ok);
		if (ok && strcmp(key, cases[i].key) != 0)
			fail_msg("%s: key %s", cases[i].ip, key);
	}
}

static void test_ban_after_max_failures(void **state)
{
	struct guard_settings set = defaults();
	struct guard *g = guard_new(NULL);
	time_t until = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(guard_failure(g, &set, "198.51.100.1", T0 + i * 100), 0);
	assert_false(guard_banned(g, &set, "198.51.100.1", T0 + 400, NULL));
	assert_int_equal(guard_failure(g, &set, "198.51.100.1", T0 + 400), 900);
	assert_true(guard_banned(g, &set, "198.51.100.1", T0 + 401, &until));
	assert_int_equal(until, T0 + 1300);
	/* failures while banned do not count nor extend it */
	assert_int_equal(guard_failure(g, &set, "198.51.100.1", T0 + 500), 0);
	assert_false(guard_banned(g, &set, "198.51.100.1", T0 + 1300, NULL));
	/* another address is not touched */
	assert_false(guard_banned(g, &set, "198.51.100.2", T0 + 401, NULL));
	guard_free(&g);
	assert_null(g);
}

/* Failures spread wider than the window never ban. */
static void test_window_slides(void **state)
{
	struct guard_settings set = defaults();
	struct guard *g = guard_new(NULL);

	(void)state;
	for (int i = 0; i < 50; i++)
		assert_int_equal(guard_failure(g, &set, "198.51.100.3", T0 + i * 150), 0);
	/* four in the last 600 s; a fifth within them bans */
	assert_int_equal(guard_failure(g, &set, "198.51.100.3", T0 + 49 * 150 + 1), 900);
	guard_free(&g);
}

static void ban_five_times(struct guard *g, const struct guard_settings *set, const char *ip,
                           time_t at, unsigned want)
{
	for (int i = 0; i < 4; i++)
		assert_int_equal(guard_failure(g, set, ip, at + i), 0);
	assert_int_equal(guard_failure(g, set, ip, at + 4), want);
}

/* A repeat offender's ban doubles up to ban_time_max, and is forgotten
   after ban_time_max without a ban. */
static void test_repeat_offender(void **state)
{
	struct guard_settings set = defaults();
	struct guard *g = guard_new(NULL);
	time_t t = T0;
	unsigned want = 900;

	(void)state;
	set.ban_time_max = 4 * 3600;
	for (int round = 0; round < 6; round++) {
		ban_five_times(g, &set, "2001:db8:5::1", t, want);
		t += want + 10;
		want = want * 2 < set.ban_time_max ? want * 2 : set.ban_time_max;
	}
	/* another address of the same /64 is the same network */
	ban_five_times(g, &set, "2001:db8:5::77", t, set.ban_time_max);
	t += set.ban_time_max + 10;
	assert_true(guard_banned(g, &set, "2001:db8:5:0:ffff::1", t - 20, NULL));
	/* a quiet spell longer than ban_time_max: a first offence again */
	t += set.ban_time_max + 1;
	ban_five_times(g, &set, "2001:db8:5::1", t, 900);
	guard_free(&g);
}

static void test_allowed_and_disabled(void **state)
{
	struct guard_settings set = defaults();
	struct guard *g = guard_new(NULL);

	(void)state;
	for (int i = 0; i < 20; i++)
		assert_int_equal(guard_failure(g, &set, "192.0.2.9", T0 + i), 0);
	assert_false(guard_banned(g, &set, "192.0.2.9", T0 + 20, NULL));
	for (int i = 0; i < 20; i++)
		assert_int_equal(guard_failure(g, &set, "unix", T0 + i), 0);
	ban_five_times(g, &set, "198.51.100.4", T0, 900);
	set.enabled = false;
	assert_false(guard_banned(g, &set, "198.51.100.4", T0 + 10, NULL));
	assert_int_equal(guard_failure(g, &set, "198.51.100.5", T0), 0);
	guard_free(&g);
}

struct seen {
	unsigned count;
	char keys[4][GUARD_KEY_MAX];
	time_t until[4];
};

static void collect(const struct guard_ban *ban, void *context)
{
	struct seen *s = context;

	if (s->count < 4) {
		snprintf(s->keys[s->count], GUARD_KEY_MAX, "%s", ban->key);
		s->until[s->count] = ban->until;
	}
	s->count++;
}

/* Changed bans are handed out once; admin bans and lifted ones. */
static void test_each_and_admin(void **state)
{
	struct guard_settings set = defaults();
	struct guard *g = guard_new(NULL);
	struct seen s = {0};

	(void)state;
	ban_five_times(g, &set, "198.51.100.6", T0, 900);
	guard_each_ban(g, T0 + 5, true, collect, &s);
	assert_int_equal(s.count, 1);
	assert_string_equal(s.keys[0], "198.51.100.6");
	assert_int_equal(s.until[0], T0 + 904);
	memset(&s, 0, sizeof(s));
	guard_each_ban(g, T0 + 5, true, collect, &s);
	assert_int_equal(s.count, 0);
	assert_true(guard_set_ban(g, "2001:db8:9::1", T0 + 3600, 1));
	assert_false(guard_set_ban(g, "not an address", T0 + 3600, 1));
	assert_true(guard_banned(g, &set, "2001:db8:9::2", T0 + 10, NULL));
	guard_each_ban(g, T0 + 5, true, collect, &s);
	assert_int_equal(s.count, 0); /* not marked as changed */
	guard_each_ban(g, T0 + 5, false, collect, &s);
	assert_int_equal(s.count, 2);
	/* an earlier end does not shorten a ban; 0 lifts it */
	assert_true(guard_set_ban(g, "198.51.100.6", T0 + 100, 1));
	assert_true(guard_banned(g, &set, "198.51.100.6", T0 + 500, NULL));
	assert_true(guard_set_ban(g, "198.51.100.6", 0, 0));
	assert_true(guard_set_ban(g, "2001:db8:9::/64", 0, 0));
	memset(&s, 0, sizeof(s));
	guard_each_ban(g, T0 + 5, false, collect, &s);
	assert_int_equal(s.count, 0);
	assert_false(guard_banned(g, &set, "198.51.100.6", T0 + 10, NULL));
	guard_free(&g);
}

/* A ban made in one process holds in another. */
static void test_shared(void **state)
{
	struct guard_settings set = defaults();
	const char *error = NULL;
	struct shm_table *table = guard_table_new(&error);
	struct guard *g;
	int status = 0;
	pid_t pid;

	(void)state;
	assert_non_null(table);
	g = guard_new(table);
	for (int i = 0; i < 3; i++)
		guard_failure(g, &set, "198.51.100.8", T0 + i);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct guard *c = guard_new(table);

		guard_failure(c, &set, "198.51.100.8", T0 + 3);
		_exit(guard_failure(c, &set, "198.51.100.8", T0 + 4) == 900 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(guard_banned(g, &set, "198.51.100.8", T0 + 5, NULL));
	guard_free(&g);
	shm_table_free(&table);
}

/* Many one-off failures from other networks do not evict a ban. */
static void test_ban_survives_flood(void **state)
{
	struct guard_settings set = defaults();
	struct guard *g = guard_new(NULL);
	char ip[32];

	(void)state;
	ban_five_times(g, &set, "198.51.100.9", T0, 900);
	for (unsigned i = 0; i < GUARD_NETWORKS * 3; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		guard_failure(g, &set, ip, T0 + 10);
	}
	assert_true(guard_banned(g, &set, "198.51.100.9", T0 + 11, NULL));
	guard_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_ban_after_max_failures),
	    cmocka_unit_test(test_window_slides),
	    cmocka_unit_test(test_repeat_offender),
	    cmocka_unit_test(test_allowed_and_disabled),
	    cmocka_unit_test(test_each_and_admin),
	    cmocka_unit_test(test_shared),
	    cmocka_unit_test(test_ban_survives_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
