/* NOOP, QUIT, VRFY, HELP and the commands that are not implemented. */
#include "smtp/smtp-server-private.h"

void smtp_cmd_noop(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_reply(s, 250, "2.0.0", "Ok");
}

void smtp_cmd_quit(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_reply(s, 221, "2.0.0", "Bye");
	smtp_session_close(s);
}

/* RFC 5321 section 3.5.3: 252 when we will not say whether a user exists
   (telling would help address harvesting). */
void smtp_cmd_vrfy(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_reply(s, 252, "2.5.2",
	           "Cannot VRFY user, but will accept message and attempt delivery");
}

void smtp_cmd_help(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_reply(s, 214, "2.0.0", "See RFC 5321 (Tern)");
}

void smtp_cmd_not_implemented(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_reply(s, 502, "5.5.1", "Error: command not implemented");
}
