/* JSON for `tern queue`: see queue-json.h. */
#include "queue/queue-json.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "lib/utf8.h"
#include "queue/queue-state.h"
#include "queue/spool-envelope.h"

/* The length of the UTF-8 sequence at p (n bytes left), 0: not valid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len = *p < 0xc0 ? 0 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : *p < 0xf5 ? 4 : 0;

	return len > 0 && len <= n && utf8_valid(p, len) ? len : 0;
}

void queue_json_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (s == NULL) {
		buf_append_str(out, "null");
		return;
	}
	n = strlen(s);
	buf_append_char(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t len;

		if (c == '"' || c == '\\') {
			buf_append_char(out, '\\');
			buf_append_char(out, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			buf_append_char(out, (char)c);
		} else if ((len = utf8_seq(p + i, n - i)) > 0) {
			buf_append(out, p + i, len);
			i += len - 1;
		} else {
			buf_append_str(out, "\\ufffd");
		}
	}
	buf_append_char(out, '"');
}

static void key(struct buf *out, const char *name)
{
	buf_append_str(out, ", ");
	queue_json_string(out, name);
	buf_append_str(out, ": ");
}

static void key_str(struct buf *out, const char *name, const char *value)
{
	key(out, name);
	queue_json_string(out, value);
}

static void key_int(struct buf *out, const char *name, int64_t value)
{
	key(out, name);
	buf_printf(out, "%" PRId64, value);
}

static void key_bool(struct buf *out, const char *name, bool value)
{
	key(out, name);
	buf_append_str(out, value ? "true" : "false");
}

static void rcpt_json(struct buf *out, const struct spool_rcpt *rc,
                      const struct queue_rcpt_state *r, bool full)
{
	buf_append_str(out, "{\"address\": ");
	queue_json_string(out, rc->address);
	key_str(out, "status", queue_rcpt_status_name(r->status));
	key_int(out, "attempts", r->attempts);
	key_int(out, "last", r->last);
	key_int(out, "next", r->status == QUEUE_RCPT_PENDING ? r->next : 0);
	key_int(out, "code", r->code);
	key_str(out, "enhanced", r->enhanced[0] != '\0' ? r->enhanced : NULL);
	key_str(out, "text", r->text);
	key_str(out, "mx", r->mx);
	key_str(out, "ip", r->ip);
	key_str(out, "tls", r->tls);
	if (full) {
		struct buf notify = BUF_INIT;

		spool_notify_format(rc->notify, &notify);
		buf_append_char(&notify, '\0');
		key_str(out, "notify", rc->notify != 0 ? notify.data : NULL);
		buf_free(&notify);
		key_str(out, "orcpt", rc->orcpt);
		key_str(out, "alias", rc->alias);
	}
	buf_append_char(out, '}');
}

static void envelope_json(struct buf *out, const struct spool_envelope *env)
{
	key_str(out, "ret", spool_ret_name(env->ret));
	key_str(out, "envid", env->envid);
	key_str(out, "body", spool_body_name(env->body));
	key_bool(out, "requiretls", env->requiretls);
	key_bool(out, "smtputf8", env->smtputf8);
	key_str(out, "auth", env->auth_user);
	key_str(out, "client", env->client_ip);
	key_str(out, "helo", env->helo);
	key_str(out, "smtp_id", env->smtp_id);
	key_int(out, "data_skip", (int64_t)env->data_skip);
}

void queue_json_entry(struct buf *out, const struct spool_envelope *env,
                      const struct queue_state *st, bool full)
{
	char when[32] = "";
	time_t t = (time_t)env->arrival;
	struct tm tm;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_append_str(out, "{\"id\": ");
	queue_json_string(out, env->id);
	key_int(out, "arrival", env->arrival);
	key_str(out, "arrival_utc", when);
	key_int(out, "size", (int64_t)env->size);
	key_str(out, "sender", env->sender);
	key_bool(out, "held", st->held);
	key_int(out, "held_since", st->held_since);
	key_int(out, "warned", st->warned);
	if (full)
		envelope_json(out, env);
	key(out, "recipients");
	buf_append_char(out, '[');
	for (size_t i = 0; i < env->rcpts.count && i < st->rcpts.count; i++) {
		if (i > 0)
			buf_append_str(out, ", ");
		rcpt_json(out, &env->rcpts.items[i], &st->rcpts.items[i], full);
	}
	buf_append_str(out, "]}");
}
