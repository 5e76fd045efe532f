#ifndef TERN_SMTP_SMTP_RDNS_H
#define TERN_SMTP_SMTP_RDNS_H

/*
 * The client's name for the Received: field (RFC 5321 section 4.4):
 * forward-confirmed reverse DNS. A PTR lookup of the client's IP, then an
 * A (or AAAA) lookup of each name it gives, at most SMTP_RDNS_NAMES_MAX of
 * them one after the other; the first name whose addresses include the IP
 * is the client's name. Anything else (no PTR, no match, a failure, a
 * timeout, a name that is no plain host name) gives "unknown", as Postfix
 * says it. Each query is bounded by the resolver's timeout
 * (dns.timeout), so the whole lookup by SMTP_RDNS_NAMES_MAX + 1 of them.
 * Asynchronous, on the role's event loop (dns-resolver.h).
 */

#include <stdbool.h>
#include <stddef.h>

struct dns_resolver;
struct event_base;
struct tern_settings;
struct smtp_rdns;

#define SMTP_RDNS_NAMES_MAX 3

/* Called once per lookup not cancelled, never from inside
   smtp_rdns_start(); name is the confirmed host name (valid only during
   the call) or NULL for unknown. The lookup is gone when it runs. */
typedef void smtp_rdns_callback_t(const char *name, void *ctx);

/* Start the lookup of ip ("192.0.2.1", "2001:db8::1"); never NULL. An IP
   that does not parse is answered (unknown) from the loop. */
struct smtp_rdns *smtp_rdns_start(struct dns_resolver *resolver, struct event_base *base,
                                  const char *ip, smtp_rdns_callback_t *callback, void *ctx);

/* Cancel a lookup: its callback is not called. NULL is fine; sets *rdns
   NULL. */
void smtp_rdns_cancel(struct smtp_rdns **rdns);

/* The reverse-lookup name of ip ("1.2.0.192.in-addr.arpa", nibbles under
   "ip6.arpa") into out (size bytes, 73 are enough). Returns 0, or -1 if
   ip is no IPv4/IPv6 address text. */
int smtp_rdns_reverse_name(const char *ip, char *out, size_t size);

/* True if name may go into a Received: field as a host name: dot-separated
   labels of letters, digits, hyphens and underscores, at most 253 bytes. */
bool smtp_rdns_name_ok(const char *name);

/* A resolver for the role's lookups, on base, with the dns section of
   settings (docs/dns.md). Returns 0, or -1 with a static reason in
   *error_r (logged). Free with dns_resolver_free(). */
int smtp_rdns_resolver_new(struct event_base *base, const struct tern_settings *settings,
                           struct dns_resolver **resolver_r, const char **error_r);

#endif
