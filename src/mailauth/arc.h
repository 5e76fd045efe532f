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

/* Free; NULL is fine; sets *v NULL. */
void arc_verifier_free(struct arc_verifier **v);

#endif
