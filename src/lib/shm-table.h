#ifndef TERN_LIB_SHM_TABLE_H
#define TERN_LIB_SHM_TABLE_H

/*
 * A fixed-size table of small records keyed by string, in memory shared
 * by every process forked after it was made (an anonymous MAP_SHARED
 * mapping). The supervisor makes the tables before it forks the roles, so
 * a count kept by one smtp or imap process is the count of all of them
 * (limits and failure counters, docs/processes.md "Shared counters").
 *
 * Keys are not stored: a slot holds a 128-bit keyed BLAKE2b digest of its
 * key (the hash key is random per table, so nobody can aim keys at one
 * set). The table is set-associative: a key's digest picks one set of
 * SHM_TABLE_WAYS slots guarded by one robust, process-shared mutex; a new
 * key takes a free slot of its set, else the slot with the smallest stamp
 * (the caller's "last used" clock). A process killed while holding a set's
 * lock does not wedge the others: the next one to lock it clears that set
 * (its records are lost, never left half-written) and goes on.
 *
 * Only the locks are written when the table is made; a slot's memory is
 * touched (and counted against the processes) when a key first uses it.
 * Safe from any thread of any process that inherited the mapping.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_TABLE_WAYS 8
/* The largest record a slot may carry. */
#define SHM_TABLE_VALUE_MAX 512

struct shm_table;

/* Called under the set's lock with the key's record (value_size bytes,
   8-aligned; all zero when fresh) and its stamp (the eviction rank). It
   may change both (a change of the stamp is dropped by shm_table_read);
   it must not call into the same table. */
typedef void shm_table_fn(void *value, bool fresh, uint64_t *stamp, void *context);

/* A table of at least slots records of value_size bytes each (rounded up
   to whole sets). Returns NULL with a static reason in *error_r when the
   mapping or a lock cannot be made, or value_size is 0 or more than
   SHM_TABLE_VALUE_MAX. */
struct shm_table *shm_table_new(size_t slots, size_t value_size, const char **error_r);

/* Unmap the table in this process (others keep theirs); NULL is fine; sets
 *table NULL. */
void shm_table_free(struct shm_table **table);

/* Find key's record, or make it (evicting as above), set its stamp and
   call fn on it. Returns 0, or -1 if the lock could not be taken (a
   broken mapping; fn was not called). */
int shm_table_update(struct shm_table *table, const char *key, uint64_t stamp, shm_table_fn *fn,
                     void *context);

/* Call fn on key's record if it exists (fresh is false; the stamp is left
   alone). Returns true if it did. */
bool shm_table_read(struct shm_table *table, const char *key, shm_table_fn *fn, void *context);

/* Forget key's record. Returns true if there was one. */
bool shm_table_remove(struct shm_table *table, const char *key);

/* Call fn on every record in use, one set locked at a time (fresh is
   false); fn may change the record, and returns false to free its slot.
   A scan of the whole table: for periodic work and admin commands. */
typedef bool shm_table_each_fn(void *value, void *context);
void shm_table_each(struct shm_table *table, shm_table_each_fn *fn, void *context);

/* The slots in use (a scan of every set, for tests and metrics). */
size_t shm_table_used(struct shm_table *table);

/* The slots the table holds. */
size_t shm_table_capacity(const struct shm_table *table);

#endif
