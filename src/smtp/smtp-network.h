#ifndef TERN_SMTP_SMTP_NETWORK_H
#define TERN_SMTP_SMTP_NETWORK_H

/* Matching a peer against a list of networks (trusted_networks keys). */

#include <stdbool.h>
#include <stddef.h>

/* True if ip ("192.0.2.1", "2001:db8::1") is inside one of the count
   networks ("192.0.2.0/24", "::1/128"; no prefix: the host alone). An ip
   that does not parse ("unix", "unknown") and a network of the other
   family never match. */
bool smtp_ip_in_networks(const char *ip, char *const *networks, size_t count);

#endif
