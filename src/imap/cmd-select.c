/* SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE (RFC 3501 6.3.1-2, 6.4.2-3,
   RFC 3691). */
#include <stdlib.h>
#include <string.h>

#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

static uint32_t first_unseen(struct mailbox *box)
{
	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
		if ((mailbox_msg(box, seq)->flags & MAIL_SEEN) == 0)
			return seq;
	}
	return 0;
}

static uint32_t count_recent(struct mailbox *box)
{
	uint32_t recent = 0;

	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++)
		recent += (mailbox_msg(box, seq)->flags & MAIL_RECENT) != 0;
	return recent;
}

/* The untagged responses of SELECT (RFC 3501 6.3.1). */
static void send_select_info(struct imap_session *s)
{
	struct mailbox *box = s->box;
	uint32_t unseen = first_unseen(box);

	s->exists = mailbox_count(box);
	s->recent = count_recent(box);
	struct buf flags = BUF_INIT;

	imap_append_flags(&flags, MAIL_STORED_FLAGS);
	imap_printf(s, "* FLAGS %s\r\n", buf_cstr(&flags));
	if (mailbox_is_readonly(box))
		imap_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
	else
		imap_printf(s, "* OK [PERMANENTFLAGS %s] Flags permitted.\r\n", buf_cstr(&flags));
	buf_free(&flags);
	imap_printf(s, "* %u EXISTS\r\n* %u RECENT\r\n", s->exists, s->recent);
	if (unseen != 0)
		imap_printf(s, "* OK [UNSEEN %u] First unseen.\r\n", unseen);
	imap_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", mailbox_uidvalidity(box));
	imap_printf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", mailbox_uidnext(box));
}

void cmd_select(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *name = cmd->count == 1 ? imap_arg_astring(&cmd->args[0]) : NULL;
	bool readonly = strcmp(cmd->name, "EXAMINE") == 0;
	const char *error;
	char *name_log;

	if (name == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	/* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected. */
	imap_session_unselect(s);
	name_log = log_value(name, strlen(name), 256);
	if (mailbox_open(s->user, name, readonly, &s->box, &error) < 0) {
		log_info(s->sid, "event=imap.select_failed mailbox=%s error=\"%s\"", name_log,
		         error);
		free(name_log);
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	s->state = IMAP_STATE_SELECTED;
	send_select_info(s);
	log_info(s->sid, "event=imap.select mailbox=%s readonly=%s exists=%u", name_log,
	         readonly ? "yes" : "no", s->exists);
	free(name_log);
	imap_reply(s, cmd->tag, "OK", "[%s] %s completed.", readonly ? "READ-ONLY" : "READ-WRITE",
	           readonly ? "Examine" : "Select");
}

void cmd_close(struct imap_session *s, const struct imap_cmd *cmd)
{
	uint32_t *seqs = NULL;
	size_t count = 0;
	const char *error;

	/* RFC 3501 6.4.2: expunge silently when read-write. */
	if (!mailbox_is_readonly(s->box) && mailbox_expunge(s->box, &seqs, &count, &error) < 0)
		log_warn(s->sid, "event=imap.expunge_failed error=\"%s\"", error);
	if (count > 0)
		imap_notify_changed(s);
	free(seqs);
	imap_session_unselect(s);
	imap_reply(s, cmd->tag, "OK", "Close completed.");
}

void cmd_unselect(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_session_unselect(s);
	imap_reply(s, cmd->tag, "OK", "Unselect completed.");
}

/* UID EXPUNGE (RFC 4315 2.1): the \Deleted messages of the UID set only. */
static int expunge_uids(struct imap_session *s, const struct imap_cmd *cmd, uint32_t **seqs_r,
                        size_t *count_r, const char **error_r)
{
	struct imap_seqset set;
	uint32_t *uids = xcalloc(mailbox_count(s->box) + 1, sizeof(*uids));
	size_t n = 0;
	int ret;

	if (imap_cmd_seqset(s, cmd, &cmd->args[0], &set) < 0) {
		free(uids);
		return 1;
	}
	for (uint32_t seq = 1; seq <= mailbox_count(s->box); seq++) {
		if (imap_seqset_contains(&set, mailbox_msg(s->box, seq)->uid))
			uids[n++] = mailbox_msg(s->box, seq)->uid;
	}
	imap_seqset_free(&set);
	ret = mailbox_expunge_uids(s->box, uids, n, seqs_r, count_r, error_r);
	free(uids);
	return ret;
}

void cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd)
{
	uint32_t *seqs = NULL;
	size_t count = 0;
	const char *error;
	int ret;

	if (cmd->count != (cmd->uid ? 1 : 0)) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (mailbox_is_readonly(s->box)) {
		imap_reply(s, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	ret = cmd->uid ? expunge_uids(s, cmd, &seqs, &count, &error)
	               : mailbox_expunge(s->box, &seqs, &count, &error);
	if (ret > 0)
		return; /* BAD sent */
	if (ret < 0) {
		log_warn(s->sid, "event=imap.expunge_failed error=\"%s\"", error);
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Expunge failed.");
		return;
	}
	for (size_t i = 0; i < count; i++)
		imap_printf(s, "* %u EXPUNGE\r\n", seqs[i]);
	s->exists -= (uint32_t)count;
	if (count > 0)
		imap_notify_changed(s);
	free(seqs);
	imap_reply(s, cmd->tag, "OK", "Expunge completed.");
}
