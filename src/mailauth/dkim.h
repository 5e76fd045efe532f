#ifndef TERN_MAILAUTH_DKIM_H
#define TERN_MAILAUTH_DKIM_H

/*
 * DKIM (RFC 6376, RFC 8463 Ed25519, RFC 8301 crypto update): the record
 * parsers shared by the verifier (dkim-verify.h) and the signer
 * (dkim-sign.h). See docs/dkim.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/array.h"
#include "mailauth/canon.h"

/* The one check of a DKIM or ARC domain or selector (d=, s=, and the names
   `tern dkim` and the key store take): an RFC 6376 section 3.5
   domain-name, labels of letters, digits, '-' and '_' (UTF-8 allowed, RFC
   8616), 1 to 63 bytes each, 253 in all, no empty label. Such a name is
   also safe as a file name under the key store (no '/', no "." or ".."
   component). False for NULL. */
bool dkim_name_valid(const char *s);

enum dkim_alg {
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256, /* RFC 8463 */
	DKIM_ALG_RSA_SHA1,       /* parsed only to be refused (RFC 8301 3.1) */
};

enum dkim_key_type {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
};

/* Per-signature results, as in Authentication-Results (RFC 8601 2.7.1). */
enum dkim_result {
	DKIM_RESULT_NONE,
	DKIM_RESULT_PASS,
	DKIM_RESULT_FAIL,
	DKIM_RESULT_POLICY,
	DKIM_RESULT_NEUTRAL,
	DKIM_RESULT_TEMPERROR,
	DKIM_RESULT_PERMERROR,
};

/* Limits on what a signature may claim. */
#define DKIM_MAX_SIGNED_HEADERS 64
#define DKIM_MAX_SIG_BYTES      1024 /* b= decoded: 8192-bit RSA */
/* RFC 8301 3.2: verifiers must refuse RSA keys under 1024 bits. */
#define DKIM_MIN_RSA_BITS 1024

/* "pass", "fail", "policy", "neutral", "temperror", "permerror", "none". */
const char *dkim_result_name(enum dkim_result result);
/* "rsa-sha256", "ed25519-sha256", "rsa-sha1". */
const char *dkim_alg_name(enum dkim_alg alg);

/* A parsed DKIM-Signature field (RFC 6376 3.5). */
struct dkim_signature {
	enum dkim_alg alg;
	enum canon_alg header_canon, body_canon;
	char *domain;          /* d= */
	char *selector;        /* s= */
	char *identity;        /* i=, "@" d= when absent */
	ARRAY(char *) headers; /* h=, in order, as written */
	uint8_t body_hash[64]; /* bh= decoded */
	size_t body_hash_len;
	uint8_t sig[DKIM_MAX_SIG_BYTES]; /* b= decoded */
	size_t sig_len;
	char header_b[9]; /* first 8 characters of b= (RFC 6008 header.b) */
	bool has_length;  /* l= given */
	uint64_t length;
	bool has_timestamp, has_expiry;
	uint64_t timestamp, expiry; /* t=, x= */
	/* The bytes between "b=" and the next ";" (or the end) in the field
	   value that was parsed: the value and the whitespace around it,
	   which the verifier removes to hash the field (3.7). */
	size_t b_start, b_end;
};

/* Parse the value of a DKIM-Signature field (everything after the colon,
   folding included) and check it as RFC 6376 6.1.1 says: required tags,
   v=1, a known a=, h= including From, i= within d=, x= not before t=.
   Returns 0 with a new signature, or -1 with *error_r a static reason (a
   permerror). rsa-sha1 parses (the verifier then fails it). */
int dkim_signature_parse(const char *value, size_t len, struct dkim_signature **sig_r,
                         const char **error_r);

/* Free a signature; NULL is fine; sets *sig NULL. */
void dkim_signature_free(struct dkim_signature **sig);

/* A parsed key record (RFC 6376 3.6.1, RFC 8463 4.2). */
struct dkim_key {
	enum dkim_key_type type;
	EVP_PKEY *pkey;      /* NULL when revoked */
	bool revoked;        /* p= empty */
	bool testing;        /* t=y */
	bool strict;         /* t=s: i= must be exactly in d= */
	bool sha256_allowed; /* h= absent or lists sha256 */
	bool sha1_allowed;   /* h= absent or lists sha1 */
	unsigned rsa_bits;   /* RSA modulus size, 0 for Ed25519 */
};

/* Parse a key TXT record (all strings joined). The p= of an RSA key may be
   a SubjectPublicKeyInfo or a bare PKCS#1 RSAPublicKey (both are
   published); an Ed25519 key is the raw 32 bytes (RFC 8463 4.2) or an
   SPKI. Returns 0 with a new key (revoked ones included), or -1 with
   *error_r a static reason: a syntax error, v= not "DKIM1" or not first,
   unknown k=, s= excluding email, p= not a key of type k=. */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key **key_r, const char **error_r);

/* Free a key; NULL is fine; sets *key NULL. */
void dkim_key_free(struct dkim_key **key);

/* Decode base64 (whitespace ignored, padding required as RFC 2045 says)
   into out (cap bytes). Returns 0 with *len_r, or -1 if invalid or too
   long. */
int dkim_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *len_r);

/* The TXT record text publishing pkey's public half:
   "v=DKIM1; k=rsa; p=..." or "v=DKIM1; k=ed25519; p=..." (malloc'ed).
   Returns NULL if pkey is neither RSA nor Ed25519. */
char *dkim_key_txt_record(EVP_PKEY *pkey);

#endif
