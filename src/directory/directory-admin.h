#ifndef TERN_DIRECTORY_DIRECTORY_ADMIN_H
#define TERN_DIRECTORY_DIRECTORY_ADMIN_H

/*
 * Admin operations that carry a policy: adding a user and setting a
 * password, with the password policy (length, UTF-8) and the Argon2id cost
 * of new hashes. The CLI (tern user) calls these and keeps only argument
 * parsing and output; the HTTP API will call the same. The operations
 * without a policy (disable/enable, quotas, aliases, domains) are those of
 * directory.h.
 *
 * Hashing is slow on purpose (directory/password.h): code on an event loop runs
 * these on a worker thread, with a directory connection of that thread.
 * Errors are those of directory.h: -1 with *error_r valid until the next
 * call on dir and directory_error_kind() telling the kind.
 */

#include <stddef.h>
#include <stdint.h>

#include "directory/directory.h"

struct directory_password_policy {
	unsigned min_length;           /* characters (code points); 0 counts as 1 */
	unsigned long long argon2_ops; /* passes of new hashes */
	size_t argon2_mem;             /* bytes of new hashes */
	unsigned scram_iterations;     /* of new SCRAM keys; 0: the default */
};

/* Check a new password against policy: at least min_length characters, at
   most PASSWORD_MAX_LEN bytes, valid UTF-8. Returns 0, or -1 with a static
   *error_r ("password too short (minimum 12 characters)", ...). */
int directory_password_check(const struct directory_password_policy *policy, const char *password,
                             const char **error_r);

/* What would make directory_admin_user_add() fail before a password is
   even asked for: a malformed address (MALFORMED), a domain not ours
   (NOT_FOUND), an existing user (EXISTS), a database error. Returns 0 if
   none. */
int directory_admin_user_add_check(struct directory *dir, const char *address,
                                   const char **error_r);

/* Check password against policy (INVALID), hash it with the policy's cost
   and add the user as directory_user_add() does, with SCRAM-SHA-256 keys
   of the password (directory/scram-keys.h). The password is not
   kept; the caller wipes its copy. Returns 0 or -1. */
int directory_admin_user_add(struct directory *dir, const struct directory_password_policy *policy,
                             const char *address, const char *password, uint64_t quota_bytes,
                             const char **error_r);

/* Check that address is a user (NOT_FOUND otherwise) before a new password
   is asked for. Returns 0 or -1. */
int directory_admin_passwd_check(struct directory *dir, const char *address, const char **error_r);

/* Check, hash and store a new password for address, with new SCRAM keys,
   as directory_admin_user_add() does. Logins verified with the old one stop
   hitting the credential cache at once (it keys on the stored hash).
   Returns 0 or -1. */
int directory_admin_set_password(struct directory *dir,
                                 const struct directory_password_policy *policy,
                                 const char *address, const char *password, const char **error_r);

#endif
