/* Unit tests for src/lib/shm-table.c: records, eviction, sharing across
   fork() and a holder killed with the lock held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/shm-table.h"

struct rec {
	uint64_t count;
	uint64_t was_fresh;
};

static void bump(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct rec *r = value;

	(void)context;
	if (fresh)
		r->was_fresh++;
	r->count++;
}

static void copy_out(void *value, bool fresh, uint64_t *stamp, void *context)
{
	assert_false(fresh);
	memcpy(context, value, sizeof(struct rec));
}

static uint64_t count_of(struct shm_table *t, const char *key)
{
	struct rec r = {0};

	return shm_table_read(t, key, copy_out, &r) ? r.count : 0;
}

static struct shm_table *make(size_t slots)
{
	const char *error = NULL;
	struct shm_table *t = shm_table_new(slots, sizeof(struct rec), &error);

	if (t == NULL)
		fail_msg("shm_table_new: %s", error);
	return t;
}

static void test_records(void **state)
{
	struct shm_table *t = make(1000);
	struct rec r = {0};

	(void)state;
	assert_true(shm_table_capacity(t) >= 1000);
	assert_false(shm_table_read(t, "192.0.2.1", copy_out, &r));
	for (int i = 0; i < 3; i++)
		assert_int_equal(shm_table_update(t, "192.0.2.1", 10, bump, NULL), 0);
	assert_int_equal(shm_table_update(t, "192.0.2.2", 10, bump, NULL), 0);
	assert_true(shm_table_read(t, "192.0.2.1", copy_out, &r));
	assert_int_equal(r.count, 3);
	assert_int_equal(r.was_fresh, 1);
	assert_int_equal(count_of(t, "192.0.2.2"), 1);
	assert_int_equal(count_of(t, "192.0.2.3"), 0);
	assert_int_equal(shm_table_used(t), 2);
	shm_table_free(&t);
	assert_null(t);
	shm_table_free(&t);
}

static void test_bad_size(void **state)
{
	const char *error = NULL;

	(void)state;
	assert_null(shm_table_new(10, 0, &error));
	assert_non_null(error);
	error = NULL;
	assert_null(shm_table_new(10, SHM_TABLE_VALUE_MAX + 1, &error));
	assert_non_null(error);
}

/* One set: the ninth key evicts the slot with the smallest stamp. */
static void test_eviction(void **state)
{
	struct shm_table *t = make(1);
	char key[32];

	(void)state;
	assert_int_equal(shm_table_capacity(t), SHM_TABLE_WAYS);
	for (unsigned i = 0; i < SHM_TABLE_WAYS; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		/* k3 is the oldest */
		shm_table_update(t, key, i == 3 ? 1 : 100 + i, bump, NULL);
	}
	shm_table_update(t, "new", 500, bump, NULL);
	assert_int_equal(shm_table_used(t), SHM_TABLE_WAYS);
	assert_int_equal(count_of(t, "k3"), 0);
	assert_int_equal(count_of(t, "new"), 1);
	for (unsigned i = 0; i < SHM_TABLE_WAYS; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(count_of(t, key), i == 3 ? 0 : 1);
	}
	shm_table_free(&t);
}

static bool drop_odd(void *value, void *context)
{
	struct rec *r = value;

	(*(unsigned *)context)++;
	return r->count % 2 == 0;
}

static void test_remove_and_each(void **state)
{
	struct shm_table *t = make(100);
	unsigned seen = 0;

	(void)state;
	for (int i = 0; i < 2; i++)
		shm_table_update(t, "two", 1, bump, NULL);
	shm_table_update(t, "one", 1, bump, NULL);
	shm_table_update(t, "gone", 1, bump, NULL);
	assert_true(shm_table_remove(t, "gone"));
	assert_false(shm_table_remove(t, "gone"));
	assert_int_equal(count_of(t, "gone"), 0);
	shm_table_each(t, drop_odd, &seen);
	assert_int_equal(seen, 2);
	assert_int_equal(count_of(t, "two"), 2);
	assert_int_equal(count_of(t, "one"), 0);
	assert_int_equal(shm_table_used(t), 1);
	shm_table_free(&t);
}

#define CHILDREN 3
#define ROUNDS   3000

/* Children and parent count into one key at once: no update is lost. */
static void test_shared_by_fork(void **state)
{
	struct shm_table *t = make(64);
	pid_t pids[CHILDREN];

	(void)state;
	for (int c = 0; c < CHILDREN; c++) {
		pids[c] = fork();
		assert_true(pids[c] >= 0);
		if (pids[c] == 0) {
			for (int i = 0; i < ROUNDS; i++)
				shm_table_update(t, "alice@example.org", (uint64_t)i, bump, NULL);
			_exit(0);
		}
	}
	for (int i = 0; i < ROUNDS; i++)
		shm_table_update(t, "alice@example.org", (uint64_t)i, bump, NULL);
	for (int c = 0; c < CHILDREN; c++) {
		int status = 0;

		assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(count_of(t, "alice@example.org"), (CHILDREN + 1) * ROUNDS);
	shm_table_free(&t);
}

static void die_holding(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct rec *r = value;

	(void)fresh;
	(void)context;
	r->count = 999; /* half-way through a change */
	_exit(0);
}

/* A child killed while it holds the lock: the set is cleared, the next
   locker goes on. */
static void test_dead_holder(void **state)
{
	struct shm_table *t = make(1);
	pid_t pid;
	int status = 0;

	(void)state;
	shm_table_update(t, "a", 1, bump, NULL);
	shm_table_update(t, "a", 2, bump, NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		shm_table_update(t, "a", 3, die_holding, NULL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(count_of(t, "a"), 0);
	assert_int_equal(shm_table_update(t, "a", 4, bump, NULL), 0);
	assert_int_equal(count_of(t, "a"), 1);
	shm_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records),        cmocka_unit_test(test_bad_size),
	    cmocka_unit_test(test_eviction),       cmocka_unit_test(test_remove_and_each),
	    cmocka_unit_test(test_shared_by_fork), cmocka_unit_test(test_dead_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
