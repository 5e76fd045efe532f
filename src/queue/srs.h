#ifndef TERN_QUEUE_SRS_H
#define TERN_QUEUE_SRS_H

/*
 * The Sender Rewriting Scheme (Shevek's SRS, as libsrs2 and postsrsd
 * write it), so that a message forwarded by one of our aliases to another
 * server still passes SPF there: the envelope sender becomes an address of
 * our domain that only we can make, and that leads back to the original.
 *
 *   alice@a.test forwarded by example.test:
 *     SRS0=HHHH=TT=a.test=alice@example.test
 *   an SRS0 address of another forwarder (fwd.test) forwarded again:
 *     SRS1=HHHH=fwd.test==HHHH=TT=a.test=alice@example.test
 *
 * HHHH: the first 4 characters of the base64 HMAC-SHA1 (key: the secret)
 * of the lowercased text after it (SRS0: TT, domain, local part; SRS1: the
 * first forwarder and the SRS0 part), compared without regard to case on
 * the way back (some MTAs fold local parts). TT: the day (days since the
 * epoch, mod 1024) in two base32 characters; an SRS0 address is valid for
 * SRS_MAX_AGE_DAYS days. docs/queue.md, "SRS".
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SRS_MAX_AGE_DAYS 21
#define SRS_HASH_LEN     4

struct srs;

/* Why srs_reverse() gave no address. */
enum srs_error {
	SRS_ERROR_NOT_SRS,   /* the local part does not start with SRS0/SRS1 */
	SRS_ERROR_MALFORMED, /* it does, but the fields are not there */
	SRS_ERROR_BAD_HASH,  /* not made with our secret (or altered) */
	SRS_ERROR_EXPIRED,   /* SRS0 older than SRS_MAX_AGE_DAYS (or from the future) */
};

/* A rewriter with secret (len >= 16 bytes, copied). */
struct srs *srs_new(const void *secret, size_t len);

/* Load the secret at path (a line of hex), or when the file is missing
   create it (32 random bytes, mode 0600, created once even when several
   processes race: the first one's wins). Returns 0 with *srs_r, or -1 with
   *error_r static (logged with the path). */
int srs_open(const char *path, struct srs **srs_r, const char **error_r);

/* The secret file of a data directory: <data_dir>/srs.secret (malloc'ed). */
char *srs_secret_path(const char *data_dir);

/* Free and set *srs NULL; NULL is fine. */
void srs_free(struct srs **srs);

/* The rewritten sender for a message from sender (local@domain) that
   forwarder_domain forwards, at now: SRS0 for a plain address, SRS1 for an
   SRS0/SRS1 address of another forwarder. Returns 0 with *out_r
   (malloc'ed), or -1 with *error_r static: sender is not local@domain,
   its local part is quoted (holds '"', '\\', space or '@': it would land
   inside an atom), or the result would be longer than an SMTP path allows
   (RFC 5321 4.5.3.1). */
int srs_forward(const struct srs *srs, const char *sender, const char *forwarder_domain, time_t now,
                char **out_r, const char **error_r);

/* Whether address's local part starts with SRS0 or SRS1 followed by a
   separator (=, + or -), without regard to case. */
bool srs_is_srs(const char *address);

/* Undo srs_forward(): for SRS0 the original sender (local@domain), for
   SRS1 the SRS0 address at the first forwarder. The hash must verify with
   our secret and, for SRS0, the day be at most SRS_MAX_AGE_DAYS before
   now. Returns 0 with *out_r (malloc'ed), or -1 with *kind_r. Takes any
   bytes (fuzzed). */
int srs_reverse(const struct srs *srs, const char *address, time_t now, char **out_r,
                enum srs_error *kind_r);

#endif
