#ifndef TERN_GUARD_GUARD_H
#define TERN_GUARD_GUARD_H

/*
 * Brute-force protection (docs/guard.md): failed logins from every
 * protocol are counted per client network, an IPv4 address or an IPv6
 * /64; when max_failures of them fall within window, the network is
 * banned for ban_time, doubled for each earlier ban up to ban_time_max.
 * A banned network's connections are closed at accept, with no banner.
 * Networks in the allow list are never counted nor banned. Accounts are
 * not locked: the per-IP delay of auth-penalty.h slows guessing, and a
 * ban is of the attacker's network, so the account's owner elsewhere
 * still logs in.
 *
 * The records live in a table shared by every role process (made by
 * `tern serve` before the first fork, lib/shm-table.h), so a ban set by
 * one process holds in all. Bans survive restarts through the directory
 * database: the supervisor writes new ones and reads admin changes
 * (guard-store.h). Times are Unix seconds given by the caller, so tests
 * use a fake clock.
 */

#include <stdbool.h>
#include <time.h>

#include "guard/guard-settings.h"
#include "lib/shm-table.h"

/* Room for any IPv6 text with "/64", and any IPv4 address. */
#define GUARD_KEY_MAX 64
/* Networks the table keeps (about; it is set-associative). */
#define GUARD_NETWORKS 16384

struct guard;

struct guard_ban {
	const char *key; /* as guard_key gives it */
	time_t until;
	unsigned offences; /* bans so far, this one included */
};

/* A table for guard_new to share. NULL with a static reason in *error_r. */
struct shm_table *guard_table_new(const char **error_r);

/* A guard on shared (not owned, must outlive it); shared NULL: a table of
   its own. Never returns NULL (a table that cannot be mapped is fatal). */
struct guard *guard_new(struct shm_table *shared);

/* NULL is fine; sets *guard NULL. */
void guard_free(struct guard **guard);

/* The network ip counts as: an IPv4 address itself ("192.0.2.1", also
   from "::ffff:192.0.2.1"), the /64 of an IPv6 one ("2001:db8:1:2::/64").
   Returns false when ip does not parse ("unix", "unknown"). */
bool guard_key(const char *ip, char key[GUARD_KEY_MAX]);

/* Count a failed login from ip at now. Returns the seconds of the ban
   this failure started (only this call sees it: log the ban here), else
   0. Nothing is counted when the guard is disabled, ip is allowed or does
   not parse, or its network is banned already. */
unsigned guard_failure(struct guard *guard, const struct guard_settings *set, const char *ip,
                       time_t now);

/* True if ip's network is banned at now (never when disabled or allowed);
 *until_r (may be NULL) is when the ban ends. */
bool guard_banned(struct guard *guard, const struct guard_settings *set, const char *ip, time_t now,
                  time_t *until_r);

/* Ban key (as guard_key gives it, or an address it turns into one) until,
   with offences bans so far: an admin's ban, or one read back from the
   database. A ban already in force that ends later is kept (so a ban set
   meanwhile by a process is never shortened), and the larger offences.
   until 0 lifts the ban and forgets the network. Not marked as changed.
   Returns false if key does not parse. */
bool guard_set_ban(struct guard *guard, const char *key, time_t until, unsigned offences);

/* Call fn for every ban in force at now. changed_only: only bans set by
   guard_failure since the last such call (then no longer marked), for
   the supervisor to write them down. */
typedef void guard_ban_fn(const struct guard_ban *ban, void *context);
void guard_each_ban(struct guard *guard, time_t now, bool changed_only, guard_ban_fn *fn,
                    void *context);

#endif
