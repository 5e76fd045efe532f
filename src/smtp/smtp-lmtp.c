/* LMTP (RFC 2033) on the SMTP session: LHLO instead of HELO/EHLO, no
   AUTH, and after the message one reply per accepted recipient, in RCPT
   order (section 4.2; after BDAT LAST too, RFC 3030 section 3). The
   policy (smtp-policy-lmtp.c) gives those replies one by one through
   smtp_stage_reply(); the counting is here. */
#include "lib/log.h"
#include "smtp/smtp-server-private.h"

/* RFC 2033 section 4.1: LHLO is answered as EHLO is, with the same
   extensions. */
void smtp_cmd_lhlo(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_cmd_ehlo(s, cmd);
}

bool smtp_protocol_allows(struct smtp_session *s, const struct smtp_cmd_def *def)
{
	if (s->lmtp && (def->flags & SMTP_CMD_NOT_LMTP) != 0) {
		/* RFC 2033 section 4.1: a HELO or EHLO on the LMTP port is
		   refused, so an SMTP client cannot mistake it for SMTP. */
		if (def->verb == SMTP_VERB_AUTH)
			smtp_reply(s, 502, "5.5.1", "Error: no AUTH in LMTP");
		else
			smtp_reply(s, 500, "5.5.1", "Error: this is LMTP, use LHLO");
		return false;
	}
	if (!s->lmtp && (def->flags & SMTP_CMD_LMTP_ONLY) != 0) {
		smtp_reply(s, 500, "5.5.2", "Error: command not recognized");
		return false;
	}
	return true;
}

void smtp_reply_message(struct smtp_session *s, unsigned code, const char *enhanced,
                        const char *text)
{
	unsigned errors = s->errors;
	size_t n = s->lmtp && s->rcpts.count > 0 ? s->rcpts.count : 1;

	for (size_t i = 0; i < n; i++)
		smtp_reply(s, code, enhanced, "%s", text);
	if (code >= 400)
		s->errors = errors + 1;
}

void smtp_lmtp_stage_begin(struct smtp_session *s)
{
	s->lmtp_replies = 0;
	s->lmtp_delivered = 0;
}

bool smtp_lmtp_stage_reply(struct smtp_session *s, unsigned *code_r)
{
	size_t owed = s->rcpts.count > 0 ? s->rcpts.count : 1;
	bool first_error = *code_r >= 400 && s->lmtp_replies == s->lmtp_delivered;

	if (*code_r < 300)
		s->lmtp_delivered++;
	else if (first_error)
		s->errors++;
	s->lmtp_replies++;
	if (s->lmtp_replies < owed)
		return true;
	log_debug(s->sid, "event=lmtp.replies rcpts=%zu delivered=%u", owed, s->lmtp_delivered);
	if (s->lmtp_delivered > 0)
		*code_r = 250;
	return false;
}
