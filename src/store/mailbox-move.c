/*
 * RENAME INBOX (RFC 3501 6.3.5): every message of INBOX moves to a new
 * mailbox, INBOX stays, empty. The files are moved with rename(2) on a
 * worker (mail_inbox_move_files() touches no mail_user); the index learns
 * it from two syncs on the loop (docs/store.md, "Blocking work").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

/* Passes over INBOX's directories: a file renamed by a flag change while
   a pass reads the directory may be missed by that pass (readdir() need not
   return names added after it began); a pass that moves nothing ends. */
#define MOVE_MAX_PASSES 8

struct mail_inbox_move {
	char *dest;      /* the new mailbox's IMAP name */
	char *cur, *new; /* INBOX's cur/ and new/ */
	char *dest_cur;  /* the new mailbox's cur/ */
	size_t moved;
	int error; /* errno of the first failure, 0 */
};

int mail_user_move_inbox_begin(struct mail_user *user, const char *dest,
                               struct mail_inbox_move **move_r, const char **error_r)
{
	struct mail_inbox_move *move;
	char *path;

	if (mail_user_create_mailbox(user, dest, error_r) < 0)
		return -1;
	path = mailbox_dir(user, dest, error_r);
	if (path == NULL)
		return -1;
	move = xcalloc(1, sizeof(*move));
	move->dest = xstrdup(dest);
	move->cur = xasprintf("%s/cur", user->path);
	move->new = xasprintf("%s/new", user->path);
	move->dest_cur = xasprintf("%s/cur", path);
	free(path);
	*move_r = move;
	return 0;
}

/* Regular files only (what a sync would index). */
static bool is_file(int dir_fd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_REG;
	return fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Move every message file of dir into dest_fd, new/ names getting ":2,".
   Returns how many moved; sets move->error on a failure other than a file
   gone meanwhile. */
static size_t move_dir(struct mail_inbox_move *move, const char *dir_path, int dest_fd,
                       bool add_info)
{
	int fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct buf dest = BUF_INIT;
	struct dirent *de;
	size_t moved = 0;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		if (errno != ENOENT && move->error == 0)
			move->error = errno;
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!maildir_name_valid(de->d_name) || !is_file(dirfd(dir), de))
			continue;
		buf_clear(&dest);
		buf_append_str(&dest, de->d_name);
		if (add_info && strchr(de->d_name, ':') == NULL)
			buf_append_str(&dest, ":2,");
		if (renameat(dirfd(dir), de->d_name, dest_fd, dest.data) == 0)
			moved++;
		else if (errno != ENOENT && move->error == 0)
			move->error = errno;
	}
	closedir(dir);
	buf_free(&dest);
	return moved;
}

void mail_inbox_move_files(struct mail_inbox_move *move)
{
	int dest_fd = open(move->dest_cur, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dest_fd < 0) {
		move->error = errno;
		return;
	}
	for (unsigned pass = 0; pass < MOVE_MAX_PASSES && move->error == 0; pass++) {
		size_t n = move_dir(move, move->new, dest_fd, true);

		n += move_dir(move, move->cur, dest_fd, false);
		move->moved += n;
		if (n == 0)
			break;
	}
	close(dest_fd);
	/* durable: the new names first, then the old ones gone */
	if (fsync_dir(move->dest_cur) < 0 || fsync_dir(move->cur) < 0 ||
	    (fsync_dir(move->new) < 0 && errno != ENOENT)) {
		if (move->error == 0)
			move->error = errno;
	}
}

/* Copy text (which may point into user->error) to user->error; -1. */
static int move_fail(struct mail_user *user, const char *text, const char **error_r)
{
	char *copy = xstrdup(text);

	buf_clear(&user->error);
	buf_append_str(&user->error, copy);
	free(copy);
	*error_r = buf_cstr(&user->error);
	return -1;
}

/* Sync the mailbox name once (its rows follow its files). */
static int move_sync(struct mail_user *user, const char *name, const char **error_r)
{
	struct mailbox *box;

	if (mailbox_open(user, name, false, &box, error_r) < 0)
		return -1;
	mailbox_close(&box);
	return 0;
}

int mail_user_move_inbox_finish(struct mail_user *user, struct mail_inbox_move **movep,
                                size_t *moved_r, const char **error_r)
{
	struct mail_inbox_move *move = *movep;
	int ret = 0;

	*moved_r = move->moved;
	/* the syncs run even after a failure: the messages moved are in the
	   new mailbox, the others still in INBOX, and the index says so */
	if (move_sync(user, move->dest, error_r) < 0 || move_sync(user, "INBOX", error_r) < 0)
		ret = move_fail(user, *error_r, error_r);
	else if (move->error != 0)
		ret = move_fail(user, strerror(move->error), error_r);
	user->changes++;
	free(move->dest);
	free(move->cur);
	free(move->new);
	free(move->dest_cur);
	free(move);
	*movep = NULL;
	return ret;
}
