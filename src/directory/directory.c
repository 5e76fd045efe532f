#include "directory/directory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/address.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define SCHEMA_VERSION 1

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS domains ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE IF NOT EXISTS users ("
    " id INTEGER PRIMARY KEY,"
    " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
    " address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " password_hash TEXT NOT NULL,"
    " quota_bytes INTEGER NOT NULL DEFAULT 1073741824,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE INDEX IF NOT EXISTS users_domain ON users(domain_id);"
    "CREATE TABLE IF NOT EXISTS aliases ("
    " id INTEGER PRIMARY KEY,"
    " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
    " source TEXT NOT NULL COLLATE NOCASE,"
    " destination TEXT NOT NULL COLLATE NOCASE,"
    " created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " UNIQUE(source, destination));"
    "CREATE INDEX IF NOT EXISTS aliases_domain ON aliases(domain_id);";

enum stmt_id {
	STMT_DOMAIN_ID,
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
	STMT_USER_LIST_ALL,
	STMT_USER_LIST_DOMAIN,
	STMT_ALIAS_ADD,
	STMT_ALIAS_DEL_ONE,
	STMT_ALIAS_DEL_ALL,
	STMT_ALIAS_GET,
	STMT_ALIAS_LIST_ALL,
	STMT_ALIAS_LIST_DOMAIN,
	STMT_COUNT
};

#define USER_COLUMNS "address, password_hash, quota_bytes, enabled"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_DOMAIN_ID] = "SELECT id FROM domains WHERE name = ?1",
    [STMT_DOMAIN_ADD] = "INSERT INTO domains(name) VALUES (?1)",
    [STMT_DOMAIN_DEL] = "DELETE FROM domains WHERE id = ?1",
    [STMT_DOMAIN_LIST] = "SELECT name FROM domains ORDER BY name",
    [STMT_DOMAIN_USAGE] = "SELECT (SELECT count(*) FROM users WHERE domain_id = ?1) +"
                          " (SELECT count(*) FROM aliases WHERE domain_id = ?1)",
    [STMT_USER_ADD] = "INSERT INTO users(domain_id, address, password_hash, quota_bytes)"
                      " VALUES (?1, ?2, ?3, ?4)",
    [STMT_USER_GET] = "SELECT " USER_COLUMNS " FROM users WHERE address = ?1",
    [STMT_USER_DEL] = "DELETE FROM users WHERE address = ?1",
    [STMT_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE address = ?1",
    [STMT_USER_SET_ENABLED] = "UPDATE users SET enabled = ?2 WHERE address = ?1",
    [STMT_USER_SET_QUOTA] = "UPDATE users SET quota_bytes = ?2 WHERE address = ?1",
    [STMT_USER_LIST_ALL] = "SELECT " USER_COLUMNS " FROM users ORDER BY address",
    [STMT_USER_LIST_DOMAIN] =
        "SELECT " USER_COLUMNS " FROM users WHERE domain_id = ?1 ORDER BY address",
    [STMT_ALIAS_ADD] = "INSERT INTO aliases(domain_id, source, destination) VALUES (?1, ?2, ?3)",
    [STMT_ALIAS_DEL_ONE] = "DELETE FROM aliases WHERE source = ?1 AND destination = ?2",
    [STMT_ALIAS_DEL_ALL] = "DELETE FROM aliases WHERE source = ?1",
    [STMT_ALIAS_GET] = "SELECT destination FROM aliases WHERE source = ?1 ORDER BY id",
    [STMT_ALIAS_LIST_ALL] = "SELECT source, destination FROM aliases"
                            " ORDER BY source, destination",
    [STMT_ALIAS_LIST_DOMAIN] = "SELECT source, destination FROM aliases WHERE domain_id = ?1"
                               " ORDER BY source, destination",
};

struct directory {
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT_COUNT];
	char *error; /* the last error message, owned here */
};

/* A growable list of strings, used for list results and resolution. */
struct strlist {
	char **items;
	size_t count;
};

/* An address after validation: "local@domain" or, for a catch-all source,
   "@domain"; domain points into text. */
struct norm_addr {
	char *text;
	const char *domain;
};

/* Errors from directory_open(), which has no handle to own them. */
static __thread char open_error[256];

static const char *set_error(struct directory *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *set_error(struct directory *dir, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("out of memory");
	va_end(ap);
	free(dir->error);
	dir->error = msg;
	return msg;
}

static int db_error(struct directory *dir, const char **error_r)
{
	*error_r = set_error(dir, "database error: %s", sqlite3_errmsg(dir->db));
	return -1;
}

/* The cached statement id, reset and with its bindings cleared. */
static sqlite3_stmt *stmt_get(struct directory *dir, enum stmt_id id)
{
	sqlite3_stmt *st = dir->stmts[id];

	if (st == NULL) {
		if (sqlite3_prepare_v3(dir->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
		                       NULL) != SQLITE_OK)
			return NULL;
		dir->stmts[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
	sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
}

/* Run a statement that returns no rows. 0 or -1 (database error); the
   number of changed rows in *changes_r when not NULL. */
static int stmt_exec(struct directory *dir, sqlite3_stmt *st, int *changes_r, const char **error_r)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(dir, error_r);
	if (changes_r != NULL)
		*changes_r = sqlite3_changes(dir->db);
	return 0;
}

static bool is_unique_violation(struct directory *dir)
{
	return sqlite3_extended_errcode(dir->db) == SQLITE_CONSTRAINT_UNIQUE;
}

static void strlist_add(struct strlist *l, const char *s)
{
	l->items = xreallocarray(l->items, l->count + 1, sizeof(*l->items));
	l->items[l->count++] = xstrdup(s);
}

static bool strlist_contains(const struct strlist *l, const char *s)
{
	/* ASCII case folded, like the COLLATE NOCASE columns */
	for (size_t i = 0; i < l->count; i++) {
		if (strcasecmp(l->items[i], s) == 0)
			return true;
	}
	return false;
}

static void strlist_free(struct strlist *l)
{
	directory_names_free(&l->items, l->count);
	l->count = 0;
}

void directory_names_free(char ***names, size_t count)
{
	if (names == NULL || *names == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
}

/* --- address validation, through lib/address.h only --- */

static int normalize_mailbox(struct directory *dir, const char *s, struct norm_addr *out,
                             const char **error_r)
{
	struct address addr;
	const char *reason;

	if (address_parse_mailbox(s, strlen(s), &addr, &reason) < 0) {
		*error_r = set_error(dir, "malformed address \"%.300s\": %s", s, reason);
		return -1;
	}
	if (addr.domain[0] == '[') {
		address_free(&addr);
		*error_r = set_error(dir,
		                     "malformed address \"%.300s\": an address literal is "
		                     "not a mail domain",
		                     s);
		return -1;
	}
	out->text = address_normalize(&addr);
	address_free(&addr);
	/* a quoted local part may hold '@', the domain never does */
	out->domain = strrchr(out->text, '@') + 1;
	return 0;
}

/* A domain name, validated as the domain of a mailbox. */
static int normalize_domain(struct directory *dir, const char *name, char **domain_r,
                            const char **error_r)
{
	char *probe = xasprintf("postmaster@%s", name);
	struct norm_addr na;
	int ret = normalize_mailbox(dir, probe, &na, error_r);

	free(probe);
	if (ret < 0) {
		*error_r = set_error(dir, "malformed domain name \"%.300s\"", name);
		return -1;
	}
	*domain_r = xstrdup(na.domain);
	free(na.text);
	return 0;
}

/* An alias source: a mailbox, or "@domain" for a catch-all. */
static int normalize_source(struct directory *dir, const char *s, struct norm_addr *out,
                            const char **error_r)
{
	char *domain;

	if (s[0] != '@')
		return normalize_mailbox(dir, s, out, error_r);
	if (normalize_domain(dir, s + 1, &domain, error_r) < 0)
		return -1;
	out->text = xasprintf("@%s", domain);
	out->domain = out->text + 1;
	free(domain);
	return 0;
}

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

static int schema_setup(sqlite3 *db, const char **error_r)
{
	int version;
	char *sql;

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
	/* one transaction, so a concurrent opener sees all or nothing */
	sql = xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;", schema_sql,
	                SCHEMA_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		free(sql);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return open_fail(db, "cannot create the directory schema", error_r);
	}
	free(sql);
	return 0;
}

int directory_open(const char *path, struct directory **dir_r, const char **error_r)
{
	sqlite3 *db = NULL;
	struct directory *dir;

	if (create_private(path, error_r) < 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return open_fail(db, path, error_r);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;", NULL, NULL,
	                 NULL) != SQLITE_OK)
		return open_fail(db, path, error_r);
	if (schema_setup(db, error_r) < 0)
		return -1;
	dir = xcalloc(1, sizeof(*dir));
	dir->db = db;
	*dir_r = dir;
	return 0;
}

void directory_close(struct directory **dir)
{
	if (dir == NULL || *dir == NULL)
		return;
	for (size_t i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize((*dir)->stmts[i]);
	sqlite3_close((*dir)->db);
	free((*dir)->error);
	free(*dir);
	*dir = NULL;
}

/* --- domains --- */

/* 1 with the id of domain (normalised) in *id_r, 0 if it is not ours, -1 on
   a database error. */
static int domain_id(struct directory *dir, const char *domain, sqlite3_int64 *id_r,
                     const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, STMT_DOMAIN_ID);
	int rc;

	if (st == NULL)
		return db_error(dir, error_r);
	bind_text(st, 1, domain);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(dir, error_r);
	return rc == SQLITE_ROW ? 1 : 0;
}

/* Like domain_id(), but a domain that is not ours is an error. */
static int domain_id_known(struct directory *dir, const char *domain, sqlite3_int64 *id_r,
                           const char **error_r)
{
	int ret = domain_id(dir, domain, id_r, error_r);

	if (ret == 0)
		*error_r = set_error(dir, "unknown domain %s", domain);
	return ret == 1 ? 0 : -1;
}

int directory_domain_add(struct directory *dir, const char *name, const char **error_r)
{
	sqlite3_stmt *st;
	char *domain;
	int ret;

	if (normalize_domain(dir, name, &domain, error_r) < 0)
		return -1;
	if ((st = stmt_get(dir, STMT_DOMAIN_ADD)) == NULL) {
		free(domain);
		return db_error(dir, error_r);
	}
	bind_text(st, 1, domain);
	ret = stmt_exec(dir, st, NULL, error_r);
	if (ret < 0 && is_unique_violation(dir))
		*error_r = set_error(dir, "domain %s already exists", domain);
	free(domain);
	return ret;
}

static int domain_usage(struct directory *dir, sqlite3_int64 id, sqlite3_int64 *count_r,
                        const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, STMT_DOMAIN_USAGE);

	if (st == NULL)
		return db_error(dir, error_r);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_error(dir, error_r);
	*count_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int domain_del_id(struct directory *dir, const char *domain, sqlite3_int64 id, bool force,
                         const char **error_r)
{
	sqlite3_int64 used = 0;
	sqlite3_stmt *st;

	if (!force && domain_usage(dir, id, &used, error_r) < 0)
		return -1;
	if (used > 0) {
		*error_r = set_error(dir, "domain %s still has %lld users and aliases", domain,
		                     (long long)used);
		return -1;
	}
	if ((st = stmt_get(dir, STMT_DOMAIN_DEL)) == NULL)
		return db_error(dir, error_r);
	sqlite3_bind_int64(st, 1, id);
	return stmt_exec(dir, st, NULL, error_r);
}

int directory_domain_del(struct directory *dir, const char *name, bool force, const char **error_r)
{
	sqlite3_int64 id;
	char *domain;
	int ret;

	if (normalize_domain(dir, name, &domain, error_r) < 0)
		return -1;
	ret = domain_id_known(dir, domain, &id, error_r);
	if (ret == 0)
		ret = domain_del_id(dir, domain, id, force, error_r);
	free(domain);
	return ret;
}

/* Collect column 0 of every row of st. */
static int collect_strings(struct directory *dir, sqlite3_stmt *st, struct strlist *out,
                           const char **error_r)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strlist_add(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		strlist_free(out);
		return db_error(dir, error_r);
	}
	return 0;
}

int directory_domain_list(struct directory *dir, char ***names_r, size_t *count_r,
                          const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, STMT_DOMAIN_LIST);
	struct strlist list = {NULL, 0};

	if (st == NULL)
		return db_error(dir, error_r);
	if (collect_strings(dir, st, &list, error_r) < 0)
		return -1;
	*names_r = list.items;
	*count_r = list.count;
	return 0;
}

int directory_domain_exists(struct directory *dir, const char *name, const char **error_r)
{
	sqlite3_int64 id;
	const char *ignored;
	char *domain;
	int ret;

	if (normalize_domain(dir, name, &domain, &ignored) < 0)
		return 0;
	ret = domain_id(dir, domain, &id, error_r);
	free(domain);
	return ret;
}

/* --- users --- */

static void row_to_user(sqlite3_stmt *st, struct directory_user *user)
{
	user->address = xstrdup((const char *)sqlite3_column_text(st, 0));
	user->password_hash = xstrdup((const char *)sqlite3_column_text(st, 1));
	user->quota_bytes = (uint64_t)sqlite3_column_int64(st, 2);
	user->enabled = sqlite3_column_int(st, 3) != 0;
}

static int quota_value(struct directory *dir, uint64_t quota, sqlite3_int64 *value_r,
                       const char **error_r)
{
	if (quota == DIRECTORY_QUOTA_DEFAULT)
		quota = DIRECTORY_DEFAULT_QUOTA_BYTES;
	if (quota > (uint64_t)INT64_MAX) {
		*error_r = set_error(dir, "quota too large");
		return -1;
	}
	*value_r = (sqlite3_int64)quota;
	return 0;
}

static int user_insert(struct directory *dir, sqlite3_int64 domain, const char *address,
                       const char *hash, sqlite3_int64 quota, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, STMT_USER_ADD);
	int ret;

	if (st == NULL)
		return db_error(dir, error_r);
	sqlite3_bind_int64(st, 1, domain);
	bind_text(st, 2, address);
	bind_text(st, 3, hash);
	sqlite3_bind_int64(st, 4, quota);
	ret = stmt_exec(dir, st, NULL, error_r);
	if (ret < 0 && is_unique_violation(dir))
		*error_r = set_error(dir, "user %s already exists", address);
	return ret;
}

int directory_user_add(struct directory *dir, const char *address, const char *password_hash,
                       uint64_t quota_bytes, const char **error_r)
{
	struct norm_addr na;
	sqlite3_int64 domain, quota;
	int ret = -1;

	if (password_hash == NULL || password_hash[0] == '\0') {
		*error_r = set_error(dir, "empty password hash");
		return -1;
	}
	if (quota_value(dir, quota_bytes, &quota, error_r) < 0 ||
	    normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	if (domain_id_known(dir, na.domain, &domain, error_r) == 0)
		ret = user_insert(dir, domain, na.text, password_hash, quota, error_r);
	free(na.text);
	return ret;
}

/* Run a per-user statement (?1 = address, ?2 = text or num when given);
   no row changed means no such user. */
static int user_update(struct directory *dir, enum stmt_id id, const char *address,
                       const char *text, const sqlite3_int64 *num, const char **error_r)
{
	sqlite3_stmt *st;
	struct norm_addr na;
	int changes = 0, ret;

	if (normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	if ((st = stmt_get(dir, id)) == NULL) {
		free(na.text);
		return db_error(dir, error_r);
	}
	bind_text(st, 1, na.text);
	if (text != NULL)
		bind_text(st, 2, text);
	else if (num != NULL)
		sqlite3_bind_int64(st, 2, *num);
	ret = stmt_exec(dir, st, &changes, error_r);
	if (ret == 0 && changes == 0) {
		*error_r = set_error(dir, "unknown user %s", na.text);
		ret = -1;
	}
	free(na.text);
	return ret;
}

int directory_user_del(struct directory *dir, const char *address, const char **error_r)
{
	return user_update(dir, STMT_USER_DEL, address, NULL, NULL, error_r);
}

int directory_user_set_password(struct directory *dir, const char *address,
                                const char *password_hash, const char **error_r)
{
	if (password_hash == NULL || password_hash[0] == '\0') {
		*error_r = set_error(dir, "empty password hash");
		return -1;
	}
	return user_update(dir, STMT_USER_SET_PASSWORD, address, password_hash, NULL, error_r);
}

int directory_user_set_enabled(struct directory *dir, const char *address, bool enabled,
                               const char **error_r)
{
	sqlite3_int64 value = enabled ? 1 : 0;

	return user_update(dir, STMT_USER_SET_ENABLED, address, NULL, &value, error_r);
}

int directory_user_set_quota(struct directory *dir, const char *address, uint64_t quota_bytes,
                             const char **error_r)
{
	sqlite3_int64 value;

	if (quota_value(dir, quota_bytes, &value, error_r) < 0)
		return -1;
	return user_update(dir, STMT_USER_SET_QUOTA, address, NULL, &value, error_r);
}

/* The statement listing all rows (domain NULL) or one domain's rows. */
static sqlite3_stmt *list_stmt(struct directory *dir, enum stmt_id all, enum stmt_id one,
                               const char *domain, const char **error_r)
{
	sqlite3_int64 id;
	sqlite3_stmt *st;
	char *norm;
	int ret;

	if (domain == NULL) {
		if ((st = stmt_get(dir, all)) == NULL)
			db_error(dir, error_r);
		return st;
	}
	if (normalize_domain(dir, domain, &norm, error_r) < 0)
		return NULL;
	ret = domain_id_known(dir, norm, &id, error_r);
	free(norm);
	if (ret < 0)
		return NULL;
	if ((st = stmt_get(dir, one)) == NULL) {
		db_error(dir, error_r);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	return st;
}

int directory_user_list(struct directory *dir, const char *domain, struct directory_user **users_r,
                        size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st =
	    list_stmt(dir, STMT_USER_LIST_ALL, STMT_USER_LIST_DOMAIN, domain, error_r);
	struct directory_user *users = NULL;
	size_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		users = xreallocarray(users, count + 1, sizeof(*users));
		row_to_user(st, &users[count++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		directory_user_list_free(&users, count);
		return db_error(dir, error_r);
	}
	*users_r = users;
	*count_r = count;
	return 0;
}

static void user_clear(struct directory_user *user)
{
	free(user->address);
	free(user->password_hash);
}

void directory_user_list_free(struct directory_user **users, size_t count)
{
	if (users == NULL || *users == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		user_clear(&(*users)[i]);
	free(*users);
	*users = NULL;
}

/* Look up a normalised address: 1 found, 0 not, -1 database error. */
static int user_get(struct directory *dir, const char *address, struct directory_user *user_r,
                    const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, STMT_USER_GET);
	int rc;

	if (st == NULL)
		return db_error(dir, error_r);
	bind_text(st, 1, address);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && user_r != NULL)
		row_to_user(st, user_r);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(dir, error_r);
	return rc == SQLITE_ROW ? 1 : 0;
}

int directory_user_lookup(struct directory *dir, const char *address,
                          struct directory_user **user_r, const char **error_r)
{
	struct directory_user user;
	struct norm_addr na;
	const char *ignored;
	int ret;

	if (normalize_mailbox(dir, address, &na, &ignored) < 0)
		return 0;
	ret = user_get(dir, na.text, &user, error_r);
	free(na.text);
	if (ret == 1) {
		*user_r = xmalloc(sizeof(user));
		**user_r = user;
	}
	return ret;
}

void directory_user_free(struct directory_user **user)
{
	if (user == NULL || *user == NULL)
		return;
	user_clear(*user);
	free(*user);
	*user = NULL;
}

/* --- aliases --- */

/* The destinations of source (normalised), appended to out. */
static int alias_destinations(struct directory *dir, const char *source, struct strlist *out,
                              const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, STMT_ALIAS_GET);

	if (st == NULL)
		return db_error(dir, error_r);
	bind_text(st, 1, source);
	return collect_strings(dir, st, out, error_r);
}

/* A destination in one of our domains must receive mail already. */
static int check_destination(struct directory *dir, const struct norm_addr *dest,
                             const char **error_r)
{
	struct directory_resolution res;
	sqlite3_int64 id;
	int ret = domain_id(dir, dest->domain, &id, error_r);

	if (ret <= 0)
		return ret;
	if (directory_resolve(dir, dest->text, &res, error_r) < 0)
		return -1;
	ret = res.result == DIRECTORY_UNKNOWN ? -1 : 0;
	directory_resolution_free(&res);
	if (ret < 0)
		*error_r = set_error(dir, "unknown destination %s", dest->text);
	return ret;
}

static int alias_insert(struct directory *dir, const struct norm_addr *src,
                        const struct norm_addr *dest, const char **error_r)
{
	sqlite3_int64 domain;
	sqlite3_stmt *st;
	int ret;

	if (domain_id_known(dir, src->domain, &domain, error_r) < 0 ||
	    check_destination(dir, dest, error_r) < 0)
		return -1;
	if ((st = stmt_get(dir, STMT_ALIAS_ADD)) == NULL)
		return db_error(dir, error_r);
	sqlite3_bind_int64(st, 1, domain);
	bind_text(st, 2, src->text);
	bind_text(st, 3, dest->text);
	ret = stmt_exec(dir, st, NULL, error_r);
	if (ret < 0 && is_unique_violation(dir))
		*error_r = set_error(dir, "alias %s -> %s already exists", src->text, dest->text);
	return ret;
}

int directory_alias_add(struct directory *dir, const char *source, const char *destination,
                        const char **error_r)
{
	struct norm_addr src, dest;
	int ret;

	if (normalize_source(dir, source, &src, error_r) < 0)
		return -1;
	if (normalize_mailbox(dir, destination, &dest, error_r) < 0) {
		free(src.text);
		return -1;
	}
	ret = alias_insert(dir, &src, &dest, error_r);
	free(src.text);
	free(dest.text);
	return ret;
}

static int alias_delete(struct directory *dir, const char *src, const char *dest,
                        const char **error_r)
{
	sqlite3_stmt *st = stmt_get(dir, dest != NULL ? STMT_ALIAS_DEL_ONE : STMT_ALIAS_DEL_ALL);
	int changes = 0;

	if (st == NULL)
		return db_error(dir, error_r);
	bind_text(st, 1, src);
	if (dest != NULL)
		bind_text(st, 2, dest);
	if (stmt_exec(dir, st, &changes, error_r) < 0)
		return -1;
	if (changes > 0)
		return 0;
	if (dest != NULL)
		*error_r = set_error(dir, "unknown alias %s -> %s", src, dest);
	else
		*error_r = set_error(dir, "unknown alias %s", src);
	return -1;
}

int directory_alias_del(struct directory *dir, const char *source, const char *destination,
                        const char **error_r)
{
	struct norm_addr src, dest = {NULL, NULL};
	int ret = -1;

	if (normalize_source(dir, source, &src, error_r) < 0)
		return -1;
	if (destination == NULL || normalize_mailbox(dir, destination, &dest, error_r) == 0)
		ret = alias_delete(dir, src.text, dest.text, error_r);
	free(src.text);
	free(dest.text);
	return ret;
}

int directory_alias_list(struct directory *dir, const char *domain,
                         struct directory_alias **aliases_r, size_t *count_r, const char **error_r)
{
	sqlite3_stmt *st =
	    list_stmt(dir, STMT_ALIAS_LIST_ALL, STMT_ALIAS_LIST_DOMAIN, domain, error_r);
	struct directory_alias *aliases = NULL;
	size_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		aliases = xreallocarray(aliases, count + 1, sizeof(*aliases));
		aliases[count].source = xstrdup((const char *)sqlite3_column_text(st, 0));
		aliases[count++].destination = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		directory_alias_list_free(&aliases, count);
		return db_error(dir, error_r);
	}
	*aliases_r = aliases;
	*count_r = count;
	return 0;
}

void directory_alias_list_free(struct directory_alias **aliases, size_t count)
{
	if (aliases == NULL || *aliases == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free((*aliases)[i].source);
		free((*aliases)[i].destination);
	}
	free(*aliases);
	*aliases = NULL;
}

/* --- recipient resolution --- */

struct resolve_ctx {
	struct directory *dir;
	struct strlist local, remote;
	struct strlist expanded; /* alias sources already expanded: cuts loops */
	const char **error_r;
};

static int resolve_addr(struct resolve_ctx *ctx, const char *addr, int depth);

static bool resolve_full(const struct resolve_ctx *ctx)
{
	return ctx->local.count + ctx->remote.count >= DIRECTORY_RESOLVE_MAX;
}

/* Expand the alias source whose destinations are dests, once. */
static int expand(struct resolve_ctx *ctx, const char *source, const struct strlist *dests,
                  int depth)
{
	if (depth >= DIRECTORY_ALIAS_DEPTH_MAX) {
		char *v = log_value(source, strlen(source), 300);

		log_warn(NULL, "event=directory.alias_cut source=%s reason=depth", v);
		free(v);
		return 0;
	}
	strlist_add(&ctx->expanded, source);
	for (size_t i = 0; i < dests->count; i++) {
		if (resolve_addr(ctx, dests->items[i], depth + 1) < 0)
			return -1;
	}
	return 0;
}

/* The catch-all of domain, when it has one (rule 4). */
static int resolve_catchall(struct resolve_ctx *ctx, const char *domain, int depth)
{
	char *source = xasprintf("@%s", domain);
	struct strlist dests = {NULL, 0};
	int ret = 0;

	if (!strlist_contains(&ctx->expanded, source)) {
		ret = alias_destinations(ctx->dir, source, &dests, ctx->error_r);
		if (ret == 0 && dests.count > 0)
			ret = expand(ctx, source, &dests, depth);
	}
	strlist_free(&dests);
	free(source);
	return ret;
}

/* addr is normalised (it comes from the caller or from the aliases table):
   apply the rules of directory_resolve() from 2 on. */
static int resolve_local(struct resolve_ctx *ctx, const char *addr, const char *domain, int depth)
{
	struct strlist dests = {NULL, 0};
	struct directory_user user;
	int ret;

	if (alias_destinations(ctx->dir, addr, &dests, ctx->error_r) < 0)
		return -1;
	if (dests.count > 0 && !strlist_contains(&ctx->expanded, addr)) {
		ret = expand(ctx, addr, &dests, depth);
		strlist_free(&dests);
		return ret;
	}
	ret = user_get(ctx->dir, addr, &user, ctx->error_r);
	if (ret == 1) {
		if (!strlist_contains(&ctx->local, user.address))
			strlist_add(&ctx->local, user.address);
		user_clear(&user);
	} else if (ret == 0 && dests.count == 0) {
		ret = resolve_catchall(ctx, domain, depth);
	}
	strlist_free(&dests);
	return ret < 0 ? -1 : 0;
}

static int resolve_addr(struct resolve_ctx *ctx, const char *addr, int depth)
{
	const char *domain = strrchr(addr, '@');
	sqlite3_int64 id;
	int ret;

	if (domain == NULL || resolve_full(ctx))
		return 0;
	domain++;
	ret = domain_id(ctx->dir, domain, &id, ctx->error_r);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		if (!strlist_contains(&ctx->remote, addr))
			strlist_add(&ctx->remote, addr);
		return 0;
	}
	return resolve_local(ctx, addr, domain, depth);
}

int directory_resolve(struct directory *dir, const char *address,
                      struct directory_resolution *res_r, const char **error_r)
{
	struct resolve_ctx ctx = {.dir = dir, .error_r = error_r};
	struct norm_addr na;
	sqlite3_int64 id;
	int ours, ret;

	memset(res_r, 0, sizeof(*res_r));
	if (normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	ret = ours = domain_id(dir, na.domain, &id, error_r);
	if (ours == 1)
		ret = resolve_local(&ctx, na.text, na.domain, 0);
	free(na.text);
	strlist_free(&ctx.expanded);
	if (ret < 0) {
		strlist_free(&ctx.local);
		strlist_free(&ctx.remote);
		return -1;
	}
	if (ours == 0)
		res_r->result = DIRECTORY_NOT_LOCAL;
	else if (ctx.local.count + ctx.remote.count == 0)
		res_r->result = DIRECTORY_UNKNOWN;
	else
		res_r->result = DIRECTORY_LOCAL;
	res_r->local = ctx.local.items;
	res_r->local_count = ctx.local.count;
	res_r->remote = ctx.remote.items;
	res_r->remote_count = ctx.remote.count;
	return 0;
}

void directory_resolution_free(struct directory_resolution *res)
{
	if (res == NULL)
		return;
	directory_names_free(&res->local, res->local_count);
	directory_names_free(&res->remote, res->remote_count);
	memset(res, 0, sizeof(*res));
}
