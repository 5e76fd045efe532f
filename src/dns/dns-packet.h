#ifndef TERN_DNS_DNS_PACKET_H
#define TERN_DNS_DNS_PACKET_H

/*
 * A parser for DNS response messages (RFC 1035 section 4), for the answers
 * libunbound hands over in wire format. It reads only what Tern uses: the
 * RCODE and the answer-section records of the asked type (CNAMEs that lead
 * to them are skipped, as the resolver has already followed them).
 */

#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

/* Parse a response of len bytes to a query of type. Returns 0 with a new
   answer in *answer_r (status NXDOMAIN for RCODE 3, TEMPFAIL for any other
   non-zero RCODE, NODATA when no record of that type is in the answer
   section); -1 with *error_r a static reason when the message is
   malformed. */
int dns_packet_parse(const uint8_t *pkt, size_t len, enum dns_type type,
                     struct dns_answer **answer_r, const char **error_r);

/* Build a query message for name/type with the given id (for tests and
   fuzzing the parser's counterpart). Returns the length written to out, or
   -1 if name does not fit or is invalid. */
int dns_packet_build_query(const char *name, enum dns_type type, uint16_t id, uint8_t *out,
                           size_t out_size);

#endif
