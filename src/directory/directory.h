#ifndef TERN_DIRECTORY_DIRECTORY_H
#define TERN_DIRECTORY_DIRECTORY_H

/*
 * The user directory: mail domains, users (with their password hash, quota
 * and enabled flag) and aliases, in one SQLite database (WAL mode, foreign
 * keys on, 5 s busy timeout, schema version in PRAGMA user_version). See
 * docs/directory.md for the schema and the rules.
 *
 * Addresses: every address given to this API is validated and normalised
 * with the one address parser (lib/address.h): the domain is lower-cased,
 * the local part is kept as given, and local parts are compared without
 * regard to ASCII case (the columns are COLLATE NOCASE), so "Tim@Example.ORG"
 * finds the user stored as "tim@example.org". Address literals
 * ("[192.0.2.1]") are not mail domains.
 *
 * A struct directory is the rules of this file over one backend connection
 * (directory-private.h): directory_open() gives the SQLite backend,
 * directory_open_memory() (directory-memory.h) an in-memory one. Use one
 * per thread (or serialise calls). Several processes may open the same
 * SQLite file. Code on an event loop uses directory-async.h instead.
 *
 * Errors: functions returning -1 set *error_r to a message valid until the
 * next call on the same directory ("unknown domain example.org", "user
 * a@example.org already exists", "malformed address ...: reason",
 * "database error: ..."). The messages are fit for an admin to read; code
 * acts on directory_error_kind() instead, never on the text.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Quota given to a user added with DIRECTORY_QUOTA_DEFAULT: 1 GiB. */
#define DIRECTORY_DEFAULT_QUOTA_BYTES (UINT64_C(1) << 30)
/* Pass as quota_bytes to directory_user_add() to get the default quota. */
#define DIRECTORY_QUOTA_DEFAULT UINT64_MAX
/* A quota of 0 means unlimited. */
#define DIRECTORY_QUOTA_UNLIMITED 0
/* Nested aliases deeper than this are cut during resolution. */
#define DIRECTORY_ALIAS_DEPTH_MAX 8
/* At most this many addresses (local plus remote) come out of one
   resolution; the rest are cut. */
#define DIRECTORY_RESOLVE_MAX 1000

struct directory;

/* The kind of the last failure on a directory, for callers that act on it. */
enum directory_error {
	DIRECTORY_ERR_NONE,      /* no call has failed yet */
	DIRECTORY_ERR_NOT_FOUND, /* unknown domain, user, alias or destination */
	DIRECTORY_ERR_EXISTS,    /* the domain, user or alias exists already */
	DIRECTORY_ERR_IN_USE,    /* a domain with users or aliases (without force) */
	DIRECTORY_ERR_MALFORMED, /* a malformed address or domain name */
	DIRECTORY_ERR_INVALID,   /* refused by policy: empty hash, quota too large,
	                            a password too short or too long */
	DIRECTORY_ERR_DATABASE,  /* the backend failed: retry later */
};

struct directory_user {
	char *address;        /* as stored (normalised) */
	char *password_hash;  /* "{SCHEME}..." see directory/password.h */
	uint64_t quota_bytes; /* 0 = unlimited */
	bool enabled;         /* false: cannot log in, still receives mail */
	/* SCRAM-SHA-256 keys (directory/scram-keys.h text form), or NULL when
	   the user has none (a hash imported without its password). Set with
	   the password by directory-admin.h; never the password itself. */
	char *scram;
	/* Message-count quota (schema version 5): 0 = unlimited. */
	uint64_t quota_messages;
};

struct directory_alias {
	char *source;      /* "a@example.org", or "@example.org" for a catch-all */
	char *destination; /* a full address, local or remote */
};

enum directory_result {
	DIRECTORY_NOT_LOCAL, /* the domain is not one of ours */
	DIRECTORY_UNKNOWN,   /* our domain, but nobody receives this address */
	DIRECTORY_LOCAL,     /* ours: deliver to local[] and forward to remote[] */
};

/* A local user's limits, 0 = unlimited (docs/quota.md). */
struct directory_quota {
	uint64_t bytes;
	uint64_t messages;
};

struct directory_resolution {
	enum directory_result result;
	/* DIRECTORY_LOCAL only: user addresses (as stored) to deliver to and
	   remote addresses to forward to; each list is deduplicated (ASCII case
	   folded) and at least one of them is non-empty. */
	char **local;
	size_t local_count;
	/* The quota of each local[i] (local_count entries, NULL when 0). */
	struct directory_quota *local_quota;
	char **remote;
	size_t remote_count;
};

/* Open (creating if missing, mode 0600, since it holds password hashes) the
   database at path and create or check its schema. Returns 0 with a new
   handle in *dir_r, or -1 with *error_r set to a static or thread-local
   message (there is no handle to own it) when the file cannot be opened,
   is not a database, or has a newer schema version than this program. */
int directory_open(const char *path, struct directory **dir_r, const char **error_r);

/* Close the backend, free the handle and set *dir to NULL. NULL is fine. */
void directory_close(struct directory **dir);

/* The kind of the error of the last call on dir that returned -1 (the
   call's error_r message says it for people); DIRECTORY_ERR_NONE before
   any failure. Calls that succeed leave it as it was. */
enum directory_error directory_error_kind(const struct directory *dir);

/* --- domains --- */

/* Add a mail domain (a DNS name, stored lower-cased). Returns 0, or -1:
   malformed name, "domain example.org already exists", database error. */
int directory_domain_add(struct directory *dir, const char *name, const char **error_r);

/* Delete a domain. Without force it refuses (-1, "domain example.org still
   has N users and aliases") while users or aliases belong to it; with force
   they are deleted with it (ON DELETE CASCADE). Aliases of other domains
   that point into it are kept and then resolve as remote addresses. Returns
   0, or -1: unknown domain, in use, database error. */
int directory_domain_del(struct directory *dir, const char *name, bool force, const char **error_r);

/* All domain names, sorted. On success returns 0 and *names_r is a malloc'ed
   array of *count_r malloc'ed strings (free with directory_names_free());
   NULL when there are none. -1 on a database error. */
int directory_domain_list(struct directory *dir, char ***names_r, size_t *count_r,
                          const char **error_r);

/* 1 if name is one of our domains (compared lower-cased), 0 if not (also for
   a malformed name), -1 on a database error (*error_r set). */
int directory_domain_exists(struct directory *dir, const char *name, const char **error_r);

/* Free an array from directory_domain_list() and set *names to NULL. */
void directory_names_free(char ***names, size_t count);

/* --- users --- */

/* Add a user with a password hash made by password_hash() (or an imported
   Dovecot hash) and a quota in bytes (DIRECTORY_QUOTA_DEFAULT for the
   domain's default, see directory_domain_quota(), else 1 GiB; 0 for
   unlimited). The user starts enabled. Returns 0, or -1: malformed
   address, "unknown domain example.org", "user a@example.org already
   exists", empty hash, database error. */
int directory_user_add(struct directory *dir, const char *address, const char *password_hash,
                       uint64_t quota_bytes, const char **error_r);

/* Delete a user. Aliases pointing at the address are kept (they then
   resolve to nothing, or to the catch-all). Returns 0, or -1: malformed
   address, "unknown user a@example.org", database error. */
int directory_user_del(struct directory *dir, const char *address, const char **error_r);

/* Replace a user's password hash (and remove its SCRAM keys). 0, or -1 as directory_user_del(). */
int directory_user_set_password(struct directory *dir, const char *address,
                                const char *password_hash, const char **error_r);

/* Store a user's SCRAM-SHA-256 keys (the text of scram_keys_format(), or
   NULL to remove them). directory_user_set_password() removes them (the
   keys of the old password must not keep working), so call this after it.
   0, or -1 as directory_user_del(). */
int directory_user_set_scram(struct directory *dir, const char *address, const char *scram,
                             const char **error_r);

/* 1 if at least one user has SCRAM keys (so SCRAM mechanisms are worth
   advertising), 0 if none, -1 on a database error. */
int directory_scram_any(struct directory *dir, const char **error_r);

/* Enable or disable a user. A disabled user cannot log in but still
   receives mail. 0, or -1 as directory_user_del(). */
int directory_user_set_enabled(struct directory *dir, const char *address, bool enabled,
                               const char **error_r);

/* Set a user's quota in bytes (0 = unlimited; DIRECTORY_QUOTA_DEFAULT for
   the default). 0, or -1 as directory_user_del(). */
int directory_user_set_quota(struct directory *dir, const char *address, uint64_t quota_bytes,
                             const char **error_r);

/* Set a user's message-count quota (0 = unlimited). 0, or -1 as
   directory_user_del(); "quota too large" past INT64_MAX. */
int directory_user_set_quota_messages(struct directory *dir, const char *address, uint64_t messages,
                                      const char **error_r);

/* A domain's default quota in bytes (schema version 5): what a user added
   to it with DIRECTORY_QUOTA_DEFAULT gets (copied at the add; later
   changes of the default leave existing users as they are). 1 with
   *bytes_r (0 = unlimited), 0 when the domain has none (users then get
   DIRECTORY_DEFAULT_QUOTA_BYTES), -1: unknown domain, database error. */
int directory_domain_quota(struct directory *dir, const char *domain, uint64_t *bytes_r,
                           const char **error_r);
/* Set (or with DIRECTORY_QUOTA_DEFAULT remove) a domain's default quota.
   0, or -1: unknown domain, too large, database error, a backend without
   domain defaults (the memory one). */
int directory_domain_set_quota(struct directory *dir, const char *domain, uint64_t bytes,
                               const char **error_r);

/* List the users of one domain (or of all when domain is NULL), sorted by
   address. On success returns 0 and *users_r is a malloc'ed array of
   *count_r users (NULL when none; free with directory_user_list_free()).
   Returns -1: unknown domain, database error. */
int directory_user_list(struct directory *dir, const char *domain, struct directory_user **users_r,
                        size_t *count_r, const char **error_r);

/* Free an array from directory_user_list() and set *users to NULL. */
void directory_user_list_free(struct directory_user **users, size_t count);

/* Find a user by address (case-insensitively, see above). Returns 1 with a
   malloc'ed *user_r (free with directory_user_free()), 0 if there is no such
   user (also when address is not a valid address, so a login name from the
   network needs no separate check), -1 on a database error. */
int directory_user_lookup(struct directory *dir, const char *address,
                          struct directory_user **user_r, const char **error_r);

/* Free a user from directory_user_lookup() and set *user to NULL. NULL is
   fine. */
void directory_user_free(struct directory_user **user);

/* --- aliases --- */

/* Add source -> destination. source is "a@example.org" or "@example.org"
   (catch-all) and its domain must be ours; destination is a full address.
   A destination in one of our domains must already receive mail (a user,
   an alias or a catch-all), so typos are caught early; a remote one is
   forwarded. Returns 0, or -1: malformed address, unknown domain, "unknown
   destination x@example.org", "alias a@d -> b@e already exists", database
   error. */
int directory_alias_add(struct directory *dir, const char *source, const char *destination,
                        const char **error_r);

/* Delete source -> destination, or every alias of source when destination
   is NULL. Returns 0, or -1: malformed address, "unknown alias ...",
   database error. */
int directory_alias_del(struct directory *dir, const char *source, const char *destination,
                        const char **error_r);

/* List the aliases whose source is in domain (all when NULL), sorted by
   source then destination. Returns 0 with a malloc'ed array (NULL when
   none; free with directory_alias_list_free()), or -1: unknown domain,
   database error. */
int directory_alias_list(struct directory *dir, const char *domain,
                         struct directory_alias **aliases_r, size_t *count_r, const char **error_r);

/* Free an array from directory_alias_list() and set *aliases to NULL. */
void directory_alias_list_free(struct directory_alias **aliases, size_t count);

/* --- recipients --- */

/* Resolve an SMTP recipient address. Rules, in order:
   1. a domain that is not ours: DIRECTORY_NOT_LOCAL;
   2. aliases of the exact address expand recursively (depth limit
      DIRECTORY_ALIAS_DEPTH_MAX, loops cut, results deduplicated); an alias
      on a user's own address replaces delivery to that user unless the
      user is one of its destinations;
   3. otherwise the user with that address (enabled or not);
   4. otherwise the domain's catch-all "@domain" aliases, expanded as in 2;
   5. otherwise DIRECTORY_UNKNOWN (also when every branch was cut).
   Destinations in domains that are not ours go to remote[].
   Returns 0 with *res_r filled (free with directory_resolution_free()),
   or -1: malformed address, database error (*res_r zeroed). */
int directory_resolve(struct directory *dir, const char *address,
                      struct directory_resolution *res_r, const char **error_r);

/* As directory_resolve(), and where that gives DIRECTORY_UNKNOWN for
   postmaster@<one of our domains> (which RFC 5321 section 4.5.1 requires
   to exist), the resolution of fallback instead (an address, local or
   remote), or with fallback NULL of the domain's first user by address;
   a domain with no user leaves it unknown. An alias, user or catch-all of
   postmaster@ itself always wins. */
int directory_resolve_postmaster(struct directory *dir, const char *address, const char *fallback,
                                 struct directory_resolution *res_r, const char **error_r);

/* Free the lists of res and zero it. A zeroed resolution is fine. */
void directory_resolution_free(struct directory_resolution *res);

#endif
