/*
 * Changes a session makes to a mailbox: flags (file renames) and expunges
 * (unlinks). Each runs inside an index write transaction, so the file and
 * its row change together as far as other views of this process can tell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

unsigned mail_flags_apply(unsigned current, enum mail_flags_mode mode, unsigned flags)
{
	current &= MAIL_STORED_FLAGS;
	flags &= MAIL_STORED_FLAGS;
	if (mode == MAIL_FLAGS_ADD)
		return current | flags;
	if (mode == MAIL_FLAGS_REMOVE)
		return current & ~flags;
	return flags;
}

static uint64_t keywords_apply(uint64_t current, enum mail_flags_mode mode, uint64_t keywords)
{
	if (mode == MAIL_FLAGS_ADD)
		return current | keywords;
	if (mode == MAIL_FLAGS_REMOVE)
		return current & ~keywords;
	return keywords;
}

/* A flag change on the file as it is named now. */
struct flags_op {
	struct mail_flag_change ch;
	bool conditional; /* UNCHANGEDSINCE given */
	uint64_t unchangedsince;
	uint64_t row_keywords; /* the row's mask now (the index-only bits count) */
	unsigned result;       /* the flags the file carries afterwards */
	uint64_t kw_result;    /* and the keywords */
	char *name;            /* its name afterwards (malloc'ed) */
};

/* The file's current name is the truth: the new flags derive from its
   info, so a change another session made since this view's sync is kept. */
static int flags_rename(struct mailbox *box, const char *path, const char *name, void *arg)
{
	struct flags_op *op = arg;
	const char *info;
	size_t base_len = maildir_name_base(name, &info);
	struct buf to = BUF_INIT;
	int ret;

	uint64_t current = (op->row_keywords & ~(uint64_t)MAILDIR_KEYWORD_LETTER_MASK) |
	                   maildir_info_keywords(info);

	op->result = mail_flags_apply(maildir_info_flags(info), op->ch.mode, op->ch.flags);
	op->kw_result = keywords_apply(current, op->ch.kw_mode, op->ch.keywords);
	buf_printf(&to, "%.*s:2,", (int)base_len, name);
	maildir_info_build_keywords(&to, info, op->result,
	                            (uint32_t)(op->kw_result & MAILDIR_KEYWORD_LETTER_MASK));
	if (strcmp(buf_cstr(&to), name) == 0) {
		/* nothing to rename, but the file must exist */
		ret = access(path, F_OK);
	} else {
		char *to_path = xasprintf("%s/%s", box->cur_path, buf_cstr(&to));

		ret = rename(path, to_path);
		free(to_path);
	}
	if (ret == 0) {
		free(op->name);
		op->name = buf_steal(&to);
	}
	buf_free(&to);
	return ret;
}

static int refresh_box(struct mailbox *box, const char **error_r)
{
	int ret = mail_index_box_get(box->user->index, box->name, &box->ibox, error_r);

	if (ret <= 0)
		return mailbox_fail(box, ret == 0 ? "mailbox vanished from the index" : *error_r,
		                    error_r);
	return 0;
}

/* Inside the transaction: rename the file, then its row. 1, 0 gone, -1. */
static int store_flags(struct mailbox *box, struct view_msg *vm, struct flags_op *op,
                       const char **error_r)
{
	struct mail_index *index = box->user->index;
	const char *info;
	int ret;

	if (refresh_box(box, error_r) < 0)
		return -1;
	uint64_t modseq = 0;

	ret = mail_index_row_keywords(index, box->ibox.id, vm->msg.uid, &op->row_keywords, &modseq,
	                              error_r);
	if (ret < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (ret == 0)
		return 0; /* expunged: the next sync reports it */
	if (op->conditional && modseq > op->unchangedsince) {
		vm->msg.modseq = modseq;
		return MAIL_FLAGS_MODIFIED;
	}
	ret = view_msg_file_op(box, vm, flags_rename, op, error_r);
	if (ret <= 0)
		return ret;
	maildir_name_base(op->name, &info);
	if (strcmp(op->name, vm->fname) != 0 || (vm->msg.flags & MAIL_STORED_FLAGS) != op->result ||
	    op->row_keywords != op->kw_result) {
		struct index_row row = {
		    .uid = vm->msg.uid,
		    .info = (char *)info,
		    .flags = op->result,
		    .modseq = ++box->ibox.highestmodseq,
		    .keywords = op->kw_result,
		};
		if (mail_index_row_update(index, box->ibox.id, &row, error_r) < 0 ||
		    mail_index_box_update(index, &box->ibox, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
		vm->msg.modseq = row.modseq;
		box->user->changes++; /* other views must scan (mailbox-sync.c) */
	}
	free(vm->fname);
	vm->fname = op->name;
	op->name = NULL;
	vm->msg.flags = op->result | (vm->msg.flags & MAIL_RECENT);
	vm->msg.keywords = op->kw_result;
	return 1;
}

static int change_flags(struct mailbox *box, uint32_t seq, struct flags_op *opp,
                        const char **error_r);

int mailbox_update_flags(struct mailbox *box, uint32_t seq, enum mail_flags_mode mode,
                         unsigned flags, const char **error_r)
{
	struct mail_flag_change ch = {mode, flags, MAIL_FLAGS_ADD, 0};

	return mailbox_change_flags(box, seq, &ch, error_r);
}

int mailbox_change_flags(struct mailbox *box, uint32_t seq, const struct mail_flag_change *ch,
                         const char **error_r)
{
	struct flags_op op = {.ch = *ch};

	return change_flags(box, seq, &op, error_r);
}

int mailbox_change_flags_unchangedsince(struct mailbox *box, uint32_t seq,
                                        const struct mail_flag_change *ch, uint64_t unchangedsince,
                                        const char **error_r)
{
	struct flags_op op = {.ch = *ch, .conditional = true, .unchangedsince = unchangedsince};

	return change_flags(box, seq, &op, error_r);
}

static int change_flags(struct mailbox *box, uint32_t seq, struct flags_op *opp,
                        const char **error_r)
{
	struct mail_index *index;
	struct flags_op op = *opp;
	struct view_msg *vm;
	int ret;

	(void)mailbox_msg(box, seq); /* aborts on a bad seq */
	vm = &box->msgs[seq - 1];
	if (box->readonly)
		return mailbox_fail(box, "mailbox is read-only", error_r);
	/* BEGIN IMMEDIATE: every Tern writer renames under the index write
	   lock, so the name read below cannot change until the commit. */
	if (mail_user_index(box->user, &index, error_r) < 0 || mail_index_begin(index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = store_flags(box, vm, &op, error_r);
	free(op.name);
	if (ret < 0) {
		mail_index_rollback(index);
		return -1;
	}
	if (mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	return ret;
}

int mailbox_set_flags(struct mailbox *box, uint32_t seq, unsigned flags, const char **error_r)
{
	return mailbox_update_flags(box, seq, MAIL_FLAGS_REPLACE, flags, error_r) < 0 ? -1 : 0;
}

/* Unlink the file if its current name still carries T. */
static int unlink_deleted(struct mailbox *box, const char *path, const char *name, void *arg)
{
	bool *kept = arg;
	const char *info;

	(void)box;
	maildir_name_base(name, &info);
	if ((maildir_info_flags(info) & MAIL_DELETED) == 0) {
		*kept = true;
		return 0;
	}
	return unlink(path);
}

/* Unlink vm's file if it still carries T. 1 gone (now or before), 0 kept
   (another session took \Deleted away), -1. */
static int expunge_file(struct mailbox *box, struct view_msg *vm, const char **error_r)
{
	bool kept = false;
	int ret = view_msg_file_op(box, vm, unlink_deleted, &kept, error_r);

	if (ret < 0)
		return -1;
	return kept ? 0 : 1;
}

/* The UIDs an expunge is limited to; NULL uids: every message. */
struct uid_filter {
	const uint32_t *uids; /* ascending */
	size_t count;
};

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool filter_has(const struct uid_filter *f, uint32_t uid)
{
	return f->uids == NULL || bsearch(&uid, f->uids, f->count, sizeof(uid), uid_cmp) != NULL;
}

/* Close a chunk of expunges: the mailbox's highestmodseq, the changes
   counter. */
static int expunge_chunk_end(struct mailbox *box, const char **error_r)
{
	box->ibox.highestmodseq++;
	if (mail_index_box_update(box->user->index, &box->ibox, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	box->user->changes++;
	return 0;
}

/* Inside a transaction: unlink and forget every \Deleted message of the
   filter, highest sequence first; every mail_write_chunk messages the
   chunk is committed and a new transaction begun (each commit leaves rows
   and files agreeing: a message is gone from both or from neither). */
static int expunge_all(struct mailbox *box, const struct uid_filter *filter, uint32_t *seqs,
                       size_t *count_r, const char **error_r)
{
	size_t count = 0, chunk = 0;

	if (refresh_box(box, error_r) < 0)
		return -1;
	for (uint32_t seq = box->count; seq >= 1; seq--) {
		struct view_msg *vm = &box->msgs[seq - 1];
		int ret;
		if ((vm->msg.flags & MAIL_DELETED) == 0 || !filter_has(filter, vm->msg.uid))
			continue;
		if (chunk == mail_write_chunk) {
			if (expunge_chunk_end(box, error_r) < 0)
				return -1;
			if (mail_index_commit_begin(box->user->index, error_r) < 0)
				return mailbox_fail(box, *error_r, error_r);
			if (refresh_box(box, error_r) < 0)
				return -1;
			chunk = 0;
		}
		ret = expunge_file(box, vm, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		/* expunged at the modseq expunge_chunk_end() gives the chunk */
		if (mail_index_row_delete(box->user->index, box->ibox.id, vm->msg.uid,
		                          box->ibox.highestmodseq + 1, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
		seqs[count++] = seq;
		chunk++;
	}
	*count_r = count;
	return chunk > 0 ? expunge_chunk_end(box, error_r) : 0;
}

/* Drop the expunged messages from the view in one pass. */
static void view_remove(struct mailbox *box, const uint32_t *seqs, size_t count)
{
	uint32_t out = 0;

	for (size_t i = 0; i < count; i++) {
		free(box->msgs[seqs[i] - 1].fname);
		box->msgs[seqs[i] - 1].fname = NULL;
	}
	for (uint32_t i = 0; i < box->count; i++) {
		if (box->msgs[i].fname != NULL)
			box->msgs[out++] = box->msgs[i];
	}
	box->count = out;
}

static int expunge_run(struct mailbox *box, const struct uid_filter *filter, uint32_t **seqs_r,
                       uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	struct mail_index *index;
	uint32_t *seqs;
	size_t count = 0;

	*seqs_r = NULL;
	if (uids_r != NULL)
		*uids_r = NULL;
	*count_r = 0;
	if (box->readonly)
		return mailbox_fail(box, "mailbox is read-only", error_r);
	if (mail_user_index(box->user, &index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	seqs = xcalloc(box->count + 1, sizeof(*seqs));
	if (mail_index_begin(index, error_r) < 0) {
		free(seqs);
		return mailbox_fail(box, *error_r, error_r);
	}
	/* On a failure, chunks committed before it stay done: the view
	   keeps their messages and its next sync reports them expunged (their
	   rows are gone). */
	if (expunge_all(box, filter, seqs, &count, error_r) < 0 ||
	    mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		free(seqs);
		box->user->changes++;
		return mailbox_fail(box, *error_r, error_r);
	}
	/* The unlinks are made durable once per EXPUNGE, not per file. */
	if (count > 0)
		(void)fsync_dir(box->cur_path);
	if (uids_r != NULL && count > 0) {
		*uids_r = xcalloc(count, sizeof(**uids_r));
		for (size_t i = 0; i < count; i++)
			(*uids_r)[i] = box->msgs[seqs[i] - 1].msg.uid;
	}
	view_remove(box, seqs, count);
	if (count == 0) {
		free(seqs);
		seqs = NULL;
	}
	*seqs_r = seqs;
	*count_r = count;
	return 0;
}

int mailbox_expunge(struct mailbox *box, uint32_t **seqs_r, size_t *count_r, const char **error_r)
{
	struct uid_filter all = {NULL, 0};

	return expunge_run(box, &all, seqs_r, NULL, count_r, error_r);
}

int mailbox_expunge_uids(struct mailbox *box, const uint32_t *uids, size_t uid_count,
                         uint32_t **seqs_r, size_t *count_r, const char **error_r)
{
	return mailbox_expunge_uids_report(box, uids, uid_count, seqs_r, NULL, count_r, error_r);
}

int mailbox_expunge_uids_report(struct mailbox *box, const uint32_t *uids, size_t uid_count,
                                uint32_t **seqs_r, uint32_t **uids_r, size_t *count_r,
                                const char **error_r)
{
	static const uint32_t none = 0;
	struct uid_filter filter = {uid_count == 0 ? &none : uids, uid_count};

	return expunge_run(box, &filter, seqs_r, uids_r, count_r, error_r);
}

int mailbox_vanished_since(struct mailbox *box, uint64_t modseq, uint32_t **uids_r, size_t *count_r,
                           const char **error_r)
{
	struct mail_index *index;
	uint32_t *uids;
	size_t count, out = 0;

	*uids_r = NULL;
	*count_r = 0;
	if (mail_user_index(box->user, &index, error_r) < 0 ||
	    mail_index_expunged_since(index, box->ibox.id, modseq, &uids, &count, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	for (size_t i = 0; i < count; i++) {
		if (mailbox_seq_by_uid(box, uids[i]) == 0)
			uids[out++] = uids[i];
	}
	if (out == 0) {
		free(uids);
		uids = NULL;
	}
	*uids_r = uids;
	*count_r = out;
	return 0;
}
