#ifndef TERN_QUEUE_DANE_H
#define TERN_QUEUE_DANE_H

/*
 * SMTP DANE (RFC 7672): what the TLSA answer for an MX host means for the
 * connection to it. I/O-free: the lookup is tls-policy.c's, the TLS work
 * tls_dane_prepare()/tls_dane_result() in net/tls.h.
 */

#include <stdbool.h>
#include <stddef.h>

#include "dns/dns.h"
#include "lib/array.h"
#include "net/tls.h"

enum dane_state {
	/* DANE does not apply (MX or TLSA insecure, no TLSA records). */
	DANE_NONE,
	/* Usable TLSA records: TLS is mandatory and must authenticate. */
	DANE_AUTH,
	/* Secure TLSA records, none usable (RFC 7672 2.2: TLS is still
	   mandatory, without authentication). */
	DANE_UNUSABLE,
	/* The TLSA lookup failed or was bogus while it mattered (RFC 7672
	   2.2: the delivery must be deferred, never downgraded). */
	DANE_TEMPFAIL,
};

/* The usable TLSA records of an MX host; data owned here. */
struct dane_records {
	ARRAY(struct tls_tlsa) tlsa;
};

/* The TLSA query name for an SMTP server: "_25._tcp.<host>" (RFC 7672
   2.2.3, always port 25 whatever port the client really uses, so tests
   on other ports keep their records). Returns a malloc'ed string. */
char *dane_tlsa_name(const char *mx_host);

/* True if a TLSA record may be used for SMTP (RFC 7672 3.1.3: usage
   DANE-TA(2) or DANE-EE(3); selector 0/1; matching 0/1/2 with the right
   digest length). */
bool dane_tlsa_usable(const struct dns_rr *rr);

/* Decide from mx_secure (the MX RRset and the host's addresses were
   DNSSEC-secure, RFC 7672 2.2.1-2.2.2) and the TLSA answer (NULL: not
   asked). With DANE_AUTH, *records_r gets copies of the usable records
   (clean with dane_records_clear); it is left empty otherwise. */
enum dane_state dane_evaluate(bool mx_secure, const struct dns_answer *tlsa,
                              struct dane_records *records_r);

/* "none", "dane", "dane-unusable", "tempfail" (static). */
const char *dane_state_name(enum dane_state state);

/* Free what records holds; it is empty afterwards. */
void dane_records_clear(struct dane_records *records);

#endif
