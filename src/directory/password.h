#ifndef TERN_AUTH_PASSWORD_H
#define TERN_AUTH_PASSWORD_H

/*
 * Password hashes in Dovecot's "{SCHEME}hash" format, so users move over
 * from a Dovecot passdb without resetting their passwords.
 *
 * New hashes are Argon2id (libsodium crypto_pwhash_str_alg), by default
 * with OPSLIMIT_INTERACTIVE and MEMLIMIT_INTERACTIVE: 2 passes over 64 MiB,
 * well under a second on a small server; tern.conf's auth { argon2_ops,
 * argon2_mem } change them for new hashes (a hash carries its own, so
 * verification needs no setting). Verified schemes, with or without the
 * {SCHEME} prefix:
 *   {ARGON2ID}     $argon2id$...      libsodium
 *   {ARGON2I}      $argon2i$...       libsodium
 *   {BLF-CRYPT}    $2y$ $2b$ $2a$     libxcrypt (bcrypt)
 *   {SHA512-CRYPT} $6$                libxcrypt
 *   {SHA256-CRYPT} $5$                libxcrypt
 * Everything else ({PLAIN}, {CRYPT}, {MD5-CRYPT}, {SSHA512}, ...) is
 * refused: no plaintext and no fast unsalted digests are ever accepted.
 *
 * Both functions are slow on purpose and thread-safe (no static state,
 * crypt_rn with a per-call buffer), so the server runs them on its worker
 * threads. The caller keeps ownership of the password and wipes it.
 */

/* Passwords longer than this (in bytes) are refused by password_hash() and
   never match in password_verify(). */
#define PASSWORD_MAX_LEN 512

#include <stddef.h>

/* The Argon2id cost of new hashes unless configured: libsodium's
   OPSLIMIT_INTERACTIVE (2 passes) and MEMLIMIT_INTERACTIVE (64 MiB). */
#define PASSWORD_ARGON2_OPS_DEFAULT 2
#define PASSWORD_ARGON2_MEM_DEFAULT (64 * 1024 * 1024)

/* Hash password with Argon2id. On success returns 0 and *hash_r is a
   malloc'ed "{ARGON2ID}$argon2id$v=19$m=...,t=...,p=...$salt$hash" string
   (a fresh random salt each call; the caller frees it). Returns -1 with a
   static *error_r when the password is too long or libsodium fails (out of
   memory for the 64 MiB work area). */
int password_hash(const char *password, char **hash_r, const char **error_r);

/* password_hash() with ops passes over mem bytes. Also -1 with a static
 *error_r when ops < 1 or mem < 8 KiB (libsodium's minimums). */
int password_hash_params(const char *password, unsigned long long ops, size_t mem, char **hash_r,
                         const char **error_r);

/* Check password against a stored hash in one of the schemes above.
   Returns 1 on a match, 0 on a mismatch, -1 with a static *error_r when the
   stored hash uses an unknown or refused scheme or is corrupt. The
   comparison runs in constant time. */
int password_verify(const char *password, const char *stored, const char **error_r);

#endif
