/* Hold rules: see queue-hold.h. */
#include "queue/queue-hold.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/spool-envelope.h"

#define RULES_MAX_SIZE (1024 * 1024)

static const char *const kind_words[] = {
    [QUEUE_HOLD_FROM] = "from",
    [QUEUE_HOLD_TO_DOMAIN] = "to-domain",
};

char *queue_hold_rules_dir(const char *queue_dir)
{
	return xasprintf("%s/rules", queue_dir);
}

char *queue_hold_rules_path(const char *queue_dir)
{
	return xasprintf("%s/rules/hold", queue_dir);
}

const char *queue_hold_kind_name(enum queue_hold_kind kind)
{
	return kind_words[kind];
}

bool queue_hold_value_valid(const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

void queue_hold_rules_add(struct queue_hold_rules *rules, enum queue_hold_kind kind,
                          const char *value)
{
	struct queue_hold_rule *r = array_push(&rules->items);

	r->kind = kind;
	r->value = xstrdup(value);
}

void queue_hold_rules_clear(struct queue_hold_rules *rules)
{
	for (size_t i = 0; i < rules->items.count; i++)
		free(rules->items.items[i].value);
	array_free(&rules->items);
}

static int parse_line(struct queue_hold_rules *rules, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	char *value;
	int ret = -1;

	if (sp == NULL)
		return -1;
	value = xstrndup(sp + 1, n - (size_t)(sp - line) - 1);
	for (size_t k = 0; k < 2 && ret < 0; k++) {
		if ((size_t)(sp - line) == strlen(kind_words[k]) &&
		    memcmp(line, kind_words[k], (size_t)(sp - line)) == 0 &&
		    strlen(value) == n - (size_t)(sp - line) - 1 && queue_hold_value_valid(value)) {
			queue_hold_rules_add(rules, (enum queue_hold_kind)k, value);
			ret = 0;
		}
	}
	free(value);
	return ret;
}

int queue_hold_rules_parse(const char *data, size_t len, struct queue_hold_rules *rules,
                           size_t *line_r, const char **error_r)
{
	size_t pos = 0, line = 0;

	memset(rules, 0, sizeof(*rules));
	while (pos < len) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - (data + pos)) : len - pos;

		line++;
		if (n > 0 && data[pos] != '#' && parse_line(rules, data + pos, n) < 0) {
			queue_hold_rules_clear(rules);
			*line_r = line;
			*error_r = "not a hold rule (from ADDRESS or to-domain DOMAIN)";
			return -1;
		}
		pos += n + 1;
	}
	return 0;
}

void queue_hold_rules_format(const struct queue_hold_rules *rules, struct buf *out)
{
	for (size_t i = 0; i < rules->items.count; i++)
		buf_printf(out, "%s %s\n", kind_words[rules->items.items[i].kind],
		           rules->items.items[i].value);
}

int queue_hold_rules_load(const char *queue_dir, struct queue_hold_rules *rules,
                          const char **error_r)
{
	char *path = queue_hold_rules_path(queue_dir);
	char *data = NULL;
	size_t len = 0, line;
	int ret;

	memset(rules, 0, sizeof(*rules));
	if (read_file(path, RULES_MAX_SIZE, &data, &len) < 0) {
		ret = errno == ENOENT ? 0 : -1;
		if (ret < 0)
			*error_r = "cannot read the hold rules";
		free(path);
		return ret;
	}
	free(path);
	ret = queue_hold_rules_parse(data, len, rules, &line, error_r);
	free(data);
	return ret;
}

/* Give a file the CLI (maybe root) made to the owner of the queue. */
static void give_to_queue_owner(const char *queue_dir, const char *path)
{
	struct stat st;

	if (geteuid() == 0 && stat(queue_dir, &st) == 0)
		(void)chown(path, st.st_uid, st.st_gid);
}

static int store(const char *queue_dir, const struct queue_hold_rules *rules, const char **error_r)
{
	char *path = queue_hold_rules_path(queue_dir);
	struct buf out = BUF_INIT;
	int ret;

	buf_append_str(&out, "# tern queue hold rules: from ADDRESS | to-domain DOMAIN\n");
	queue_hold_rules_format(rules, &out);
	ret = write_file_atomic(path, out.data, out.len, 0600);
	if (ret < 0)
		*error_r = "cannot write the hold rules";
	else
		give_to_queue_owner(queue_dir, path);
	buf_free(&out);
	free(path);
	return ret < 0 ? -1 : 0;
}

static int edit_locked(const char *queue_dir, size_t del, enum queue_hold_kind kind,
                       const char *value, struct queue_hold_rules *rules, const char **error_r)
{
	if (queue_hold_rules_load(queue_dir, rules, error_r) < 0)
		return -1;
	if (del > 0) {
		if (del > rules->items.count) {
			*error_r = "no such rule";
			return -1;
		}
		free(rules->items.items[del - 1].value);
		array_remove(&rules->items, del - 1);
	} else {
		if (!queue_hold_value_valid(value)) {
			*error_r = "not a valid address or domain";
			return -1;
		}
		queue_hold_rules_add(rules, kind, value);
	}
	return store(queue_dir, rules, error_r);
}

int queue_hold_rules_edit(const char *queue_dir, size_t del, enum queue_hold_kind kind,
                          const char *value, struct queue_hold_rules *rules_r, const char **error_r)
{
	char *dir = queue_hold_rules_dir(queue_dir);
	int fd, ret;

	memset(rules_r, 0, sizeof(*rules_r));
	if (mkdir(dir, 0700) == 0)
		give_to_queue_owner(queue_dir, dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		*error_r = "cannot open the hold rules directory";
		return -1;
	}
	ret = edit_locked(queue_dir, del, kind, value, rules_r, error_r);
	close(fd);
	if (ret < 0)
		queue_hold_rules_clear(rules_r); /* nothing for the caller to free */
	return ret;
}

static bool domain_is(const char *address, const char *domain)
{
	const char *at = strrchr(address, '@');

	return at != NULL && strcasecmp(at + 1, domain) == 0;
}

size_t queue_hold_match(const struct queue_hold_rules *rules, const struct spool_envelope *env)
{
	for (size_t i = 0; i < rules->items.count; i++) {
		const struct queue_hold_rule *r = &rules->items.items[i];

		if (r->kind == QUEUE_HOLD_FROM && strcasecmp(env->sender, r->value) == 0)
			return i + 1;
		if (r->kind != QUEUE_HOLD_TO_DOMAIN)
			continue;
		for (size_t j = 0; j < env->rcpts.count; j++)
			if (domain_is(env->rcpts.items[j].address, r->value))
				return i + 1;
	}
	return 0;
}
