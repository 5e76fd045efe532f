/* Commands valid in any state (RFC 3501 6.1) and NAMESPACE (RFC 2342). */
#include "imap/imap-private.h"

void cmd_capability(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, "* CAPABILITY ");
	imap_capability(s, &b);
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	imap_reply(s, cmd->tag, "OK", "Capability completed.");
}

void cmd_noop(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->count != 0) {
		imap_reply_bad(s, cmd->tag, "Too many arguments.");
		return;
	}
	imap_reply(s, cmd->tag, "OK", "%s completed.", cmd->name);
}

void cmd_logout(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_printf(s, "* BYE Logging out\r\n");
	imap_reply(s, cmd->tag, "OK", "Logout completed.");
	log_info(s->sid, "event=imap.logout");
	s->state = IMAP_STATE_LOGOUT;
	conn_close(s->conn);
}

void cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd)
{
	/* One personal namespace with '/' as the separator. */
	imap_printf(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_reply(s, cmd->tag, "OK", "Namespace completed.");
}
