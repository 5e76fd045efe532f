#ifndef TERN_MAILAUTH_DKIM_ASYNC_H
#define TERN_MAILAUTH_DKIM_ASYNC_H

/*
 * Finish a DKIM verification (dkim-verify.h) on the asynchronous resolver
 * (dns-resolver.h): each key record the verifier asks for is looked up
 * through the event loop, and the callback runs once every verdict is
 * known. Call it after dkim_verifier_finish().
 */

#include "dns/dns-resolver.h"
#include "mailauth/dkim-verify.h"

struct dkim_async;

/* Called once with the finished verifier (still owned by the caller). */
typedef void dkim_done_t(struct dkim_verifier *verifier, void *context);

/* Drive verifier to its verdicts. Returns NULL when they are known without
   DNS (the callback is then not called); otherwise a handle, valid until
   the callback has run, for dkim_async_cancel(). verifier must live until
   then. */
struct dkim_async *dkim_async_start(struct dns_resolver *resolver, struct dkim_verifier *verifier,
                                    dkim_done_t *callback, void *context);

/* Stop; the callback will not be called. NULL is fine; sets *async NULL. */
void dkim_async_cancel(struct dkim_async **async);

#endif
