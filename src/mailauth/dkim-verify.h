#ifndef TERN_MAILAUTH_DKIM_VERIFY_H
#define TERN_MAILAUTH_DKIM_VERIFY_H

/*
 * DKIM verification (RFC 6376 section 6) in one streaming pass, with no
 * I/O of its own:
 *
 *   v = dkim_verifier_new(time(NULL));
 *   dkim_verifier_feed(v, chunk, len);         (as the message arrives)
 *   dkim_verifier_finish(v);
 *   while (dkim_verifier_run(v, &name) == 1)
 *           dkim_verifier_answer(v, name, <TXT answer for name>);
 *   for (i = 0; i < dkim_verifier_count(v); i++)
 *           verdict = dkim_verifier_verdict(v, i);
 *
 * The header section is kept (up to DKIM_MAX_HEADER_BYTES); the body is
 * only hashed, once per signature, as it streams by. Up to
 * DKIM_MAX_SIGNATURES signatures are checked; more get permerror.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns/dns-driver.h"
#include "dns/dns.h"
#include "mailauth/dkim.h"

#define DKIM_MAX_SIGNATURES 10

struct dkim_verdict {
	enum dkim_result result;
	/* Why, for anything but pass (static text): "body hash mismatch",
	   "signature mismatch", "key revoked", "signature expired",
	   "rsa-sha1 forbidden (RFC 8301)", "key too small", "no key record",
	   "body partially signed (l=)", ...; NULL on pass. */
	const char *reason;
	/* From the signature; "" when it did not parse. */
	const char *domain, *selector, *identity, *algorithm;
	char header_b[9];
	/* l= was used. When it covered less than the whole body the result is
	   POLICY ("body partially signed"), never a silent pass; when it
	   covered it all the result may be PASS. */
	bool length_limited;
	uint64_t unsigned_bytes; /* canonical body bytes after l= */
	bool testing;            /* the key has t=y */
};

struct dkim_verifier;

/* A new verifier judging t= and x= against now. Never NULL. */
struct dkim_verifier *dkim_verifier_new(time_t now);

/* Feed the next len bytes of the message (header section and body, line
   ends CRLF or LF). Returns 0, or -1 with *error_r when the header section
   is over its limit (every later call does nothing; the summary is then
   permerror). */
int dkim_verifier_feed(struct dkim_verifier *v, const void *data, size_t len, const char **error_r);

/* The message ended. Call once, before dkim_verifier_run(). */
void dkim_verifier_finish(struct dkim_verifier *v);

/* Advance. Returns 1 when a TXT record is needed: *name_r (valid until the
   next call) is the name to look up; 0 when every verdict is known. */
int dkim_verifier_run(struct dkim_verifier *v, const char **name_r);

/* The answer to the TXT query for name (copied as needed). */
void dkim_verifier_answer(struct dkim_verifier *v, const char *name,
                          const struct dns_answer *answer);

/* Number of DKIM-Signature fields in the message (verdicts). */
size_t dkim_verifier_count(const struct dkim_verifier *v);

/* Verdict i (0 = the topmost field), valid until dkim_verifier_free(). */
const struct dkim_verdict *dkim_verifier_verdict(const struct dkim_verifier *v, size_t i);

/* One result for the message: permerror when the message itself is
   unfit (not exactly one From field with an address in it, header too
   large: RFC 6376 8.15, as OpenDKIM does; *reason_r says why), none
   without signatures, pass if any signature passed, otherwise the first
   signature's result. *reason_r may be NULL. */
enum dkim_result dkim_verifier_summary(const struct dkim_verifier *v, const char **reason_r);

/* Free; NULL is fine; sets *v NULL. */
void dkim_verifier_free(struct dkim_verifier **v);

/* The check as dns_driver_start() drives it on the resolver: the check
   argument is a struct dkim_verifier (its key lookups). */
extern const struct dns_check_ops dkim_verifier_ops;

#endif
