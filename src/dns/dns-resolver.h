#ifndef TERN_DNS_DNS_RESOLVER_H
#define TERN_DNS_DNS_RESOLVER_H

/*
 * Asynchronous DNS lookups inside the libevent loop.
 *
 * With a zone file, every query is answered from it and nothing goes to
 * the network (names not in it are NXDOMAIN; TIMEOUT lines time out after
 * timeout_msecs). Without one, libunbound resolves on the same event base
 * (ub_ctx_create_event): recursively from the root with DNSSEC validation,
 * or through the given forwarders. See docs/dns.md.
 */

#include <stddef.h>

#include "dns/dns.h"

struct event_base;
struct dns_resolver;
struct dns_query;

struct dns_resolver_settings {
	const char *zone_file;         /* answer only from this file; NULL: network */
	const char *const *forwarders; /* IP addresses ("192.0.2.53", "::1@5353") */
	size_t forwarder_count;        /* 0: recursive resolution */
	const char *trust_anchor_file; /* NULL: /usr/share/dns/root.key if present */
	unsigned timeout_msecs;        /* per query; 0: DNS_DEFAULT_TIMEOUT_MSECS */
};

#define DNS_DEFAULT_TIMEOUT_MSECS 10000

/* Called exactly once per query that was not cancelled, never from inside
   dns_lookup(). answer is owned by the resolver and valid only during the
   call; the query handle is gone when the callback runs. */
typedef void dns_callback_t(const struct dns_answer *answer, void *context);

/* Create a resolver on base. Returns 0 with a new resolver, or -1 with a
   malloc'ed reason in *error_r (a zone file error is "path:line: reason"). */
int dns_resolver_new(struct event_base *base, const struct dns_resolver_settings *settings,
                     struct dns_resolver **resolver_r, char **error_r);

/* Start a lookup. Returns a handle usable with dns_query_cancel() until the
   callback has been called; never NULL (a failure to start is reported
   through the callback as TEMPFAIL). */
struct dns_query *dns_lookup(struct dns_resolver *resolver, const char *name, enum dns_type type,
                             dns_callback_t *callback, void *context);

/* Cancel a pending query: its callback will not be called. NULL is fine;
   sets *query NULL. */
void dns_query_cancel(struct dns_query **query);

/* Number of queries started and not yet answered or cancelled. */
size_t dns_resolver_pending(const struct dns_resolver *resolver);

/* Cancel every pending query (no callbacks) and free the resolver; NULL is
   fine; sets *resolver NULL. */
void dns_resolver_free(struct dns_resolver **resolver);

#endif
