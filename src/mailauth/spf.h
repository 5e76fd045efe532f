#ifndef TERN_MAILAUTH_SPF_H
#define TERN_MAILAUTH_SPF_H

/*
 * SPF (RFC 7208): the record parser, macro expansion and check_host().
 *
 * The evaluator does no I/O. It asks for DNS answers one at a time:
 *
 *   spf_check_new(&params, &check, &error);
 *   while (spf_check_run(check, &name, &type) == 1) {
 *           answer = <look up name/type somehow>;
 *           spf_check_answer(check, name, type, answer);
 *   }
 *   result = spf_check_result(check);
 *
 * so the same code runs on libunbound in the server (dns-driver.h) and on a
 * synchronous zone table in tests. Internally each run re-evaluates from
 * the start over the answers gathered so far (a pure function of them), so
 * recursion through include/redirect needs no saved continuation; the
 * lookup limits bound the repeated work.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns/dns-driver.h"
#include "dns/dns.h"
#include "lib/array.h"
#include "lib/buf.h"

/* RFC 7208 section 2.6: the seven results. */
enum spf_result {
	SPF_RESULT_NONE,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR,
};

/* Limits of RFC 7208 section 4.6.4. */
#define SPF_MAX_DNS_MECHANISMS  10
#define SPF_MAX_VOID_LOOKUPS    2
#define SPF_MAX_MX_OR_PTR_NAMES 10
/* Longest record (all strings of one TXT joined) and expansion we accept. */
#define SPF_MAX_RECORD_LEN 4096
#define SPF_MAX_TERMS      256

/* "pass", "fail", ... as in Received-SPF and Authentication-Results. */
const char *spf_result_name(enum spf_result result);

/* --- record parser (RFC 7208 sections 4.6 and 12) --- */

enum spf_mech_type {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

struct spf_mechanism {
	enum spf_mech_type type;
	enum spf_result qualifier; /* PASS, FAIL, SOFTFAIL or NEUTRAL */
	char *domain_spec;         /* unexpanded; NULL when absent */
	uint8_t addr[16];          /* ip4 (first 4 bytes) and ip6 */
	unsigned cidr4, cidr6;     /* 32 and 128 unless given */
};

struct spf_record {
	ARRAY(struct spf_mechanism) mechanisms;
	char *redirect; /* domain-spec of redirect=, or NULL */
	char *exp;      /* domain-spec of exp=, or NULL */
};

/* True if txt (len bytes) is an SPF version 1 record: "v=spf1" (any case)
   followed by a space or the end (RFC 7208 4.5). */
bool spf_is_record(const char *txt, size_t len);

/* Parse a whole record, "v=spf1 ..." included. Any syntax error anywhere
   makes the record invalid (RFC 7208 4.6: permerror). Returns 0 and a new
   record in *record_r, or -1 with *error_r a static reason. */
int spf_record_parse(const char *txt, size_t len, struct spf_record **record_r,
                     const char **error_r);

/* Free a record; NULL is fine; sets *record NULL. */
void spf_record_free(struct spf_record **record);

/* --- macro expansion (RFC 7208 section 7) --- */

struct spf_macro_vars {
	const char *sender;        /* s: local-part@domain */
	const char *local_part;    /* l */
	const char *sender_domain; /* o */
	const char *domain;        /* d: the domain being checked */
	const uint8_t *ip;         /* 4 or 16 bytes */
	bool ipv6;
	const char *validated; /* p: NULL means "not known yet" */
	const char *helo;      /* h */
	const char *receiver;  /* r, exp only */
	time_t now;            /* t, exp only */
};

/* Expand a macro-string (a domain-spec) or, with explanation true, an
   explain-string (spaces allowed, c/r/t macros allowed) and append it to
   out. Returns 0; 1 if the string uses %{p} and vars->validated is NULL
   (nothing appended: find the name and call again); -1 with *error_r on a
   syntax error (permerror). Does not truncate to 253 octets. */
int spf_macro_expand(const char *spec, size_t len, const struct spf_macro_vars *vars,
                     bool explanation, struct buf *out, const char **error_r);

/* True if a domain-spec is syntactically valid (RFC 7208 7.1 macro-string
   followed by domain-end). */
bool spf_domain_spec_valid(const char *spec);

/* --- check_host() (RFC 7208 section 4) --- */

struct spf_check_params {
	const char *ip;        /* client address, IPv4 or IPv6 text */
	const char *helo;      /* HELO/EHLO name ("" if none) */
	const char *mail_from; /* MAIL FROM address without <>, "" for null */
	const char *receiver;  /* our host name, for %{r}; NULL: "unknown" */
	time_t now;            /* for %{t}; 0: time(NULL) */
};

struct spf_check;

/* Start a check of the MAIL FROM identity (the HELO identity when
   mail_from is empty, RFC 7208 2.4). Returns 0 with a new check, or -1 with
   *error_r a static reason when params->ip is not an IP address. */
int spf_check_new(const struct spf_check_params *params, struct spf_check **check_r,
                  const char **error_r);

/* Evaluate as far as the answers given allow. Returns 1 when a DNS answer
   is needed: *name_r (valid until the next call) and *type_r say which; 0
   when the result is known. */
int spf_check_run(struct spf_check *check, const char **name_r, enum dns_type *type_r);

/* Give the answer to a query asked for by spf_check_run(); answer is
   copied. */
void spf_check_answer(struct spf_check *check, const char *name, enum dns_type type,
                      const struct dns_answer *answer);

/* After spf_check_run() returned 0: the result; the explanation (exp=,
   only for fail, NULL if none); a short human reason for the result
   ("matched ip4:192.0.2.0/24", "too many DNS lookups", ...); the domain
   that was checked. All strings live as long as the check. */
enum spf_result spf_check_result(const struct spf_check *check);
const char *spf_check_explanation(const struct spf_check *check);
const char *spf_check_reason(const struct spf_check *check);
const char *spf_check_domain(const struct spf_check *check);
/* DNS lookups counted against the limit, and void lookups, in the last
   run. */
unsigned spf_check_lookup_count(const struct spf_check *check);
unsigned spf_check_void_count(const struct spf_check *check);

/* Free a check; NULL is fine; sets *check NULL. */
void spf_check_free(struct spf_check **check);

/* The check as dns_driver_start() drives it on the resolver: the check
   argument is a struct spf_check. */
extern const struct dns_check_ops spf_check_ops;

#endif
