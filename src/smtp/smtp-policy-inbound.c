/* The port-25 policy: directory, relay rules, mail authentication and the
   all-or-nothing commit (smtp-policy-inbound.h). */
#include "smtp/smtp-policy-inbound.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "directory/directory-async.h"
#include "dns/dns-resolver.h"
#include "dns/dns-settings.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "mailauth/mailauth-settings.h"
#include "mailauth/psl.h"
#include "queue/spool.h"
#include "queue/srs.h"
#include "smtp/smtp-command.h"
#include "smtp/smtp-commit.h"
#include "smtp/smtp-milter.h"
#include "smtp/smtp-header.h"
#include "smtp/smtp-mailauth.h"
#include "lib/cidr.h"
#include "smtp/smtp-rcpt.h"
#include "smtp/smtp-settings.h"
#include "store/delivery.h"

struct smtp_inbound {
	struct role_ctx *role;
	const struct tern_settings *settings;
	struct smtp_rcpt_env rcpt; /* RCPT lookups on the role's worker pool */
	struct smtp_mailauth_env auth_env;
	struct spool *spool; /* <data_dir>/queue: mail for remote recipients */
	struct srs *srs;     /* forwarded senders, and RCPTs to them (queue/srs.h) */
};

/* One session's state. */
struct inbound_session {
	struct smtp_inbound *in;
	struct smtp_session *s;
	/* The transaction. */
	struct smtp_mailauth *auth; /* port 25: SPF/DKIM/DMARC; NULL elsewhere */
	/* the accepted recipients: local users and remote ones, once each */
	struct smtp_rcpts rcpts;
	char *srs_target; /* what the RCPT, an SRS address of ours, stands for */
	/* whether the sender is in a local domain (no SRS for it); known
	   once an alias forwards the message */
	bool sender_checked, sender_local;
	/* The end of DATA. */
	struct smtp_message *msg;
	struct delivery *delivery;
	bool junk; /* DMARC quarantine: into each user's Junk folder */
};

/* ---- RCPT ---- */

static bool peer_is_trusted(struct inbound_session *is)
{
	const struct smtp_settings *smtp = smtp_settings(is->in->settings);

	return ip_in_networks(smtp_session_peer_ip(is->s), smtp->trusted_networks,
	                      smtp->trusted_network_count);
}

static void rcpt_ok(struct inbound_session *is)
{
	smtp_rcpt_answer(&is->rcpts, 250, "2.1.5", false, "Ok");
}

/* The sender's domain is local or not; the RCPT that asked is accepted. */
static void sender_resolved(void *ctx, int ret, struct directory_resolution *res, const char *error)
{
	struct inbound_session *is = ctx;

	(void)error;
	is->sender_checked = true;
	/* a failed lookup: rewrite (an SRS address still leads back) */
	is->sender_local = ret == 0 && res->result != DIRECTORY_NOT_LOCAL;
	rcpt_ok(is);
}

/* Accept an RCPT that forwards the message to a remote address: once per
   transaction, first ask whether the sender is ours (no SRS for it,
   srs_rewrite()). */
static void rcpt_forward_ok(struct inbound_session *is)
{
	const char *sender = smtp_session_mail_from(is->s);

	if (is->sender_checked || sender[0] == '\0') {
		rcpt_ok(is);
		return;
	}
	directory_async_resolve(is->in->rcpt.dir, sender, sender_resolved, is);
}

/* Local users get the message in their Maildirs, remote forward targets
   through the spool (with an SRS sender, srs_rewrite()). */
static void rcpt_local(struct inbound_session *is, const struct directory_resolution *res)
{
	if (smtp_rcpts_add_users(&is->rcpts, res) < 0) {
		smtp_rcpt_answer(&is->rcpts, 451, "4.3.0", true, "Temporary local problem");
		return;
	}
	for (size_t i = 0; i < res->remote_count; i++)
		smtp_rcpts_add_remote(&is->rcpts, res->remote[i], is->rcpts.addr);
	if (res->remote_count > 0) {
		rcpt_forward_ok(is);
		return;
	}
	rcpt_ok(is);
}

/* The policy's part of the directory's answer (smtp_rcpt_found_cb). */
static void rcpt_found(void *ctx, const struct directory_resolution *res)
{
	struct inbound_session *is = ctx;

	if (res->result == DIRECTORY_LOCAL) {
		rcpt_local(is, res);
		return;
	}
	/* No open relay: only trusted networks may relay (into the spool). */
	if (peer_is_trusted(is)) {
		smtp_rcpts_add_remote(&is->rcpts, is->rcpts.addr, NULL);
		rcpt_ok(is);
	} else {
		smtp_rcpt_answer(&is->rcpts, 554, "5.7.1", true, "Relay access denied");
	}
}

/* An SRS address that verifies: routed back to the address it stands for
   when its domain is ours; otherwise the usual rules. */
static void rcpt_srs_resolved(void *ctx, int ret, struct directory_resolution *res,
                              const char *error)
{
	struct inbound_session *is = ctx;
	char *target = is->srs_target;

	is->srs_target = NULL;
	if (ret < 0 || res->result == DIRECTORY_NOT_LOCAL) {
		free(target);
		smtp_rcpt_resolved(&is->rcpts, ret, res, error);
		return;
	}
	smtp_rcpts_add_remote(&is->rcpts, target, is->rcpts.addr);
	free(target);
	rcpt_forward_ok(is);
}

/* The one directory lookup of RCPT, on the role's worker pool (the stage
   is pending meanwhile; the session lives until its owed reply, so is
   outlives the request). */
static void inbound_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	struct inbound_session *is = ctx;
	enum srs_error kind;

	(void)s;
	if (!smtp_rcpt_begin(&is->rcpts, addr, false))
		return;
	if (is->in->srs != NULL && srs_is_srs(addr) &&
	    srs_reverse(is->in->srs, addr, time(NULL), &is->srs_target, &kind) == 0) {
		directory_async_resolve(is->in->rcpt.dir, addr, rcpt_srs_resolved, is);
		return;
	}
	smtp_rcpt_resolve(&is->rcpts);
}

/* ---- MAIL ---- */

static void inbound_mail(void *ctx, struct smtp_session *s)
{
	struct inbound_session *is = ctx;

	if (smtp_session_service(s) == &smtp_service_smtp)
		is->auth = smtp_mailauth_begin(&is->in->auth_env, s);
	smtp_stage_reply(s, 250, "2.1.0", "Ok");
}

/* ---- DATA ---- */

static void inbound_feed(void *ctx, const void *data, size_t len)
{
	struct inbound_session *is = ctx;

	if (is->auth != NULL)
		smtp_mailauth_feed(is->auth, data, len);
}

static void commit_done(void *ctx)
{
	struct smtp_commit *job = ctx;
	struct inbound_session *is = job->owner;
	const struct smtp_message *msg = is->msg;
	const char *sid = smtp_session_sid(is->s);

	for (size_t i = 0; i < job->queued_count; i++) /* sieve: redirect, vacation */
		role_notify_message_queued(is->in->role, job->queued[i]);
	is->msg = NULL;
	if (job->ret < 0) {
		log_error(sid, "event=smtp.delivery_error stage=commit id=%s error=\"%s\"", msg->id,
		          job->error);
		if (job->over_quota) /* quota (docs/quota.md) */
			smtp_stage_reply(is->s, 552, "5.2.2", "Mailbox full: over quota");
		else
			smtp_stage_reply(is->s, 451, "4.3.0",
			                 "Error: local delivery failed, try again later");
	} else if (job->reject != NULL) { /* sieve: the only recipient's script refused it */
		log_info(sid, "event=smtp.message_refused id=%s reason=sieve", msg->id);
		smtp_stage_reply(is->s, 550, "5.7.1", "%s", job->reject);
	} else {
		char *from = log_value(msg->mail_from, strlen(msg->mail_from), 300);

		log_info(sid,
		         "event=smtp.message id=%s from=<%s> size=%llu rcpts=%zu maildirs=%zu "
		         "queue_id=%s remote=%zu",
		         msg->id, from, (unsigned long long)msg->size, msg->rcpt_count,
		         is->rcpts.users.count, job->env.id != NULL ? job->env.id : "-",
		         job->env.rcpts.count);
		free(from);
		/* durable: IDLE sessions of these users (every imap process) wake */
		for (size_t i = 0; i < is->rcpts.users.count; i++)
			role_notify_mailbox_changed(is->in->role, is->rcpts.users.items[i].name);
		if (job->env.id != NULL)
			role_notify_message_queued(is->in->role, job->env.id);
		smtp_stage_reply(is->s, 250, "2.0.0", "Ok: queued as %s", msg->id);
	}
	smtp_commit_clear(job);
	free(job);
}

/* The bytes of the Return-Path field that starts the trace (local
   delivery's, RFC 5321 4.4): the queue does not relay it. */
static uint64_t return_path_len(const struct smtp_message *msg)
{
	const char *end;

	if (msg->trace_len < 12 || strncasecmp(msg->trace, "Return-Path:", 12) != 0)
		return 0;
	end = memmem(msg->trace, msg->trace_len, "\r\n", 2);
	return end != NULL ? (uint64_t)(end - msg->trace) + 2 : 0;
}

/* A message an alias forwards leaves with an SRS0 sender of the alias's
   domain, so SPF passes at the destination; not a null sender, nor one
   of our domains. */
static void srs_rewrite(struct inbound_session *is, struct spool_envelope *env)
{
	const char *domain = NULL, *error;
	char *rewritten;

	for (size_t i = 0; i < is->rcpts.remotes.count && domain == NULL; i++) {
		if (is->rcpts.remotes.items[i].alias != NULL)
			domain = strrchr(is->rcpts.remotes.items[i].alias, '@');
	}
	if (domain == NULL || is->in->srs == NULL || env->sender[0] == '\0' || is->sender_local)
		return;
	if (srs_forward(is->in->srs, env->sender, domain + 1, time(NULL), &rewritten, &error) < 0) {
		log_warn(smtp_session_sid(is->s), "event=smtp.srs_failed error=\"%s\"", error);
		return;
	}
	free(env->sender);
	env->sender = rewritten;
}

/* fsync is slow: commit on the workpool (the stage is pending); the reply
   goes out from commit_done, once the message is durable. */
static void commit(struct inbound_session *is)
{
	struct smtp_commit *job = xcalloc(1, sizeof(*job));

	job->owner = is;
	job->spool = is->in->spool;
	job->delivery = is->delivery;
	is->delivery = NULL;
	job->users = is->rcpts.users.items;
	job->user_count = is->rcpts.users.count;
	/* milter: SMFIR_QUARANTINE files into Junk too (smtp-milter.c) */
	job->mailbox = is->junk || is->msg->quarantine ? "Junk" : NULL;
	job->settings = is->in->settings; /* sieve: the recipients' scripts */
	job->sender = is->msg->mail_from;
	if (is->rcpts.remotes.count > 0) {
		/* the spool envelope, filled on the loop thread */
		smtp_commit_fill_envelope(&job->env, is->s, is->msg, &is->rcpts,
		                          return_path_len(is->msg));
		srs_rewrite(is, &job->env);
	}
	workpool_submit(is->in->role->pool, smtp_commit_work, commit_done, job);
}

static void refuse(struct inbound_session *is, unsigned code, const char *enhanced,
                   const char *text, const char *reason)
{
	const struct smtp_message *msg = is->msg;

	log_info(smtp_session_sid(is->s),
	         "event=smtp.message_refused id=%s reason=%s size=%llu code=%u", msg->id, reason,
	         (unsigned long long)msg->size, code);
	delivery_abort(&is->delivery);
	is->msg = NULL;
	smtp_stage_reply(is->s, code, enhanced, "%s", text);
}

/* What goes in front of the body: the trace fields, our
   Authentication-Results (ar, may be empty), the header section without
   forged claims of our authserv-id (RFC 8601 section 5). */
static void set_prefix(struct inbound_session *is, const struct buf *ar)
{
	const struct smtp_message *msg = is->msg;
	struct buf b = BUF_INIT;
	unsigned removed;

	buf_append(&b, msg->trace, msg->trace_len);
	buf_append(&b, ar->data, ar->len);
	removed = smtp_header_filter(msg->header, msg->header_len, is->in->settings->hostname, &b);
	if (msg->header_ended)
		buf_append_str(&b, "\r\n");
	if (removed > 0)
		log_info(smtp_session_sid(is->s), "event=smtp.auth_results_removed id=%s count=%u",
		         msg->id, removed);
	delivery_set_prefix(is->delivery, b.data, b.len);
	buf_free(&b);
}

/* Apply the mail authentication verdict; 0 if the message is to be
   stored, -1 if it was refused. */
static int apply_verdict(struct inbound_session *is, struct buf *ar)
{
	switch (smtp_mailauth_result(is->auth, is->msg->id, ar)) {
	case SMTP_AUTH_REJECT:
		refuse(is, 550, "5.7.1",
		       "Message rejected: it fails the DMARC policy of its From domain",
		       "dmarc_reject");
		return -1;
	case SMTP_AUTH_DEFER:
		refuse(is, 451, "4.7.1",
		       "Temporary DNS failure while checking SPF/DKIM/DMARC, try again later",
		       "dns_temperror");
		return -1;
	case SMTP_AUTH_JUNK:
		/* DMARC quarantine: the same recipients' Junk folders (the
		   commit creates a missing one) */
		is->junk = true;
		return 0;
	case SMTP_AUTH_DELIVER:
		break;
	}
	return 0;
}

/* The checks are done. */
static void mailauth_done(void *ctx)
{
	struct inbound_session *is = ctx;
	struct buf ar = BUF_INIT;

	if (smtp_session_gone(is->s)) {
		/* nobody would hear the 250: store nothing */
		delivery_abort(&is->delivery);
		is->msg = NULL;
		smtp_stage_reply(is->s, 451, "4.3.0", "Error: session closed");
		return;
	}
	if (apply_verdict(is, &ar) == 0) {
		set_prefix(is, &ar);
		commit(is);
	}
	buf_free(&ar);
}

static void data_end_checks(void *ctx)
{
	struct inbound_session *is = ctx;
	struct buf none = BUF_INIT;

	if (is->auth != NULL) {
		/* wait for SPF, the DKIM keys and DMARC (the stage is pending) */
		smtp_mailauth_finish(is->auth, mailauth_done, is);
		return;
	}
	set_prefix(is, &none);
	commit(is);
}

static void inbound_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct inbound_session *is = ctx;

	is->msg = msg;
	is->delivery = msg->delivery;
	msg->delivery = NULL;
	/* milter: the recipients the milters changed, first (smtp-milter.h) */
	if (msg->milter_rcpts != NULL) {
		smtp_milter_rcpts_apply(&is->rcpts, msg->milter_rcpts, data_end_checks, is);
		return;
	}
	data_end_checks(is);
}

/* ---- the session ---- */

static void inbound_reset(void *ctx)
{
	struct inbound_session *is = ctx;

	smtp_mailauth_free(&is->auth);
	smtp_rcpts_reset(&is->rcpts);
	free(is->srs_target);
	is->srs_target = NULL;
	is->sender_checked = is->sender_local = false;
	delivery_abort(&is->delivery);
	is->msg = NULL;
	is->junk = false;
}

static void inbound_session_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct inbound_session *is = xcalloc(1, sizeof(*is));

	is->in = policy;
	is->s = s;
	smtp_rcpts_init(&is->rcpts, &is->in->rcpt, s, rcpt_found, is);
	*ctx_r = is;
}

static void inbound_session_end(void *ctx)
{
	inbound_reset(ctx);
	free(ctx);
}

const struct smtp_policy_ops smtp_inbound_ops = {
    .session_begin = inbound_session_begin,
    .session_end = inbound_session_end,
    .mail = inbound_mail,
    .rcpt = inbound_rcpt,
    .data_feed = inbound_feed,
    .data_end = inbound_data_end,
    .reset = inbound_reset,
};

/* ---- the role's part ---- */

/* One resolver for the role, on its event base (docs/dns.md). */
static int open_resolver(struct smtp_inbound *in, const char **error_r)
{
	const struct dns_settings *set = dns_settings(in->settings);
	struct dns_resolver_settings dns = {
	    .zone_file = set->zone_file,
	    .forwarders = (const char *const *)set->forwarders,
	    .forwarder_count = set->forwarder_count,
	    .timeout_msecs = set->timeout * 1000,
	};
	char *error;

	if (dns_resolver_new(in->role->base, &dns, &in->auth_env.resolver, &error) == 0)
		return 0;
	log_error(NULL, "event=smtp.dns_error error=\"%s\"", error);
	free(error);
	*error_r = "cannot start the DNS resolver";
	return -1;
}

/* Without the list DMARC still works, taking the last two labels as the
   Organizational Domain (the list's implicit "*" rule). */
static void load_psl(struct smtp_inbound *in)
{
	char *error;

	if (psl_load(mailauth_settings(in->settings)->psl_file, &in->auth_env.psl, &error) == 0)
		return;
	log_warn(NULL, "event=smtp.psl_error error=\"%s\"", error);
	free(error);
	in->auth_env.psl = psl_new();
}

/* Without the secret (logged) forwarded mail keeps its sender and SRS
   addresses are not recognised: worse SPF results, no lost mail. */
static void open_srs(struct smtp_inbound *in)
{
	char *secret = srs_secret_path(in->settings->data_dir);
	const char *error;

	if (srs_open(secret, &in->srs, &error) < 0)
		log_warn(NULL, "event=smtp.srs_unavailable error=\"%s\"", error);
	free(secret);
}

static int open_spool(struct smtp_inbound *in, const char **error_r)
{
	char *dir = spool_dir_path(in->settings);
	size_t removed;
	const char *error;
	int ret = spool_open(dir, true, &in->spool, error_r);

	free(dir);
	open_srs(in);
	/* what a crash left an hour ago or more: no commit takes that long */
	if (ret == 0 && spool_cleanup(in->spool, 3600, &removed, &error) < 0)
		log_warn(NULL, "event=smtp.queue_cleanup_failed error=\"%s\"", error);
	return ret;
}

int smtp_inbound_new(struct role_ctx *role, struct smtp_inbound **in_r, const char **error_r)
{
	struct smtp_inbound *in = xcalloc(1, sizeof(*in));

	in->role = role;
	in->settings = role->settings;
	in->auth_env.settings = role->settings;
	in->auth_env.base = role->base;
	if (smtp_rcpt_env_open(&in->rcpt, role->settings, role->pool, "smtp", error_r) < 0 ||
	    open_spool(in, error_r) < 0 || open_resolver(in, error_r) < 0) {
		smtp_inbound_free(&in);
		return -1;
	}
	load_psl(in);
	*in_r = in;
	return 0;
}

void smtp_inbound_free(struct smtp_inbound **inp)
{
	struct smtp_inbound *in = *inp;

	if (in == NULL)
		return;
	smtp_rcpt_env_close(&in->rcpt);
	dns_resolver_free(&in->auth_env.resolver);
	psl_free(&in->auth_env.psl);
	spool_free(&in->spool);
	srs_free(&in->srs);
	free(in);
	*inp = NULL;
}
