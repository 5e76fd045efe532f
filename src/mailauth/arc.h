#ifndef TERN_MAILAUTH_ARC_H
#define TERN_MAILAUTH_ARC_H

/*
 * ARC, Authenticated Received Chain (RFC 8617): chain validation and
 * sealing. See docs/arc.md.
 *
 * Verification is a streaming pass with no I/O of its own, like DKIM's:
 *
 *   v = arc_verifier_new(time(NULL));
 *   arc_verifier_feed(v, chunk, len, &error);   (as the message arrives)
 *   arc_verifier_finish(v);
 *   while (arc_verifier_run(v, &name) == 1)
 *           arc_verifier_answer(v, name, <TXT answer for name>);
 *   cv = arc_verifier_result(v, &reason);       (arc= of Authentication-Results)
 */

#include <stddef.h>
#include <time.h>

#include "dns/dns-driver.h"
#include "dns/dns.h"

/* RFC 8617 4.2.1: at most 50 ARC sets; a longer chain fails. */
#define ARC_MAX_SETS 50

/* Chain validation status (RFC 8617 4.4), also the arc= result. */
enum arc_cv {
	ARC_CV_NONE,
	ARC_CV_PASS,
	ARC_CV_FAIL,
};

/* "none", "pass", "fail". */
const char *arc_cv_name(enum arc_cv cv);

struct arc_verifier;

/* A new verifier; never NULL. now is kept for the log only (RFC 8617 does
   not expire seals). */
struct arc_verifier *arc_verifier_new(time_t now);

/* Feed the next len bytes of the message (CRLF or LF line ends). Returns
   0, or -1 with *error_r when the header section is over its limit (the
   result is then fail). */
int arc_verifier_feed(struct arc_verifier *v, const void *data, size_t len, const char **error_r);

/* The message ended. Call once, before arc_verifier_run(). */
void arc_verifier_finish(struct arc_verifier *v);

/* Advance. Returns 1 when a TXT record is needed: *name_r (valid until the
   next call) is the name to look up; 0 when the result is known. */
int arc_verifier_run(struct arc_verifier *v, const char **name_r);

/* The answer to the TXT query for name. */
void arc_verifier_answer(struct arc_verifier *v, const char *name, const struct dns_answer *answer);

/* The chain validation result once run() returned 0; *reason_r (may be
   NULL; static text) says why for fail, NULL otherwise. */
enum arc_cv arc_verifier_result(const struct arc_verifier *v, const char **reason_r);

/* Number of ARC sets in a well-formed chain (0 with none or a broken
   one): the next seal's instance is this + 1. */
unsigned arc_verifier_instances(const struct arc_verifier *v);

/* The instance a new ARC set for this message would have (highest i=
   found + 1, also when the chain failed), or 0 when none may be added:
   the newest seal already says cv=fail (RFC 8617 5.1.2), the chain has
   ARC_MAX_SETS sets, or an instance number is unreadable or
   repeated. */
unsigned arc_verifier_next_instance(const struct arc_verifier *v);

/* Free; NULL is fine; sets *v NULL. */
void arc_verifier_free(struct arc_verifier **v);

/*
 * Sealing (RFC 8617 5.1): a new ARC set (AAR, AMS, AS) for a message,
 * after verifying it:
 *
 *   arc_sealer_new(&params, &sealer, &error);
 *   arc_sealer_feed(sealer, chunk, len, &error);   (the same message bytes)
 *   arc_sealer_finish(sealer, cv, instance, &fields, &error);
 *   <write fields, then the message as it was>
 *
 * The AAR holds every result of the message's Authentication-Results
 * fields whose authserv-id is params.authserv_id, in order (so the caller
 * adds its own A-R, arc= included, before sealing). AMS: c=relaxed/relaxed,
 * a= after the key (rsa-sha256 or ed25519-sha256). Tags are written in the
 * ValiMail suite's standard form (sorted, one space after ';').
 */

#include <openssl/evp.h>

struct arc_seal_params {
	const char *domain;      /* d= */
	const char *selector;    /* s= */
	EVP_PKEY *key;           /* RSA >= 1024 bits or Ed25519; borrowed */
	const char *headers;     /* AMS h=, colon-separated; NULL: DKIM_DEFAULT_HEADERS present */
	const char *authserv_id; /* whose A-R results go into the AAR */
	time_t now;              /* t=; 0: time(NULL) */
};

struct arc_sealer;

/* A new sealer. Returns 0, or -1 with *error_r (static): a bad domain,
   selector or authserv-id, an unusable key. params is copied; the key
   must live until the sealer is freed. */
int arc_sealer_new(const struct arc_seal_params *params, struct arc_sealer **sealer_r,
                   const char **error_r);

/* Feed the next len bytes of the message (CRLF or LF line ends). Returns
   0, or -1 with *error_r if the header section is too large. */
int arc_sealer_feed(struct arc_sealer *sealer, const void *data, size_t len, const char **error_r);

/* The message ended. cv is the message's chain validation result and
   instance arc_verifier_next_instance() (both from a verifier run on the
   same message). Returns 1 with *fields_r the three new fields
   "ARC-Seal: ...\r\nARC-Message-Signature: ...\r\nARC-Authentication-Results:
   ...\r\n" (folded, malloc'ed: the caller frees it); 0 when instance is 0
   (no set may be added, *fields_r NULL); -1 with *error_r (a crypto
   failure, cv not fail but the existing chain unreadable). With cv=fail
   the seal covers only the new set (RFC 8617 5.1.1). */
int arc_sealer_finish(struct arc_sealer *sealer, enum arc_cv cv, unsigned instance, char **fields_r,
                      const char **error_r);

/* Free; NULL is fine; sets *sealer NULL. */
void arc_sealer_free(struct arc_sealer **sealer);

/* The check as dns_driver_start() drives it on the resolver: the check
   argument is a struct arc_verifier (its key lookups). */
extern const struct dns_check_ops arc_verifier_ops;

#endif
