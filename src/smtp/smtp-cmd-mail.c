/* MAIL, RCPT and RSET: building the envelope of a mail transaction
   (RFC 5321 sections 3.3, 4.1.1.2-4.1.1.5). Whether a sender or a
   recipient is accepted is the policy's answer (smtp-policy.h). */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-server-private.h"

void smtp_cmd_rset(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_transaction_reset(s);
	smtp_reply(s, 250, "2.0.0", "Ok");
}

void smtp_transaction_ext_reset(struct smtp_session *s)
{
	s->mail_body = SMTP_BODY_UNSET;
	s->mail_smtputf8 = false;
	s->mail_requiretls = false;
	s->mail_ret = SMTP_DSN_RET_UNSET;
	free(s->mail_envid);
	s->mail_envid = NULL;
	for (size_t i = 0; i < s->rcpt_params.count; i++)
		free(s->rcpt_params.items[i].orcpt);
	array_free(&s->rcpt_params);
	free(s->stage_rcpt_params.orcpt);
	memset(&s->stage_rcpt_params, 0, sizeof(s->stage_rcpt_params));
	s->in_bdat = false;
	s->bdat_used = false;
	s->bdat_last = false;
}

void smtp_rcpt_params_finish(struct smtp_session *s, unsigned code)
{
	if (code < 300)
		array_append(&s->rcpt_params, s->stage_rcpt_params);
	else
		free(s->stage_rcpt_params.orcpt);
	memset(&s->stage_rcpt_params, 0, sizeof(s->stage_rcpt_params));
}

static const char *body_name(enum smtp_body body)
{
	switch (body) {
	case SMTP_BODY_7BIT:
		return "7bit";
	case SMTP_BODY_8BITMIME:
		return "8bitmime";
	case SMTP_BODY_BINARYMIME:
		return "binarymime";
	case SMTP_BODY_UNSET:
		break;
	}
	return "unset";
}

static bool has_8bit(const char *str)
{
	for (; str != NULL && *str != '\0'; str++) {
		if ((unsigned char)*str >= 0x80)
			return true;
	}
	return false;
}

static bool path_8bit(const struct address *path)
{
	return has_8bit(path->local) || has_8bit(path->domain);
}

/* RFC 6531 section 3.5: a non-ASCII address needs SMTPUTF8 on MAIL. */
static void refuse_8bit(struct smtp_session *s)
{
	smtp_reply(s, 553, "5.6.7", "Error: non-ASCII address requires the SMTPUTF8 parameter");
}

/* The extension parameters of MAIL that depend on the session: 0 if they
   are acceptable, else -1 with the reply sent. */
static int check_mail_ext(struct smtp_session *s, const struct smtp_command *cmd)
{
	/* RFC 8689 section 4.1: REQUIRETLS only within a TLS session (it is
	   only advertised there) */
	if (cmd->requiretls && !conn_is_tls(s->conn)) {
		smtp_reply(s, 530, "5.7.10", "Error: REQUIRETLS needs a TLS session");
		return -1;
	}
	if (!cmd->smtputf8 && path_8bit(&cmd->path)) {
		refuse_8bit(s);
		return -1;
	}
	return 0;
}

static void take_mail_ext(struct smtp_session *s, struct smtp_command *cmd)
{
	s->mail_body = cmd->body;
	s->mail_smtputf8 = cmd->smtputf8;
	s->mail_requiretls = cmd->requiretls;
	s->mail_ret = cmd->ret;
	s->mail_envid = cmd->envid;
	cmd->envid = NULL;
}

void smtp_cmd_mail(struct smtp_session *s, struct smtp_command *cmd)
{
	uint64_t max = smtp_settings(s->server->settings)->max_message_size;
	char *v;

	if (s->has_mail) {
		smtp_reply(s, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	if (s->messages >= SMTP_SESSION_MESSAGES_MAX) {
		smtp_reply(s, 421, "4.7.0", "Too many messages in this session");
		smtp_session_close(s);
		return;
	}
	/* RFC 1870 section 6.1: refuse at MAIL what would be refused later. */
	if (max != 0 && cmd->size > max) {
		smtp_reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return;
	}
	if (check_mail_ext(s, cmd) < 0)
		return;
	s->has_mail = true;
	take_mail_ext(s, cmd);
	s->mail_from = cmd->path;
	memset(&cmd->path, 0, sizeof(cmd->path)); /* ownership moves to the session */
	s->mail_from_text = address_normalize(&s->mail_from);
	s->mail_size = cmd->size;
	v = log_value(s->mail_from_text, strlen(s->mail_from_text), 300);
	log_info(s->sid, "event=smtp.mail from=<%s> size=%llu body=%s smtputf8=%s requiretls=%s", v,
	         (unsigned long long)cmd->size, body_name(cmd->body), cmd->smtputf8 ? "yes" : "no",
	         cmd->requiretls ? "yes" : "no");
	free(v);
	smtp_stage_begin(s, SMTP_STAGE_MAIL, NULL);
}

/* The bare "Postmaster" (RFC 5321 section 4.5.1) is the postmaster of
   this host. */
static char *rcpt_address(struct smtp_session *s, const struct address *path)
{
	if (path->domain[0] == '\0')
		return xasprintf("postmaster@%s", s->server->settings->hostname);
	return address_normalize(path);
}

void smtp_cmd_rcpt(struct smtp_session *s, struct smtp_command *cmd)
{
	char *addr;

	if (!s->has_mail) {
		smtp_reply(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->rcpts.count >= smtp_settings(s->server->settings)->max_recipients) {
		smtp_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	if (!s->mail_smtputf8 && (path_8bit(&cmd->path) || has_8bit(cmd->rcpt.orcpt))) {
		refuse_8bit(s);
		return;
	}
	addr = rcpt_address(s, &cmd->path);
	s->stage_rcpt_params = cmd->rcpt;
	memset(&cmd->rcpt, 0, sizeof(cmd->rcpt)); /* ownership moves to the session */
	smtp_stage_begin(s, SMTP_STAGE_RCPT, addr);
	free(addr);
}
