#ifndef TERN_MAILAUTH_ARC_PRIVATE_H
#define TERN_MAILAUTH_ARC_PRIVATE_H

/* Shared by arc-set.c, arc-verify.c and arc-seal.c: the parsed ARC header
   fields (RFC 8617 section 4) and the chain of sets found in a header
   section. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "mailauth/arc.h"
#include "mailauth/dkim-private.h"
#include "mailauth/dkim.h"

/* A parsed ARC-Message-Signature (4.1.2) or ARC-Seal (4.1.3). */
struct arc_sig {
	unsigned instance; /* i= */
	enum dkim_alg alg;
	char *domain, *selector;
	uint8_t sig[DKIM_MAX_SIG_BYTES];
	size_t sig_len;
	/* b='s value with the whitespace around it, as offsets in the field
	   value (emptied when hashing, RFC 6376 3.7) */
	size_t b_start, b_end;
	/* AMS only */
	enum canon_alg header_canon, body_canon;
	ARRAY(char *) headers;
	uint8_t body_hash[64];
	size_t body_hash_len;
	/* AS only */
	enum arc_cv cv;
};

/* Parse an ARC-Message-Signature value. Returns 0 with a new *sig_r, or -1
   with *error_r (static). */
int arc_ams_parse(const char *value, size_t len, struct arc_sig **sig_r, const char **error_r);
/* Parse an ARC-Seal value (h= is forbidden, 4.1.3). Same contract. */
int arc_seal_parse(const char *value, size_t len, struct arc_sig **sig_r, const char **error_r);
/* The instance of an ARC-Authentication-Results value ("i=N;" first,
   4.1.1). Returns 0 with *instance_r, or -1. */
int arc_aar_instance(const char *value, size_t len, unsigned *instance_r);
/* Parse an instance number: decimal 1..ARC_MAX_SETS. Returns 0 or -1. */
int arc_instance_parse(const char *s, size_t len, unsigned *instance_r);
void arc_sig_free(struct arc_sig **sig);

/* One ARC set: indexes of its three fields in the header section. */
struct arc_set {
	size_t aar, ams, as;
	struct arc_sig *seal;
	struct arc_sig *msig; /* fully parsed for the newest set only */
};

struct arc_chain {
	bool bad_instance;                 /* an instance number did not parse */
	bool top_fail;                     /* the newest seal says cv=fail */
	unsigned count;                    /* sets 1..count */
	struct arc_set sets[ARC_MAX_SETS]; /* sets[i - 1] is instance i */
};

/* Find and check the chain in h (RFC 8617 5.2 steps 1-3). Returns 0 when
   there is no ARC field (cv none), 1 with a well-formed chain in *chain,
   -1 with *error_r why the chain fails (the chain may hold parsed seals:
   always call arc_chain_free()). */
int arc_chain_build(const struct dkim_headers *h, struct arc_chain *chain, const char **error_r);
void arc_chain_free(struct arc_chain *chain);
/* The next instance after arc_chain_build() returned ret (see
   arc_verifier_next_instance()). */
unsigned arc_chain_next_instance(const struct arc_chain *chain, int ret);

/* Append the ARC-Seal signing input of instance i (5.1.1): every AAR, AMS,
   AS of sets 1..i relaxed-canonicalized, in that order, AS(i) with b=
   emptied and no final CRLF. fields[3*(j-1) + 0/1/2] are the raw fields
   (name, colon, value) of set j; seal_b_* locate b= in AS(i)'s field. */
void arc_seal_input(const char *const *fields, const size_t *lens, unsigned i, size_t seal_b_start,
                    size_t seal_b_end, struct buf *out);

/* Verify sig (RSA-SHA256 or Ed25519-SHA256) over data with pkey. */
bool arc_crypto_verify(enum dkim_alg alg, EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len,
                       const struct buf *data);

#endif
