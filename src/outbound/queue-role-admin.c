/* The admin's view of the queue role (queue-role-admin.c): delay warnings,
   requests from `tern queue`, hold rules (docs/queue.md, "Admin records").
   Inside the queue role only; the entry helpers it uses from queue-role.c
   are declared here too. */
#include "outbound/queue-role-admin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "outbound/queue-admin.h"
#include "queue/bounce.h"
#include "queue/dsn.h"
#include "queue/queue-hold.h"
#include "queue/queue-request.h"

/* ---- delay warnings ---- */

/* Whether a recipient of e was tried and is still pending. */
static bool any_deferred(const struct queue_entry *e)
{
	for (size_t i = 0; i < e->state.rcpts.count; i++)
		if (e->state.rcpts.items[i].status == QUEUE_RCPT_PENDING &&
		    e->state.rcpts.items[i].attempts > 0)
			return true;
	return false;
}

/* When the delay warning of e falls due; -1: none to send (off, sent,
   held, or nothing deferred). */
int64_t queue_warn_time(const struct queue_role *q, const struct queue_entry *e)
{
	if (q->set->delay_warning == 0 || e->state.warned != 0 || e->state.held || !any_deferred(e))
		return -1;
	return e->env.arrival + (int64_t)q->set->delay_warning;
}

bool queue_warn_due(const struct queue_role *q, const struct queue_entry *e, int64_t t)
{
	int64_t when = queue_warn_time(q, e);

	return when >= 0 && when <= t;
}

/* Send the delay warning of e (locked by the caller): one RFC 3464
   report (action delayed) for every deferred recipient, as NOTIFY asks
   (bounce_write() picks), then the `warned` record so it never goes
   again. A report that cannot be written is logged and not retried. */
void queue_warn(struct queue_role *q, struct queue_entry *e, int64_t t)
{
	size_t n = e->state.rcpts.count, count = 0;
	struct dsn_rcpt *rcpts = xcalloc(n, sizeof(*rcpts));
	char **diags = xcalloc(n, sizeof(*diags));
	struct bounce_settings set = {.hostname = q->settings->hostname,
	                              .data_dir = q->settings->data_dir,
	                              .srs = q->srs,
	                              .now = t};
	struct buf line = BUF_INIT;
	char *id = NULL;
	const char *error = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct queue_rcpt_state *r = &e->state.rcpts.items[i];

		if (r->status != QUEUE_RCPT_PENDING || r->attempts == 0)
			continue;
		diags[count] = xasprintf("smtp; %u %s %s", r->code, r->enhanced,
		                         r->text != NULL ? r->text : "");
		rcpts[count] = (struct dsn_rcpt){
		    .rcpt = &e->env.rcpts.items[i],
		    .action = DSN_ACTION_DELAYED,
		    .status = r->enhanced[0] != '\0' ? r->enhanced : "4.0.0",
		    .diagnostic = diags[count],
		    .remote_mta = r->mx,
		    .last_attempt = r->last,
		    .will_retry_until = e->env.arrival + (int64_t)q->set->give_up,
		};
		count++;
	}
	if (bounce_write(q->spool, &set, &e->env, e->data_path, rcpts, count, &id, &error) < 0)
		log_error(NULL, "event=queue.warning_failed id=%s error=\"%s\"", e->id, error);
	log_info(NULL, "event=queue.delay_warning id=%s rcpts=%zu report=%s", e->id, count,
	         id != NULL ? id : "none");
	queue_state_format_record(QUEUE_RECORD_WARNED, t, &line);
	if (queue_state_append(e->state_path, &line, &error) < 0)
		log_error(NULL, "event=queue.state_write_failed id=%s error=\"%s\"", e->id, error);
	queue_state_apply_record(&e->state, QUEUE_RECORD_WARNED, t);
	if (id != NULL && queue_entry_find(q, id) == NULL)
		(void)queue_entry_load(q, id); /* scheduled by the caller's schedule() */
	for (size_t i = 0; i < count; i++)
		free(diags[i]);
	free(diags);
	free(rcpts);
	free(id);
	buf_free(&line);
}

/* ---- admin requests (tern queue) ---- */

static void admin_setup(const struct queue_role *q, struct queue_admin *a)
{
	*a = (struct queue_admin){.spool = q->spool,
	                          .bounce = {.hostname = q->settings->hostname,
	                                     .data_dir = q->settings->data_dir,
	                                     .srs = q->srs}};
}

/* Drop the jobs of e still waiting for a connection slot (it is held). */
static void drop_waiting(struct queue_role *q, struct queue_entry *e)
{
	for (size_t i = 0; i < q->waiting.count;) {
		struct queue_job *job = q->waiting.items[i];

		if (job->entry != e) {
			i++;
			continue;
		}
		array_remove(&q->waiting, i);
		e->jobs--;
		queue_job_free(&job);
	}
	if (e->jobs == 0)
		queue_entry_unlock(e);
}

/* After queue_admin_act() did verb to e: the same change in memory. */
static void admin_done(struct queue_role *q, struct queue_entry *e, enum queue_request_verb verb,
                       char *bounce_id)
{
	int64_t t = queue_now();

	switch (verb) {
	case QUEUE_REQ_HOLD:
		queue_state_apply_record(&e->state, QUEUE_RECORD_HOLD, t);
		drop_waiting(q, e);
		break;
	case QUEUE_REQ_RELEASE:
		queue_state_apply_record(&e->state, QUEUE_RECORD_RELEASE, t);
		break;
	case QUEUE_REQ_FLUSH:
		queue_state_apply_record(&e->state, QUEUE_RECORD_FLUSH, t);
		e->busy_until = 0;
		break;
	case QUEUE_REQ_DELETE:
	case QUEUE_REQ_BOUNCE:
		queue_entry_drop(q, e);
		break;
	case QUEUE_REQ_RULES:
		break;
	}
	if (bounce_id != NULL && queue_entry_find(q, bounce_id) == NULL)
		(void)queue_entry_load(q, bounce_id);
	free(bounce_id);
}

/* Do verb to entry e under its lock (ours while its jobs run, else taken
   here); the answer for it goes into ans. */
static void admin_entry(struct queue_role *q, struct queue_entry *e, enum queue_request_verb verb,
                        struct queue_answer *ans)
{
	struct queue_admin a;
	enum queue_answer_kind kind;
	char *id = xstrdup(e->id), *bounce_id = NULL;
	const char *error = NULL;
	int fd = -1, locked = 1;

	if (verb == QUEUE_REQ_DELETE || verb == QUEUE_REQ_BOUNCE)
		drop_waiting(q, e); /* what has not started yet does not start */
	if (e->jobs > 0 && (verb == QUEUE_REQ_DELETE || verb == QUEUE_REQ_BOUNCE)) {
		e->later = true; /* when its deliveries end (queue_job_finished) */
		e->later_verb = verb;
		queue_answer_add(ans, QUEUE_ANSWER_LATER, id, NULL);
		free(id);
		return;
	}
	if (e->jobs == 0)
		locked = queue_admin_lock(q->spool, id, &fd);
	if (locked <= 0) {
		queue_answer_add(ans, locked == 0 ? QUEUE_ANSWER_BUSY : QUEUE_ANSWER_NOTFOUND, id,
		                 NULL);
		if (locked < 0)
			queue_entry_drop(q, e);
		free(id);
		return;
	}
	admin_setup(q, &a);
	kind = queue_admin_act(&a, verb, id, &bounce_id, &error);
	if (kind == QUEUE_ANSWER_OK)
		admin_done(q, e, verb, bounce_id);
	else if (kind == QUEUE_ANSWER_NOTFOUND)
		queue_entry_drop(q, e);
	if (fd >= 0)
		close(fd);
	queue_answer_add(ans, kind, id, kind == QUEUE_ANSWER_ERROR ? error : NULL);
	free(id);
}

/* A delete/bounce that waited for the deliveries of e to end. */
void queue_admin_later(struct queue_role *q, struct queue_entry *e)
{
	struct queue_answer ans = {0};

	e->later = false;
	admin_entry(q, e, e->later_verb, &ans);
	log_info(NULL, "event=queue.admin_later id=%s action=%s result=%s",
	         ans.items.count > 0 ? ans.items.items[0].id : "-",
	         queue_request_verb_name(e->later_verb),
	         ans.items.count > 0 ? queue_answer_kind_name(ans.items.items[0].kind) : "-");
	queue_answer_clear(&ans);
}

static bool entry_to_domain(const struct queue_entry *e, const char *domain)
{
	for (size_t i = 0; i < e->env.rcpts.count; i++)
		if (e->state.rcpts.items[i].status == QUEUE_RCPT_PENDING &&
		    strcasecmp(queue_rcpt_domain(e->env.rcpts.items[i].address), domain) == 0)
			return true;
	return false;
}

typedef ARRAY(char *) id_list;

/* The ids a request names: its ids, or every entry (all, domain=). */
static void request_targets(struct queue_role *q, const struct queue_request *req, id_list *ids)
{
	if (!req->all && req->domain == NULL) {
		for (size_t i = 0; i < req->ids.count; i++)
			array_append(ids, xstrdup(req->ids.items[i]));
		return;
	}
	queue_scan(q);
	for (size_t i = 0; i < q->entries.count; i++)
		if (req->domain == NULL || entry_to_domain(q->entries.items[i], req->domain))
			array_append(ids, xstrdup(q->entries.items[i]->id));
}

static void serve(struct queue_role *q, const struct queue_request *req, struct queue_answer *ans)
{
	id_list ids = ARRAY_INIT;

	if (req->verb == QUEUE_REQ_RULES) {
		queue_rules_load(q);
		return;
	}
	request_targets(q, req, &ids);
	for (size_t i = 0; i < ids.count; i++) {
		struct queue_entry *e = queue_entry_find(q, ids.items[i]);

		if (e == NULL)
			e = queue_entry_load(q, ids.items[i]);
		if (e == NULL)
			queue_answer_add(ans, QUEUE_ANSWER_NOTFOUND, ids.items[i], NULL);
		else
			admin_entry(q, e, req->verb, ans);
		free(ids.items[i]);
	}
	array_free(&ids);
}

/* Take (remove) the request file name, act, answer. Whoever removes the
   file owns the request (two roles watch during a reload). */
void queue_role_request(struct queue_role *q, int dfd, const char *name)
{
	char *path = xasprintf("%s/%s", q->flush_dir, name), *data = NULL;
	struct queue_request req;
	struct queue_answer ans = {0};
	const char *error;
	size_t len = 0;
	int ret = read_file(path, 64 * 1024, &data, &len);

	free(path);
	if (unlinkat(dfd, name, 0) < 0 || ret < 0) {
		free(data);
		return; /* taken by the other role */
	}
	if (queue_request_parse(data, len, &req, &error) < 0) {
		log_warn(NULL, "event=queue.request_bad name=%s error=\"%s\"", name, error);
		queue_answer_add(&ans, QUEUE_ANSWER_ERROR, "request", error);
	} else {
		log_info(NULL, "event=queue.request name=%s verb=%s", name,
		         queue_request_verb_name(req.verb));
		serve(q, &req, &ans);
		queue_request_clear(&req);
	}
	if (queue_answer_write(spool_path(q->spool), name, &ans) < 0)
		log_error(NULL, "event=queue.answer_failed name=%s", name);
	queue_answer_clear(&ans);
	free(data);
}

/* ---- hold rules ---- */

void queue_rules_load(struct queue_role *q)
{
	const char *error;

	queue_hold_rules_clear(&q->rules);
	if (queue_hold_rules_load(spool_path(q->spool), &q->rules, &error) < 0)
		log_error(NULL, "event=queue.rules_unreadable error=\"%s\"", error);
	log_info(NULL, "event=queue.rules_loaded rules=%zu", q->rules.items.count);
}

/* A new entry (no record, never tried) a hold rule matches is held. */
void queue_hold_if_ruled(struct queue_role *q, struct queue_entry *e)
{
	struct buf line = BUF_INIT;
	size_t rule;
	int64_t t = queue_now();
	const char *error;
	int fd;

	if (q->rules.items.count == 0 || e->state.records > 0 || any_deferred(e))
		return;
	rule = queue_hold_match(&q->rules, &e->env);
	if (rule == 0 || queue_admin_lock(q->spool, e->id, &fd) != 1)
		return;
	queue_state_format_record(QUEUE_RECORD_HOLD, t, &line);
	if (queue_state_append(e->state_path, &line, &error) < 0)
		log_error(NULL, "event=queue.state_write_failed id=%s error=\"%s\"", e->id, error);
	else
		queue_state_apply_record(&e->state, QUEUE_RECORD_HOLD, t);
	close(fd);
	buf_free(&line);
	log_info(NULL, "event=queue.held id=%s rule=%zu", e->id, rule);
}
