#include "lib/sqlcache.h"

#include <stdlib.h>

#include "lib/xalloc.h"

struct sqlcache {
	sqlite3 *db;
	const char *const *sql;
	size_t count;
	sqlite3_stmt **stmts;
};

struct sqlcache *sqlcache_new(sqlite3 *db, const char *const *sql, size_t count)
{
	struct sqlcache *cache = xcalloc(1, sizeof(*cache));

	cache->db = db;
	cache->sql = sql;
	cache->count = count;
	cache->stmts = xcalloc(count > 0 ? count : 1, sizeof(*cache->stmts));
	return cache;
}

static sqlite3_stmt *prepare(struct sqlcache *cache, size_t id)
{
	sqlite3_stmt *st = NULL;

	if (cache->stmts[id] != NULL)
		return cache->stmts[id];
	if (sqlite3_prepare_v3(cache->db, cache->sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
	                       NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	cache->stmts[id] = st;
	return st;
}

int sqlcache_prepare_all(struct sqlcache *cache, const char **error_r)
{
	for (size_t i = 0; i < cache->count; i++) {
		if (prepare(cache, i) == NULL) {
			*error_r = sqlite3_errmsg(cache->db);
			return -1;
		}
	}
	return 0;
}

sqlite3_stmt *sqlcache_get(struct sqlcache *cache, size_t id)
{
	sqlite3_stmt *st;

	if (id >= cache->count)
		abort();
	if ((st = prepare(cache, id)) == NULL)
		return NULL;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

void sqlcache_reset_all(struct sqlcache *cache)
{
	for (size_t i = 0; i < cache->count; i++) {
		if (cache->stmts[i] != NULL) {
			sqlite3_reset(cache->stmts[i]);
			sqlite3_clear_bindings(cache->stmts[i]);
		}
	}
}

void sqlcache_free(struct sqlcache **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	for (size_t i = 0; i < (*cache)->count; i++)
		sqlite3_finalize((*cache)->stmts[i]);
	free((*cache)->stmts);
	free(*cache);
	*cache = NULL;
}
