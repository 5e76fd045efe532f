/* METADATA entries (RFC 5464) in the user's index: see mail-objects.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/xalloc.h"
#include "store/mail-objects.h"
#include "store/mailbox-private.h"

bool mail_meta_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAIL_META_MAX_NAME || name[len - 1] == '/')
		return false;
	if (strncasecmp(name, "/private/", 9) != 0 && strncasecmp(name, "/shared/", 8) != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x21 || c > 0x7e || c == '*' || c == '%' ||
		    (c == '/' && name[i + 1] == '/'))
			return false;
	}
	return true;
}

static char *lower_dup(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static bool is_server(const char *mailbox)
{
	return mailbox == NULL || mailbox[0] == '\0';
}

/* The index row id of the mailbox (0: the server), made if the mailbox
   exists and has none yet. 0, MAIL_META_NOMBOX, or -1. */
static int meta_box_id(struct mail_user *user, const char *mailbox, int64_t *id_r,
                       const char **error_r)
{
	struct mailbox *box;

	*id_r = 0;
	if (is_server(mailbox))
		return 0;
	if (!mail_user_mailbox_exists(user, mailbox))
		return MAIL_META_NOMBOX;
	if (mailbox_open_unsynced(user, mailbox, true, &box, error_r) < 0)
		return -1;
	*id_r = box->ibox.id;
	mailbox_close(&box);
	return 0;
}

/* Whether entry (lower-cased) is within depth of name: itself, or below
   it by at most depth levels (-1: any). */
static bool within_depth(const char *entry, const char *name, int depth)
{
	size_t nlen = strlen(name);
	unsigned levels = 0;

	if (strcmp(entry, name) == 0)
		return true;
	if (depth == 0 || strncmp(entry, name, nlen) != 0 || entry[nlen] != '/')
		return false;
	for (const char *p = entry + nlen; *p != '\0'; p++)
		levels += *p == '/';
	return depth < 0 || levels <= (unsigned)depth;
}

int mail_meta_get(struct mail_user *user, const char *mailbox, const char *name, int depth,
                  struct mail_meta_entry **entries_r, size_t *count_r, const char **error_r)
{
	struct index_meta *rows;
	struct mail_index *index;
	ARRAY(struct mail_meta_entry) out = ARRAY_INIT;
	size_t count;
	int64_t id;
	char *lname;
	int ret = meta_box_id(user, mailbox, &id, error_r);

	*entries_r = NULL;
	*count_r = 0;
	if (ret == MAIL_META_NOMBOX)
		*error_r = "no such mailbox";
	if (ret < 0 || mail_user_index(user, &index, error_r) < 0)
		return -1;
	lname = lower_dup(name);
	ret = mail_index_meta_list(index, id, lname, depth != 0, &rows, &count, error_r);
	for (size_t i = 0; ret == 0 && i < count; i++) {
		struct mail_meta_entry *e;

		if (!within_depth(rows[i].name, lname, depth))
			continue;
		e = array_push(&out);
		e->name = rows[i].name;
		e->value = rows[i].value;
		e->len = rows[i].len;
		rows[i].name = rows[i].value = NULL;
	}
	index_meta_free(rows, count);
	free(lname);
	*entries_r = array_steal(&out, count_r);
	return ret;
}

void mail_meta_free(struct mail_meta_entry *entries, size_t count)
{
	for (size_t i = 0; entries != NULL && i < count; i++) {
		free(entries[i].name);
		free(entries[i].value);
	}
	free(entries);
}

/* The checks that need no index: 0 or a MAIL_META_* code. */
static int meta_check(const char *mailbox, const struct mail_meta_change *changes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (is_server(mailbox) && strncasecmp(changes[i].name, "/shared/", 8) == 0)
			return MAIL_META_READONLY;
		if (changes[i].value != NULL && changes[i].len > MAIL_META_MAX_VALUE)
			return MAIL_META_TOOLARGE;
	}
	return 0;
}

static int meta_apply(struct mail_index *index, int64_t id, const struct mail_meta_change *changes,
                      size_t count, const char **error_r)
{
	size_t entries = 0;

	for (size_t i = 0; i < count; i++) {
		char *lname = lower_dup(changes[i].name);
		int ret = mail_index_meta_set(index, id, lname, changes[i].value, changes[i].len,
		                              error_r);

		free(lname);
		if (ret < 0)
			return -1;
	}
	if (mail_index_meta_count(index, id, "", &entries, NULL, error_r) < 0)
		return -1;
	return entries > MAIL_META_MAX_ENTRIES ? MAIL_META_TOOMANY : 0;
}

int mail_meta_set(struct mail_user *user, const char *mailbox,
                  const struct mail_meta_change *changes, size_t count, const char **error_r)
{
	struct mail_index *index;
	int64_t id;
	int ret = meta_check(mailbox, changes, count);

	if (ret != 0)
		return ret;
	if ((ret = meta_box_id(user, mailbox, &id, error_r)) != 0)
		return ret;
	if (mail_user_index(user, &index, error_r) < 0 || mail_index_begin(index, error_r) < 0)
		return -1;
	ret = meta_apply(index, id, changes, count, error_r);
	if (ret == 0 && mail_index_commit(index, error_r) < 0)
		ret = -1;
	if (ret != 0)
		mail_index_rollback(index);
	return ret;
}
