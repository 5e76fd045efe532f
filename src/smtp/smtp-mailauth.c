/* Port 25's use of the mail-authentication pipeline (mailauth.h): the
   connection facts in, the verdict and the Authentication-Results field
   out (smtp-mailauth.h). */
#include "smtp/smtp-mailauth.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailauth/mailauth.h"
#include "smtp/smtp-policy.h"
#include "smtp/smtp-settings.h"

struct smtp_mailauth {
	const char *sid; /* the session's, which outlives this */
	const struct tern_settings *settings;
	struct mailauth *ma;
	void (*done)(void *ctx);
	void *done_ctx;
};

/* ---- the verdict ---- */

static enum smtp_auth_action decide_fail(const struct mailauth_facts *f,
                                         const struct mailauth_settings *set)
{
	enum dmarc_policy dis = f->disposition;

	if (dis == DMARC_POLICY_REJECT) {
		if (set->dmarc_reject == DMARC_REJECT_NONE)
			return SMTP_AUTH_DELIVER;
		if (set->dmarc_reject == DMARC_REJECT_REJECT)
			return f->temp_could_pass ? SMTP_AUTH_DEFER : SMTP_AUTH_REJECT;
		dis = DMARC_POLICY_QUARANTINE;
	}
	if (dis == DMARC_POLICY_QUARANTINE && set->dmarc_quarantine == DMARC_QUARANTINE_JUNK)
		return SMTP_AUTH_JUNK;
	return SMTP_AUTH_DELIVER;
}

enum smtp_auth_action smtp_auth_decide(const struct mailauth_facts *f,
                                       const struct mailauth_settings *set)
{
	if (!f->dmarc_checked)
		return SMTP_AUTH_DELIVER;
	if (f->dmarc == DMARC_RESULT_FAIL)
		return decide_fail(f, set);
	/* RFC 7489 6.6.3: the policy could not be read; if it is reject the
	   message must not get in by a DNS hiccup, nor be refused for good. */
	if (f->dmarc == DMARC_RESULT_TEMPERROR && !f->any_pass &&
	    set->dmarc_reject == DMARC_REJECT_REJECT)
		return SMTP_AUTH_DEFER;
	return SMTP_AUTH_DELIVER;
}

const char *smtp_auth_action_name(enum smtp_auth_action action)
{
	static const char *const names[] = {"deliver", "junk", "reject", "defer"};

	return names[action];
}

/* ---- the session's side ---- */

struct smtp_mailauth *smtp_mailauth_begin(const struct smtp_mailauth_env *env,
                                          struct smtp_session *s)
{
	const struct tern_settings *set = env->settings;
	struct smtp_mailauth *a;
	struct mailauth_params params = {
	    .ip = smtp_session_peer_ip(s),
	    .helo = smtp_session_helo(s),
	    .mail_from = smtp_session_mail_from(s),
	    .authserv_id = set->hostname,
	    .psl = env->psl,
	    .spf = mailauth_settings(set)->spf,
	    .dkim = mailauth_settings(set)->dkim,
	    .dmarc = mailauth_settings(set)->dmarc,
	    .arc = mailauth_settings(set)->dkim, /* no switch of its own: ARC is DKIM's kin */
	    .max_header_size = (size_t)smtp_settings(set)->max_header_size,
	    .dmarc_sample = -1,
	};
	const char *error;

	a = xcalloc(1, sizeof(*a));
	a->sid = smtp_session_sid(s);
	a->settings = set;
	a->ma = mailauth_new(&params, env->resolver, env->base);
	error = mailauth_spf_error(a->ma);
	if (error != NULL)
		log_warn(a->sid, "event=smtp.spf_error error=\"%s\"", error);
	return a;
}

void smtp_mailauth_feed(struct smtp_mailauth *a, const void *data, size_t len)
{
	const char *error;

	/* Over a header limit the checks report what they can; the session
	   refuses such a header section anyway. */
	(void)mailauth_feed(a->ma, data, len, &error);
}

static void mailauth_done(void *context)
{
	struct smtp_mailauth *a = context;

	a->done(a->done_ctx);
}

void smtp_mailauth_finish(struct smtp_mailauth *a, void (*done)(void *ctx), void *ctx)
{
	a->done = done;
	a->done_ctx = ctx;
	mailauth_finish(a->ma, mailauth_done, a);
}

static void log_result(struct smtp_mailauth *a, const char *msg_id, enum smtp_auth_action action)
{
	struct mailauth_summary sum;
	char *from_v;

	mailauth_get_summary(a->ma, &sum);
	from_v = log_value(sum.from_domain, strlen(sum.from_domain), 255);
	log_info(a->sid,
	         "event=smtp.mailauth id=%s spf=%s dkim=%s signatures=%zu dmarc=%s arc=%s "
	         "from_domain=%s policy=%s action=%s",
	         msg_id, sum.spf, sum.dkim, sum.signatures, sum.dmarc, sum.arc, from_v,
	         sum.disposition, smtp_auth_action_name(action));
	free(from_v);
}

enum smtp_auth_action smtp_mailauth_result(struct smtp_mailauth *a, const char *msg_id,
                                           struct buf *out)
{
	struct mailauth_facts facts;
	enum smtp_auth_action action;

	buf_append_str(out, "Authentication-Results: ");
	mailauth_write_value(a->ma, out, true);
	buf_append_str(out, "\r\n");
	mailauth_get_facts(a->ma, &facts);
	action = smtp_auth_decide(&facts, mailauth_settings(a->settings));
	log_result(a, msg_id, action);
	return action;
}

void smtp_mailauth_free(struct smtp_mailauth **ap)
{
	struct smtp_mailauth *a = *ap;

	if (a == NULL)
		return;
	mailauth_free(&a->ma);
	free(a);
	*ap = NULL;
}
