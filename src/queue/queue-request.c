/* Requests to the queue role: see queue-request.h. */
#include "queue/queue-request.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/spool-envelope.h"

#define REQUEST_MAX   (64 * 1024)
#define ANSWER_MAX    (4 * 1024 * 1024)
#define POLL_USECS    20000
#define DOMAIN_PREFIX "domain="

static const char *const verb_words[] = {
    [QUEUE_REQ_FLUSH] = "flush",   [QUEUE_REQ_HOLD] = "hold",     [QUEUE_REQ_RELEASE] = "release",
    [QUEUE_REQ_DELETE] = "delete", [QUEUE_REQ_BOUNCE] = "bounce", [QUEUE_REQ_RULES] = "rules",
};

static const char *const answer_words[] = {
    [QUEUE_ANSWER_OK] = "ok",
    [QUEUE_ANSWER_LATER] = "later",
    [QUEUE_ANSWER_NOTFOUND] = "notfound",
    [QUEUE_ANSWER_BUSY] = "busy",
    [QUEUE_ANSWER_ERROR] = "error",
};

#define NVERBS   (sizeof(verb_words) / sizeof(verb_words[0]))
#define NANSWERS (sizeof(answer_words) / sizeof(answer_words[0]))

const char *queue_request_verb_name(enum queue_request_verb verb)
{
	return verb_words[verb];
}

int queue_request_verb_parse(const char *word, enum queue_request_verb *verb_r)
{
	for (size_t i = 0; i < NVERBS; i++) {
		if (strcmp(word, verb_words[i]) == 0) {
			*verb_r = (enum queue_request_verb)i;
			return 0;
		}
	}
	return -1;
}

const char *queue_answer_kind_name(enum queue_answer_kind kind)
{
	return answer_words[kind];
}

void queue_request_add_id(struct queue_request *req, const char *id)
{
	array_append(&req->ids, xstrdup(id));
}

void queue_request_clear(struct queue_request *req)
{
	for (size_t i = 0; i < req->ids.count; i++)
		free(req->ids.items[i]);
	array_free(&req->ids);
	free(req->domain);
	memset(req, 0, sizeof(*req));
}

void queue_request_format(const struct queue_request *req, struct buf *out)
{
	buf_append_str(out, verb_words[req->verb]);
	if (req->all)
		buf_append_str(out, " all");
	if (req->domain != NULL)
		buf_printf(out, " " DOMAIN_PREFIX "%s", req->domain);
	for (size_t i = 0; i < req->ids.count; i++)
		buf_printf(out, " %s", req->ids.items[i]);
	buf_append_char(out, '\n');
}

static bool domain_valid(const char *d)
{
	if (*d == '\0' || strlen(d) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)d; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* One target word. */
static int parse_target(struct queue_request *req, const char *w)
{
	if (strcmp(w, "all") == 0 && !req->all) {
		req->all = true;
		return 0;
	}
	if (strncmp(w, DOMAIN_PREFIX, strlen(DOMAIN_PREFIX)) == 0) {
		const char *d = w + strlen(DOMAIN_PREFIX);

		if (req->verb != QUEUE_REQ_FLUSH || req->domain != NULL || !domain_valid(d))
			return -1;
		req->domain = xstrdup(d);
		return 0;
	}
	if (!spool_id_valid(w))
		return -1;
	queue_request_add_id(req, w);
	return 0;
}

static int parse_words(char *line, struct queue_request *req, const char **error_r)
{
	char *save = NULL, *w = strtok_r(line, " ", &save);

	if (w == NULL || queue_request_verb_parse(w, &req->verb) < 0) {
		*error_r = "unknown request";
		return -1;
	}
	while ((w = strtok_r(NULL, " ", &save)) != NULL) {
		if (req->verb == QUEUE_REQ_RULES || parse_target(req, w) < 0) {
			*error_r = "bad request target";
			return -1;
		}
	}
	if (req->verb != QUEUE_REQ_RULES && !req->all && req->domain == NULL &&
	    req->ids.count == 0) {
		*error_r = "request without a target";
		return -1;
	}
	if ((req->all || req->domain != NULL) &&
	    req->ids.count + req->all + (req->domain != NULL) > 1) {
		*error_r = "all or domain= go alone";
		return -1;
	}
	return 0;
}

int queue_request_parse(const char *data, size_t len, struct queue_request *req,
                        const char **error_r)
{
	char *line;
	int ret;

	memset(req, 0, sizeof(*req));
	if (len == 0 || len > REQUEST_MAX || data[len - 1] != '\n' ||
	    memchr(data, '\n', len) != data + len - 1 || memchr(data, '\0', len) != NULL ||
	    memchr(data, '\r', len) != NULL) {
		*error_r = "a request is one line";
		return -1;
	}
	line = xstrndup(data, len - 1);
	ret = parse_words(line, req, error_r);
	free(line);
	if (ret < 0)
		queue_request_clear(req);
	return ret;
}

void queue_answer_add(struct queue_answer *ans, enum queue_answer_kind kind, const char *id,
                      const char *text)
{
	struct queue_answer_item *it = array_push(&ans->items);

	it->kind = kind;
	it->id = xstrdup(id);
	it->text = text != NULL ? xstrdup(text) : NULL;
}

void queue_answer_clear(struct queue_answer *ans)
{
	for (size_t i = 0; i < ans->items.count; i++) {
		free(ans->items.items[i].id);
		free(ans->items.items[i].text);
	}
	array_free(&ans->items);
}

void queue_answer_format(const struct queue_answer *ans, struct buf *out)
{
	for (size_t i = 0; i < ans->items.count; i++) {
		const struct queue_answer_item *it = &ans->items.items[i];

		buf_printf(out, "%s %s", answer_words[it->kind], it->id);
		if (it->kind == QUEUE_ANSWER_ERROR) {
			buf_append_char(out, ' ');
			for (const unsigned char *p =
			         (const unsigned char *)(it->text != NULL ? it->text : "");
			     *p != '\0'; p++) {
				if (*p <= 0x20 || *p == 0x7f || *p == '%')
					buf_printf(out, "%%%02X", *p);
				else
					buf_append_char(out, (char)*p);
			}
		}
		buf_append_char(out, '\n');
	}
	buf_append_str(out, "end\n");
}

static char *unescape(const char *s)
{
	struct buf out = BUF_INIT;
	char *r;

	for (; *s != '\0'; s++) {
		unsigned v;

		if (*s == '%' && sscanf(s + 1, "%2X", &v) == 1 && v != 0 && s[1] != '\0' &&
		    s[2] != '\0') {
			buf_append_char(&out, (char)v);
			s += 2;
		} else {
			buf_append_char(&out, *s);
		}
	}
	r = xstrndup(out.data != NULL ? out.data : "", out.len);
	buf_free(&out);
	return r;
}

static int answer_line(struct queue_answer *ans, char *line)
{
	char *save = NULL, *kind = strtok_r(line, " ", &save), *id = strtok_r(NULL, " ", &save);
	char *text = strtok_r(NULL, " ", &save);

	if (kind == NULL || id == NULL)
		return -1;
	for (size_t k = 0; k < NANSWERS; k++) {
		if (strcmp(kind, answer_words[k]) != 0)
			continue;
		if ((k == QUEUE_ANSWER_ERROR) != (text != NULL))
			return -1;
		char *t = text != NULL ? unescape(text) : NULL;

		queue_answer_add(ans, (enum queue_answer_kind)k, id, t);
		free(t);
		return 0;
	}
	return -1;
}

int queue_answer_parse(const char *data, size_t len, struct queue_answer *ans, const char **error_r)
{
	size_t pos = 0;

	memset(ans, 0, sizeof(*ans));
	while (pos < len) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		char *line;
		int ret;

		if (lf == NULL)
			break;
		line = xstrndup(data + pos, (size_t)(lf - (data + pos)));
		pos = (size_t)(lf - data) + 1;
		if (strcmp(line, "end") == 0) {
			free(line);
			if (pos == len)
				return 0;
			break;
		}
		ret = answer_line(ans, line);
		free(line);
		if (ret < 0)
			break;
	}
	queue_answer_clear(ans);
	*error_r = "malformed answer from the queue role";
	return -1;
}

char *queue_request_dir(const char *queue_dir)
{
	return xasprintf("%s/flush", queue_dir);
}

char *queue_answer_dir(const char *queue_dir)
{
	return xasprintf("%s/answers", queue_dir);
}

bool queue_request_name(const char *name)
{
	size_t n = strlen(name);

	return n > 2 && n < 80 && strncmp(name, "r-", 2) == 0 &&
	       strspn(name, "r-0123456789abcdef") == n;
}

int queue_role_lock(const char *queue_dir)
{
	char *path = xasprintf("%s/role.lock", queue_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int queue_role_running(const char *queue_dir, int *fd_r)
{
	char *path = xasprintf("%s/role.lock", queue_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	free(path);
	*fd_r = -1;
	if (fd < 0)
		return 0; /* no role ever ran here */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 1;
	}
	*fd_r = fd;
	return 0;
}

/* A fresh request name: r-<pid>-<random hex>. */
static char *request_name(void)
{
	unsigned char r[8];
	char hex[17];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	uint64_t v = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);

	if (fd >= 0 && read(fd, r, sizeof(r)) == (ssize_t)sizeof(r))
		memcpy(&v, r, sizeof(v));
	if (fd >= 0)
		close(fd);
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)v);
	return xasprintf("r-%ld-%s", (long)getpid(), hex);
}

static int write_request(const char *dir, const char *name, const struct buf *line,
                         const char **error_r)
{
	char *tmp = xasprintf("%s/.%s", dir, name), *path = xasprintf("%s/%s", dir, name);
	/* 0644: the role account reads what root may have written */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0) {
		*error_r = errno == ENOENT ? "no request directory: the queue role has not run"
		                           : "cannot write the request";
		ret = -1;
	} else {
		if (write(fd, line->data, line->len) != (ssize_t)line->len ||
		    rename(tmp, path) < 0) {
			*error_r = "cannot write the request";
			unlink(tmp);
			ret = -1;
		}
		close(fd);
	}
	free(tmp);
	free(path);
	return ret;
}

/* Wait for the answer file; 0 with *ans, -1 on timeout or a bad answer. */
static int wait_answer(const char *queue_dir, const char *name, int timeout_ms,
                       struct queue_answer *ans, const char **error_r)
{
	char *adir = queue_answer_dir(queue_dir);
	char *path = xasprintf("%s/%s", adir, name);
	long waited = 0;
	int ret = -1;

	*error_r = "no answer from the queue role in time";
	for (; waited <= (long)timeout_ms * 1000; waited += POLL_USECS) {
		char *data;
		size_t len;

		if (read_file(path, ANSWER_MAX, &data, &len) == 0) {
			ret = queue_answer_parse(data, len, ans, error_r);
			free(data);
			unlink(path);
			break;
		}
		usleep(POLL_USECS);
	}
	free(path);
	free(adir);
	return ret;
}

int queue_request_send(const char *queue_dir, const struct queue_request *req, int timeout_ms,
                       struct queue_answer *ans, const char **error_r)
{
	char *dir = queue_request_dir(queue_dir), *name = request_name(), *path;
	struct buf line = BUF_INIT;
	int ret;

	memset(ans, 0, sizeof(*ans));
	queue_request_format(req, &line);
	ret = write_request(dir, name, &line, error_r);
	if (ret == 0) {
		ret = wait_answer(queue_dir, name, timeout_ms, ans, error_r);
		if (ret < 0) {
			path = xasprintf("%s/%s", dir, name);
			unlink(path); /* withdrawn, unless the role took it */
			free(path);
		}
	}
	buf_free(&line);
	free(name);
	free(dir);
	return ret;
}

int queue_answer_write(const char *queue_dir, const char *name, const struct queue_answer *ans)
{
	char *adir = queue_answer_dir(queue_dir);
	char *tmp = xasprintf("%s/.%s", adir, name), *path = xasprintf("%s/%s", adir, name);
	struct buf out = BUF_INIT;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = -1;

	queue_answer_format(ans, &out);
	if (fd >= 0) {
		if (write(fd, out.data, out.len) == (ssize_t)out.len && rename(tmp, path) == 0)
			ret = 0;
		else
			unlink(tmp);
		close(fd);
	}
	buf_free(&out);
	free(tmp);
	free(path);
	free(adir);
	return ret;
}
