/* The LMTP policy: directory lookups, no mail authentication, delivery per
   recipient (smtp-policy-lmtp.h). */
#include "smtp/smtp-policy-lmtp.h"

#include <stdlib.h>
#include <string.h>

#include "directory/directory-async.h"
#include "lib/array.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "lib/cidr.h"
#include "smtp/smtp-rcpt.h"
#include "smtp/smtp-settings.h"
#include "smtp/smtp-sieve.h"
#include "store/delivery.h"

struct smtp_lmtp {
	struct role_ctx *role;
	const struct tern_settings *settings;
	struct smtp_rcpt_env rcpt; /* RCPT lookups on the role's worker pool */
};

/* An accepted recipient: which users it stands for (an alias may give
   several). In RCPT order, as the session keeps them. */
struct lmtp_rcpt {
	char *address;
	ARRAY(size_t) users; /* indexes into lmtp_session.targets.users */
};

struct lmtp_session {
	struct smtp_lmtp *lm;
	struct smtp_session *s;
	bool trusted;
	struct smtp_rcpts targets; /* the users (once each), the RCPT being answered */
	ARRAY(struct lmtp_rcpt) rcpts;
	bool *delivered;  /* per user, after the commit */
	char **rejected;  /* sieve: per user, the script's reject reason or NULL */
	bool *over_quota; /* per user, after the commit (docs/quota.md) */
	struct smtp_message *msg;
	struct delivery *delivery;
};

struct commit_job {
	struct lmtp_session *ls;
	ARRAY(char *) queued; /* sieve: queue ids of what the scripts sent */
	struct delivery *delivery;
	const char *error;
	int ret;
};

/* ---- MAIL ---- */

static bool peer_trusted(struct lmtp_session *ls)
{
	const struct lmtp_settings *set = lmtp_settings(ls->lm->settings);

	return smtp_session_peer_is_unix(ls->s) ||
	       ip_in_networks(smtp_session_peer_ip(ls->s), set->trusted_networks,
	                      set->trusted_network_count);
}

static void lmtp_mail(void *ctx, struct smtp_session *s)
{
	struct lmtp_session *ls = ctx;

	if (!ls->trusted) {
		log_info(smtp_session_sid(s), "event=lmtp.untrusted ip=%s",
		         smtp_session_peer_ip(s));
		smtp_stage_reply(s, 550, "5.7.1", "LMTP not allowed from this address");
		return;
	}
	smtp_stage_reply(s, 250, "2.1.0", "Ok");
}

/* ---- RCPT ---- */

static void rcpt_reply(struct lmtp_session *ls, unsigned code, const char *enhanced,
                       const char *text)
{
	smtp_rcpt_answer(&ls->targets, code, enhanced, code >= 300, text);
}

/* Record the accepted recipient with the users of res->local. */
static int add_rcpt(struct lmtp_session *ls, const struct directory_resolution *res)
{
	struct lmtp_rcpt r = {xstrdup(ls->targets.addr), ARRAY_INIT};

	for (size_t i = 0; i < res->local_count; i++) {
		size_t index;

		if (smtp_rcpts_add_user(&ls->targets, res->local[i], &index) < 0) {
			array_free(&r.users);
			free(r.address);
			return -1;
		}
		array_append(&r.users, index);
	}
	array_append(&ls->rcpts, r);
	return 0;
}

static void rcpt_local(struct lmtp_session *ls, const struct directory_resolution *res)
{
	if (res->local_count == 0) {
		/* only remote forwards: there is no queue to send them yet */
		rcpt_reply(ls, 451, "4.3.0", "Forwarding not available yet");
		return;
	}
	if (add_rcpt(ls, res) < 0) {
		rcpt_reply(ls, 451, "4.3.0", "Temporary local problem");
		return;
	}
	if (res->remote_count > 0)
		log_warn(smtp_session_sid(ls->s),
		         "event=lmtp.forward_skipped remote=%zu reason=\"no queue yet\"",
		         res->remote_count);
	rcpt_reply(ls, 250, "2.1.5", "Ok");
}

/* The policy's part of the directory's answer (smtp_rcpt_found_cb). */
static void rcpt_found(void *ctx, const struct directory_resolution *res)
{
	struct lmtp_session *ls = ctx;

	if (res->result == DIRECTORY_LOCAL) {
		rcpt_local(ls, res);
		return;
	}
	/* LMTP is final delivery: a domain this mailstore does not hold is
	   not for it */
	rcpt_reply(ls, 550, "5.1.2", "Recipient address rejected: not a local domain");
}

static void lmtp_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	struct lmtp_session *ls = ctx;

	(void)s;
	/* the stage is pending; the session lives until its reply */
	if (smtp_rcpt_begin(&ls->targets, addr, true))
		smtp_rcpt_resolve(&ls->targets);
}

/* ---- DATA ---- */

static void commit_work(void *ctx)
{
	struct commit_job *job = ctx;
	struct lmtp_session *ls = job->ls;
	size_t n = ls->targets.users.count;
	struct smtp_sieve_rcpt *rcpts = xcalloc(n, sizeof(*rcpts));

	for (size_t i = 0; i < n; i++) {
		rcpts[i].user = ls->targets.users.items[i].name;
		rcpts[i].can_refuse = true;                         /* LMTP replies per recipient */
		rcpts[i].quota = &ls->targets.users.items[i].quota; /* quota */
	}
	/* one reply per recipient: each mailbox on its own; sieve runs each
	   user's scripts (smtp-sieve.h) */
	job->ret = smtp_sieve_commit(ls->lm->settings, job->delivery, ls->msg->mail_from, rcpts, n,
	                             DELIVERY_PER_TARGET, &job->error);
	for (size_t i = 0; i < n; i++) {
		ls->delivered[i] = rcpts[i].ret == 0;
		ls->over_quota[i] = rcpts[i].over_quota; /* quota */
		ls->rejected[i] = rcpts[i].reject;
		rcpts[i].reject = NULL;
		for (size_t j = 0; j < rcpts[i].queued_count; j++)
			array_append(&job->queued, rcpts[i].queued[j]);
		rcpts[i].queued_count = 0;
	}
	smtp_sieve_rcpt_clear(rcpts, n);
	free(rcpts);
}

/* sieve: free the per-user reject reasons (the users are still there). */
static void free_rejected(struct lmtp_session *ls)
{
	for (size_t i = 0; ls->rejected != NULL && i < ls->targets.users.count; i++)
		free(ls->rejected[i]);
	free(ls->rejected);
	ls->rejected = NULL;
}

/* sieve: the reject reason of one of r's users, or NULL. */
static const char *rcpt_rejected(const struct lmtp_session *ls, const struct lmtp_rcpt *r)
{
	for (size_t i = 0; i < r->users.count; i++) {
		if (ls->rejected[r->users.items[i]] != NULL)
			return ls->rejected[r->users.items[i]];
	}
	return NULL;
}

/* quota: whether a user of r was refused by its quota (552 5.2.2, which
   Postfix takes as permanent, as with Dovecot's LMTP) */
static bool rcpt_over_quota(const struct lmtp_session *ls, const struct lmtp_rcpt *r)
{
	for (size_t i = 0; i < r->users.count; i++) {
		if (ls->over_quota[r->users.items[i]])
			return true;
	}
	return false;
}

static bool rcpt_delivered(const struct lmtp_session *ls, const struct lmtp_rcpt *r)
{
	for (size_t i = 0; i < r->users.count; i++) {
		if (!ls->delivered[r->users.items[i]])
			return false;
	}
	return true;
}

/* The replies, one per accepted recipient in RCPT order. The last may
   free the session (and ls): nothing of ls is touched after it. */
static void reply_each(struct lmtp_session *ls, const char *id)
{
	struct smtp_session *s = ls->s;
	size_t n = ls->rcpts.count;
	bool *ok = xcalloc(n > 0 ? n : 1, sizeof(*ok));
	bool *full = xcalloc(n > 0 ? n : 1, sizeof(*full)); /* quota */
	char **addrs = xcalloc(n > 0 ? n : 1, sizeof(*addrs));
	char **rejects = xcalloc(n > 0 ? n : 1, sizeof(*rejects)); /* sieve */
	char *msg_id = xstrdup(id);

	for (size_t i = 0; i < n; i++) {
		const char *why = rcpt_rejected(ls, &ls->rcpts.items[i]);

		ok[i] = rcpt_delivered(ls, &ls->rcpts.items[i]);
		full[i] = !ok[i] && rcpt_over_quota(ls, &ls->rcpts.items[i]);
		addrs[i] = xstrdup(ls->rcpts.items[i].address);
		rejects[i] = why != NULL ? xstrdup(why) : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (rejects[i] != NULL)
			smtp_stage_reply(s, 550, "5.7.1", "<%s> %s", addrs[i], rejects[i]);
		else if (ok[i])
			smtp_stage_reply(s, 250, "2.0.0", "<%s> Ok: delivered as %s", addrs[i],
			                 msg_id);
		else if (full[i]) /* quota */
			smtp_stage_reply(s, 552, "5.2.2", "<%s> Mailbox full: over quota",
			                 addrs[i]);
		else
			smtp_stage_reply(s, 451, "4.3.0",
			                 "<%s> Error: local delivery failed, try again later",
			                 addrs[i]);
		free(addrs[i]);
		free(rejects[i]);
	}
	free(addrs);
	free(rejects);
	free(ok);
	free(full);
	free(msg_id);
}

static void commit_done(void *ctx)
{
	struct commit_job *job = ctx;
	struct lmtp_session *ls = job->ls;
	const struct smtp_message *msg = ls->msg;
	const char *sid = smtp_session_sid(ls->s);
	size_t delivered = 0;
	char *from = log_value(msg->mail_from, strlen(msg->mail_from), 300);

	for (size_t i = 0; i < ls->targets.users.count; i++) {
		if (!ls->delivered[i])
			continue;
		delivered++;
		/* durable: IDLE sessions of this user (every imap process) wake */
		role_notify_mailbox_changed(ls->lm->role, ls->targets.users.items[i].name);
	}
	if (job->ret < 0)
		log_error(sid, "event=lmtp.delivery_error id=%s error=\"%s\" failed=%zu", msg->id,
		          job->error, ls->targets.users.count - delivered);
	log_info(sid, "event=lmtp.message id=%s from=<%s> size=%llu rcpts=%zu maildirs=%zu",
	         msg->id, from, (unsigned long long)msg->size, msg->rcpt_count, delivered);
	free(from);
	for (size_t i = 0; i < job->queued.count; i++) { /* sieve: redirect, vacation */
		role_notify_message_queued(ls->lm->role, job->queued.items[i]);
		free(job->queued.items[i]);
	}
	array_free(&job->queued);
	free(job);
	ls->msg = NULL;
	reply_each(ls, msg->id);
}

/* The trace fields, then the header section as the front MTA sent it:
   its Authentication-Results are its verdict and stay. */
static void set_prefix(struct lmtp_session *ls, const struct smtp_message *msg)
{
	struct buf b = BUF_INIT;

	buf_append(&b, msg->trace, msg->trace_len);
	buf_append(&b, msg->header, msg->header_len);
	if (msg->header_ended)
		buf_append_str(&b, "\r\n");
	delivery_set_prefix(ls->delivery, b.data, b.len);
	buf_free(&b);
}

static void lmtp_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct lmtp_session *ls = ctx;
	struct commit_job *job;

	ls->msg = msg;
	ls->delivery = msg->delivery;
	msg->delivery = NULL;
	if (ls->rcpts.count != msg->rcpt_count) {
		/* a bug: the session and the policy disagree on the recipients */
		log_error(smtp_session_sid(s), "event=lmtp.policy_error rcpts=%zu session=%zu",
		          ls->rcpts.count, msg->rcpt_count);
		abort();
	}
	set_prefix(ls, msg);
	free(ls->delivered);
	ls->delivered = xcalloc(ls->targets.users.count + 1, sizeof(*ls->delivered));
	free_rejected(ls);
	ls->rejected = xcalloc(ls->targets.users.count + 1, sizeof(*ls->rejected));
	free(ls->over_quota); /* quota */
	ls->over_quota = xcalloc(ls->targets.users.count + 1, sizeof(*ls->over_quota));
	/* fsync is slow: commit on the workpool (the stage is pending) */
	job = xcalloc(1, sizeof(*job));
	job->ls = ls;
	job->delivery = ls->delivery;
	ls->delivery = NULL;
	workpool_submit(ls->lm->role->pool, commit_work, commit_done, job);
}

/* ---- the session ---- */

static void lmtp_reset(void *ctx)
{
	struct lmtp_session *ls = ctx;

	free_rejected(ls);
	smtp_rcpts_reset(&ls->targets);
	free(ls->delivered);
	ls->delivered = NULL;
	free(ls->over_quota); /* quota */
	ls->over_quota = NULL;
	for (size_t i = 0; i < ls->rcpts.count; i++) {
		free(ls->rcpts.items[i].address);
		array_free(&ls->rcpts.items[i].users);
	}
	array_free(&ls->rcpts);
	delivery_abort(&ls->delivery);
	ls->msg = NULL;
}

static void lmtp_session_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct lmtp_session *ls = xcalloc(1, sizeof(*ls));

	ls->lm = policy;
	ls->s = s;
	smtp_rcpts_init(&ls->targets, &ls->lm->rcpt, s, rcpt_found, ls);
	ls->trusted = peer_trusted(ls);
	*ctx_r = ls;
}

static void lmtp_session_end(void *ctx)
{
	lmtp_reset(ctx);
	free(ctx);
}

const struct smtp_policy_ops smtp_lmtp_ops = {
    .session_begin = lmtp_session_begin,
    .session_end = lmtp_session_end,
    .mail = lmtp_mail,
    .rcpt = lmtp_rcpt,
    .data_end = lmtp_data_end,
    .reset = lmtp_reset,
};

/* ---- the role's part ---- */

int smtp_lmtp_new(struct role_ctx *role, struct smtp_lmtp **lmtp_r, const char **error_r)
{
	struct smtp_lmtp *lm = xcalloc(1, sizeof(*lm));

	lm->role = role;
	lm->settings = role->settings;
	if (smtp_rcpt_env_open(&lm->rcpt, role->settings, role->pool, "lmtp", error_r) < 0) {
		free(lm);
		return -1;
	}
	*lmtp_r = lm;
	return 0;
}

void smtp_lmtp_free(struct smtp_lmtp **lmp)
{
	struct smtp_lmtp *lm = *lmp;

	if (lm == NULL)
		return;
	smtp_rcpt_env_close(&lm->rcpt);
	free(lm);
	*lmp = NULL;
}
