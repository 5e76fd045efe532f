#ifndef TERN_STORE_INDEX_PRIVATE_H
#define TERN_STORE_INDEX_PRIVATE_H

/*
 * For the parts of the index kept outside index.c (index-objects.c:
 * OBJECTID, SAVEDATE, PREVIEW and METADATA, schema version 6): their own
 * prepared statements on the same connection.
 */

#include <stddef.h>

#include <sqlite3.h>

struct mail_index;

/* The schema version (index.c); quota.c's read-only fast path reads only
   an index of this version. */
#define MAIL_INDEX_SCHEMA_VERSION 7

/* Statement id of the table sql[0..count) (a static table: every caller
   passes the same one), prepared at its first use and kept with the
   connection; reset, bindings cleared. NULL with *error_r on error. */
sqlite3_stmt *mail_index_ext_stmt(struct mail_index *index, const char *const *sql, size_t count,
                                  size_t id, const char **error_r);
/* Set the index's error to "index <what>: <sqlite message>" and return -1. */
/* The connection itself, for quota.c's few statements (prepared per call:
   they run once per delivery or command). */
sqlite3 *mail_index_db(struct mail_index *index);
int mail_index_ext_fail(struct mail_index *index, const char *what, const char **error_r);

#endif
