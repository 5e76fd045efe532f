/*
 * Finding a message's file by its key. A view remembers the name it last
 * saw, but another session or program may have renamed the file since (a
 * flag change), so every operation on a file goes through
 * view_msg_file_op(): the remembered name first, then the name the index
 * holds (what the last Tern writer left), then a scan of cur/ for the
 * base (what another program left).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/mailbox-private.h"

/* Find the file whose base is the one of fname in cur/. 1 and *found_r
   malloc'ed, 0 if no such file exists any more, -1 on error. */
static int find_current(struct mailbox *box, const char *fname, char **found_r,
                        const char **error_r)
{
	const char *info;
	size_t base_len = maildir_name_base(fname, &info);
	DIR *dir = opendir(box->cur_path);
	struct dirent *de;
	int ret = 0;

	if (dir == NULL) {
		/* no cur/ any more (the mailbox was deleted): no file either */
		return errno == ENOENT ? 0 : mailbox_fail_errno(box, "opendir cur", error_r);
	}
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

/* The name the index holds for vm now (base + ":2," + info), if it is
   another than vm->fname: 1 and *name_r malloc'ed, 0 none, -1. */
static int index_name(struct mailbox *box, const struct view_msg *vm, char **name_r,
                      const char **error_r)
{
	const char *old_info;
	size_t base_len = maildir_name_base(vm->fname, &old_info);
	char *info = NULL;
	struct mail_index *index;
	int ret = mail_user_index(box->user, &index, error_r);

	if (ret == 0)
		ret = mail_index_row_info(index, box->ibox.id, vm->msg.uid, &info, error_r);
	if (ret < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (ret == 0)
		return 0;
	*name_r = xasprintf("%.*s:2,%s", (int)base_len, vm->fname, info);
	free(info);
	if (strcmp(*name_r, vm->fname) == 0) {
		free(*name_r);
		return 0;
	}
	return 1;
}

int view_msg_file_op(struct mailbox *box, struct view_msg *vm, view_file_op *op, void *ctx,
                     const char **error_r)
{
	/* step 0: the remembered name; 1: the index's; 2: found by a scan */
	for (int step = 0; step < 3; step++) {
		char *path = xasprintf("%s/%s", box->cur_path, vm->fname), *next = NULL;
		int ret = op(box, path, vm->fname, ctx), err = errno;

		free(path);
		if (ret == 0)
			return 1;
		if (err != ENOENT) {
			errno = err;
			return mailbox_fail_errno(box, "message file", error_r);
		}
		ret = 0;
		if (step == 0)
			ret = index_name(box, vm, &next, error_r);
		if (ret == 0 && step < 2) {
			step = 1; /* the scan's name is tried as step 2 */
			ret = find_current(box, vm->fname, &next, error_r);
		}
		if (ret <= 0)
			return ret;
		free(vm->fname);
		vm->fname = next;
	}
	return 0;
}
