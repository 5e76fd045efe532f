/* Periodic guard_store_sync on a worker (guard-sync.h). */
#include "guard/guard-sync.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "guard/guard-store.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct guard_sync {
	struct event_base *base;
	struct workpool *pool;
	struct guard *guard;
	const struct guard_settings *set;
	char *path;
	struct event *timer;
	struct guard_store *store; /* touched by the worker only */
	bool running, stopped;
	/* the round's outcome, for the loop thread */
	int written;
	char *error;
};

static void sync_free(struct guard_sync *s)
{
	guard_store_close(&s->store);
	if (s->timer != NULL)
		event_free(s->timer);
	free(s->error);
	free(s->path);
	free(s);
}

static void sync_work(void *ctx)
{
	struct guard_sync *s = ctx;

	s->written = 0;
	if (s->store == NULL && guard_store_open(s->path, &s->store, &s->error) < 0)
		return;
	/* rows are kept for the offences until they no longer count */
	s->written =
	    guard_store_sync(s->store, s->guard, time(NULL), s->set->ban_time_max, &s->error);
	if (s->written < 0)
		guard_store_close(&s->store);
}

static void arm(struct guard_sync *s)
{
	struct timeval tv = {GUARD_SYNC_SECONDS, 0};

	evtimer_add(s->timer, &tv);
}

static void sync_done(void *ctx)
{
	struct guard_sync *s = ctx;

	s->running = false;
	if (s->stopped) {
		sync_free(s);
		return;
	}
	if (s->error != NULL) {
		log_error(NULL, "event=guard.sync_failed error=\"%s\"", s->error);
		free(s->error);
		s->error = NULL;
	} else if (s->written > 0) {
		log_info(NULL, "event=guard.bans_saved count=%d", s->written);
	}
	arm(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct guard_sync *s = arg;

	(void)fd;
	(void)what;
	s->running = true;
	workpool_submit(s->pool, sync_work, sync_done, s);
}

struct guard_sync *guard_sync_start(struct event_base *base, struct workpool *pool,
                                    struct guard *guard, const struct guard_settings *set,
                                    const char *path)
{
	struct guard_sync *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->pool = pool;
	s->guard = guard;
	s->set = set;
	s->path = xstrdup(path);
	s->timer = evtimer_new(base, on_timer, s);
	on_timer(-1, 0, s);
	return s;
}

void guard_sync_stop(struct guard_sync **sp)
{
	struct guard_sync *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	event_del(s->timer);
	if (s->running)
		s->stopped = true;
	else
		sync_free(s);
}
