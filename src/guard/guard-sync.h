#ifndef TERN_GUARD_GUARD_SYNC_H
#define TERN_GUARD_GUARD_SYNC_H

/*
 * The running server's side of guard-store.h: every GUARD_SYNC_SECONDS
 * (and once at start) one role process runs guard_store_sync on a worker
 * thread, so bans set by any process are written within that time and
 * `tern ban add|del` takes effect within it. Run by the queue role: it is
 * the one process of its kind, and has a worker pool and the directory.
 */

#include <event2/event.h>

#include "guard/guard.h"
#include "lib/workpool.h"

#define GUARD_SYNC_SECONDS 5

struct guard_sync;

/* Start syncing guard (with set's timing; both must outlive it) with the
   directory database at path, on base and pool. Never NULL; errors are
   logged at each round (event=guard.sync_failed), and a round that
   fails is tried again at the next. */
struct guard_sync *guard_sync_start(struct event_base *base, struct workpool *pool,
                                    struct guard *guard, const struct guard_settings *set,
                                    const char *path);

/* Stop: no new round starts; one running finishes on the pool (which the
   caller frees later) before its memory goes. NULL is fine; sets *sync
   NULL. */
void guard_sync_stop(struct guard_sync **sync);

#endif
