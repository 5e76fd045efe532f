#ifndef TERN_DNS_DNS_H
#define TERN_DNS_DNS_H

/*
 * DNS answers as every Tern part sees them, whatever produced them
 * (libunbound, a local zone file, a test fake). A lookup ends in exactly one
 * of five states, kept apart because callers act differently on each: SPF
 * counts NXDOMAIN and NODATA as void lookups, and turns TEMPFAIL and
 * TIMEOUT into temperror; the queue retries on TEMPFAIL and TIMEOUT only.
 *
 * Names are handled in presentation form without the trailing dot
 * ("mail.example.com"); comparisons are case-insensitive.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"

/* Record types Tern asks for (RFC 1035 3.2.2, RFC 3596, RFC 6698). */
enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_TLSA = 52,
};

enum dns_status {
	DNS_STATUS_OK,       /* at least one record of the asked type */
	DNS_STATUS_NXDOMAIN, /* the name does not exist (RCODE 3) */
	DNS_STATUS_NODATA,   /* the name exists, no record of that type */
	DNS_STATUS_TEMPFAIL, /* SERVFAIL, REFUSED, a broken answer, a CNAME loop */
	DNS_STATUS_TIMEOUT,  /* no answer within the resolver's time limit */
};

/* DNSSEC state of an answer (RFC 4033 section 5). Answers from a local zone
   file are INSECURE. */
enum dns_dnssec {
	DNS_DNSSEC_INSECURE, /* unsigned or not validated */
	DNS_DNSSEC_SECURE,   /* validated chain of trust */
	DNS_DNSSEC_BOGUS,    /* signed but failed validation */
};

struct dns_rr {
	enum dns_type type;
	uint32_t ttl;
	union {
		uint8_t a[4];     /* network order */
		uint8_t aaaa[16]; /* network order */
		struct {
			uint16_t preference;
			char *exchange;
		} mx;
		char *name; /* PTR and CNAME target */
		struct {
			/* The character-strings of one record joined with no
			   separator (RFC 7208 3.3, RFC 6376 3.6.2.2), NUL
			   terminated; len excludes the NUL. May contain NULs. */
			char *data;
			size_t len;
		} txt;
		struct {
			uint8_t usage, selector, matching;
			uint8_t *data;
			size_t len;
		} tlsa;
	} u;
};

struct dns_answer {
	enum dns_status status;
	enum dns_dnssec dnssec;
	ARRAY(struct dns_rr) rrs; /* all of the asked type */
};

/* A new empty answer with the given status; never NULL. */
struct dns_answer *dns_answer_new(enum dns_status status);
/* Append a deep copy of rr; sets the status to OK. */
void dns_answer_add(struct dns_answer *answer, const struct dns_rr *rr);
/* A deep copy; never NULL. */
struct dns_answer *dns_answer_dup(const struct dns_answer *answer);
/* Free what rr points to (names, strings), not rr itself. */
void dns_rr_clear(struct dns_rr *rr);
/* Free the answer and everything in it; NULL is fine; sets *answer NULL. */
void dns_answer_free(struct dns_answer **answer);

/* "A", "MX", ... (static text); "UNKNOWN" for a type not in the enum. */
const char *dns_type_name(enum dns_type type);
/* Parse a type mnemonic, case-insensitive. Returns 0, or -1 if unknown. */
int dns_type_parse(const char *name, enum dns_type *type_r);
/* "ok", "nxdomain", "nodata", "tempfail", "timeout". */
const char *dns_status_name(enum dns_status status);
/* "insecure", "secure", "bogus". */
const char *dns_dnssec_name(enum dns_dnssec dnssec);

/* Case-insensitive comparison of two names, ignoring one trailing dot on
   either. */
bool dns_name_equal(const char *a, const char *b);

#endif
