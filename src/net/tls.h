#ifndef TERN_NET_TLS_H
#define TERN_NET_TLS_H

/*
 * The server TLS context. Loaded by the supervisor while it still can read
 * the private key; the roles inherit it through fork().
 */

#include <stdbool.h>

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
   minimum, no compression, no renegotiation. ca_file: PEM file of trusted
   CAs for certificate verification; NULL: the system's default store.
   Verification itself is chosen per connection (enum conn_verify). Returns
   0 with *ctx_r (free with tls_ctx_free), or -1 with a malloc'ed reason in
   *error_r ("tls ca /x.pem: ..."). */
int tls_client_ctx_new(const char *ca_file, SSL_CTX **ctx_r, char **error_r);

/* Free the context (NULL is fine) and set *ctx to NULL. Connections still
   using it keep their own reference. */
void tls_ctx_free(SSL_CTX **ctx);

/* The last OpenSSL error as short text for logs ("unknown error" if none),
   clearing the error queue. Returns a static buffer (not thread-safe). */
const char *tls_last_error(void);

#endif
