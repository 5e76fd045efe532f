/* The records of a queue entry on their way to disk: see queue-private.h
   ("queue-write.c"). The fsyncs (the state append, the bounce's new
   spool entry) run on the role's worker pool; one record per entry at a
   time, in order. */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "outbound/queue-private.h"
#include "queue/bounce.h"
#include "queue/dsn.h"

struct queue_write {
	struct queue_role *q;
	struct queue_entry *e;
	int64_t time;
	struct buf lines; /* the lines of recipients not failed for good */
	/* recipients failed for good: their report is written first (a crash
	   in between can only repeat it), then their lines */
	ARRAY(unsigned) failed;
	ARRAY(struct smtp_client_result) failed_res; /* own copies */
	ARRAY(struct queue_state_event) failed_ev;   /* own strings */
	/* set by the worker */
	int bounce_ret; /* bounce_write(): 1 written, 0 none needed, -1 failed */
	char *bounce_id;
	const char *bounce_error;
	int state_ret;
	const char *state_error;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct queue_write *queue_write_new(struct queue_role *q, struct queue_entry *e, int64_t t)
{
	struct queue_write *w = xcalloc(1, sizeof(*w));

	w->q = q;
	w->e = e;
	w->time = t;
	w->lines = (struct buf)BUF_INIT;
	return w;
}

void queue_write_event(struct queue_write *w, const struct queue_state_event *ev)
{
	queue_state_format(ev, &w->lines);
}

void queue_write_failed(struct queue_write *w, const struct queue_state_event *ev,
                        const struct smtp_client_result *res)
{
	struct queue_state_event copy = *ev;
	struct smtp_client_result r = {.code = res->code, .text = dup_or_null(res->text)};

	snprintf(r.enhanced, sizeof(r.enhanced), "%s", res->enhanced);
	copy.status = dup_or_null(ev->status);
	copy.mx = dup_or_null(ev->mx);
	copy.ip = dup_or_null(ev->ip);
	copy.tls = dup_or_null(ev->tls);
	copy.text = dup_or_null(ev->text);
	array_append(&w->failed, ev->rcpt);
	array_append(&w->failed_res, r);
	array_append(&w->failed_ev, copy);
}

bool queue_write_empty(const struct queue_write *w)
{
	return w->lines.len == 0 && w->failed.count == 0;
}

static void write_free(struct queue_write *w)
{
	for (size_t i = 0; i < w->failed.count; i++) {
		struct queue_state_event *ev = &w->failed_ev.items[i];

		free((char *)ev->status);
		free((char *)ev->mx);
		free((char *)ev->ip);
		free((char *)ev->tls);
		free((char *)ev->text);
		smtp_client_result_clear(&w->failed_res.items[i]);
	}
	array_free(&w->failed);
	array_free(&w->failed_res);
	array_free(&w->failed_ev);
	buf_free(&w->lines);
	free(w->bounce_id);
	free(w);
}

/* On a worker: the report of the failed recipients (RFC 3464 into the
   spool), then every line in one append and fdatasync. */
static void write_work(void *ctx)
{
	struct queue_write *w = ctx;
	struct queue_role *q = w->q;
	struct queue_entry *e = w->e;

	w->bounce_ret = 0;
	if (w->failed.count > 0)
		w->bounce_ret = queue_bounce_write(q, &e->env, e->data_path, w->failed.items,
		                                   w->failed_res.items, w->failed.count, w->time,
		                                   &w->bounce_id, &w->bounce_error);
	for (size_t i = 0; i < w->failed.count; i++) {
		struct queue_state_event *ev = &w->failed_ev.items[i];

		/* unreported: pending for its report, retried at ev->next */
		ev->kind = w->bounce_ret < 0 ? QUEUE_EVENT_UNREPORTED : QUEUE_EVENT_FAILED;
		queue_state_format(ev, &w->lines);
	}
	w->state_ret = queue_state_append(e->state_path, &w->lines, &w->state_error);
}

static void chain_next(struct queue_entry *e);

/* On the loop: what the worker did, into the entry's state. */
static void write_done(void *ctx)
{
	struct queue_write *w = ctx;
	struct queue_role *q = w->q;
	struct queue_entry *e = w->e;

	/* after the loop ended (role_run() frees the pool): the rest at once */
	if (event_base_got_exit(q->role->base))
		q->stopping = true;
	if (w->bounce_ret < 0)
		log_error(NULL, "event=queue.bounce_failed id=%s error=\"%s\"", e->id,
		          w->bounce_error);
	if (w->bounce_ret > 0)
		queue_bounce_queued(q, w->bounce_id);
	for (size_t i = 0; i < w->failed.count; i++)
		queue_state_apply(&e->state, &w->failed_ev.items[i]);
	if (w->state_ret < 0)
		log_error(NULL, "event=queue.state_write_failed id=%s error=\"%s\"", e->id,
		          w->state_error);
	array_remove(&e->writes, 0);
	write_free(w);
	chain_next(e);
	e->jobs--;
	queue_entry_settle(q, e);
}

/* The records queued behind the one about to go out join it: one append,
   one fsync, one report for all (the batching). Each counted in e->jobs;
   the first one now counts for them all. */
static void merge_queued(struct queue_entry *e)
{
	struct queue_write *w = e->writes.items[0];

	while (e->writes.count > 1) {
		struct queue_write *n = e->writes.items[1];

		if (n->lines.len > 0)
			buf_append(&w->lines, n->lines.data, n->lines.len);
		for (size_t i = 0; i < n->failed.count; i++) {
			array_append(&w->failed, n->failed.items[i]);
			array_append(&w->failed_res, n->failed_res.items[i]);
			array_append(&w->failed_ev, n->failed_ev.items[i]);
		}
		n->failed.count = n->failed_res.count = n->failed_ev.count = 0; /* moved */
		array_remove(&e->writes, 1);
		write_free(n);
		e->jobs--;
	}
}

static void chain_next(struct queue_entry *e)
{
	struct queue_write *w;

	if (e->writes.count == 0)
		return;
	merge_queued(e);
	w = e->writes.items[0];
	if (w->q->stopping && event_base_got_exit(w->q->role->base)) {
		write_work(w); /* the pool is going away */
		write_done(w);
		return;
	}
	workpool_submit(w->q->role->pool, write_work, write_done, w);
}

void queue_write_submit(struct queue_write *w)
{
	struct queue_entry *e = w->e;

	if (queue_write_empty(w)) {
		write_free(w);
		return;
	}
	/* the failed recipients wait for their report: pending, not due */
	for (size_t i = 0; i < w->failed.count; i++) {
		struct queue_rcpt_state *r = &e->state.rcpts.items[w->failed.items[i]];

		r->unreported = true;
		r->next = INT64_MAX;
	}
	e->jobs++; /* everything waiting for an idle entry waits for its records too */
	array_append(&e->writes, w);
	if (e->writes.count == 1)
		chain_next(e);
}
