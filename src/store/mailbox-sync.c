/*
 * mailbox_sync(): reconcile the index and a view with the Maildir.
 *
 * The merge runs inside an index write transaction, so two views syncing
 * the same mailbox never hand out the same UID to a file. A pass changes
 * at most mail_write_chunk rows; when there is more to change it commits
 * (a consistent state: rows added so far have their UIDs below uidnext,
 * rows of gone files are deleted or still there, never half) and the sync
 * runs again from the start, until a pass finds nothing more to do. The
 * Maildir is read fresh each time something may have changed: file names
 * are the truth for flags. When nothing did (the stamp of the view's last
 * scan still holds, see sync_unchanged()), the sync costs two lstat()s
 * and one SQLite pragma.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/array.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

/* A scan is trusted by the next sync only if both directories were last
   changed at least this long before it. A directory's mtime comes from a
   coarse clock (a jiffy on Linux, up to 2 s on some file systems), so a
   change made in the same tick as the scan's lstat(), after it, may leave
   the mtime as the scan saw it. */
#define SYNC_DIRTY_NSEC 2000000000LL

/* A message file found in cur/. */
struct scan_ent {
	char *fname;
	size_t base_len;
	const char *info; /* inside fname */
	bool used;        /* matched a row, or a duplicate base */
};

struct sync_ctx {
	struct mailbox *box;
	int cur_fd;
	ARRAY(struct scan_ent) ents;
	uint32_t *slots; /* hash table of ents by base: index + 1, 0 empty */
	size_t slot_mask;
	struct index_row *rows; /* in UID order */
	size_t row_count;
	ARRAY(struct view_msg) view; /* the new view being built */
	struct scan_ent **unknown;   /* files without a row */
	size_t unknown_count;
	bool box_changed;
	unsigned budget; /* rows this pass may still change */
	bool more;       /* the budget ran out: another pass is due */
	/* A folder Dovecot used, not taken over yet (mailbox-import.c): the
	   unknown files it lists get their Dovecot UIDs. */
	bool importing;
	size_t imported;
};

/* One more row change in this pass: false (and ctx->more) if the budget
   is spent. */
static bool sync_spend(struct sync_ctx *ctx)
{
	if (ctx->budget == 0) {
		ctx->more = true;
		return false;
	}
	ctx->budget--;
	return true;
}

/* Regular files only: a symlink could point out of the Maildir. */
static bool dirent_is_file(int dir_fd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return true;
	if (de->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Move new/ files to cur/, adding the ":2," info as Maildir readers do. A
   file another process moved first (ENOENT) is simply found in cur/. At
   most limit files: *more_r if new/ may hold more. */
static int sync_move_new(struct mailbox *box, int cur_fd, unsigned limit, bool *more_r,
                         const char **error_r)
{
	unsigned moved = 0;
	int fd = open(box->new_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct buf dest = BUF_INIT;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : mailbox_fail_errno(box, "open new", error_r);
	}
	*more_r = false;
	while ((de = readdir(dir)) != NULL) {
		if (!maildir_name_valid(de->d_name) || !dirent_is_file(dirfd(dir), de))
			continue;
		if (moved++ == limit) {
			*more_r = true;
			break;
		}
		buf_clear(&dest);
		buf_append_str(&dest, de->d_name);
		if (strchr(de->d_name, ':') == NULL)
			buf_append_str(&dest, ":2,");
		if (renameat(dirfd(dir), de->d_name, cur_fd, dest.data) < 0 && errno != ENOENT) {
			char *v = log_value(de->d_name, strlen(de->d_name), 300);
			log_warn(NULL, "event=store.move_new_failed file=%s errno=%d", v, errno);
			free(v);
		}
	}
	closedir(dir);
	buf_free(&dest);
	return 0;
}

static int base_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* FNV-1a over a base: matching files to rows by hashing keeps a sync of a
   big mailbox linear (no sort of 10,000 names). */
static uint32_t base_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	/* spread the high bits into the low ones the table mask keeps */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

/* The slot holding base, or the empty slot where it would go. */
static uint32_t *slot_find(struct sync_ctx *ctx, const char *base, size_t len)
{
	size_t i = base_hash(base, len) & ctx->slot_mask;

	for (;; i = (i + 1) & ctx->slot_mask) {
		uint32_t v = ctx->slots[i];
		if (v == 0)
			return &ctx->slots[i];
		const struct scan_ent *e = &ctx->ents.items[v - 1];
		if (base_cmp(e->fname, e->base_len, base, len) == 0)
			return &ctx->slots[i];
	}
}

static void scan_add(struct sync_ctx *ctx, const char *name)
{
	struct scan_ent *e = array_push(&ctx->ents);

	e->fname = xstrdup(name);
	e->base_len = maildir_name_base(e->fname, &e->info);
	e->used = false;
}

/* Index the files by base. Of files sharing a base (a rename seen twice in
   a race, or a copy) only the first counts: one base is one message. */
static void scan_hash(struct sync_ctx *ctx)
{
	size_t size = 64;

	while (size < ctx->ents.count * 2)
		size *= 2;
	ctx->slots = xcalloc(size, sizeof(*ctx->slots));
	ctx->slot_mask = size - 1;
	for (size_t i = 0; i < ctx->ents.count; i++) {
		struct scan_ent *e = &ctx->ents.items[i];
		uint32_t *slot = slot_find(ctx, e->fname, e->base_len);
		if (*slot != 0)
			e->used = true;
		else
			*slot = (uint32_t)i + 1;
	}
}

static int sync_scan_cur(struct sync_ctx *ctx, const char **error_r)
{
	int fd = dup(ctx->cur_fd);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return mailbox_fail_errno(ctx->box, "opendir cur", error_r);
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (maildir_name_valid(de->d_name) && dirent_is_file(ctx->cur_fd, de))
			scan_add(ctx, de->d_name);
	}
	closedir(dir);
	scan_hash(ctx);
	return 0;
}

/* A file with a row: take its flags from the name (the truth). 0, 1 if
   the pass's budget is spent (nothing done), -1. */
static int sync_known(struct sync_ctx *ctx, struct index_row *row, const struct scan_ent *e,
                      struct view_msg *vm, const char **error_r)
{
	struct mailbox *box = ctx->box;

	/* a row may lack the letters its file has (an index migrated from
	   version 3 kept the info but not the keywords) */
	if (strcmp(row->info, e->info) != 0 ||
	    (row->keywords & MAILDIR_KEYWORD_LETTER_MASK) != maildir_info_keywords(e->info)) {
		if (!sync_spend(ctx))
			return 1;
		free(row->info);
		row->info = xstrdup(e->info);
		row->flags = maildir_info_flags(e->info);
		/* the letters are the truth for the first keywords, the row
		   for the others */
		row->keywords = (row->keywords & ~(uint64_t)MAILDIR_KEYWORD_LETTER_MASK) |
		                maildir_info_keywords(e->info);
		row->modseq = box->ibox.highestmodseq + 1;
		ctx->box_changed = true;
		if (mail_index_row_update(box->user->index, box->ibox.id, row, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
	}
	vm->msg.uid = row->uid;
	vm->msg.flags = row->flags;
	vm->msg.keywords = row->keywords;
	vm->msg.size = row->size;
	vm->msg.internaldate = (time_t)row->internaldate;
	vm->msg.modseq = row->modseq;
	vm->fname = xstrdup(e->fname);
	return 0;
}

/* Match each row (in UID order) with its file; files left over are new. */
static int sync_merge(struct sync_ctx *ctx, const char **error_r)
{
	struct mailbox *box = ctx->box;

	for (size_t j = 0; j < ctx->row_count; j++) {
		struct index_row *r = &ctx->rows[j];
		uint32_t slot = *slot_find(ctx, r->base, strlen(r->base));
		if (slot == 0) {
			/* the file is gone: expunged by another program */
			if (!sync_spend(ctx))
				return 0;
			/* expunged at the modseq this pass ends with */
			if (mail_index_row_delete(box->user->index, box->ibox.id, r->uid,
			                          box->ibox.highestmodseq + 1, error_r) < 0)
				return mailbox_fail(box, *error_r, error_r);
			ctx->box_changed = true;
			continue;
		}
		ctx->ents.items[slot - 1].used = true;
		int ret =
		    sync_known(ctx, r, &ctx->ents.items[slot - 1], array_push(&ctx->view), error_r);
		if (ret != 0) {
			ctx->view.count--;
			return ret < 0 ? -1 : 0;
		}
	}
	ctx->unknown = xcalloc(ctx->ents.count + 1, sizeof(*ctx->unknown));
	for (size_t i = 0; i < ctx->ents.count; i++) {
		if (!ctx->ents.items[i].used)
			ctx->unknown[ctx->unknown_count++] = &ctx->ents.items[i];
	}
	return 0;
}

struct unknown_file {
	struct scan_ent *ent;
	struct stat st;
	uint32_t uid; /* from dovecot-uidlist; 0: a new one */
};

/* Files Dovecot gave UIDs first, by UID, then the others oldest first:
   the view stays in UID order (the new UIDs are above Dovecot's next). */
static int unknown_cmp(const void *a, const void *b)
{
	const struct unknown_file *x = a, *y = b;

	if ((x->uid != 0) != (y->uid != 0))
		return x->uid != 0 ? -1 : 1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;

	if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec)
		return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
	if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec)
		return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
	return strcmp(x->ent->fname, y->ent->fname);
}

static int sync_add_one(struct sync_ctx *ctx, const struct unknown_file *u, struct view_msg *vm,
                        const char **error_r)
{
	struct mailbox *box = ctx->box;
	struct index_row row = {
	    .uid = u->uid != 0 ? u->uid : box->ibox.uidnext++,
	    .base = xstrndup(u->ent->fname, u->ent->base_len),
	    .info = (char *)u->ent->info,
	    .flags = maildir_info_flags(u->ent->info),
	    .size = (uint64_t)u->st.st_size,
	    .internaldate = u->st.st_mtim.tv_sec,
	    .modseq = box->ibox.highestmodseq + 1,
	    .keywords = maildir_info_keywords(u->ent->info),
	};
	int ret = mail_index_row_add(box->user->index, box->ibox.id, &row, error_r);

	free(row.base);
	if (ret < 0)
		return mailbox_fail(box, *error_r, error_r);
	vm->msg = (struct mail_msg){
	    .uid = row.uid,
	    .flags = row.flags,
	    .size = row.size,
	    .internaldate = (time_t)row.internaldate,
	    .modseq = row.modseq,
	    .keywords = row.keywords,
	};
	vm->fname = xstrdup(u->ent->fname);
	return 0;
}

/* A folder Dovecot used and Tern has not taken over: the Dovecot UID of
   each unknown file it lists (below the mailbox's next UID, which moves
   above Dovecot's). */
static void import_uids(struct sync_ctx *ctx, struct unknown_file *files, size_t n)
{
	struct mailbox *box = ctx->box;
	/* rows are in UID order: a UID at or below the last is not given (it
	   would be twice, or out of the view's order) */
	uint32_t floor = ctx->row_count > 0 ? ctx->rows[ctx->row_count - 1].uid : 0;
	struct dovecot_uidlist list;

	if (mailbox_import_load(box, &list) < 0)
		return;
	if (list.uidvalidity == box->ibox.uidvalidity) {
		ctx->importing = true;
		for (size_t i = 0; i < n; i++) {
			files[i].uid = dovecot_uidlist_find(&list, files[i].ent->fname,
			                                    files[i].ent->base_len);
			if (files[i].uid <= floor)
				files[i].uid = 0;
		}
		if (box->ibox.uidnext < list.next_uid) {
			box->ibox.uidnext = list.next_uid;
			ctx->box_changed = true;
		}
	}
	dovecot_uidlist_clear(&list);
}

/* Files without a row get the next UIDs, oldest first. */
static int sync_add_unknown(struct sync_ctx *ctx, const char **error_r)
{
	struct unknown_file *files = xcalloc(ctx->unknown_count + 1, sizeof(*files));
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < ctx->unknown_count; i++) {
		files[n].ent = ctx->unknown[i];
		/* gone meanwhile, or not a regular file: skip */
		if (fstatat(ctx->cur_fd, files[n].ent->fname, &files[n].st, AT_SYMLINK_NOFOLLOW) ==
		        0 &&
		    S_ISREG(files[n].st.st_mode))
			n++;
	}
	import_uids(ctx, files, n);
	qsort(files, n, sizeof(*files), unknown_cmp);
	for (size_t i = 0; i < n && ret == 0 && sync_spend(ctx); i++) {
		if (ctx->box->ibox.uidnext == UINT32_MAX) {
			ret = mailbox_fail(ctx->box, "UIDs exhausted", error_r);
			break;
		}
		ret = sync_add_one(ctx, &files[i], array_push(&ctx->view), error_r);
		if (ret < 0)
			ctx->view.count--;
		else if (files[i].uid != 0)
			ctx->imported++;
	}
	if (n > 0)
		ctx->box_changed = true;
	free(files);
	if (ctx->more) /* files were left for the next pass */
		return 0;
	return ret;
}

/* \Recent (RFC 3501 2.3.2): the messages above the mailbox's boundary are
   recent in this view; a selecting view takes them, raising the boundary
   in this transaction, so no other view of any process takes them too. */
static int sync_recent(struct sync_ctx *ctx, const char **error_r)
{
	struct mailbox *box = ctx->box;
	uint32_t last = 0;

	for (size_t i = 0; i < ctx->view.count; i++) {
		struct view_msg *vm = &ctx->view.items[i];
		if (vm->msg.uid > box->ibox.recent_uid)
			vm->msg.flags |= MAIL_RECENT;
		last = vm->msg.uid;
	}
	if (!box->claim_recent || ctx->more || last <= box->ibox.recent_uid)
		return 0;
	if (mail_index_box_recent(box->user->index, box->ibox.id, last, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	box->ibox.recent_uid = last;
	return 0;
}

static int sync_index(struct sync_ctx *ctx, const char **error_r)
{
	struct mailbox *box = ctx->box;
	struct mail_index *index = box->user->index;
	int ret;

	ret = mail_index_box_get(index, box->name, &box->ibox, error_r);
	if (ret <= 0)
		return mailbox_fail(box, ret == 0 ? "mailbox vanished from the index" : *error_r,
		                    error_r);
	if (keywords_load(box, error_r) < 0 || sync_scan_cur(ctx, error_r) < 0)
		return -1;
	if (mail_index_rows(index, box->ibox.id, &ctx->rows, &ctx->row_count, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (sync_merge(ctx, error_r) < 0 || (!ctx->more && sync_add_unknown(ctx, error_r) < 0))
		return -1;
	if (ctx->box_changed) {
		box->ibox.highestmodseq++;
		if (mail_index_box_update(index, &box->ibox, error_r) < 0)
			return mailbox_fail(box, *error_r, error_r);
	}
	if (sync_recent(ctx, error_r) < 0)
		return -1;
	/* rows came in UID order and new UIDs are above them: the view is in
	   UID order without sorting */
	return 0;
}

/* Compare the old view with the new one (both in UID order). */
static void sync_changes(struct mailbox *box, struct view_msg *nv, uint32_t ncount,
                         struct mailbox_changes *ch)
{
	const struct view_msg *ov = box->msgs;
	ARRAY(uint32_t) expunged = ARRAY_INIT;
	ARRAY(uint32_t) expunged_uids = ARRAY_INIT;
	ARRAY(uint32_t) flags_changed = ARRAY_INIT;
	uint32_t i = 0, j = 0;

	while (i < box->count || j < ncount) {
		if (j == ncount || (i < box->count && ov[i].msg.uid < nv[j].msg.uid)) {
			array_append(&expunged, i + 1);
			array_append(&expunged_uids, ov[i].msg.uid);
			i++;
		} else if (i == box->count || nv[j].msg.uid < ov[i].msg.uid) {
			ch->grew = true;
			j++;
		} else {
			if (((ov[i].msg.flags ^ nv[j].msg.flags) & MAIL_STORED_FLAGS) != 0 ||
			    ov[i].msg.keywords != nv[j].msg.keywords)
				array_append(&flags_changed, j + 1);
			nv[j].msg.flags |= ov[i].msg.flags & MAIL_RECENT;
			i++;
			j++;
		}
	}
	/* Sent highest first, no sequence number needs adjusting. */
	for (size_t k = 0; k < expunged.count / 2; k++) {
		uint32_t t = expunged.items[k];
		expunged.items[k] = expunged.items[expunged.count - 1 - k];
		expunged.items[expunged.count - 1 - k] = t;
		t = expunged_uids.items[k];
		expunged_uids.items[k] = expunged_uids.items[expunged.count - 1 - k];
		expunged_uids.items[expunged.count - 1 - k] = t;
	}
	ch->expunged_uids = array_steal(&expunged_uids, &ch->expunged_count);
	ch->expunged = array_steal(&expunged, &ch->expunged_count);
	ch->flags_changed = array_steal(&flags_changed, &ch->flags_changed_count);
	ch->count = ncount;
	for (uint32_t k = 0; k < ncount; k++)
		ch->recent += (nv[k].msg.flags & MAIL_RECENT) != 0;
}

static void sync_ctx_free(struct sync_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ents.count; i++)
		free(ctx->ents.items[i].fname);
	array_free(&ctx->ents);
	free(ctx->slots);
	index_rows_free(ctx->rows, ctx->row_count);
	free(ctx->unknown);
	view_msgs_free(ctx->view.items, (uint32_t)ctx->view.count);
	if (ctx->cur_fd >= 0)
		close(ctx->cur_fd);
}

/* The directory as it is now. false if it cannot be stat()ed, except that a
   missing directory (ino 0) is a state too: a missing new/ is no error. */
static bool dir_stamp_take(const char *path, struct dir_stamp *ds)
{
	struct stat st;

	*ds = (struct dir_stamp){0};
	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	ds->dev = st.st_dev;
	ds->ino = st.st_ino;
	ds->mtime = st.st_mtim;
	return true;
}

static bool dir_stamp_equal(const struct dir_stamp *a, const struct dir_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Changed at least SYNC_DIRTY_NSEC before now (or missing). */
static bool dir_stamp_settled(const struct dir_stamp *ds, const struct timespec *now)
{
	int64_t age = ((int64_t)now->tv_sec - ds->mtime.tv_sec) * 1000000000LL +
	              (now->tv_nsec - ds->mtime.tv_nsec);

	return ds->ino == 0 || age >= SYNC_DIRTY_NSEC;
}

/* Stamp both directories before they are read; true if the scan that
   follows may be trusted by the next sync. */
static bool sync_stamp_take(struct mailbox *box, struct sync_stamp *stamp)
{
	struct timespec now;

	if (!dir_stamp_take(box->cur_path, &stamp->cur) || stamp->cur.ino == 0 ||
	    !dir_stamp_take(box->new_path, &stamp->new))
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	return dir_stamp_settled(&stamp->cur, &now) && dir_stamp_settled(&stamp->new, &now);
}

/* True if the Maildir and the index are as the view's last scan left them:
   neither directory changed (same inode, same mtime to the nanosecond), no
   change was committed through this process's connection to the user's
   index (nor notified from another process), and none through another
   connection (SQLite's data_version). Any doubt means false: scan. */
bool mailbox_sync_unchanged(struct mailbox *box)
{
	struct dir_stamp cur, new;
	struct mail_index *index;
	uint64_t data_version;
	const char *error;

	if (!box->stamp.valid || box->stamp.changes != box->user->changes)
		return false;
	if (!dir_stamp_take(box->cur_path, &cur) || !dir_stamp_equal(&cur, &box->stamp.cur) ||
	    !dir_stamp_take(box->new_path, &new) || !dir_stamp_equal(&new, &box->stamp.new))
		return false;
	/* data_version is per connection: after a reopen, one scan */
	return mail_user_index(box->user, &index, &error) == 0 &&
	       box->stamp.index_opens == box->user->index_opens &&
	       mail_index_data_version(index, &data_version, &error) == 0 &&
	       data_version == box->stamp.data_version;
}

static int sync_run(struct sync_ctx *ctx, const char **error_r)
{
	struct mailbox *box = ctx->box;
	struct mail_index *index;
	struct sync_stamp stamp = {0};
	bool trusted = sync_stamp_take(box, &stamp);

	if (mail_user_index(box->user, &index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	stamp.index_opens = box->user->index_opens;
	ctx->cur_fd = open(box->cur_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ctx->cur_fd < 0)
		return mailbox_fail_errno(box, "open cur", error_r);
	/* Outside the lock: the move touches no row, and a file is in new/ or
	   in cur/ at every moment (another sync finds it in cur/). A pass that
	   left files in new/ ends here: UIDs are given once all are in cur/,
	   so that they follow the delivery order. */
	if (sync_move_new(box, ctx->cur_fd, ctx->budget, &ctx->more, error_r) < 0)
		return -1;
	if (ctx->more)
		return 0;
	if (mail_index_begin(index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	/* inside the write transaction: no other connection commits until
	   ours, so this is the state the scan is merged with */
	if (mail_index_data_version(index, &stamp.data_version, error_r) < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	if (sync_index(ctx, error_r) < 0) {
		mail_index_rollback(index);
		return -1;
	}
	if (mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		return mailbox_fail(box, *error_r, error_r);
	}
	if (ctx->importing && !ctx->more)
		mailbox_import_done(box, ctx->imported);
	if (ctx->box_changed)
		box->user->changes++;
	stamp.changes = box->user->changes;
	stamp.valid = trusted;
	box->stamp = stamp;
	return 0;
}

/* Nothing changed: the view stays, only its counts are reported. */
static void sync_none(const struct mailbox *box, struct mailbox_changes *ch)
{
	*ch = (struct mailbox_changes){.count = box->count};
	for (uint32_t k = 0; k < box->count; k++)
		ch->recent += (box->msgs[k].msg.flags & MAIL_RECENT) != 0;
}

/* Passes a sync makes at most before its last one, which has no budget:
   every pass changes mail_write_chunk rows, so only files that keep
   coming faster than a pass takes could reach it. */
#define SYNC_MAX_PASSES 10000

/* Pass after pass until one finishes within its budget; ctx holds the
   last pass's view. */
static int sync_passes(struct sync_ctx *ctx, const char **error_r)
{
	struct mailbox *box = ctx->box;

	for (unsigned pass = 0;; pass++) {
		*ctx = (struct sync_ctx){.box = box, .cur_fd = -1};
		ctx->budget = pass < SYNC_MAX_PASSES ? mail_write_chunk : UINT32_MAX;
		if (sync_run(ctx, error_r) < 0)
			return -1;
		if (!ctx->more)
			return 0;
		sync_ctx_free(ctx);
		/* let a connection waiting for the lock take it */
		usleep(1000);
	}
}

/* The last pass's view becomes the view; changes_r as mailbox_sync()'s. */
static void sync_install(struct mailbox *box, struct sync_ctx *ctx,
                         struct mailbox_changes *changes_r)
{
	struct mailbox_changes changes = {0};
	size_t view_count;

	sync_changes(box, ctx->view.items, (uint32_t)ctx->view.count, &changes);
	view_msgs_free(box->msgs, box->count);
	box->msgs = array_steal(&ctx->view, &view_count);
	box->count = (uint32_t)view_count;
	if (changes_r != NULL)
		*changes_r = changes;
	else
		mailbox_changes_free(&changes);
}

int mailbox_sync_step(struct mailbox *box, const char **error_r)
{
	struct sync_ctx ctx = {.box = box, .cur_fd = -1, .budget = mail_write_chunk};
	struct index_box saved = box->ibox;
	int ret;

	if (mailbox_sync_unchanged(box))
		return 0;
	box->stamp.valid = false;
	ret = sync_run(&ctx, error_r);
	if (ret == 0 && ctx.more) {
		/* the view was not rebuilt from this pass: its next sync scans */
		box->stamp.valid = false;
		box->ibox = saved; /* the view's, not the index's */
		ret = 1;
	} else if (ret == 0) {
		sync_install(box, &ctx, NULL);
	} else {
		box->ibox = saved;
	}
	sync_ctx_free(&ctx);
	return ret;
}

int mailbox_sync(struct mailbox *box, struct mailbox_changes *changes_r, const char **error_r)
{
	struct sync_ctx ctx = {.box = box, .cur_fd = -1};
	struct index_box saved = box->ibox;

	if (mailbox_sync_unchanged(box)) {
		if (changes_r != NULL)
			sync_none(box, changes_r);
		return 0;
	}
	box->stamp.valid = false;
	if (sync_passes(&ctx, error_r) < 0) {
		box->ibox = saved;
		sync_ctx_free(&ctx);
		return -1;
	}
	sync_install(box, &ctx, changes_r);
	sync_ctx_free(&ctx);
	return 0;
}

void mailbox_changes_free(struct mailbox_changes *changes)
{
	free(changes->expunged);
	free(changes->expunged_uids);
	free(changes->flags_changed);
	*changes = (struct mailbox_changes){0};
}
