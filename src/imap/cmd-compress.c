/* COMPRESS (RFC 4978): DEFLATE only. The compression itself is the conn's
   (net/conn.h conn_start_deflate): this file checks the command and
   switches after the tagged OK. */
#include <strings.h>

#include "imap/imap-private.h"

void cmd_compress(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *mech = cmd->count == 1 ? imap_arg_atom(&cmd->args[0]) : NULL;
	const char *error;

	if (mech == NULL) {
		imap_reply_bad(s, cmd->tag, "Expected one compression mechanism.");
		return;
	}
	if (strcasecmp(mech, "DEFLATE") != 0) {
		imap_reply_bad(s, cmd->tag, "Unknown compression mechanism.");
		return;
	}
	/* RFC 4978 3: a second COMPRESS is refused with this code. */
	if (conn_is_compressed(s->conn)) {
		imap_reply(s, cmd->tag, "NO", "[COMPRESSIONACTIVE] DEFLATE already active.");
		return;
	}
	imap_reply(s, cmd->tag, "OK", "DEFLATE active.");
	if (conn_start_deflate(s->conn, &error) < 0) {
		/* The client now compresses: nothing it sends can be read. */
		log_warn(s->sid, "event=imap.compress_failed reason=\"%s\"", error);
		conn_close(s->conn);
		return;
	}
	log_info(s->sid, "event=imap.compress mech=DEFLATE");
}
