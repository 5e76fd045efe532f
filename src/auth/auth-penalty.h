#ifndef TERN_AUTH_AUTH_PENALTY_H
#define TERN_AUTH_AUTH_PENALTY_H

/*
 * Failed logins counted per client IP, and the delay before each failure
 * is answered: AUTH_PENALTY_FIRST_MS for the first, doubling with each
 * failure up to AUTH_PENALTY_MAX_MS; an IP with no failure for
 * AUTH_PENALTY_FORGET_S seconds is forgotten. A success does not reset the
 * count (one known account must not let an attacker wipe its record).
 * The count is the hook of the later guard (auto-ban). See docs/auth.md.
 *
 * The counts live in a shared table (lib/shm-table.h) the supervisor
 * makes before it forks the roles, so every smtp and imap process counts
 * into the same record per IP. Times are milliseconds of the monotonic
 * clock (one clock for all processes) given by the caller, so tests need
 * not sleep. About AUTH_PENALTY_MAX_IPS addresses are kept; when a key's
 * set is full, the address idle longest there is dropped.
 */

#include <stdint.h>

#include "lib/shm-table.h"

#define AUTH_PENALTY_FIRST_MS 500
#define AUTH_PENALTY_MAX_MS   15000
#define AUTH_PENALTY_FORGET_S 600
#define AUTH_PENALTY_MAX_IPS  16384

struct auth_penalty;

/* Counting into shared (made with auth_penalty_table_new, not owned, must
   outlive the result); shared NULL: a table of this process alone. Never
   returns NULL (a table that cannot be mapped is fatal). */
struct auth_penalty *auth_penalty_new(struct shm_table *shared);

/* A table for auth_penalty_new to share, for AUTH_PENALTY_MAX_IPS
   addresses. Returns NULL with a static reason in *error_r. */
struct shm_table *auth_penalty_table_new(const char **error_r);

/* Free the table; NULL is fine; sets *p to NULL. */
void auth_penalty_free(struct auth_penalty **p);

/* Count a failure from ip at now_ms; returns the delay in milliseconds
   before it is answered. */
unsigned auth_penalty_fail(struct auth_penalty *p, const char *ip, uint64_t now_ms);

/* The failures counted for ip at now_ms (0 if none or forgotten). */
unsigned auth_penalty_count(struct auth_penalty *p, const char *ip, uint64_t now_ms);

/* Addresses held (forgotten ones included until dropped). */
unsigned auth_penalty_size(struct auth_penalty *p);

/* Milliseconds of the monotonic clock. */
uint64_t auth_penalty_now_ms(void);

#endif
