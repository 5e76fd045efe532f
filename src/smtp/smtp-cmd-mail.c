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
	s->has_mail = true;
	s->mail_from = cmd->path;
	memset(&cmd->path, 0, sizeof(cmd->path)); /* ownership moves to the session */
	s->mail_from_text = address_normalize(&s->mail_from);
	s->mail_size = cmd->size;
	v = log_value(s->mail_from_text, strlen(s->mail_from_text), 300);
	log_info(s->sid, "event=smtp.mail from=<%s> size=%llu", v, (unsigned long long)cmd->size);
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
	addr = rcpt_address(s, &cmd->path);
	smtp_stage_begin(s, SMTP_STAGE_RCPT, addr);
	free(addr);
}
