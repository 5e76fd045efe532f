#include "store/mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/array.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

#define UIDVALIDITY_FILE "tern-uidvalidity"
#define MAX_FOLDERS      10000

unsigned mail_write_chunk = MAIL_WRITE_CHUNK;

void mail_store_set_write_chunk(unsigned rows)
{
	mail_write_chunk = rows > 0 ? rows : 1;
}

int mailbox_fail_errno(struct mailbox *box, const char *what, const char **error_r)
{
	int err = errno;

	buf_clear(&box->error);
	buf_printf(&box->error, "%s: %s", what, strerror(err));
	*error_r = buf_cstr(&box->error);
	return -1;
}

int mailbox_fail(struct mailbox *box, const char *error, const char **error_r)
{
	/* error may point into box->error already */
	if (error != box->error.data) {
		buf_clear(&box->error);
		buf_append_str(&box->error, error);
	}
	*error_r = buf_cstr(&box->error);
	return -1;
}

static int user_fail_errno(struct mail_user *user, const char *what, const char **error_r)
{
	int err = errno;

	buf_clear(&user->error);
	buf_printf(&user->error, "%s: %s", what, strerror(err));
	*error_r = buf_cstr(&user->error);
	return -1;
}

/* A closed view's messages and what they were based on. */
struct view_snapshot {
	char *name;
	struct index_box ibox;
	struct sync_stamp stamp;
	struct view_msg *msgs;
	uint32_t count;
	char *kw_names[MAIL_KEYWORDS_MAX];
};

void view_snapshot_free(struct view_snapshot **snapshot)
{
	struct view_snapshot *snap = *snapshot;

	if (snap == NULL)
		return;
	view_msgs_free(snap->msgs, snap->count);
	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++)
		free(snap->kw_names[i]);
	free(snap->name);
	free(snap);
	*snapshot = NULL;
}

void view_snapshot_keep(struct mailbox *box)
{
	struct mail_user *user = box->user;
	struct view_snapshot *snap;

	if (!box->stamp.valid || box->stamp.changes != user->changes)
		return;
	view_snapshot_free(&user->snapshot);
	snap = xcalloc(1, sizeof(*snap));
	snap->name = xstrdup(box->name);
	snap->ibox = box->ibox;
	snap->stamp = box->stamp;
	snap->msgs = box->msgs;
	snap->count = box->count;
	box->msgs = NULL;
	box->count = 0;
	memcpy(snap->kw_names, box->kw_names, sizeof(snap->kw_names));
	memset(box->kw_names, 0, sizeof(box->kw_names));
	user->snapshot = snap;
}

bool view_snapshot_take(struct mailbox *box)
{
	struct view_snapshot *snap = box->user->snapshot;

	if (snap == NULL || strcmp(snap->name, box->name) != 0)
		return false;
	box->user->snapshot = NULL;
	box->ibox = snap->ibox;
	box->stamp = snap->stamp;
	box->msgs = snap->msgs;
	box->count = snap->count;
	snap->msgs = NULL;
	snap->count = 0;
	memcpy(box->kw_names, snap->kw_names, sizeof(box->kw_names));
	memset(snap->kw_names, 0, sizeof(snap->kw_names));
	view_snapshot_free(&snap);
	if (!mailbox_sync_unchanged(box)) {
		view_msgs_free(box->msgs, box->count);
		box->msgs = NULL;
		box->count = 0;
		box->stamp.valid = false;
		keywords_clear(box);
		return false;
	}
	/* \Recent: the snapshot holds only if the boundary is above every
	   message (a selecting view took them all): then a new view sees
	   none as recent, as its sync would. */
	bool all_taken =
	    box->count == 0 || box->ibox.recent_uid >= box->msgs[box->count - 1].msg.uid;
	if (!all_taken) {
		view_msgs_free(box->msgs, box->count);
		box->msgs = NULL;
		box->count = 0;
		box->stamp.valid = false;
		keywords_clear(box);
		return false;
	}
	for (uint32_t i = 0; i < box->count; i++)
		box->msgs[i].msg.flags &= ~(unsigned)MAIL_RECENT;
	return true;
}

void view_msgs_free(struct view_msg *msgs, uint32_t count)
{
	if (msgs == NULL)
		return;
	for (uint32_t i = 0; i < count; i++)
		free(msgs[i].fname);
	free(msgs);
}

int mail_user_open(const char *mail_dir, const char *address, struct mail_user **user_r,
                   const char **error_r)
{
	struct mail_user *user;
	char *path, *index_path;
	int ret;

	if (maildir_user_path(mail_dir, address, &path, error_r) < 0)
		return -1;
	if (maildir_create(path) < 0) {
		free(path);
		*error_r = "cannot create the Maildir";
		return -1;
	}
	index_path = xasprintf("%s/" INDEX_FILE, path);
	user = xcalloc(1, sizeof(*user));
	user->path = path;
	ret = mail_index_open(index_path, &user->index, error_r);
	free(index_path);
	if (ret < 0) {
		mail_user_close(&user);
		return -1;
	}
	user->index_opens = 1;
	*user_r = user;
	return 0;
}

void mail_user_close(struct mail_user **userp)
{
	struct mail_user *user = *userp;

	if (user == NULL)
		return;
	if (user->open_boxes != 0)
		log_panic("mail_user_close with %u mailboxes open", user->open_boxes);
	if (user->registry != NULL)
		log_panic("mail_user_close of a shared user (use mail_user_release)");
	view_snapshot_free(&user->snapshot);
	mail_index_close(&user->index);
	buf_free(&user->error);
	free(user->path);
	free(user);
	*userp = NULL;
}

const char *mail_user_path(const struct mail_user *user)
{
	return user->path;
}

/* A folder directory we show: a real directory (not a symlink) with cur/. */
static bool folder_usable(int root_fd, const char *dirname)
{
	struct stat st;
	char *cur = xasprintf("%s/cur", dirname);
	bool ok = fstatat(root_fd, dirname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	          fstatat(root_fd, cur, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);

	free(cur);
	return ok;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mail_user_list(struct mail_user *user, char ***names_r, size_t *count_r, const char **error_r)
{
	DIR *dir = opendir(user->path);
	struct dirent *de;
	ARRAY(char *) names = ARRAY_INIT;

	if (dir == NULL)
		return user_fail_errno(user, "opendir", error_r);
	array_append(&names, xstrdup("INBOX"));
	while ((de = readdir(dir)) != NULL && names.count <= MAX_FOLDERS) {
		char *name;
		if (de->d_name[0] != '.' || maildir_folder_to_imap(de->d_name, &name) < 0)
			continue;
		if (maildir_is_inbox(name) || !folder_usable(dirfd(dir), de->d_name)) {
			free(name);
			continue;
		}
		array_append(&names, name);
	}
	closedir(dir);
	qsort(names.items + 1, names.count - 1, sizeof(*names.items), name_cmp);
	*names_r = array_steal(&names, count_r);
	return 0;
}

void mail_user_list_free(char **names, size_t count)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int mail_user_create_mailbox(struct mail_user *user, const char *name, const char **error_r)
{
	char *dirname, *path, *marker;
	struct stat st;
	int ret = -1;

	if (maildir_is_inbox(name)) {
		*error_r = "mailbox exists";
		return -1;
	}
	if (maildir_imap_to_folder(name, &dirname, error_r) < 0)
		return -1;
	path = xasprintf("%s/%s", user->path, dirname);
	marker = xasprintf("%s/maildirfolder", path);
	free(dirname);
	if (lstat(path, &st) == 0)
		*error_r = "mailbox exists";
	else if (maildir_create(path) < 0 || write_file_atomic(marker, "", 0, 0600) < 0)
		user_fail_errno(user, "create mailbox", error_r);
	else
		ret = 0;
	free(path);
	free(marker);
	return ret;
}

/* UIDVALIDITY: the time, but always above any value handed out before in
   this Maildir (kept in tern-uidvalidity, which survives an index rebuild),
   so a rebuilt index never repeats one. */
static uint32_t next_uidvalidity(struct mail_user *user)
{
	char *path = xasprintf("%s/" UIDVALIDITY_FILE, user->path);
	char *data, text[16];
	size_t len;
	unsigned long last = 0;
	uint32_t next = (uint32_t)time(NULL);

	if (read_file(path, 64, &data, &len) == 0) {
		last = strtoul(data, NULL, 10);
		free(data);
	}
	if (last >= next && last < UINT32_MAX)
		next = (uint32_t)last + 1;
	if (next == 0)
		next = 1;
	snprintf(text, sizeof(text), "%u\n", next);
	if (write_file_atomic(path, text, strlen(text), 0600) < 0)
		log_warn(NULL, "event=store.uidvalidity_write_failed errno=%d", errno);
	free(path);
	return next;
}

/* A new row's UIDVALIDITY: Dovecot's for a folder it used (its UIDs are
   taken at the first sync, mailbox-import.c), else the next of ours. */
static uint32_t new_uidvalidity(struct mailbox *box)
{
	struct dovecot_uidlist list;
	uint32_t v;

	if (mailbox_import_load(box, &list) < 0)
		return next_uidvalidity(box->user);
	v = list.uidvalidity;
	dovecot_uidlist_clear(&list);
	return v;
}

static int box_row_get(struct mailbox *box, const char **error_r)
{
	struct mail_index *index;
	int ret;

	if (mail_user_index(box->user, &index, error_r) < 0 || mail_index_begin(index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = mail_index_box_get(index, box->name, &box->ibox, error_r);
	if (ret == 0)
		ret =
		    mail_index_box_add(index, box->name, new_uidvalidity(box), &box->ibox, error_r);
	if (ret >= 0)
		ret = mail_index_commit(index, error_r);
	if (ret < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	return 0;
}

char *mailbox_dir(struct mail_user *user, const char *name, const char **error_r)
{
	char *dirname, *path;
	struct stat st;

	if (maildir_is_inbox(name))
		return xstrdup(user->path);
	if (maildir_imap_to_folder(name, &dirname, error_r) < 0)
		return NULL;
	path = xasprintf("%s/%s", user->path, dirname);
	free(dirname);
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error_r = "no such mailbox";
		free(path);
		return NULL;
	}
	return path;
}

static int box_open(struct mail_user *user, const char *name, bool readonly, bool sync,
                    struct mailbox **box_r, const char **error_r)
{
	struct mailbox *box;
	char *path = mailbox_dir(user, name, error_r);

	if (path == NULL)
		return -1;
	/* a folder made by another program may lack some of cur/ new/ tmp/ */
	if (maildir_create(path) < 0) {
		free(path);
		return user_fail_errno(user, "create Maildir", error_r);
	}
	box = xcalloc(1, sizeof(*box));
	box->user = user;
	box->name = xstrdup(maildir_is_inbox(name) ? "INBOX" : name);
	box->path = path;
	box->cur_path = xasprintf("%s/cur", path);
	box->new_path = xasprintf("%s/new", path);
	box->readonly = readonly;
	user->open_boxes++;
	if (view_snapshot_take(box)) {
		*box_r = box;
		return 0;
	}
	if (box_row_get(box, error_r) < 0 || (sync && mailbox_sync(box, NULL, error_r) < 0)) {
		buf_clear(&user->error);
		buf_append_str(&user->error, *error_r);
		*error_r = buf_cstr(&user->error);
		mailbox_close(&box);
		return -1;
	}
	*box_r = box;
	return 0;
}

int mailbox_open(struct mail_user *user, const char *name, bool readonly, struct mailbox **box_r,
                 const char **error_r)
{
	return box_open(user, name, readonly, true, box_r, error_r);
}

int mailbox_open_unsynced(struct mail_user *user, const char *name, bool readonly,
                          struct mailbox **box_r, const char **error_r)
{
	return box_open(user, name, readonly, false, box_r, error_r);
}

void mailbox_close(struct mailbox **boxp)
{
	struct mailbox *box = *boxp;

	if (box == NULL)
		return;
	box->user->open_boxes--;
	view_snapshot_keep(box);
	view_msgs_free(box->msgs, box->count);
	keywords_clear(box);
	buf_free(&box->scratch);
	buf_free(&box->error);
	free(box->name);
	free(box->path);
	free(box->cur_path);
	free(box->new_path);
	free(box);
	*boxp = NULL;
}

const char *mailbox_name(const struct mailbox *box)
{
	return box->name;
}

const char *mailbox_path(const struct mailbox *box)
{
	return box->path;
}

bool mailbox_is_readonly(const struct mailbox *box)
{
	return box->readonly;
}

uint32_t mailbox_count(const struct mailbox *box)
{
	return box->count;
}

uint32_t mailbox_uidvalidity(const struct mailbox *box)
{
	return box->ibox.uidvalidity;
}

uint32_t mailbox_uidnext(const struct mailbox *box)
{
	return box->ibox.uidnext;
}

uint64_t mailbox_highestmodseq(const struct mailbox *box)
{
	return box->ibox.highestmodseq;
}

static struct view_msg *view_msg_get(const struct mailbox *box, uint32_t seq)
{
	if (seq == 0 || seq > box->count)
		log_panic("mailbox %s: seq %u out of 1..%u", box->name, seq, box->count);
	return &box->msgs[seq - 1];
}

const struct mail_msg *mailbox_msg(const struct mailbox *box, uint32_t seq)
{
	return &view_msg_get(box, seq)->msg;
}

const char *mailbox_msg_path(struct mailbox *box, uint32_t seq)
{
	struct view_msg *vm = view_msg_get(box, seq);

	buf_clear(&box->scratch);
	buf_printf(&box->scratch, "%s/%s", box->cur_path, vm->fname);
	return buf_cstr(&box->scratch);
}

uint32_t mailbox_seq_by_uid(const struct mailbox *box, uint32_t uid)
{
	uint32_t lo = 0, hi = box->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (box->msgs[mid].msg.uid == uid)
			return mid + 1;
		if (box->msgs[mid].msg.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int mailbox_cache_get(struct mailbox *box, uint32_t first, uint32_t count,
                      struct mail_cache *caches_r, const char **error_r)
{
	uint32_t *uids, last = first + count - 1;
	struct mail_index *index;
	struct mail_cache *rows;
	size_t row_count;
	int ret;

	if (first < 1 || count == 0 || last > box->count)
		abort();
	memset(caches_r, 0, count * sizeof(*caches_r));
	if (mail_user_index(box->user, &index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = mail_index_cache_get(index, box->ibox.id, box->msgs[first - 1].msg.uid,
	                           box->msgs[last - 1].msg.uid, &uids, &rows, &row_count, error_r);
	/* Rows of UIDs this view does not have (added since its last sync)
	   are dropped. */
	for (size_t i = 0; i < row_count; i++) {
		uint32_t seq = mailbox_seq_by_uid(box, uids[i]);

		if (ret == 0 && seq >= first && seq <= last)
			caches_r[seq - first] = rows[i];
		else
			mail_cache_free(&rows[i]);
	}
	free(uids);
	free(rows);
	if (ret < 0)
		return mailbox_fail(box, *error_r, error_r);
	return 0;
}

static bool cache_has_data(const struct mail_cache *cache)
{
	for (size_t i = 0; i < MAIL_CACHE_FIELDS; i++) {
		if (cache->field[i].data != NULL)
			return true;
	}
	return false;
}

int mailbox_cache_set(struct mailbox *box, uint32_t first, uint32_t count,
                      const struct mail_cache *caches, const char **error_r)
{
	struct mail_index *index;

	if (first < 1 || first + count - 1 > box->count)
		abort();
	/* One transaction for the batch: one commit instead of one per
	   message. */
	if (mail_user_index(box->user, &index, error_r) < 0 || mail_index_begin(index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t uid = box->msgs[first - 1 + i].msg.uid;

		if (cache_has_data(&caches[i]) &&
		    mail_index_cache_set(index, box->ibox.id, uid, &caches[i], error_r) < 0) {
			mail_index_rollback(index);
			return mailbox_fail(box, *error_r, error_r);
		}
	}
	if (mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	return 0;
}

void mail_cache_free(struct mail_cache *cache)
{
	for (size_t i = 0; i < MAIL_CACHE_FIELDS; i++) {
		free(cache->field[i].data);
		cache->field[i].data = NULL;
		cache->field[i].len = 0;
	}
}

void mailbox_claim_recent(struct mailbox *box)
{
	box->claim_recent = true;
}

uint32_t mailbox_recent_count(const struct mailbox *box)
{
	uint32_t recent = 0;

	for (uint32_t i = 0; i < box->count; i++)
		recent += (box->msgs[i].msg.flags & MAIL_RECENT) != 0;
	return recent;
}
