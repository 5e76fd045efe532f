/* The submission policy: AUTH, sender ownership, RFC 6409 section 8
   fixes, DKIM signing and the all-or-nothing commit
   (smtp-policy-submission.h). */
#include "smtp/smtp-policy-submission.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "directory/directory-async.h"
#include "lib/array.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"
#include "queue/spool.h"
#include "smtp/smtp-commit.h"
#include "smtp/smtp-header.h"
#include "smtp/smtp-milter.h"
#include "smtp/smtp-rcpt.h"
#include "smtp/smtp-rate.h"
#include "smtp/smtp-settings.h"
#include "smtp/smtp-submission-header.h"
#include "smtp/smtp-submission-settings.h"
#include "store/delivery.h"

/* A domain's DKIM key, or the knowledge that it has none, for this long
   (a key made by `tern dkim keygen` is used within this time). */
#define KEY_CACHE_SECONDS 300
#define KEY_CACHE_MAX     1000

struct key_entry {
	char *domain;
	EVP_PKEY *key; /* NULL: the domain has no key */
	char *selector;
	time_t loaded;
};

struct smtp_submission {
	struct role_ctx *role;
	const struct tern_settings *settings;
	struct smtp_rcpt_env rcpt; /* RCPT lookups on the role's worker pool */
	struct smtp_rate *per_user, *per_ip;
	struct spool *spool; /* <data_dir>/queue: mail for remote recipients */
	ARRAY(struct key_entry) keys;
};

struct sub_session {
	struct smtp_submission *sub;
	struct smtp_session *s;
	/* the transaction */
	struct smtp_rcpts rcpts; /* local users and remote ones, once each */
	/* the header section as it streams, for the fixes and the signer */
	struct smtp_header header;
	bool header_done;
	struct buf fixes; /* Message-ID, Date: added after the header */
	struct dkim_signer *signer;
	EVP_PKEY *key; /* the signer's, one reference */
	char *signature;
	/* the end of DATA */
	struct smtp_message *msg;
	struct delivery *delivery;
	char **from;
	size_t from_count;
};

/* The signing job on the worker pool. */
struct sub_job {
	struct sub_session *ss;
	const char *error;
	int ret;
};

static const char *sid(const struct sub_session *ss)
{
	return smtp_session_sid(ss->s);
}

/* ---- DKIM keys ---- */

static void key_entry_clear(struct key_entry *e)
{
	free(e->domain);
	free(e->selector);
	EVP_PKEY_free(e->key);
}

static struct key_entry *key_cached(struct smtp_submission *sub, const char *domain, time_t now)
{
	for (size_t i = 0; i < sub->keys.count; i++) {
		struct key_entry *e = &sub->keys.items[i];

		if (strcmp(e->domain, domain) != 0)
			continue;
		if (now - e->loaded < KEY_CACHE_SECONDS)
			return e;
		key_entry_clear(e);
		array_remove(&sub->keys, i);
		return NULL;
	}
	return NULL;
}

/* The domain's key (a PEM file of a few hundred bytes, read on the loop
   once per KEY_CACHE_SECONDS), NULL if it has none. */
static struct key_entry *key_for(struct smtp_submission *sub, const char *domain)
{
	time_t now = time(NULL);
	struct key_entry *e = key_cached(sub, domain, now), fresh = {0};
	const char *error;

	if (e != NULL)
		return e;
	if (sub->keys.count >= KEY_CACHE_MAX) {
		key_entry_clear(&sub->keys.items[0]);
		array_remove(&sub->keys, 0);
	}
	fresh.domain = xstrdup(domain);
	fresh.loaded = now;
	if (dkim_key_find(sub->settings->data_dir, domain, NULL, &fresh.key, &fresh.selector,
	                  &error) < 0)
		fresh.key = NULL;
	array_append(&sub->keys, fresh);
	return &sub->keys.items[sub->keys.count - 1];
}

/* ---- the header section, as it streams ---- */

static void start_signer(struct sub_session *ss, const char *domain)
{
	struct key_entry *e = key_for(ss->sub, domain);
	struct dkim_sign_params p = {0};
	const char *error;

	if (e->key == NULL)
		return;
	p.domain = domain;
	p.selector = e->selector;
	p.key = e->key;
	if (dkim_signer_new(&p, &ss->signer, &error) < 0) {
		log_warn(sid(ss), "event=submission.dkim_error domain=%s error=\"%s\"", domain,
		         error);
		return;
	}
	EVP_PKEY_up_ref(e->key);
	ss->key = e->key;
}

static void sign_feed(struct sub_session *ss, const void *data, size_t len)
{
	const char *error;

	if (ss->signer != NULL && dkim_signer_feed(ss->signer, data, len, &error) < 0) {
		log_warn(sid(ss), "event=submission.dkim_error error=\"%s\"", error);
		dkim_signer_free(&ss->signer);
	}
}

/* The header section hdr is complete: decide the fixes, start the signer
   for the first From: domain that has a key and give it the header as it
   will be stored. */
static void header_complete(struct sub_session *ss, const char *hdr, size_t len)
{
	const struct tern_settings *set = ss->sub->settings;
	enum submission_from_error kind;
	char **from;
	size_t count;

	ss->header_done = true;
	submission_header_fixes(hdr, len, set->hostname, time(NULL), &ss->fixes);
	if (!submission_settings(set)->dkim_sign ||
	    submission_from_addresses(hdr, len, &from, &count, &kind) < 0)
		return;
	start_signer(ss, strrchr(from[0], '@') + 1);
	submission_addresses_free(&from, count);
	sign_feed(ss, hdr, len);
	sign_feed(ss, ss->fixes.data, ss->fixes.len);
	sign_feed(ss, "\r\n", 2);
}

static void sub_feed(void *ctx, const void *data, size_t len)
{
	struct sub_session *ss = ctx;
	size_t used = 0;
	int ret;

	if (ss->header_done) {
		sign_feed(ss, data, len);
		return;
	}
	ret = smtp_header_feed(&ss->header, data, len, &used);
	if (ret == 0)
		return;
	if (ret < 0) {
		/* too big: the session refuses the message */
		ss->header_done = true;
		return;
	}
	header_complete(ss, ss->header.fields.data != NULL ? ss->header.fields.data : "",
	                ss->header.fields.len);
	if (len > used)
		sign_feed(ss, (const char *)data + used, len - used);
}

/* ---- MAIL ---- */

static bool rate_ok(struct sub_session *ss, const char *user)
{
	struct smtp_submission *sub = ss->sub;
	const char *ip = smtp_session_peer_ip(ss->s);
	const char *kind = NULL;
	time_t now = time(NULL);

	if (!smtp_rate_allows(sub->per_user, user, now))
		kind = "messages_per_user";
	else if (!smtp_rate_allows(sub->per_ip, ip, now))
		kind = "messages_per_ip";
	if (kind == NULL)
		return true;
	log_info(sid(ss), "event=submission.limit limit=%s user=%s ip=%s", kind, user, ip);
	return false;
}

static void mail_checked(void *ctx, int ret, size_t first, const char *error)
{
	struct sub_session *ss = ctx;
	const char *from = smtp_session_mail_from(ss->s);
	char *v = log_value(from, strlen(from), 300);

	(void)first;
	if (ret < 0) {
		log_error(sid(ss), "event=submission.directory_error error=\"%s\"", error);
		free(v);
		smtp_stage_reply(ss->s, 451, "4.3.0", "Temporary lookup failure");
		return;
	}
	log_info(sid(ss), "event=submission.sender from=<%s> user=%s result=%s", v,
	         smtp_session_auth_user(ss->s), ret == 1 ? "owned" : "refused");
	if (ret == 1)
		smtp_stage_reply(ss->s, 250, "2.1.0", "Ok");
	else
		smtp_stage_reply(ss->s, 553, "5.7.1", "<%s>: Sender address not owned by user %s",
		                 v, smtp_session_auth_user(ss->s));
	free(v);
}

static void sub_mail(void *ctx, struct smtp_session *s)
{
	struct sub_session *ss = ctx;
	const char *user = smtp_session_auth_user(s), *from = smtp_session_mail_from(s);

	if (user == NULL) {
		smtp_stage_reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if (!rate_ok(ss, user)) {
		smtp_stage_reply(s, 451, "4.7.1", "Too many messages, try again later");
		return;
	}
	/* <> is how MUAs send MDNs (RFC 8098 section 3) and vacation
	   replies: allowed; the From: field is still checked */
	if (from[0] == '\0') {
		smtp_stage_reply(s, 250, "2.1.0", "Ok");
		return;
	}
	directory_async_senders_owned(ss->sub->rcpt.dir, user, &from, 1, mail_checked, ss);
}

/* ---- RCPT ---- */

/* The policy's part of the directory's answer (smtp_rcpt_found_cb). */
static void rcpt_found(void *ctx, const struct directory_resolution *res)
{
	struct sub_session *ss = ctx;

	if (res->result == DIRECTORY_NOT_LOCAL) {
		/* the user relays: into the spool */
		smtp_rcpts_add_remote(&ss->rcpts, ss->rcpts.addr, NULL);
		smtp_rcpt_answer(&ss->rcpts, 250, "2.1.5", false, "Ok");
		return;
	}
	if (smtp_rcpts_add_users(&ss->rcpts, res) < 0) {
		smtp_rcpt_answer(&ss->rcpts, 451, "4.3.0", true, "Temporary local problem");
		return;
	}
	for (size_t i = 0; i < res->remote_count; i++)
		smtp_rcpts_add_remote(&ss->rcpts, res->remote[i], ss->rcpts.addr);
	smtp_rcpt_answer(&ss->rcpts, 250, "2.1.5", false, "Ok");
}

static void sub_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	struct sub_session *ss = ctx;
	unsigned max = submission_settings(ss->sub->settings)->max_recipients;

	if (ss->rcpts.accepted >= max) {
		log_info(sid(ss), "event=submission.limit limit=max_recipients user=%s max=%u",
		         smtp_session_auth_user(s), max);
		smtp_stage_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (smtp_rcpt_begin(&ss->rcpts, addr, false))
		smtp_rcpt_resolve(&ss->rcpts);
}

/* ---- DATA ---- */

static void refuse(struct sub_session *ss, unsigned code, const char *enhanced, const char *text,
                   const char *reason)
{
	const struct smtp_message *msg = ss->msg;

	log_info(sid(ss), "event=smtp.message_refused id=%s reason=%s size=%llu code=%u", msg->id,
	         reason, (unsigned long long)msg->size, code);
	delivery_abort(&ss->delivery);
	ss->msg = NULL;
	smtp_stage_reply(ss->s, code, enhanced, "%s", text);
}

static void commit_done(void *ctx)
{
	struct smtp_commit *job = ctx;
	struct sub_session *ss = job->owner;
	const struct smtp_message *msg = ss->msg;
	const char *user = smtp_session_auth_user(ss->s);
	time_t now = time(NULL);

	for (size_t i = 0; i < job->queued_count; i++) /* sieve: redirect, vacation */
		role_notify_message_queued(ss->sub->role, job->queued[i]);
	ss->msg = NULL;
	if (job->ret < 0) {
		log_error(sid(ss), "event=smtp.delivery_error stage=commit id=%s error=\"%s\"",
		          msg->id, job->error);
		bool over_quota = job->over_quota; /* quota (docs/quota.md) */

		smtp_commit_clear(job);
		free(job);
		if (over_quota)
			smtp_stage_reply(ss->s, 552, "5.2.2", "Mailbox full: over quota");
		else
			smtp_stage_reply(ss->s, 451, "4.3.0",
			                 "Error: local delivery failed, try again later");
		return;
	}
	if (job->reject != NULL) { /* sieve: the only recipient's script refused it */
		smtp_stage_reply(ss->s, 550, "5.7.1", "%s", job->reject);
		smtp_commit_clear(job);
		free(job);
		return;
	}
	smtp_rate_add(ss->sub->per_user, user, now);
	smtp_rate_add(ss->sub->per_ip, smtp_session_peer_ip(ss->s), now);
	log_info(sid(ss),
	         "event=submission.message id=%s user=%s size=%llu rcpts=%zu maildirs=%zu "
	         "queue_id=%s remote=%zu dkim=%s",
	         msg->id, user, (unsigned long long)msg->size, msg->rcpt_count,
	         ss->rcpts.users.count, job->env.id != NULL ? job->env.id : "-",
	         job->env.rcpts.count, ss->signature != NULL ? "signed" : "none");
	for (size_t i = 0; i < ss->rcpts.users.count; i++)
		role_notify_mailbox_changed(ss->sub->role, ss->rcpts.users.items[i].name);
	if (job->env.id != NULL)
		role_notify_message_queued(ss->sub->role, job->env.id);
	smtp_commit_clear(job);
	free(job);
	smtp_stage_reply(ss->s, 250, "2.0.0", "Ok: queued as %s", msg->id);
}

/* What goes in front of the body: Return-Path and Received, the
   signature, the header section with the fixes, the empty line. */
static uint64_t set_prefix(struct sub_session *ss)
{
	const struct smtp_message *msg = ss->msg;
	const struct tern_settings *set = ss->sub->settings;
	struct submission_trace t = {
	    .helo = smtp_session_helo(ss->s),
	    .client_ip =
	        submission_settings(set)->hide_client_ip ? NULL : smtp_session_peer_ip(ss->s),
	    .hostname = set->hostname,
	    .id = msg->id,
	    .tls = smtp_session_tls(ss->s),
	    .rcpt = msg->rcpt_count == 1 ? msg->rcpts[0] : NULL,
	    .mail_from = msg->mail_from,
	    .smtputf8 = msg->smtputf8,
	    .now = time(NULL),
	};
	struct buf b = BUF_INIT;
	uint64_t return_path;
	unsigned removed;

	submission_trace_append(&t, &b);
	/* the Return-Path line is local delivery's (RFC 5321 4.4) */
	return_path = (uint64_t)((const char *)memchr(b.data, '\n', b.len) - b.data) + 1;
	if (ss->signature != NULL)
		buf_append_str(&b, ss->signature);
	/* forged claims of our authserv-id go, as on port 25 (RFC 8601 5);
	   the field is not signed, so the signature holds */
	removed = smtp_header_filter(msg->header, msg->header_len, set->hostname, &b);
	if (removed > 0)
		log_info(sid(ss), "event=smtp.auth_results_removed id=%s count=%u", msg->id,
		         removed);
	buf_append(&b, ss->fixes.data, ss->fixes.len);
	buf_append_str(&b, "\r\n");
	delivery_set_prefix(ss->delivery, b.data, b.len);
	buf_free(&b);
	return return_path;
}

static void commit(struct sub_session *ss)
{
	struct smtp_commit *job;
	uint64_t skip;

	if (smtp_session_gone(ss->s)) {
		refuse(ss, 451, "4.3.0", "Error: session closed", "gone");
		return;
	}
	skip = set_prefix(ss);
	job = xcalloc(1, sizeof(*job));
	job->owner = ss;
	job->spool = ss->sub->spool;
	job->delivery = ss->delivery;
	ss->delivery = NULL;
	job->users = ss->rcpts.users.items;
	job->user_count = ss->rcpts.users.count;
	job->settings = ss->sub->settings; /* sieve: the recipients' scripts */
	job->sender = ss->msg->mail_from;
	/* milter: SMFIR_QUARANTINE files into Junk (smtp-milter.c) */
	job->mailbox = ss->msg->quarantine ? "Junk" : NULL;
	if (ss->rcpts.remotes.count > 0)
		smtp_commit_fill_envelope(&job->env, ss->s, ss->msg, &ss->rcpts, skip);
	workpool_submit(ss->sub->role->pool, smtp_commit_work, commit_done, job);
}

/* The RSA signature takes about a millisecond (2048 bits): on the worker
   pool, so the loop goes on with other sessions. */
static void sign_work(void *ctx)
{
	struct sub_job *job = ctx;

	job->ret = dkim_signer_finish(job->ss->signer, &job->ss->signature, &job->error);
}

static void sign_done(void *ctx)
{
	struct sub_job *job = ctx;
	struct sub_session *ss = job->ss;

	if (job->ret < 0) {
		/* delivered unsigned rather than refused: the user did nothing
		   wrong */
		log_warn(sid(ss), "event=submission.dkim_error id=%s error=\"%s\"", ss->msg->id,
		         job->error);
		ss->signature = NULL;
	}
	free(job);
	commit(ss);
}

static void sign_and_commit(struct sub_session *ss)
{
	struct sub_job *job;

	if (ss->signer == NULL) {
		commit(ss);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->ss = ss;
	workpool_submit(ss->sub->role->pool, sign_work, sign_done, job);
}

static void from_checked(void *ctx, int ret, size_t first, const char *error)
{
	struct sub_session *ss = ctx;

	if (ret < 0) {
		log_error(sid(ss), "event=submission.directory_error error=\"%s\"", error);
		refuse(ss, 451, "4.3.0", "Temporary lookup failure", "directory_error");
		return;
	}
	if (ret == 0) {
		char *v = log_value(ss->from[first], strlen(ss->from[first]), 300);

		log_info(sid(ss), "event=submission.sender header_from=<%s> user=%s result=refused",
		         v, smtp_session_auth_user(ss->s));
		free(v);
		refuse(ss, 550, "5.7.1", "From: address not owned by the authenticated user",
		       "from_not_owned");
		return;
	}
	sign_and_commit(ss);
}

static void sub_data_checks(void *ctx)
{
	struct sub_session *ss = ctx;
	const struct smtp_message *msg = ss->msg;
	enum submission_from_error kind;

	if (!ss->header_done)
		header_complete(ss, msg->header, msg->header_len);
	if (submission_from_addresses(msg->header, msg->header_len, &ss->from, &ss->from_count,
	                              &kind) < 0) {
		refuse(ss, 550, "5.6.0",
		       kind == SUBMISSION_FROM_MISSING ? "Message has no From: address"
		                                       : "Malformed From: address",
		       kind == SUBMISSION_FROM_MISSING ? "no_from" : "bad_from");
		return;
	}
	directory_async_senders_owned(ss->sub->rcpt.dir, smtp_session_auth_user(ss->s),
	                              (const char *const *)ss->from, ss->from_count, from_checked,
	                              ss);
}

static void sub_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct sub_session *ss = ctx;

	ss->msg = msg;
	ss->delivery = msg->delivery;
	msg->delivery = NULL;
	/* milter: the recipients the milters changed, first (smtp-milter.h) */
	if (msg->milter_rcpts != NULL) {
		smtp_milter_rcpts_apply(&ss->rcpts, msg->milter_rcpts, sub_data_checks, ss);
		return;
	}
	sub_data_checks(ss);
}

/* ---- the session ---- */

static void sub_reset(void *ctx)
{
	struct sub_session *ss = ctx;

	smtp_rcpts_reset(&ss->rcpts);
	smtp_header_clear(&ss->header);
	smtp_header_init(&ss->header, smtp_settings(ss->sub->settings)->max_header_size);
	ss->header_done = false;
	buf_free(&ss->fixes);
	dkim_signer_free(&ss->signer);
	EVP_PKEY_free(ss->key);
	ss->key = NULL;
	free(ss->signature);
	ss->signature = NULL;
	delivery_abort(&ss->delivery);
	ss->msg = NULL;
	submission_addresses_free(&ss->from, ss->from_count);
	ss->from_count = 0;
}

static void sub_session_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct sub_session *ss = xcalloc(1, sizeof(*ss));

	ss->sub = policy;
	ss->s = s;
	smtp_rcpts_init(&ss->rcpts, &ss->sub->rcpt, s, rcpt_found, ss);
	smtp_header_init(&ss->header, smtp_settings(ss->sub->settings)->max_header_size);
	*ctx_r = ss;
}

static void sub_session_end(void *ctx)
{
	struct sub_session *ss = ctx;

	sub_reset(ss);
	smtp_header_clear(&ss->header);
	free(ss);
}

const struct smtp_policy_ops smtp_submission_ops = {
    .session_begin = sub_session_begin,
    .session_end = sub_session_end,
    .mail = sub_mail,
    .rcpt = sub_rcpt,
    .data_feed = sub_feed,
    .data_end = sub_data_end,
    .reset = sub_reset,
};

/* ---- the role's part ---- */

/* The spool port 25 opens too (which cleans up after a crash). */
static int open_spool(struct smtp_submission *sub, const char **error_r)
{
	char *dir = spool_dir_path(sub->settings);
	int ret = spool_open(dir, true, &sub->spool, error_r);

	free(dir);
	return ret;
}

int smtp_submission_new(struct role_ctx *role, struct smtp_submission **sub_r, const char **error_r)
{
	struct smtp_submission *sub = xcalloc(1, sizeof(*sub));
	const struct submission_settings *set = submission_settings(role->settings);

	sub->role = role;
	sub->settings = role->settings;
	if (smtp_rcpt_env_open(&sub->rcpt, role->settings, role->pool, "submission", error_r) < 0) {
		free(sub);
		return -1;
	}
	if (open_spool(sub, error_r) < 0) {
		smtp_rcpt_env_close(&sub->rcpt);
		free(sub);
		return -1;
	}
	sub->per_user = smtp_rate_new(set->max_messages_per_user,
	                              role->shared != NULL ? role->shared->submission_user : NULL);
	sub->per_ip = smtp_rate_new(set->max_messages_per_ip,
	                            role->shared != NULL ? role->shared->submission_ip : NULL);
	*sub_r = sub;
	return 0;
}

void smtp_submission_free(struct smtp_submission **subp)
{
	struct smtp_submission *sub = *subp;

	if (sub == NULL)
		return;
	smtp_rcpt_env_close(&sub->rcpt);
	smtp_rate_free(&sub->per_user);
	smtp_rate_free(&sub->per_ip);
	spool_free(&sub->spool);
	for (size_t i = 0; i < sub->keys.count; i++)
		key_entry_clear(&sub->keys.items[i]);
	array_free(&sub->keys);
	free(sub);
	*subp = NULL;
}

struct smtp_policy smtp_submission_policy(struct smtp_submission *sub)
{
	struct smtp_policy p = {
	    .ops = &smtp_submission_ops,
	    .policy = sub,
	    .tls_required = true,
	    .auth = true,
	};

	return p;
}
