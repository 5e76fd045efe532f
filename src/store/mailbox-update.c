/*
 * Changes a session makes to a mailbox: flags (file renames) and expunges
 * (unlinks). Each runs inside an index write transaction, so the file and
 * its row change together as far as other views of this process can tell.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

/* Find the file whose base is the one of fname in cur/ (renamed by another
   program, e.g. mutt changing flags). 1 and *found_r malloc'ed, 0 if no
   such file exists any more, -1 on error. */
static int find_current(struct mailbox *box, const char *fname, char **found_r,
                        const char **error_r)
{
	const char *info;
	size_t base_len = maildir_name_base(fname, &info);
	DIR *dir = opendir(box->cur_path);
	struct dirent *de;
	int ret = 0;

	if (dir == NULL)
		return mailbox_fail_errno(box, "opendir cur", error_r);
	while (ret == 0 && (de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, fname, base_len) == 0 &&
		    (de->d_name[base_len] == '\0' ||
		     strncmp(de->d_name + base_len, ":2,", 3) == 0) &&
		    maildir_name_valid(de->d_name)) {
			*found_r = xstrdup(de->d_name);
			ret = 1;
		}
	}
	closedir(dir);
	return ret;
}

/* Rename vm's file to carry flags. 1 done, 0 the file is gone, -1. */
static int rename_with_flags(struct mailbox *box, struct view_msg *vm, unsigned flags,
                             const char **error_r)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *info;
		size_t base_len = maildir_name_base(vm->fname, &info);
		struct buf to = BUF_INIT, from = BUF_INIT;
		int ret;

		buf_printf(&from, "%s/%s", box->cur_path, vm->fname);
		buf_printf(&to, "%s/%.*s:2,", box->cur_path, (int)base_len, vm->fname);
		maildir_info_build(&to, info, flags);
		ret = strcmp(from.data, to.data) == 0 ? 0 : rename(from.data, to.data);
		if (ret == 0) {
			free(vm->fname);
			vm->fname = xstrdup(strrchr(to.data, '/') + 1);
		}
		buf_free(&from);
		buf_free(&to);
		if (ret == 0)
			return 1;
		if (errno != ENOENT)
			return mailbox_fail_errno(box, "rename", error_r);
		/* renamed behind our back: look for its current name once */
		char *found = NULL;
		ret = find_current(box, vm->fname, &found, error_r);
		if (ret <= 0)
			return ret;
		free(vm->fname);
		vm->fname = found;
	}
	return 0;
}

static int refresh_box(struct mailbox *box, const char **error_r)
{
	int ret = mail_index_box_get(box->user->index, box->name, &box->ibox, error_r);

	if (ret <= 0)
		return mailbox_fail(box, ret == 0 ? "mailbox vanished from the index" : *error_r,
		                    error_r);
	return 0;
}

static int store_flags(struct mailbox *box, struct view_msg *vm, unsigned flags,
                       const char **error_r)
{
	struct mail_index *index = box->user->index;
	const char *info;
	int ret;

	if (refresh_box(box, error_r) < 0)
		return -1;
	ret = rename_with_flags(box, vm, flags, error_r);
	if (ret <= 0)
		return ret;
	maildir_name_base(vm->fname, &info);
	struct index_row row = {
	    .uid = vm->msg.uid,
	    .info = (char *)info,
	    .flags = flags,
	    .modseq = ++box->ibox.highestmodseq,
	};
	if (mail_index_row_update(index, box->ibox.id, &row, error_r) < 0 ||
	    mail_index_box_update(index, &box->ibox, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	vm->msg.flags = flags | (vm->msg.flags & MAIL_RECENT);
	vm->msg.modseq = row.modseq;
	return 1;
}

int mailbox_set_flags(struct mailbox *box, uint32_t seq, unsigned flags, const char **error_r)
{
	struct mail_index *index = box->user->index;
	struct view_msg *vm;
	int ret;

	(void)mailbox_msg(box, seq); /* aborts on a bad seq */
	vm = &box->msgs[seq - 1];
	if (box->readonly)
		return mailbox_fail(box, "mailbox is read-only", error_r);
	flags &= MAIL_STORED_FLAGS;
	if ((vm->msg.flags & MAIL_STORED_FLAGS) == flags)
		return 0;
	if (mail_index_begin(index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = store_flags(box, vm, flags, error_r);
	if (ret < 0) {
		mail_index_rollback(index);
		return -1;
	}
	if (mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	return 0;
}

/* Unlink vm's file if it still carries T. 1 gone (now or before), 0 kept
   (another program took \Deleted away), -1. */
static int expunge_file(struct mailbox *box, struct view_msg *vm, const char **error_r)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *info;
		char *path;
		int ret;

		maildir_name_base(vm->fname, &info);
		if ((maildir_info_flags(info) & MAIL_DELETED) == 0 && attempt > 0)
			return 0;
		path = xasprintf("%s/%s", box->cur_path, vm->fname);
		ret = unlink(path);
		free(path);
		if (ret == 0)
			return 1;
		if (errno != ENOENT)
			return mailbox_fail_errno(box, "unlink", error_r);
		char *found = NULL;
		ret = find_current(box, vm->fname, &found, error_r);
		if (ret <= 0)
			return ret < 0 ? -1 : 1;
		free(vm->fname);
		vm->fname = found;
	}
	return 0;
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

static int expunge_all(struct mailbox *box, const struct uid_filter *filter, uint32_t *seqs,
                       size_t *count_r, const char **error_r)
{
	struct mail_index *index = box->user->index;
	size_t count = 0;

	if (refresh_box(box, error_r) < 0)
		return -1;
	for (uint32_t seq = box->count; seq >= 1; seq--) {
		struct view_msg *vm = &box->msgs[seq - 1];
		int ret;
		if ((vm->msg.flags & MAIL_DELETED) == 0 || !filter_has(filter, vm->msg.uid))
			continue;
		ret = expunge_file(box, vm, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		if (mail_index_row_delete(index, box->ibox.id, vm->msg.uid, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
		seqs[count++] = seq;
	}
	if (count > 0) {
		box->ibox.highestmodseq++;
		if (mail_index_box_update(index, &box->ibox, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
	}
	*count_r = count;
	return 0;
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
                       size_t *count_r, const char **error_r)
{
	struct mail_index *index = box->user->index;
	uint32_t *seqs;
	size_t count = 0;

	*seqs_r = NULL;
	*count_r = 0;
	if (box->readonly)
		return mailbox_fail(box, "mailbox is read-only", error_r);
	seqs = xcalloc(box->count + 1, sizeof(*seqs));
	if (mail_index_begin(index, error_r) < 0) {
		free(seqs);
		return mailbox_fail(box, *error_r, error_r);
	}
	if (expunge_all(box, filter, seqs, &count, error_r) < 0 ||
	    mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		free(seqs);
		return mailbox_fail(box, *error_r, error_r);
	}
	/* The unlinks are made durable once per EXPUNGE, not per file. */
	if (count > 0)
		(void)fsync_dir(box->cur_path);
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

	return expunge_run(box, &all, seqs_r, count_r, error_r);
}

int mailbox_expunge_uids(struct mailbox *box, const uint32_t *uids, size_t uid_count,
                         uint32_t **seqs_r, size_t *count_r, const char **error_r)
{
	static const uint32_t none = 0;
	struct uid_filter filter = {uid_count == 0 ? &none : uids, uid_count};

	return expunge_run(box, &filter, seqs_r, count_r, error_r);
}
