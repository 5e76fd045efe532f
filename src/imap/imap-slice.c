#include "imap/imap-slice.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "imap/imap-private.h"
#include "imap/imap-settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct slice_run {
	struct imap_session *s;
	imap_slice_step *step;
	void (*free_ctx)(void *ctx);
	void *ctx;
	bool held; /* has waited at the test gate */
};

/* How often a command held at the test gate looks at it again. */
#define SLICE_GATE_POLL_USEC 10000

uint64_t imap_slice_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void slice_continue(evutil_socket_t fd, short what, void *arg);

static void slice_after(struct slice_run *run, long usec)
{
	const struct timeval later = {0, usec};

	if (event_base_once(run->s->server->base, -1, EV_TIMEOUT, slice_continue, run, &later) < 0)
		log_panic("event_base_once failed");
}

static void slice_yield(struct slice_run *run)
{
	/* Not a zero timeout: libevent would run an event made active at once
	   in the same pass over the active queue, before polling the other
	   connections again. */
	slice_after(run, 1);
}

/* The test gate (imap-slice.h): true while imap { test_slice_gate } names
   a file that exists. */
static bool slice_gate_closed(const struct imap_session *s)
{
	const char *path = imap_settings(s->server->settings)->test_slice_gate;

	return path != NULL && access(path, F_OK) == 0;
}

static void slice_continue(evutil_socket_t fd, short what, void *arg)
{
	struct slice_run *run = arg;
	struct imap_session *s = run->s;

	(void)fd;
	(void)what;
	if (!s->closed && slice_gate_closed(s)) {
		if (!run->held)
			log_info(s->sid, "event=imap.slice_held");
		run->held = true;
		slice_after(run, SLICE_GATE_POLL_USEC);
		return;
	}
	if (!s->closed && run->step(run->ctx, imap_slice_now_usec() + IMAP_SLICE_USEC) == 0) {
		slice_yield(run);
		return;
	}
	run->free_ctx(run->ctx);
	free(run);
	(void)imap_session_release(s);
}

void imap_slice_run(struct imap_session *s, imap_slice_step *step, void (*free_ctx)(void *ctx),
                    void *ctx)
{
	struct slice_run *run;

	if (step(ctx, imap_slice_now_usec() + IMAP_SLICE_USEC) == 1) {
		free_ctx(ctx);
		return;
	}
	run = xcalloc(1, sizeof(*run));
	*run = (struct slice_run){s, step, free_ctx, ctx, false};
	imap_session_hold(s);
	slice_yield(run);
}
