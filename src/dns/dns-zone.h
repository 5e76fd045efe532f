#ifndef TERN_DNS_DNS_ZONE_H
#define TERN_DNS_DNS_ZONE_H

/*
 * A local zone table: records in presentation format, one per line,
 * answered with no network (see docs/dns.md):
 *
 *   example.com.        3600 IN TXT  "v=spf1 " "mx -all"
 *   example.com         MX   10 mail.example.com
 *   mail.example.com    A    192.0.2.1
 *   slow.example.com    TIMEOUT
 *
 * Names are absolute, with or without the trailing dot; TTL and class are
 * optional. ';' starts a comment. The pseudo-types TIMEOUT and SERVFAIL make
 * every query for that name whose type has no record there time out or
 * fail temporarily. A name not in the table is NXDOMAIN. CNAMEs are
 * followed (at most 8 links; a longer chain or a loop is TEMPFAIL).
 */

#include <stddef.h>

#include "dns/dns.h"

/* At most this many records in one table, and this long a line. */
#define DNS_ZONE_MAX_RECORDS 100000
#define DNS_ZONE_MAX_LINE    8192

struct dns_zone;

/* A new empty table; never NULL. */
struct dns_zone *dns_zone_new(void);

/* Parse one line (without its line end; len bytes, no NUL needed) and add
   its record. Blank and comment lines are accepted and add nothing.
   Returns 0, or -1 with *error_r set to a static reason. */
int dns_zone_add_line(struct dns_zone *zone, const char *line, size_t len, const char **error_r);

/* Read a zone file. On error returns -1 with *error_r a malloc'ed
   "path:line: reason" the caller frees; on success 0 and a new table in
   *zone_r. */
int dns_zone_load(const char *path, struct dns_zone **zone_r, char **error_r);

/* Answer a query from the table. Always returns a new answer (the caller
   frees it with dns_answer_free()); its status says what happened. */
struct dns_answer *dns_zone_lookup(const struct dns_zone *zone, const char *name,
                                   enum dns_type type);

/* Number of records and pseudo-records in the table. */
size_t dns_zone_count(const struct dns_zone *zone);

/* Free the table; NULL is fine; sets *zone NULL. */
void dns_zone_free(struct dns_zone **zone);

#endif
