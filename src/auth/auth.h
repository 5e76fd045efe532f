#ifndef TERN_AUTH_AUTH_H
#define TERN_AUTH_AUTH_H

/*
 * The one asynchronous login, for every service that takes a user name and
 * a password (IMAP LOGIN and AUTHENTICATE PLAIN, later POP3, SMTP AUTH and
 * ManageSieve). A login fetches the user from the directory on the worker
 * pool (directory-async.h), verifies the password there too (Argon2id is
 * slow on purpose) unless the credential cache (auth-cache.h) remembers a
 * recent success against the same stored hash, and answers on the loop
 * thread. The enabled flag is read fresh on every login, so disabling an
 * account takes effect at once even for cached credentials.
 *
 * All functions are called on the loop thread of the pool. See
 * docs/auth.md.
 */

#include <stdbool.h>

#include "auth/auth-settings.h"
#include "directory/scram-keys.h"
#include "lib/workpool.h"

enum auth_result {
	AUTH_RESULT_OK,
	AUTH_RESULT_BAD_CREDENTIALS, /* unknown user, wrong password, or a
	                                stored hash of a refused scheme */
	AUTH_RESULT_DISABLED,        /* the password is right, the account
	                                disabled */
	AUTH_RESULT_TEMPFAIL,        /* the directory failed: try again later */
};

struct auth_request {
	const char *user;     /* the login name as the client sent it */
	const char *password; /* copied; the copy is wiped when done */
	const char *service;  /* "imap", "pop3", "submission", ... for the log */
	const char *peer;     /* the client's address, for the log */
	const char *sid;      /* the session id for log lines; NULL: none */
};

struct auth_reply {
	enum auth_result result;
	/* OK and DISABLED: the address as stored in the directory (use it, not
	   the login name, for the session's user); NULL otherwise. */
	const char *user;
	/* OK: the node that holds the user's mail, for proxying once there is
	   clustering; NULL means this one (no backend stores one yet). */
	const char *home_node;
	/* Why it failed, for the log only (never for the client); NULL on OK. */
	const char *reason;
	bool cached; /* OK from the credential cache, no hash run */
};

/* The reply and its strings are valid during the callback only. */
typedef void auth_login_cb(void *ctx, const struct auth_reply *reply);

struct auth;
struct guard;
struct guard_settings;
struct shm_table;

/* Open the directory at path for logins on pool, counting failed logins
   into failures (auth_penalty_table_new; shared by the role processes, not
   owned; NULL: a table of this auth alone). Returns 0 with *auth_r, or -1
   with *error_r as directory_open(). */
int auth_new(const char *directory_path, struct workpool *pool, const struct auth_settings *set,
             struct shm_table *failures, struct auth **auth_r, const char **error_r);

/* Free the handle (NULL is fine; sets *auth to NULL). Callbacks of pending
   logins will not run; logins whose hash is being verified finish on their
   worker and are freed then, so free the pool after this. */
void auth_free(struct auth **auth);

/* Start a login; cb(ctx, reply) runs exactly once, later, on the loop
   thread, unless auth_free() comes first. The caller keeps ctx alive
   until then (a session that closes meanwhile holds itself until the
   callback, as the IMAP session does). */
void auth_login(struct auth *auth, const struct auth_request *req, auth_login_cb *cb, void *ctx);

/* --- SCRAM keys --- */

/* The answer to auth_scram_lookup(): TEMPFAIL when the directory failed;
   otherwise OK with keys, or BAD_CREDENTIALS with keys NULL (unknown user,
   a disabled one, no keys or unreadable ones: the SCRAM exchange then
   fails at the proof, like a wrong password). user is the stored address
   (NULL with BAD_CREDENTIALS); reason is for the log. Valid during the
   callback only. */
struct auth_scram_reply {
	enum auth_result result;
	const char *user;
	const struct scram_keys *keys;
	const char *reason;
};
typedef void auth_scram_cb(void *ctx, const struct auth_scram_reply *reply);

/* Look up the SCRAM keys of user (copied); cb runs exactly once, later, on
   the loop thread, unless auth_free() comes first. */
void auth_scram_lookup(struct auth *auth, const char *user, auth_scram_cb *cb, void *ctx);

/* True if the directory held SCRAM keys for some user at the last check
   (made when the handle opened, then again at most every
   AUTH_SCRAM_RECHECK_S seconds, on a worker, when asked): whether SCRAM
   mechanisms are worth advertising. */
#define AUTH_SCRAM_RECHECK_S 10
bool auth_scram_offered(struct auth *auth);

/* --- failures --- */

/* Count a failed authentication from ip and return the milliseconds to
   wait before answering it (auth-penalty.h). With a guard set, the
   failure counts there too, and a ban it starts is logged here
   (event=guard.ban). */
unsigned auth_failure(struct auth *auth, const char *ip);

/* Count failures into guard with set's rules (both must outlive auth);
   NULL: none (tests, tools). */
void auth_set_guard(struct auth *auth, struct guard *guard, const struct guard_settings *set);

/* The failures counted for ip (the guard's hook). */
unsigned auth_failures(struct auth *auth, const char *ip);

/* Logins answered from the cache, and entries in it (for tests and
   metrics). */
unsigned long auth_cache_hits(const struct auth *auth);
size_t auth_cache_entries(const struct auth *auth);

#endif
