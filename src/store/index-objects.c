/* The version 6 columns and the metadata table of the index: see index.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/xalloc.h"
#include "store/index-private.h"
#include "store/index.h"

enum obj_stmt {
	OBJ_MAILBOXID,
	OBJ_GET,
	OBJ_RANGE,
	OBJ_SET,
	OBJ_META_LIST,
	OBJ_META_SET,
	OBJ_META_DELETE,
	OBJ_META_COUNT,
	OBJ_META_EXISTS,
	OBJ_THREAD_GET,
	OBJ_THREAD_ADD,
	OBJ_COUNT
};

static const char *const obj_sql[OBJ_COUNT] = {
    [OBJ_MAILBOXID] = "SELECT mailboxid FROM mailboxes WHERE id = ?1",
    [OBJ_GET] = "SELECT savedate, emailid, threadid, preview FROM messages"
                " WHERE mailbox_id = ?1 AND uid = ?2",
    [OBJ_RANGE] = "SELECT savedate, emailid, threadid, preview, uid FROM messages"
                  " WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
    /* A NULL argument keeps what is stored. */
    [OBJ_SET] = "UPDATE messages SET emailid = coalesce(?3, emailid),"
                " threadid = coalesce(?4, threadid), preview = coalesce(?5, preview)"
                " WHERE mailbox_id = ?1 AND uid = ?2",
    /* the entry and (?3) everything below it: names are lower-cased */
    [OBJ_META_LIST] = "SELECT name, value FROM metadata WHERE mailbox_id = ?1 AND"
                      " (name = ?2 OR (?3 AND substr(name, 1, length(?2) + 1) = ?2 || '/'))"
                      " ORDER BY name",
    [OBJ_META_SET] =
        "INSERT OR REPLACE INTO metadata (mailbox_id, name, value) VALUES (?1, ?2, ?3)",
    [OBJ_META_DELETE] = "DELETE FROM metadata WHERE mailbox_id = ?1 AND name = ?2",
    [OBJ_META_COUNT] = "SELECT count(*) FROM metadata WHERE mailbox_id = ?1",
    [OBJ_META_EXISTS] = "SELECT 1 FROM metadata WHERE mailbox_id = ?1 AND name = ?2",
    [OBJ_THREAD_GET] = "SELECT threadid FROM threads WHERE msgid = ?1",
    /* the first THREADID given to a Message-ID stays */
    [OBJ_THREAD_ADD] = "INSERT OR IGNORE INTO threads (msgid, threadid) VALUES (?1, ?2)",
};

static sqlite3_stmt *obj_stmt(struct mail_index *index, enum obj_stmt s, const char **error_r)
{
	return mail_index_ext_stmt(index, obj_sql, OBJ_COUNT, s, error_r);
}

/* Reset stmt and map rc: 1 a row, 0 none, -1 an error. */
static int obj_end(struct mail_index *index, sqlite3_stmt *stmt, int rc, const char *what,
                   const char **error_r)
{
	int ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;

	if (ret < 0)
		(void)mail_index_ext_fail(index, what, error_r);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return ret;
}

static char *column_dup(sqlite3_stmt *stmt, int col, size_t *len_r)
{
	const void *data = sqlite3_column_blob(stmt, col);
	size_t len = (size_t)sqlite3_column_bytes(stmt, col);
	char *s;

	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return NULL;
	s = xmalloc(len + 1);
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	if (len_r != NULL)
		*len_r = len;
	return s;
}

int mail_index_mailboxid(struct mail_index *index, int64_t box_id, char **id_r,
                         const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_MAILBOXID, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*id_r = column_dup(stmt, 0, NULL);
		if (*id_r == NULL)
			rc = SQLITE_DONE;
	}
	return obj_end(index, stmt, rc, "mailboxid", error_r);
}

static void objects_read(sqlite3_stmt *stmt, struct index_objects *obj)
{
	obj->savedate = sqlite3_column_int64(stmt, 0);
	obj->emailid = column_dup(stmt, 1, NULL);
	obj->threadid = column_dup(stmt, 2, NULL);
	obj->preview = column_dup(stmt, 3, &obj->preview_len);
}

int mail_index_objects_get(struct mail_index *index, int64_t box_id, uint32_t uid,
                           struct index_objects *obj_r, const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_GET, error_r);
	int rc;

	memset(obj_r, 0, sizeof(*obj_r));
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		objects_read(stmt, obj_r);
	return obj_end(index, stmt, rc, "message objects", error_r);
}

int mail_index_objects_range(struct mail_index *index, int64_t box_id, uint32_t uid_first,
                             uint32_t uid_last, uint32_t **uids_r, struct index_objects **objs_r,
                             size_t *count_r, const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_RANGE, error_r);
	ARRAY(struct index_objects) objs = ARRAY_INIT;
	ARRAY(uint32_t) uids = ARRAY_INIT;
	int rc;

	*uids_r = NULL;
	*objs_r = NULL;
	*count_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid_first);
	sqlite3_bind_int64(stmt, 3, uid_last);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct index_objects *obj = array_push(&objs);

		memset(obj, 0, sizeof(*obj));
		objects_read(stmt, obj);
		array_append(&uids, (uint32_t)sqlite3_column_int64(stmt, 4));
	}
	*uids_r = array_steal(&uids, count_r);
	*objs_r = array_steal(&objs, count_r);
	return obj_end(index, stmt, rc, "message objects", error_r) < 0 ? -1 : 0;
}

int mail_index_objects_set(struct mail_index *index, int64_t box_id, uint32_t uid,
                           const struct index_objects *obj, const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_SET, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_int64(stmt, 2, uid);
	if (obj->emailid != NULL)
		sqlite3_bind_text(stmt, 3, obj->emailid, -1, SQLITE_STATIC);
	if (obj->threadid != NULL)
		sqlite3_bind_text(stmt, 4, obj->threadid, -1, SQLITE_STATIC);
	if (obj->preview != NULL)
		sqlite3_bind_blob64(stmt, 5, obj->preview_len > 0 ? obj->preview : "",
		                    obj->preview_len, SQLITE_STATIC);
	return obj_end(index, stmt, sqlite3_step(stmt), "message objects store", error_r);
}

void index_objects_free(struct index_objects *obj)
{
	free(obj->emailid);
	free(obj->threadid);
	free(obj->preview);
	memset(obj, 0, sizeof(*obj));
}

int mail_index_meta_list(struct mail_index *index, int64_t box_id, const char *name, bool children,
                         struct index_meta **entries_r, size_t *count_r, const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_META_LIST, error_r);
	ARRAY(struct index_meta) list = ARRAY_INIT;
	int rc;

	*entries_r = NULL;
	*count_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, children ? 1 : 0);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct index_meta *m = array_push(&list);

		m->name = column_dup(stmt, 0, NULL);
		m->value = column_dup(stmt, 1, &m->len);
		if (m->name == NULL || m->value == NULL) {
			free(m->name);
			free(m->value);
			list.count--;
		}
	}
	*entries_r = array_steal(&list, count_r);
	return obj_end(index, stmt, rc, "metadata list", error_r);
}

void index_meta_free(struct index_meta *entries, size_t count)
{
	for (size_t i = 0; entries != NULL && i < count; i++) {
		free(entries[i].name);
		free(entries[i].value);
	}
	free(entries);
}

int mail_index_meta_set(struct mail_index *index, int64_t box_id, const char *name,
                        const char *value, size_t len, const char **error_r)
{
	sqlite3_stmt *stmt =
	    obj_stmt(index, value != NULL ? OBJ_META_SET : OBJ_META_DELETE, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_blob64(stmt, 3, len > 0 ? value : "", len, SQLITE_STATIC);
	return obj_end(index, stmt, sqlite3_step(stmt), "metadata store", error_r);
}

int mail_index_meta_count(struct mail_index *index, int64_t box_id, const char *name,
                          size_t *count_r, bool *exists_r, const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_META_COUNT, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*count_r = (size_t)sqlite3_column_int64(stmt, 0);
	if (obj_end(index, stmt, rc, "metadata count", error_r) < 0)
		return -1;
	if (exists_r == NULL)
		return 0;
	if ((stmt = obj_stmt(index, OBJ_META_EXISTS, error_r)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, box_id);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	rc = obj_end(index, stmt, sqlite3_step(stmt), "metadata lookup", error_r);
	*exists_r = rc == 1;
	return rc < 0 ? -1 : 0;
}

int mail_index_thread_get(struct mail_index *index, const char *msgid, char **threadid_r,
                          const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_THREAD_GET, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, msgid, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && (*threadid_r = column_dup(stmt, 0, NULL)) == NULL)
		rc = SQLITE_DONE;
	return obj_end(index, stmt, rc, "thread lookup", error_r);
}

int mail_index_thread_add(struct mail_index *index, const char *msgid, const char *threadid,
                          const char **error_r)
{
	sqlite3_stmt *stmt = obj_stmt(index, OBJ_THREAD_ADD, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, threadid, -1, SQLITE_STATIC);
	return obj_end(index, stmt, sqlite3_step(stmt), "thread store", error_r);
}
