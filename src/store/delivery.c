#include "store/delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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
#include "store/maildir.h"
#include "store/quota.h"

#define DELIVERY_CHUNK (64 * 1024)
/* A link into new/ only collides if another process made the very same
   unique name; a couple of fresh names is plenty. */
#define DELIVERY_LINK_TRIES 3

struct delivery {
	char *mail_dir; /* where the targets' users live */
	char *spool_path;
	int fd;
	uint64_t size;
	size_t pending; /* bytes in chunk not yet written */
	char *chunk;    /* DELIVERY_CHUNK bytes */
	int64_t mtime;  /* set on the file before the fsync; 0: keep */
	char *prefix;   /* written before the content at commit; NULL: none */
	size_t prefix_len;
};

static void log_errno(const char *event, const char *path)
{
	const char *reason = strerror(errno);
	char *v = log_value(path, strlen(path), 512);
	char *r = log_value(reason, strlen(reason), 128);

	log_warn(NULL, "event=%s path=%s error=%s", event, v, r);
	free(v);
	free(r);
}

int delivery_begin(const char *mail_dir, struct delivery **d_r, const char **error_r)
{
	char *spool = xasprintf("%s/.spool", mail_dir);
	struct buf name = BUF_INIT;
	struct delivery *d;
	int fd;

	if (maildir_mkdir_durable(spool) < 0) {
		log_errno("store.spool_mkdir_failed", spool);
		free(spool);
		*error_r = "cannot create the spool directory";
		return -1;
	}
	buf_printf(&name, "%s/", spool);
	free(spool);
	maildir_unique_name(&name);
	fd = open(name.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	          0600); /* read back by a prefix */
	if (fd < 0) {
		log_errno("store.spool_open_failed", name.data);
		buf_free(&name);
		*error_r = "cannot create a spool file";
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	d->mail_dir = xstrdup(mail_dir);
	d->spool_path = buf_steal(&name);
	d->fd = fd;
	d->chunk = xmalloc(DELIVERY_CHUNK);
	*d_r = d;
	return 0;
}

static int delivery_flush(struct delivery *d, const char **error_r)
{
	if (d->pending == 0)
		return 0;
	if (write_full(d->fd, d->chunk, d->pending) < 0) {
		log_errno("store.spool_write_failed", d->spool_path);
		*error_r = "cannot write the spool file";
		return -1;
	}
	d->pending = 0;
	return 0;
}

int delivery_write(struct delivery *d, const void *data, size_t len, const char **error_r)
{
	const char *p = data;

	d->size += len;
	while (len > 0) {
		size_t n = DELIVERY_CHUNK - d->pending;
		if (n > len)
			n = len;
		memcpy(d->chunk + d->pending, p, n);
		d->pending += n;
		p += n;
		len -= n;
		if (d->pending == DELIVERY_CHUNK && delivery_flush(d, error_r) < 0)
			return -1;
	}
	return 0;
}

uint64_t delivery_size(const struct delivery *d)
{
	return d->size;
}

static void delivery_free(struct delivery **dp)
{
	struct delivery *d = *dp;

	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->spool_path != NULL)
		unlink(d->spool_path);
	free(d->spool_path);
	free(d->mail_dir);
	free(d->chunk);
	free(d->prefix);
	free(d);
	*dp = NULL;
}

void delivery_abort(struct delivery **d)
{
	delivery_free(d);
}

void delivery_set_prefix(struct delivery *d, const void *data, size_t len)
{
	free(d->prefix);
	d->prefix = xmalloc(len > 0 ? len : 1);
	memcpy(d->prefix, data, len);
	d->prefix_len = len;
}

/* Copy the first len bytes of from into to (at its current offset): in the
   kernel with copy_file_range() (no copy at all on file systems that share
   extents), or by read/write where that is not supported. */
static int copy_content(struct delivery *d, int from, int to, uint64_t len)
{
	loff_t off = 0;

	while ((uint64_t)off < len) {
		ssize_t n = copy_file_range(from, &off, to, NULL, (size_t)(len - (uint64_t)off), 0);

		if (n > 0)
			continue;
		if (n == 0 ||
		    (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP))
			return -1;
		/* no copy_file_range here: the chunk buffer is free after the flush */
		n = pread(from, d->chunk, DELIVERY_CHUNK, off);
		if (n <= 0 || write_full(to, d->chunk, (size_t)n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

/* Content already on disk: a second spool file gets prefix + content and
   replaces the first (which was never fsynced, so it cost no disk flush). */
static int delivery_rewrite_with_prefix(struct delivery *d, const char **error_r)
{
	struct buf name = BUF_INIT;
	const char *slash = strrchr(d->spool_path, '/');
	int fd;

	buf_append(&name, d->spool_path, (size_t)(slash - d->spool_path) + 1);
	maildir_unique_name(&name);
	fd = open(name.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_full(fd, d->prefix, d->prefix_len) < 0 ||
	    copy_content(d, d->fd, fd, d->size) < 0) {
		log_errno("store.spool_prefix_failed", name.data);
		if (fd >= 0) {
			close(fd);
			unlink(name.data);
		}
		buf_free(&name);
		*error_r = "cannot write the spool file";
		return -1;
	}
	close(d->fd);
	unlink(d->spool_path);
	free(d->spool_path);
	d->spool_path = buf_steal(&name);
	d->fd = fd;
	return 0;
}

/* Put the prefix in front of the content. Usually the whole content is
   still in the chunk buffer (messages under 64 KiB), and the prefix is
   simply written first: no copy. */
static int delivery_apply_prefix(struct delivery *d, const char **error_r)
{
	if (d->prefix == NULL)
		return 0;
	if (d->size == d->pending) {
		if (write_full(d->fd, d->prefix, d->prefix_len) < 0) {
			log_errno("store.spool_write_failed", d->spool_path);
			*error_r = "cannot write the spool file";
			return -1;
		}
	} else if (delivery_flush(d, error_r) < 0 || delivery_rewrite_with_prefix(d, error_r) < 0) {
		return -1;
	}
	d->size += d->prefix_len;
	free(d->prefix);
	d->prefix = NULL;
	return 0;
}

/* The spool file's data and inode reach the disk once, whatever the number
   of targets: the links share the inode. */
static int delivery_sync_data(struct delivery *d, const char **error_r)
{
	if (delivery_apply_prefix(d, error_r) < 0 || delivery_flush(d, error_r) < 0)
		return -1;
	if (d->mtime > 0) {
		struct timespec times[2] = {{d->mtime, 0}, {d->mtime, 0}};

		if (futimens(d->fd, times) < 0) {
			log_errno("store.spool_utime_failed", d->spool_path);
			*error_r = "cannot set the message date";
			return -1;
		}
	}
	if (fsync(d->fd) < 0) {
		log_errno("store.spool_fsync_failed", d->spool_path);
		*error_r = "cannot fsync the spool file";
		return -1;
	}
	return 0;
}

/* The Maildir (or Maildir++ folder) of a target, malloc'ed in *path_r. */
static int target_maildir(const struct delivery *d, const struct delivery_target *t, char **path_r,
                          const char **error_r)
{
	char *root, *folder;

	if (t->maildir != NULL) {
		*path_r = xstrdup(t->maildir);
		return 0;
	}
	if (t->user == NULL) {
		*error_r = "target without a user";
		return -1;
	}
	if (maildir_user_path(d->mail_dir, t->user, &root, error_r) < 0)
		return -1;
	if (t->mailbox == NULL || maildir_is_inbox(t->mailbox)) {
		*path_r = root;
		return 0;
	}
	if (maildir_imap_to_folder(t->mailbox, &folder, error_r) < 0) {
		free(root);
		return -1;
	}
	*path_r = xasprintf("%s/%s", root, folder);
	free(root);
	free(folder);
	return 0;
}

/* Link the spool file to <maildir>/new/<unique>,S=<size> (or, with flags,
   cur/<unique>,S=<size>:2,<letters>), creating the Maildir if it is missing.
   Returns the new path (malloc'ed) or NULL. */
static char *delivery_link_one(struct delivery *d, const char *maildir, unsigned flags,
                               uint32_t letters)
{
	struct buf path = BUF_INIT;
	bool created = false;

	for (int tries = 0; tries < DELIVERY_LINK_TRIES; tries++) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s/", maildir, flags != 0 || letters != 0 ? "cur" : "new");
		maildir_unique_name(&path);
		buf_printf(&path, ",S=%llu", (unsigned long long)d->size);
		if (flags != 0 || letters != 0) {
			buf_append_str(&path, ":2,");
			maildir_info_build_keywords(&path, "", flags, letters);
		}
		if (link(d->spool_path, path.data) == 0)
			return buf_steal(&path);
		if (errno == ENOENT && !created) {
			created = true;
			if (maildir_create(maildir) < 0)
				break;
			tries--;
		} else if (errno != EEXIST) {
			break;
		}
	}
	log_errno("store.deliver_link_failed", path.data);
	buf_free(&path);
	return NULL;
}

/* The keyword letters of a target (docs/store.md, "Keywords"): the first
   26 of the mailbox go into the file name; the others, which only the
   index holds, are counted as dropped. A failure drops them all: the
   message itself is still delivered. */
static uint32_t target_letters(const char *maildir, const struct delivery_target *t,
                               struct delivery_result *r)
{
	uint32_t letters = 0;

	if (t->keyword_count == 0)
		return 0;
	if (maildir_create(maildir) < 0 ||
	    maildir_keyword_letters(maildir, t->keywords, t->keyword_count, &letters,
	                            &r->keywords_dropped) < 0)
		log_errno("store.deliver_keywords_failed", maildir);
	return letters;
}

static void result_fail(struct delivery_result *r, const char *error)
{
	if (r->path != NULL) {
		unlink(r->path);
		free(r->path);
		r->path = NULL;
	}
	r->ret = -1;
	r->error = error;
}

/* Whether the quota of target t (with the Maildir root of its user)
   refuses d: the user's usage (read from its index) plus d must fit. An
   unreadable usage refuses too (a temporary failure, not over_quota). */
static bool target_quota_refuses(const struct delivery *d, const struct delivery_target *t,
                                 struct delivery_result *r, const char **error_r)
{
	struct quota_usage usage;
	char *root;
	int ret;

	/* a caller with t->maildir holds the user open and checks itself */
	if (t->quota == NULL || !quota_limited(t->quota) || t->maildir != NULL)
		return false;
	if (maildir_user_path(d->mail_dir, t->user, &root, error_r) < 0)
		return true;
	ret = quota_usage_read(root, &usage, error_r);
	free(root);
	if (ret < 0)
		return true;
	if (quota_fits(t->quota, &usage, d->size))
		return false;
	r->over_quota = true;
	*error_r = "over quota";
	return true;
}

/* Link every target; in all-or-nothing mode stop at the first failure.
   Returns the number of failed targets. */
static size_t delivery_link_all(struct delivery *d, const struct delivery_target *targets,
                                size_t count, enum delivery_mode mode,
                                struct delivery_result *results)
{
	size_t failed = 0;

	for (size_t i = 0; i < count; i++) {
		const char *error = "cannot link the message into a Maildir";
		char *maildir;

		results[i].keywords_dropped = targets[i].keyword_count;
		/* quota: checked before the link, so a refusal leaves nothing */
		if (!target_quota_refuses(d, &targets[i], &results[i], &error) &&
		    target_maildir(d, &targets[i], &maildir, &error) == 0) {
			uint32_t letters = target_letters(maildir, &targets[i], &results[i]);

			results[i].path = delivery_link_one(
			    d, maildir, targets[i].flags & MAIL_STORED_FLAGS, letters);
			free(maildir);
		}
		if (results[i].path == NULL) {
			result_fail(&results[i], error);
			failed++;
			if (mode == DELIVERY_ALL_OR_NOTHING)
				break;
		}
	}
	return failed;
}

/* Count every delivered copy of a target with a quota in its user's usage
   until the sync indexes it (a failure only logs: the copy is durable). */
static void delivery_count_usage(const struct delivery *d, const struct delivery_target *targets,
                                 const struct delivery_result *results, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct delivery_target *t = &targets[i];
		const char *error;
		char *root = NULL;

		if (results[i].ret != 0 || results[i].path == NULL || t->quota == NULL ||
		    t->maildir != NULL)
			continue;
		if (maildir_user_path(d->mail_dir, t->user, &root, &error) < 0)
			continue;
		if (quota_usage_add_pending(root, results[i].path, d->size, &error) < 0)
			log_warn(NULL, "event=store.quota_count_failed error=\"%s\"", error);
		else if (quota_warn(d->mail_dir, t->user, root, t->quota, &error) < 0)
			log_warn(NULL, "event=store.quota_warning_failed error=\"%s\"", error);
		free(root);
	}
}

/* Whether path is a file directly in dir. */
static bool in_dir(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && path[len] == '/' &&
	       strchr(path + len + 1, '/') == NULL;
}

/* One fsync per distinct new/ or cur/ directory makes every link durable.
   The targets whose directory cannot be fsynced have failed. Returns their
   number. */
static size_t delivery_sync_dirs(struct delivery_result *results, size_t count)
{
	size_t failed = 0;

	for (size_t i = 0; i < count; i++) {
		bool seen = false;
		char *dir;

		if (results[i].path == NULL)
			continue;
		dir = xstrndup(results[i].path,
		               (size_t)(strrchr(results[i].path, '/') - results[i].path));
		for (size_t j = 0; j < i && !seen; j++)
			seen = results[j].path != NULL && in_dir(results[j].path, dir);
		if (!seen && fsync_dir(dir) < 0) {
			log_errno("store.deliver_fsync_dir_failed", dir);
			for (size_t j = i; j < count; j++) {
				if (results[j].path != NULL && in_dir(results[j].path, dir)) {
					result_fail(&results[j], "cannot fsync a Maildir");
					failed++;
				}
			}
		}
		free(dir);
	}
	return failed;
}

static const char *first_error(const struct delivery_result *results, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (results[i].ret < 0)
			return results[i].error;
	}
	return "delivery failed";
}

int delivery_commit(struct delivery *d, const struct delivery_target *targets, size_t count,
                    enum delivery_mode mode, struct delivery_result *results, const char **error_r)
{
	const char *error = NULL;
	size_t failed;

	if (count == 0) {
		*error_r = "no delivery target";
		delivery_free(&d);
		return -1;
	}
	memset(results, 0, count * sizeof(*results));
	if (delivery_sync_data(d, &error) < 0) {
		for (size_t i = 0; i < count; i++)
			result_fail(&results[i], error);
		failed = count;
	} else {
		failed = delivery_link_all(d, targets, count, mode, results);
		if (failed == 0 || mode == DELIVERY_PER_TARGET)
			failed += delivery_sync_dirs(results, count);
	}
	if (failed > 0 && mode == DELIVERY_ALL_OR_NOTHING) {
		error = first_error(results, count);
		for (size_t i = 0; i < count; i++) {
			if (results[i].ret == 0)
				result_fail(&results[i], "another target failed");
		}
	}
	if (failed == 0 || mode == DELIVERY_PER_TARGET)
		delivery_count_usage(d, targets, results, count);
	delivery_free(&d);
	if (failed == 0)
		return 0;
	*error_r = error != NULL ? error : first_error(results, count);
	return -1;
}

int delivery_link_file(struct delivery *d, const char *path, uint64_t *size_r, const char **error_r)
{
	int fd, linked;

	if (delivery_sync_data(d, error_r) < 0)
		return -1;
	linked = link(d->spool_path, path);
	if (linked < 0 && errno != EXDEV) {
		*error_r = errno == EEXIST ? "the file exists" : "cannot link the message";
		return errno == EEXIST ? -2 : -1;
	}
	if (linked < 0) { /* another file system: a copy */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || copy_content(d, d->fd, fd, d->size) < 0 || fsync(fd) < 0) {
			log_errno("store.copy_failed", path);
			if (fd >= 0) {
				close(fd);
				unlink(path);
			}
			*error_r = "cannot copy the message";
			return -1;
		}
		close(fd);
	}
	*size_r = d->size;
	return 0;
}

void delivery_results_clear(struct delivery_result *results, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(results[i].path);
	memset(results, 0, count * sizeof(*results));
}

void delivery_set_mtime(struct delivery *d, int64_t mtime)
{
	d->mtime = mtime;
}
