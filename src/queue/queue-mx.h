#ifndef TERN_QUEUE_QUEUE_MX_H
#define TERN_QUEUE_QUEUE_MX_H

/* Choosing where a domain's mail goes (RFC 5321 5.1, RFC 7505): the MX
   hosts in preference order, equal preferences shuffled, and the
   addresses of a host in the order to try. I/O-free: the DNS answers come
   from the caller, randomness from a seeded generator. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "lib/array.h"

struct queue_mx_host {
	char *name;
	unsigned preference;
};
typedef ARRAY(struct queue_mx_host) queue_mx_hosts;

/* A small deterministic generator (xorshift64*); seed it with anything
   non-zero (0 is replaced). */
uint64_t queue_rng_next(uint64_t *state);

/* Fill *hosts_r (empty first; free with queue_mx_hosts_free()) from an OK
   MX answer: ascending preference, hosts of equal preference in an order
   drawn from *rng. Returns 1 when the answer is a null MX (RFC 7505: a
   single record whose exchange is the root; nothing is filled), 0
   otherwise (null-MX records mixed with others are dropped). */
int queue_mx_order(const struct dns_answer *answer, uint64_t *rng, queue_mx_hosts *hosts_r);
void queue_mx_hosts_free(queue_mx_hosts *hosts);

struct queue_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char ip[64]; /* as text */
};
typedef ARRAY(struct queue_addr) queue_addrs;

/* Append the addresses of A and AAAA answers (either may be NULL or not
   OK) with port to *addrs: IPv6 first when prefer_ipv6, then the other
   family (the fallback). */
void queue_addrs_add(queue_addrs *addrs, const struct dns_answer *a, const struct dns_answer *aaaa,
                     unsigned port, bool prefer_ipv6);
/* Append an IP literal ("192.0.2.1", "::1"); returns -1 if ip is not one. */
int queue_addrs_add_literal(queue_addrs *addrs, const char *ip, unsigned port);

#endif
