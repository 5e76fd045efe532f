/* Failure counting and bans per network (guard.h), one shared record per
   network holding the times of its recent failures. */
#include "guard/guard.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct record {
	char key[GUARD_KEY_MAX];
	int64_t fails[GUARD_MAX_FAILURES_MAX]; /* a ring of failure times */
	uint32_t fail_count;                   /* entries in the ring */
	uint32_t fail_next;                    /* where the next one goes */
	int64_t banned_until;
	uint32_t offences;
	uint32_t changed; /* a ban not yet handed to guard_each_ban(changed_only) */
};

struct guard {
	struct shm_table *table;
	bool own;
};

struct shm_table *guard_table_new(const char **error_r)
{
	return shm_table_new(GUARD_NETWORKS, sizeof(struct record), error_r);
}

struct guard *guard_new(struct shm_table *shared)
{
	struct guard *g = xcalloc(1, sizeof(*g));
	const char *error = NULL;

	g->table = shared;
	if (g->table == NULL) {
		g->table = guard_table_new(&error);
		if (g->table == NULL)
			log_fatal("guard: table: %s", error);
		g->own = true;
	}
	return g;
}

void guard_free(struct guard **gp)
{
	struct guard *g = *gp;

	if (g == NULL)
		return;
	if (g->own)
		shm_table_free(&g->table);
	free(g);
	*gp = NULL;
}

static bool key_of_v6(const unsigned char a[16], char key[GUARD_KEY_MAX])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char net[16] = {0};
	char text[INET6_ADDRSTRLEN];

	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return inet_ntop(AF_INET, a + 12, key, GUARD_KEY_MAX) != NULL;
	memcpy(net, a, 8);
	if (inet_ntop(AF_INET6, net, text, sizeof(text)) == NULL)
		return false;
	snprintf(key, GUARD_KEY_MAX, "%s/64", text);
	return true;
}

bool guard_key(const char *ip, char key[GUARD_KEY_MAX])
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN + 4];
	const char *slash = strchr(ip, '/');
	size_t len = slash != NULL ? (size_t)(slash - ip) : strlen(ip);

	/* a key given back ("2001:db8::/64") is its own key */
	if (len >= sizeof(text) || (slash != NULL && strcmp(slash, "/64") != 0))
		return false;
	memcpy(text, ip, len);
	text[len] = '\0';
	if (slash == NULL && inet_pton(AF_INET, text, a) == 1)
		return inet_ntop(AF_INET, a, key, GUARD_KEY_MAX) != NULL;
	if (inet_pton(AF_INET6, text, a) == 1)
		return key_of_v6(a, key);
	return false;
}

/* The seconds of the next ban after offences earlier ones. */
static unsigned ban_seconds(const struct guard_settings *set, unsigned offences)
{
	uint64_t s = set->ban_time;

	for (unsigned i = 0; i < offences && s < set->ban_time_max; i++)
		s *= 2;
	return (unsigned)(s < set->ban_time_max ? s : set->ban_time_max);
}

struct failure {
	const struct guard_settings *set;
	const char *key;
	int64_t now;
	unsigned ban;
};

static unsigned recent_failures(const struct record *r, int64_t now, unsigned window)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < r->fail_count; i++)
		n += r->fails[i] > now - (int64_t)window;
	return n;
}

static void count_failure(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct record *r = value;
	struct failure *f = context;
	unsigned cap = f->set->max_failures;

	if (fresh)
		snprintf(r->key, sizeof(r->key), "%s", f->key);
	if (r->banned_until > f->now)
		return;
	if (r->offences > 0 && f->now - r->banned_until > (int64_t)f->set->ban_time_max)
		r->offences = 0;
	r->fails[r->fail_next % cap] = f->now;
	r->fail_next = (r->fail_next + 1) % cap;
	if (r->fail_count < cap)
		r->fail_count++;
	if (recent_failures(r, f->now, f->set->window) < cap)
		return;
	f->ban = ban_seconds(f->set, r->offences);
	r->banned_until = f->now + f->ban;
	/* a ban ranks by its end, so one-off failures elsewhere cannot
	   evict it while it holds */
	*stamp = (uint64_t)r->banned_until;
	r->offences++;
	r->fail_count = r->fail_next = 0;
	r->changed = 1;
}

static bool counted(const struct guard_settings *set, const char *ip, char key[GUARD_KEY_MAX])
{
	return set->enabled && guard_key(ip, key) &&
	       !ip_in_networks(ip, set->allow, set->allow_count);
}

unsigned guard_failure(struct guard *g, const struct guard_settings *set, const char *ip,
                       time_t now)
{
	char key[GUARD_KEY_MAX];
	struct failure f = {.set = set, .key = key, .now = now};

	if (!counted(set, ip, key))
		return 0;
	shm_table_update(g->table, key, (uint64_t)now, count_failure, &f);
	return f.ban;
}

static void read_until(void *value, bool fresh, uint64_t *stamp, void *context)
{
	(void)fresh;
	*(int64_t *)context = ((const struct record *)value)->banned_until;
}

bool guard_banned(struct guard *g, const struct guard_settings *set, const char *ip, time_t now,
                  time_t *until_r)
{
	char key[GUARD_KEY_MAX];
	int64_t until = 0;

	if (!counted(set, ip, key) || !shm_table_read(g->table, key, read_until, &until) ||
	    until <= now)
		return false;
	if (until_r != NULL)
		*until_r = (time_t)until;
	return true;
}

struct setting {
	const char *key;
	int64_t until;
	unsigned offences;
};

static void set_ban(void *value, bool fresh, uint64_t *stamp, void *context)
{
	struct record *r = value;
	const struct setting *s = context;

	(void)fresh;
	snprintf(r->key, sizeof(r->key), "%s", s->key);
	if (s->until > r->banned_until)
		r->banned_until = s->until;
	if (s->offences > r->offences)
		r->offences = s->offences;
	r->fail_count = r->fail_next = 0;
}

bool guard_set_ban(struct guard *g, const char *ip, time_t until, unsigned offences)
{
	char key[GUARD_KEY_MAX];
	struct setting s = {.key = key, .until = until, .offences = offences};

	if (!guard_key(ip, key))
		return false;
	if (until == 0)
		shm_table_remove(g->table, key);
	else
		shm_table_update(g->table, key, (uint64_t)until, set_ban, &s);
	return true;
}

struct each {
	int64_t now;
	bool changed_only;
	guard_ban_fn *fn;
	void *context;
};

static bool visit_ban(void *value, void *context)
{
	struct record *r = value;
	struct each *e = context;
	struct guard_ban ban = {
	    .key = r->key, .until = (time_t)r->banned_until, .offences = r->offences};

	if (r->banned_until <= e->now || (e->changed_only && !r->changed))
		return true;
	if (e->changed_only)
		r->changed = 0;
	e->fn(&ban, e->context);
	return true;
}

void guard_each_ban(struct guard *g, time_t now, bool changed_only, guard_ban_fn *fn, void *context)
{
	struct each e = {.now = now, .changed_only = changed_only, .fn = fn, .context = context};

	shm_table_each(g->table, visit_ban, &e);
}
