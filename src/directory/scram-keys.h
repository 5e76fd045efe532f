#ifndef TERN_DIRECTORY_SCRAM_KEYS_H
#define TERN_DIRECTORY_SCRAM_KEYS_H

/*
 * SCRAM-SHA-256 stored keys (RFC 5802 section 3, RFC 7677): what the
 * directory keeps so a SCRAM exchange can be verified without the password.
 *
 *   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
 *   ClientKey      = HMAC(SaltedPassword, "Client Key")
 *   StoredKey      = SHA-256(ClientKey)
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 *
 * Text form, one column of the users table:
 *   "SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>"
 *
 * The password is used as its UTF-8 bytes (no SASLprep: Tern's password
 * policy takes any UTF-8, and ASCII passwords are unaffected either way).
 */

#include <stddef.h>

#define SCRAM_KEY_LEN            32 /* SHA-256 */
#define SCRAM_SALT_LEN           16 /* bytes of a new salt */
#define SCRAM_SALT_MAX           64 /* bytes of a salt we accept */
#define SCRAM_ITERATIONS_DEFAULT 4096
#define SCRAM_ITERATIONS_MAX     10000000

struct scram_keys {
	unsigned iterations;
	unsigned char salt[SCRAM_SALT_MAX];
	size_t salt_len;
	unsigned char stored_key[SCRAM_KEY_LEN];
	unsigned char server_key[SCRAM_KEY_LEN];
};

/* Derive the keys of password with salt (1..SCRAM_SALT_MAX bytes) and
   iterations (1..SCRAM_ITERATIONS_MAX); salt NULL draws SCRAM_SALT_LEN
   random bytes. Returns 0 with *keys_r filled, or -1 with a static
   *error_r. Slow on purpose (iterations of HMAC): off the event loop. */
int scram_keys_derive(const char *password, size_t password_len, const unsigned char *salt,
                      size_t salt_len, unsigned iterations, struct scram_keys *keys_r,
                      const char **error_r);

/* The text form of keys, malloc'ed (the caller frees it). */
char *scram_keys_format(const struct scram_keys *keys);

/* Parse the text form. Returns 0 with *keys_r, or -1 with a static
 *error_r. */
int scram_keys_parse(const char *text, struct scram_keys *keys_r, const char **error_r);

#endif
