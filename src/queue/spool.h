#ifndef TERN_QUEUE_SPOOL_H
#define TERN_QUEUE_SPOOL_H

/*
 * The outbound spool: <data_dir>/queue/, mail waiting to leave for other
 * servers (docs/queue.md). An entry is two files named by its queue id:
 *   <id>.msg   the message, once, whatever the number of recipients;
 *   <id>.env   its envelope (spool-envelope.h), written last.
 * The appearance of <id>.env (a rename, then an fsync of the directory) is
 * the commit point: a crash at any instant leaves either a complete entry
 * (both files) or debris (<id>.tmp, <id>.msg alone, <id>.env alone) that
 * readers ignore and spool_cleanup() removes.
 *
 * Writing is in two steps so that a message with local recipients too is
 * never half delivered (smtp-policy-inbound.c): spool_prepare() makes the
 * data and the envelope durable under names readers ignore; then the
 * caller delivers locally; then spool_commit() makes the entry appear, or
 * spool_abort() removes it. spool_write() is both steps at once.
 *
 * A struct spool is only the directory: it may be shared by threads (the
 * worker pool prepares entries while the loop lists them). Errors are
 * static strings; paths and errno are logged.
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/settings.h"
#include "queue/spool-envelope.h"

struct spool;
struct spool_entry;
struct delivery;

/* What went wrong reading an entry (spool_read()). */
enum spool_error {
	SPOOL_ERROR_IO,        /* the file system failed (logged) */
	SPOOL_ERROR_NOT_FOUND, /* no committed entry with that id */
	SPOOL_ERROR_MALFORMED, /* the envelope cannot be read (or the id is not one) */
};

/* The queue directory of a config: <data_dir>/queue (malloc'ed). */
char *spool_dir_path(const struct tern_settings *settings);

/* Open the spool at dir. create: make dir (0700, parents included, the
   parent fsynced) if it is missing; otherwise a missing dir is an empty
   spool for the readers. Returns 0 with *sp_r (free with spool_free()), or
   -1 with *error_r. */
int spool_open(const char *dir, bool create, struct spool **sp_r, const char **error_r);

/* Free and set *sp NULL; NULL is fine. No entry of it may be pending. */
void spool_free(struct spool **sp);

/* The directory (valid while sp is). */
const char *spool_path(const struct spool *sp);

/* Step one: give the message a new queue id (env->id, replacing any), take
   the data of d into <id>.msg (delivery_link_file(): a hard link, or a
   copy on another file system; d stays the caller's, for local delivery or
   delivery_abort()), set env->size from it (minus env->data_skip), write
   the envelope to <id>.tmp, and fsync the data and the envelope (the
   directory is fsynced once, by the commit). Nothing is visible to
   readers yet. Returns 0 with *entry_r,
   which the caller must end with spool_commit() or spool_abort(); -1 with
   *error_r when the envelope is not writable (spool_envelope_format()) or
   the file system fails, leaving nothing behind. Safe on any thread. */
int spool_prepare(struct spool *sp, struct delivery *d, struct spool_envelope *env,
                  struct spool_entry **entry_r, const char **error_r);

/* The id of a prepared entry (valid until commit or abort). */
const char *spool_entry_id(const struct spool_entry *entry);

/* Step two: rename <id>.tmp to <id>.env and fsync the directory. After 0
   the entry is durable and complete (the caller may send its 250). On -1
   (*error_r set) the entry is removed again. Frees *entry and sets it NULL
   either way. */
int spool_commit(struct spool_entry **entry, const char **error_r);

/* Remove a prepared entry's files and free it; NULL or *entry NULL is
   fine. */
void spool_abort(struct spool_entry **entry);

/* spool_prepare() then spool_commit(). */
int spool_write(struct spool *sp, struct delivery *d, struct spool_envelope *env,
                const char **error_r);

/* A new entry whose message is the len bytes of data (a bounce the queue
   role composed): written to <id>.msg and fsynced, then the envelope as
   spool_prepare() and spool_commit() do (env->id and env->size are set;
   env->data_skip should be 0). Returns 0 once the entry is durable, or -1
   with *error_r (nothing left behind). Safe on any thread. */
int spool_write_data(struct spool *sp, const void *data, size_t len, struct spool_envelope *env,
                     const char **error_r);

/* The ids of the committed entries (<id>.env with a valid id and its
   <id>.msg), oldest
   first (ids start with their creation time). *ids_r is a NULL-terminated
   malloc'ed array of malloc'ed strings (free with spool_ids_free()), count
   in *count_r. A missing directory is an empty spool. */
int spool_list(struct spool *sp, char ***ids_r, size_t *count_r, const char **error_r);
void spool_ids_free(char ***ids);

/* Read the envelope of entry id into *env_r (clear it with
   spool_envelope_clear()). Returns 0, or -1 with *kind_r and *error_r: an
   id that is not one, or an envelope that does not parse (or is larger
   than 1 MiB), is SPOOL_ERROR_MALFORMED; a missing one (or one without
   its data file) NOT_FOUND. */
int spool_read(struct spool *sp, const char *id, struct spool_envelope *env_r,
               enum spool_error *kind_r, const char **error_r);

/* The path of entry id's data file (malloc'ed); id must be valid. */
char *spool_data_path(const struct spool *sp, const char *id);

/* Remove entry id: the envelope first, the directory fsynced, then the
   data (so a crash leaves only debris). A missing entry is -1 with
   *kind_r SPOOL_ERROR_NOT_FOUND. */
int spool_remove(struct spool *sp, const char *id, enum spool_error *kind_r, const char **error_r);

/* Remove debris at least min_age seconds old: <id>.tmp files, <id>.msg
   files without their <id>.env, <id>.env files without their <id>.msg, and
   <id>.state files (docs/queue.md) without both. Younger debris may be an
   entry another process is preparing. *removed_r: how many files went. */
int spool_cleanup(struct spool *sp, int64_t min_age, size_t *removed_r, const char **error_r);

#endif
