#ifndef TERN_NET_TLS_H
#define TERN_NET_TLS_H

/*
 * The server TLS context. Loaded by the supervisor while it still can read
 * the private key; the roles inherit it through fork().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/settings.h"

/* True if any listener in settings offers TLS (STARTTLS or implicit), i.e.
   the server needs a certificate. */
bool tls_needed(const struct tern_settings *settings);

/* Build a server SSL_CTX from settings->tls (cert chain, key,
   min_version): TLS 1.2 minimum (1.3 when min_version is 13), no
   compression, no renegotiation, server cipher preference, forward-secret
   AEAD ciphers only for TLS 1.2. Returns 0 with *ctx_r (free with
   tls_ctx_free), or -1 with a malloc'ed reason in *error_r ("tls.cert
   /x/cert.pem: No such file or directory", "tls.key does not match
   tls.cert", ...). */
int tls_server_ctx_new(const struct tern_settings *settings, SSL_CTX **ctx_r, char **error_r);

/* Build a client SSL_CTX for outgoing connections (conn_connect): TLS 1.2
   minimum, no compression, no renegotiation, DANE enabled on the context
   (SSL_CTX_dane_enable; used per connection by tls_dane_prepare). ca_file: PEM file of trusted
   CAs for certificate verification; NULL: the system's default store.
   Verification itself is chosen per connection (enum conn_verify). Returns
   0 with *ctx_r (free with tls_ctx_free), or -1 with a malloc'ed reason in
   *error_r ("tls ca /x.pem: ..."). */
int tls_client_ctx_new(const char *ca_file, SSL_CTX **ctx_r, char **error_r);

/* One TLSA record (RFC 6698 2.1) as the DANE functions take it; data is
   not copied (OpenSSL copies it in tls_dane_prepare). */
struct tls_tlsa {
	uint8_t usage, selector, matching;
	const uint8_t *data;
	size_t len;
};

/* Prepare an SSL of a tls_client_ctx_new context, before its handshake,
   for DANE authentication (RFC 7672, OpenSSL SSL_dane_enable):
   base_name is the TLSA base domain and first reference name; names
   (count of them, may be 0) are further names a DANE-TA(2) chain's leaf
   may carry (RFC 7672 3.2.2: the MX host name, and the base name after
   CNAME expansion). Wildcards only as a whole leftmost label. DANE-EE(3)
   matches ignore names and validity dates (RFC 7672 3.1.1). Records with
   usage 0/1 (PKIX, RFC 7672 3.1.3) or unknown parameters are skipped.
   The SSL is set to SSL_VERIFY_NONE: the handshake completes whatever the
   outcome, and tls_dane_result() says afterwards whether it authenticated
   (so the SMTP client can QUIT politely). Returns the number of records
   accepted (> 0), or -1 with *error_r (static text) when none was usable
   or OpenSSL refused. */
int tls_dane_prepare(SSL *ssl, const char *base_name, const char *const *names, size_t count,
                     const struct tls_tlsa *records, size_t record_count, const char **error_r);

/* After the handshake of an SSL prepared with tls_dane_prepare: 0 when a
   TLSA record authenticated the peer (*usage_r the usage of the record
   that matched, 2 or 3; may be NULL); -1 with *error_r (static text,
   "TLSA mismatch: certificate signature failure", ...) otherwise. */
int tls_dane_result(SSL *ssl, int *usage_r, const char **error_r);

/* Prepare an SSL, before its handshake, for PKIX verification against a
   list of names (MTA-STS, RFC 8461 4.2: the certificate must chain to a
   trusted root and carry the MX host name; wildcards only as a whole
   leftmost label). store: the trusted CAs to use instead of the
   context's (NULL: the context's, i.e. the system store from
   tls_client_ctx_new(NULL)); the SSL takes its own reference. Sets
   SSL_VERIFY_NONE like tls_dane_prepare: read tls_verify_result() after
   the handshake. Returns 0, or -1 with *error_r (static) when count is 0
   or OpenSSL refused a name. */
int tls_verify_names_prepare(SSL *ssl, X509_STORE *store, const char *const *names, size_t count,
                             const char **error_r);

/* After the handshake: 0 when the peer sent a certificate that passed
   the verification set up before it (chain and names); -1 with *error_r
   (static text, OpenSSL's reason) otherwise. */
int tls_verify_result(SSL *ssl, const char **error_r);

/* Free the context (NULL is fine) and set *ctx to NULL. Connections still
   using it keep their own reference. */
void tls_ctx_free(SSL_CTX **ctx);

/* The last OpenSSL error as short text for logs ("unknown error" if none),
   clearing the error queue. Returns a static buffer (not thread-safe). */
const char *tls_last_error(void);

#endif
