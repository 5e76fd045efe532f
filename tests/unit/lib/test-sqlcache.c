/* Unit tests for src/lib/sqlcache.c, on an in-memory database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/sqlcache.h"

enum { ST_INSERT, ST_COUNT_ROWS, ST_BAD, ST_N };

static const char *const sql[ST_N] = {
    [ST_INSERT] = "INSERT INTO t(v) VALUES (?1)",
    [ST_COUNT_ROWS] = "SELECT count(*) FROM t",
    [ST_BAD] = "SELECT nonsense FROM nowhere",
};

static sqlite3 *open_db(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(v INTEGER)", NULL, NULL, NULL),
	                 SQLITE_OK);
	return db;
}

static void test_reuse_and_reset(void **state)
{
	sqlite3 *db = open_db();
	struct sqlcache *cache = sqlcache_new(db, sql, ST_N);
	sqlite3_stmt *st, *again;

	st = sqlcache_get(cache, ST_INSERT);
	assert_non_null(st);
	sqlite3_bind_int(st, 1, 7);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	/* the same statement, with its binding cleared: inserts NULL */
	again = sqlcache_get(cache, ST_INSERT);
	assert_ptr_equal(st, again);
	assert_int_equal(sqlite3_step(again), SQLITE_DONE);
	st = sqlcache_get(cache, ST_COUNT_ROWS);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	/* left mid-row; get() resets it */
	st = sqlcache_get(cache, ST_COUNT_ROWS);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	st = sqlcache_get(cache, ST_INSERT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_exec(db, "SELECT v FROM t WHERE v IS NULL", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlcache_reset_all(cache);
	sqlcache_free(&cache);
	assert_null(cache);
	sqlcache_free(&cache);
	assert_int_equal(sqlite3_close(db), SQLITE_OK); /* nothing left unfinalized */
}

static void test_prepare_errors(void **state)
{
	sqlite3 *db = open_db();
	struct sqlcache *cache = sqlcache_new(db, sql, ST_N);
	const char *error = NULL;

	assert_null(sqlcache_get(cache, ST_BAD));
	assert_int_equal(sqlcache_prepare_all(cache, &error), -1);
	assert_non_null(error);
	assert_non_null(strstr(error, "nowhere"));
	sqlcache_free(&cache);
	cache = sqlcache_new(db, sql, ST_BAD);
	assert_int_equal(sqlcache_prepare_all(cache, &error), 0);
	sqlcache_free(&cache);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Statements are prepared on first use only: an open index that runs a
   few statements holds only those (memory per idle user). */
static void test_lazy_prepare(void **state)
{
	sqlite3 *db = open_db();
	struct sqlcache *cache = sqlcache_new(db, sql, ST_N);
	sqlite3_stmt *st;

	assert_null(sqlite3_next_stmt(db, NULL));
	st = sqlcache_get(cache, ST_COUNT_ROWS);
	assert_non_null(st);
	assert_ptr_equal(sqlite3_next_stmt(db, NULL), st);
	assert_null(sqlite3_next_stmt(db, st));
	assert_ptr_equal(sqlcache_get(cache, ST_COUNT_ROWS), st);
	assert_null(sqlite3_next_stmt(db, st));
	sqlcache_reset_all(cache);
	assert_null(sqlite3_next_stmt(db, st));
	sqlcache_free(&cache);
	assert_null(sqlite3_next_stmt(db, NULL));
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reuse_and_reset),
	    cmocka_unit_test(test_prepare_errors),
	    cmocka_unit_test(test_lazy_prepare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
