/* The per-recipient state file: see queue-state.h. */
#include "queue/queue-state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "queue/spool-envelope.h"

/* Longest state file read (a bounded number of attempts per recipient
   over a bounded life). */
#define STATE_MAX_SIZE (4 * 1024 * 1024)

static const char *const kind_words[] = {
    [QUEUE_EVENT_ATTEMPT] = "attempt",
    [QUEUE_EVENT_DONE] = "done",
    [QUEUE_EVENT_FAILED] = "failed",
    [QUEUE_EVENT_UNREPORTED] = "unreported",
};
#define KIND_COUNT (sizeof(kind_words) / sizeof(kind_words[0]))

void queue_state_init(struct queue_state *st, size_t rcpt_count)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < rcpt_count; i++)
		(void)array_push(&st->rcpts);
}

static void rcpt_strings_free(struct queue_rcpt_state *r)
{
	free(r->mx);
	free(r->ip);
	free(r->tls);
	free(r->text);
	r->mx = r->ip = r->tls = r->text = NULL;
}

void queue_state_clear(struct queue_state *st)
{
	for (size_t i = 0; i < st->rcpts.count; i++)
		rcpt_strings_free(&st->rcpts.items[i]);
	array_free(&st->rcpts);
	st->malformed = 0;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int queue_state_apply(struct queue_state *st, const struct queue_state_event *ev)
{
	struct queue_rcpt_state *r;

	if (ev->rcpt >= st->rcpts.count)
		return -1;
	r = &st->rcpts.items[ev->rcpt];
	if (r->status != QUEUE_RCPT_PENDING)
		return -1;
	r->status = ev->kind == QUEUE_EVENT_DONE     ? QUEUE_RCPT_DONE
	            : ev->kind == QUEUE_EVENT_FAILED ? QUEUE_RCPT_FAILED
	                                             : QUEUE_RCPT_PENDING;
	r->attempts++;
	r->last = ev->time;
	r->next =
	    ev->kind == QUEUE_EVENT_ATTEMPT || ev->kind == QUEUE_EVENT_UNREPORTED ? ev->next : 0;
	r->unreported = ev->kind == QUEUE_EVENT_UNREPORTED;
	r->code = ev->code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", ev->status != NULL ? ev->status : "");
	rcpt_strings_free(r);
	r->mx = dup_or_null(ev->mx);
	r->ip = dup_or_null(ev->ip);
	r->tls = dup_or_null(ev->tls);
	r->tls_verified = ev->tls_verified;
	r->text = dup_or_null(ev->text);
	return 0;
}

static void escape(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '%')
			buf_printf(out, "%%%02X", *p);
		else
			buf_append_char(out, (char)*p);
	}
}

static void field(struct buf *out, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(out, " %s=", key);
	escape(out, value);
}

static bool tls_used(const char *tls)
{
	return tls != NULL && strcmp(tls, "none") != 0;
}

void queue_state_format(const struct queue_state_event *ev, struct buf *out)
{
	buf_printf(out, "%s %" PRId64 " rcpt=%u code=%u", kind_words[ev->kind], ev->time, ev->rcpt,
	           ev->code);
	field(out, "status", ev->status != NULL && ev->status[0] != '\0' ? ev->status : NULL);
	if (ev->kind == QUEUE_EVENT_ATTEMPT || ev->kind == QUEUE_EVENT_UNREPORTED)
		buf_printf(out, " next=%" PRId64, ev->next);
	field(out, "mx", ev->mx);
	field(out, "ip", ev->ip);
	field(out, "tls", ev->tls);
	if (tls_used(ev->tls))
		field(out, "tls_verified", ev->tls_verified ? "yes" : "no");
	field(out, "text", ev->text);
	buf_append_char(out, '\n');
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape s[0..len) into out; -1 on a bad escape or an escaped NUL. */
static int unescape(const char *s, size_t len, struct buf *out)
{
	buf_clear(out);
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			buf_append_char(out, s[i]);
			continue;
		}
		if (i + 2 >= len)
			return -1;
		hi = hexval(s[i + 1]);
		lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		buf_append_char(out, (char)(hi * 16 + lo));
		i += 2;
	}
	return 0;
}

/* A decimal number filling s[0..len); -1 when it is not one (or overflows). */
static int number(const char *s, size_t len, int64_t *v_r)
{
	int64_t v = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*v_r = v;
	return 0;
}

struct parsed {
	struct queue_state_event ev;
	struct buf strings[5]; /* status, mx, ip, tls, text */
};

static const char *const string_keys[] = {"status", "mx", "ip", "tls", "text"};

/* One key=value word of a line. */
static int parse_word(struct parsed *p, const char *w, size_t n, bool *have_rcpt)
{
	const char *eq = memchr(w, '=', n);
	size_t klen, vlen;
	int64_t v;

	if (eq == NULL)
		return -1;
	klen = (size_t)(eq - w);
	vlen = n - klen - 1;
	for (size_t i = 0; i < 5; i++) {
		if (klen == strlen(string_keys[i]) && memcmp(w, string_keys[i], klen) == 0)
			return unescape(eq + 1, vlen, &p->strings[i]);
	}
	if (klen == 12 && memcmp(w, "tls_verified", 12) == 0) {
		p->ev.tls_verified = vlen == 3 && memcmp(eq + 1, "yes", 3) == 0;
		return 0;
	}
	if (number(eq + 1, vlen, &v) < 0)
		return klen == 4 && memcmp(w, "rcpt", 4) == 0 ? -1 : 0;
	if (klen == 4 && memcmp(w, "rcpt", 4) == 0) {
		if (v > 100000)
			return -1;
		p->ev.rcpt = (unsigned)v;
		*have_rcpt = true;
	} else if (klen == 4 && memcmp(w, "code", 4) == 0) {
		p->ev.code = v < 1000 ? (unsigned)v : 0;
	} else if (klen == 4 && memcmp(w, "next", 4) == 0) {
		p->ev.next = v;
	}
	/* unknown keys are skipped, so fields can be added */
	return 0;
}

static int parse_line(struct parsed *p, const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	const char *end = line + len;
	bool have_rcpt = false, have_kind = false;
	int64_t t;

	memset(&p->ev, 0, sizeof(p->ev));
	for (size_t i = 0; i < 5; i++)
		buf_clear(&p->strings[i]);
	if (sp == NULL)
		return -1;
	for (size_t k = 0; k < KIND_COUNT; k++) {
		if ((size_t)(sp - line) == strlen(kind_words[k]) &&
		    memcmp(line, kind_words[k], (size_t)(sp - line)) == 0) {
			p->ev.kind = (enum queue_event_kind)k;
			have_kind = true;
		}
	}
	if (!have_kind)
		return -1;
	const char *w = sp + 1;
	const char *wend = memchr(w, ' ', (size_t)(end - w));

	if (number(w, (size_t)((wend != NULL ? wend : end) - w), &t) < 0)
		return -1;
	p->ev.time = t;
	while (wend != NULL) {
		w = wend + 1;
		wend = memchr(w, ' ', (size_t)(end - w));
		if (parse_word(p, w, (size_t)((wend != NULL ? wend : end) - w), &have_rcpt) < 0)
			return -1;
	}
	if (!have_rcpt)
		return -1;
	p->ev.status = p->strings[0].len > 0 ? p->strings[0].data : NULL;
	p->ev.mx = p->strings[1].len > 0 ? p->strings[1].data : NULL;
	p->ev.ip = p->strings[2].len > 0 ? p->strings[2].data : NULL;
	p->ev.tls = p->strings[3].len > 0 ? p->strings[3].data : NULL;
	p->ev.text = p->strings[4].len > 0 ? p->strings[4].data : NULL;
	return 0;
}

static const char *const record_words[] = {
    [QUEUE_RECORD_HOLD] = "hold",
    [QUEUE_RECORD_RELEASE] = "release",
    [QUEUE_RECORD_WARNED] = "warned",
    [QUEUE_RECORD_FLUSH] = "flush",
};

void queue_state_format_record(enum queue_record_kind kind, int64_t t, struct buf *out)
{
	buf_printf(out, "%s %" PRId64 "\n", record_words[kind], t);
}

void queue_state_apply_record(struct queue_state *st, enum queue_record_kind kind, int64_t t)
{
	st->records++;
	switch (kind) {
	case QUEUE_RECORD_HOLD:
		if (!st->held)
			st->held_since = t;
		st->held = true;
		break;
	case QUEUE_RECORD_RELEASE:
		st->held = false;
		st->held_since = 0;
		st->released = t;
		/* a released entry is due at once */
		for (size_t i = 0; i < st->rcpts.count; i++)
			if (st->rcpts.items[i].status == QUEUE_RCPT_PENDING)
				st->rcpts.items[i].next = 0;
		break;
	case QUEUE_RECORD_WARNED:
		st->warned = t;
		break;
	case QUEUE_RECORD_FLUSH:
		for (size_t i = 0; i < st->rcpts.count; i++)
			if (st->rcpts.items[i].status == QUEUE_RCPT_PENDING)
				st->rcpts.items[i].next = 0;
		break;
	}
}

/* An entry record line ("hold 1764766000"): 1 applied, 0 not one (a
   recipient line or malformed), so unknown words still count as
   malformed. */
static int parse_record(struct queue_state *st, const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	int64_t t;

	if (sp == NULL)
		return 0;
	for (size_t k = 0; k < sizeof(record_words) / sizeof(record_words[0]); k++) {
		size_t wl = strlen(record_words[k]);

		if ((size_t)(sp - line) != wl || memcmp(line, record_words[k], wl) != 0)
			continue;
		if (number(sp + 1, len - wl - 1, &t) < 0)
			return 0;
		queue_state_apply_record(st, (enum queue_record_kind)k, t);
		return 1;
	}
	return 0;
}

void queue_state_parse(const char *data, size_t len, size_t rcpt_count, struct queue_state *st)
{
	struct parsed p;
	size_t pos = 0;

	memset(&p, 0, sizeof(p));
	queue_state_init(st, rcpt_count);
	while (pos < len) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t n;

		if (lf == NULL) {
			st->malformed++; /* a partial last line */
			break;
		}
		n = (size_t)(lf - (data + pos));
		if (parse_record(st, data + pos, n) == 1) {
			pos += n + 1;
			continue;
		}
		if (memchr(data + pos, '\0', n) != NULL || memchr(data + pos, '\r', n) != NULL ||
		    parse_line(&p, data + pos, n) < 0 || queue_state_apply(st, &p.ev) < 0)
			st->malformed++;
		pos += n + 1;
	}
	for (size_t i = 0; i < 5; i++)
		buf_free(&p.strings[i]);
}

int queue_state_read(const char *path, size_t rcpt_count, struct queue_state *st,
                     const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf data = BUF_INIT;
	char chunk[65536];
	ssize_t n;

	if (fd < 0 && errno == ENOENT) {
		queue_state_init(st, rcpt_count);
		return 0;
	}
	if (fd < 0) {
		*error_r = "cannot open the state file";
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && data.len < STATE_MAX_SIZE)
		buf_append(&data, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		buf_free(&data);
		*error_r = "cannot read the state file";
		return -1;
	}
	queue_state_parse(data.data != NULL ? data.data : "", data.len, rcpt_count, st);
	buf_free(&data);
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int queue_state_append(const char *path, const struct buf *lines, const char **error_r)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	char last = '\n';
	int ret = 0;

	if (fd < 0) {
		*error_r = "cannot open the state file";
		return -1;
	}
	/* a crash may have left a partial line: end it, so ours stay readable */
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if ((last != '\n' && write_all(fd, "\n", 1) < 0) ||
	    write_all(fd, lines->data != NULL ? lines->data : "", lines->len) < 0 ||
	    fdatasync(fd) < 0) {
		*error_r = "cannot write the state file";
		ret = -1;
	}
	close(fd);
	return ret;
}

bool queue_state_finished(const struct queue_state *st)
{
	for (size_t i = 0; i < st->rcpts.count; i++)
		if (st->rcpts.items[i].status == QUEUE_RCPT_PENDING)
			return false;
	return true;
}

const char *queue_rcpt_status_name(enum queue_rcpt_status s)
{
	return s == QUEUE_RCPT_DONE ? "done" : s == QUEUE_RCPT_FAILED ? "failed" : "pending";
}

static void show_time(struct buf *out, const char *key, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(out, " %s=%s", key, s);
}

void queue_state_show(const struct spool_envelope *env, const struct queue_state *st,
                      struct buf *out)
{
	for (size_t i = 0; i < env->rcpts.count && i < st->rcpts.count; i++) {
		const struct queue_rcpt_state *r = &st->rcpts.items[i];

		buf_append_str(out, "delivery <");
		escape(out, env->rcpts.items[i].address);
		buf_printf(out, "> %s attempts=%u", queue_rcpt_status_name(r->status), r->attempts);
		if (r->last != 0) {
			show_time(out, "last", r->last);
			buf_printf(out, " code=%u", r->code);
			field(out, "status", r->enhanced[0] != '\0' ? r->enhanced : NULL);
		}
		if (r->status == QUEUE_RCPT_PENDING && r->next > 0)
			show_time(out, "next", r->next);
		else if (r->status == QUEUE_RCPT_PENDING)
			buf_append_str(out, " next=now");
		field(out, "mx", r->mx);
		field(out, "ip", r->ip);
		field(out, "tls", r->tls);
		if (tls_used(r->tls))
			field(out, "tls_verified", r->tls_verified ? "yes" : "no");
		field(out, "text", r->text);
		buf_append_char(out, '\n');
	}
}
