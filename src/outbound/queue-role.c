/* The queue role: see queue-role.h. The entries, the schedule, the
   limits, the records of each attempt; queue-deliver.c carries one job. */
#include "outbound/queue-role.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "directory/directory.h"
#include "dns/dns-resolver.h"
#include "dns/dns-settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/tls.h"
#include "outbound/queue-local.h"
#include "outbound/queue-private.h"
#include "outbound/queue-role-admin.h"
#include "queue/bounce.h"
#include "queue/dsn.h"
#include "queue/queue-request.h"
#include "queue/srs.h"

/* The debris age spool_cleanup() takes at start (an smtp process may be
   preparing younger entries). */
#define CLEANUP_MIN_AGE 3600
#define FLUSH_ALL_NAME  "all"
/* Rounds of REQUEST_WAIT_MS an admin request waits for records in flight
   (then it is served anyway: a delete/bounce then answers "later"). */
#define REQUEST_WAITS   50
#define REQUEST_WAIT_MS 10

static void schedule(struct queue_role *q);
static void retry_reports(struct queue_role *q, struct queue_entry *e, int64_t t);

int64_t queue_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- bounces ---- */

static void bounce_rcpts(const struct spool_envelope *env, const unsigned *rcpt_indices,
                         const struct smtp_client_result *results, size_t count, int64_t t,
                         struct dsn_rcpt *out, char **diags)
{
	for (size_t i = 0; i < count; i++) {
		const struct smtp_client_result *r = &results[i];

		diags[i] =
		    xasprintf("smtp; %u %s%s%s", r->code, r->enhanced,
		              r->enhanced[0] != '\0' ? " " : "", r->text != NULL ? r->text : "");
		out[i] = (struct dsn_rcpt){
		    .rcpt = &env->rcpts.items[rcpt_indices[i]],
		    .action = DSN_ACTION_FAILED,
		    .status = r->enhanced[0] != '\0' ? r->enhanced : NULL,
		    .diagnostic = diags[i],
		    .last_attempt = t,
		};
	}
}

int queue_bounce_write(struct queue_role *q, const struct spool_envelope *env,
                       const char *data_path, const unsigned *rcpt_indices,
                       const struct smtp_client_result *results, size_t count, int64_t now,
                       char **id_r, const char **error_r)
{
	struct dsn_rcpt *rcpts = xcalloc(count, sizeof(*rcpts));
	char **diags = xcalloc(count, sizeof(*diags));
	struct bounce_settings set = {
	    .hostname = q->settings->hostname,
	    .data_dir = q->settings->data_dir,
	    .srs = q->srs,
	    .now = now,
	};
	int ret;

	*id_r = NULL;
	bounce_rcpts(env, rcpt_indices, results, count, set.now, rcpts, diags);
	ret = bounce_write(q->spool, &set, env, data_path, rcpts, count, id_r, error_r);
	for (size_t i = 0; i < count; i++)
		free(diags[i]);
	free(diags);
	free(rcpts);
	return ret;
}

void queue_bounce_queued(struct queue_role *q, const char *id)
{
	struct timeval soon = {0, 1000};

	if (queue_entry_find(q, id) == NULL && queue_entry_load(q, id) != NULL && !q->stopping)
		evtimer_add(q->timer, &soon); /* not run_due(): this may run inside it */
}

/* ---- entries ---- */

void queue_entry_unlock(struct queue_entry *e)
{
	if (e->lock_fd >= 0)
		close(e->lock_fd);
	e->lock_fd = -1;
}

static void entry_free(struct queue_entry *e)
{
	array_free(&e->writes); /* empty: writes count in e->jobs */
	queue_entry_unlock(e);
	spool_envelope_clear(&e->env);
	queue_state_clear(&e->state);
	free(e->state_path);
	free(e->data_path);
	free(e->id);
	free(e);
}

struct queue_entry *queue_entry_find(struct queue_role *q, const char *id)
{
	for (size_t i = 0; i < q->entries.count; i++)
		if (strcmp(q->entries.items[i]->id, id) == 0)
			return q->entries.items[i];
	return NULL;
}

struct queue_entry *queue_entry_load(struct queue_role *q, const char *id)
{
	struct queue_entry *e = xcalloc(1, sizeof(*e));
	enum spool_error kind;
	const char *error;

	if (spool_read(q->spool, id, &e->env, &kind, &error) < 0) {
		if (kind != SPOOL_ERROR_NOT_FOUND)
			log_error(NULL, "event=queue.entry_unreadable id=%s error=\"%s\"", id,
			          error);
		free(e);
		return NULL;
	}
	e->lock_fd = -1;
	e->id = xstrdup(id);
	e->state_path = xasprintf("%s/%s.state", spool_path(q->spool), id);
	e->data_path = spool_data_path(q->spool, id);
	if (queue_state_read(e->state_path, e->env.rcpts.count, &e->state, &error) < 0) {
		log_error(NULL, "event=queue.state_unreadable id=%s error=\"%s\"", id, error);
		entry_free(e);
		return NULL;
	}
	if (e->state.malformed > 0)
		log_warn(NULL, "event=queue.state_skipped id=%s lines=%zu", id, e->state.malformed);
	array_append(&q->entries, e);
	queue_hold_if_ruled(q, e);
	return e;
}

void queue_entry_drop(struct queue_role *q, struct queue_entry *e)
{
	for (size_t i = 0; i < q->entries.count; i++) {
		if (q->entries.items[i] == e) {
			array_remove(&q->entries, i);
			break;
		}
	}
	e->gone = true;
	if (e->jobs == 0)
		entry_free(e);
}

/* Every recipient is final: remove the entry (envelope, data, then the
   state: docs/queue.md). Returns whether it left the list (false: the
   file system failed; tried again at the next turn). */
static bool entry_remove(struct queue_role *q, struct queue_entry *e)
{
	enum spool_error kind;
	const char *error;

	if (spool_remove(q->spool, e->id, &kind, &error) < 0 && kind != SPOOL_ERROR_NOT_FOUND) {
		log_error(NULL, "event=queue.remove_failed id=%s error=\"%s\"", e->id, error);
		return false;
	}
	if (unlink(e->state_path) < 0 && errno != ENOENT)
		log_error(NULL, "event=queue.remove_failed id=%s error=\"%s\"", e->id,
		          strerror(errno));
	log_info(NULL, "event=queue.removed id=%s", e->id);
	queue_entry_drop(q, e);
	return true;
}

const char *queue_rcpt_domain(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : "";
}

/* ---- jobs and limits ---- */

static unsigned running_to(const struct queue_role *q, const char *domain)
{
	unsigned n = 0;

	for (size_t i = 0; i < q->running.count; i++)
		if (strcasecmp(q->running.items[i]->domain, domain) == 0)
			n++;
	return n;
}

static bool may_run(const struct queue_role *q, const struct queue_job *job)
{
	return q->running.count < q->set->max_connections &&
	       running_to(q, job->domain) < q->set->max_per_destination;
}

static void run_job(struct queue_role *q, struct queue_job *job, struct queue_conn *qc)
{
	array_append(&q->running, job);
	if (job->local) {
		queue_local_deliver(q, job);
		queue_job_finished(job, NULL);
	} else if (qc != NULL)
		queue_job_start_on(job, qc);
	else
		queue_job_start(job);
}

/* Start the waiting jobs the limits allow (oldest first). */
static void start_waiting(struct queue_role *q)
{
	for (size_t i = 0; i < q->waiting.count && !q->stopping;) {
		struct queue_job *job = q->waiting.items[i];

		if (!may_run(q, job)) {
			i++;
			continue;
		}
		array_remove(&q->waiting, i);
		run_job(q, job, NULL);
	}
}

/* One job per destination domain for the due pending recipients of e. */
static bool any_due(const struct queue_entry *e, int64_t t)
{
	for (size_t i = 0; i < e->state.rcpts.count; i++)
		if (e->state.rcpts.items[i].status == QUEUE_RCPT_PENDING &&
		    e->state.rcpts.items[i].next <= t)
			return true;
	return false;
}

/* Take the entry's lock and re-read its state (another queue process,
   the draining one of a reload, may have sent some of it meanwhile).
   Returns 1 locked, 0 busy elsewhere (try again in a few seconds), -1
   when the entry is gone. */
int queue_entry_lock(struct queue_role *q, struct queue_entry *e, int64_t t)
{
	char *path = xasprintf("%s/%s.env", spool_path(q->spool), e->id);
	struct queue_state fresh;
	const char *error;

	e->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (e->lock_fd < 0)
		return errno == ENOENT ? -1 : 0;
	if (flock(e->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		queue_entry_unlock(e);
		e->busy_until = t + 5;
		return 0;
	}
	if (queue_state_read(e->state_path, e->env.rcpts.count, &fresh, &error) == 0) {
		/* keep flush requests (next = 0) made here meanwhile */
		for (size_t i = 0; i < fresh.rcpts.count; i++)
			if (fresh.rcpts.items[i].status == QUEUE_RCPT_PENDING &&
			    e->state.rcpts.items[i].next < fresh.rcpts.items[i].next &&
			    fresh.rcpts.items[i].attempts == e->state.rcpts.items[i].attempts)
				fresh.rcpts.items[i].next = e->state.rcpts.items[i].next;
		queue_state_clear(&e->state);
		e->state = fresh;
	}
	return 1;
}

/* One job per destination domain for the due pending recipients of e.
   Returns -1 when the entry is gone (the caller drops it). */
static int entry_start(struct queue_role *q, struct queue_entry *e, int64_t t)
{
	struct queue_job *jobs[64];
	size_t njobs = 0;
	int locked;

	if (e->jobs > 0 || !q->set->deliver || e->busy_until > t || e->state.held || !any_due(e, t))
		return 0;
	locked = queue_entry_lock(q, e, t);
	if (locked <= 0)
		return locked;
	if (e->state.held) { /* held by another queue process meanwhile */
		queue_entry_unlock(e);
		return 0;
	}
	retry_reports(q, e, t);
	for (size_t i = 0; i < e->env.rcpts.count; i++) {
		const struct queue_rcpt_state *r = &e->state.rcpts.items[i];
		const char *domain = queue_rcpt_domain(e->env.rcpts.items[i].address);
		struct queue_job *job = NULL;

		if (r->status != QUEUE_RCPT_PENDING || r->unreported || r->next > t)
			continue;
		for (size_t j = 0; j < njobs && job == NULL; j++)
			if (strcasecmp(jobs[j]->domain, domain) == 0)
				job = jobs[j];
		if (job == NULL) {
			if (njobs == sizeof(jobs) / sizeof(jobs[0]))
				continue; /* the rest at the next round */
			job = jobs[njobs++] = queue_job_new(q, e, domain);
			job->local = queue_local_domain(q->dir, domain);
		}
		array_append(&job->rcpts, (unsigned)i);
	}
	if (njobs == 0 && e->jobs == 0)
		queue_entry_unlock(e); /* nothing due after all (sent meanwhile) */
	for (size_t j = 0; j < njobs; j++)
		array_append(&q->waiting, jobs[j]);
	return 0;
}

/* ---- recording the outcome ---- */

static void log_attempt(const struct queue_job *job, size_t i, const char *result, int64_t t)
{
	const struct queue_entry *e = job->entry;
	const struct smtp_client_result *r = &job->results.items[i];
	char *text =
	    log_value(r->text != NULL ? r->text : "", r->text != NULL ? strlen(r->text) : 0, 200);

	log_info(NULL,
	         "event=queue.delivery id=%s rcpt=<%s> result=%s mx=%s ip=%s code=%u status=%s "
	         "tls=%s delay=%" PRId64 "s reply=%s",
	         e->id, e->env.rcpts.items[job->rcpts.items[i]].address, result,
	         job->mx_name != NULL ? job->mx_name : "-", job->mx_ip != NULL ? job->mx_ip : "-",
	         r->code, r->enhanced[0] != '\0' ? r->enhanced : "-",
	         job->tls != NULL ? job->tls : "none", t - e->env.arrival, text);
	free(text);
}

/* A recipient that failed for good goes to w: its report first, then its
   line (`failed`, or `unreported` with ev->next when the report cannot be
   written). */
static void record_failed(struct queue_role *q, struct queue_write *w,
                          const struct queue_rcpt_state *r, struct queue_state_event *ev,
                          const struct smtp_client_result *res)
{
	ev->kind = QUEUE_EVENT_FAILED;
	ev->next = ev->time + queue_retry_delay(&q->retry, r->attempts + 1);
	queue_write_failed(w, ev, res);
}

/* The state lines of a finished job, the bounce of its permanent failures
   first: written on the worker pool (queue-write.c). */
static void record(struct queue_role *q, struct queue_job *job)
{
	struct queue_entry *e = job->entry;
	int64_t t = queue_now();
	struct queue_write *w = queue_write_new(q, e, t);

	for (size_t i = 0; i < job->rcpts.count; i++) {
		struct smtp_client_result *r = &job->results.items[i];
		unsigned rcpt = job->rcpts.items[i];
		struct queue_state_event ev = {
		    .time = t,
		    .rcpt = rcpt,
		    .code = r->code,
		    .status = r->enhanced,
		    .mx = job->mx_name,
		    .ip = job->mx_ip,
		    .tls = job->tls,
		    .tls_verified = job->tls_verified,
		    .text = r->text,
		};
		const char *result;

		if (r->code == 0)
			smtp_client_result_set(r, 451, "4.3.0", "not tried");
		ev.code = r->code;
		ev.status = r->enhanced;
		ev.text = r->text;
		if (r->code / 100 == 2) {
			ev.kind = QUEUE_EVENT_DONE;
			result = "sent";
		} else if (r->code / 100 == 5) {
			ev.kind = QUEUE_EVENT_FAILED;
			result = "bounced";
		} else if (queue_retry_expired(&q->retry, e->env.arrival, t,
		                               e->state.rcpts.items[rcpt].attempts + 1, &ev.next)) {
			char *text = xasprintf("delivery time expired, last error: %s", r->text);

			smtp_client_result_set(r, r->code, "4.4.7", text);
			free(text);
			ev.kind = QUEUE_EVENT_FAILED;
			ev.status = r->enhanced;
			ev.text = r->text;
			result = "expired";
		} else {
			ev.kind = QUEUE_EVENT_ATTEMPT;
			result = "deferred";
		}
		log_attempt(job, i, result, t);
		if (ev.kind == QUEUE_EVENT_FAILED) {
			record_failed(q, w, &e->state.rcpts.items[rcpt], &ev, r);
			continue;
		}
		queue_write_event(w, &ev);
		queue_state_apply(&e->state, &ev);
	}
	queue_write_submit(w);
}

/* The due recipients of e that wait only for their bounce (unreported):
   try the report again (under e's lock). */
static void retry_reports(struct queue_role *q, struct queue_entry *e, int64_t t)
{
	struct queue_write *w = queue_write_new(q, e, t);

	for (size_t i = 0; i < e->state.rcpts.count; i++) {
		const struct queue_rcpt_state *r = &e->state.rcpts.items[i];
		struct smtp_client_result one = {.code = r->code, .text = r->text};
		struct queue_state_event ev = {
		    .time = t,
		    .rcpt = (unsigned)i,
		    .code = r->code,
		    .status = r->enhanced,
		    .mx = r->mx,
		    .ip = r->ip,
		    .tls = r->tls,
		    .tls_verified = r->tls_verified,
		    .text = r->text,
		};

		if (r->status != QUEUE_RCPT_PENDING || !r->unreported || r->next > t)
			continue;
		snprintf(one.enhanced, sizeof(one.enhanced), "%s", r->enhanced);
		record_failed(q, w, r, &ev, &one);
	}
	if (!queue_write_empty(w))
		log_info(NULL, "event=queue.bounce_retry id=%s", e->id);
	queue_write_submit(w);
}

/* A waiting job to the same destination as the one that just ended, to
   run on its idle session. */
static struct queue_job *take_same_destination(struct queue_role *q, const char *domain)
{
	for (size_t i = 0; i < q->waiting.count; i++) {
		struct queue_job *job = q->waiting.items[i];

		if (strcasecmp(job->domain, domain) == 0) {
			array_remove(&q->waiting, i);
			return job;
		}
	}
	return NULL;
}

void queue_entry_settle(struct queue_role *q, struct queue_entry *e)
{
	if (e->jobs > 0)
		return;
	if (!e->gone && queue_warn_due(q, e, queue_now()))
		queue_warn(q, e, queue_now()); /* still under the entry lock */
	if (!queue_state_finished(&e->state))
		queue_entry_unlock(e);
	if (e->gone)
		entry_free(e);
	else if (queue_state_finished(&e->state))
		entry_remove(q, e);
	else if (e->later)
		queue_admin_later(q, e);
	start_waiting(q);
	schedule(q);
}

void queue_job_finished(struct queue_job *job, struct queue_conn *qc)
{
	struct queue_role *q = job->q;
	struct queue_entry *e = job->entry;
	struct queue_job *next;

	for (size_t i = 0; i < q->running.count; i++) {
		if (q->running.items[i] == job) {
			array_remove(&q->running, i);
			break;
		}
	}
	if (!e->gone)
		record(q, job); /* its write counts in e->jobs until it is durable */
	e->jobs--;
	next = qc != NULL && !q->stopping && queue_conn_reusable(qc)
	           ? take_same_destination(q, job->domain)
	           : NULL;
	if (next != NULL) {
		log_debug(NULL, "event=queue.reuse id=%s mx=%s", next->entry->id, job->mx_name);
		run_job(q, next, qc);
	} else if (qc != NULL) {
		queue_conn_quit(qc);
	}
	queue_job_free(&job);
	queue_entry_settle(q, e);
	start_waiting(q);
	schedule(q);
}

/* ---- the schedule ---- */

static void run_due(struct queue_role *q)
{
	int64_t t = queue_now();

	for (size_t i = 0; i < q->entries.count; i++) {
		struct queue_entry *e = q->entries.items[i];

		if (e->jobs == 0 && queue_state_finished(&e->state)) {
			/* finished here, elsewhere, or by a predecessor that died
			   before removing it */
			if (entry_remove(q, e))
				i--;
			continue;
		}
		if (e->jobs == 0 && e->busy_until <= t && queue_warn_due(q, e, t) &&
		    queue_entry_lock(q, e, t) == 1) {
			if (queue_warn_due(q, e, t))
				queue_warn(q, e, t);
			queue_entry_unlock(e);
		}
		if (entry_start(q, e, t) < 0) {
			log_info(NULL, "event=queue.entry_gone id=%s", e->id);
			queue_entry_drop(q, e);
			i--;
		} else if (e->jobs == 0 && queue_state_finished(&e->state) && entry_remove(q, e)) {
			i--; /* finished by another queue process meanwhile */
		}
	}
	start_waiting(q);
	schedule(q);
}

static void timer_cb(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	run_due(ctx);
}

/* Arm the timer for the earliest pending recipient of an idle entry. */
static void schedule(struct queue_role *q)
{
	int64_t t = queue_now(), best = -1;
	struct timeval tv;

	if (q->stopping || !q->set->deliver)
		return;
	for (size_t i = 0; i < q->entries.count; i++) {
		const struct queue_entry *e = q->entries.items[i];

		int64_t warn_at = queue_warn_time(q, e);

		if (e->jobs > 0)
			continue;
		if (warn_at >= 0 && warn_at < e->busy_until)
			warn_at = e->busy_until; /* locked elsewhere: not before */
		if (warn_at >= 0 && (best < 0 || warn_at < best))
			best = warn_at;
		if (e->state.held)
			continue;
		for (size_t r = 0; r < e->state.rcpts.count; r++) {
			const struct queue_rcpt_state *s = &e->state.rcpts.items[r];

			int64_t when = s->next > e->busy_until ? s->next : e->busy_until;

			if (s->status == QUEUE_RCPT_PENDING && s->next != INT64_MAX &&
			    (best < 0 || when < best))
				best = when;
		}
	}
	evtimer_del(q->timer);
	if (best < 0)
		return;
	tv.tv_sec = best > t ? (time_t)(best - t) : 0;
	tv.tv_usec = best > t ? 0 : 1000;
	evtimer_add(q->timer, &tv);
}

/* Load every committed entry not loaded yet. */
void queue_scan(struct queue_role *q)
{
	char **ids = NULL;
	size_t count = 0;
	const char *error;

	if (spool_list(q->spool, &ids, &count, &error) < 0) {
		log_error(NULL, "event=queue.scan_failed error=\"%s\"", error);
		return;
	}
	for (size_t i = 0; i < count; i++)
		if (queue_entry_find(q, ids[i]) == NULL)
			(void)queue_entry_load(q, ids[i]);
	spool_ids_free(&ids);
}

static void scan_cb(evutil_socket_t fd, short what, void *ctx)
{
	struct queue_role *q = ctx;

	(void)fd;
	(void)what;
	queue_scan(q);
	run_due(q);
}

/* ---- flush requests ---- */

static void flush_entry(struct queue_entry *e)
{
	for (size_t r = 0; r < e->state.rcpts.count; r++)
		e->state.rcpts.items[r].next = 0;
}

static bool writes_in_flight(const struct queue_role *q)
{
	for (size_t i = 0; i < q->entries.count; i++)
		if (q->entries.items[i]->writes.count > 0)
			return true;
	return false;
}

static void flush_requests(struct queue_role *q);

static void request_timer_cb(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	flush_requests(ctx);
}

/* Act on (and remove) every request file in the flush directory. */
static void flush_requests(struct queue_role *q)
{
	DIR *dir = opendir(q->flush_dir);
	struct dirent *de;
	bool any = false, wait = false;
	bool in_flight = writes_in_flight(q) && q->request_waits < REQUEST_WAITS && !q->stopping;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		const char *name = de->d_name;

		if (name[0] == '.')
			continue;
		if (queue_request_name(name) && in_flight) {
			wait = true; /* at the next round, once the records are durable */
			continue;
		}
		any = true;
		if (queue_request_name(name)) {
			queue_role_request(q, dirfd(dir), name);
			continue;
		}
		unlinkat(dirfd(dir), name, 0);
		if (strcmp(name, FLUSH_ALL_NAME) == 0) {
			queue_scan(q);
			for (size_t i = 0; i < q->entries.count; i++)
				flush_entry(q->entries.items[i]);
			log_info(NULL, "event=queue.flush id=all");
		} else if (spool_id_valid(name)) {
			struct queue_entry *e = queue_entry_find(q, name);

			if (e == NULL)
				e = queue_entry_load(q, name);
			if (e != NULL)
				flush_entry(e);
			log_info(NULL, "event=queue.flush id=%s found=%s", name,
			         e != NULL ? "yes" : "no");
		}
	}
	closedir(dir);
	q->request_waits = wait ? q->request_waits + 1 : 0;
	if (wait) {
		struct timeval tv = {0, REQUEST_WAIT_MS * 1000};

		evtimer_add(q->request_timer, &tv);
	}
	if (any)
		run_due(q);
}

/* Events on flush/ (requests) and rules/ (the hold rules changed). */
static void inotify_cb(evutil_socket_t fd, short what, void *ctx)
{
	struct queue_role *q = ctx;
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rules = false;
	ssize_t n;

	(void)what;
	while ((n = read(fd, events, sizeof(events))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const void *)(events + off);

			if (ev->wd == q->rules_wd)
				rules = true;
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
	if (rules)
		queue_rules_load(q);
	flush_requests(q);
}

char *queue_flush_dir(const char *queue_dir)
{
	return xasprintf("%s/flush", queue_dir);
}

int queue_flush_request(const char *queue_dir, const char *id, const char **error_r)
{
	char *dir = queue_flush_dir(queue_dir);
	char *path = xasprintf("%s/%s", dir, id != NULL ? id : FLUSH_ALL_NAME);
	int fd;

	if (id != NULL && !spool_id_valid(id)) {
		*error_r = "not a queue id";
		fd = -2;
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			*error_r = errno == ENOENT
			               ? "no flush directory: the queue role has not run"
			               : "cannot write the flush request";
	}
	free(path);
	free(dir);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* flush/ (requests), answers/ and rules/ (hold rules), made here. */
static void admin_dirs(struct queue_role *q, char **rules_dir_r)
{
	char *answers = queue_answer_dir(spool_path(q->spool));

	*rules_dir_r = queue_hold_rules_dir(spool_path(q->spool));
	q->flush_dir = queue_flush_dir(spool_path(q->spool));
	if ((mkdir(q->flush_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(answers, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(*rules_dir_r, 0700) < 0 && errno != EEXIST))
		log_error(NULL, "event=queue.flush_dir_failed error=\"%s\"", strerror(errno));
	free(answers);
}

static void flush_watch(struct queue_role *q)
{
	char *rules_dir;

	admin_dirs(q, &rules_dir);
	q->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (q->inotify_fd < 0 ||
	    inotify_add_watch(q->inotify_fd, q->flush_dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		log_error(NULL, "event=queue.flush_watch_failed error=\"%s\"", strerror(errno));
		free(rules_dir);
		return;
	}
	q->rules_wd = inotify_add_watch(q->inotify_fd, rules_dir,
	                                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM);
	if (q->rules_wd < 0)
		log_error(NULL, "event=queue.rules_watch_failed error=\"%s\"", strerror(errno));
	free(rules_dir);
	q->inotify_ev =
	    event_new(q->role->base, q->inotify_fd, EV_READ | EV_PERSIST, inotify_cb, q);
	event_add(q->inotify_ev, NULL);
}

/* ---- the role ---- */

static int resolver_new(struct queue_role *q, const char **error_r)
{
	const struct dns_settings *set = dns_settings(q->settings);
	struct dns_resolver_settings dns = {
	    .zone_file = set->zone_file,
	    .forwarders = (const char *const *)set->forwarders,
	    .forwarder_count = set->forwarder_count,
	    .trust_anchor_file = set->trust_anchor_file,
	    .timeout_msecs = set->timeout * 1000,
	};
	char *error;

	if (dns_resolver_new(q->role->base, &dns, &q->resolver, &error) == 0)
		return 0;
	log_error(NULL, "event=queue.dns_error error=\"%s\"", error);
	free(error);
	*error_r = "cannot start the DNS resolver";
	return -1;
}

/* The SRS secret the smtp role rewrites forwarded senders with: a bounce
   to such a sender goes to the address it encodes. Without it bounces go
   to the sender as it is. */
static void srs_setup(struct queue_role *q)
{
	char *path = srs_secret_path(q->settings->data_dir);
	const char *error;

	if (srs_open(path, &q->srs, &error) < 0)
		log_warn(NULL, "event=queue.srs_unavailable path=%s error=\"%s\"", path, error);
	free(path);
}

/* The TLS policy engine of outbound delivery (queue-deliver.c). */
static int tls_policy_setup(struct queue_role *q, const char **error_r)
{
	struct tls_policy_settings set;
	char *cache_dir;
	int ret;

	queue_tls_policy_settings(q->set, q->settings->data_dir, &set, &cache_dir);
	ret = tls_policy_new(q->role->base, q->resolver, q->role->pool, &set, &q->tls_policy,
	                     error_r);
	if (ret < 0)
		log_error(NULL, "event=queue.tls_policy_error dir=%s error=\"%s\"", cache_dir,
		          *error_r);
	free(cache_dir);
	return ret;
}

static int setup(struct queue_role *q, const char **error_r)
{
	char *dir = spool_dir_path(q->settings);
	size_t line = 0;
	char *tls_error = NULL;
	int ret = spool_open(dir, true, &q->spool, error_r);

	free(dir);
	if (ret < 0 || resolver_new(q, error_r) < 0)
		return -1;
	if (q->set->transport_file != NULL &&
	    queue_transport_load(q->set->transport_file, &q->transport, &line, error_r) < 0) {
		log_error(NULL, "event=queue.transport_error file=%s line=%zu error=\"%s\"",
		          q->set->transport_file, line, *error_r);
		return -1;
	}
	if (directory_open(q->settings->directory_path, &q->dir, error_r) < 0)
		return -1;
	srs_setup(q);
	if (q->set->auth_file != NULL &&
	    queue_auth_load(q->set->auth_file, &q->auths, &line, error_r) < 0) {
		log_error(NULL, "event=queue.auth_file_error file=%s line=%zu error=\"%s\"",
		          q->set->auth_file, line, *error_r);
		return -1;
	}
	if (tls_client_ctx_new(NULL, &q->client_tls, &tls_error) < 0) {
		log_warn(NULL, "event=queue.no_tls error=\"%s\"", tls_error);
		free(tls_error);
	}
	return tls_policy_setup(q, error_r);
}

static int queue_init(struct role_ctx *role, const char **error_r)
{
	struct queue_role *q = xcalloc(1, sizeof(*q));
	size_t removed = 0;
	const char *error;

	q->role = role;
	q->settings = role->settings;
	q->set = queue_settings(role->settings);
	q->retry.first = q->set->retry_first;
	q->retry.max = q->set->retry_max;
	q->retry.give_up = q->set->give_up;
	q->helo = queue_helo_name(q->set, role->settings->hostname);
	q->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	q->inotify_fd = -1;
	q->rules_wd = -1;
	q->role_lock_fd = -1;
	role->data = q;
	if (setup(q, error_r) < 0)
		return -1;
	if (spool_cleanup(q->spool, CLEANUP_MIN_AGE, &removed, &error) < 0)
		log_warn(NULL, "event=queue.cleanup_failed error=\"%s\"", error);
	q->timer = evtimer_new(role->base, timer_cb, q);
	q->request_timer = evtimer_new(role->base, request_timer_cb, q);
	q->scan_timer = event_new(role->base, -1, EV_PERSIST, scan_cb, q);
	struct timeval every = {.tv_sec = q->set->scan_interval};

	evtimer_add(q->scan_timer, &every);
	flush_watch(q);
	/* the CLI acts on the files itself only while nobody holds this */
	q->role_lock_fd = queue_role_lock(spool_path(q->spool));
	if (q->role_lock_fd < 0)
		log_error(NULL, "event=queue.role_lock_failed error=\"%s\"", strerror(errno));
	queue_rules_load(q);
	queue_scan(q);
	log_info(NULL, "event=queue.started entries=%zu port=%u", q->entries.count, q->set->port);
	flush_requests(q);
	run_due(q);
	return 0;
}

static void queue_message_queued(struct role_ctx *role, const char *id)
{
	struct queue_role *q = role->data;

	if (q == NULL || q->stopping || !spool_id_valid(id) || queue_entry_find(q, id) != NULL)
		return;
	if (queue_entry_load(q, id) != NULL)
		run_due(q);
}

static void queue_deinit(struct role_ctx *role)
{
	struct queue_role *q = role->data;

	if (q == NULL)
		return;
	q->stopping = true;
	while (q->running.count > 0) {
		struct queue_job *job = q->running.items[0];

		array_remove(&q->running, 0);
		queue_job_abort(job);
		job->entry->jobs--;
		queue_job_free(&job);
	}
	for (size_t i = 0; i < q->waiting.count; i++) {
		q->waiting.items[i]->entry->jobs--;
		queue_job_free(&q->waiting.items[i]);
	}
	array_free(&q->waiting);
	array_free(&q->running);
	for (size_t i = 0; i < q->entries.count; i++)
		entry_free(q->entries.items[i]);
	array_free(&q->entries);
	if (q->timer != NULL)
		event_free(q->timer);
	if (q->request_timer != NULL)
		event_free(q->request_timer);
	if (q->scan_timer != NULL)
		event_free(q->scan_timer);
	if (q->inotify_ev != NULL)
		event_free(q->inotify_ev);
	if (q->inotify_fd >= 0)
		close(q->inotify_fd);
	free(q->flush_dir);
	tls_policy_free(&q->tls_policy);
	queue_hold_rules_clear(&q->rules);
	if (q->role_lock_fd >= 0)
		close(q->role_lock_fd);
	dns_resolver_free(&q->resolver);
	tls_ctx_free(&q->client_tls);
	queue_transport_free(&q->transport);
	queue_auths_free(&q->auths);
	directory_close(&q->dir);
	srs_free(&q->srs);
	spool_free(&q->spool);
	free(q);
	role->data = NULL;
}

const struct role_ops queue_role_ops = {
    .name = "queue",
    .services = NULL,
    .service_count = 0,
    .init = queue_init,
    .message_queued = queue_message_queued,
    .deinit = queue_deinit,
    .housekeeping = true,
};
