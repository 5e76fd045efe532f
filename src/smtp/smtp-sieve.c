/* Sieve at local delivery: see smtp-sieve.h. */
#include "smtp/smtp-sieve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/spool.h"
#include "queue/srs.h"
#include "sieve/sieve-settings.h"
#include "sieve/sieve-store.h"
#include "smtp/smtp-sieve-private.h"
#include "store/maildir.h"

struct smtp_sieve_env smtp_sieve_env;
static bool sieve_ready;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

/* The state of smtp_sieve_init(), under init_lock. */
static void init_locked(const struct tern_settings *settings)
{
	char *dir, *secret;
	const char *error;

	smtp_sieve_env.mail_dir = settings->mail_dir;
	smtp_sieve_env.hostname = settings->hostname;
	smtp_sieve_env.set = sieve_settings(settings);
	dir = spool_dir_path(settings);
	if (spool_open(dir, true, &smtp_sieve_env.spool, &error) < 0)
		log_warn(NULL, "event=sieve.spool_unavailable error=\"%s\"", error);
	free(dir);
	secret = srs_secret_path(settings->data_dir);
	if (srs_open(secret, &smtp_sieve_env.srs, &error) < 0)
		log_warn(NULL, "event=sieve.srs_unavailable error=\"%s\"", error);
	free(secret);
	sieve_ready = true;
}

void smtp_sieve_init(const struct tern_settings *settings)
{
	pthread_mutex_lock(&init_lock);
	if (!sieve_ready)
		init_locked(settings);
	pthread_mutex_unlock(&init_lock);
}

/* What the scripts decided for one recipient. */
struct plan {
	struct sieve_result results[3];
	size_t nresults;
	void *refs[3];
	ARRAY(struct delivery_target) targets;
	ARRAY(const char *) keywords; /* all targets' keywords, in order */
	char *reject;
	bool failed; /* a run-time error: INBOX only, nothing else */
};

/* Log a script error as event=sieve.error user= line= reason=. */
static void log_script_error(const char *user, const char *path, const char *error)
{
	unsigned line = (unsigned)strtoul(error, NULL, 10);
	const char *why = strstr(error, ": ");
	char *reason = xstrdup(why != NULL ? why + 2 : error);

	for (char *c = reason; *c != '\0'; c++) {
		if (*c == '"' || (unsigned char)*c < 0x20)
			*c = '\'';
	}
	log_warn(NULL, "event=sieve.error user=%s script=\"%s\" line=%u reason=\"%s\"", user, path,
	         line, reason);
	free(reason);
}

/* Run the script at path (if it exists) into the plan's next result. */
static void run_one(struct plan *p, struct smtp_sieve_msg *m, const char *user, const char *path)
{
	const struct sieve_script *script;
	struct sieve_message msg;
	char *error = NULL;
	int ret;

	if (path == NULL || p->failed)
		return;
	ret = smtp_sieve_cache_get(path, &script, &p->refs[p->nresults], &error);
	if (ret < 0) {
		log_script_error(user, path, error);
		free(error);
		return; /* a script that does not compile is not run */
	}
	if (ret == 0)
		return;
	smtp_sieve_msg_callbacks(m, user, &msg);
	if (sieve_run(script, &msg, &p->results[p->nresults]) < 0) {
		log_script_error(user, path, p->results[p->nresults].error);
		p->failed = true;
	}
	smtp_sieve_msg_release_includes(m);
	p->nresults++;
}

/* True if result cancels the implicit keep: an action without :copy that
   is not a keep or vacation, or no action at all (discard). */
static bool cancels_keep(const struct sieve_result *r)
{
	if (r->nactions == 0)
		return true;
	for (size_t i = 0; i < r->nactions; i++) {
		enum sieve_action_type t = r->actions[i].type;

		if (t != SIEVE_ACT_KEEP && t != SIEVE_ACT_VACATION && !r->actions[i].copy)
			return true;
	}
	return false;
}

static unsigned flag_bit(const char *flag)
{
	static const struct {
		const char *name;
		unsigned bit;
	} map[] = {{"\\Seen", MAIL_SEEN},
	           {"\\Answered", MAIL_ANSWERED},
	           {"\\Flagged", MAIL_FLAGGED},
	           {"\\Deleted", MAIL_DELETED},
	           {"\\Draft", MAIL_DRAFT}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcasecmp(flag, map[i].name) == 0)
			return map[i].bit;
	}
	return 0;
}

/* A delivery target for a keep or fileinto (keywords indexed into
   p->keywords; pointers fixed up once all are added). */
static void add_target(struct plan *p, struct smtp_sieve_msg *m, const struct smtp_sieve_rcpt *r,
                       const struct sieve_action *a)
{
	struct delivery_target *t;
	const char *mailbox = a->type == SIEVE_ACT_KEEP ? r->mailbox : a->target;
	struct sieve_message msg;

	if (mailbox != NULL && strcasecmp(mailbox, "INBOX") == 0)
		mailbox = NULL;
	if (a->type == SIEVE_ACT_FILEINTO && mailbox != NULL && !a->create) {
		smtp_sieve_msg_callbacks(m, r->user, &msg);
		if (!msg.mailbox_exists(m, mailbox)) {
			log_warn(NULL,
			         "event=sieve.error user=%s line=0 reason=\"fileinto: no mailbox "
			         "'%s' (no :create): kept in INBOX\"",
			         r->user, mailbox);
			mailbox = NULL;
		}
	}
	for (size_t i = 0; i < p->targets.count; i++) {
		if ((p->targets.items[i].mailbox == NULL) == (mailbox == NULL) &&
		    (mailbox == NULL || strcmp(p->targets.items[i].mailbox, mailbox) == 0))
			return; /* merged with the same mailbox */
	}
	t = array_push(&p->targets);
	t->user = r->user;
	t->mailbox = mailbox;
	t->quota = r->quota;                                             /* quota (docs/quota.md) */
	t->keywords = (const char *const *)(uintptr_t)p->keywords.count; /* index, fixed later */
	for (size_t i = 0; i < a->nflags; i++) {
		unsigned bit = flag_bit(a->flags[i]);

		if (bit != 0)
			t->flags |= bit;
		else if (a->flags[i][0] != '\\') {
			array_append(&p->keywords, a->flags[i]);
			t->keyword_count++;
		}
	}
}

/* Turn the results into targets, a reject, and (for later) the rest. */
static void plan_actions(struct plan *p, struct smtp_sieve_msg *m, const struct smtp_sieve_rcpt *r)
{
	bool cancelled = false;

	if (p->failed) {
		struct sieve_action keep = {.type = SIEVE_ACT_KEEP};

		add_target(p, m, r, &keep);
		return;
	}
	for (size_t i = 0; i < p->nresults; i++)
		cancelled |= cancels_keep(&p->results[i]);
	for (size_t i = 0; i < p->nresults; i++) {
		const struct sieve_result *res = &p->results[i];
		bool explicit_keep = cancels_keep(res);

		for (size_t j = 0; j < res->nactions; j++) {
			const struct sieve_action *a = &res->actions[j];

			if (a->type == SIEVE_ACT_KEEP && (explicit_keep || !cancelled))
				add_target(p, m, r, a);
			else if (a->type == SIEVE_ACT_FILEINTO)
				add_target(p, m, r, a);
			else if ((a->type == SIEVE_ACT_REJECT || a->type == SIEVE_ACT_EREJECT) &&
			         p->reject == NULL)
				p->reject = xstrdup(a->target != NULL ? a->target : "rejected");
		}
	}
	if (p->nresults == 0) {
		struct sieve_action keep = {.type = SIEVE_ACT_KEEP};

		add_target(p, m, r, &keep);
	}
}

/* Keep a queue id for the caller's notification (NULL: none). */
static void add_queued(struct smtp_sieve_rcpt *r, char *id)
{
	if (id == NULL)
		return;
	r->queued = xreallocarray(r->queued, r->queued_count + 1, sizeof(*r->queued));
	r->queued[r->queued_count++] = id;
}

/* The side effects once the user's copies are durable: redirects,
   vacation replies, duplicate records, a rejection message. */
static void plan_finish(struct plan *p, struct smtp_sieve_msg *m, struct smtp_sieve_rcpt *r)
{
	struct sieve_message msg;

	if (p->failed)
		return;
	smtp_sieve_msg_callbacks(m, r->user, &msg);
	for (size_t i = 0; i < p->nresults; i++) {
		const struct sieve_result *res = &p->results[i];

		for (size_t j = 0; j < res->nactions; j++) {
			const struct sieve_action *a = &res->actions[j];

			char *id = NULL;

			if (a->type == SIEVE_ACT_REDIRECT)
				(void)smtp_sieve_send_redirect(m, r->user, a->target, &id);
			else if (a->type == SIEVE_ACT_VACATION && a->skip != NULL)
				log_info(NULL, "event=sieve.vacation_skipped user=%s reason=\"%s\"",
				         r->user, a->skip);
			else if (a->type == SIEVE_ACT_VACATION &&
			         smtp_sieve_send_vacation(m, r->user, a, &id) == 0 &&
			         m->user_sieve_dir != NULL) {
				char *key = xasprintf("%s:%s", a->handle != NULL ? a->handle : "",
				                      a->recipient);

				smtp_sieve_state_record(m->user_sieve_dir, ".vacation", key,
				                        a->seconds);
				free(key);
			}
			add_queued(r, id);
		}
		for (size_t j = 0; j < res->nduplicates && m->user_sieve_dir != NULL; j++)
			smtp_sieve_state_record(m->user_sieve_dir, ".duplicate",
			                        res->duplicate_ids[j], res->duplicate_seconds[j]);
	}
	if (p->reject != NULL && !r->can_refuse) {
		char *id = NULL;

		(void)smtp_sieve_send_rejection(m, r->user, p->reject, &id);
		add_queued(r, id);
	} else if (p->reject != NULL) {
		log_info(NULL, "event=sieve.reject user=%s reason=\"%s\"", r->user, p->reject);
		r->reject = p->reject; /* one reply line: no control bytes, capped */
		p->reject = NULL;
		for (char *c = r->reject; *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = ' ';
		}
		if (strlen(r->reject) > 200)
			r->reject[200] = '\0';
	}
	if (p->targets.count == 0 && r->reject == NULL && r->queued_count == 0)
		log_info(NULL, "event=sieve.discard user=%s", r->user);
}

static void plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->nresults; i++)
		sieve_result_free(&p->results[i]);
	for (size_t i = 0; i < 3; i++)
		smtp_sieve_cache_put(p->refs[i]);
	array_free(&p->targets);
	array_free(&p->keywords);
	free(p->reject);
}

/* The plans of every recipient; the user's script between the globals. */
static void plan_all(struct plan *plans, struct smtp_sieve_msg *m, struct smtp_sieve_rcpt *rcpts,
                     size_t count)
{
	const struct sieve_settings *set = smtp_sieve_env.set;

	for (size_t i = 0; i < count; i++) {
		char *user_path = NULL;
		const char *error;

		run_one(&plans[i], m, rcpts[i].user, set->before);
		if (sieve_store_active_path(smtp_sieve_env.mail_dir, rcpts[i].user, &user_path,
		                            &error) < 0)
			log_warn(NULL, "event=sieve.error user=%s line=0 reason=\"%s\"",
			         rcpts[i].user, error);
		run_one(&plans[i], m, rcpts[i].user, user_path);
		run_one(&plans[i], m, rcpts[i].user, set->after);
		free(user_path);
		plan_actions(&plans[i], m, &rcpts[i]);
	}
}

/* Hand the path of a delivered result to its recipient. */
static void add_path(struct smtp_sieve_rcpt *r, struct delivery_result *res)
{
	if (res->ret != 0 || res->path == NULL)
		return;
	r->paths = xreallocarray(r->paths, r->path_count + 1, sizeof(*r->paths));
	r->paths[r->path_count++] = res->path;
	res->path = NULL;
}

void smtp_sieve_rcpt_clear(struct smtp_sieve_rcpt *rcpts, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; j < rcpts[i].path_count; j++)
			free(rcpts[i].paths[j]);
		free(rcpts[i].paths);
		for (size_t j = 0; j < rcpts[i].queued_count; j++)
			free(rcpts[i].queued[j]);
		free(rcpts[i].queued);
		rcpts[i].queued = NULL;
		rcpts[i].queued_count = 0;
		free(rcpts[i].reject);
		rcpts[i].paths = NULL;
		rcpts[i].path_count = 0;
		rcpts[i].reject = NULL;
	}
}

/* Without scripts: each recipient's default mailbox. */
static int plain_commit(struct delivery *d, struct smtp_sieve_rcpt *rcpts, size_t count,
                        enum delivery_mode mode, const char **error_r)
{
	struct delivery_target *targets = xcalloc(count, sizeof(*targets));
	struct delivery_result *results = xcalloc(count, sizeof(*results));
	int ret;

	for (size_t i = 0; i < count; i++) {
		targets[i].user = rcpts[i].user;
		targets[i].mailbox = rcpts[i].mailbox;
		targets[i].quota = rcpts[i].quota;
	}
	ret = delivery_commit(d, targets, count, mode, results, error_r);
	for (size_t i = 0; i < count; i++) {
		rcpts[i].ret = results[i].ret;
		rcpts[i].over_quota = results[i].over_quota;
		add_path(&rcpts[i], &results[i]);
	}
	delivery_results_clear(results, count);
	free(results);
	free(targets);
	return ret;
}

/* One delivery_commit() for every plan's targets; sets each rcpt's ret. */
static int commit_plans(struct delivery *d, struct plan *plans, struct smtp_sieve_rcpt *rcpts,
                        size_t count, enum delivery_mode mode, const char **error_r)
{
	ARRAY(struct delivery_target) all = ARRAY_INIT;
	ARRAY(size_t) owner = ARRAY_INIT;
	struct delivery_result *results;
	int ret = 0;

	for (size_t i = 0; i < count; i++) {
		struct plan *p = &plans[i];

		for (size_t j = 0; j < p->targets.count; j++) {
			struct delivery_target t = p->targets.items[j];
			size_t k = (size_t)(uintptr_t)t.keywords;

			t.keywords = t.keyword_count > 0 ? &p->keywords.items[k] : NULL;
			array_append(&all, t);
			array_append(&owner, i);
		}
		rcpts[i].ret = 0;
	}
	results = xcalloc(all.count > 0 ? all.count : 1, sizeof(*results));
	if (all.count == 0)
		delivery_abort(&d); /* every recipient discarded or rejected */
	else
		ret = delivery_commit(d, all.items, all.count, mode, results, error_r);
	for (size_t k = 0; k < all.count; k++) {
		if (results[k].ret < 0)
			rcpts[owner.items[k]].ret = -1;
		if (results[k].over_quota)
			rcpts[owner.items[k]].over_quota = true;
		add_path(&rcpts[owner.items[k]], &results[k]);
	}
	delivery_results_clear(results, all.count);
	free(results);
	array_free(&all);
	array_free(&owner);
	return ret;
}

int smtp_sieve_commit(const struct tern_settings *settings, struct delivery *d, const char *sender,
                      struct smtp_sieve_rcpt *rcpts, size_t count, enum delivery_mode mode,
                      const char **error_r)
{
	struct smtp_sieve_msg m;
	struct plan *plans;
	int ret;

	for (size_t i = 0; i < count; i++) {
		rcpts[i].reject = NULL;
		rcpts[i].paths = NULL;
		rcpts[i].path_count = 0;
		rcpts[i].queued = NULL;
		rcpts[i].queued_count = 0;
	}
	if (settings != NULL)
		smtp_sieve_init(settings);
	if (!sieve_ready || !smtp_sieve_env.set->enabled || count == 0)
		return plain_commit(d, rcpts, count, mode, error_r);
	if (smtp_sieve_msg_load(&m, d, sender, error_r) < 0) {
		log_warn(NULL, "event=sieve.error user=%s line=0 reason=\"%s\"", rcpts[0].user,
		         *error_r);
		return plain_commit(d, rcpts, count, mode, error_r);
	}
	plans = xcalloc(count, sizeof(*plans));
	plan_all(plans, &m, rcpts, count);
	ret = commit_plans(d, plans, rcpts, count, mode, error_r);
	for (size_t i = 0; i < count; i++) {
		if (rcpts[i].ret == 0)
			plan_finish(&plans[i], &m, &rcpts[i]);
		plan_clear(&plans[i]);
	}
	free(plans);
	smtp_sieve_msg_free(&m);
	return ret;
}
