/* The guard's bans in SQLite (guard-store.h). */
#include "guard/guard-store.h"

#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "lib/xalloc.h"

#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
	STMT_PUT,
	STMT_ALL,
	STMT_PURGE,
	STMT_LIFT,
	STMT_LIST,
	STMT_DATA_VERSION,
	STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_PUT] = ("INSERT INTO guard_bans(key, until, offences, reason) VALUES (?1, ?2, ?3, ?4)"
                  " ON CONFLICT(key) DO UPDATE SET until = max(until, excluded.until),"
                  " offences = max(offences, excluded.offences), reason = excluded.reason,"
                  " lifted = 0"),
    [STMT_ALL] = "SELECT key, until, offences, lifted FROM guard_bans",
    [STMT_PURGE] = "DELETE FROM guard_bans WHERE lifted = 1 OR until < ?1",
    [STMT_LIFT] = "UPDATE guard_bans SET lifted = 1 WHERE key = ?1 AND lifted = 0",
    [STMT_LIST] = ("SELECT key, until, offences, reason FROM guard_bans"
                   " WHERE lifted = 0 AND until > ?1 ORDER BY until, key"),
    [STMT_DATA_VERSION] = "PRAGMA data_version",
};

struct guard_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	int64_t data_version; /* -1: not looked yet */
};

static int fail(struct guard_store *s, char **error_r)
{
	*error_r = xasprintf("guard bans: %s", sqlite3_errmsg(s->db));
	return -1;
}

int guard_store_open(const char *path, struct guard_store **store_r, char **error_r)
{
	struct guard_store *s = xcalloc(1, sizeof(*s));

	s->data_version = -1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		goto failed;
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	for (int i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v2(s->db, stmt_sql[i], -1, &s->stmt[i], NULL) != SQLITE_OK)
			goto failed;
	}
	*store_r = s;
	return 0;
failed:
	fail(s, error_r);
	guard_store_close(&s);
	return -1;
}

void guard_store_close(struct guard_store **sp)
{
	struct guard_store *s = *sp;

	if (s == NULL)
		return;
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
	*sp = NULL;
}

static sqlite3_stmt *stmt(struct guard_store *s, enum stmt_id id)
{
	sqlite3_reset(s->stmt[id]);
	sqlite3_clear_bindings(s->stmt[id]);
	return s->stmt[id];
}

/* A statement left unreset keeps its read transaction open, and a later
   write on an old snapshot fails at once with SQLITE_BUSY: every use ends
   here. Returns rc. */
static int done(sqlite3_stmt *st, int rc)
{
	sqlite3_reset(st);
	return rc;
}

static int put(struct guard_store *s, const char *key, time_t until, unsigned offences,
               const char *reason)
{
	sqlite3_stmt *st = stmt(s, STMT_PUT);

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, until);
	sqlite3_bind_int64(st, 3, offences);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	return done(st, sqlite3_step(st)) == SQLITE_DONE ? 0 : -1;
}

struct writing {
	struct guard_store *s;
	int written, failed;
};

static void write_ban(const struct guard_ban *ban, void *context)
{
	struct writing *w = context;

	if (put(w->s, ban->key, ban->until, ban->offences, "failures") < 0)
		w->failed++;
	else
		w->written++;
}

static int64_t data_version(struct guard_store *s)
{
	sqlite3_stmt *st = stmt(s, STMT_DATA_VERSION);
	int64_t version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;

	done(st, 0);
	return version;
}

/* Every row into guard: lifted ones lift, the others ban (or restore the
   offences of a ban that ended). */
static int apply_rows(struct guard_store *s, struct guard *guard)
{
	sqlite3_stmt *st = stmt(s, STMT_ALL);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		time_t until = (time_t)sqlite3_column_int64(st, 1);
		unsigned offences = (unsigned)sqlite3_column_int64(st, 2);

		if (key == NULL)
			continue;
		if (sqlite3_column_int(st, 3) != 0)
			guard_set_ban(guard, key, 0, 0);
		else if (until > 0)
			guard_set_ban(guard, key, until, offences);
	}
	return done(st, rc) == SQLITE_DONE ? 0 : -1;
}

static int purge(struct guard_store *s, time_t before)
{
	sqlite3_stmt *st = stmt(s, STMT_PURGE);

	sqlite3_bind_int64(st, 1, before);
	return done(st, sqlite3_step(st)) == SQLITE_DONE ? 0 : -1;
}

int guard_store_sync(struct guard_store *s, struct guard *guard, time_t now, unsigned keep,
                     char **error_r)
{
	struct writing w = {.s = s};
	int64_t version;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, error_r);
	guard_each_ban(guard, now, true, write_ban, &w);
	version = data_version(s);
	if (w.failed > 0 || version < 0 ||
	    ((s->data_version < 0 || version != s->data_version) && apply_rows(s, guard) < 0) ||
	    purge(s, now - (time_t)keep) < 0 ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, error_r);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/* our own commit does not move it: only other connections' do */
	s->data_version = version;
	return w.written;
}

int guard_store_add(struct guard_store *s, const char *ip, time_t until, const char *reason,
                    char **error_r)
{
	char key[GUARD_KEY_MAX];

	if (!guard_key(ip, key)) {
		*error_r = xasprintf("not an address: %s", ip);
		return -1;
	}
	return put(s, key, until, 1, reason) < 0 ? fail(s, error_r) : 0;
}

int guard_store_lift(struct guard_store *s, const char *ip, char **error_r)
{
	char key[GUARD_KEY_MAX];
	sqlite3_stmt *st = stmt(s, STMT_LIFT);

	if (!guard_key(ip, key)) {
		*error_r = xasprintf("not an address: %s", ip);
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (done(st, sqlite3_step(st)) != SQLITE_DONE)
		return fail(s, error_r);
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int guard_store_list(struct guard_store *s, time_t now, guard_store_fn *fn, void *context,
                     char **error_r)
{
	sqlite3_stmt *st = stmt(s, STMT_LIST);
	int rc;

	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct guard_ban ban = {
		    .key = (const char *)sqlite3_column_text(st, 0),
		    .until = (time_t)sqlite3_column_int64(st, 1),
		    .offences = (unsigned)sqlite3_column_int64(st, 2),
		};
		const char *reason = (const char *)sqlite3_column_text(st, 3);

		if (ban.key != NULL)
			fn(&ban, reason != NULL ? reason : "", context);
	}
	return done(st, rc) == SQLITE_DONE ? 0 : fail(s, error_r);
}
