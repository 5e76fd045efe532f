#ifndef TERN_LIB_WORKPOOL_H
#define TERN_LIB_WORKPOOL_H

/*
 * A small pool of worker threads for work that would block the event loop
 * (password hashing, fsync-heavy delivery, SQLite writes). A job's work()
 * runs on a worker thread; its done() then runs on the event loop thread,
 * where it may touch connections and sessions again.
 *
 * Create the pool in the process that uses it (after fork(): threads do not
 * survive a fork).
 */

#include <event2/event.h>

/* Jobs waiting for a worker; workpool_submit() blocks while this many are
   queued (a bound on memory; the loop only waits when the pool is far
   behind). */
#define WORKPOOL_MAX_QUEUED 4096

struct workpool;

/* Start threads workers (at least 1) whose completions are delivered on
   base. Never returns NULL (a failure to create threads is fatal). */
struct workpool *workpool_new(struct event_base *base, unsigned threads);

/* Queue a job: work(ctx) runs on a worker thread, then done(ctx) runs on
   the event loop thread with the same ctx, exactly once each. done may be
   NULL. Jobs start in submission order; they may finish in any order.
   Must be called from the event loop thread. */
void workpool_submit(struct workpool *pool, void (*work)(void *ctx), void (*done)(void *ctx),
                     void *ctx);

/* Jobs submitted whose done() has not run yet. */
unsigned workpool_pending(const struct workpool *pool);

/* Wait for queued and running jobs to finish, run their done() callbacks,
   stop the threads and free the pool. NULL is fine; sets *pool to NULL. */
void workpool_free(struct workpool **pool);

#endif
