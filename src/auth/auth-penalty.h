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
 * One table per role process, used on its loop thread. Times are
 * milliseconds of a monotonic clock given by the caller, so tests need not
 * sleep. At most AUTH_PENALTY_MAX_IPS addresses are kept; when full,
 * forgotten ones are dropped, else the one idle longest.
 */

#include <stdint.h>

#define AUTH_PENALTY_FIRST_MS 500
#define AUTH_PENALTY_MAX_MS   15000
#define AUTH_PENALTY_FORGET_S 600
#define AUTH_PENALTY_MAX_IPS  4096

struct auth_penalty;

/* An empty table. Never returns NULL. */
struct auth_penalty *auth_penalty_new(void);

/* Free the table; NULL is fine; sets *p to NULL. */
void auth_penalty_free(struct auth_penalty **p);

/* Count a failure from ip at now_ms; returns the delay in milliseconds
   before it is answered. */
unsigned auth_penalty_fail(struct auth_penalty *p, const char *ip, uint64_t now_ms);

/* The failures counted for ip at now_ms (0 if none or forgotten). */
unsigned auth_penalty_count(const struct auth_penalty *p, const char *ip, uint64_t now_ms);

/* Addresses held (forgotten ones included until dropped). */
unsigned auth_penalty_size(const struct auth_penalty *p);

/* Milliseconds of the monotonic clock. */
uint64_t auth_penalty_now_ms(void);

#endif
