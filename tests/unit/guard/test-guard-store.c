/* Unit tests for src/guard/guard-store.c: bans written and read back, an
   admin's bans and lifts reaching a running guard, and old rows purged.
   The database is a directory's, made by directory_open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "directory/directory.h"
#include "guard/guard-store.h"
#include "lib/xalloc.h"

#define T0 ((time_t)1800000000)

struct fixture {
	char *dir, *path;
	struct guard_store *store;
	struct guard_settings set;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-guard-XXXXXX";
	struct directory *dir = NULL;
	const char *derr = NULL;
	char *error = NULL;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->dir = xstrdup(tmpl);
	f->path = xasprintf("%s/directory.db", tmpl);
	if (directory_open(f->path, &dir, &derr) < 0)
		fail_msg("directory_open: %s", derr);
	directory_close(&dir);
	if (guard_store_open(f->path, &f->store, &error) < 0)
		fail_msg("guard_store_open: %s", error);
	f->set = (struct guard_settings){.enabled = true,
	                                 .max_failures = 3,
	                                 .window = 600,
	                                 .ban_time = 900,
	                                 .ban_time_max = 86400};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *wal = xasprintf("%s-wal", f->path), *shm = xasprintf("%s-shm", f->path);

	guard_store_close(&f->store);
	unlink(f->path);
	unlink(wal);
	unlink(shm);
	rmdir(f->dir);
	free(wal);
	free(shm);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

static void ban(struct guard *g, const struct guard_settings *set, const char *ip, time_t at)
{
	for (unsigned i = 0; i < set->max_failures; i++)
		guard_failure(g, set, ip, at);
	assert_true(guard_banned(g, set, ip, at, NULL));
}

struct listing {
	unsigned count;
	char text[512];
};

static void list_one(const struct guard_ban *b, const char *reason, void *context)
{
	struct listing *l = context;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s %lld %u %s;", b->key, (long long)b->until,
	         b->offences, reason);
	l->count++;
}

static struct listing list(struct fixture *f, time_t now)
{
	struct listing l = {0};
	char *error = NULL;

	assert_int_equal(guard_store_list(f->store, now, list_one, &l, &error), 0);
	return l;
}

/* A ban set in one run is written and comes back in the next. */
static void test_survives_restart(void **state)
{
	struct fixture *f = *state;
	struct guard *g = guard_new(NULL);
	char *error = NULL;
	struct listing l;

	assert_int_equal(guard_store_sync(f->store, g, T0, 86400, &error), 0);
	ban(g, &f->set, "198.51.100.1", T0);
	assert_int_equal(guard_store_sync(f->store, g, T0 + 1, 86400, &error), 1);
	/* written once */
	assert_int_equal(guard_store_sync(f->store, g, T0 + 2, 86400, &error), 0);
	l = list(f, T0 + 3);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.text, "198.51.100.1 1800000900 1 failures;");
	guard_free(&g);
	/* the next run: a fresh table, the first round reads the rows */
	g = guard_new(NULL);
	guard_store_close(&f->store);
	assert_int_equal(guard_store_open(f->path, &f->store, &error), 0);
	assert_false(guard_banned(g, &f->set, "198.51.100.1", T0 + 10, NULL));
	assert_int_equal(guard_store_sync(f->store, g, T0 + 10, 86400, &error), 0);
	assert_true(guard_banned(g, &f->set, "198.51.100.1", T0 + 10, NULL));
	/* and the offences: the next ban is twice as long */
	ban(g, &f->set, "198.51.100.1", T0 + 1000);
	assert_true(guard_banned(g, &f->set, "198.51.100.1", T0 + 1000 + 1799, NULL));
	guard_free(&g);
}

/* `tern ban add` and `del` on another connection reach a running guard at
   its next round. */
static void test_admin_changes(void **state)
{
	struct fixture *f = *state;
	struct guard *g = guard_new(NULL);
	struct guard_store *admin = NULL;
	char *error = NULL;

	assert_int_equal(guard_store_sync(f->store, g, T0, 86400, &error), 0);
	assert_int_equal(guard_store_open(f->path, &admin, &error), 0);
	assert_int_equal(guard_store_add(admin, "2001:db8:7::1", T0 + 3600, "admin", &error), 0);
	assert_int_equal(guard_store_add(admin, "nonsense", T0 + 3600, "admin", &error), -1);
	assert_non_null(strstr(error, "not an address"));
	free(error);
	error = NULL;
	assert_false(guard_banned(g, &f->set, "2001:db8:7::99", T0 + 1, NULL));
	if (guard_store_sync(f->store, g, T0 + 1, 86400, &error) != 0)
		fail_msg("%s", error);
	assert_true(guard_banned(g, &f->set, "2001:db8:7::99", T0 + 1, NULL));
	/* an automatic ban, then both lifted by the admin */
	ban(g, &f->set, "198.51.100.2", T0 + 2);
	assert_int_equal(guard_store_sync(f->store, g, T0 + 3, 86400, &error), 1);
	assert_int_equal(guard_store_lift(admin, "198.51.100.2", &error), 1);
	assert_int_equal(guard_store_lift(admin, "2001:db8:7::/64", &error), 1);
	assert_int_equal(guard_store_lift(admin, "198.51.100.3", &error), 0);
	assert_int_equal(list(f, T0 + 4).count, 0);
	assert_int_equal(guard_store_sync(f->store, g, T0 + 4, 86400, &error), 0);
	assert_false(guard_banned(g, &f->set, "198.51.100.2", T0 + 5, NULL));
	assert_false(guard_banned(g, &f->set, "2001:db8:7::1", T0 + 5, NULL));
	guard_store_close(&admin);
	guard_free(&g);
}

/* Rows that ended more than keep seconds ago go. */
static void test_purge(void **state)
{
	struct fixture *f = *state;
	struct guard *g = guard_new(NULL);
	char *error = NULL;

	ban(g, &f->set, "198.51.100.4", T0);
	assert_int_equal(guard_store_sync(f->store, g, T0, 100, &error), 1);
	assert_int_equal(list(f, T0).count, 1);
	/* ended at T0 + 900; kept until T0 + 1000 */
	assert_int_equal(guard_store_sync(f->store, g, T0 + 999, 100, &error), 0);
	assert_int_equal(list(f, T0 - 1).count, 1);
	assert_int_equal(guard_store_sync(f->store, g, T0 + 1001, 100, &error), 0);
	assert_int_equal(list(f, T0 - 1).count, 0);
	guard_free(&g);
}

static void test_open_missing(void **state)
{
	struct guard_store *s = NULL;
	char *error = NULL;

	(void)state;
	assert_int_equal(guard_store_open("/nonexistent/directory.db", &s, &error), -1);
	assert_null(s);
	assert_non_null(error);
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_survives_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
	    cmocka_unit_test(test_open_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
