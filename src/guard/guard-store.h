#ifndef TERN_GUARD_GUARD_STORE_H
#define TERN_GUARD_GUARD_STORE_H

/*
 * The guard's bans in the directory database (table guard_bans, made by
 * the directory's schema), so that they survive restarts and an admin can
 * list, add and lift them with `tern ban` while the server runs
 * (docs/guard.md). The running server calls guard_store_sync every few
 * seconds from one process: it writes the bans set since the last call
 * and applies what others (`tern ban`, an earlier run) wrote. Blocking
 * SQLite calls: run them on a worker thread. One thread at a time per
 * store.
 */

#include <stdbool.h>
#include <time.h>

#include "guard/guard.h"

struct guard_store;

/* Open the directory database at path (it must exist: the directory makes
   it). Returns 0, or -1 with *error_r (free it). */
int guard_store_open(const char *path, struct guard_store **store_r, char **error_r);

/* NULL is fine; sets *store NULL. */
void guard_store_close(struct guard_store **store);

/* One round, in one transaction: write guard's bans set since the last
   round; when the database changed by another hand since this store last
   looked (and on the first round), apply its rows to guard (admin bans,
   bans of an earlier run with their offences, lifted bans); delete lifted
   rows and rows that ended more than keep seconds before now. Returns the
   number of bans written, or -1 with *error_r (free it; those bans stay in
   force but are not written). */
int guard_store_sync(struct guard_store *store, struct guard *guard, time_t now, unsigned keep,
                     char **error_r);

/* Ban key (guard_key form, or an address) until, for reason ("admin"); an
   existing ban is kept when it ends later. Returns 0, or -1 with *error_r
   (free it; "not an address" for a bad key). */
int guard_store_add(struct guard_store *store, const char *key, time_t until, const char *reason,
                    char **error_r);

/* Lift key's ban. Returns 1, 0 if there was none, or -1 with *error_r. */
int guard_store_lift(struct guard_store *store, const char *key, char **error_r);

/* Call fn for each ban in force at now, by end. Returns 0 or -1. */
typedef void guard_store_fn(const struct guard_ban *ban, const char *reason, void *context);
int guard_store_list(struct guard_store *store, time_t now, guard_store_fn *fn, void *context,
                     char **error_r);

#endif
