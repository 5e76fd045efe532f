/* One IMAP session: input loop, replies, limits, mailbox updates. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap-fetch.h"
#include "auth/auth-sasl.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

static void on_read(struct conn *conn, void *ctx);
static void on_close(struct conn *conn, void *ctx, const char *reason);
static void on_shutdown(struct conn *conn, void *ctx);
static void on_drained(struct conn *conn, void *ctx);
static void on_tls_ready(struct conn *conn, void *ctx);

static const struct conn_handler session_handler = {
    .on_read = on_read,
    .on_close = on_close,
    .on_shutdown = on_shutdown,
    .on_drained = on_drained,
    .on_tls_ready = on_tls_ready,
};

static void set_parser_limits(struct imap_session *s)
{
	const struct tern_settings *set = s->server->settings;
	struct imap_parser_limits limits = {
	    .max_line = set->limits.line_length,
	    .max_literal = IMAP_PRELOGIN_MAX_LITERAL,
	    .max_literals = IMAP_PRELOGIN_MAX_LITERAL,
	    .max_args = IMAP_MAX_ARGS,
	    .max_depth = IMAP_MAX_DEPTH,
	};

	if (s->state != IMAP_STATE_NOAUTH) {
		if (limits.max_line < IMAP_MAX_LINE_AUTHED)
			limits.max_line = IMAP_MAX_LINE_AUTHED;
		limits.max_literal = imap_settings(set)->max_literal_size;
		limits.max_literals = IMAP_MAX_LITERALS_IN_MEMORY;
	} else {
		if (limits.max_line < IMAP_PRELOGIN_MAX_LINE)
			limits.max_line = IMAP_PRELOGIN_MAX_LINE;
		if (limits.max_literal > imap_settings(set)->max_literal_size)
			limits.max_literal = imap_settings(set)->max_literal_size;
	}
	if (s->parser == NULL) {
		s->parser = imap_parser_new(&limits);
		imap_append_install_sink(s);
	} else {
		imap_parser_set_limits(s->parser, &limits);
	}
}

static void on_session_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;

	if (s->state == IMAP_STATE_NOAUTH && !s->closed)
		imap_session_bye(s, "Disconnected for inactivity.");
}

static void send_greeting(struct imap_session *s)
{
	struct buf greeting = BUF_INIT;

	buf_append_str(&greeting, "* OK [CAPABILITY ");
	imap_capability(s, &greeting);
	buf_append_str(&greeting, "] Tern ready.\r\n");
	imap_write(s, greeting.data, greeting.len);
	buf_free(&greeting);
	s->greeted = true;
}

/* The handshake of implicit TLS finished: now the greeting (after
   STARTTLS nothing is sent unasked). */
static void on_tls_ready(struct conn *conn, void *ctx)
{
	struct imap_session *s = ctx;

	if (!s->greeted)
		send_greeting(s);
}

void imap_session_start(struct imap_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));
	const struct tern_settings *set = server->settings;
	struct timeval tv = {set->limits.session_timeout, 0};

	s->server = server;
	s->conn = conn_new(server->base, fd, peer, peerlen, server->tls, implicit_tls,
	                   &session_handler, s);
	if (s->conn == NULL) {
		free(s);
		return;
	}
	memcpy(s->sid, conn_sid(s->conn), SESSION_ID_LEN);
	set_parser_limits(s);
	conn_set_idle_timeout(s->conn, set->limits.login_timeout);
	s->session_timer = evtimer_new(server->base, on_session_timeout, s);
	if (set->limits.session_timeout > 0)
		evtimer_add(s->session_timer, &tv);
	log_info(s->sid, "event=imap.connect ip=%s tls=%s", conn_peer_ip(s->conn),
	         implicit_tls ? "implicit" : "no");
	/* with implicit TLS the greeting waits for the handshake: only then
	   can its CAPABILITY say whether -PLUS has binding data */
	if (!implicit_tls)
		send_greeting(s);
}

static void session_free(struct imap_session *s)
{
	if (s->resumable.free != NULL)
		s->resumable.free(s->resumable.ctx);
	imap_idle_leave(s);
	imap_notify_free(s);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->session_timer != NULL)
		event_free(s->session_timer);
	imap_append_abort(s);
	mailbox_close(&s->box);
	mail_user_release(&s->user);
	imap_parser_free(&s->parser);
	free(s->username);
	free(s->searchres);
	imap_mailbox_args_clear(s);
	free(s->pending_tag);
	auth_sasl_free(&s->sasl);
	buf_free(&s->line);
	free(s);
}

void imap_write(struct imap_session *s, const void *data, size_t len)
{
	if (!s->closed)
		conn_write(s->conn, data, len);
}

void imap_printf(struct imap_session *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

void imap_reply(struct imap_session *s, const char *tag, const char *status, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if ((s->cmd_flags & IMAP_CMD_SYNC) && strcmp(status, "OK") == 0)
		(void)imap_session_sync(s);
	buf_printf(&b, "%s %s ", tag, status);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

bool imap_session_count_error(struct imap_session *s)
{
	const struct tern_settings *set = s->server->settings;
	unsigned limit = s->state == IMAP_STATE_NOAUTH ? set->limits.max_errors_prelogin
	                                               : set->limits.max_errors;

	if (++s->errors < limit || limit == 0)
		return true;
	log_info(s->sid, "event=imap.too_many_errors errors=%u", s->errors);
	imap_session_bye(s, "Too many invalid commands");
	return false;
}

void imap_reply_bad(struct imap_session *s, const char *tag, const char *text)
{
	imap_printf(s, "%s BAD %s\r\n", tag == NULL ? "*" : tag, text);
	(void)imap_session_count_error(s);
}

void imap_session_bye(struct imap_session *s, const char *text)
{
	if (s->closed || s->state == IMAP_STATE_LOGOUT)
		return;
	imap_printf(s, "* BYE %s\r\n", text);
	s->state = IMAP_STATE_LOGOUT;
	conn_close(s->conn);
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void imap_send_vanished(struct imap_session *s, const uint32_t *uids, size_t count, bool earlier)
{
	uint32_t *sorted;
	struct buf b = BUF_INIT;

	if (count == 0)
		return;
	sorted = xcalloc(count, sizeof(*sorted));
	memcpy(sorted, uids, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), uid_cmp);
	buf_append_str(&b, earlier ? "* VANISHED (EARLIER) " : "* VANISHED ");
	imap_seqset_format(&b, sorted, count);
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	free(sorted);
}

void imap_send_expunges(struct imap_session *s, const uint32_t *seqs, const uint32_t *uids,
                        size_t count)
{
	if (s->qresync) {
		imap_send_vanished(s, uids, count, false);
	} else {
		for (size_t i = 0; i < count; i++)
			imap_printf(s, "* %u EXPUNGE\r\n", seqs[i]);
	}
	s->exists -= (uint32_t)count;
}

void imap_append_modseq(struct imap_session *s, struct buf *out, uint32_t seq)
{
	if (s->condstore)
		buf_printf(out, " MODSEQ (%llu)",
		           (unsigned long long)mailbox_msg(s->box, seq)->modseq);
}

/* Untagged updates of one sync (RFC 3501 7.3.1, 7.4.1, 7.4.2). */
static void send_changes(struct imap_session *s, const struct mailbox_changes *ch)
{
	imap_send_expunges(s, ch->expunged, ch->expunged_uids, ch->expunged_count);
	if (ch->count != s->exists || ch->grew) {
		imap_printf(s, "* %u EXISTS\r\n", ch->count);
		s->exists = ch->count;
	}
	if (ch->recent != s->recent && !s->rev2) { /* RFC 9051: no RECENT */
		imap_printf(s, "* %u RECENT\r\n", ch->recent);
		s->recent = ch->recent;
	}
	if (ch->flags_changed_count > 0)
		imap_announce_keywords(s);
	for (size_t i = 0; i < ch->flags_changed_count; i++) {
		uint32_t seq = ch->flags_changed[i];
		struct buf b = BUF_INIT;

		if (seq == 0 || seq > mailbox_count(s->box))
			continue;
		buf_printf(&b, "* %u FETCH (", seq);
		if (s->condstore) /* the client resyncs by UID (RFC 7162 3.2.4) */
			buf_printf(&b, "UID %u ", mailbox_msg(s->box, seq)->uid);
		buf_append_str(&b, "FLAGS ");
		imap_session_msg_flags(s, &b, mailbox_msg(s->box, seq));
		imap_append_modseq(s, &b, seq);
		buf_append_str(&b, ")\r\n");
		imap_write(s, b.data, b.len);
		buf_free(&b);
	}
}

int imap_session_sync(struct imap_session *s)
{
	struct mailbox_changes ch;
	const char *error;

	if (s->box == NULL || s->closed)
		return 0;
	if (mailbox_sync(s->box, &ch, &error) < 0) {
		log_warn(s->sid, "event=imap.sync_failed mailbox=%s error=\"%s\"",
		         mailbox_name(s->box), error);
		return -1;
	}
	send_changes(s, &ch);
	mailbox_changes_free(&ch);
	return 0;
}

void imap_session_login(struct imap_session *s, const char *tag, char *username, const char *method)
{
	const struct tern_settings *set = s->server->settings;
	struct buf b = BUF_INIT;
	const char *error;
	char *user_log = log_value(username, strlen(username), 256);

	if (mail_user_acquire(s->server->users, username, &s->user, &error) < 0) {
		log_error(s->sid, "event=imap.login_failed user=%s reason=\"mail store: %s\"",
		          user_log, error);
		imap_printf(s, "%s NO [UNAVAILABLE] Mailbox store unavailable.\r\n", tag);
		free(username);
		free(user_log);
		return;
	}
	s->username = username;
	s->state = IMAP_STATE_AUTH;
	imap_folders_autocreate(s);
	s->errors = 0;
	set_parser_limits(s);
	conn_set_idle_timeout(s->conn, set->limits.idle_timeout);
	evtimer_del(s->session_timer);
	log_info(s->sid, "event=imap.login user=%s method=%s", user_log, method);
	free(user_log);
	buf_printf(&b, "%s OK [CAPABILITY ", tag);
	imap_capability(s, &b);
	buf_append_str(&b, "] Logged in\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

void imap_session_unselect(struct imap_session *s)
{
	mailbox_close(&s->box);
	imap_searchres_set(s, NULL, 0);
	s->exists = 0;
	s->recent = 0;
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTH;
}

void imap_session_hold(struct imap_session *s)
{
	s->busy = true;
	s->jobs++;
	conn_pause_reading(s->conn);
}

bool imap_session_release(struct imap_session *s)
{
	s->jobs--;
	s->busy = false;
	if (s->closed) {
		if (s->jobs == 0)
			session_free(s);
		return false;
	}
	conn_resume_reading(s->conn);
	return true;
}

void imap_session_resumable(struct imap_session *s, const struct imap_resumable *r)
{
	s->resumable = *r;
	s->busy = true;
	conn_pause_reading(s->conn);
}

static void on_drained(struct conn *conn, void *ctx)
{
	struct imap_session *s = ctx;
	struct imap_resumable r = s->resumable;

	if (r.resume == NULL || r.resume(s, r.ctx) == 0)
		return;
	memset(&s->resumable, 0, sizeof(s->resumable));
	r.free(r.ctx);
	s->busy = false;
	conn_resume_reading(s->conn);
}

/* The parser gave an event for the bytes fed. */
static void handle_event(struct imap_session *s, enum imap_parse_result r)
{
	const char *tag, *error;

	switch (r) {
	case IMAP_PARSE_NEED_MORE:
		break;
	case IMAP_PARSE_COMMAND:
		imap_command_dispatch(s, imap_parser_command(s->parser));
		/* A streamed literal no command took must not stay on disk. */
		imap_append_abort(s);
		break;
	case IMAP_PARSE_CONTINUE:
		/* RFC 3501 7.5: the client may now send the literal. */
		imap_printf(s, "+ Ready for literal data\r\n");
		break;
	case IMAP_PARSE_ERROR:
		error = imap_parser_error(s->parser, &tag);
		imap_append_abort(s);
		if (imap_parser_error_kind(s->parser) == IMAP_PARSE_ERR_LITERAL_TOO_BIG) {
			/* RFC 7889 4 */
			char *text = xasprintf("[TOOBIG] %s", error);

			imap_reply_bad(s, tag, text);
			free(text);
			break;
		}
		imap_reply_bad(s, tag, error);
		break;
	}
}

/* A line in AUTHENTICATE or IDLE mode. Returns false when no complete line
   is buffered. */
static bool read_mode_line(struct imap_session *s)
{
	int r = conn_read_line(s->conn, s->server->settings->limits.line_length, &s->line);

	if (r == 0)
		return false;
	if (s->input == IMAP_INPUT_AUTH_LINE)
		cmd_authenticate_line(s, r < 0 ? NULL : s->line.data);
	else
		cmd_idle_line(s, r < 0 ? NULL : s->line.data);
	return true;
}

static void session_input(struct imap_session *s)
{
	while (!s->busy && !s->closed && s->state != IMAP_STATE_LOGOUT) {
		struct evbuffer *in = conn_input(s->conn);
		struct evbuffer_iovec v;
		size_t consumed;
		enum imap_parse_result r;

		if (s->input != IMAP_INPUT_COMMANDS) {
			if (!read_mode_line(s))
				return;
			continue;
		}
		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		r = imap_parser_feed(s->parser, v.iov_base, v.iov_len, &consumed);
		evbuffer_drain(in, consumed);
		handle_event(s, r);
	}
}

static void on_read(struct conn *conn, void *ctx)
{
	session_input(ctx);
}

static void on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct imap_session *s = ctx;
	char *user = log_value(s->username == NULL ? "-" : s->username,
	                       s->username == NULL ? 1 : strlen(s->username), 256);

	log_info(s->sid, "event=imap.disconnect reason=\"%s\" user=%s", reason, user);
	free(user);
	s->closed = true;
	if (s->jobs == 0)
		session_free(s);
}

static void on_shutdown(struct conn *conn, void *ctx)
{
	imap_session_bye(ctx, "Server shutting down");
}
