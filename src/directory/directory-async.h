#ifndef TERN_DIRECTORY_DIRECTORY_ASYNC_H
#define TERN_DIRECTORY_DIRECTORY_ASYNC_H

/*
 * Directory lookups for code on a role's event loop: each request runs on
 * the role's worker pool (lib/workpool.h), so the loop never waits for the
 * database, and its callback runs later on the loop thread. Each running
 * request uses a backend connection of its own, taken from a small set
 * kept on the handle (at most one per worker thread running a request, so
 * no connection is ever used by two threads at once); connections are
 * opened on demand by the worker and kept for the next request.
 *
 * Lifetimes: the caller keeps ctx alive until its callback has run; every
 * request's callback runs exactly once, unless directory_async_close() came
 * first (then it never runs). A session that goes away while a request is
 * pending therefore either waits for the callback (holds itself, as the
 * IMAP session does with its job count) or closes the whole handle.
 *
 * All functions are called on the loop thread of the pool.
 */

#include "directory/directory.h"
#include "lib/workpool.h"

struct directory_async;

/* Open the directory at path once on this thread (to report a bad file now
   rather than at the first lookup) and keep that connection for the first
   request. Returns 0 with *da_r, or -1 with *error_r as directory_open(). */
int directory_async_open(const char *path, struct workpool *pool, struct directory_async **da_r,
                         const char **error_r);

/* Close the handle and set *da to NULL (NULL is fine). Callbacks of pending
   requests will not run; the handle's memory and connections are freed
   when the last of them has finished on its worker (so the pool must be
   freed after this, as workpool_free() finishes them). */
void directory_async_close(struct directory_async **da);

/* ret and res are those of directory_resolve(): 0 with *res filled, or -1
   with error (then res is zeroed). res and error are the handle's, valid
   during the callback only: to keep res's lists, copy *res and zero *res
   (they are freed with directory_resolution_free(res) after the callback
   returns). */
typedef void directory_resolve_cb(void *ctx, int ret, struct directory_resolution *res,
                                  const char *error);

/* Resolve an SMTP recipient address (copied) as
   directory_resolve_postmaster() does, with the fallback of
   directory_async_set_postmaster() (none set: NULL, the domain's first
   user); cb(ctx, ...) runs later on the loop thread. */
void directory_async_resolve(struct directory_async *da, const char *address,
                             directory_resolve_cb *cb, void *ctx);

/* ret is that of directory_user_lookup(): 1 with user (the callback's to
   free with directory_user_free()), 0 with user NULL for no such user or a
   malformed address, -1 with user NULL and error (valid during the callback
   only). */
typedef void directory_user_cb(void *ctx, int ret, struct directory_user *user, const char *error);

/* Look up a user by address (copied) as directory_user_lookup() does; cb
   runs later on the loop thread. */
void directory_async_user_lookup(struct directory_async *da, const char *address,
                                 directory_user_cb *cb, void *ctx);

/* ret: 1 if the user owns every address asked about, 0 if not (first: the
   index of the first one not owned), -1 with error (valid during the
   callback only) on a database error. */
typedef void directory_senders_cb(void *ctx, int ret, size_t first, const char *error);

/* Whether user owns each of the count addresses (copied), by
   directory_sender_owns() (directory-sender.h); cb runs later on the loop
   thread. */
void directory_async_senders_owned(struct directory_async *da, const char *user,
                                   const char *const *addresses, size_t count,
                                   directory_senders_cb *cb, void *ctx);

/* ret is that of directory_scram_any(): 1, 0, or -1 with error (valid
   during the callback only). */
typedef void directory_probe_cb(void *ctx, int ret, const char *error);

/* Ask whether some user has SCRAM keys, as directory_scram_any() does; cb
   runs later on the loop thread. */
void directory_async_scram_any(struct directory_async *da, directory_probe_cb *cb, void *ctx);

/* Where postmaster@<our domain> goes when nothing else receives it
   (copied; NULL: the domain's first user). Set it before the first
   request: the workers read it. */
void directory_async_set_postmaster(struct directory_async *da, const char *fallback);

#endif
