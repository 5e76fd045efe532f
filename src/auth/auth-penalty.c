/* Failures per IP and their delay (auth-penalty.h). A flat array searched
   linearly: it is touched only on failures and holds a few thousand
   entries at most. */
#include "auth/auth-penalty.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/array.h"
#include "lib/xalloc.h"

#define IP_MAX 64

struct entry {
	char ip[IP_MAX];
	unsigned count;
	uint64_t last_ms;
};

struct auth_penalty {
	ARRAY(struct entry) entries;
};

struct auth_penalty *auth_penalty_new(void)
{
	return xcalloc(1, sizeof(struct auth_penalty));
}

void auth_penalty_free(struct auth_penalty **p)
{
	if (p == NULL || *p == NULL)
		return;
	array_free(&(*p)->entries);
	free(*p);
	*p = NULL;
}

static bool forgotten(const struct entry *e, uint64_t now_ms)
{
	return now_ms >= e->last_ms &&
	       now_ms - e->last_ms >= (uint64_t)AUTH_PENALTY_FORGET_S * 1000;
}

static struct entry *find(const struct auth_penalty *p, const char *ip)
{
	for (size_t i = 0; i < p->entries.count; i++) {
		if (strcmp(p->entries.items[i].ip, ip) == 0)
			return &p->entries.items[i];
	}
	return NULL;
}

/* A slot for a new address: a new one while there is room, else a
   forgotten one, else the one idle longest. */
static struct entry *slot(struct auth_penalty *p, uint64_t now_ms)
{
	struct entry *oldest = NULL;

	if (p->entries.count < AUTH_PENALTY_MAX_IPS)
		return array_push(&p->entries);
	for (size_t i = 0; i < p->entries.count; i++) {
		struct entry *e = &p->entries.items[i];

		if (forgotten(e, now_ms))
			return e;
		if (oldest == NULL || e->last_ms < oldest->last_ms)
			oldest = e;
	}
	return oldest;
}

unsigned auth_penalty_fail(struct auth_penalty *p, const char *ip, uint64_t now_ms)
{
	struct entry *e = find(p, ip);
	unsigned delay = AUTH_PENALTY_FIRST_MS;

	if (e != NULL && forgotten(e, now_ms))
		e->count = 0;
	if (e == NULL) {
		e = slot(p, now_ms);
		memset(e, 0, sizeof(*e));
		strncpy(e->ip, ip, IP_MAX - 1);
	}
	e->count++;
	e->last_ms = now_ms;
	/* 500 ms doubled count-1 times; the cap is reached after 5 doublings,
	   so the shift stays small */
	for (unsigned i = 1; i < e->count && delay < AUTH_PENALTY_MAX_MS; i++)
		delay *= 2;
	return delay < AUTH_PENALTY_MAX_MS ? delay : AUTH_PENALTY_MAX_MS;
}

unsigned auth_penalty_count(const struct auth_penalty *p, const char *ip, uint64_t now_ms)
{
	const struct entry *e = find(p, ip);

	return e == NULL || forgotten(e, now_ms) ? 0 : e->count;
}

unsigned auth_penalty_size(const struct auth_penalty *p)
{
	return (unsigned)p->entries.count;
}

uint64_t auth_penalty_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
