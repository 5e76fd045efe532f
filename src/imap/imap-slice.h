#ifndef TERN_IMAP_IMAP_SLICE_H
#define TERN_IMAP_IMAP_SLICE_H

/*
 * A command that works in slices of the event loop, so that a big STORE or
 * EXPUNGE does not keep the role's other sessions waiting (docs/imap.md,
 * "Long commands"): each slice works until its deadline (IMAP_SLICE_USEC
 * from its start), then the loop serves the other connections and the
 * next slice continues. The session reads no command meanwhile, so its
 * view does not change between slices.
 *
 * A test hook: while the file named by the test-only config key
 * imap { test_slice_gate } exists, a command waits before each of its later
 * slices (looking again every 10 ms) and logs event=imap.slice_held once,
 * so an end-to-end test can act at a known point in the middle of a long
 * command (tests/e2e/test_imap_bigwrites.py). Unset, nothing changes.
 */

#include <stdint.h>

struct imap_session;

/* How long one slice works, at most (about: a step looks at the clock
   between two units of work). */
#define IMAP_SLICE_USEC 5000

/* One slice: work until done or deadline_usec (imap_slice_now_usec()
   clock) has passed. Returns 1 when done (the command has answered), 0 if
   more is left. */
typedef int imap_slice_step(void *ctx, uint64_t deadline_usec);

/* Run step(ctx) now and, while it returns 0, again at later loop turns;
   then free_ctx(ctx). If the session closes meanwhile, the steps stop and
   only free_ctx(ctx) runs. */
void imap_slice_run(struct imap_session *s, imap_slice_step *step, void (*free_ctx)(void *ctx),
                    void *ctx);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t imap_slice_now_usec(void);

#endif
