#ifndef TERN_AUTH_AUTH_CACHE_H
#define TERN_AUTH_AUTH_CACHE_H

/*
 * The credential cache: successful password verifications remembered in
 * memory for a TTL, so a client that logs in again and again (webmail on
 * every request, phones on every reconnect) does not pay an Argon2id run
 * each time. See docs/auth.md.
 *
 * An entry is keyed by BLAKE2b(salt, user NUL password), salted with 32
 * random bytes drawn per cache (per process), and holds BLAKE2b(salt,
 * stored hash) of the hash it was verified against, plus its expiry. No
 * password and no password hash is kept. A lookup hits only when the
 * caller's current stored hash is the one of the entry, so a password
 * change misses at once (the caller fetches the user on every login;
 * disabling is checked there too), without any message between processes.
 *
 * Used on one thread (the role's loop). Times are seconds of a monotonic
 * clock given by the caller, so tests need not sleep.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries kept at most; when full, expired entries are dropped first and a
   new one is not cached if none was. */
#define AUTH_CACHE_MAX_ENTRIES 16384

struct auth_cache;

/* A cache whose entries live ttl seconds (0: a cache that never hits nor
   keeps anything). Never returns NULL. */
struct auth_cache *auth_cache_new(unsigned ttl);

/* Wipe and free every entry and the cache; NULL is fine; sets *cache NULL. */
void auth_cache_free(struct auth_cache **cache);

/* True if password of user was verified against stored_hash within the
   TTL before now. */
bool auth_cache_hit(struct auth_cache *cache, const char *user, const char *password,
                    const char *stored_hash, uint64_t now);

/* Remember that password of user matched stored_hash at now (replacing an
   older entry of the same user and password). */
void auth_cache_add(struct auth_cache *cache, const char *user, const char *password,
                    const char *stored_hash, uint64_t now);

/* Entries held (expired ones included until they are dropped). */
size_t auth_cache_count(const struct auth_cache *cache);

/* Seconds of the monotonic clock, for now. */
uint64_t auth_cache_now(void);

#endif
