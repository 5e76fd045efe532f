/* Vacation and duplicate tracking: see smtp-sieve-private.h. One small
   file per user and kind, "<expiry epoch> <key>" lines, appended under
   flock() and rewritten without the expired lines once over STATE_MAX. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "smtp/smtp-sieve-private.h"

#define STATE_MAX (256 * 1024)

/* Read the whole file of fd into b. */
static void read_all(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n;

	(void)lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b->len < 4 * STATE_MAX)
		buf_append(b, chunk, (size_t)n);
}

/* Each live line of b: calls cb(key, len, line, line_len); stops on true. */
static bool each_live(const struct buf *b, time_t now,
                      bool (*cb)(void *ctx, const char *key, size_t len, const char *line,
                                 size_t line_len),
                      void *ctx)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;
		const char *sp = memchr(p, ' ', (size_t)(le - p));
		long long expiry = strtoll(p, NULL, 10);

		if (sp != NULL && expiry > (long long)now &&
		    cb(ctx, sp + 1, (size_t)(le - sp - 1), p, (size_t)(le - p) + 1))
			return true;
		p = eol != NULL ? eol + 1 : NULL;
	}
	return false;
}

static bool key_is(void *ctx, const char *key, size_t len, const char *line, size_t line_len)
{
	(void)line;
	(void)line_len;
	return strlen(ctx) == len && memcmp(ctx, key, len) == 0;
}

static bool keep_line(void *ctx, const char *key, size_t len, const char *line, size_t line_len)
{
	(void)key;
	(void)len;
	buf_append(ctx, line, line_len);
	return false;
}

bool smtp_sieve_state_seen(const char *dir, const char *file, const char *key)
{
	char *path = xasprintf("%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b = BUF_INIT;
	bool ret = false;

	free(path);
	if (fd < 0)
		return false;
	(void)flock(fd, LOCK_SH);
	read_all(fd, &b);
	close(fd);
	ret = each_live(&b, time(NULL), key_is, (void *)key);
	buf_free(&b);
	return ret;
}

/* Drop the expired lines when the file has grown over STATE_MAX. */
static void prune(int fd, const char *path)
{
	struct buf b = BUF_INIT, out = BUF_INIT;
	char *tmp = xasprintf("%s.tmp", path);
	int tfd;

	read_all(fd, &b);
	(void)each_live(&b, time(NULL), keep_line, &out);
	tfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (tfd >= 0) {
		if (write(tfd, out.data, out.len) == (ssize_t)out.len && fsync(tfd) == 0)
			(void)rename(tmp, path);
		close(tfd);
	}
	(void)unlink(tmp);
	free(tmp);
	buf_free(&b);
	buf_free(&out);
}

void smtp_sieve_state_record(const char *dir, const char *file, const char *key, uint64_t seconds)
{
	char *path = xasprintf("%s/%s", dir, file);
	char *line;
	struct stat st;
	int fd;

	(void)mkdir(dir, 0700);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(path);
		return;
	}
	(void)flock(fd, LOCK_EX);
	line = xasprintf("%lld %s\n", (long long)time(NULL) + (long long)seconds, key);
	for (char *c = line; c[1] != '\0'; c++) {
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	}
	if (write(fd, line, strlen(line)) < 0) {
		/* best effort: at worst a second reply */
	}
	free(line);
	if (fstat(fd, &st) == 0 && st.st_size > STATE_MAX) {
		int rfd = open(path, O_RDONLY | O_CLOEXEC);

		if (rfd >= 0) {
			prune(rfd, path);
			close(rfd);
		}
	}
	close(fd);
	free(path);
}
