#ifndef TERN_SIEVE_SIEVE_STORE_H
#define TERN_SIEVE_SIEVE_STORE_H

/*
 * Where a user's Sieve scripts live (docs/sieve.md, "Storage"), shared by
 * delivery and ManageSieve: <user maildir>/sieve/NAME.sieve, the active
 * script's NAME in <user maildir>/sieve/active (or a symlink
 * active -> NAME.sieve). Path logic and file reading only; no parsing.
 * Errors are static strings.
 */

#include <stdbool.h>
#include <stddef.h>

/* Longest script name. */
#define SIEVE_STORE_NAME_MAX 128

/* True if name may be a script name: 1 to SIEVE_STORE_NAME_MAX bytes, no
   '/', no control bytes or DEL, not starting with '.'. */
bool sieve_store_name_valid(const char *name);

/* The user's script directory <maildir_user_path(mail_dir, user)>/sieve
   (malloc'ed in *dir_r). Returns 0, or -1 with *error_r for a bad user. */
int sieve_store_dir(const char *mail_dir, const char *user, char **dir_r, const char **error_r);

/* <dir>/NAME.sieve for a valid name (malloc'ed in *path_r). Returns 0, or
   -1 with *error_r when the user or the name is not valid. */
int sieve_store_script_path(const char *mail_dir, const char *user, const char *name, char **path_r,
                            const char **error_r);

/* The name of the active script read from <dir>/active (file or symlink),
   malloc'ed in *name_r. Returns 1 with a valid name, 0 when there is none
   (no file, empty, a name that is not valid), -1 with *error_r when the
   file cannot be read. Does not check that the script exists. */
int sieve_store_active_name(const char *dir, char **name_r, const char **error_r);

/* The path of user's active script (malloc'ed in *path_r). Returns 1 when
   there is one and it exists, 0 when there is none (no active name, or the
   script it names is missing), -1 with *error_r on a bad user or a read
   error. */
int sieve_store_active_path(const char *mail_dir, const char *user, char **path_r,
                            const char **error_r);

/* Read the whole file path (at most max bytes) into *text_r (malloc'ed,
   NUL-terminated, length in *len_r). Returns 0, or -1 with *error_r
   (missing, unreadable, larger than max). */
int sieve_store_read(const char *path, size_t max, char **text_r, size_t *len_r,
                     const char **error_r);

#endif
