/* The spool's files (spool.h, docs/queue.md). */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/delivery.h"

#define ENVELOPE_MAX (1024 * 1024)
/* A new id collides only with an entry made in the same microsecond with
   the same 40 random bits: a couple of tries is plenty. */
#define ID_TRIES 4

struct spool {
	char *dir;
};

struct spool_entry {
	struct spool *sp;
	char *id;
	char *data_path; /* <id>.msg */
	char *tmp_path;  /* <id>.tmp, the envelope until the commit */
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

char *spool_dir_path(const struct tern_settings *settings)
{
	return xasprintf("%s/queue", settings->data_dir);
}

int spool_open(const char *dir, bool create, struct spool **sp_r, const char **error_r)
{
	struct spool *sp;

	if (create) {
		struct stat st;
		bool existed = stat(dir, &st) == 0;

		if (mkdir_p(dir, 0700) < 0 || (!existed && fsync_parent(dir) < 0)) {
			log_errno("queue.mkdir_failed", dir);
			*error_r = "cannot create the queue directory";
			return -1;
		}
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	*sp_r = sp;
	return 0;
}

void spool_free(struct spool **spp)
{
	if (*spp == NULL)
		return;
	free((*spp)->dir);
	free(*spp);
	*spp = NULL;
}

const char *spool_path(const struct spool *sp)
{
	return sp->dir;
}

static char *entry_file(const struct spool *sp, const char *id, const char *ext)
{
	return xasprintf("%s/%s.%s", sp->dir, id, ext);
}

char *spool_data_path(const struct spool *sp, const char *id)
{
	return entry_file(sp, id, "msg");
}

/* 14 hex digits of microseconds (sorts by time until the year 2540), 10
   of randomness. */
static char *new_id(void)
{
	struct timeval tv;
	unsigned char rnd[5] = {0};
	unsigned long long usec;
	uint64_t r = 0;

	gettimeofday(&tv, NULL);
	usec = (unsigned long long)tv.tv_sec * 1000000ull + (unsigned long long)tv.tv_usec;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		r = (uint64_t)getpid() ^ ((uint64_t)usec << 7);
	for (size_t i = 0; i < sizeof(rnd); i++)
		r = (r << 8) ^ rnd[i];
	return xasprintf("%014llx%010llx", usec & 0xffffffffffffffull,
	                 (unsigned long long)(r & 0xffffffffffull));
}

static void entry_free(struct spool_entry **ep)
{
	struct spool_entry *e = *ep;

	free(e->id);
	free(e->data_path);
	free(e->tmp_path);
	free(e);
	*ep = NULL;
}

/* Link d's data to a fresh <id>.msg. */
static int take_data(struct spool *sp, struct delivery *d, struct spool_entry *e, uint64_t *size_r,
                     const char **error_r)
{
	for (int tries = 0; tries < ID_TRIES; tries++) {
		int ret;

		e->id = new_id();
		e->data_path = spool_data_path(sp, e->id);
		ret = delivery_link_file(d, e->data_path, size_r, error_r);
		if (ret == 0)
			return 0;
		free(e->id);
		free(e->data_path);
		e->id = e->data_path = NULL;
		if (ret != -2)
			break;
	}
	log_warn(NULL, "event=queue.data_failed dir=%s error=\"%s\"", sp->dir, *error_r);
	return -1;
}

static int write_envelope(const char *path, const struct buf *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	if (write_full(fd, text->data, text->len) < 0 || fsync(fd) < 0) {
		int saved = errno;

		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* The envelope half of a prepare, once e has its data file. */
static int prepare_envelope(struct spool_entry *e, struct spool_envelope *env, uint64_t size,
                            struct spool_entry **entry_r, const char **error_r);

int spool_prepare(struct spool *sp, struct delivery *d, struct spool_envelope *env,
                  struct spool_entry **entry_r, const char **error_r)
{
	struct spool_entry *e = xcalloc(1, sizeof(*e));
	uint64_t size;

	e->sp = sp;
	if (take_data(sp, d, e, &size, error_r) < 0) {
		entry_free(&e);
		return -1;
	}
	return prepare_envelope(e, env, size, entry_r, error_r);
}

/* Write len bytes to a fresh <id>.msg (O_EXCL: a taken id is tried
   again) and fsync it. */
static int take_buffer(struct spool *sp, const void *data, size_t len, struct spool_entry *e,
                       const char **error_r)
{
	for (int tries = 0; tries < ID_TRIES; tries++) {
		bool taken;
		int fd;

		e->id = new_id();
		e->data_path = spool_data_path(sp, e->id);
		fd = open(e->data_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		taken = fd < 0 && errno == EEXIST;
		if (fd >= 0) {
			if (write_full(fd, data, len) == 0 && fsync(fd) == 0 && close(fd) == 0)
				return 0;
			log_errno("queue.data_write_failed", e->data_path);
			close(fd);
			unlink(e->data_path);
		}
		free(e->id);
		free(e->data_path);
		e->id = e->data_path = NULL;
		if (!taken)
			break;
	}
	*error_r = "cannot write the message into the queue";
	return -1;
}

int spool_write_data(struct spool *sp, const void *data, size_t len, struct spool_envelope *env,
                     const char **error_r)
{
	struct spool_entry *e = xcalloc(1, sizeof(*e));

	e->sp = sp;
	if (take_buffer(sp, data, len, e, error_r) < 0) {
		entry_free(&e);
		return -1;
	}
	if (prepare_envelope(e, env, (uint64_t)len, &e, error_r) < 0)
		return -1;
	return spool_commit(&e, error_r);
}

static int prepare_envelope(struct spool_entry *e, struct spool_envelope *env, uint64_t size,
                            struct spool_entry **entry_r, const char **error_r)
{
	struct buf text = BUF_INIT;

	free(env->id);
	env->id = xstrdup(e->id);
	env->size = size > env->data_skip ? size - env->data_skip : 0;
	if (spool_envelope_format(env, &text, error_r) < 0) {
		spool_abort(&e);
		return -1;
	}
	e->tmp_path = entry_file(e->sp, e->id, "tmp");
	/* No directory fsync yet: the commit's one makes both names durable
	   before the 250. A crash before it may leave <id>.env without its
	   <id>.msg on a file system that reorders: readers ignore that. */
	if (write_envelope(e->tmp_path, &text) < 0) {
		log_errno("queue.envelope_write_failed", e->tmp_path);
		*error_r = "cannot write the envelope";
		buf_free(&text);
		spool_abort(&e);
		return -1;
	}
	buf_free(&text);
	*entry_r = e;
	return 0;
}

const char *spool_entry_id(const struct spool_entry *entry)
{
	return entry->id;
}

int spool_commit(struct spool_entry **ep, const char **error_r)
{
	struct spool_entry *e = *ep;
	char *env_path = entry_file(e->sp, e->id, "env");
	int ret = 0;

	if (rename(e->tmp_path, env_path) < 0) {
		log_errno("queue.commit_failed", env_path);
		*error_r = "cannot commit the envelope";
		spool_abort(ep);
		ret = -1;
	} else if (fsync_dir(e->sp->dir) < 0) {
		log_errno("queue.commit_fsync_failed", e->sp->dir);
		*error_r = "cannot fsync the queue directory";
		unlink(env_path);
		free(e->tmp_path);
		e->tmp_path = NULL;
		spool_abort(ep);
		ret = -1;
	} else {
		entry_free(ep);
	}
	free(env_path);
	return ret;
}

void spool_abort(struct spool_entry **ep)
{
	struct spool_entry *e = *ep;

	if (e == NULL)
		return;
	if (e->tmp_path != NULL)
		unlink(e->tmp_path);
	if (e->data_path != NULL)
		unlink(e->data_path);
	entry_free(ep);
}

int spool_write(struct spool *sp, struct delivery *d, struct spool_envelope *env,
                const char **error_r)
{
	struct spool_entry *e;

	if (spool_prepare(sp, d, env, &e, error_r) < 0)
		return -1;
	return spool_commit(&e, error_r);
}

/* ---- reading ---- */

/* The id of a directory entry name "<id>.<ext>", in a buffer of 65. */
static bool name_id(const char *name, const char *ext, char id[65])
{
	const char *dot = strrchr(name, '.');
	size_t n = dot != NULL ? (size_t)(dot - name) : 0;

	if (dot == NULL || n == 0 || n > 64 || strcmp(dot + 1, ext) != 0)
		return false;
	memcpy(id, name, n);
	id[n] = '\0';
	return spool_id_valid(id);
}

/* Whether <id>.<ext> exists (an error other than ENOENT counts as yes:
   an entry is never hidden for a passing failure). */
static bool has_file(const struct spool *sp, const char *id, const char *ext)
{
	char *path = entry_file(sp, id, ext);
	bool missing = access(path, F_OK) < 0 && errno == ENOENT;

	free(path);
	return !missing;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_list(struct spool *sp, char ***ids_r, size_t *count_r, const char **error_r)
{
	ARRAY(char *) ids = ARRAY_INIT;
	DIR *dir = opendir(sp->dir);
	struct dirent *de;
	char id[65];

	if (dir == NULL && errno != ENOENT) {
		log_errno("queue.list_failed", sp->dir);
		*error_r = "cannot read the queue directory";
		return -1;
	}
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		if (name_id(de->d_name, "env", id) && has_file(sp, id, "msg"))
			array_append(&ids, xstrdup(id));
	}
	if (dir != NULL)
		closedir(dir);
	if (ids.count > 0)
		qsort(ids.items, ids.count, sizeof(*ids.items), cmp_str);
	array_append(&ids, NULL);
	*count_r = ids.count - 1;
	*ids_r = ids.items;
	return 0;
}

void spool_ids_free(char ***idsp)
{
	if (*idsp == NULL)
		return;
	for (char **p = *idsp; *p != NULL; p++)
		free(*p);
	free(*idsp);
	*idsp = NULL;
}

static int fail(enum spool_error *kind_r, enum spool_error kind, const char **error_r,
                const char *error)
{
	*kind_r = kind;
	*error_r = error;
	return -1;
}

int spool_read(struct spool *sp, const char *id, struct spool_envelope *env_r,
               enum spool_error *kind_r, const char **error_r)
{
	char *path, *data;
	size_t len;
	int ret;

	if (!spool_id_valid(id))
		return fail(kind_r, SPOOL_ERROR_MALFORMED, error_r, "not a queue id");
	if (!has_file(sp, id, "msg")) /* debris of a crash, or being removed */
		return fail(kind_r, SPOOL_ERROR_NOT_FOUND, error_r, "no such queue entry");
	path = entry_file(sp, id, "env");
	ret = read_file(path, ENVELOPE_MAX, &data, &len);
	if (ret < 0) {
		int saved = errno;

		if (saved != ENOENT)
			log_errno("queue.read_failed", path);
		free(path);
		if (saved == ENOENT)
			return fail(kind_r, SPOOL_ERROR_NOT_FOUND, error_r, "no such queue entry");
		if (saved == EFBIG)
			return fail(kind_r, SPOOL_ERROR_MALFORMED, error_r, "envelope too large");
		return fail(kind_r, SPOOL_ERROR_IO, error_r, "cannot read the envelope");
	}
	free(path);
	ret = spool_envelope_parse(data, len, env_r, error_r);
	free(data);
	if (ret < 0) {
		*kind_r = SPOOL_ERROR_MALFORMED;
		return -1;
	}
	if (strcmp(env_r->id, id) != 0) {
		spool_envelope_clear(env_r);
		return fail(kind_r, SPOOL_ERROR_MALFORMED, error_r,
		            "the envelope names another id");
	}
	return 0;
}

int spool_remove(struct spool *sp, const char *id, enum spool_error *kind_r, const char **error_r)
{
	char *env_path, *data_path;
	int ret = 0;

	if (!spool_id_valid(id))
		return fail(kind_r, SPOOL_ERROR_MALFORMED, error_r, "not a queue id");
	env_path = entry_file(sp, id, "env");
	data_path = spool_data_path(sp, id);
	if (unlink(env_path) < 0) {
		bool missing = errno == ENOENT;

		if (!missing)
			log_errno("queue.remove_failed", env_path);
		ret = fail(kind_r, missing ? SPOOL_ERROR_NOT_FOUND : SPOOL_ERROR_IO, error_r,
		           missing ? "no such queue entry" : "cannot remove the envelope");
	} else if (fsync_dir(sp->dir) < 0) {
		log_errno("queue.remove_fsync_failed", sp->dir);
		ret = fail(kind_r, SPOOL_ERROR_IO, error_r, "cannot fsync the queue directory");
	} else if (unlink(data_path) < 0 && errno != ENOENT) {
		/* debris now, for spool_cleanup() */
		log_errno("queue.remove_data_failed", data_path);
	}
	free(env_path);
	free(data_path);
	return ret;
}

/* Whether name is debris: <id>.tmp, <id>.msg without <id>.env, <id>.env
   without <id>.msg, or the queue role's <id>.state without a whole entry
   (a crash between the removal of the entry and of its state). */
static bool is_debris(struct spool *sp, const char *name)
{
	char id[65];

	if (name_id(name, "tmp", id))
		return true;
	if (name_id(name, "msg", id))
		return !has_file(sp, id, "env");
	if (name_id(name, "env", id))
		return !has_file(sp, id, "msg");
	if (name_id(name, "state", id))
		return !has_file(sp, id, "env") || !has_file(sp, id, "msg");
	return false;
}

/* Whether name (<id>.msg or <id>.state) is what an interrupted removal
   left: the queue role writes <id>.state only for a committed entry, and
   spool_remove() unlinks <id>.env first, so a state file beside no .env
   (and no .tmp: ids are never reused) means the entry was being removed.
   Such debris goes at any age; the rest waits for min_age (an smtp
   process may be preparing it). */
static bool removal_interrupted(struct spool *sp, const char *name)
{
	char id[65];

	if (!name_id(name, "msg", id) && !name_id(name, "state", id))
		return false;
	return has_file(sp, id, "state") && !has_file(sp, id, "env") && !has_file(sp, id, "tmp");
}

/* Before the .state of an interrupted removal goes, its .msg goes (once
   the state is gone, a .msg alone would wait for min_age). */
static void remove_interrupted_msg(DIR *dir, const char *state_name, size_t *removed)
{
	char id[65], *msg;

	if (!name_id(state_name, "state", id))
		return;
	msg = xasprintf("%s.msg", id);
	if (unlinkat(dirfd(dir), msg, 0) == 0) {
		(*removed)++;
		log_info(NULL, "event=queue.debris_removed name=%s", msg);
	}
	free(msg);
}

int spool_cleanup(struct spool *sp, int64_t min_age, size_t *removed_r, const char **error_r)
{
	DIR *dir = opendir(sp->dir);
	struct dirent *de;
	time_t now = time(NULL);
	size_t removed = 0;

	if (dir == NULL) {
		if (errno == ENOENT) {
			*removed_r = 0;
			return 0;
		}
		log_errno("queue.cleanup_failed", sp->dir);
		*error_r = "cannot read the queue directory";
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;

		if (!is_debris(sp, de->d_name) ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    ((int64_t)(now - st.st_mtime) < min_age &&
		     !removal_interrupted(sp, de->d_name)))
			continue;
		if (removal_interrupted(sp, de->d_name))
			remove_interrupted_msg(dir, de->d_name, &removed);
		if (unlinkat(dirfd(dir), de->d_name, 0) == 0) {
			removed++;
			log_info(NULL, "event=queue.debris_removed name=%s", de->d_name);
		}
	}
	closedir(dir);
	*removed_r = removed;
	return 0;
}
