#ifndef TERN_CLI_TLS_SELFSIGNED_H
#define TERN_CLI_TLS_SELFSIGNED_H

/*
 * A self-signed certificate for a fresh instance, so TLS works from the first
 * start; the admin replaces it with a real one later.
 */

/* Make an EC P-256 key and an X.509 v3 certificate for hostname (subject
   CN and subjectAltName DNS:hostname, valid for 10 years, SHA-256), and write
   them as PEM: the key to key_path with mode 0600, the certificate to
   cert_path with mode 0644 (both atomically). hostname must be a plain DNS
   name ([A-Za-z0-9.-]). Returns 0, or -1 with a static *error_r. */
int tls_selfsigned_write(const char *hostname, const char *cert_path, const char *key_path,
                         const char **error_r);

#endif
