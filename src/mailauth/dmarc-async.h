#ifndef TERN_MAILAUTH_DMARC_ASYNC_H
#define TERN_MAILAUTH_DMARC_ASYNC_H

/*
 * Run a DMARC check (dmarc.h) on the asynchronous resolver (dns-resolver.h):
 * each DNS question the check asks is sent through the event loop, and the
 * callback is called once the result is known.
 */

#include "dns/dns-resolver.h"
#include "mailauth/dmarc.h"

struct dmarc_async;

/* Called once with the finished check (still owned by the caller). */
typedef void dmarc_done_t(struct dmarc_check *check, void *context);

/* Drive check to its result. Returns NULL when the result is already known
   without DNS (the callback is then not called: read the result at once);
   otherwise a handle, valid until the callback has been called, for
   dmarc_async_cancel(). check must live until then. */
struct dmarc_async *dmarc_async_start(struct dns_resolver *resolver, struct dmarc_check *check,
                                      dmarc_done_t *callback, void *context);

/* Stop a running check; its callback will not be called. NULL is fine;
   sets *async NULL. */
void dmarc_async_cancel(struct dmarc_async **async);

#endif
