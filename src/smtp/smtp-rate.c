/* Per-key hourly counters (smtp-rate.h). */
#include "smtp/smtp-rate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/xalloc.h"

struct rate_key {
	char *key;
	int64_t minute; /* the minute of the newest bucket */
	unsigned buckets[SMTP_RATE_BUCKETS];
};

struct smtp_rate {
	unsigned limit;
	ARRAY(struct rate_key) keys;
};

struct smtp_rate *smtp_rate_new(unsigned limit)
{
	struct smtp_rate *r = xcalloc(1, sizeof(*r));

	r->limit = limit;
	return r;
}

static void key_free_at(struct smtp_rate *r, size_t i)
{
	free(r->keys.items[i].key);
	array_remove(&r->keys, i);
}

void smtp_rate_free(struct smtp_rate **rp)
{
	struct smtp_rate *r = *rp;

	if (r == NULL)
		return;
	while (r->keys.count > 0)
		key_free_at(r, r->keys.count - 1);
	array_free(&r->keys);
	free(r);
	*rp = NULL;
}

/* Move k's window to the minute of now, zeroing the buckets passed. */
static void advance(struct rate_key *k, int64_t minute)
{
	int64_t gap = minute - k->minute;

	if (gap <= 0)
		return;
	if (gap >= SMTP_RATE_BUCKETS) {
		memset(k->buckets, 0, sizeof(k->buckets));
	} else {
		for (int64_t m = k->minute + 1; m <= minute; m++)
			k->buckets[m % SMTP_RATE_BUCKETS] = 0;
	}
	k->minute = minute;
}

static unsigned total(const struct rate_key *k)
{
	unsigned n = 0;

	for (size_t i = 0; i < SMTP_RATE_BUCKETS; i++)
		n += k->buckets[i];
	return n;
}

static struct rate_key *find(struct smtp_rate *r, const char *key)
{
	for (size_t i = 0; i < r->keys.count; i++) {
		if (strcmp(r->keys.items[i].key, key) == 0)
			return &r->keys.items[i];
	}
	return NULL;
}

/* Make room for one more key: drop the idle ones, else the oldest. */
static void make_room(struct smtp_rate *r, int64_t minute)
{
	size_t oldest = 0;

	for (size_t i = r->keys.count; i-- > 0;) {
		if (minute - r->keys.items[i].minute >= SMTP_RATE_BUCKETS)
			key_free_at(r, i);
	}
	if (r->keys.count < SMTP_RATE_KEYS_MAX)
		return;
	for (size_t i = 1; i < r->keys.count; i++) {
		if (r->keys.items[i].minute < r->keys.items[oldest].minute)
			oldest = i;
	}
	key_free_at(r, oldest);
}

unsigned smtp_rate_count(struct smtp_rate *r, const char *key, time_t now)
{
	struct rate_key *k = find(r, key);

	if (k == NULL)
		return 0;
	advance(k, (int64_t)now / 60);
	return total(k);
}

bool smtp_rate_allows(struct smtp_rate *r, const char *key, time_t now)
{
	return r->limit == 0 || smtp_rate_count(r, key, now) < r->limit;
}

void smtp_rate_add(struct smtp_rate *r, const char *key, time_t now)
{
	int64_t minute = (int64_t)now / 60;
	struct rate_key *k = find(r, key);

	if (k == NULL) {
		if (r->keys.count >= SMTP_RATE_KEYS_MAX)
			make_room(r, minute);
		k = array_push(&r->keys);
		memset(k, 0, sizeof(*k));
		k->key = xstrdup(key);
		k->minute = minute;
	}
	advance(k, minute);
	k->buckets[minute % SMTP_RATE_BUCKETS]++;
}
