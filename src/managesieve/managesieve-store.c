/* Sieve script storage: see managesieve-store.h. */
#include "managesieve/managesieve-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define SUFFIX      ".sieve"
#define SUFFIX_LEN  (sizeof(SUFFIX) - 1)
#define ACTIVE_FILE "active"
#define MAX_LIST    10000

/* The code point of the UTF-8 sequence at s (at most left bytes), its
   length in *n; -1 if invalid (overlong, surrogate, truncated). */
static long utf8_next(const unsigned char *s, size_t left, size_t *n)
{
	long cp;
	size_t len;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return -1;
	if (len > left)
		return -1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*n = len;
	return cp;
}

bool msieve_name_valid(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;

	if (len == 0 || len > MSIEVE_NAME_MAX)
		return false;
	for (size_t i = 0, n; i < len; i += n) {
		long cp = utf8_next(s + i, len - i, &n);

		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
		    cp == '/')
			return false;
	}
	return true;
}

char *msieve_store_dir(const char *maildir)
{
	return xasprintf("%s/sieve", maildir);
}

void msieve_names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

static char *script_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s" SUFFIX, dir, name);
}

static bool script_exists(const char *dir, const char *name)
{
	char *path = script_path(dir, name);
	struct stat st;
	bool r = stat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return r;
}

/* Read a whole regular file of at most max bytes. 0, or -1 with errno. */
static int read_file(const char *path, size_t max, char **data_r, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct buf b = BUF_INIT;
	char chunk[8192];
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > max) {
			n = -1;
			errno = EFBIG;
			break;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (n < 0) {
		int err = errno;

		close(fd);
		buf_free(&b);
		errno = err;
		return -1;
	}
	close(fd);
	*len_r = b.len;
	buf_append_char(&b, '\0');
	*data_r = buf_steal(&b);
	return 0;
}

char *msieve_store_active(const char *dir)
{
	char *path = xasprintf("%s/" ACTIVE_FILE, dir), *data = NULL;
	size_t len = 0;

	if (read_file(path, MSIEVE_NAME_MAX + 2, &data, &len) < 0) {
		free(path);
		return NULL;
	}
	free(path);
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (!msieve_name_valid(data, len) || strlen(data) != len) {
		free(data);
		return NULL;
	}
	return data;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum msieve_status msieve_store_list(const char *dir, char ***names_r, size_t *count_r,
                                     char **active_r, const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t count = 0;

	*names_r = NULL;
	*count_r = 0;
	*active_r = NULL;
	if (d == NULL) {
		if (errno == ENOENT)
			return MSIEVE_OK;
		*error_r = strerror(errno);
		return MSIEVE_ERROR;
	}
	while ((e = readdir(d)) != NULL && count < MAX_LIST) {
		size_t len = strlen(e->d_name);

		if (len <= SUFFIX_LEN || strcmp(e->d_name + len - SUFFIX_LEN, SUFFIX) != 0 ||
		    !msieve_name_valid(e->d_name, len - SUFFIX_LEN))
			continue;
		names = xrealloc(names, (count + 1) * sizeof(*names));
		names[count++] = xstrndup(e->d_name, len - SUFFIX_LEN);
	}
	closedir(d);
	if (count > 0)
		qsort(names, count, sizeof(*names), name_cmp);
	*names_r = names;
	*count_r = count;
	*active_r = msieve_store_active(dir);
	if (*active_r != NULL && !script_exists(dir, *active_r)) {
		free(*active_r);
		*active_r = NULL;
	}
	return MSIEVE_OK;
}

static size_t count_scripts(const char *dir)
{
	char **names, *active;
	size_t count;
	const char *error;

	if (msieve_store_list(dir, &names, &count, &active, &error) != MSIEVE_OK)
		return 0;
	msieve_names_free(names, count);
	free(active);
	return count;
}

enum msieve_status msieve_store_get(const char *dir, const char *name, char **data_r, size_t *len_r,
                                    const char **error_r)
{
	char *path;
	int r;

	if (!msieve_name_valid(name, strlen(name)))
		return MSIEVE_BADNAME;
	path = script_path(dir, name);
	r = read_file(path, SIZE_MAX / 2, data_r, len_r);
	free(path);
	if (r == 0)
		return MSIEVE_OK;
	if (errno == ENOENT)
		return MSIEVE_NONEXISTENT;
	*error_r = strerror(errno);
	return MSIEVE_ERROR;
}

enum msieve_status msieve_store_havespace(const char *dir, const char *name, uint64_t size,
                                          const struct msieve_quota *quota, const char **error_r)
{
	(void)error_r;
	if (!msieve_name_valid(name, strlen(name)))
		return MSIEVE_BADNAME;
	if (quota->max_size > 0 && size > quota->max_size)
		return MSIEVE_MAXSIZE;
	if (quota->max_scripts > 0 && !script_exists(dir, name) &&
	    count_scripts(dir) >= quota->max_scripts)
		return MSIEVE_MAXSCRIPTS;
	return MSIEVE_OK;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* Write data to dir/tmp file, fsync, rename to final, fsync dir. */
static enum msieve_status write_atomic(const char *dir, const char *final, const char *data,
                                       size_t len, const char **error_r)
{
	char *tmp = xasprintf("%s/.tmp.%ld.%s", dir, (long)getpid(), ACTIVE_FILE);
	int fd, err = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = strerror(errno);
		free(tmp);
		return MSIEVE_ERROR;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		err = errno;
	for (size_t off = 0; err == 0 && off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno != EINTR)
			err = errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (err == 0 && fsync(fd) < 0)
		err = errno;
	if (fd >= 0 && close(fd) < 0 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, final) < 0)
		err = errno;
	if (err == 0 && fsync_dir(dir) < 0)
		err = errno;
	if (err != 0) {
		unlink(tmp);
		*error_r = strerror(err);
	}
	free(tmp);
	return err == 0 ? MSIEVE_OK : MSIEVE_ERROR;
}

enum msieve_status msieve_store_put(const char *dir, const char *name, const char *data, size_t len,
                                    const struct msieve_quota *quota, const char **error_r)
{
	enum msieve_status st = msieve_store_havespace(dir, name, len, quota, error_r);
	char *path;

	if (st != MSIEVE_OK)
		return st;
	path = script_path(dir, name);
	st = write_atomic(dir, path, data, len, error_r);
	free(path);
	return st;
}

static bool is_active(const char *dir, const char *name)
{
	char *active = msieve_store_active(dir);
	bool r = active != NULL && strcmp(active, name) == 0;

	free(active);
	return r;
}

enum msieve_status msieve_store_delete(const char *dir, const char *name, const char **error_r)
{
	char *path;
	int r;

	if (!msieve_name_valid(name, strlen(name)))
		return MSIEVE_BADNAME;
	if (!script_exists(dir, name))
		return MSIEVE_NONEXISTENT;
	if (is_active(dir, name))
		return MSIEVE_ACTIVE;
	path = script_path(dir, name);
	r = unlink(path);
	free(path);
	if (r < 0) {
		*error_r = strerror(errno);
		return errno == ENOENT ? MSIEVE_NONEXISTENT : MSIEVE_ERROR;
	}
	(void)fsync_dir(dir);
	return MSIEVE_OK;
}

enum msieve_status msieve_store_rename(const char *dir, const char *oldname, const char *newname,
                                       const char **error_r)
{
	char *from, *to;
	bool active;
	enum msieve_status st = MSIEVE_OK;

	if (!msieve_name_valid(oldname, strlen(oldname)) ||
	    !msieve_name_valid(newname, strlen(newname)))
		return MSIEVE_BADNAME;
	if (!script_exists(dir, oldname))
		return MSIEVE_NONEXISTENT;
	if (script_exists(dir, newname))
		return MSIEVE_ALREADYEXISTS;
	active = is_active(dir, oldname);
	from = script_path(dir, oldname);
	to = script_path(dir, newname);
	/* link + unlink: never replaces a script created meanwhile */
	if (link(from, to) < 0) {
		st = errno == EEXIST ? MSIEVE_ALREADYEXISTS : MSIEVE_ERROR;
		*error_r = strerror(errno);
	} else if (active && (st = msieve_store_setactive(dir, newname, error_r)) != MSIEVE_OK)
		unlink(to);
	else if (unlink(from) < 0) {
		*error_r = strerror(errno);
		st = MSIEVE_ERROR;
	}
	if (st == MSIEVE_OK)
		(void)fsync_dir(dir);
	free(from);
	free(to);
	return st;
}

enum msieve_status msieve_store_setactive(const char *dir, const char *name, const char **error_r)
{
	char *path = xasprintf("%s/" ACTIVE_FILE, dir);
	enum msieve_status st;

	if (name == NULL || name[0] == '\0') {
		st = MSIEVE_OK;
		if (unlink(path) < 0 && errno != ENOENT) {
			*error_r = strerror(errno);
			st = MSIEVE_ERROR;
		} else
			(void)fsync_dir(dir);
	} else if (!msieve_name_valid(name, strlen(name)))
		st = MSIEVE_BADNAME;
	else if (!script_exists(dir, name))
		st = MSIEVE_NONEXISTENT;
	else
		st = write_atomic(dir, path, name, strlen(name), error_r);
	free(path);
	return st;
}
