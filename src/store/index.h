#ifndef TERN_STORE_INDEX_H
#define TERN_STORE_INDEX_H

/*
 * The per-user mailbox index: <user Maildir>/tern-index.db, SQLite in WAL
 * mode. Internal to src/store (mailbox.c is its only user); the schema is
 * in docs/store.md. The index only caches what the Maildir says, plus the
 * numbers the Maildir cannot hold (UIDs, UIDVALIDITY, MODSEQ): a missing,
 * corrupt or foreign-version file is replaced by an empty index, which the
 * next sync fills from the Maildir (with new UIDVALIDITYs).
 *
 * Errors: -1 with *error_r valid until the next call on the same index.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/mailbox.h"

struct mail_index;

struct index_box {
	int64_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	/* The highest UID a session that selected the mailbox has taken as
	   \Recent: messages above it are recent to the next one (version 4). */
	uint32_t recent_uid;
};

struct index_row {
	uint32_t uid;
	char *base; /* file name part before ":2," (malloc'ed) */
	char *info; /* file name part after ":2," (malloc'ed) */
	unsigned flags;
	uint64_t size;
	int64_t internaldate;
	uint64_t modseq;
	uint64_t keywords; /* bit i: keyword i of the mailbox (version 4) */
};

/* Process-wide SQLite settings for many mostly idle connections (no bulk
   page cache allocation per connection). Call before anything else in
   the process uses SQLite; called late it does nothing (logged at debug). */
void mail_index_process_init(void);

/* Open (creating or rebuilding as said above) the index at path. On success
 *index_r is a new index the caller closes with mail_index_close(). */
int mail_index_open(const char *path, struct mail_index **index_r, const char **error_r);
/* Close and set *index to NULL; NULL is fine. Rolls back an open
   transaction. */
void mail_index_close(struct mail_index **index);

/* A write transaction (BEGIN IMMEDIATE: writers take the lock first, so two
   syncs never hand out the same UID). Every write below must be inside
   one. */
int mail_index_begin(struct mail_index *index, const char **error_r);
int mail_index_commit(struct mail_index *index, const char **error_r);
void mail_index_rollback(struct mail_index *index);
/* Commit the open transaction, leave other connections waiting for the
   write lock a moment (1 ms) to take it, and begin again: what a writer
   does between the chunks of a long change (MAIL_WRITE_CHUNK). -1 if
   either fails (then no transaction is open, or the BEGIN failed). */
int mail_index_commit_begin(struct mail_index *index, const char **error_r);
/* True if the last failure of index was the write lock held by another
   connection for longer than the busy timeout (2 s). */
bool mail_index_busy(struct mail_index *index);

/* True while a transaction of index is open. */
bool mail_index_in_transaction(struct mail_index *index);

/* SQLite's data_version of the index: a value that changes when another
   connection (another process, or another mail_user opened alone) commits
   a change; this connection's own commits do not change it. Inside a
   transaction it is the value that transaction started from. 0, or -1. */
int mail_index_data_version(struct mail_index *index, uint64_t *version_r, const char **error_r);

/* Look a mailbox up by name: 1 and *box_r filled, 0 if it has no row, -1. */
int mail_index_box_get(struct mail_index *index, const char *name, struct index_box *box_r,
                       const char **error_r);
/* Add a mailbox row (uidnext 1, highestmodseq 1); box_r gets its values. */
int mail_index_box_add(struct mail_index *index, const char *name, uint32_t uidvalidity,
                       struct index_box *box_r, const char **error_r);
/* Store box->uidnext and box->highestmodseq. */
int mail_index_box_update(struct mail_index *index, const struct index_box *box,
                          const char **error_r);

/* Forget a mailbox: its row and its message rows (DELETE). A name
   without a row is fine. */
int mail_index_box_delete(struct mail_index *index, const char *name, const char **error_r);
/* Give the row of old_name the name new_name, keeping its UIDVALIDITY and
   UIDs (RENAME; RFC 3501 6.3.5 allows keeping them). A stale row of
   new_name is dropped first. */
int mail_index_box_rename(struct mail_index *index, const char *old_name, const char *new_name,
                          const char **error_r);

/* Every message row of a mailbox, in UID order. *rows_r is
   malloc'ed (free with index_rows_free()). */
int mail_index_rows(struct mail_index *index, int64_t box_id, struct index_row **rows_r,
                    size_t *count_r, const char **error_r);
void index_rows_free(struct index_row *rows, size_t count);

int mail_index_row_add(struct mail_index *index, int64_t box_id, const struct index_row *row,
                       const char **error_r);
/* Store row->info, row->flags, row->modseq and row->keywords of the row
   with row->uid. */
int mail_index_row_update(struct mail_index *index, int64_t box_id, const struct index_row *row,
                          const char **error_r);
/* The info (flags part of the file name) the row of uid holds now, as the
   last writer left it: 1 and *info_r malloc'ed, 0 if there is no such
   row, -1. */
int mail_index_row_info(struct mail_index *index, int64_t box_id, uint32_t uid, char **info_r,
                        const char **error_r);
/* Delete the row of uid and remember the UID as expunged at modseq (the
   mailbox's highestmodseq once the change commits; version 5). */
int mail_index_row_delete(struct mail_index *index, int64_t box_id, uint32_t uid, uint64_t modseq,
                          const char **error_r);
/* The UIDs of the mailbox expunged at a modseq above modseq, ascending:
 *uids_r malloc'ed (NULL when *count_r is 0). 0, or -1. */
int mail_index_expunged_since(struct mail_index *index, int64_t box_id, uint64_t modseq,
                              uint32_t **uids_r, size_t *count_r, const char **error_r);

/* The FETCH cache (schema version 2; struct mail_cache in mailbox.h).
   Read the cache of the messages with a UID in [uid_first, uid_last]:
   *uids_r and *caches_r (both malloc'ed, NULL when *count_r is 0; free
   each cache with mail_cache_free()) hold the *count_r rows in UID order,
   fields not cached with data NULL. Returns 0, or -1 with the arrays
   filled as far as they got (free them too). */
int mail_index_cache_get(struct mail_index *index, int64_t box_id, uint32_t uid_first,
                         uint32_t uid_last, uint32_t **uids_r, struct mail_cache **caches_r,
                         size_t *count_r, const char **error_r);
/* Store the fields of cache whose data is not NULL; the others keep
   their stored value. A uid without a row is fine (nothing stored). The
   cache is not owned. Runs in the caller's transaction, or its own. */
int mail_index_cache_set(struct mail_index *index, int64_t box_id, uint32_t uid,
                         const struct mail_cache *cache, const char **error_r);

/* Raise the mailbox's recent_uid to recent_uid (never lowers it). */
int mail_index_box_recent(struct mail_index *index, int64_t box_id, uint32_t recent_uid,
                          const char **error_r);
/* The keyword mask and modseq the row of uid holds now: 1 and *keywords_r
   and *modseq_r (unless NULL), 0 if there is no such row, -1. */
int mail_index_row_keywords(struct mail_index *index, int64_t box_id, uint32_t uid,
                            uint64_t *keywords_r, uint64_t *modseq_r, const char **error_r);
/* The mailbox's keyword names: names[idx] (the caller's array of
   names_count) gets a malloc'ed copy of each stored one (freeing what it
   held), other entries are left as they are. 0, or -1. */
int mail_index_keywords(struct mail_index *index, int64_t box_id, char **names, size_t names_count,
                        const char **error_r);
/* Store keyword idx of the mailbox as name (replacing another name). */
int mail_index_keyword_set(struct mail_index *index, int64_t box_id, unsigned idx, const char *name,
                           const char **error_r);
#endif
