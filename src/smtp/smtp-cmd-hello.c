/* HELO, EHLO and STARTTLS: the commands that (re)start a session. */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-server-private.h"

static void set_helo(struct smtp_session *s, const char *name, bool esmtp)
{
	char *v = log_value(name, strlen(name), 256);

	/* RFC 5321 section 4.1.4: HELO/EHLO also resets any transaction. */
	smtp_transaction_reset(s);
	free(s->helo);
	s->helo = xstrdup(name);
	s->esmtp = esmtp;
	log_info(s->sid, "event=smtp.helo name=%s esmtp=%s", v, esmtp ? "yes" : "no");
	free(v);
}

void smtp_cmd_helo(struct smtp_session *s, struct smtp_command *cmd)
{
	set_helo(s, cmd->arg, false);
	smtp_reply(s, 250, NULL, "%s", s->server->settings->hostname);
}

/* The extensions advertised (RFC 5321 section 4.1.1.1): only what is
   implemented. */
void smtp_ehlo_keywords(struct smtp_session *s)
{
	const struct tern_settings *set = s->server->settings;

	smtp_reply_cont(s, 250, "%s", set->hostname);
	smtp_reply_cont(s, 250, "PIPELINING");
	smtp_reply_cont(s, 250, "SIZE %llu",
	                (unsigned long long)smtp_settings(set)->max_message_size);
	smtp_reply_cont(s, 250, "8BITMIME");
	smtp_reply_cont(s, 250, "CHUNKING");   /* RFC 3030 */
	smtp_reply_cont(s, 250, "BINARYMIME"); /* RFC 3030 section 3, with CHUNKING */
	smtp_reply_cont(s, 250, "DSN");        /* RFC 3461 */
	smtp_reply_cont(s, 250, "SMTPUTF8");   /* RFC 6531 */
	if (s->server->role->tls != NULL && s->starttls && !conn_is_tls(s->conn))
		smtp_reply_cont(s, 250, "STARTTLS");
	/* RFC 8689 section 4: REQUIRETLS is offered only once TLS is on */
	if (conn_is_tls(s->conn))
		smtp_reply_cont(s, 250, "REQUIRETLS");
	smtp_auth_ehlo(s);
	smtp_reply(s, 250, NULL, "ENHANCEDSTATUSCODES");
}

void smtp_cmd_ehlo(struct smtp_session *s, struct smtp_command *cmd)
{
	set_helo(s, cmd->arg, true);
	smtp_ehlo_keywords(s);
}

/* RFC 3207. conn_starttls() drops any pipelined plaintext (section 6), and
   the session forgets everything learnt before TLS (section 4.2): the
   client must send EHLO again. */
void smtp_cmd_starttls(struct smtp_session *s, struct smtp_command *cmd)
{
	if (s->server->role->tls == NULL || !s->starttls || conn_is_tls(s->conn)) {
		smtp_reply(s, 502, "5.5.1", "Error: STARTTLS not available");
		return;
	}
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (conn_starttls(s->conn) < 0) {
		smtp_reply(s, 454, "4.7.0", "TLS not available due to temporary reason");
		return;
	}
	log_info(s->sid, "event=smtp.starttls");
	smtp_transaction_reset(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	free(s->auth_user); /* an AUTH before TLS (loopback) is forgotten too */
	s->auth_user = NULL;
}
