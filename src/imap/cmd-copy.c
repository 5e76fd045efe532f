/* COPY, MOVE (RFC 6851) and their UID forms, answering COPYUID
   (RFC 4315). */
#include <stdlib.h>
#include <string.h>

#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

/* The sequence numbers of the view in the set, ascending. */
static uint32_t *collect(struct imap_session *s, const struct imap_cmd *cmd,
                         const struct imap_seqset *set, size_t *count_r)
{
	uint32_t *seqs = xcalloc(mailbox_count(s->box) + 1, sizeof(*seqs));
	size_t n = 0;

	for (uint32_t seq = 1; seq <= mailbox_count(s->box); seq++) {
		if (imap_cmd_seq_matches(s, cmd, set, seq))
			seqs[n++] = seq;
	}
	*count_r = n;
	return seqs;
}

/* "COPYUID <uidvalidity> <source uids> <dest uids>" for the response code. */
static void copyuid(struct imap_session *s, const uint32_t *seqs, size_t count,
                    uint32_t uidvalidity, const uint32_t *dest_uids, struct buf *out)
{
	uint32_t *src_uids = xcalloc(count + 1, sizeof(*src_uids));

	for (size_t i = 0; i < count; i++)
		src_uids[i] = mailbox_msg(s->box, seqs[i])->uid;
	buf_printf(out, "COPYUID %u ", uidvalidity);
	imap_seqset_format(out, src_uids, count);
	buf_append_char(out, ' ');
	imap_seqset_format(out, dest_uids, count);
	free(src_uids);
}

/* MOVE's second half: \Deleted on the moved messages, then an expunge of
   exactly those (RFC 6851 3.3), with the EXPUNGE responses. */
static int move_expunge(struct imap_session *s, const uint32_t *seqs, size_t count)
{
	uint32_t *uids = xcalloc(count + 1, sizeof(*uids)), *expunged = NULL, *gone = NULL;
	size_t n = 0;
	const char *error;
	int ret = 0;

	for (size_t i = 0; i < count && ret == 0; i++) {
		const struct mail_msg *msg = mailbox_msg(s->box, seqs[i]);

		uids[i] = msg->uid;
		ret = mailbox_update_flags(s->box, seqs[i], MAIL_FLAGS_ADD, MAIL_DELETED, &error);
		ret = ret < 0 ? -1 : 0;
	}
	if (ret == 0)
		ret =
		    mailbox_expunge_uids_report(s->box, uids, count, &expunged, &gone, &n, &error);
	if (ret < 0)
		log_warn(s->sid, "event=imap.move_expunge_failed error=\"%s\"", error);
	imap_send_expunges(s, expunged, gone, n);
	free(expunged);
	free(gone);
	free(uids);
	return ret;
}

/* A COPY or MOVE waiting for its fsync on a worker. */
struct copy_job {
	struct imap_session *s;
	struct mail_copy *copy;
	char *tag;
	bool move;
	uint32_t *seqs; /* [count] the source messages */
	size_t count;
};

static void copy_answer(struct imap_session *s, struct copy_job *job)
{
	uint32_t *dest_uids = xcalloc(job->count + 1, sizeof(*dest_uids)), uidvalidity;
	struct buf code = BUF_INIT;
	const char *error;

	if (mailbox_copy_finish(&job->copy, &uidvalidity, dest_uids, &error) < 0) {
		log_warn(s->sid, "event=imap.copy_failed error=\"%s\"", error);
		imap_reply(s, job->tag, "NO", "[SERVERBUG] %s failed.",
		           job->move ? "Move" : "Copy");
	} else if (!job->move) {
		imap_notify_changed(s);
		copyuid(s, job->seqs, job->count, uidvalidity, dest_uids, &code);
		imap_reply(s, job->tag, "OK", "[%s] Copy completed.", buf_cstr(&code));
	} else {
		/* RFC 6851 4.3: COPYUID goes in an untagged OK before the
		   expunges. */
		copyuid(s, job->seqs, job->count, uidvalidity, dest_uids, &code);
		imap_printf(s, "* OK [%s] Moved.\r\n", buf_cstr(&code));
		int ret = move_expunge(s, job->seqs, job->count);

		imap_notify_changed(s);
		if (ret < 0)
			imap_reply(s, job->tag, "NO",
			           "[SERVERBUG] Some messages were not removed.");
		else
			imap_reply(s, job->tag, "OK", "Move completed.");
	}
	buf_free(&code);
	free(dest_uids);
}

static void copy_work(void *arg)
{
	struct copy_job *job = arg;

	mail_copy_sync(job->copy);
}

/* Back on the loop: UIDs, the answer, MOVE's expunge. The copy is
   finished even if the client went away meanwhile (its session and view
   live until the release). */
static void copy_done(void *arg)
{
	struct copy_job *job = arg;
	struct imap_session *s = job->s;

	copy_answer(s, job);
	free(job->seqs);
	free(job->tag);
	free(job);
	(void)imap_session_release(s);
}

/* Link the files now, fsync them on a worker (the session reads no
   command meanwhile, so the view stays as it is), answer in copy_done. */
static void copy_start(struct imap_session *s, const struct imap_cmd *cmd, bool move,
                       uint32_t *seqs, size_t count, const char *dest)
{
	struct copy_job *job;
	struct mail_copy *copy;
	const char *error;

	if (mailbox_copy_begin(s->box, seqs, count, dest, &copy, &error) < 0) {
		log_warn(s->sid, "event=imap.copy_failed error=\"%s\"", error);
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] %s failed.", move ? "Move" : "Copy");
		free(seqs);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	*job = (struct copy_job){s, copy, xstrdup(cmd->tag), move, seqs, count};
	imap_session_hold(s);
	workpool_submit(s->server->pool, copy_work, copy_done, job);
}

/* quota: whether the copies of seqs do not fit (answered). */
static bool copy_over_quota(struct imap_session *s, const char *tag, const uint32_t *seqs,
                            size_t count)
{
	uint64_t total = 0;

	for (size_t i = 0; i < count; i++)
		total += mailbox_msg(s->box, seqs[i])->size;
	return imap_quota_allows(s, tag, total, count) < 0;
}

void cmd_copy(struct imap_session *s, const struct imap_cmd *cmd)
{
	bool move = strcmp(cmd->name, "MOVE") == 0;
	const char *dest = cmd->count == 2 ? imap_mailbox_arg(s, &cmd->args[1]) : NULL;
	struct imap_seqset set;
	uint32_t *seqs;
	size_t count;

	if (dest == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (imap_cmd_seqset(s, cmd, &cmd->args[0], &set) < 0)
		return;
	seqs = collect(s, cmd, &set, &count);
	imap_seqset_free(&set);
	if (!mail_user_mailbox_exists(s->user, dest))
		imap_reply(s, cmd->tag, "NO", "[TRYCREATE] Mailbox doesn't exist.");
	else if (move && mailbox_is_readonly(s->box))
		imap_reply(s, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
	else if (count == 0)
		imap_reply(s, cmd->tag, "OK", "No messages.");
	else if (!move && copy_over_quota(s, cmd->tag, seqs, count))
		; /* answered NO [OVERQUOTA]; MOVE keeps the usage (docs/quota.md) */
	else {
		copy_start(s, cmd, move, seqs, count, dest);
		return; /* seqs taken */
	}
	free(seqs);
}
