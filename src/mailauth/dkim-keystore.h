#ifndef TERN_MAILAUTH_DKIM_KEYSTORE_H
#define TERN_MAILAUTH_DKIM_KEYSTORE_H

/*
 * DKIM private keys on disk: <data_dir>/dkim/<domain>/<selector>.key, PEM
 * (PKCS#8), file 0600, directories 0700. The default selector is "tern"
 * followed by the year and month of creation ("tern202611"), so a new key
 * gets a new selector and both can be published during a rollover.
 */

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "mailauth/dkim.h"

#define DKIM_DEFAULT_RSA_BITS 2048

/* The default selector for a key made at now, into buf (at least 16
   bytes); returns buf. */
const char *dkim_default_selector(time_t now, char *buf, size_t size);

/* Make a new key: RSA of bits bits (1024..8192) or Ed25519 (bits
   ignored). Returns 0 with *pkey_r (EVP_PKEY_free it), or -1 with
   *error_r. */
int dkim_key_generate(enum dkim_key_type type, unsigned bits, EVP_PKEY **pkey_r,
                      const char **error_r);

/* Store pkey as <data_dir>/dkim/<domain>/<selector>.key. Refuses to
   overwrite. Returns 0 with *path_r (malloc'ed), or -1 with *error_r. */
int dkim_key_store(const char *data_dir, const char *domain, const char *selector, EVP_PKEY *pkey,
                   char **path_r, const char **error_r);

/* Load a PEM private key file. Returns 0 with *pkey_r, or -1 with
 *error_r. */
int dkim_key_load(const char *path, EVP_PKEY **pkey_r, const char **error_r);

/* The selectors of domain's stored keys, sorted (newest default-named one
   last). Returns 0 with *selectors_r (a malloc'ed array of malloc'ed
   strings, free with dkim_selectors_free) and *count_r (0 if none). */
int dkim_key_selectors(const char *data_dir, const char *domain, char ***selectors_r,
                       size_t *count_r);
void dkim_selectors_free(char **selectors, size_t count);

/* Load domain's key: the given selector, or when selector is NULL the last
   of dkim_key_selectors(). Returns 0 with *pkey_r and *selector_r
   (malloc'ed), or -1 with *error_r. */
int dkim_key_find(const char *data_dir, const char *domain, const char *selector, EVP_PKEY **pkey_r,
                  char **selector_r, const char **error_r);

/* The zone file line publishing txt for selector and domain:
   `<selector>._domainkey.<domain>. IN TXT "..." "..."`, the text split into
   strings of at most 255 bytes (RFC 1035 3.3). Malloc'ed. */
char *dkim_txt_zone_line(const char *domain, const char *selector, const char *txt);

#endif
