#ifndef TERN_LIB_CIDR_H
#define TERN_LIB_CIDR_H

/* Matching a peer against a list of networks (trusted_networks keys, the
   guard's allow list). */

#include <stdbool.h>
#include <stddef.h>

/* True if ip ("192.0.2.1", "2001:db8::1") is inside one of the count
   networks ("192.0.2.0/24", "::1/128"; no prefix: the host alone). An ip
   that does not parse ("unix", "unknown") and a network of the other
   family never match. */
bool ip_in_networks(const char *ip, char *const *networks, size_t count);

#endif
