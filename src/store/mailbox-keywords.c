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
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

#define KEYWORDS_FILE "dovecot-keywords"
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

/* The file's names; a missing file is no keyword. */
static int keywords_file_read(struct mailbox *box, char **names, const char **error_r)
{
	char *path = xasprintf("%s/" KEYWORDS_FILE, box->path);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *data;
	ssize_t n;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? 0
		                       : mailbox_fail_errno(box, "open " KEYWORDS_FILE, error_r);
	data = xmalloc(KEYWORDS_FILE_MAX + 1);
	n = read(fd, data, KEYWORDS_FILE_MAX);
	close(fd);
	if (n < 0) {
		free(data);
		return mailbox_fail_errno(box, "read " KEYWORDS_FILE, error_r);
	}
	data[n] = '\0';
	keywords_file_parse(data, names);
	free(data);
	return 0;
}

/* Write the letter keywords of box to the file (a new file renamed over
   the old one, so readers see one or the other). */
static int keywords_file_write(struct mailbox *box, const char **error_r)
{
	char *path = xasprintf("%s/" KEYWORDS_FILE, box->path);
	struct buf b = BUF_INIT;
	int ret = 0;

	for (unsigned i = 0; i < MAILDIR_KEYWORD_LETTERS; i++) {
		if (box->kw_names[i] != NULL)
			buf_printf(&b, "%u %s\n", i, box->kw_names[i]);
	}
	if (write_file_atomic(path, b.len > 0 ? b.data : "", b.len, 0600) < 0)
		ret = mailbox_fail_errno(box, "write " KEYWORDS_FILE, error_r);
	buf_free(&b);
	free(path);
	return ret;
}

int keywords_load(struct mailbox *box, const char **error_r)
{
	struct mail_index *index = box->user->index;
	char *file[MAILDIR_KEYWORD_LETTERS] = {NULL};
	bool rewrite = false;
	int ret = 0;

	keywords_clear(box);
	if (mail_index_keywords(index, box->ibox.id, box->kw_names, MAIL_KEYWORDS_MAX, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (keywords_file_read(box, file, error_r) < 0)
		return -1;
	for (unsigned i = 0; i < MAILDIR_KEYWORD_LETTERS && ret == 0; i++) {
		if (file[i] == NULL) {
			/* known to the index only: put it back in the file */
			rewrite |= box->kw_names[i] != NULL;
			continue;
		}
		if (box->kw_names[i] != NULL && strcmp(box->kw_names[i], file[i]) == 0)
			continue;
		free(box->kw_names[i]);
		box->kw_names[i] = xstrdup(file[i]);
		if (mail_index_keyword_set(index, box->ibox.id, i, file[i], error_r) < 0)
			ret = mailbox_fail(box, *error_r, error_r);
	}
	for (unsigned i = 0; i < MAILDIR_KEYWORD_LETTERS; i++)
		free(file[i]);
	if (ret == 0 && rewrite && !box->readonly)
		ret = keywords_file_write(box, error_r);
	return ret;
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

static int keywords_add_all(struct mailbox *box, const char *const *names, size_t count,
                            uint64_t *mask_r, const char **error_r)
{
	bool file = false;
	uint64_t mask = 0;

	if (mail_index_box_get(box->user->index, box->name, &box->ibox, error_r) <= 0)
		return mailbox_fail(box, "mailbox vanished from the index", error_r);
	if (keywords_load(box, error_r) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		int idx = keyword_add(box, names[i], &file, error_r);
		if (idx < 0)
			return idx;
		mask |= (uint64_t)1 << idx;
	}
	if (file && keywords_file_write(box, error_r) < 0)
		return -1;
	*mask_r = mask;
	return 0;
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
