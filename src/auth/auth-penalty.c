/* Failures per IP and their delay (auth-penalty.h), one shared record per
   address. */
#include "auth/auth-penalty.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct record {
	uint64_t last_ms;
	uint32_t count;
};

struct auth_penalty {
	struct shm_table *table;
	bool own;
};

struct shm_table *auth_penalty_table_new(const char **error_r)
{
	return shm_table_new(AUTH_PENALTY_MAX_IPS, sizeof(struct record), error_r);
}

struct auth_penalty *auth_penalty_new(struct shm_table *shared)
{
	struct auth_penalty *p = xcalloc(1, sizeof(*p));
	const char *error = NULL;

	p->table = shared;
	if (p->table == NULL) {
		p->table = auth_penalty_table_new(&error);
		if (p->table == NULL)
			log_fatal("auth: failure counter: %s", error);
		p->own = true;
	}
	return p;
}

void auth_penalty_free(struct auth_penalty **p)
{
	if (p == NULL || *p == NULL)
		return;
	if ((*p)->own)
		shm_table_free(&(*p)->table);
	free(*p);
	*p = NULL;
}

static bool forgotten(const struct record *r, uint64_t now_ms)
{
	return now_ms >= r->last_ms &&
	       now_ms - r->last_ms >= (uint64_t)AUTH_PENALTY_FORGET_S * 1000;
}

struct fail_ctx {
	uint64_t now_ms;
	unsigned count;
};

static void count_failure(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct record *r = value;
	struct fail_ctx *f = context;

	if (!fresh && forgotten(r, f->now_ms))
		r->count = 0;
	r->count++;
	r->last_ms = f->now_ms;
	f->count = r->count;
}

unsigned auth_penalty_fail(struct auth_penalty *p, const char *ip, uint64_t now_ms)
{
	struct fail_ctx f = {.now_ms = now_ms, .count = 1};
	unsigned delay = AUTH_PENALTY_FIRST_MS;

	/* a broken lock still answers with a delay, as for a first failure */
	shm_table_update(p->table, ip, now_ms, count_failure, &f);
	/* 500 ms doubled count-1 times; the cap is reached after 5 doublings,
	   so the shift stays small */
	for (unsigned i = 1; i < f.count && delay < AUTH_PENALTY_MAX_MS; i++)
		delay *= 2;
	return delay < AUTH_PENALTY_MAX_MS ? delay : AUTH_PENALTY_MAX_MS;
}

static void read_count(void *value, bool fresh, uint64_t *stamp, void *context)
{
	const struct record *r = value;
	struct fail_ctx *f = context;

	(void)fresh;
	f->count = forgotten(r, f->now_ms) ? 0 : r->count;
}

unsigned auth_penalty_count(struct auth_penalty *p, const char *ip, uint64_t now_ms)
{
	struct fail_ctx f = {.now_ms = now_ms, .count = 0};

	shm_table_read(p->table, ip, read_count, &f);
	return f.count;
}

unsigned auth_penalty_size(struct auth_penalty *p)
{
	return (unsigned)shm_table_used(p->table);
}

uint64_t auth_penalty_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
