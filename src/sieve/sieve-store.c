/* Script storage paths: see sieve-store.h. */
#include "sieve/sieve-store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "store/maildir.h"

bool sieve_store_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SIEVE_STORE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int sieve_store_dir(const char *mail_dir, const char *user, char **dir_r, const char **error_r)
{
	char *home;

	if (maildir_user_path(mail_dir, user, &home, error_r) < 0)
		return -1;
	*dir_r = xasprintf("%s/sieve", home);
	free(home);
	return 0;
}

int sieve_store_script_path(const char *mail_dir, const char *user, const char *name, char **path_r,
                            const char **error_r)
{
	char *dir;

	if (!sieve_store_name_valid(name)) {
		*error_r = "invalid script name";
		return -1;
	}
	if (sieve_store_dir(mail_dir, user, &dir, error_r) < 0)
		return -1;
	*path_r = xasprintf("%s/%s.sieve", dir, name);
	free(dir);
	return 0;
}

/* The name in a symlink target "NAME.sieve" (any directory part dropped). */
static char *name_of_link(const char *target)
{
	const char *base = strrchr(target, '/');
	size_t len;

	base = base != NULL ? base + 1 : target;
	len = strlen(base);
	if (len > 6 && strcmp(base + len - 6, ".sieve") == 0)
		len -= 6;
	return xstrndup(base, len);
}

/* Read the file form of active: the name, a trailing LF (or CRLF) dropped. */
static int read_name_file(const char *path, char **name_r, const char **error_r)
{
	char *text;
	size_t len;

	if (sieve_store_read(path, SIEVE_STORE_NAME_MAX + 2, &text, &len, error_r) < 0)
		return -1;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	*name_r = text;
	return 0;
}

int sieve_store_active_name(const char *dir, char **name_r, const char **error_r)
{
	char *path = xasprintf("%s/active", dir);
	char target[1024];
	struct stat st;
	char *name = NULL;
	int ret = 0;

	if (lstat(path, &st) < 0) {
		ret = errno == ENOENT || errno == ENOTDIR ? 0 : -1;
		if (ret < 0)
			*error_r = "cannot read the active script name";
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n < 0) {
			*error_r = "cannot read the active script link";
			ret = -1;
		} else {
			target[n] = '\0';
			name = name_of_link(target);
			ret = 1;
		}
	} else {
		ret = read_name_file(path, &name, error_r) < 0 ? -1 : 1;
	}
	free(path);
	if (ret == 1 && !sieve_store_name_valid(name))
		ret = 0;
	if (ret == 1)
		*name_r = name;
	else
		free(name);
	return ret;
}

int sieve_store_active_path(const char *mail_dir, const char *user, char **path_r,
                            const char **error_r)
{
	char *dir, *name, *path;
	struct stat st;
	int ret;

	if (sieve_store_dir(mail_dir, user, &dir, error_r) < 0)
		return -1;
	ret = sieve_store_active_name(dir, &name, error_r);
	if (ret == 1) {
		path = xasprintf("%s/%s.sieve", dir, name);
		free(name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			*path_r = path;
		} else {
			free(path);
			ret = 0;
		}
	}
	free(dir);
	return ret;
}

int sieve_store_read(const char *path, size_t max, char **text_r, size_t *len_r,
                     const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text;
	size_t done = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*error_r = "cannot open the script";
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		*error_r = "the script is too large";
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, text + done, (size_t)st.st_size - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	text[done] = '\0';
	*text_r = text;
	*len_r = done;
	return 0;
}
