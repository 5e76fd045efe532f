/*
 * A mailbox's keywords (docs/store.md, "Keywords"): up to MAIL_KEYWORDS_MAX
 * names, each with an index. Indexes below MAILDIR_KEYWORD_LETTERS are the
 * letters 'a' + idx of file names and are listed in the mailbox's
 * dovecot-keywords file, as Dovecot does ("<idx> <name>" lines), so that a
 * Maildir moves between Dovecot and Tern with its keywords; the others live
 * in the index only. The file wins over the index for the indexes it lists
 * (the letters on disk refer to it). Changes are made under the index
 * write lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

#define KEYWORDS_FILE "dovecot-keywords"
#define KEYWORDS_LOCK "tern-keywords.lock"
/* Bigger files are not ours to read (26 short lines). */
#define KEYWORDS_FILE_MAX 65536

bool mail_keyword_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAIL_KEYWORD_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

void keywords_clear(struct mailbox *box)
{
	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		free(box->kw_names[i]);
		box->kw_names[i] = NULL;
	}
}

/* Parse dovecot-keywords into names[0..MAILDIR_KEYWORD_LETTERS). Lines
   that do not parse are skipped. */
static void keywords_file_parse(char *data, char **names)
{
	char *save = NULL;

	for (char *line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end;
		long idx = strtol(line, &end, 10);

		if (end == line || *end != ' ' || idx < 0 || idx >= MAILDIR_KEYWORD_LETTERS ||
		    !mail_keyword_valid(end + 1))
			continue;
		free(names[idx]);
		names[idx] = xstrdup(end + 1);
	}
}

/* The names dovecot-keywords of the Maildir dir lists; a missing file is
   no keyword. 0, or -1 with errno. */
static int keywords_file_read(const char *dir, char **names)
{
	char *path = xasprintf("%s/" KEYWORDS_FILE, dir);
	char *data;
	size_t len;
	int ret = read_file(path, KEYWORDS_FILE_MAX, &data, &len);

	free(path);
	if (ret < 0)
		return errno == ENOENT ? 0 : -1;
	keywords_file_parse(data, names);
	free(data);
	return 0;
}

/* Write names[0..MAILDIR_KEYWORD_LETTERS) as the file (a new file renamed
   over the old one, so readers see one or the other). 0, or -1 with
   errno. */
static int keywords_file_write(const char *dir, char *const *names)
{
	char *path = xasprintf("%s/" KEYWORDS_FILE, dir);
	struct buf b = BUF_INIT;
	int ret;

	for (unsigned i = 0; i < MAILDIR_KEYWORD_LETTERS; i++) {
		if (names[i] != NULL)
			buf_printf(&b, "%u %s\n", i, names[i]);
	}
	ret = write_file_atomic(path, b.len > 0 ? b.data : "", b.len, 0600);
	buf_free(&b);
	free(path);
	return ret;
}

/* Writers of the file (IMAP under the index lock, deliveries without it)
   read, change and write it holding this lock: no name is lost. Not
   Dovecot's dovecot-keywords.lock, which Dovecot takes as a dotlock (a
   file that exists while held). -1 with errno, else the fd to close. */
static int keywords_lock(const char *dir)
{
	char *path = xasprintf("%s/" KEYWORDS_LOCK, dir);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	free(path);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(names[i]);
		names[i] = NULL;
	}
}

/* Under the lock: add the letter keywords of box the file lacks (the index
   knows them: the file was removed, or written by an older writer). */
static int keywords_file_merge(struct mailbox *box, const char **error_r)
{
	char *file[MAILDIR_KEYWORD_LETTERS] = {NULL};
	bool changed = false;
	int fd = keywords_lock(box->path), ret = 0;

	if (fd < 0)
		return mailbox_fail_errno(box, "lock " KEYWORDS_FILE, error_r);
	if (keywords_file_read(box->path, file) < 0)
		ret = mailbox_fail_errno(box, "read " KEYWORDS_FILE, error_r);
	for (unsigned i = 0; i < MAILDIR_KEYWORD_LETTERS && ret == 0; i++) {
		if (file[i] == NULL && box->kw_names[i] != NULL) {
			file[i] = xstrdup(box->kw_names[i]);
			changed = true;
		}
	}
	if (ret == 0 && changed && keywords_file_write(box->path, file) < 0)
		ret = mailbox_fail_errno(box, "write " KEYWORDS_FILE, error_r);
	names_free(file, MAILDIR_KEYWORD_LETTERS);
	close(fd);
	return ret;
}

/* Read the index's and the file's keywords into box->kw_names (the file
   wins); *rewrite_r if the index has letter keywords the file lacks. */
static int keywords_read(struct mailbox *box, bool *rewrite_r, const char **error_r)
{
	struct mail_index *index = box->user->index;
	char *file[MAILDIR_KEYWORD_LETTERS] = {NULL};
	int ret = 0;

	*rewrite_r = false;
	keywords_clear(box);
	if (mail_index_keywords(index, box->ibox.id, box->kw_names, MAIL_KEYWORDS_MAX, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (keywords_file_read(box->path, file) < 0)
		return mailbox_fail_errno(box, "read " KEYWORDS_FILE, error_r);
	for (unsigned i = 0; i < MAILDIR_KEYWORD_LETTERS && ret == 0; i++) {
		if (file[i] == NULL) {
			*rewrite_r |= box->kw_names[i] != NULL;
			continue;
		}
		if (box->kw_names[i] != NULL && strcmp(box->kw_names[i], file[i]) == 0)
			continue;
		free(box->kw_names[i]);
		box->kw_names[i] = xstrdup(file[i]);
		if (mail_index_keyword_set(index, box->ibox.id, i, file[i], error_r) < 0)
			ret = mailbox_fail(box, *error_r, error_r);
	}
	names_free(file, MAILDIR_KEYWORD_LETTERS);
	return ret;
}

int keywords_load(struct mailbox *box, const char **error_r)
{
	bool rewrite;

	if (keywords_read(box, &rewrite, error_r) < 0)
		return -1;
	return rewrite && !box->readonly ? keywords_file_merge(box, error_r) : 0;
}

int mailbox_keyword_find(const struct mailbox *box, const char *name)
{
	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		/* RFC 3501 2.3.2 flags are case-insensitive, as Dovecot's are */
		if (box->kw_names[i] != NULL && strcasecmp(box->kw_names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

const char *mailbox_keyword_name(const struct mailbox *box, unsigned idx)
{
	return idx < MAIL_KEYWORDS_MAX ? box->kw_names[idx] : NULL;
}

uint64_t mailbox_keywords_defined(const struct mailbox *box)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (box->kw_names[i] != NULL)
			mask |= (uint64_t)1 << i;
	}
	return mask;
}

/* Inside the transaction: the index of name, added if new. -2 full. */
static int keyword_add(struct mailbox *box, const char *name, bool *file_r, const char **error_r)
{
	int idx = mailbox_keyword_find(box, name);

	if (idx >= 0)
		return idx;
	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (box->kw_names[i] != NULL)
			continue;
		if (mail_index_keyword_set(box->user->index, box->ibox.id, i, name, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
		box->kw_names[i] = xstrdup(name);
		*file_r |= i < MAILDIR_KEYWORD_LETTERS;
		return (int)i;
	}
	(void)mailbox_fail(box, "too many keywords in the mailbox", error_r);
	return MAIL_KEYWORDS_FULL;
}

/* Under the lock and the index transaction. */
static int keywords_add_locked(struct mailbox *box, const char *const *names, size_t count,
                               uint64_t *mask_r, const char **error_r)
{
	bool file, rewrite;
	uint64_t mask = 0;

	if (keywords_read(box, &rewrite, error_r) < 0)
		return -1;
	file = rewrite;
	for (size_t i = 0; i < count; i++) {
		int idx = keyword_add(box, names[i], &file, error_r);
		if (idx < 0)
			return idx;
		mask |= (uint64_t)1 << idx;
	}
	if (file && keywords_file_write(box->path, box->kw_names) < 0)
		return mailbox_fail_errno(box, "write " KEYWORDS_FILE, error_r);
	*mask_r = mask;
	return 0;
}

static int keywords_add_all(struct mailbox *box, const char *const *names, size_t count,
                            uint64_t *mask_r, const char **error_r)
{
	int fd, ret;

	if (mail_index_box_get(box->user->index, box->name, &box->ibox, error_r) <= 0)
		return mailbox_fail(box, "mailbox vanished from the index", error_r);
	if ((fd = keywords_lock(box->path)) < 0)
		return mailbox_fail_errno(box, "lock " KEYWORDS_FILE, error_r);
	ret = keywords_add_locked(box, names, count, mask_r, error_r);
	close(fd);
	return ret;
}

int mailbox_keywords_get(struct mailbox *box, const char *const *names, size_t count,
                         uint64_t *mask_r, const char **error_r)
{
	struct mail_index *index;
	bool known = true;
	uint64_t mask = 0;
	int ret;

	for (size_t i = 0; i < count; i++) {
		if (!mail_keyword_valid(names[i]))
			return mailbox_fail(box, "invalid keyword", error_r);
		int idx = mailbox_keyword_find(box, names[i]);
		if (idx < 0)
			known = false;
		else
			mask |= (uint64_t)1 << idx;
	}
	if (known) {
		*mask_r = mask;
		return 0;
	}
	if (box->readonly)
		return mailbox_fail(box, "mailbox is read-only", error_r);
	if (mail_user_index(box->user, &index, error_r) < 0 || mail_index_begin(index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = keywords_add_all(box, names, count, mask_r, error_r);
	if (ret < 0) {
		mail_index_rollback(index);
		return ret;
	}
	if (mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	box->user->changes++;
	return 0;
}

int maildir_keyword_letters(const char *maildir, const char *const *names, size_t count,
                            uint32_t *letters_r, size_t *dropped_r)
{
	char *file[MAILDIR_KEYWORD_LETTERS] = {NULL};
	bool changed = false;
	int fd = keywords_lock(maildir), ret = 0;

	*letters_r = 0;
	*dropped_r = count;
	if (fd < 0)
		return -1;
	if (keywords_file_read(maildir, file) < 0)
		ret = -1;
	for (size_t i = 0; i < count && ret == 0; i++) {
		unsigned idx = MAILDIR_KEYWORD_LETTERS, free_idx = MAILDIR_KEYWORD_LETTERS;

		for (unsigned j = MAILDIR_KEYWORD_LETTERS; j-- > 0;) {
			if (file[j] == NULL)
				free_idx = j;
			else if (strcasecmp(file[j], names[i]) == 0)
				idx = j;
		}
		if (!mail_keyword_valid(names[i]))
			continue;
		if (idx == MAILDIR_KEYWORD_LETTERS && free_idx < MAILDIR_KEYWORD_LETTERS) {
			idx = free_idx;
			file[idx] = xstrdup(names[i]);
			changed = true;
		}
		if (idx < MAILDIR_KEYWORD_LETTERS) {
			*letters_r |= 1u << idx;
			(*dropped_r)--;
		}
	}
	if (ret == 0 && changed && keywords_file_write(maildir, file) < 0)
		ret = -1;
	if (ret < 0) {
		*letters_r = 0;
		*dropped_r = count;
	}
	names_free(file, MAILDIR_KEYWORD_LETTERS);
	close(fd);
	return ret;
}
