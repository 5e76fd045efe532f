#ifndef TERN_DNS_DNS_DRIVER_H
#define TERN_DNS_DNS_DRIVER_H

/*
 * Drive a resumable, I/O-free check (SPF, DKIM keys, ARC keys, DMARC) on
 * the event-loop resolver: the check asks one DNS question at a time, the
 * driver sends it through dns_lookup() and feeds the answer back, until the
 * check is finished. One driver serves every check through its ops table
 * (spf_check_ops, dkim_verifier_ops, arc_verifier_ops, dmarc_check_ops).
 */

#include "dns/dns-resolver.h"

struct dns_check_ops {
	/* The next question: 1 with *name_r (valid until the next call on
	   check) and *type_r set; 0 when the check is finished. */
	int (*next)(void *check, const char **name_r, enum dns_type *type_r);
	/* The answer to the question last asked. */
	void (*answer)(void *check, const char *name, enum dns_type type,
	               const struct dns_answer *answer);
};

struct dns_driver;

/* Called once, from the event loop, when the check is finished. */
typedef void dns_driver_done_t(void *check, void *context);

/* Start driving check (which must live until the callback or a cancel).
   Returns NULL when the check finished without asking anything (the
   callback is then not called: read the result at once); otherwise a
   handle, valid until the callback has been called, for
   dns_driver_cancel(). */
struct dns_driver *dns_driver_start(struct dns_resolver *resolver, const struct dns_check_ops *ops,
                                    void *check, dns_driver_done_t *callback, void *context);

/* Stop driving: the callback will not be called. NULL is fine; sets
 *driver NULL. */
void dns_driver_cancel(struct dns_driver **driver);

#endif
