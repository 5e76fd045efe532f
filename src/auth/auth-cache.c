#include "auth/auth-cache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/xalloc.h"

#define BUCKETS   4096 /* a power of two */
#define HASH_SIZE crypto_generichash_BYTES

struct entry {
	unsigned char key[HASH_SIZE];      /* of user and password */
	unsigned char verifier[HASH_SIZE]; /* of the stored hash */
	uint64_t expires;
	struct entry *next;
};

struct auth_cache {
	unsigned ttl;
	unsigned char salt[crypto_generichash_KEYBYTES];
	struct entry *buckets[BUCKETS];
	size_t count;
};

struct auth_cache *auth_cache_new(unsigned ttl)
{
	struct auth_cache *cache = xcalloc(1, sizeof(*cache));

	if (sodium_init() < 0)
		abort(); /* no randomness source: nothing here can work */
	cache->ttl = ttl;
	randombytes_buf(cache->salt, sizeof(cache->salt));
	return cache;
}

static void entry_free(struct entry *e)
{
	sodium_memzero(e, sizeof(*e));
	free(e);
}

void auth_cache_free(struct auth_cache **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		while ((*cache)->buckets[i] != NULL) {
			struct entry *e = (*cache)->buckets[i];

			(*cache)->buckets[i] = e->next;
			entry_free(e);
		}
	}
	sodium_memzero(*cache, sizeof(**cache));
	free(*cache);
	*cache = NULL;
}

static void make_key(const struct auth_cache *cache, const char *user, const char *password,
                     unsigned char key[HASH_SIZE])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, cache->salt, sizeof(cache->salt), HASH_SIZE);
	/* the NUL keeps ("ab", "c") and ("a", "bc") apart */
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)password, strlen(password));
	crypto_generichash_final(&st, key, HASH_SIZE);
	sodium_memzero(&st, sizeof(st));
}

static void make_verifier(const struct auth_cache *cache, const char *stored_hash,
                          unsigned char out[HASH_SIZE])
{
	crypto_generichash(out, HASH_SIZE, (const unsigned char *)stored_hash, strlen(stored_hash),
	                   cache->salt, sizeof(cache->salt));
}

static struct entry **bucket_of(struct auth_cache *cache, const unsigned char key[HASH_SIZE])
{
	size_t i;

	memcpy(&i, key, sizeof(i));
	return &cache->buckets[i & (BUCKETS - 1)];
}

/* Drop the expired entries of one bucket. */
static void bucket_expire(struct auth_cache *cache, struct entry **b, uint64_t now)
{
	while (*b != NULL) {
		struct entry *e = *b;

		if (e->expires <= now) {
			*b = e->next;
			entry_free(e);
			cache->count--;
		} else {
			b = &e->next;
		}
	}
}

static struct entry *find(struct entry *e, const unsigned char key[HASH_SIZE])
{
	for (; e != NULL; e = e->next) {
		if (sodium_memcmp(e->key, key, HASH_SIZE) == 0)
			return e;
	}
	return NULL;
}

bool auth_cache_hit(struct auth_cache *cache, const char *user, const char *password,
                    const char *stored_hash, uint64_t now)
{
	unsigned char key[HASH_SIZE], verifier[HASH_SIZE];
	struct entry **b, *e;

	if (cache->ttl == 0)
		return false;
	make_key(cache, user, password, key);
	b = bucket_of(cache, key);
	bucket_expire(cache, b, now);
	e = find(*b, key);
	sodium_memzero(key, sizeof(key));
	if (e == NULL)
		return false;
	make_verifier(cache, stored_hash, verifier);
	return sodium_memcmp(e->verifier, verifier, HASH_SIZE) == 0;
}

void auth_cache_add(struct auth_cache *cache, const char *user, const char *password,
                    const char *stored_hash, uint64_t now)
{
	unsigned char key[HASH_SIZE];
	struct entry **b, *e;

	if (cache->ttl == 0)
		return;
	make_key(cache, user, password, key);
	b = bucket_of(cache, key);
	bucket_expire(cache, b, now);
	if ((e = find(*b, key)) == NULL) {
		if (cache->count >= AUTH_CACHE_MAX_ENTRIES) {
			for (size_t i = 0; i < BUCKETS; i++)
				bucket_expire(cache, &cache->buckets[i], now);
		}
		if (cache->count >= AUTH_CACHE_MAX_ENTRIES) {
			sodium_memzero(key, sizeof(key));
			return;
		}
		e = xcalloc(1, sizeof(*e));
		memcpy(e->key, key, HASH_SIZE);
		e->next = *b;
		*b = e;
		cache->count++;
	}
	make_verifier(cache, stored_hash, e->verifier);
	e->expires = now + cache->ttl;
	sodium_memzero(key, sizeof(key));
}

size_t auth_cache_count(const struct auth_cache *cache)
{
	return cache->count;
}

uint64_t auth_cache_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}
