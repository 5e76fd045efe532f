#ifndef TERN_MAILAUTH_DKIM_PRIVATE_H
#define TERN_MAILAUTH_DKIM_PRIVATE_H

/* Shared by dkim-verify.c and dkim-sign.c: the header collector and the
   body hasher of the one streaming pass over a message. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "mailauth/canon.h"
#include "mailauth/dkim.h"

/* Header section limits: bytes and fields. */
#define DKIM_MAX_HEADER_BYTES  (1024 * 1024)
#define DKIM_MAX_HEADER_FIELDS 2000

struct dkim_field {
	size_t start;    /* offset in the header buffer */
	size_t len;      /* the whole field without its final line end */
	size_t name_len; /* bytes before the colon (trailing WSP included) */
};

/* Collects the header section as it streams by, until the empty line. */
struct dkim_headers {
	struct buf raw; /* the header bytes, line ends included */
	ARRAY(struct dkim_field) fields;
	size_t line_start; /* offset of the line being collected */
	bool done;         /* the empty line (or the end) was seen */
	bool too_big;
};

/* Feed bytes; returns how many belong to the header section (the rest,
   from that offset on, is body), or -1 when over a limit. */
ssize_t dkim_headers_feed(struct dkim_headers *h, const void *data, size_t len);
/* The message ended: a header section without an empty line is complete. */
void dkim_headers_finish(struct dkim_headers *h);
void dkim_headers_free(struct dkim_headers *h);
/* True if field i is called name (case-insensitive). */
bool dkim_field_is(const struct dkim_headers *h, size_t i, const char *name);
/* The field's value: bytes after the colon. */
const char *dkim_field_value(const struct dkim_headers *h, size_t i, size_t *len_r);

/* Append the canonical forms of the fields h= names (RFC 6376 5.4.2: each
   name takes the last instance not yet used, a missing one adds nothing). */
void dkim_headers_canon(const struct dkim_headers *h, char *const *names, size_t count,
                        enum canon_alg alg, struct buf *out);

/* SHA-256, fetched from the default provider once per process (OpenSSL 3
   fetches EVP_sha256() by name again at every EVP_DigestInit_ex). Never
   freed: it lives as long as the process. */
const EVP_MD *dkim_sha256(void);

/* Hashes the canonical body, counting its length and stopping at l=. */
struct dkim_body_hash {
	struct canon_body canon;
	EVP_MD_CTX *md;
	uint64_t total; /* canonical bytes seen */
	uint64_t limit; /* l=, or UINT64_MAX */
};

/* md: SHA-256 (EVP_sha256() is taken as dkim_sha256()) or SHA-1. */
void dkim_body_hash_init(struct dkim_body_hash *bh, enum canon_alg alg, const EVP_MD *md,
                         uint64_t limit);
void dkim_body_hash_feed(struct dkim_body_hash *bh, const void *data, size_t len);
/* Feed a signer's message bytes (DKIM signer, ARC sealer): the header
   section to h, everything after it to bh. Returns 0, or -1 with *error_r
   when the header section is over its limit. */
int dkim_signing_feed(struct dkim_headers *h, struct dkim_body_hash *bh, const void *data,
                      size_t len, const char **error_r);
/* Finish; out gets the digest (at least EVP_MAX_MD_SIZE bytes). */
void dkim_body_hash_finish(struct dkim_body_hash *bh, uint8_t *out, size_t *len_r);
void dkim_body_hash_free(struct dkim_body_hash *bh);

#endif
