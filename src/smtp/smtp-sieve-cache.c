/* The per-process cache of compiled scripts: see smtp-sieve-private.h.
   Keyed by path, mtime and size; an entry replaced or evicted while a run
   holds it is freed by the last smtp_sieve_cache_put(). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "sieve/sieve-settings.h"
#include "sieve/sieve-store.h"
#include "smtp/smtp-sieve-private.h"
#include "smtp/smtp-sieve.h"

#define CACHE_MAX 256

struct cache_entry {
	char *path;
	struct timespec mtime;
	off_t size;
	struct sieve_script *script;
	unsigned refs;
	bool dead; /* no longer in the table: free at the last put */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry *cache[CACHE_MAX];
static size_t cache_count;
static unsigned long cache_compiled, cache_reused;

static void entry_unref(struct cache_entry *e)
{
	if (--e->refs == 0 && e->dead) {
		sieve_script_free(&e->script);
		free(e->path);
		free(e);
	}
}

/* Take e out of the table (under the lock). */
static void entry_drop(size_t i)
{
	struct cache_entry *e = cache[i];

	cache[i] = cache[--cache_count];
	e->dead = true;
	e->refs++;
	entry_unref(e);
}

static struct cache_entry *lookup(const char *path, const struct stat *st)
{
	for (size_t i = 0; i < cache_count; i++) {
		struct cache_entry *e = cache[i];

		if (strcmp(e->path, path) != 0)
			continue;
		if (e->size == st->st_size && e->mtime.tv_sec == st->st_mtim.tv_sec &&
		    e->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return e;
		entry_drop(i);
		return NULL;
	}
	return NULL;
}

static int compile(const char *path, const struct stat *st, struct sieve_script **script_r,
                   char **error_r)
{
	size_t max = smtp_sieve_env.set != NULL ? smtp_sieve_env.set->max_script_size : 1 << 20;
	struct sieve_limits limits = sieve_limits_default();
	struct sieve_error err;
	const char *error;
	char *text;
	size_t len;

	(void)st;
	if (sieve_store_read(path, max, &text, &len, &error) < 0) {
		*error_r = xstrdup(error);
		return -1;
	}
	if (smtp_sieve_env.set != NULL)
		limits.max_redirects = smtp_sieve_env.set->max_redirects;
	limits.max_script_size = max;
	if (sieve_compile(text, len, &limits, script_r, &err) < 0) {
		*error_r = xasprintf("%u:%u: %s", err.line, err.column, err.message);
		free(text);
		return -1;
	}
	free(text);
	log_info(NULL, "event=sieve.compile path=\"%s\" size=%zu pid=%ld", path, len,
	         (long)getpid());
	return 0;
}

int smtp_sieve_cache_get(const char *path, const struct sieve_script **script_r, void **ref_r,
                         char **error_r)
{
	struct cache_entry *e;
	struct sieve_script *script;
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : (*error_r = xstrdup("cannot stat the script"), -1);
	pthread_mutex_lock(&cache_lock);
	e = lookup(path, &st);
	if (e != NULL) {
		e->refs++;
		cache_reused++;
		pthread_mutex_unlock(&cache_lock);
		*script_r = e->script;
		*ref_r = e;
		return 1;
	}
	pthread_mutex_unlock(&cache_lock);
	/* compiled outside the lock; two threads may both compile once */
	if (compile(path, &st, &script, error_r) < 0)
		return -1;
	e = xcalloc(1, sizeof(*e));
	e->path = xstrdup(path);
	e->mtime = st.st_mtim;
	e->size = st.st_size;
	e->script = script;
	e->refs = 1; /* refs count the runs holding it, not the table */
	pthread_mutex_lock(&cache_lock);
	cache_compiled++;
	if (cache_count == CACHE_MAX)
		entry_drop(0);
	cache[cache_count++] = e;
	pthread_mutex_unlock(&cache_lock);
	*script_r = script;
	*ref_r = e;
	return 1;
}

void smtp_sieve_cache_put(void *ref)
{
	if (ref == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	entry_unref(ref);
	pthread_mutex_unlock(&cache_lock);
}

void smtp_sieve_cache_stats(unsigned long *compiled_r, unsigned long *reused_r)
{
	pthread_mutex_lock(&cache_lock);
	*compiled_r = cache_compiled;
	*reused_r = cache_reused;
	pthread_mutex_unlock(&cache_lock);
}
