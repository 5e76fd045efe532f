/* The SQLite backend of the directory: the schema, the statements, and the
   primitives of directory-private.h over them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory/directory-private.h"
#include "lib/array.h"
#include "lib/sqlcache.h"
#include "lib/xalloc.h"

/* 1: the first schema; 2: users.scram (SCRAM-SHA-256 keys); 3: the
   sender_allow table (directory-sender.h); 4: guard_bans (the guard's
   bans, read and written by src/guard/guard-store.c); 5: quotas
   (users.quota_messages, domains.quota_bytes: the domain default,
   docs/quota.md). */
#define SCHEMA_VERSION 5

#define SENDER_ALLOW_SQL                                                                           \
	"CREATE TABLE IF NOT EXISTS sender_allow ("                                                \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"                        \
	" entry TEXT NOT NULL COLLATE NOCASE,"                                                     \
	" created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"                             \
	" UNIQUE(user_id, entry));"

/* key: a network as guard_key() gives it; until: Unix seconds; lifted: an
   admin lifted it, the running server has not applied that yet. */
#define GUARD_BANS_SQL                                                                             \
	"CREATE TABLE IF NOT EXISTS guard_bans ("                                                  \
	" key TEXT PRIMARY KEY,"                                                                   \
	" until INTEGER NOT NULL,"                                                                 \
	" offences INTEGER NOT NULL DEFAULT 1,"                                                    \
	" reason TEXT NOT NULL,"                                                                   \
	" lifted INTEGER NOT NULL DEFAULT 0,"                                                      \
	" created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS domains ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " quota_bytes INTEGER);" /* version 5: default quota, NULL: none */
    "CREATE TABLE IF NOT EXISTS users ("
    " id INTEGER PRIMARY KEY,"
    " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
    " address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " password_hash TEXT NOT NULL,"
    " quota_bytes INTEGER NOT NULL DEFAULT 1073741824,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " scram TEXT,"
    " quota_messages INTEGER NOT NULL DEFAULT 0);" /* version 5 */
    "CREATE INDEX IF NOT EXISTS users_domain ON users(domain_id);"
    "CREATE TABLE IF NOT EXISTS aliases ("
    " id INTEGER PRIMARY KEY,"
    " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
    " source TEXT NOT NULL COLLATE NOCASE,"
    " destination TEXT NOT NULL COLLATE NOCASE,"
    " created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " UNIQUE(source, destination));"
    "CREATE INDEX IF NOT EXISTS aliases_domain ON aliases(domain_id);" SENDER_ALLOW_SQL
        GUARD_BANS_SQL;

/* The steps of an existing database to the next version: migrations[v]
   takes version v to v + 1 (an empty database gets schema_sql, the
   latest, at once). */
static const char *const migrations[SCHEMA_VERSION] = {
    /* 2: SCRAM keys; NULL for every existing user: they get keys at their
       next password change */
    [1] = "ALTER TABLE users ADD COLUMN scram TEXT;",
    /* 3: senders a user may use besides its own address (docs/submission.md) */
    [2] = SENDER_ALLOW_SQL,
    /* 4: the guard's bans (docs/guard.md) */
    [3] = GUARD_BANS_SQL,
    /* 5: the message-count quota (none for existing users) and the
       domain default quota (none: users get 1 GiB) */
    [4] = "ALTER TABLE users ADD COLUMN quota_messages INTEGER NOT NULL DEFAULT 0;"
          "ALTER TABLE domains ADD COLUMN quota_bytes INTEGER;",
};

enum stmt_id {
	STMT_DOMAIN_EXISTS,
	STMT_DOMAIN_ADD,
	STMT_DOMAIN_DEL,
	STMT_DOMAIN_LIST,
	STMT_DOMAIN_USAGE,
	STMT_USER_ADD,
	STMT_USER_GET,
	STMT_USER_DEL,
	STMT_USER_SET_PASSWORD,
	STMT_USER_SET_ENABLED,
	STMT_USER_SET_QUOTA,
	STMT_USER_SET_SCRAM,
	STMT_USER_SET_QUOTA_MESSAGES,
	STMT_DOMAIN_QUOTA_GET,
	STMT_DOMAIN_QUOTA_SET,
	STMT_SCRAM_ANY,
	STMT_USER_LIST_ALL,
	STMT_USER_LIST_DOMAIN,
	STMT_ALIAS_ADD,
	STMT_ALIAS_DEL_ONE,
	STMT_ALIAS_DEL_ALL,
	STMT_ALIAS_GET,
	STMT_ALIAS_LIST_ALL,
	STMT_ALIAS_LIST_DOMAIN,
	STMT_SENDER_ADD,
	STMT_SENDER_DEL,
	STMT_SENDER_LIST,
	STMT_COUNT
};

#define USER_COLUMNS "address, password_hash, quota_bytes, enabled, scram, quota_messages"
#define DOMAIN_ID    "(SELECT id FROM domains WHERE name = ?1)"
#define USER_ID      "(SELECT id FROM users WHERE address = ?1)"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_DOMAIN_EXISTS] = "SELECT id FROM domains WHERE name = ?1",
    [STMT_DOMAIN_ADD] = "INSERT INTO domains(name) VALUES (?1)",
    [STMT_DOMAIN_DEL] = "DELETE FROM domains WHERE name = ?1",
    [STMT_DOMAIN_LIST] = "SELECT name FROM domains ORDER BY name",
    [STMT_DOMAIN_USAGE] = "SELECT (SELECT count(*) FROM users WHERE domain_id = " DOMAIN_ID ") +"
                          " (SELECT count(*) FROM aliases WHERE domain_id = " DOMAIN_ID ")",
    [STMT_USER_ADD] = "INSERT INTO users(domain_id, address, password_hash, quota_bytes)"
                      " VALUES (" DOMAIN_ID ", ?2, ?3, ?4)",
    [STMT_USER_GET] = "SELECT " USER_COLUMNS " FROM users WHERE address = ?1",
    [STMT_USER_DEL] = "DELETE FROM users WHERE address = ?1",
    [STMT_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2, scram = NULL"
                               " WHERE address = ?1",
    [STMT_USER_SET_ENABLED] = "UPDATE users SET enabled = ?2 WHERE address = ?1",
    [STMT_USER_SET_QUOTA] = "UPDATE users SET quota_bytes = ?2 WHERE address = ?1",
    [STMT_USER_SET_SCRAM] = "UPDATE users SET scram = NULLIF(?2, '') WHERE address = ?1",
    [STMT_USER_SET_QUOTA_MESSAGES] = "UPDATE users SET quota_messages = ?2 WHERE address = ?1",
    [STMT_DOMAIN_QUOTA_GET] = "SELECT quota_bytes FROM domains WHERE name = ?1",
    /* ?2 NULL removes the default */
    [STMT_DOMAIN_QUOTA_SET] = "UPDATE domains SET quota_bytes = ?2 WHERE name = ?1",
    [STMT_SCRAM_ANY] = "SELECT 1 FROM users WHERE scram IS NOT NULL LIMIT 1",
    [STMT_USER_LIST_ALL] = "SELECT " USER_COLUMNS " FROM users ORDER BY address",
    [STMT_USER_LIST_DOMAIN] =
        "SELECT " USER_COLUMNS " FROM users WHERE domain_id = " DOMAIN_ID " ORDER BY address",
    [STMT_ALIAS_ADD] = "INSERT INTO aliases(domain_id, source, destination)"
                       " VALUES (" DOMAIN_ID ", ?2, ?3)",
    [STMT_ALIAS_DEL_ONE] = "DELETE FROM aliases WHERE source = ?1 AND destination = ?2",
    [STMT_ALIAS_DEL_ALL] = "DELETE FROM aliases WHERE source = ?1",
    [STMT_ALIAS_GET] = "SELECT destination FROM aliases WHERE source = ?1 ORDER BY id",
    [STMT_ALIAS_LIST_ALL] = "SELECT source, destination FROM aliases"
                            " ORDER BY source, destination",
    [STMT_ALIAS_LIST_DOMAIN] =
        "SELECT source, destination FROM aliases WHERE domain_id = " DOMAIN_ID
        " ORDER BY source, destination",
    [STMT_SENDER_ADD] = "INSERT INTO sender_allow(user_id, entry)"
                        " VALUES (" USER_ID ", ?2)",
    [STMT_SENDER_DEL] = "DELETE FROM sender_allow WHERE user_id = " USER_ID " AND entry = ?2",
    [STMT_SENDER_LIST] =
        "SELECT entry FROM sender_allow WHERE user_id = " USER_ID " ORDER BY entry",
};

struct sqlite_be {
	sqlite3 *db;
	struct sqlcache *stmts;
};

/* Errors from directory_open(), which has no handle to own them. */
static __thread char open_error[256];

static sqlite3 *be_db(struct directory *dir)
{
	return ((struct sqlite_be *)dir->be)->db;
}

static int db_error(struct directory *dir)
{
	sqlite3 *db = be_db(dir);

	if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
		return directory_fail(dir, DIRECTORY_ERR_EXISTS, "already exists");
	return directory_fail(dir, DIRECTORY_ERR_DATABASE, "database error: %s",
	                      sqlite3_errmsg(db));
}

/* The cached statement id with up to three text parameters bound (NULL:
   not bound). NULL after recording a database error. */
static sqlite3_stmt *stmt(struct directory *dir, enum stmt_id id, const char *p1, const char *p2,
                          const char *p3)
{
	sqlite3_stmt *st = sqlcache_get(((struct sqlite_be *)dir->be)->stmts, id);
	const char *params[3] = {p1, p2, p3};

	if (st == NULL) {
		db_error(dir);
		return NULL;
	}
	for (int i = 0; i < 3; i++) {
		if (params[i] != NULL)
			sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
	}
	return st;
}

/* Run a statement that returns no rows: the number of changed rows, or
   -1. */
static int run(struct directory *dir, sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(dir);
	return sqlite3_changes(be_db(dir));
}

/* Step st for one row: 1 row (left unreset), 0 none, -1. */
static int step_row(struct directory *dir, sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_error(dir);
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return xstrdup(s != NULL ? (const char *)s : "");
}

/* --- domains --- */

static int sq_domain_exists(struct directory *dir, const char *domain)
{
	sqlite3_stmt *st = stmt(dir, STMT_DOMAIN_EXISTS, domain, NULL, NULL);
	int ret = step_row(dir, st);

	if (ret == 1)
		sqlite3_reset(st);
	return ret;
}

static int sq_domain_add(struct directory *dir, const char *domain)
{
	return run(dir, stmt(dir, STMT_DOMAIN_ADD, domain, NULL, NULL)) < 0 ? -1 : 0;
}

static int sq_domain_usage(struct directory *dir, const char *domain, uint64_t *count_r)
{
	sqlite3_stmt *st = stmt(dir, STMT_DOMAIN_USAGE, domain, NULL, NULL);
	int ret = step_row(dir, st);

	if (ret == 0)
		return directory_fail(dir, DIRECTORY_ERR_DATABASE, "database error: no row");
	if (ret < 0)
		return -1;
	*count_r = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int sq_domain_del(struct directory *dir, const char *domain)
{
	int changes = run(dir, stmt(dir, STMT_DOMAIN_DEL, domain, NULL, NULL));

	return changes < 0 ? -1 : changes > 0;
}

static int sq_domain_quota_get(struct directory *dir, const char *domain, uint64_t *bytes_r)
{
	sqlite3_stmt *st = stmt(dir, STMT_DOMAIN_QUOTA_GET, domain, NULL, NULL);
	int ret = step_row(dir, st);

	if (ret != 1)
		return ret;
	ret = sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (ret)
		*bytes_r = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ret;
}

static int sq_domain_quota_set(struct directory *dir, const char *domain, uint64_t bytes,
                               bool clear)
{
	sqlite3_stmt *st = stmt(dir, STMT_DOMAIN_QUOTA_SET, domain, NULL, NULL);
	int changes;

	if (st != NULL && !clear)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)bytes);
	else if (st != NULL)
		sqlite3_bind_null(st, 2);
	changes = run(dir, st);
	return changes < 0 ? -1 : changes > 0;
}

/* Column 0 of every row of st, as a malloc'ed array. */
static int collect_strings(struct directory *dir, sqlite3_stmt *st, char ***items_r,
                           size_t *count_r)
{
	ARRAY(char *) items = ARRAY_INIT;
	char **stolen;
	size_t count;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		array_append(&items, column_dup(st, 0));
	sqlite3_reset(st);
	stolen = array_steal(&items, &count);
	if (rc != SQLITE_DONE) {
		directory_names_free(&stolen, count);
		return db_error(dir);
	}
	*items_r = stolen;
	*count_r = count;
	return 0;
}

static int sq_domain_list(struct directory *dir, char ***names_r, size_t *count_r)
{
	return collect_strings(dir, stmt(dir, STMT_DOMAIN_LIST, NULL, NULL, NULL), names_r,
	                       count_r);
}

/* --- users --- */

static void row_to_user(sqlite3_stmt *st, struct directory_user *user)
{
	user->address = column_dup(st, 0);
	user->password_hash = column_dup(st, 1);
	user->quota_bytes = (uint64_t)sqlite3_column_int64(st, 2);
	user->enabled = sqlite3_column_int(st, 3) != 0;
	user->scram = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : column_dup(st, 4);
	user->quota_messages = (uint64_t)sqlite3_column_int64(st, 5);
}

static int sq_user_get(struct directory *dir, const char *address, struct directory_user *user_r)
{
	sqlite3_stmt *st = stmt(dir, STMT_USER_GET, address, NULL, NULL);
	int ret = step_row(dir, st);

	if (ret == 1) {
		if (user_r != NULL)
			row_to_user(st, user_r);
		sqlite3_reset(st);
	}
	return ret;
}

static int sq_user_add(struct directory *dir, const char *domain, const char *address,
                       const char *password_hash, uint64_t quota_bytes)
{
	sqlite3_stmt *st = stmt(dir, STMT_USER_ADD, domain, address, password_hash);

	if (st != NULL)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)quota_bytes);
	return run(dir, st) < 0 ? -1 : 0;
}

static int sq_user_del(struct directory *dir, const char *address)
{
	int changes = run(dir, stmt(dir, STMT_USER_DEL, address, NULL, NULL));

	return changes < 0 ? -1 : changes > 0;
}

static int sq_user_update(struct directory *dir, const char *address,
                          enum directory_user_field field, const char *text, uint64_t num)
{
	static const enum stmt_id ids[] = {
	    [DIRECTORY_FIELD_PASSWORD] = STMT_USER_SET_PASSWORD,
	    [DIRECTORY_FIELD_ENABLED] = STMT_USER_SET_ENABLED,
	    [DIRECTORY_FIELD_QUOTA] = STMT_USER_SET_QUOTA,
	    [DIRECTORY_FIELD_SCRAM] = STMT_USER_SET_SCRAM,
	    [DIRECTORY_FIELD_QUOTA_MESSAGES] = STMT_USER_SET_QUOTA_MESSAGES,
	};
	sqlite3_stmt *st = stmt(dir, ids[field], address, text, NULL);
	int changes;

	if (st != NULL && text == NULL)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)num);
	changes = run(dir, st);
	return changes < 0 ? -1 : changes > 0;
}

static int sq_scram_any(struct directory *dir)
{
	sqlite3_stmt *st = stmt(dir, STMT_SCRAM_ANY, NULL, NULL, NULL);
	int ret = step_row(dir, st);

	if (ret == 1)
		sqlite3_reset(st);
	return ret;
}

static int sq_user_list(struct directory *dir, const char *domain, struct directory_user **users_r,
                        size_t *count_r)
{
	sqlite3_stmt *st = domain == NULL ? stmt(dir, STMT_USER_LIST_ALL, NULL, NULL, NULL)
	                                  : stmt(dir, STMT_USER_LIST_DOMAIN, domain, NULL, NULL);
	ARRAY(struct directory_user) list = ARRAY_INIT;
	struct directory_user *users;
	size_t count;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_to_user(st, array_push(&list));
	sqlite3_reset(st);
	users = array_steal(&list, &count);
	if (rc != SQLITE_DONE) {
		directory_user_list_free(&users, count);
		return db_error(dir);
	}
	*users_r = users;
	*count_r = count;
	return 0;
}

/* --- aliases --- */

static int sq_alias_add(struct directory *dir, const char *domain, const char *source,
                        const char *destination)
{
	return run(dir, stmt(dir, STMT_ALIAS_ADD, domain, source, destination)) < 0 ? -1 : 0;
}

static int sq_alias_del(struct directory *dir, const char *source, const char *destination)
{
	if (destination != NULL)
		return run(dir, stmt(dir, STMT_ALIAS_DEL_ONE, source, destination, NULL));
	return run(dir, stmt(dir, STMT_ALIAS_DEL_ALL, source, NULL, NULL));
}

static int sq_alias_destinations(struct directory *dir, const char *source, char ***dests_r,
                                 size_t *count_r)
{
	return collect_strings(dir, stmt(dir, STMT_ALIAS_GET, source, NULL, NULL), dests_r,
	                       count_r);
}

static int sq_alias_list(struct directory *dir, const char *domain,
                         struct directory_alias **aliases_r, size_t *count_r)
{
	sqlite3_stmt *st = domain == NULL ? stmt(dir, STMT_ALIAS_LIST_ALL, NULL, NULL, NULL)
	                                  : stmt(dir, STMT_ALIAS_LIST_DOMAIN, domain, NULL, NULL);
	ARRAY(struct directory_alias) list = ARRAY_INIT;
	struct directory_alias *aliases;
	size_t count;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct directory_alias *a = array_push(&list);

		a->source = column_dup(st, 0);
		a->destination = column_dup(st, 1);
	}
	sqlite3_reset(st);
	aliases = array_steal(&list, &count);
	if (rc != SQLITE_DONE) {
		directory_alias_list_free(&aliases, count);
		return db_error(dir);
	}
	*aliases_r = aliases;
	*count_r = count;
	return 0;
}

/* --- allowed senders --- */

static int sq_sender_add(struct directory *dir, const char *user, const char *entry)
{
	return run(dir, stmt(dir, STMT_SENDER_ADD, user, entry, NULL)) < 0 ? -1 : 0;
}

static int sq_sender_del(struct directory *dir, const char *user, const char *entry)
{
	return run(dir, stmt(dir, STMT_SENDER_DEL, user, entry, NULL));
}

static int sq_sender_list(struct directory *dir, const char *user, char ***entries_r,
                          size_t *count_r)
{
	return collect_strings(dir, stmt(dir, STMT_SENDER_LIST, user, NULL, NULL), entries_r,
	                       count_r);
}

static void sq_close(struct directory *dir)
{
	struct sqlite_be *be = dir->be;

	sqlcache_free(&be->stmts);
	sqlite3_close(be->db);
	free(be);
}

static const struct directory_backend_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .domain_exists = sq_domain_exists,
    .domain_add = sq_domain_add,
    .domain_usage = sq_domain_usage,
    .domain_del = sq_domain_del,
    .domain_list = sq_domain_list,
    .domain_quota_get = sq_domain_quota_get,
    .domain_quota_set = sq_domain_quota_set,
    .user_get = sq_user_get,
    .user_add = sq_user_add,
    .user_del = sq_user_del,
    .user_update = sq_user_update,
    .scram_any = sq_scram_any,
    .user_list = sq_user_list,
    .alias_add = sq_alias_add,
    .alias_del = sq_alias_del,
    .alias_destinations = sq_alias_destinations,
    .alias_list = sq_alias_list,
    .sender_add = sq_sender_add,
    .sender_del = sq_sender_del,
    .sender_list = sq_sender_list,
};

/* --- opening --- */

static int open_fail(sqlite3 *db, const char *what, const char **error_r)
{
	snprintf(open_error, sizeof(open_error), "%s: %s", what,
	         db != NULL ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_close(db);
	*error_r = open_error;
	return -1;
}

/* Create the file 0600 before SQLite does (it would use the umask): it
   holds password hashes. SQLite gives its -wal and -shm files the same
   mode. */
static int create_private(const char *path, const char **error_r)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(open_error, sizeof(open_error), "cannot open %s: %s", path,
		         strerror(errno));
		*error_r = open_error;
		return -1;
	}
	close(fd);
	return 0;
}

static int schema_version(sqlite3 *db, int *version_r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Run sql to take the schema to version to, in one transaction, unless
   another opener got there first (the version is read again under the
   lock: an ALTER TABLE must not run twice). */
static int schema_step(sqlite3 *db, const char *sql, int to, const char **error_r)
{
	char *text = xasprintf("%s PRAGMA user_version = %d; COMMIT;", sql, to);
	int version = -1;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    schema_version(db, &version) < 0) {
		free(text);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return open_fail(db, "cannot read the schema version", error_r);
	}
	if (version >= to) {
		free(text);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return 0;
	}
	if (sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK) {
		free(text);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return open_fail(db, "cannot create or migrate the directory schema", error_r);
	}
	free(text);
	return 0;
}

static int schema_setup(sqlite3 *db, const char **error_r)
{
	int version;

	if (schema_version(db, &version) < 0)
		return open_fail(db, "cannot read the schema version", error_r);
	if (version > SCHEMA_VERSION) {
		snprintf(open_error, sizeof(open_error),
		         "directory schema version %d is newer than this tern supports (%d)",
		         version, SCHEMA_VERSION);
		sqlite3_close(db);
		*error_r = open_error;
		return -1;
	}
	if (version == SCHEMA_VERSION)
		return 0;
	if (version == 0)
		return schema_step(db, schema_sql, SCHEMA_VERSION, error_r);
	for (; version < SCHEMA_VERSION; version++) {
		if (schema_step(db, migrations[version], version + 1, error_r) < 0)
			return -1;
	}
	return 0;
}

/* The page cache of one connection, in KiB (PRAGMA cache_size). */
#define DIRECTORY_CACHE_KB "128"

int directory_open(const char *path, struct directory **dir_r, const char **error_r)
{
	struct sqlite_be *be;
	sqlite3 *db = NULL;

	if (create_private(path, error_r) < 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return open_fail(db, path, error_r);
	sqlite3_busy_timeout(db, 5000);
	/* cache_size: a role's connection reads one user row per login; with
	   SQLite's default (2 MB) its page cache grows by a page for nearly
	   every distinct user. The file is in the kernel's page cache anyway. */
	if (sqlite3_exec(db,
	                 "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
	                 " PRAGMA cache_size = -" DIRECTORY_CACHE_KB ";",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return open_fail(db, path, error_r);
	if (schema_setup(db, error_r) < 0)
		return -1;
	be = xcalloc(1, sizeof(*be));
	be->db = db;
	be->stmts = sqlcache_new(db, stmt_sql, STMT_COUNT);
	*dir_r = directory_new(&sqlite_ops, be);
	return 0;
}
