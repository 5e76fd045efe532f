#ifndef TERN_MAILAUTH_DMARC_H
#define TERN_MAILAUTH_DMARC_H

/*
 * DMARC (RFC 7489): the record parser, identifier alignment and the
 * policy check of one message.
 *
 * Like spf.h the check does no I/O; it asks for DNS answers one at a time:
 *
 *   dmarc_check_new(&params, &check);
 *   while (dmarc_check_run(check, &name, &type) == 1)
 *           dmarc_check_answer(check, name, type, <answer>);
 *   result = dmarc_check_result(check);
 *
 * Each run re-evaluates from the start over the answers gathered so far
 * (at most DMARC_MAX_QUERIES), so no continuation is kept.
 *
 * Several From domains (RFC 7489 6.6.1): each distinct domain is evaluated
 * and the worst outcome is reported (a fail with the strictest policy,
 * then temperror, permerror, pass, none), so a message cannot borrow a
 * passing domain to hide a failing one. No From domain at all is a
 * permerror (header.from=none).
 *
 * Extension: np= of RFC 9091 (policy for non-existent subdomains) is
 * honoured; a subdomain is non-existent when an A query for it is
 * NXDOMAIN (RFC 8020: NXDOMAIN holds for every type).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns-driver.h"
#include "dns/dns.h"
#include "mailauth/psl.h"
#include "mailauth/spf.h"

enum dmarc_result {
	DMARC_RESULT_NONE,
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};

enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

enum dmarc_alignment {
	DMARC_ALIGN_RELAXED,
	DMARC_ALIGN_STRICT,
};

/* Limits: distinct From domains evaluated, DNS queries per check, record
   length. */
#define DMARC_MAX_FROM_DOMAINS 8
#define DMARC_MAX_QUERIES      (3 * DMARC_MAX_FROM_DOMAINS)
#define DMARC_MAX_RECORD_LEN   4096

/* "none", "pass", "fail", "temperror", "permerror". */
const char *dmarc_result_name(enum dmarc_result result);
/* "none", "quarantine", "reject". */
const char *dmarc_policy_name(enum dmarc_policy policy);

/* --- record (RFC 7489 section 6.3) --- */

struct dmarc_record {
	enum dmarc_policy p, sp, np; /* sp and np default to p */
	bool has_sp, has_np;
	enum dmarc_alignment adkim, aspf; /* default relaxed */
	unsigned pct;                     /* 0..100, default 100 */
	char *rua, *ruf;                  /* as written; NULL when absent */
	char *fo;                         /* default "0" */
	char *rf;                         /* default "afrf" */
	uint32_t ri;                      /* default 86400 */
};

/* True if txt starts with the tag "v=DMARC1" (RFC 7489 6.6.3 step 4:
   other TXT records at _dmarc are discarded). */
bool dmarc_is_record(const char *txt, size_t len);

/* Parse a record (dmarc_is_record() true). Returns:
   0: a record to apply, in *record_r (free with dmarc_record_free());
   1: no valid p= (or an invalid sp=) and no valid rua=: the domain
      publishes no applicable policy (6.6.3: "applies no DMARC
      processing"); with a valid rua= it is 0 with p=none, as 6.6.3 says;
  -1: the tag list is malformed, *error_r a static reason (permerror).
   Other bad values fall back to their defaults (6.3: "Syntax errors in
   the remainder of the record SHOULD be discarded in favor of default
   values"); unknown tags are ignored. */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record **record_r,
                       const char **error_r);

/* Free; NULL is fine; sets *record NULL. */
void dmarc_record_free(struct dmarc_record **record);

/* --- identifiers --- */

/* Identifier alignment (RFC 7489 3.1): strict means equal, relaxed means
   the same Organizational Domain (psl may be NULL: then only equal names
   align). Case-insensitive; leading and trailing dots are ignored. */
bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, enum dmarc_alignment mode);

/* The domains of the addresses in one From header value (RFC 5322 3.6.2,
   unfolded or not), lower-cased, appended to domains[*count_r..max) when
   not already there; addresses without a domain are skipped. Each string
   is malloc'ed and freed by the caller. */
void dmarc_from_domains(const char *value, size_t len, char **domains, size_t *count_r, size_t max);

/* --- the check (RFC 7489 section 6.6) --- */

struct dmarc_check_params {
	const struct psl *psl; /* for the Organizational Domain; required */
	/* RFC5322.From domains (dmarc_from_domains()); none: permerror. */
	const char *const *from_domains;
	size_t from_count;
	/* The SPF result and the domain it checked (MAIL FROM's, or HELO's
	   for the null sender; spf_check_domain()); spf_domain NULL if none. */
	enum spf_result spf_result;
	const char *spf_domain;
	/* d= of every DKIM signature that verified (pass). */
	const char *const *dkim_domains;
	size_t dkim_count;
	/* A draw in [0, 100): the published policy applies when
	   sample < pct (6.6.4); the server draws at random, tests choose. */
	unsigned sample;
};

struct dmarc_check;

/* A new check; everything in params is copied. Never fails. */
struct dmarc_check *dmarc_check_new(const struct dmarc_check_params *params);

/* Evaluate as far as the answers allow. Returns 1 when a DNS answer is
   needed (*name_r valid until the next call, *type_r TXT or A); 0 when the
   result is known. */
int dmarc_check_run(struct dmarc_check *check, const char **name_r, enum dns_type *type_r);

/* Give the answer asked for by dmarc_check_run(); it is copied. */
void dmarc_check_answer(struct dmarc_check *check, const char *name, enum dns_type type,
                        const struct dns_answer *answer);

/* After dmarc_check_run() returned 0. All strings live as long as the
   check. */
enum dmarc_result dmarc_check_result(const struct dmarc_check *check);
/* The published policy for the From domain (p, sp or np; NONE without a
   record): Authentication-Results' policy.dmarc. */
enum dmarc_policy dmarc_check_policy(const struct dmarc_check *check);
/* What to do with the message: NONE unless the result is fail; then the
   policy, one step weaker when the message falls outside pct (6.6.4). */
enum dmarc_policy dmarc_check_disposition(const struct dmarc_check *check);
/* The From domain reported (header.from), "none" when there was none. */
const char *dmarc_check_from_domain(const struct dmarc_check *check);
/* A short reason ("used from domain record", "used org domain record",
   "no policy", the record's syntax error, ...). */
const char *dmarc_check_reason(const struct dmarc_check *check);
/* Whether SPF / some DKIM signature was aligned (pass results only). */
bool dmarc_check_spf_aligned(const struct dmarc_check *check);
bool dmarc_check_dkim_aligned(const struct dmarc_check *check);

/* Free; NULL is fine; sets *check NULL. */
void dmarc_check_free(struct dmarc_check **check);

/* The check as dns_driver_start() drives it on the resolver: the check
   argument is a struct dmarc_check. */
extern const struct dns_check_ops dmarc_check_ops;

#endif
