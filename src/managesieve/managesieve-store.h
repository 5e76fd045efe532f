#ifndef TERN_MANAGESIEVE_MANAGESIEVE_STORE_H
#define TERN_MANAGESIEVE_MANAGESIEVE_STORE_H

/*
 * A user's Sieve scripts on disk, shared by ManageSieve and `tern sieve`:
 * dir is "<user maildir>/sieve" (msieve_store_dir()); script NAME lives in
 * dir/NAME.sieve and the active script's name in dir/active (absent: none
 * active), the layout delivery reads (docs/managesieve.md). Writes go to a
 * temporary file that is fsync'ed and renamed into place, then the
 * directory is fsync'ed. The directory is created on the first write.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIEVE_NAME_MAX 128

enum msieve_status {
	MSIEVE_OK = 0,
	MSIEVE_NONEXISTENT,   /* no such script */
	MSIEVE_ACTIVE,        /* DELETESCRIPT of the active script */
	MSIEVE_ALREADYEXISTS, /* RENAMESCRIPT to a name in use */
	MSIEVE_MAXSCRIPTS,    /* one more script would exceed the quota */
	MSIEVE_MAXSIZE,       /* the script is over the size quota */
	MSIEVE_BADNAME,       /* not a valid script name */
	MSIEVE_ERROR,         /* a system error: see error_r */
};

struct msieve_quota {
	unsigned max_scripts; /* 0: no limit */
	uint64_t max_size;    /* bytes of one script; 0: no limit */
};

/* True if name[0..len) is a valid script name (RFC 5804 section 1.6):
   1..MSIEVE_NAME_MAX bytes of valid UTF-8 without "/", control characters
   (U+0000-U+001F, U+007F-U+009F), U+2028 or U+2029. */
bool msieve_name_valid(const char *name, size_t len);

/* "<maildir>/sieve", malloc'ed. */
char *msieve_store_dir(const char *maildir);

/* The scripts of dir, sorted by name: *names_r (malloc'ed array of
   malloc'ed names; free with msieve_names_free()), *count_r, and *active_r
   the active script's name (malloc'ed) or NULL. A missing dir is empty. */
enum msieve_status msieve_store_list(const char *dir, char ***names_r, size_t *count_r,
                                     char **active_r, const char **error_r);
void msieve_names_free(char **names, size_t count);

/* The active script's name (malloc'ed), or NULL (also on errors). */
char *msieve_store_active(const char *dir);

/* Script name's text, malloc'ed and NUL-terminated, in *data_r, its length in *len_r. */
enum msieve_status msieve_store_get(const char *dir, const char *name, char **data_r, size_t *len_r,
                                    const char **error_r);

/* Whether a script name of size bytes may be stored (HAVESPACE): OK,
   BADNAME, MAXSIZE or MAXSCRIPTS (replacing an existing one never counts
   as one more). */
enum msieve_status msieve_store_havespace(const char *dir, const char *name, uint64_t size,
                                          const struct msieve_quota *quota, const char **error_r);

/* Store (create or replace) script name atomically, within quota. The
   caller has checked that it compiles. */
enum msieve_status msieve_store_put(const char *dir, const char *name, const char *data, size_t len,
                                    const struct msieve_quota *quota, const char **error_r);

/* Delete script name; ACTIVE if it is the active one. */
enum msieve_status msieve_store_delete(const char *dir, const char *name, const char **error_r);

/* Rename; ALREADYEXISTS if newname exists. The active script stays active
   under its new name. */
enum msieve_status msieve_store_rename(const char *dir, const char *oldname, const char *newname,
                                       const char **error_r);

/* Make name the active script; NULL or "" deactivates (OK also when none
   was active). */
enum msieve_status msieve_store_setactive(const char *dir, const char *name, const char **error_r);

#endif
