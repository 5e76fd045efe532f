#ifndef TERN_LIB_SQLCACHE_H
#define TERN_LIB_SQLCACHE_H

/*
 * A cache of prepared SQLite statements for one connection: a fixed table
 * of SQL texts indexed by the caller's enum, each prepared once (with
 * SQLITE_PREPARE_PERSISTENT) on first use or all at once, and handed out
 * reset with its bindings cleared. Like the connection, a cache is used by
 * one thread at a time.
 */

#include <stddef.h>

#include <sqlite3.h>

struct sqlcache;

/* A cache for db (not owned: close it after sqlcache_free()) over the
   count SQL texts of sql, which must outlive the cache (a static table).
   Nothing is prepared yet. Never returns NULL. */
struct sqlcache *sqlcache_new(sqlite3 *db, const char *const *sql, size_t count);

/* Prepare every statement now, so a schema error shows at open time.
   Returns 0, or -1 with *error_r set to sqlite3_errmsg() of the connection
   (valid until the next call on it). */
int sqlcache_prepare_all(struct sqlcache *cache, const char **error_r);

/* Statement id (< count), prepared if needed, reset and with its bindings
   cleared. Owned by the cache: do not finalize it. Returns NULL when the
   statement cannot be prepared (sqlite3_errmsg() of the connection says
   why); id out of range is a bug and aborts. */
sqlite3_stmt *sqlcache_get(struct sqlcache *cache, size_t id);

/* Reset and clear the bindings of every prepared statement (so none holds
   a read transaction open). */
void sqlcache_reset_all(struct sqlcache *cache);

/* Finalize the statements and free the cache; the connection stays open.
   NULL is fine; sets *cache to NULL. */
void sqlcache_free(struct sqlcache **cache);

#endif
