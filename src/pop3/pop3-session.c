/* One POP3 session: input loop, replies, limits, login and the maildrop
   lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "auth/auth-sasl.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "pop3/pop3-private.h"
#include "pop3/pop3-settings.h"
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

static void on_session_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_session *s = arg;

	(void)fd;
	(void)what;
	if (s->state == POP3_STATE_AUTHORIZATION && !s->closed)
		pop3_session_close(s, false, "Disconnected for inactivity.");
}

static void send_greeting(struct pop3_session *s)
{
	/* no APOP timestamp: APOP is not offered (docs/pop3.md) */
	pop3_printf(s, "+OK Tern ready.\r\n");
	s->greeted = true;
}

static void on_tls_ready(struct conn *conn, void *ctx)
{
	struct pop3_session *s = ctx;

	(void)conn;
	if (!s->greeted)
		send_greeting(s);
}

void pop3_session_start(struct pop3_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	const struct tern_settings *set = server->settings;
	struct timeval tv = {set->limits.session_timeout, 0};

	s->server = server;
	s->lock_fd = -1;
	s->conn = conn_new(server->base, fd, peer, peerlen, server->tls, implicit_tls,
	                   &session_handler, s);
	if (s->conn == NULL) {
		free(s);
		return;
	}
	memcpy(s->sid, conn_sid(s->conn), SESSION_ID_LEN);
	s->parser = pop3_parser_new(set->limits.line_length);
	conn_set_idle_timeout(s->conn, set->limits.login_timeout);
	s->session_timer = evtimer_new(server->base, on_session_timeout, s);
	if (set->limits.session_timeout > 0)
		evtimer_add(s->session_timer, &tv);
	log_info(s->sid, "event=pop3.connect ip=%s tls=%s", conn_peer_ip(s->conn),
	         implicit_tls ? "implicit" : "no");
	if (!implicit_tls)
		send_greeting(s);
}

void pop3_maildrop_release(struct pop3_session *s)
{
	pop3_retr_free(&s->retr);
	mailbox_close(&s->box);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	s->lock_fd = -1;
	mail_user_release(&s->user);
	free(s->msgs);
	s->msgs = NULL;
	s->count = 0;
}

static void session_free(struct pop3_session *s)
{
	pop3_maildrop_release(s);
	if (s->session_timer != NULL)
		event_free(s->session_timer);
	pop3_parser_free(&s->parser);
	auth_sasl_free(&s->sasl);
	free(s->user_arg);
	free(s->username);
	free(s);
}

void pop3_write(struct pop3_session *s, const void *data, size_t len)
{
	if (!s->closed)
		conn_write(s->conn, data, len);
}

void pop3_printf(struct pop3_session *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	pop3_write(s, b.data, b.len);
	buf_free(&b);
}

void pop3_session_close(struct pop3_session *s, bool ok, const char *text)
{
	if (s->closed || s->state == POP3_STATE_CLOSING)
		return;
	pop3_printf(s, "%s %s\r\n", ok ? "+OK" : "-ERR", text);
	s->state = POP3_STATE_CLOSING;
	conn_close(s->conn);
}

/* Count an error; at the limit, true (the caller closes). */
static bool error_limit(struct pop3_session *s)
{
	const struct tern_settings *set = s->server->settings;
	unsigned limit = s->state == POP3_STATE_AUTHORIZATION ? set->limits.max_errors_prelogin
	                                                      : set->limits.max_errors;

	if (++s->errors < limit || limit == 0)
		return false;
	log_info(s->sid, "event=pop3.too_many_errors errors=%u", s->errors);
	return true;
}

bool pop3_session_count_error(struct pop3_session *s)
{
	if (!error_limit(s))
		return true;
	pop3_session_close(s, false, "Too many bad commands.");
	return false;
}

void pop3_reply_bad(struct pop3_session *s, const char *text)
{
	/* one reply per command, also for the last one (RFC 1939 3) */
	if (!error_limit(s)) {
		pop3_printf(s, "-ERR %s\r\n", text);
		return;
	}
	pop3_printf(s, "-ERR %s Too many bad commands.\r\n", text);
	s->state = POP3_STATE_CLOSING;
	conn_close(s->conn);
}

/* Take the maildrop's lock (RFC 1939 8: one session per maildrop): 0,
   1 if another session holds it, -1 on an error. */
static int maildrop_lock(struct pop3_session *s, const char **error_r)
{
	char *path = xasprintf("%s/%s", mail_user_path(s->user), POP3_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	free(path);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(fd);
		if (err == EWOULDBLOCK)
			return 1;
		*error_r = strerror(err);
		return -1;
	}
	s->lock_fd = fd;
	return 0;
}

/* Number the maildrop's messages from the view of INBOX. */
static void maildrop_load(struct pop3_session *s)
{
	s->count = mailbox_count(s->box);
	s->msgs = xcalloc(s->count + 1, sizeof(*s->msgs));
	for (uint32_t seq = 1; seq <= s->count; seq++) {
		s->msgs[seq - 1].seq = seq;
		s->msgs[seq - 1].uid = mailbox_msg(s->box, seq)->uid;
	}
}

/* Lock and open the maildrop; 0, or -1 after the -ERR reply. */
static int maildrop_open(struct pop3_session *s, const char *username, const char *user_log)
{
	const char *error = NULL;
	int r;

	if (mail_user_acquire(s->server->users, username, &s->user, &error) < 0) {
		log_error(s->sid, "event=pop3.login_failed user=%s reason=\"mail store: %s\"",
		          user_log, error);
		pop3_printf(s, "-ERR [SYS/TEMP] Mailbox store unavailable.\r\n");
		return -1;
	}
	r = maildrop_lock(s, &error);
	if (r == 0 && mailbox_open(s->user, "INBOX", false, &s->box, &error) < 0)
		r = -1;
	if (r != 0) {
		if (r == 1) {
			log_info(s->sid, "event=pop3.in_use user=%s", user_log);
			pop3_printf(s,
			            "-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n");
		} else {
			log_error(s->sid, "event=pop3.login_failed user=%s reason=\"maildrop: %s\"",
			          user_log, error);
			pop3_printf(s, "-ERR [SYS/TEMP] Mailbox cannot be opened.\r\n");
		}
		pop3_maildrop_release(s);
		return -1;
	}
	maildrop_load(s);
	return 0;
}

void pop3_session_login(struct pop3_session *s, char *username, const char *method)
{
	char *user_log = log_value(username, strlen(username), 256);

	if (maildrop_open(s, username, user_log) < 0) {
		free(username);
		free(user_log);
		return;
	}
	s->username = username;
	s->state = POP3_STATE_TRANSACTION;
	s->errors = 0;
	conn_set_idle_timeout(s->conn, pop3_settings(s->server->settings)->idle_timeout);
	evtimer_del(s->session_timer);
	log_info(s->sid, "event=pop3.login user=%s method=%s messages=%u", user_log, method,
	         s->count);
	free(user_log);
	pop3_printf(s, "+OK Logged in.\r\n");
}

void pop3_session_hold(struct pop3_session *s)
{
	s->jobs++;
	pop3_session_pause(s);
}

bool pop3_session_release(struct pop3_session *s)
{
	s->jobs--;
	if (s->closed) {
		if (s->jobs == 0)
			session_free(s);
		return false;
	}
	pop3_session_resume(s);
	return true;
}

void pop3_session_pause(struct pop3_session *s)
{
	s->busy = true;
	conn_pause_reading(s->conn);
}

void pop3_session_resume(struct pop3_session *s)
{
	s->busy = false;
	if (!s->closed)
		conn_resume_reading(s->conn);
}

static void on_drained(struct conn *conn, void *ctx)
{
	struct pop3_session *s = ctx;

	(void)conn;
	if (s->retr != NULL && !s->closed)
		pop3_retr_continue(s);
}

/* One parser event. */
static void handle_line(struct pop3_session *s, enum pop3_parse_result r)
{
	const struct pop3_command *cmd = pop3_parser_command(s->parser);

	if (s->auth_line) {
		/* RFC 5034 4: the response to a challenge, not a command */
		pop3_auth_line(s, r == POP3_PARSE_COMMAND ? cmd->line : NULL);
		return;
	}
	if (r == POP3_PARSE_ERROR)
		pop3_reply_bad(s, pop3_parser_error(s->parser));
	else
		pop3_command_dispatch(s, cmd);
}

static void session_input(struct pop3_session *s)
{
	/* each pass consumes at least one byte or returns */
	while (!s->busy && !s->closed && s->state != POP3_STATE_CLOSING) {
		struct evbuffer *in = conn_input(s->conn);
		struct evbuffer_iovec v;
		size_t consumed;
		enum pop3_parse_result r;

		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		r = pop3_parser_feed(s->parser, v.iov_base, v.iov_len, &consumed);
		evbuffer_drain(in, consumed);
		if (r != POP3_PARSE_NEED_MORE)
			handle_line(s, r);
	}
}

static void on_read(struct conn *conn, void *ctx)
{
	(void)conn;
	session_input(ctx);
}

static void on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct pop3_session *s = ctx;
	char *user = log_value(s->username == NULL ? "-" : s->username,
	                       s->username == NULL ? 1 : strlen(s->username), 256);

	(void)conn;
	/* a session that did not reach UPDATE deletes nothing (RFC 1939 6) */
	log_info(s->sid, "event=pop3.disconnect reason=\"%s\" user=%s", reason, user);
	free(user);
	s->closed = true;
	if (s->jobs == 0)
		session_free(s);
}

static void on_shutdown(struct conn *conn, void *ctx)
{
	(void)conn;
	pop3_session_close(ctx, false, "[SYS/TEMP] Server shutting down.");
}
