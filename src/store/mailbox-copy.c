/* Adding messages to a mailbox (APPEND, COPY) and managing folders
   (DELETE, RENAME): see mailbox.h and docs/store.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/array.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox-private.h"

static int user_fail(struct mail_user *user, const char *error, const char **error_r)
{
	if (error != buf_cstr(&user->error)) {
		struct buf copy = BUF_INIT;

		buf_append_str(&copy, error);
		buf_free(&user->error);
		user->error = copy;
	}
	*error_r = buf_cstr(&user->error);
	return -1;
}

static int user_fail_errno(struct mail_user *user, const char *what, const char **error_r)
{
	int saved = errno;

	buf_clear(&user->error);
	buf_printf(&user->error, "%s: %s", what, strerror(saved));
	*error_r = buf_cstr(&user->error);
	return -1;
}

bool mail_user_mailbox_exists(struct mail_user *user, const char *name)
{
	const char *error;
	char *path = mailbox_dir(user, name, &error);

	free(path);
	return path != NULL;
}

/* The UID of the message whose file base is base (len bytes), or 0. */
static uint32_t find_base(const struct mailbox *box, const char *base, size_t len)
{
	for (uint32_t i = 0; i < box->count; i++) {
		const char *info;
		const char *fname = box->msgs[i].fname;

		if (maildir_name_base(fname, &info) == len && memcmp(fname, base, len) == 0)
			return box->msgs[i].msg.uid;
	}
	return 0;
}

/* Open a view on name, which gives the new files their UIDs, and look up
   each of the count file bases. */
static int assign_uids(struct mail_user *user, const char *name, char *const *bases, size_t count,
                       uint32_t *uidvalidity_r, uint32_t *uids_r, struct mailbox **box_r,
                       const char **error_r)
{
	struct mailbox *box;

	if (mailbox_open(user, name, false, &box, error_r) < 0)
		return user_fail(user, *error_r, error_r);
	for (size_t i = 0; i < count; i++) {
		const char *info;

		uids_r[i] = find_base(box, bases[i], maildir_name_base(bases[i], &info));
		if (uids_r[i] == 0) {
			/* Expunged by another session between the link and
			   the sync: the message was stored, but is gone. */
			mailbox_close(&box);
			return user_fail(user, "message vanished after it was stored", error_r);
		}
	}
	*uidvalidity_r = mailbox_uidvalidity(box);
	*box_r = box;
	return 0;
}

/* An APPEND between its steps (mailbox.h). */
struct mail_append {
	struct mail_user *user;
	char *name;
	char *maildir;
	struct delivery *d; /* NULL once committed */
	int ret;            /* delivery_commit()'s */
	char *error;        /* its error (malloc'ed), when ret < 0 */
	char *base;         /* the new file's name in new/, when ret == 0 */
};

static void append_free(struct mail_append *a)
{
	delivery_abort(&a->d);
	free(a->name);
	free(a->maildir);
	free(a->error);
	free(a->base);
	free(a);
}

int mail_user_append_begin(struct mail_user *user, const char *name, struct delivery *d,
                           int64_t internaldate, struct mail_append **append_r,
                           const char **error_r)
{
	char *path = mailbox_dir(user, name, error_r);
	struct mail_append *a;

	if (path == NULL) {
		delivery_abort(&d);
		return user_fail(user, *error_r, error_r);
	}
	delivery_set_mtime(d, internaldate);
	a = xcalloc(1, sizeof(*a));
	a->user = user;
	a->name = xstrdup(name);
	a->maildir = path;
	a->d = d;
	a->ret = -1;
	*append_r = a;
	return 0;
}

void mail_append_commit(struct mail_append *a)
{
	struct delivery_target target = {.maildir = a->maildir};
	struct delivery_result result = {0};
	struct delivery *d = a->d;
	const char *error = NULL;

	a->d = NULL; /* the commit frees it, success or not */
	a->ret = delivery_commit(d, &target, 1, DELIVERY_ALL_OR_NOTHING, &result, &error);
	if (a->ret < 0)
		a->error = xstrdup(error != NULL ? error : "commit failed");
	else
		a->base = xstrdup(strrchr(result.path, '/') + 1);
	delivery_results_clear(&result, 1);
}

int mail_user_append_finish(struct mail_append **ap, unsigned flags, const char *const *keywords,
                            size_t keyword_count, uint32_t *uidvalidity_r, uint32_t *uid_r,
                            const char **error_r)
{
	struct mail_append *a = *ap;
	struct mail_user *user = a->user;
	struct mailbox *box;
	int ret;

	*ap = NULL;
	if (a->d != NULL)
		log_panic("mail_user_append_finish before mail_append_commit");
	if (a->ret < 0) {
		ret = user_fail(user, a->error, error_r);
		append_free(a);
		return ret;
	}
	ret = assign_uids(user, a->name, &a->base, 1, uidvalidity_r, uid_r, &box, error_r);
	append_free(a);
	if (ret < 0)
		return -1;
	struct mail_flag_change ch = {MAIL_FLAGS_REPLACE, flags & MAIL_STORED_FLAGS,
	                              MAIL_FLAGS_REPLACE, 0};
	if (keyword_count > 0) {
		/* the message stays, without its keywords, when they do not fit */
		ret = mailbox_keywords_get(box, keywords, keyword_count, &ch.keywords, error_r);
		if (ret < 0)
			ret = user_fail(user, *error_r, error_r);
	}
	if (ret == 0 && (ch.flags != 0 || ch.keywords != 0) &&
	    mailbox_change_flags(box, mailbox_seq_by_uid(box, *uid_r), &ch, error_r) < 0)
		ret = user_fail(user, *error_r, error_r);
	mailbox_close(&box);
	return ret;
}

int mail_user_append(struct mail_user *user, const char *name, struct delivery *d, unsigned flags,
                     int64_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r,
                     const char **error_r)
{
	struct mail_append *a;

	if (mail_user_append_begin(user, name, d, internaldate, &a, error_r) < 0)
		return -1;
	mail_append_commit(a);
	return mail_user_append_finish(&a, flags, NULL, 0, uidvalidity_r, uid_r, error_r);
}

/* link() to the destination; the new name keeps the flags and keyword
   letters of the source file's current name. */
struct link_op {
	const char *dest_cur;
	const char *base; /* the new file's base */
	char *to;         /* the path linked (malloc'ed) */
};

static int link_file(struct mailbox *box, const char *path, const char *name, void *arg)
{
	struct link_op *op = arg;
	const char *info;
	struct buf to = BUF_INIT;
	int ret;

	(void)box;
	maildir_name_base(name, &info);
	buf_printf(&to, "%s/%s:2,", op->dest_cur, op->base);
	/* keyword letters are per mailbox: the copy gets its own in
	   mailbox_copy_finish() */
	maildir_info_build_keywords(&to, info, maildir_info_flags(info), 0);
	/* A link shares the file (and its mtime, the INTERNALDATE): Maildir
	   files are never changed in place, only renamed. */
	ret = link(path, buf_cstr(&to));
	if (ret == 0)
		op->to = buf_steal(&to);
	buf_free(&to);
	return ret;
}

/* Hard-link message seq of src (found by its key) into dest_cur as a new
   file keeping its flags (and keyword letters). *base_r gets the new
   file's base, *path_r its path. */
static int copy_link(struct mailbox *src, uint32_t seq, const char *dest_cur, char **base_r,
                     char **path_r, const char **error_r)
{
	struct view_msg *vm = &src->msgs[seq - 1];
	struct buf name = BUF_INIT;
	struct link_op op = {dest_cur, NULL, NULL};
	int ret;

	maildir_unique_name(&name);
	buf_printf(&name, ",S=%llu", (unsigned long long)vm->msg.size);
	op.base = buf_cstr(&name);
	ret = view_msg_file_op(src, vm, link_file, &op, error_r);
	if (ret <= 0) {
		buf_free(&name);
		return ret < 0 ? -1 : mailbox_fail(src, "message expunged", error_r);
	}
	*base_r = buf_steal(&name);
	*path_r = op.to;
	return 0;
}

static void unlink_all(char **paths, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (paths[i] != NULL)
			(void)unlink(paths[i]);
	}
}

static void free_strings(char **strs, size_t count)
{
	if (strs == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(strs[i]);
	free(strs);
}

struct mail_copy {
	struct mailbox *src;
	char *dest_name;
	char *dest_cur;
	size_t count;
	char **bases;     /* [count] the new files' bases */
	char **paths;     /* [count] the links made */
	char ***kw_names; /* [count] the source's keyword names (NULL: none) */
	int sync_errno;   /* of mail_copy_sync(): 0 ok */
};

static void mail_copy_free(struct mail_copy **copyp)
{
	struct mail_copy *copy = *copyp;

	free_strings(copy->bases, copy->count);
	free_strings(copy->paths, copy->count);
	for (size_t i = 0; i < copy->count; i++)
		free_strings(copy->kw_names[i], MAIL_KEYWORDS_MAX);
	free(copy->kw_names);
	free(copy->dest_name);
	free(copy->dest_cur);
	free(copy);
	*copyp = NULL;
}

/* The names of message seq's keywords (NULL-terminated, malloc'ed; room
   for MAIL_KEYWORDS_MAX), or NULL if it has none. */
static char **copy_keyword_names(struct mailbox *src, uint32_t seq)
{
	uint64_t kw = src->msgs[seq - 1].msg.keywords;
	char **names;
	size_t n = 0;

	if (kw == 0)
		return NULL;
	names = xcalloc(MAIL_KEYWORDS_MAX + 1, sizeof(char *));
	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if ((kw & ((uint64_t)1 << i)) != 0 && src->kw_names[i] != NULL)
			names[n++] = xstrdup(src->kw_names[i]);
	}
	return names;
}

/* Give each copy in dest its source's keywords (dest's own indexes and
   letters): a rename of the new file, after the UIDs are known. */
static int copy_keywords(struct mail_copy *copy, struct mailbox *dest, const uint32_t *uids,
                         const char **error_r)
{
	for (size_t i = 0; i < copy->count; i++) {
		struct mail_flag_change ch = {MAIL_FLAGS_ADD, 0, MAIL_FLAGS_REPLACE, 0};
		size_t n = 0;

		if (copy->kw_names[i] == NULL)
			continue;
		while (copy->kw_names[i][n] != NULL)
			n++;
		if (mailbox_keywords_get(dest, (const char *const *)copy->kw_names[i], n,
		                         &ch.keywords, error_r) < 0 ||
		    mailbox_change_flags(dest, mailbox_seq_by_uid(dest, uids[i]), &ch, error_r) < 0)
			return -1;
	}
	return 0;
}

int mailbox_copy_begin(struct mailbox *src, const uint32_t *seqs, size_t count,
                       const char *dest_name, struct mail_copy **copy_r, const char **error_r)
{
	char *dest = mailbox_dir(src->user, dest_name, error_r);
	struct mail_copy *copy;
	int ret = 0;

	if (dest == NULL)
		return mailbox_fail(src, *error_r, error_r);
	copy = xcalloc(1, sizeof(*copy));
	copy->src = src;
	copy->dest_name = xstrdup(dest_name);
	copy->dest_cur = xasprintf("%s/cur", dest);
	copy->count = count;
	copy->bases = xcalloc(count + 1, sizeof(char *));
	copy->paths = xcalloc(count + 1, sizeof(char *));
	copy->kw_names = xcalloc(count + 1, sizeof(char **));
	free(dest);
	for (size_t i = 0; i < count; i++)
		copy->kw_names[i] = copy_keyword_names(src, seqs[i]);
	for (size_t i = 0; i < count && ret == 0; i++)
		ret = copy_link(src, seqs[i], copy->dest_cur, &copy->bases[i], &copy->paths[i],
		                error_r);
	if (ret < 0) {
		unlink_all(copy->paths, count);
		mail_copy_free(&copy);
		return -1;
	}
	*copy_r = copy;
	return 0;
}

void mail_copy_sync(struct mail_copy *copy)
{
	/* One fsync makes every new link durable. */
	copy->sync_errno = copy->count > 0 && fsync_dir(copy->dest_cur) < 0 ? errno : 0;
}

int mailbox_copy_finish(struct mail_copy **copyp, uint32_t *uidvalidity_r, uint32_t *uids_r,
                        const char **error_r)
{
	struct mail_copy *copy = *copyp;
	struct mailbox *src = copy->src, *box = NULL;
	int ret = 0;

	if (copy->sync_errno != 0) {
		errno = copy->sync_errno;
		ret = mailbox_fail_errno(src, "fsync", error_r);
	} else if (assign_uids(src->user, copy->dest_name, copy->bases, copy->count, uidvalidity_r,
	                       uids_r, &box, error_r) < 0) {
		ret = mailbox_fail(src, *error_r, error_r);
	} else if (copy_keywords(copy, box, uids_r, error_r) < 0) {
		/* the copies are made; only (some of) their keywords are not */
		log_warn(NULL, "event=store.copy_keywords_failed error=\"%s\"", *error_r);
	}
	if (ret < 0)
		unlink_all(copy->paths, copy->count);
	mailbox_close(&box);
	mail_copy_free(copyp);
	return ret;
}

int mailbox_copy(struct mailbox *src, const uint32_t *seqs, size_t count, const char *dest_name,
                 uint32_t *uidvalidity_r, uint32_t *uids_r, const char **error_r)
{
	struct mail_copy *copy;

	if (mailbox_copy_begin(src, seqs, count, dest_name, &copy, error_r) < 0)
		return -1;
	mail_copy_sync(copy);
	return mailbox_copy_finish(&copy, uidvalidity_r, uids_r, error_r);
}

/* True if name has inferior names (RFC 3501 6.3.4). */
static int has_children(struct mail_user *user, const char *name, bool *children_r,
                        const char **error_r)
{
	char **names;
	size_t count, len = strlen(name);

	if (mail_user_list(user, &names, &count, error_r) < 0)
		return -1;
	*children_r = false;
	for (size_t i = 0; i < count; i++) {
		if (strncmp(names[i], name, len) == 0 && names[i][len] == '/')
			*children_r = true;
	}
	mail_user_list_free(names, count);
	return 0;
}

/* Remove a folder directory moved out of the way: its files, and the
   files of its subdirectories (cur/ new/ tmp/ and whatever another
   program put there), then the directories. Depth 2 is all a Maildir++
   folder has. */
static void remove_tree(const char *path, int depth)
{
	DIR *dir = opendir(path);
	struct dirent *de;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		char *child;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = xasprintf("%s/%s", path, de->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0)
			remove_tree(child, depth - 1);
		else
			(void)unlink(child);
		free(child);
	}
	closedir(dir);
	(void)rmdir(path);
}

static int index_change(struct mail_user *user, const char *old_name, const char *new_name,
                        const char **error_r)
{
	struct mail_index *index = NULL;
	int ret = mail_user_index(user, &index, error_r);

	if (ret == 0)
		ret = mail_index_begin(index, error_r);
	if (ret == 0)
		ret = new_name == NULL ? mail_index_box_delete(index, old_name, error_r)
		                       : mail_index_box_rename(index, old_name, new_name, error_r);
	if (ret == 0)
		ret = mail_index_commit(index, error_r);
	if (ret < 0) {
		if (index != NULL)
			mail_index_rollback(index);
		return user_fail(user, *error_r, error_r);
	}
	user->changes++; /* views of the folder scan again (and fail) */
	return 0;
}

int mail_user_delete_mailbox_begin(struct mail_user *user, const char *name, char **trash_r,
                                   const char **error_r)
{
	char *path, *trash;
	struct buf unique = BUF_INIT;
	bool children = false;

	if (maildir_is_inbox(name))
		return user_fail(user, "INBOX cannot be deleted", error_r);
	path = mailbox_dir(user, name, error_r);
	if (path == NULL)
		return user_fail(user, *error_r, error_r);
	if (has_children(user, name, &children, error_r) < 0 || children) {
		free(path);
		return children ? user_fail(user, "mailbox has children", error_r) : -1;
	}
	/* Out of the tree first (a name without a leading '.' is never a
	   folder), so the folder disappears at once even if removing its
	   files is slow or interrupted. */
	maildir_unique_name(&unique);
	trash = xasprintf("%s/tern-deleting.%s", user->path, buf_cstr(&unique));
	buf_free(&unique);
	if (rename(path, trash) < 0) {
		free(path);
		free(trash);
		return user_fail_errno(user, "rename", error_r);
	}
	(void)fsync_dir(user->path);
	free(path);
	if (index_change(user, name, NULL, error_r) < 0) {
		mail_trash_remove(trash);
		free(trash);
		return -1;
	}
	*trash_r = trash;
	return 0;
}

void mail_trash_remove(const char *trash)
{
	remove_tree(trash, 1);
}

int mail_user_delete_mailbox(struct mail_user *user, const char *name, const char **error_r)
{
	char *trash;

	if (mail_user_delete_mailbox_begin(user, name, &trash, error_r) < 0)
		return -1;
	mail_trash_remove(trash);
	free(trash);
	return 0;
}

/* The folders to rename: old_name and its inferiors, as [old, new] pairs. */
static int rename_plan(struct mail_user *user, const char *old_name, const char *new_name,
                       char ***pairs_r, size_t *count_r, const char **error_r)
{
	char **names;
	ARRAY(char *) pairs = ARRAY_INIT;
	size_t count, len = strlen(old_name);

	if (mail_user_list(user, &names, &count, error_r) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (strncmp(names[i], old_name, len) != 0 ||
		    (names[i][len] != '\0' && names[i][len] != '/'))
			continue;
		array_append(&pairs, xstrdup(names[i]));
		array_append(&pairs, xasprintf("%s%s", new_name, names[i] + len));
	}
	mail_user_list_free(names, count);
	*pairs_r = array_steal(&pairs, count_r);
	return 0;
}

/* Check every target is free, then rename the directories. */
static int rename_dirs(struct mail_user *user, char **pairs, size_t n, const char **error_r)
{
	for (size_t i = 0; i < n; i += 2) {
		char *dir = mailbox_dir(user, pairs[i + 1], error_r);
		char *dirname;

		free(dir);
		if (dir != NULL)
			return user_fail(user, "mailbox exists", error_r);
		if (maildir_imap_to_folder(pairs[i + 1], &dirname, error_r) < 0)
			return user_fail(user, *error_r, error_r);
		free(dirname);
	}
	for (size_t i = 0; i < n; i += 2) {
		char *from = mailbox_dir(user, pairs[i], error_r), *dirname, *to;
		int ret;

		if (from == NULL || maildir_imap_to_folder(pairs[i + 1], &dirname, error_r) < 0) {
			free(from);
			return user_fail(user, "mailbox changed during rename", error_r);
		}
		to = xasprintf("%s/%s", user->path, dirname);
		free(dirname);
		ret = rename(from, to);
		free(from);
		free(to);
		if (ret < 0)
			return user_fail_errno(user, "rename", error_r);
		if (index_change(user, pairs[i], pairs[i + 1], error_r) < 0)
			return -1;
	}
	(void)fsync_dir(user->path);
	return 0;
}

int mail_user_rename_mailbox(struct mail_user *user, const char *old_name, const char *new_name,
                             const char **error_r)
{
	char **pairs;
	size_t n;
	int ret;

	if (maildir_is_inbox(old_name) || maildir_is_inbox(new_name))
		return user_fail(user, "renaming INBOX is not supported", error_r);
	if (!mail_user_mailbox_exists(user, old_name))
		return user_fail(user, "no such mailbox", error_r);
	if (rename_plan(user, old_name, new_name, &pairs, &n, error_r) < 0)
		return -1;
	ret = rename_dirs(user, pairs, n, error_r);
	free_strings(pairs, n);
	return ret;
}
