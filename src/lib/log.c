#include "lib/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"

static const char *log_role = "tern";
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *role, enum log_level min)
{
	log_role = role;
	log_min = min;
}

int log_level_parse(const char *s, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

static void log_prefix(struct buf *b, const char *sid, const char *level)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "sid=%s ts=%s.%03ldZ level=%s role=%s ", sid != NULL ? sid : "-", when,
	           ts.tv_nsec / 1000000, level, log_role);
}

static void log_write(struct buf *b)
{
	ssize_t ret;
	size_t off = 0;

	buf_append_char(b, '\n');
	while (off < b->len) {
		ret = write(STDERR_FILENO, b->data + off, b->len - off);
		if (ret <= 0)
			break;
		off += (size_t)ret;
	}
	buf_free(b);
}

void log_eventv(enum log_level level, const char *sid, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	if (level < log_min)
		return;
	log_prefix(&b, sid, level_names[level]);
	buf_vprintf(&b, fmt, ap);
	log_write(&b);
}

void log_event(enum log_level level, const char *sid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_eventv(level, sid, fmt, ap);
	va_end(ap);
}

/* A last line at a level below no threshold (fatal, panic). */
static void log_last(const char *level, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	log_prefix(&b, NULL, level);
	buf_vprintf(&b, fmt, ap);
	log_write(&b);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_last("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_last("panic", fmt, ap);
	va_end(ap);
	abort();
}

static bool log_safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._@:/+=<>-", c) != NULL;
}

char *log_value(const char *s, size_t len, size_t max)
{
	struct buf b = BUF_INIT;
	size_t n = len < max ? len : max;
	bool plain = n > 0;

	for (size_t i = 0; i < n && plain; i++)
		plain = s[i] != '\0' && log_safe_char((unsigned char)s[i]);
	if (plain) {
		buf_append(&b, s, n);
	} else {
		buf_append_char(&b, '"');
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '"' || c == '\\')
				buf_printf(&b, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				buf_printf(&b, "\\x%02x", c);
			else
				buf_append_char(&b, (char)c);
		}
		buf_append_char(&b, '"');
	}
	if (len > max)
		buf_append_str(&b, "...");
	return buf_steal(&b);
}

void session_id_new(char out[SESSION_ID_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[SESSION_ID_LEN];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		log_fatal("event=getrandom_failed");
	for (size_t i = 0; i < SESSION_ID_LEN; i++)
		out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[SESSION_ID_LEN] = '\0';
}
