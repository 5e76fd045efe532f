/* Per-key hourly counters (smtp-rate.h), one shared record per key. */
#include "smtp/smtp-rate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct record {
	int64_t minute; /* the minute of the newest bucket */
	uint16_t buckets[SMTP_RATE_BUCKETS];
};

struct smtp_rate {
	unsigned limit;
	struct shm_table *table;
	bool own;
};

struct shm_table *smtp_rate_table_new(const char **error_r)
{
	return shm_table_new(SMTP_RATE_KEYS_MAX, sizeof(struct record), error_r);
}

struct smtp_rate *smtp_rate_new(unsigned limit, struct shm_table *shared)
{
	struct smtp_rate *r = xcalloc(1, sizeof(*r));
	const char *error = NULL;

	r->limit = limit;
	r->table = shared;
	if (r->table == NULL) {
		r->table = smtp_rate_table_new(&error);
		if (r->table == NULL)
			log_fatal("smtp: rate counter: %s", error);
		r->own = true;
	}
	return r;
}

void smtp_rate_free(struct smtp_rate **rp)
{
	struct smtp_rate *r = *rp;

	if (r == NULL)
		return;
	if (r->own)
		shm_table_free(&r->table);
	free(r);
	*rp = NULL;
}

/* Move k's window to the minute of now, zeroing the buckets passed. */
static void advance(struct record *k, int64_t minute)
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

static unsigned total(const struct record *k)
{
	unsigned n = 0;

	for (size_t i = 0; i < SMTP_RATE_BUCKETS; i++)
		n += k->buckets[i];
	return n;
}

struct visit {
	int64_t minute;
	unsigned count;
};

static void read_total(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct visit *v = context;

	(void)fresh;
	advance(value, v->minute);
	v->count = total(value);
}

unsigned smtp_rate_count(struct smtp_rate *r, const char *key, time_t now)
{
	struct visit v = {.minute = (int64_t)now / 60};

	shm_table_read(r->table, key, read_total, &v);
	return v.count;
}

bool smtp_rate_allows(struct smtp_rate *r, const char *key, time_t now)
{
	return r->limit == 0 || smtp_rate_count(r, key, now) < r->limit;
}

static void count_one(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct record *k = value;
	struct visit *v = context;
	uint16_t *bucket;

	if (fresh)
		k->minute = v->minute;
	advance(k, v->minute);
	bucket = &k->buckets[v->minute % SMTP_RATE_BUCKETS];
	if (*bucket < UINT16_MAX) /* saturates: 65,535 a minute is past any limit */
		(*bucket)++;
}

void smtp_rate_add(struct smtp_rate *r, const char *key, time_t now)
{
	struct visit v = {.minute = (int64_t)now / 60};

	shm_table_update(r->table, key, (uint64_t)v.minute, count_one, &v);
}
