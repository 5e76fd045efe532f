#ifndef TERN_QUEUE_MTA_STS_H
#define TERN_QUEUE_MTA_STS_H

/*
 * MTA-STS (RFC 8461): the I/O-free parts. The `_mta-sts.<domain>` TXT
 * record (3.1), the policy file served at
 * https://mta-sts.<domain>/.well-known/mta-sts.txt (3.2), and matching an
 * MX host against the policy's mx patterns (4.1). Fetching and caching
 * are in mta-sts-fetch.h; the decision per MX in tls-policy.h.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/array.h"

/* RFC 8461 3.2: a policy is at most 64 KiB. */
#define MTA_STS_MAX_POLICY 65536
/* RFC 8461 3.2: max_age is at most 31557600 seconds (about a year). */
#define MTA_STS_MAX_AGE 31557600u
/* RFC 8461 3.1: the id is 1 to 32 letters and digits. */
#define MTA_STS_MAX_ID 32

enum mta_sts_mode {
	MTA_STS_MODE_NONE,    /* no policy in force (3.2 "none") */
	MTA_STS_MODE_TESTING, /* check and report, deliver anyway */
	MTA_STS_MODE_ENFORCE, /* only matching MXes, only over verified TLS */
};

struct mta_sts_policy {
	enum mta_sts_mode mode;
	unsigned max_age; /* seconds, <= MTA_STS_MAX_AGE */
	ARRAY(char *) mx; /* patterns, lower-cased, no trailing dot */
};

/* Parse a TXT record (len bytes, may hold NULs): "v=STSv1; id=...;" with
   optional other fields. Returns 0 with the id copied to id_r (NUL
   terminated); -1 when it is not a valid STSv1 record (then the domain
   has no MTA-STS record, RFC 8461 3.1: records not starting with v=STSv1
   are ignored, an STSv1 record without a valid id is invalid). */
int mta_sts_txt_parse(const char *txt, size_t len, char id_r[MTA_STS_MAX_ID + 1]);

/* Parse a policy body (len bytes, at most MTA_STS_MAX_POLICY): lines
   "key: value" ended by LF or CRLF. version must be STSv1, mode and
   max_age are required, mx is required (one or more) unless mode is none;
   unknown keys are ignored (3.2); the first of a repeated key counts,
   except mx. Returns 0 with a new policy in *policy_r (free with
   mta_sts_policy_free), or -1 with a static reason in *error_r. */
int mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy **policy_r,
                         const char **error_r);

/* True if host (no trailing dot needed, any case) matches pattern: equal,
   or pattern "*.example.net" and host is one more label on example.net
   (RFC 8461 4.1: the wildcard covers exactly one leftmost label). */
bool mta_sts_pattern_match(const char *pattern, const char *host);

/* True if host matches one of the policy's mx patterns. */
bool mta_sts_policy_allows_mx(const struct mta_sts_policy *policy, const char *host);

/* "none", "testing", "enforce" (static). */
const char *mta_sts_mode_name(enum mta_sts_mode mode);

/* Free the policy; NULL is fine; sets *policy NULL. */
void mta_sts_policy_free(struct mta_sts_policy **policy);

#endif
