/* SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE (RFC 3501 6.3.1-2, 6.4.2-3,
   RFC 3691). */
#include <stdlib.h>
#include <string.h>

#include "imap/imap-condstore.h"
#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "imap/imap-slice.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mail-objects.h"
#include "store/mailbox.h"

static uint32_t first_unseen(struct mailbox *box)
{
	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
		if ((mailbox_msg(box, seq)->flags & MAIL_SEEN) == 0)
			return seq;
	}
	return 0;
}

void imap_send_flags(struct imap_session *s)
{
	struct buf flags = BUF_INIT;

	imap_append_box_flags(&flags, s->box);
	imap_printf(s, "* FLAGS %s\r\n", buf_cstr(&flags));
	if (mailbox_is_readonly(s->box)) {
		imap_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
	} else {
		/* \*: new keywords may be created (RFC 3501 7.1) */
		flags.len--;
		buf_append_str(&flags, " \\*)");
		imap_printf(s, "* OK [PERMANENTFLAGS %s] Flags permitted.\r\n", buf_cstr(&flags));
	}
	buf_free(&flags);
	s->kw_announced = mailbox_keywords_defined(s->box);
}

void imap_announce_keywords(struct imap_session *s)
{
	if (s->box != NULL && (mailbox_keywords_defined(s->box) & ~s->kw_announced) != 0)
		imap_send_flags(s);
}

/* "* OK [MAILBOXID (id)]" (RFC 8474 4.1); left out if the index fails. */
static void send_mailboxid(struct imap_session *s, struct mailbox *box)
{
	const char *error;
	char *id;

	if (mailbox_objectid(box, &id, &error) < 0) {
		log_warn(s->sid, "event=imap.mailboxid_failed error=\"%s\"", error);
		return;
	}
	imap_printf(s, "* OK [MAILBOXID (%s)] Ok\r\n", id);
	free(id);
}

/* The untagged responses of SELECT (RFC 3501 6.3.1). With IMAP4rev2
   (RFC 9051 6.3.2, Appendix E): no RECENT, no UNSEEN response code, and a
   LIST response of the mailbox. */
static void send_select_info(struct imap_session *s)
{
	struct mailbox *box = s->box;
	uint32_t unseen = s->rev2 ? 0 : first_unseen(box);

	s->exists = mailbox_count(box);
	s->recent = mailbox_recent_count(box);
	imap_send_flags(s);
	imap_printf(s, "* %u EXISTS\r\n", s->exists);
	if (!s->rev2)
		imap_printf(s, "* %u RECENT\r\n", s->recent);
	if (unseen != 0)
		imap_printf(s, "* OK [UNSEEN %u] First unseen.\r\n", unseen);
	if (s->rev2) {
		struct buf b = BUF_INIT;

		buf_append_str(&b, "* LIST () \"/\" ");
		imap_append_mailbox(s, &b, mailbox_name(box));
		buf_append_str(&b, "\r\n");
		imap_write(s, b.data, b.len);
		buf_free(&b);
	}
	imap_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", mailbox_uidvalidity(box));
	imap_printf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", mailbox_uidnext(box));
	send_mailboxid(s, box);
}

/* A SELECT or EXAMINE bringing the index up to date, one chunk of rows
   per slice (a mailbox of thousands of new files), before the view's
   sync. */
struct select_run {
	struct imap_session *s;
	struct mailbox *box; /* given to the session when done */
	char *tag, *name_log;
	bool readonly;
	struct imap_select_params params; /* RFC 7162 CONDSTORE / QRESYNC */
};

/* SELECT (QRESYNC (uidvalidity modseq [known-uids])) (RFC 7162 3.2.5):
   the known UIDs expunged since modseq as VANISHED (EARLIER), then the
   messages changed since as FETCH, if the UIDVALIDITY is still the
   client's. */
static void send_qresync(struct imap_session *s, const struct imap_select_params *p)
{
	const struct imap_seqset *known = p->known_uids.count > 0 ? &p->known_uids : NULL;
	uint32_t *uids;
	size_t count, out = 0;
	const char *error;

	if (p->uidvalidity != mailbox_uidvalidity(s->box))
		return;
	if (mailbox_vanished_since(s->box, p->modseq, &uids, &count, &error) < 0) {
		log_warn(s->sid, "event=imap.vanished_failed error=\"%s\"", error);
	} else {
		for (size_t i = 0; i < count; i++) {
			if (known == NULL || imap_seqset_contains(known, uids[i]))
				uids[out++] = uids[i];
		}
		imap_send_vanished(s, uids, out, true);
		free(uids);
	}
	for (uint32_t seq = 1; seq <= mailbox_count(s->box); seq++) {
		const struct mail_msg *msg = mailbox_msg(s->box, seq);
		struct buf b = BUF_INIT;

		if (msg->modseq <= p->modseq ||
		    (known != NULL && !imap_seqset_contains(known, msg->uid)))
			continue;
		buf_printf(&b, "* %u FETCH (UID %u FLAGS ", seq, msg->uid);
		imap_session_msg_flags(s, &b, msg);
		buf_printf(&b, " MODSEQ (%llu))\r\n", (unsigned long long)msg->modseq);
		imap_write(s, b.data, b.len);
		buf_free(&b);
	}
}

static void select_done(struct select_run *run)
{
	struct imap_session *s = run->s;

	s->box = run->box;
	run->box = NULL;
	s->state = IMAP_STATE_SELECTED;
	send_select_info(s);
	/* RFC 7162 3.1.2.1: every mailbox has modseqs, never NOMODSEQ */
	imap_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	            (unsigned long long)mailbox_highestmodseq(s->box));
	if (run->params.qresync)
		send_qresync(s, &run->params);
	log_info(s->sid, "event=imap.select mailbox=%s readonly=%s exists=%u", run->name_log,
	         run->readonly ? "yes" : "no", s->exists);
	imap_reply(s, run->tag, "OK", "[%s] %s completed.",
	           run->readonly ? "READ-ONLY" : "READ-WRITE",
	           run->readonly ? "Examine" : "Select");
}

static int select_step(void *arg, uint64_t deadline)
{
	struct select_run *run = arg;
	const char *error;
	int ret;

	do {
		ret = mailbox_sync_step(run->box, &error);
	} while (ret == 1 && imap_slice_now_usec() < deadline);
	if (ret == 1)
		return 0;
	if (ret < 0) {
		log_info(run->s->sid, "event=imap.select_failed mailbox=%s error=\"%s\"",
		         run->name_log, error);
		imap_reply(run->s, run->tag, "NO", "[SERVERBUG] Mailbox cannot be read.");
		return 1;
	}
	select_done(run);
	return 1;
}

static void select_run_free(void *arg)
{
	struct select_run *run = arg;

	mailbox_close(&run->box);
	imap_select_params_free(&run->params);
	free(run->tag);
	free(run->name_log);
	free(run);
}

void cmd_select(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *name = cmd->count >= 1 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL;
	bool readonly = strcmp(cmd->name, "EXAMINE") == 0;
	struct imap_select_params params;
	struct select_run *run;
	const char *error;

	if (name == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (imap_select_params_parse(cmd->args + 1, cmd->count - 1, &params, &error) < 0) {
		imap_reply_bad(s, cmd->tag, error);
		return;
	}
	if (params.qresync && !s->qresync) {
		/* RFC 7162 3.2.5: QRESYNC must be enabled first */
		imap_select_params_free(&params);
		imap_reply_bad(s, cmd->tag, "QRESYNC is not enabled.");
		return;
	}
	if (params.condstore)
		s->condstore = true;
	/* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected. RFC
	   9051 6.3.2 and RFC 7162 3.2.11: the end of the previous one is told
	   by OK [CLOSED]. */
	if (s->box != NULL && (s->rev2 || s->qresync))
		imap_printf(s, "* OK [CLOSED] Previous mailbox closed.\r\n");
	imap_session_unselect(s);
	run = xcalloc(1, sizeof(*run));
	run->s = s;
	run->readonly = readonly;
	run->params = params;
	run->name_log = log_value(name, strlen(name), 256);
	if (mailbox_open_unsynced(s->user, name, readonly, &run->box, &error) < 0) {
		log_info(s->sid, "event=imap.select_failed mailbox=%s error=\"%s\"", run->name_log,
		         error);
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		select_run_free(run);
		return;
	}
	/* RFC 3501 2.3.2: the first session to SELECT takes \Recent; EXAMINE
	   does not */
	if (!readonly)
		mailbox_claim_recent(run->box);
	run->tag = xstrdup(cmd->tag);
	imap_slice_run(s, select_step, select_run_free, run);
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

/* UIDs an EXPUNGE gives the store per call: about 5 ms of unlinks and
   row deletes, one index transaction (docs/imap.md, "Long commands"). */
#define EXPUNGE_SLICE_UIDS 500

/* An EXPUNGE in progress: the \Deleted UIDs it covers, expunged in calls
   of EXPUNGE_SLICE_UIDS, highest first, in slices of the loop. */
struct expunge_run {
	struct imap_session *s;
	char *tag;
	uint32_t *uids; /* ascending */
	size_t count;   /* uids[0..count) are left to do */
	size_t expunged;
	bool failed;
};

static int expunge_step(void *arg, uint64_t deadline)
{
	struct expunge_run *run = arg;
	struct imap_session *s = run->s;

	while (run->count > 0 && !run->failed) {
		size_t n = run->count < EXPUNGE_SLICE_UIDS ? run->count : EXPUNGE_SLICE_UIDS;
		uint32_t *seqs = NULL, *uids = NULL;
		size_t count = 0;
		const char *error;

		if (run->expunged > 0 && imap_slice_now_usec() >= deadline)
			return 0;
		run->count -= n;
		if (mailbox_expunge_uids_report(s->box, run->uids + run->count, n, &seqs, &uids,
		                                &count, &error) < 0) {
			log_warn(s->sid, "event=imap.expunge_failed error=\"%s\"", error);
			run->failed = true;
		}
		/* descending, each relative to the view before this call */
		imap_send_expunges(s, seqs, uids, count);
		run->expunged += count;
		free(seqs);
		free(uids);
	}
	if (run->expunged > 0)
		imap_notify_changed(s);
	if (run->failed)
		imap_reply(s, run->tag, "NO", "[SERVERBUG] Expunge failed.");
	else
		imap_reply(s, run->tag, "OK", "Expunge completed.");
	return 1;
}

static void expunge_run_free(void *arg)
{
	struct expunge_run *run = arg;

	free(run->uids);
	free(run->tag);
	free(run);
}

/* The \Deleted messages' UIDs, of the UID set for UID EXPUNGE (RFC 4315
   2.1). 1 if a BAD was sent. */
static int expunge_collect(struct imap_session *s, const struct imap_cmd *cmd,
                           struct expunge_run *run)
{
	struct imap_seqset set;

	if (cmd->uid && imap_cmd_seqset(s, cmd, &cmd->args[0], &set) < 0)
		return 1;
	run->uids = xcalloc(mailbox_count(s->box) + 1, sizeof(*run->uids));
	for (uint32_t seq = 1; seq <= mailbox_count(s->box); seq++) {
		const struct mail_msg *msg = mailbox_msg(s->box, seq);

		if ((msg->flags & MAIL_DELETED) != 0 &&
		    (!cmd->uid || imap_seqset_contains(&set, msg->uid)))
			run->uids[run->count++] = msg->uid;
	}
	if (cmd->uid)
		imap_seqset_free(&set);
	return 0;
}

void cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct expunge_run *run;

	if (cmd->count != (cmd->uid ? 1 : 0)) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (mailbox_is_readonly(s->box)) {
		imap_reply(s, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	run = xcalloc(1, sizeof(*run));
	if (expunge_collect(s, cmd, run) > 0) {
		expunge_run_free(run);
		return; /* BAD sent */
	}
	run->s = s;
	run->tag = xstrdup(cmd->tag);
	imap_slice_run(s, expunge_step, expunge_run_free, run);
}
