#ifndef TERN_MAILAUTH_DKIM_SIGN_H
#define TERN_MAILAUTH_DKIM_SIGN_H

/*
 * DKIM signing (RFC 6376 section 5) in one streaming pass: rsa-sha256 or
 * ed25519-sha256 (RFC 8463) after the key's type, c=relaxed/relaxed, t=
 * now, no l=. The header section is kept (up to DKIM_MAX_HEADER_BYTES),
 * the body only hashed:
 *
 *   dkim_signer_new(&params, &signer, &error);
 *   dkim_signer_feed(signer, chunk, len, &error);    (as the message arrives)
 *   dkim_signer_finish(signer, &field, &error);      ("DKIM-Signature: ...")
 *   <write field, then the message as it was>
 *   dkim_signer_free(&signer);
 *
 * Signed fields: by default those of DKIM_DEFAULT_HEADERS that the message
 * has (each instance), and From once more than it has (oversigning, RFC
 * 6376 8.15), so that a From added later breaks the signature.
 */

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

/* The default signed fields, colon-separated. */
#define DKIM_DEFAULT_HEADERS                                                                       \
	"from:reply-to:subject:date:to:cc:message-id:in-reply-to:references:mime-version:"         \
	"content-type:content-transfer-encoding:content-disposition:sender:list-id:"               \
	"list-unsubscribe:list-unsubscribe-post"

struct dkim_sign_params {
	const char *domain;   /* d= */
	const char *selector; /* s= */
	EVP_PKEY *key;        /* RSA (at least 1024 bits) or Ed25519; borrowed */
	const char *headers;  /* colon-separated names; NULL: the default */
	const char *identity; /* i=, NULL: none */
	time_t now;           /* t=; 0: time(NULL) */
};

struct dkim_signer;

/* A new signer. Returns 0, or -1 with *error_r a static reason (a bad
   domain or selector, a key that is neither RSA >= 1024 bits nor
   Ed25519). params is copied; the key must live until the signer is
   freed. */
int dkim_signer_new(const struct dkim_sign_params *params, struct dkim_signer **signer_r,
                    const char **error_r);

/* Feed the next len bytes of the message (line ends CRLF or LF). Returns
   0, or -1 with *error_r if the header section is too large. */
int dkim_signer_feed(struct dkim_signer *signer, const void *data, size_t len,
                     const char **error_r);

/* The message ended. Returns 0 with *field_r the whole DKIM-Signature
   field, folded, ending in CRLF (malloc'ed, the caller frees it), or -1
   with *error_r (no From field, a crypto failure). */
int dkim_signer_finish(struct dkim_signer *signer, char **field_r, const char **error_r);

/* Free; NULL is fine; sets *signer NULL. */
void dkim_signer_free(struct dkim_signer **signer);

#endif
