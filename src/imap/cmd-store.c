/* STORE and UID STORE (RFC 3501 6.4.6). */
#include <string.h>
#include <strings.h>

#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "store/mailbox.h"

/* The flags argument(s): a list, or flags as separate atoms. */
static int parse_flags(const struct imap_arg *args, size_t count, unsigned *flags_r)
{
	*flags_r = 0;
	if (count == 1 && args[0].type == IMAP_ARG_LIST) {
		count = args[0].count;
		args = args[0].list;
	}
	for (size_t i = 0; i < count; i++) {
		const char *name = imap_arg_atom(&args[i]);

		if (name == NULL || imap_flag_parse(name, flags_r) < 0)
			return -1;
	}
	return 0;
}

static int parse_mode(const char *item, enum mail_flags_mode *mode_r, bool *silent_r)
{
	size_t len = strlen(item);

	*silent_r = len > 7 && strcasecmp(item + len - 7, ".SILENT") == 0;
	if (*silent_r)
		len -= 7;
	if (len == 5 && strncasecmp(item, "FLAGS", 5) == 0)
		*mode_r = MAIL_FLAGS_REPLACE;
	else if (len == 6 && strncasecmp(item, "+FLAGS", 6) == 0)
		*mode_r = MAIL_FLAGS_ADD;
	else if (len == 6 && strncasecmp(item, "-FLAGS", 6) == 0)
		*mode_r = MAIL_FLAGS_REMOVE;
	else
		return -1;
	return 0;
}

static int store_one(struct imap_session *s, const struct imap_cmd *cmd, uint32_t seq,
                     enum mail_flags_mode mode, unsigned flags, bool silent)
{
	const struct mail_msg *msg;
	const char *error;
	struct buf b = BUF_INIT;

	/* Applied to the message's current flags, not this view's copy
	   (another session may have changed them since our last sync). */
	if (mailbox_update_flags(s->box, seq, mode, flags, &error) < 0) {
		log_warn(s->sid, "event=imap.set_flags_failed error=\"%s\"", error);
		return -1;
	}
	if (silent)
		return 0;
	msg = mailbox_msg(s->box, seq);
	buf_printf(&b, "* %u FETCH (", seq);
	if (cmd->uid)
		buf_printf(&b, "UID %u ", msg->uid);
	buf_append_str(&b, "FLAGS ");
	imap_append_flags(&b, msg->flags);
	buf_append_str(&b, ")\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	return 0;
}

void cmd_store(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *item = cmd->count >= 3 ? imap_arg_atom(&cmd->args[1]) : NULL;
	struct imap_seqset set;
	enum mail_flags_mode mode;
	unsigned flags;
	bool silent, failed = false;

	if (item == NULL || parse_mode(item, &mode, &silent) < 0 ||
	    parse_flags(&cmd->args[2], cmd->count - 2, &flags) < 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (imap_cmd_seqset(s, cmd, &cmd->args[0], &set) < 0)
		return;
	if (mailbox_is_readonly(s->box)) {
		imap_seqset_free(&set);
		imap_reply(s, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	for (uint32_t seq = 1; seq <= mailbox_count(s->box); seq++) {
		if (imap_cmd_seq_matches(s, cmd, &set, seq) &&
		    store_one(s, cmd, seq, mode, flags, silent) < 0)
			failed = true;
	}
	imap_seqset_free(&set);
	imap_notify_changed(s);
	if (failed)
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Some flags could not be stored.");
	else
		imap_reply(s, cmd->tag, "OK", "Store completed.");
}
