#ifndef TERN_AUTH_SASL_CBIND_H
#define TERN_AUTH_SASL_CBIND_H

/*
 * The channel binding data of a TLS connection, for SCRAM-SHA-256-PLUS:
 *
 * - tls-exporter (RFC 9266 section 2), TLS 1.3 only: 32 bytes of
 *   SSL_export_keying_material() with the label "EXPORTER-Channel-Binding"
 *   and an empty context;
 * - tls-server-end-point (RFC 5929 section 4.1), any TLS version: the hash
 *   of our certificate with the hash of its signature algorithm, SHA-256
 *   for MD5 and SHA-1; none for a certificate whose signature has no
 *   separate hash (Ed25519).
 */

#include <openssl/ssl.h>

#include "auth/sasl-server.h"

/* Fill *cb from a server connection whose handshake is done (ssl NULL: a
   zeroed *cb, not TLS). */
void sasl_channel_binding_from_ssl(SSL *ssl, struct sasl_channel_binding *cb);

#endif
