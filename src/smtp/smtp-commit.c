/* The all-or-nothing commit of port 25 and submission (smtp-commit.h). */
#include "smtp/smtp-commit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "smtp/smtp-command.h"
#include "smtp/smtp-sieve.h"
#include "store/delivery.h"

/* Deliver to the local users, all or nothing, through their Sieve scripts
   (sieve: smtp-sieve.h); *rcpts_r (count user_count) keeps the delivered
   paths, for the caller to remove again if the spool commit fails. */
static int commit_local(struct smtp_commit *c, struct smtp_sieve_rcpt **rcpts_r)
{
	size_t n = c->user_count;
	struct smtp_sieve_rcpt *rcpts = xcalloc(n, sizeof(*rcpts));
	int ret;

	for (size_t i = 0; i < n; i++) {
		rcpts[i].user = c->users[i].name;
		rcpts[i].mailbox = c->mailbox;
		rcpts[i].quota = &c->users[i].quota; /* quota (docs/quota.md) */
		/* one reply for the message: a 550 only for a lone recipient */
		rcpts[i].can_refuse = n == 1 && c->env.rcpts.count == 0;
	}
	ret = smtp_sieve_commit(c->settings, c->delivery, c->sender != NULL ? c->sender : "", rcpts,
	                        n, DELIVERY_ALL_OR_NOTHING, &c->error);
	/* quota: one user over it refuses the whole message (one reply) */
	for (size_t i = 0; i < n && ret < 0; i++)
		c->over_quota = c->over_quota || rcpts[i].over_quota;
	c->delivery = NULL;
	if (ret == 0 && n == 1) {
		c->reject = rcpts[0].reject;
		rcpts[0].reject = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < rcpts[i].queued_count; j++) {
			c->queued =
			    xreallocarray(c->queued, c->queued_count + 1, sizeof(*c->queued));
			c->queued[c->queued_count++] = rcpts[i].queued[j];
		}
		rcpts[i].queued_count = 0;
	}
	*rcpts_r = rcpts;
	return ret;
}

void smtp_commit_work(void *ctx)
{
	struct smtp_commit *c = ctx;
	size_t n = c->user_count;
	struct smtp_sieve_rcpt *rcpts = NULL;
	struct spool_entry *entry = NULL;

	c->ret = 0;
	if (n == 0 && c->env.rcpts.count == 0) {
		c->error = "no recipient";
		c->ret = -1;
	} else if (c->env.rcpts.count > 0 &&
	           spool_prepare(c->spool, c->delivery, &c->env, &entry, &c->error) < 0)
		c->ret = -1;
	if (c->ret == 0 && n > 0 && commit_local(c, &rcpts) < 0) {
		spool_abort(&entry);
		c->ret = -1;
	}
	delivery_abort(&c->delivery);
	if (c->ret == 0 && entry != NULL && spool_commit(&entry, &c->error) < 0) {
		/* best effort: the local copies go too, for the 451 */
		for (size_t i = 0; rcpts != NULL && i < n; i++) {
			for (size_t j = 0; j < rcpts[i].path_count; j++)
				unlink(rcpts[i].paths[j]);
		}
		c->ret = -1;
	}
	if (rcpts != NULL)
		smtp_sieve_rcpt_clear(rcpts, n);
	free(rcpts);
}

/* The DSN parameters of the RCPT a remote recipient came from. */
static void add_remote_rcpt(struct spool_envelope *env, const struct smtp_message *msg,
                            const struct smtp_rcpt_remote *r)
{
	const struct smtp_rcpt_params *p =
	    r->rcpt_index < msg->rcpt_count && msg->rcpt_params != NULL
	        ? &msg->rcpt_params[r->rcpt_index]
	        : NULL;
	char *type = NULL, *orcpt = NULL;
	const char *semi;

	if (p != NULL && p->orcpt != NULL && (semi = strchr(p->orcpt, ';')) != NULL) {
		type = xstrndup(p->orcpt, (size_t)(semi - p->orcpt));
		orcpt = smtp_xtext_decode(semi + 1, strlen(semi + 1));
	}
	/* the SMTP and spool NOTIFY bits are the same RFC 3461 set */
	spool_envelope_add_rcpt(env, r->address, p != NULL ? p->notify : 0, type, orcpt, r->alias)
	    ->rcpt_index = r->rcpt_index;
	free(type);
	free(orcpt);
}

static enum spool_body spool_body_of(enum smtp_body body)
{
	switch (body) {
	case SMTP_BODY_7BIT:
		return SPOOL_BODY_7BIT;
	case SMTP_BODY_8BITMIME:
		return SPOOL_BODY_8BITMIME;
	case SMTP_BODY_BINARYMIME:
		return SPOOL_BODY_BINARYMIME;
	case SMTP_BODY_UNSET:
		break;
	}
	return SPOOL_BODY_UNSET;
}

static enum spool_ret spool_ret_of(enum smtp_dsn_ret ret)
{
	switch (ret) {
	case SMTP_DSN_RET_FULL:
		return SPOOL_RET_FULL;
	case SMTP_DSN_RET_HDRS:
		return SPOOL_RET_HDRS;
	case SMTP_DSN_RET_UNSET:
		break;
	}
	return SPOOL_RET_UNSET;
}

static char *xstrdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void smtp_commit_fill_envelope(struct spool_envelope *env, struct smtp_session *s,
                               const struct smtp_message *msg, const struct smtp_rcpts *r,
                               uint64_t data_skip)
{
	env->arrival = (int64_t)time(NULL);
	env->data_skip = data_skip;
	env->sender = xstrdup(msg->mail_from);
	env->client_ip = xstrdup(smtp_session_peer_ip(s));
	env->helo = xstrdup_or_null(smtp_session_helo(s));
	env->smtp_id = xstrdup(msg->id);
	env->ret = spool_ret_of(msg->dsn_ret);
	env->envid = msg->dsn_envid != NULL
	                 ? smtp_xtext_decode(msg->dsn_envid, strlen(msg->dsn_envid))
	                 : NULL;
	env->body = spool_body_of(msg->body);
	env->requiretls = msg->requiretls;
	env->smtputf8 = msg->smtputf8;
	env->auth_user = xstrdup_or_null(smtp_session_auth_user(s));
	for (size_t i = 0; i < r->remotes.count; i++)
		add_remote_rcpt(env, msg, &r->remotes.items[i]);
}

void smtp_commit_clear(struct smtp_commit *c)
{
	delivery_abort(&c->delivery);
	spool_envelope_clear(&c->env);
	free(c->reject);
	c->reject = NULL;
	for (size_t i = 0; i < c->queued_count; i++)
		free(c->queued[i]);
	free(c->queued);
	c->queued = NULL;
	c->queued_count = 0;
}
