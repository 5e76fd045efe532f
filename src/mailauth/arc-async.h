#ifndef TERN_MAILAUTH_ARC_ASYNC_H
#define TERN_MAILAUTH_ARC_ASYNC_H

/*
 * Finish an ARC chain validation (arc.h) on the asynchronous resolver
 * (dns-resolver.h): each key record the verifier asks for is looked up
 * through the event loop, and the callback runs once the result is known.
 * Call it after arc_verifier_finish().
 */

#include "dns/dns-resolver.h"
#include "mailauth/arc.h"

struct arc_async;

/* Called once with the finished verifier (still owned by the caller). */
typedef void arc_done_t(struct arc_verifier *verifier, void *context);

/* Drive verifier to its result. Returns NULL when it is known without DNS
   (the callback is then not called); otherwise a handle, valid until the
   callback has run, for arc_async_cancel(). verifier must live until
   then. */
struct arc_async *arc_async_start(struct dns_resolver *resolver, struct arc_verifier *verifier,
                                  arc_done_t *callback, void *context);

/* Stop; the callback will not be called. NULL is fine; sets *async NULL. */
void arc_async_cancel(struct arc_async **async);

#endif
