#ifndef TERN_AUTH_SASL_H
#define TERN_AUTH_SASL_H

/*
 * I/O-free SASL helpers shared by SMTP AUTH (RFC 4954), IMAP AUTHENTICATE
 * (RFC 9051 6.2.2) and POP3 AUTH (RFC 5034): strict base64 and the
 * messages of the PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login)
 * mechanisms. The session reads the line, these functions only see bytes.
 *
 * Strings returned here may hold a password: release them with
 * sasl_secret_free(), which wipes them before freeing.
 */

#include <stdbool.h>
#include <stddef.h>

/* RFC 4616 section 2: each of authzid, authcid and passwd is at most 255
   octets. */
#define SASL_FIELD_MAX 255
/* The longest decoded PLAIN message: three fields and two NULs. */
#define SASL_PLAIN_MAX (3 * SASL_FIELD_MAX + 2)

/* The LOGIN mechanism's two server challenges, already base64-encoded
   ("Username:" and "Password:"). */
#define SASL_LOGIN_CHALLENGE_USER "VXNlcm5hbWU6"
#define SASL_LOGIN_CHALLENGE_PASS "UGFzc3dvcmQ6"

/* Decode standard base64 (RFC 4648 section 4) strictly: no whitespace or
   other characters outside the alphabet, a length that is a multiple of 4,
   '=' padding only at the end, and zero padding bits (one encoding per
   value). Empty input decodes to an empty result. On success returns 0,
   *out_r is a malloc'ed buffer of *out_len_r bytes plus a NUL (release it
   with sasl_bytes_free(), which wipes it: it may hold a password). Returns -1 with a static
   *error_r when the input is malformed or would decode to more than max_out
   bytes; outputs are untouched. */
int sasl_base64_decode(const char *in, size_t len, size_t max_out, unsigned char **out_r,
                       size_t *out_len_r, const char **error_r);

/* Encode len bytes as base64 with padding. Returns a malloc'ed NUL-terminated
   string (the caller frees it); never NULL. */
char *sasl_base64_encode(const void *data, size_t len);

/* Parse a decoded PLAIN message "[authzid] NUL authcid NUL passwd"
   (RFC 4616 section 2): exactly two NULs, authcid and passwd non-empty,
   every field at most SASL_FIELD_MAX bytes and valid UTF-8. On success
   returns 0 and sets *authzid_r (NULL when the client sent none, i.e. it
   acts as itself), *authcid_r and *password_r to malloc'ed strings the
   caller releases with sasl_secret_free(). Returns -1 with a static *error_r
   on malformed input; outputs are untouched. */
int sasl_plain_parse(const unsigned char *data, size_t len, char **authzid_r, char **authcid_r,
                     char **password_r, const char **error_r);

/* Check one decoded LOGIN response (the username after the first
   challenge, the password after the second): non-empty, at most
   SASL_FIELD_MAX bytes, no NUL, valid UTF-8. On success returns 0 and
   *field_r is a malloc'ed copy (release with sasl_secret_free()). Returns
   -1 with a static *error_r otherwise; *field_r is untouched. */
int sasl_login_field_parse(const unsigned char *data, size_t len, char **field_r,
                           const char **error_r);

/* Wipe and free a string from this module; NULL is fine; sets *s to NULL. */
void sasl_secret_free(char **s);
/* Wipe len bytes of *data, free it and set *data to NULL; NULL is fine. */
void sasl_bytes_free(unsigned char **data, size_t len);

#endif
