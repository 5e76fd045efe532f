/* Shared, set-associative records keyed by digest (shm-table.h). The
   mapping holds every set's lock first, then the slots, so that making a
   table writes the locks only. */
#include "lib/shm-table.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <sodium.h>

#include "lib/xalloc.h"

#define DIGEST_LEN 16

struct slot {
	uint8_t digest[DIGEST_LEN];
	uint64_t stamp;
	uint32_t used;
	uint32_t unused;
	/* then the record, value_size bytes rounded up to 8 */
};

struct shm_table {
	void *map;
	size_t map_len;
	size_t sets, value_size, slot_size;
	pthread_mutex_t *locks; /* sets of them, at the start of map */
	unsigned char *slots;   /* sets * SHM_TABLE_WAYS slots after them */
	unsigned char hash_key[crypto_generichash_KEYBYTES];
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int init_locks(struct shm_table *t)
{
	pthread_mutexattr_t attr;
	int ret = 0;

	if (pthread_mutexattr_init(&attr) != 0)
		return -1;
	if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0)
		ret = -1;
	for (size_t i = 0; ret == 0 && i < t->sets; i++) {
		if (pthread_mutex_init(&t->locks[i], &attr) != 0)
			ret = -1;
	}
	pthread_mutexattr_destroy(&attr);
	return ret;
}

static bool fill_random(unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	return true;
}

struct shm_table *shm_table_new(size_t slots, size_t value_size, const char **error_r)
{
	struct shm_table *t;

	if (value_size == 0 || value_size > SHM_TABLE_VALUE_MAX) {
		*error_r = "record size out of range";
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->sets = slots / SHM_TABLE_WAYS + (slots % SHM_TABLE_WAYS != 0 || slots == 0);
	t->value_size = value_size;
	t->slot_size = sizeof(struct slot) + round8(value_size);
	t->map_len =
	    round8(t->sets * sizeof(pthread_mutex_t)) + t->sets * SHM_TABLE_WAYS * t->slot_size;
	t->map = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->map == MAP_FAILED) {
		free(t);
		*error_r = "cannot map shared memory";
		return NULL;
	}
	t->locks = t->map;
	t->slots = (unsigned char *)t->map + round8(t->sets * sizeof(pthread_mutex_t));
	if (init_locks(t) < 0 || !fill_random(t->hash_key, sizeof(t->hash_key))) {
		munmap(t->map, t->map_len);
		free(t);
		*error_r = "cannot initialise shared locks";
		return NULL;
	}
	return t;
}

void shm_table_free(struct shm_table **tp)
{
	struct shm_table *t = *tp;

	if (t == NULL)
		return;
	munmap(t->map, t->map_len);
	free(t);
	*tp = NULL;
}

static struct slot *slot_at(struct shm_table *t, size_t set, size_t way)
{
	return (struct slot *)(t->slots + (set * SHM_TABLE_WAYS + way) * t->slot_size);
}

static void *slot_value(struct slot *s)
{
	return s + 1;
}

/* Lock set; when its last holder died holding it, clear the set first. */
static int set_lock(struct shm_table *t, size_t set)
{
	int ret = pthread_mutex_lock(&t->locks[set]);

	if (ret == EOWNERDEAD) {
		memset(slot_at(t, set, 0), 0, SHM_TABLE_WAYS * t->slot_size);
		ret = pthread_mutex_consistent(&t->locks[set]);
	}
	return ret == 0 ? 0 : -1;
}

static size_t digest_of(const struct shm_table *t, const char *key, uint8_t digest[DIGEST_LEN])
{
	uint64_t head;

	crypto_generichash(digest, DIGEST_LEN, (const unsigned char *)key, strlen(key), t->hash_key,
	                   sizeof(t->hash_key));
	memcpy(&head, digest, sizeof(head));
	return (size_t)(head % t->sets);
}

static struct slot *find(struct shm_table *t, size_t set, const uint8_t digest[DIGEST_LEN])
{
	for (size_t w = 0; w < SHM_TABLE_WAYS; w++) {
		struct slot *s = slot_at(t, set, w);

		if (s->used && memcmp(s->digest, digest, DIGEST_LEN) == 0)
			return s;
	}
	return NULL;
}

/* A free slot of set, else the one with the smallest stamp. */
static struct slot *victim(struct shm_table *t, size_t set)
{
	struct slot *oldest = NULL;

	for (size_t w = 0; w < SHM_TABLE_WAYS; w++) {
		struct slot *s = slot_at(t, set, w);

		if (!s->used)
			return s;
		if (oldest == NULL || s->stamp < oldest->stamp)
			oldest = s;
	}
	return oldest;
}

int shm_table_update(struct shm_table *t, const char *key, uint64_t stamp, shm_table_fn *fn,
                     void *context)
{
	uint8_t digest[DIGEST_LEN];
	size_t set = digest_of(t, key, digest);
	struct slot *s;
	bool fresh = false;

	if (set_lock(t, set) < 0)
		return -1;
	s = find(t, set, digest);
	if (s == NULL) {
		s = victim(t, set);
		memset(s, 0, t->slot_size);
		memcpy(s->digest, digest, DIGEST_LEN);
		s->used = 1;
		fresh = true;
	}
	s->stamp = stamp;
	fn(slot_value(s), fresh, &s->stamp, context);
	pthread_mutex_unlock(&t->locks[set]);
	return 0;
}

bool shm_table_read(struct shm_table *t, const char *key, shm_table_fn *fn, void *context)
{
	uint8_t digest[DIGEST_LEN];
	size_t set = digest_of(t, key, digest);
	struct slot *s;

	if (set_lock(t, set) < 0)
		return false;
	s = find(t, set, digest);
	if (s != NULL) {
		uint64_t stamp = s->stamp;

		fn(slot_value(s), false, &stamp, context);
	}
	pthread_mutex_unlock(&t->locks[set]);
	return s != NULL;
}

bool shm_table_remove(struct shm_table *t, const char *key)
{
	uint8_t digest[DIGEST_LEN];
	size_t set = digest_of(t, key, digest);
	struct slot *s;

	if (set_lock(t, set) < 0)
		return false;
	s = find(t, set, digest);
	if (s != NULL)
		memset(s, 0, t->slot_size);
	pthread_mutex_unlock(&t->locks[set]);
	return s != NULL;
}

void shm_table_each(struct shm_table *t, shm_table_each_fn *fn, void *context)
{
	for (size_t set = 0; set < t->sets; set++) {
		if (set_lock(t, set) < 0)
			continue;
		for (size_t w = 0; w < SHM_TABLE_WAYS; w++) {
			struct slot *s = slot_at(t, set, w);

			if (s->used && !fn(slot_value(s), context))
				memset(s, 0, t->slot_size);
		}
		pthread_mutex_unlock(&t->locks[set]);
	}
}

size_t shm_table_used(struct shm_table *t)
{
	size_t n = 0;

	for (size_t set = 0; set < t->sets; set++) {
		if (set_lock(t, set) < 0)
			continue;
		for (size_t w = 0; w < SHM_TABLE_WAYS; w++)
			n += slot_at(t, set, w)->used != 0;
		pthread_mutex_unlock(&t->locks[set]);
	}
	return n;
}

size_t shm_table_capacity(const struct shm_table *t)
{
	return t->sets * SHM_TABLE_WAYS;
}
