#include "store/index.h"
#include "store/index-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sqlcache.h"
#include "lib/xalloc.h"

/* Bump when the schema changes (index-private.h): an index of another
   version is rebuilt. */
#define INDEX_SCHEMA_VERSION MAIL_INDEX_SCHEMA_VERSION
/* Another connection (another imap process, the CLI) may hold the write
   lock; every Tern writer commits at least every MAIL_WRITE_CHUNK rows
   (docs/store.md: a transaction holds the lock for at most ~15 ms), so a
   wait this long means something is wrong: fail rather than stall the
   loop longer. */
#define INDEX_BUSY_TIMEOUT_MS 2000
/* How often a waiting connection tries the lock again: SQLite's own
   busy_timeout sleeps up to 100 ms between tries, longer than a chunk. */
#define INDEX_BUSY_POLL_US 500
/* What a writer with more chunks to write leaves between them, so that a
   connection polling for the lock gets it (mail_index_commit_begin()). */
#define INDEX_HANDOFF_US 1000
/* Reads through a mapping: a warm FETCH of a big mailbox reads the cached
   ENVELOPEs (megabytes) without a pread and copy per page. */
#define INDEX_MMAP_SIZE "268435456"

static const char index_schema[] =
    "CREATE TABLE IF NOT EXISTS mailboxes ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " uidvalidity INTEGER NOT NULL,"
    " uidnext INTEGER NOT NULL,"
    " highestmodseq INTEGER NOT NULL,"
    " recent_uid INTEGER NOT NULL DEFAULT 0," /* version 4 */
    " mailboxid TEXT);"                       /* version 6: RFC 8474 MAILBOXID */
    "CREATE TABLE IF NOT EXISTS messages ("
    " mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
    " uid INTEGER NOT NULL,"
    " base TEXT NOT NULL,"
    " info TEXT NOT NULL,"
    " flags INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " internaldate INTEGER NOT NULL,"
    " modseq INTEGER NOT NULL,"
    " envelope BLOB,"
    " body BLOB,"
    " bodystructure BLOB,"
    " search_headers BLOB,"                 /* version 3: SEARCH cache */
    " keywords INTEGER NOT NULL DEFAULT 0," /* version 4 */
    " savedate INTEGER NOT NULL DEFAULT 0," /* version 6: RFC 8514 SAVEDATE */
    " emailid TEXT, threadid TEXT,"         /* version 6: RFC 8474, cached */
    " preview BLOB,"                        /* version 6: RFC 8970, cached */
    " PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_base ON messages (mailbox_id, base);"
    "CREATE TABLE IF NOT EXISTS keywords (" /* version 4 */
    " mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " PRIMARY KEY (mailbox_id, idx)) WITHOUT ROWID;"
    /* version 5: the expunged UIDs with the modseq of their expunge, for
       QRESYNC's VANISHED (EARLIER) (RFC 7162 3.2.5.2) */
    "CREATE TABLE IF NOT EXISTS expunged ("
    " mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
    " uid INTEGER NOT NULL,"
    " modseq INTEGER NOT NULL,"
    " PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged (mailbox_id, modseq);"
    /* version 6: METADATA entries (RFC 5464); mailbox_id 0 is the server */
    "CREATE TABLE IF NOT EXISTS metadata ("
    " mailbox_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " value BLOB NOT NULL,"
    " PRIMARY KEY (mailbox_id, name)) WITHOUT ROWID;"
    /* version 6: the THREADID (RFC 8474 5.2) each Message-ID was given */
    "CREATE TABLE IF NOT EXISTS threads ("
    " msgid TEXT NOT NULL PRIMARY KEY,"
    " threadid TEXT NOT NULL) WITHOUT ROWID;"
    /* version 7: quota usage (docs/quota.md), one row kept by triggers in
       the transaction that adds or deletes a message row, plus the
       deliveries not indexed yet (pending, keyed by the file's base name,
       removed when the sync indexes it) and the last warned level */
    "CREATE TABLE IF NOT EXISTS usage ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " bytes INTEGER NOT NULL, messages INTEGER NOT NULL,"
    " warned INTEGER NOT NULL DEFAULT 0);"
    "INSERT OR IGNORE INTO usage (id, bytes, messages) VALUES (1, 0, 0);"
    "CREATE TABLE IF NOT EXISTS usage_pending ("
    " base TEXT NOT NULL PRIMARY KEY,"
    " size INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS usage_add AFTER INSERT ON messages BEGIN"
    " UPDATE usage SET bytes = bytes + NEW.size, messages = messages + 1 WHERE id = 1;"
    " DELETE FROM usage_pending WHERE base = NEW.base; END;"
    "CREATE TRIGGER IF NOT EXISTS usage_del AFTER DELETE ON messages BEGIN"
    " UPDATE usage SET bytes = max(bytes - OLD.size, 0), messages = max(messages - 1, 0)"
    " WHERE id = 1; END;";

/* Version 1 -> 2: the FETCH cache columns (NULL: not cached yet, filled by
   the next FETCH that needs them). */
static const char index_migrate_v1[] = "ALTER TABLE messages ADD COLUMN envelope BLOB;"
                                       "ALTER TABLE messages ADD COLUMN body BLOB;"
                                       "ALTER TABLE messages ADD COLUMN bodystructure BLOB;";
/* Version 2 -> 3: the SEARCH header cache column (NULL: not cached yet). */
static const char index_migrate_v2[] = "ALTER TABLE messages ADD COLUMN search_headers BLOB;";
/* Version 3 -> 4: keywords (a mask per message, the names per mailbox in
   the keywords table the schema creates) and the \Recent boundary, set so
   that no message already indexed becomes recent again. */
static const char index_migrate_v3_kw[] =
    "ALTER TABLE messages ADD COLUMN keywords INTEGER NOT NULL DEFAULT 0;";
static const char index_migrate_v3_recent[] =
    "ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;"
    "UPDATE mailboxes SET recent_uid = uidnext - 1;";
/* Version 4 -> 5: every message gets a modseq of at least 1 and each
   mailbox's highestmodseq is at least its messages' highest, so that
   CONDSTORE's numbers hold from the first SELECT (the expunged table is
   created by the schema, empty: expunges before the migration are not
   known, and a QRESYNC client whose modseq is older than the migration is
   told of them by its known-uids or by a full resync). */
static const char index_migrate_v4[] =
    "UPDATE messages SET modseq = 1 WHERE modseq < 1;"
    "UPDATE mailboxes SET highestmodseq = max(highestmodseq, 1,"
    " coalesce((SELECT max(modseq) FROM messages WHERE mailbox_id = mailboxes.id), 1));";

/* Version 5 -> 6 (OBJECTID, SAVEDATE, PREVIEW, METADATA): each mailbox gets
   its MAILBOXID, each message the SAVEDATE of its INTERNALDATE (the save
   time of a message indexed before is not known); EMAILID, THREADID and
   PREVIEW are filled by the FETCH that needs them. The metadata table is
   created by the schema. */
static const char index_migrate_v5[] =
    "ALTER TABLE mailboxes ADD COLUMN mailboxid TEXT;"
    "UPDATE mailboxes SET mailboxid = 'F' || lower(hex(randomblob(12)));"
    "ALTER TABLE messages ADD COLUMN savedate INTEGER NOT NULL DEFAULT 0;"
    "UPDATE messages SET savedate = internaldate;"
    "ALTER TABLE messages ADD COLUMN emailid TEXT;"
    "ALTER TABLE messages ADD COLUMN threadid TEXT;"
    "ALTER TABLE messages ADD COLUMN preview BLOB;";

/* Version 6 -> 7 (quota usage): the usage row computed once from the
   rows already indexed; the triggers keep it from then on (the schema
   creates them and the pending table). */
static const char index_migrate_v6[] =
    "CREATE TABLE IF NOT EXISTS usage ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " bytes INTEGER NOT NULL, messages INTEGER NOT NULL,"
    " warned INTEGER NOT NULL DEFAULT 0);"
    "INSERT OR REPLACE INTO usage (id, bytes, messages, warned)"
    " SELECT 1, coalesce(sum(size), 0), count(*), 0 FROM messages;";

enum index_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_BOX_GET,
	STMT_BOX_ADD,
	STMT_BOX_UPDATE,
	STMT_ROWS,
	STMT_ROW_ADD,
	STMT_ROW_UPDATE,
	STMT_ROW_DELETE,
	STMT_ROW_INFO,
	STMT_BOX_DELETE_ROWS,
	STMT_BOX_DELETE,
	STMT_BOX_RENAME,
	STMT_CACHE_GET,
	STMT_CACHE_SET,
	STMT_DATA_VERSION,
	STMT_BOX_RECENT,
	STMT_ROW_KEYWORDS,
	STMT_KW_LIST,
	STMT_KW_SET,
	STMT_EXPUNGED_ADD,
	STMT_EXPUNGED_SINCE,
	STMT_META_DELETE_BOX,
	STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_BOX_GET] = "SELECT id, uidvalidity, uidnext, highestmodseq, recent_uid FROM mailboxes"
                     " WHERE name = ?1",
    /* the MAILBOXID (RFC 8474 4.1): 96 random bits, kept by RENAME */
    [STMT_BOX_ADD] = "INSERT INTO mailboxes (name, uidvalidity, uidnext, highestmodseq, mailboxid)"
                     " VALUES (?1, ?2, 1, 1, 'F' || lower(hex(randomblob(12))))",
    [STMT_BOX_UPDATE] = "UPDATE mailboxes SET uidnext = ?2, highestmodseq = ?3 WHERE id = ?1",
    [STMT_ROWS] =
        "SELECT uid, base, info, flags, size, internaldate, modseq, keywords FROM messages"
        " WHERE mailbox_id = ?1 ORDER BY uid",
    /* SAVEDATE (RFC 8514): when the row is made, i.e. the message
       arrived in this mailbox (APPEND, COPY, MOVE, delivery) */
    [STMT_ROW_ADD] = "INSERT INTO messages (mailbox_id, uid, base, info, flags, size,"
                     " internaldate, modseq, keywords, savedate)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [STMT_ROW_UPDATE] = "UPDATE messages SET info = ?3, flags = ?4, modseq = ?5, keywords = ?6"
                        " WHERE mailbox_id = ?1 AND uid = ?2",
    [STMT_ROW_DELETE] = "DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
    [STMT_ROW_INFO] = "SELECT info FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
    [STMT_BOX_DELETE_ROWS] = "DELETE FROM messages WHERE mailbox_id ="
                             " (SELECT id FROM mailboxes WHERE name = ?1)",
    [STMT_BOX_DELETE] = "DELETE FROM mailboxes WHERE name = ?1",
    [STMT_BOX_RENAME] = "UPDATE mailboxes SET name = ?2 WHERE name = ?1",
    [STMT_CACHE_GET] = "SELECT envelope, body, bodystructure, search_headers, uid"
                       " FROM messages"
                       " WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
    /* A NULL argument keeps what is stored. */
    [STMT_CACHE_SET] = "UPDATE messages SET envelope = coalesce(?3, envelope),"
                       " body = coalesce(?4, body),"
                       " bodystructure = coalesce(?5, bodystructure),"
                       " search_headers = coalesce(?6, search_headers)"
                       " WHERE mailbox_id = ?1 AND uid = ?2",
    [STMT_DATA_VERSION] = "PRAGMA data_version",
    /* only forward: two sessions never both take a message as recent */
    [STMT_BOX_RECENT] = "UPDATE mailboxes SET recent_uid = ?2 WHERE id = ?1 AND recent_uid < ?2",
    [STMT_ROW_KEYWORDS] =
        "SELECT keywords, modseq FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
    [STMT_KW_LIST] = "SELECT idx, name FROM keywords WHERE mailbox_id = ?1 ORDER BY idx",
    [STMT_KW_SET] = "INSERT OR REPLACE INTO keywords (mailbox_id, idx, name) VALUES (?1, ?2, ?3)",
    [STMT_EXPUNGED_ADD] =
        "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
    [STMT_EXPUNGED_SINCE] = "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2"
                            " ORDER BY uid",
    [STMT_META_DELETE_BOX] = "DELETE FROM metadata WHERE mailbox_id ="
                             " (SELECT id FROM mailboxes WHERE name = ?1)",
};

struct mail_index {
	sqlite3 *db;
	char *path;
	struct sqlcache *stmts; /* prepared on first use, once open */
	/* index-objects.c's statements (index-private.h), made at first use */
	struct sqlcache *ext_stmts;
	struct buf error;
	int64_t txn_start_us;  /* CLOCK_MONOTONIC at the open transaction's BEGIN */
	int64_t busy_start_us; /* when the current wait for the lock began */
};

static int64_t index_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int index_busy(void *arg, int count)
{
	struct mail_index *index = arg;
	int64_t now = index_now_us();

	if (count == 0)
		index->busy_start_us = now;
	if (now - index->busy_start_us >= (int64_t)INDEX_BUSY_TIMEOUT_MS * 1000)
		return 0;
	usleep(INDEX_BUSY_POLL_US);
	return 1;
}

/* A transaction that held the write lock (or a BEGIN that waited for it)
   this long is logged: the figures docs/store.md gives come from these
   lines (bench/imap/write-stall reads them). */
#define INDEX_SLOW_LOG_US 20000

static int index_fail(struct mail_index *index, const char *what, const char **error_r)
{
	buf_clear(&index->error);
	buf_printf(&index->error, "index %s: %s", what, sqlite3_errmsg(index->db));
	*error_r = buf_cstr(&index->error);
	return -1;
}

static void index_close_db(struct mail_index *index)
{
	sqlcache_free(&index->ext_stmts);
	sqlcache_free(&index->stmts);
	sqlite3_close(index->db);
	index->db = NULL;
}

static bool index_is_damaged(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static int index_user_version(struct mail_index *index, int *version_r)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(index->db, "PRAGMA user_version", -1, &stmt, NULL);

	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*version_r = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Whether messages has the version 3 column already (an index written by
   a version 3 build and then marked older, as the migration test does). */
static bool index_has_search_headers(struct mail_index *index)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(index->db, "SELECT search_headers FROM messages LIMIT 0", -1,
	                            &stmt, NULL);

	sqlite3_finalize(stmt);
	return rc == SQLITE_OK;
}

/* Whether the query (naming a column) prepares: the column exists (an
   index written by a newer build and then marked older, as the migration
   test does). */
static bool index_has_column(struct mail_index *index, const char *query)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(index->db, query, -1, &stmt, NULL);

	sqlite3_finalize(stmt);
	return rc == SQLITE_OK;
}

/* Bring a version 1 to 6 index to version 7 in one transaction, keeping its
   UIDs and UIDVALIDITYs (clients need not resynchronise). The version is
   read again under the write lock: another session may have migrated it
   meanwhile. */
static int index_migrate(struct mail_index *index)
{
	int rc = sqlite3_exec(index->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), version = 0;

	if (rc != SQLITE_OK)
		return rc;
	rc = index_user_version(index, &version);
	if (rc == SQLITE_OK && version == 1)
		rc = sqlite3_exec(index->db, index_migrate_v1, NULL, NULL, NULL);
	if (rc == SQLITE_OK && (version == 1 || version == 2) && !index_has_search_headers(index))
		rc = sqlite3_exec(index->db, index_migrate_v2, NULL, NULL, NULL);
	if (rc == SQLITE_OK && version >= 1 && version <= 3) {
		if (!index_has_column(index, "SELECT keywords FROM messages LIMIT 0"))
			rc = sqlite3_exec(index->db, index_migrate_v3_kw, NULL, NULL, NULL);
		if (rc == SQLITE_OK &&
		    !index_has_column(index, "SELECT recent_uid FROM mailboxes LIMIT 0"))
			rc = sqlite3_exec(index->db, index_migrate_v3_recent, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK && version >= 1 && version <= 4) {
		rc = sqlite3_exec(index->db, index_migrate_v4, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(index->db, "PRAGMA user_version = 5", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK && version >= 1 && version <= 5) {
		if (!index_has_column(index, "SELECT mailboxid FROM mailboxes LIMIT 0"))
			rc = sqlite3_exec(index->db, index_migrate_v5, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(index->db, "PRAGMA user_version = 6", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK && version >= 1 && version <= 6) {
		rc = sqlite3_exec(index->db, index_migrate_v6, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(index->db, "PRAGMA user_version = 7", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(index->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		sqlite3_exec(index->db, "ROLLBACK", NULL, NULL, NULL);
	else if (version >= 1 && version < INDEX_SCHEMA_VERSION)
		log_info(NULL, "event=store.index_migrated from=%d to=%d", version,
		         INDEX_SCHEMA_VERSION);
	return rc;
}

/* Schema and pragmas: returns an SQLite result code. A version mismatch
   counts as damage (SQLITE_NOTADB) so the caller rebuilds. */
static int index_setup(struct mail_index *index)
{
	int rc, version = 0;

	rc =
	    sqlite3_open_v2(index->path, &index->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_handler(index->db, index_busy, index);
	rc = index_user_version(index, &version);
	if (rc != SQLITE_OK)
		return rc;
	if (version < 0 || version > INDEX_SCHEMA_VERSION)
		return SQLITE_NOTADB;
	/* synchronous=NORMAL: in WAL mode a crash can lose the last
	   transactions but never corrupts; the Maildir holds the truth. */
	rc = sqlite3_exec(index->db,
	                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                  "PRAGMA foreign_keys=ON; PRAGMA mmap_size=" INDEX_MMAP_SIZE ";",
	                  NULL, NULL, NULL);
	if (rc == SQLITE_OK && version >= 1 && version < INDEX_SCHEMA_VERSION)
		rc = index_migrate(index);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(index->db, index_schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK && version == 0)
		rc = sqlite3_exec(index->db, "PRAGMA user_version = 7", NULL, NULL, NULL);
	return rc;
}

static void index_remove_files(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		unlink(p);
		free(p);
	}
}

void mail_index_process_init(void)
{
	/* By default each connection allocates room for 20 cache pages at
	   its first read (~88 KiB with 4 KiB pages), which an idle user never
	   fills: pages come one by one instead. Only possible before SQLite
	   is initialised in the process. */
	if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0) != SQLITE_OK)
		log_debug(NULL, "event=store.sqlite_config_late");
}

int mail_index_open(const char *path, struct mail_index **index_r, const char **error_r)
{
	struct mail_index *index = xcalloc(1, sizeof(*index));
	int rc;

	index->path = xstrdup(path);
	rc = index_setup(index);
	if (index_is_damaged(rc)) {
		char *v = log_value(path, strlen(path), 512);
		log_warn(NULL, "event=store.index_rebuild path=%s reason=%s", v,
		         sqlite3_errstr(rc));
		free(v);
		index_close_db(index);
		index_remove_files(path);
		rc = index_setup(index);
	}
	if (rc != SQLITE_OK) {
		/* static: the index object goes away */
		*error_r = sqlite3_errstr(rc);
		mail_index_close(&index);
		return -1;
	}
	index->stmts = sqlcache_new(index->db, stmt_sql, STMT_COUNT);
	*index_r = index;
	return 0;
}

void mail_index_close(struct mail_index **indexp)
{
	struct mail_index *index = *indexp;

	if (index == NULL)
		return;
	if (index->db != NULL && !sqlite3_get_autocommit(index->db))
		sqlite3_exec(index->db, "ROLLBACK", NULL, NULL, NULL);
	index_close_db(index);
	buf_free(&index->error);
	free(index->path);
	free(index);
	*indexp = NULL;
}

/* Statement s, prepared at its first use: an idle user's connection holds
   only the few its syncs need (each prepared statement costs a few KiB,
   and a role may hold thousands of users). NULL with *error_r on error. */
static sqlite3_stmt *index_stmt(struct mail_index *index, enum index_stmt s, const char **error_r)
{
	sqlite3_stmt *stmt = sqlcache_get(index->stmts, s);

	if (stmt == NULL)
		(void)index_fail(index, "prepare", error_r);
	return stmt;
}

/* End a lookup of at most one row: reset stmt and map its last step's rc
   to 1 (a row was read), 0 (none), or -1 with what in *error_r. */
static int index_row_end(struct mail_index *index, sqlite3_stmt *stmt, int rc, const char *what,
                         const char **error_r)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return index_fail(index, what, error_r);
}

/* Run stmt (statement s, from index_stmt()), which returns no row, with its
   bindings already made. */
static int index_step_done(struct mail_index *index, sqlite3_stmt *stmt, enum index_stmt s,
                           const char **error_r)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE)
		return index_fail(index, stmt_sql[s], error_r);
	return 0;
}

/* Run statement s, which takes no binding and returns no row. */
static int index_exec(struct mail_index *index, enum index_stmt s, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, s, error_r);

	if (stmt == NULL)
		return -1;
	return index_step_done(index, stmt, s, error_r);
}

int mail_index_begin(struct mail_index *index, const char **error_r)
{
	int64_t start = index_now_us();
	int ret = index_exec(index, STMT_BEGIN, error_r);

	index->txn_start_us = index_now_us();
	if (index->txn_start_us - start >= INDEX_SLOW_LOG_US)
		log_info(NULL, "event=store.index_lock_wait ms=%lld ok=%d",
		         (long long)(index->txn_start_us - start) / 1000, ret == 0);
	return ret;
}

/* Log a transaction that held the write lock long (see INDEX_SLOW_LOG_US). */
static void index_txn_end(struct mail_index *index)
{
	int64_t held = index_now_us() - index->txn_start_us;

	if (held >= INDEX_SLOW_LOG_US)
		log_info(NULL, "event=store.index_lock_held ms=%lld", (long long)held / 1000);
}

int mail_index_commit(struct mail_index *index, const char **error_r)
{
	int ret = index_exec(index, STMT_COMMIT, error_r);

	if (ret == 0)
		index_txn_end(index);
	return ret;
}

int mail_index_commit_begin(struct mail_index *index, const char **error_r)
{
	if (mail_index_commit(index, error_r) < 0)
		return -1;
	usleep(INDEX_HANDOFF_US);
	return mail_index_begin(index, error_r);
}

bool mail_index_busy(struct mail_index *index)
{
	int rc = sqlite3_errcode(index->db);

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

void mail_index_rollback(struct mail_index *index)
{
	const char *error;

	if (!sqlite3_get_autocommit(index->db)) {
		(void)index_exec(index, STMT_ROLLBACK, &error);
		index_txn_end(index);
	}
}

bool mail_index_in_transaction(struct mail_index *index)
{
	return sqlite3_get_autocommit(index->db) == 0;
}

int mail_index_data_version(struct mail_index *index, uint64_t *version_r, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_DATA_VERSION, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*version_r = (uint64_t)sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : index_fail(index, "data_version", error_r);
}

int mail_index_box_get(struct mail_index *index, const char *name, struct index_box *box_r,
                       const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_BOX_GET, error_r);

	if (stmt == NULL)
		return -1;
	int rc;

	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		box_r->id = sqlite3_column_int64(stmt, 0);
		box_r->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 1);
		box_r->uidnext = (uint32_t)sqlite3_column_int64(stmt, 2);
		box_r->highestmodseq = (uint64_t)sqlite3_column_int64(stmt, 3);
		box_r->recent_uid = (uint32_t)sqlite3_column_int64(stmt, 4);
	}
	return index_row_end(index, stmt, rc, "mailbox lookup", error_r);
}

int mail_index_box_add(struct mail_index *index, const char *name, uint32_t uidvalidity,
                       struct index_box *box_r, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_BOX_ADD, error_r);

	if (stmt == NULL)
		return -1;

	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	if (index_step_done(index, stmt, STMT_BOX_ADD, error_r) < 0)
		return -1;
	box_r->id = sqlite3_last_insert_rowid(index->db);
	box_r->uidvalidity = uidvalidity;
	box_r->uidnext = 1;
	box_r->highestmodseq = 1;
	box_r->recent_uid = 0;
	return 0;
}

int mail_index_box_update(struct mail_index *index, const struct index_box *box,
                          const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_BOX_UPDATE, error_r);

	if (stmt == NULL)
		return -1;

	sqlite3_bind_int64(stmt, 1, box->id);
	sqlite3_bind_int64(stmt, 2, box->uidnext);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)box->highestmodseq);
	return index_step_done(index, stmt, STMT_BOX_UPDATE, error_r);
}

static void index_row_read(sqlite3_stmt *stmt, struct index_row *row)
{
	const unsigned char *base = sqlite3_column_text(stmt, 1);
	const unsigned char *info = sqlite3_column_text(stmt, 2);

	row->uid = (uint32_t)sqlite3_column_int64(stmt, 0);
	row->base = xstrdup(base != NULL ? (const char *)base : "");
	row->info = xstrdup(info != NULL ? (const char *)info : "");
	row->flags = (unsigned)sqlite3_column_int(stmt, 3);
	row->size = (uint64_t)sqlite3_column_int64(stmt, 4);
	row->internaldate = sqlite3_column_int64(stmt, 5);
	row->modseq = (uint64_t)sqlite3_column_int64(stmt, 6);
	row->keywords = (uint64_t)sqlite3_column_int64(stmt, 7);
}

int mail_index_rows(struct mail_index *index, int64_t box_id, struct index_row **rows_r,
                    size_t *count_r, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_ROWS, error_r);

	if (stmt == NULL)
		return -1;
	ARRAY(struct index_row) rows = ARRAY_INIT;
	int rc;

	sqlite3_bind_int64(stmt, 1, box_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		index_row_read(stmt, array_push(&rows));
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		index_rows_free(rows.items, rows.count);
		return index_fail(index, "message list", error_r);
	}
	*rows_r = array_steal(&rows, count_r);
	return 0;
}

void index_rows_free(struct index_row *rows, size_t count)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free(rows[i].base);
		free(rows[i].info);
	}
	free(rows);
}

int mail_index_row_add(struct mail_index *index, int64_t box_id, const struct index_row *row,
                       const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_ROW_ADD, error_r);

	if (stmt == NULL)
		return -1;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, row->uid);
	sqlite3_bind_text(stmt, 3, row->base, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, row->info, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 5, (int)row->flags);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)row->size);
	sqlite3_bind_int64(stmt, 7, row->internaldate);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)row->modseq);
	sqlite3_bind_int64(stmt, 9, (sqlite3_int64)row->keywords);
	sqlite3_bind_int64(stmt, 10, row->savedate != 0 ? row->savedate : (int64_t)time(NULL));
	return index_step_done(index, stmt, STMT_ROW_ADD, error_r);
}

int mail_index_row_update(struct mail_index *index, int64_t box_id, const struct index_row *row,
                          const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_ROW_UPDATE, error_r);

	if (stmt == NULL)
		return -1;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, row->uid);
	sqlite3_bind_text(stmt, 3, row->info, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, (int)row->flags);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)row->modseq);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)row->keywords);
	return index_step_done(index, stmt, STMT_ROW_UPDATE, error_r);
}

int mail_index_row_info(struct mail_index *index, int64_t box_id, uint32_t uid, char **info_r,
                        const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_ROW_INFO, error_r);

	if (stmt == NULL)
		return -1;
	int rc;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const unsigned char *info = sqlite3_column_text(stmt, 0);

		*info_r = xstrdup(info != NULL ? (const char *)info : "");
	}
	return index_row_end(index, stmt, rc, "message lookup", error_r);
}

int mail_index_row_delete(struct mail_index *index, int64_t box_id, uint32_t uid, uint64_t modseq,
                          const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_ROW_DELETE, error_r), *gone;

	if (stmt == NULL)
		return -1;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid);
	if (index_step_done(index, stmt, STMT_ROW_DELETE, error_r) < 0)
		return -1;
	if ((gone = index_stmt(index, STMT_EXPUNGED_ADD, error_r)) == NULL)
		return -1;
	sqlite3_bind_int64(gone, 1, box_id);
	sqlite3_bind_int64(gone, 2, uid);
	sqlite3_bind_int64(gone, 3, (sqlite3_int64)modseq);
	return index_step_done(index, gone, STMT_EXPUNGED_ADD, error_r);
}

int mail_index_expunged_since(struct mail_index *index, int64_t box_id, uint64_t modseq,
                              uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_EXPUNGED_SINCE, error_r);

	*uids_r = NULL;
	*count_r = 0;
	if (stmt == NULL)
		return -1;
	ARRAY(uint32_t) uids = ARRAY_INIT;
	int rc;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)(modseq > INT64_MAX ? INT64_MAX : modseq));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*array_push(&uids) = (uint32_t)sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		array_free(&uids);
		return index_fail(index, "expunged list", error_r);
	}
	*uids_r = array_steal(&uids, count_r);
	return 0;
}

int mail_index_box_delete(struct mail_index *index, const char *name, const char **error_r)
{
	sqlite3_stmt *meta = index_stmt(index, STMT_META_DELETE_BOX, error_r), *rows, *box;

	if (meta == NULL)
		return -1;
	sqlite3_bind_text(meta, 1, name, -1, SQLITE_STATIC);
	if (index_step_done(index, meta, STMT_META_DELETE_BOX, error_r) < 0)
		return -1;
	if ((rows = index_stmt(index, STMT_BOX_DELETE_ROWS, error_r)) == NULL)
		return -1;
	sqlite3_bind_text(rows, 1, name, -1, SQLITE_STATIC);
	if (index_step_done(index, rows, STMT_BOX_DELETE_ROWS, error_r) < 0)
		return -1;
	if ((box = index_stmt(index, STMT_BOX_DELETE, error_r)) == NULL)
		return -1;
	sqlite3_bind_text(box, 1, name, -1, SQLITE_STATIC);
	return index_step_done(index, box, STMT_BOX_DELETE, error_r);
}

int mail_index_box_rename(struct mail_index *index, const char *old_name, const char *new_name,
                          const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_BOX_RENAME, error_r);

	if (stmt == NULL)
		return -1;

	/* A stale row of the new name (its folder removed by hand) would
	   break the UNIQUE constraint: it describes nothing any more. */
	if (mail_index_box_delete(index, new_name, error_r) < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, old_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, new_name, -1, SQLITE_STATIC);
	return index_step_done(index, stmt, STMT_BOX_RENAME, error_r);
}

static void cache_column(sqlite3_stmt *stmt, int col, struct mail_cache_value *blob)
{
	const void *data = sqlite3_column_blob(stmt, col);
	size_t len = (size_t)sqlite3_column_bytes(stmt, col);

	if (data == NULL && sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return;
	blob->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(blob->data, data, len);
	blob->data[len] = '\0';
	blob->len = len;
}

int mail_index_cache_get(struct mail_index *index, int64_t box_id, uint32_t uid_first,
                         uint32_t uid_last, uint32_t **uids_r, struct mail_cache **caches_r,
                         size_t *count_r, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_CACHE_GET, error_r);
	ARRAY(struct mail_cache) caches = ARRAY_INIT;
	ARRAY(uint32_t) uids = ARRAY_INIT;
	int rc;

	*uids_r = NULL;
	*caches_r = NULL;
	*count_r = 0;
	if (stmt == NULL)
		return -1;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid_first);
	sqlite3_bind_int64(stmt, 3, uid_last);
	/* One statement for the range: a single read lock instead of one
	   per message (the locking dominated a per-message lookup). */
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct mail_cache *cache = array_push(&caches);

		for (int i = 0; i < MAIL_CACHE_FIELDS; i++)
			cache_column(stmt, i, &cache->field[i]);
		array_append(&uids, (uint32_t)sqlite3_column_int64(stmt, MAIL_CACHE_FIELDS));
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	*uids_r = array_steal(&uids, count_r);
	*caches_r = array_steal(&caches, count_r);
	if (rc == SQLITE_DONE)
		return 0;
	return index_fail(index, "cache lookup", error_r);
}

int mail_index_cache_set(struct mail_index *index, int64_t box_id, uint32_t uid,
                         const struct mail_cache *cache, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_CACHE_SET, error_r);

	if (stmt == NULL)
		return -1;

	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid);
	for (int i = 0; i < MAIL_CACHE_FIELDS; i++) {
		const struct mail_cache_value *b = &cache->field[i];

		/* An empty value is stored as a zero-length blob, not NULL. */
		if (b->data != NULL)
			sqlite3_bind_blob64(stmt, 3 + i, b->len > 0 ? b->data : "", b->len,
			                    SQLITE_STATIC);
	}
	return index_step_done(index, stmt, STMT_CACHE_SET, error_r);
}

int mail_index_box_recent(struct mail_index *index, int64_t box_id, uint32_t recent_uid,
                          const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_BOX_RECENT, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, recent_uid);
	return index_step_done(index, stmt, STMT_BOX_RECENT, error_r);
}

int mail_index_row_keywords(struct mail_index *index, int64_t box_id, uint32_t uid,
                            uint64_t *keywords_r, uint64_t *modseq_r, const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_ROW_KEYWORDS, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*keywords_r = (uint64_t)sqlite3_column_int64(stmt, 0);
	if (rc == SQLITE_ROW && modseq_r != NULL)
		*modseq_r = (uint64_t)sqlite3_column_int64(stmt, 1);
	return index_row_end(index, stmt, rc, "message keywords", error_r);
}

int mail_index_keywords(struct mail_index *index, int64_t box_id, char **names, size_t names_count,
                        const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_KW_LIST, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t idx = sqlite3_column_int64(stmt, 0);
		const unsigned char *name = sqlite3_column_text(stmt, 1);

		if (idx < 0 || (uint64_t)idx >= names_count || name == NULL)
			continue;
		free(names[idx]);
		names[idx] = xstrdup((const char *)name);
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_DONE ? 0 : index_fail(index, "keyword list", error_r);
}

int mail_index_keyword_set(struct mail_index *index, int64_t box_id, unsigned idx, const char *name,
                           const char **error_r)
{
	sqlite3_stmt *stmt = index_stmt(index, STMT_KW_SET, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, idx);
	sqlite3_bind_text(stmt, 3, name, -1, SQLITE_STATIC);
	return index_step_done(index, stmt, STMT_KW_SET, error_r);
}

sqlite3_stmt *mail_index_ext_stmt(struct mail_index *index, const char *const *sql, size_t count,
                                  size_t id, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (index->ext_stmts == NULL)
		index->ext_stmts = sqlcache_new(index->db, sql, count);
	if ((stmt = sqlcache_get(index->ext_stmts, id)) == NULL)
		(void)index_fail(index, "prepare", error_r);
	return stmt;
}

int mail_index_ext_fail(struct mail_index *index, const char *what, const char **error_r)
{
	return index_fail(index, what, error_r);
}

sqlite3 *mail_index_db(struct mail_index *index)
{
	return index->db;
}
