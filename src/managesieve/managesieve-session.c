/* One ManageSieve session: input loop, replies, limits, login and the
   temporary file of streamed literals. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth-sasl.h"
#include "lib/xalloc.h"
#include "managesieve/managesieve-private.h"
#include "managesieve/managesieve-settings.h"
#include "sieve/sieve.h"
#include "store/mailbox.h"

static void on_read(struct conn *conn, void *ctx);
static void on_close(struct conn *conn, void *ctx, const char *reason);
static void on_shutdown(struct conn *conn, void *ctx);
static void on_tls_ready(struct conn *conn, void *ctx);

static const struct conn_handler session_handler = {
    .on_read = on_read,
    .on_close = on_close,
    .on_shutdown = on_shutdown,
    .on_tls_ready = on_tls_ready,
};

void msieve_capability(struct managesieve_session *s, struct buf *b)
{
	struct buf mechs = BUF_INIT;

	buf_append_str(b, "\"IMPLEMENTATION\" \"Tern\"\r\n");
	if (s->state == MSIEVE_STATE_NONAUTH) {
		msieve_sasl_mechs(s, &mechs);
		buf_printf(b, "\"SASL\" \"%s\"\r\n", buf_cstr(&mechs));
		buf_free(&mechs);
	}
	buf_printf(b, "\"SIEVE\" \"%s\"\r\n", sieve_extensions());
	if (s->state == MSIEVE_STATE_NONAUTH && !conn_is_tls(s->conn) && s->server->tls != NULL)
		buf_append_str(b, "\"STARTTLS\"\r\n");
	buf_printf(b, "\"MAXREDIRECTS\" \"%u\"\r\n", sieve_limits_default().max_redirects);
	buf_append_str(b, "\"VERSION\" \"1.0\"\r\n\"UNAUTHENTICATE\"\r\n");
}

static void on_session_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct managesieve_session *s = arg;

	(void)fd;
	(void)what;
	if (s->state == MSIEVE_STATE_NONAUTH && !s->closed)
		msieve_session_close(s, "Disconnected for inactivity.");
}

static void send_greeting(struct managesieve_session *s)
{
	struct buf b = BUF_INIT;

	msieve_capability(s, &b);
	buf_append_str(&b, "OK \"Tern ManageSieve ready.\"\r\n");
	msieve_write(s, b.data, b.len);
	buf_free(&b);
}

static void on_tls_ready(struct conn *conn, void *ctx)
{
	(void)conn;
	/* RFC 5804 2.2: the capabilities again after STARTTLS */
	send_greeting(ctx);
}

void msieve_session_start(struct managesieve_server *server, int fd, const struct sockaddr *peer,
                          socklen_t peerlen)
{
	struct managesieve_session *s = xcalloc(1, sizeof(*s));
	const struct tern_settings *set = server->settings;
	struct timeval tv = {set->limits.session_timeout, 0};

	s->server = server;
	s->tmp_fd = -1;
	s->conn =
	    conn_new(server->base, fd, peer, peerlen, server->tls, false, &session_handler, s);
	if (s->conn == NULL) {
		free(s);
		return;
	}
	memcpy(s->sid, conn_sid(s->conn), SESSION_ID_LEN);
	s->parser = msieve_parser_new(set->limits.line_length, set->limits.line_length);
	conn_set_idle_timeout(s->conn, set->limits.login_timeout);
	s->session_timer = evtimer_new(server->base, on_session_timeout, s);
	if (set->limits.session_timeout > 0)
		evtimer_add(s->session_timer, &tv);
	log_info(s->sid, "event=managesieve.connect ip=%s", conn_peer_ip(s->conn));
	send_greeting(s);
}

void msieve_session_logout_user(struct managesieve_session *s)
{
	mail_user_release(&s->user);
	free(s->username);
	s->username = NULL;
	free(s->dir);
	s->dir = NULL;
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	s->tmp_fd = -1;
	s->tmp_len = 0;
	msieve_parser_set_sink(s->parser, 0, NULL, NULL);
	msieve_parser_set_max_literal(s->parser, s->server->settings->limits.line_length);
}

static void session_free(struct managesieve_session *s)
{
	msieve_session_logout_user(s);
	if (s->session_timer != NULL)
		event_free(s->session_timer);
	msieve_parser_free(&s->parser);
	auth_sasl_free(&s->sasl);
	free(s);
}

void msieve_write(struct managesieve_session *s, const void *data, size_t len)
{
	if (!s->closed)
		conn_write(s->conn, data, len);
}

void msieve_reply(struct managesieve_session *s, const char *kind, const char *code,
                  const char *text)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, kind);
	if (code != NULL)
		buf_printf(&b, " (%s)", code);
	if (text != NULL) {
		buf_append_char(&b, ' ');
		msieve_append_string(&b, text, strlen(text));
	}
	buf_append_str(&b, "\r\n");
	msieve_write(s, b.data, b.len);
	buf_free(&b);
}

void msieve_session_close(struct managesieve_session *s, const char *text)
{
	if (s->closed || s->state == MSIEVE_STATE_CLOSING)
		return;
	msieve_reply(s, "BYE", NULL, text);
	s->state = MSIEVE_STATE_CLOSING;
	conn_close(s->conn);
}

void msieve_reply_bad(struct managesieve_session *s, const char *text)
{
	const struct tern_settings *set = s->server->settings;
	unsigned limit = s->state == MSIEVE_STATE_NONAUTH ? set->limits.max_errors_prelogin
	                                                  : set->limits.max_errors;

	if (++s->errors < limit || limit == 0) {
		msieve_reply(s, "NO", NULL, text);
		return;
	}
	log_info(s->sid, "event=managesieve.too_many_errors errors=%u", s->errors);
	msieve_session_close(s, "Too many bad commands.");
}

/* The parser's sink: streamed literal octets into an unlinked temporary
   file in the user's sieve directory. */
static int tmp_sink(void *ctx, const void *data, size_t len)
{
	struct managesieve_session *s = ctx;

	if (s->tmp_fd < 0) {
		char *path = xasprintf("%s/.upload.XXXXXX", s->dir);

		if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
			free(path);
			return -1;
		}
		s->tmp_fd = mkstemp(path);
		if (s->tmp_fd >= 0)
			unlink(path);
		free(path);
		if (s->tmp_fd < 0)
			return -1;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(s->tmp_fd, (const char *)data + off, len - off);

		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	s->tmp_len += len;
	return 0;
}

char *msieve_session_streamed(struct managesieve_session *s, size_t *len_r)
{
	char *data;
	size_t got = 0;

	if (s->tmp_fd < 0)
		return NULL;
	data = xmalloc(s->tmp_len + 1);
	while (got < s->tmp_len) {
		ssize_t n = pread(s->tmp_fd, data + got, s->tmp_len - got, (off_t)got);

		if (n <= 0) {
			free(data);
			return NULL;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*len_r = got;
	return data;
}

static void tmp_reset(struct managesieve_session *s)
{
	if (s->tmp_fd >= 0 && ftruncate(s->tmp_fd, 0) < 0) {
		close(s->tmp_fd);
		s->tmp_fd = -1;
	}
	s->tmp_len = 0;
}

void msieve_session_login(struct managesieve_session *s, char *username, const char *method)
{
	char *user_log = log_value(username, strlen(username), 256);
	const char *error = NULL;
	const struct managesieve_settings *ms = managesieve_settings(s->server->settings);

	if (mail_user_acquire(s->server->users, username, &s->user, &error) < 0) {
		log_error(s->sid,
		          "event=managesieve.login_failed user=%s reason=\"mail store: %s\"",
		          user_log, error);
		msieve_reply(s, "NO", "TRYLATER", "Mail store unavailable.");
		free(username);
		free(user_log);
		return;
	}
	s->username = username;
	s->dir = msieve_store_dir(mail_user_path(s->user));
	s->state = MSIEVE_STATE_AUTH;
	s->errors = 0;
	/* a literal may be one octet over the quota: PUTSCRIPT says MAXSIZE */
	msieve_parser_set_max_literal(s->parser, ms->max_script_size);
	msieve_parser_set_sink(s->parser, MSIEVE_STREAM_MIN, tmp_sink, s);
	conn_set_idle_timeout(s->conn, ms->idle_timeout);
	evtimer_del(s->session_timer);
	log_info(s->sid, "event=managesieve.login user=%s method=%s", user_log, method);
	free(user_log);
	msieve_reply(s, "OK", NULL, "Logged in.");
}

void msieve_session_hold(struct managesieve_session *s)
{
	s->jobs++;
	s->busy = true;
	conn_pause_reading(s->conn);
}

bool msieve_session_release(struct managesieve_session *s)
{
	s->jobs--;
	if (s->closed) {
		if (s->jobs == 0)
			session_free(s);
		return false;
	}
	s->busy = false;
	conn_resume_reading(s->conn);
	return true;
}

static void handle_event(struct managesieve_session *s, enum msieve_parse_result r)
{
	const char *text;

	if (s->auth_line) {
		msieve_auth_line(s, r == MSIEVE_PARSE_COMMAND ? msieve_parser_command(s->parser)
		                                              : NULL);
	} else if (r == MSIEVE_PARSE_ERROR) {
		if (msieve_parser_error(s->parser, &text) == MSIEVE_ERR_TOO_BIG &&
		    s->state == MSIEVE_STATE_AUTH) {
			msieve_reply(s, "NO", "QUOTA/MAXSIZE", "Script too large.");
			s->errors++;
		} else
			msieve_reply_bad(s, text);
	} else
		msieve_command_dispatch(s, msieve_parser_command(s->parser));
	tmp_reset(s);
}

static void session_input(struct managesieve_session *s)
{
	/* each pass consumes at least one byte or returns */
	while (!s->busy && !s->closed && s->state != MSIEVE_STATE_CLOSING) {
		struct evbuffer *in = conn_input(s->conn);
		struct evbuffer_iovec v;
		size_t consumed;
		enum msieve_parse_result r;

		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		r = msieve_parser_feed(s->parser, v.iov_base, v.iov_len, &consumed);
		evbuffer_drain(in, consumed);
		if (r != MSIEVE_PARSE_NEED_MORE)
			handle_event(s, r);
	}
}

static void on_read(struct conn *conn, void *ctx)
{
	(void)conn;
	session_input(ctx);
}

static void on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct managesieve_session *s = ctx;
	const char *u = s->username == NULL ? "-" : s->username;
	char *user = log_value(u, strlen(u), 256);

	(void)conn;
	log_info(s->sid, "event=managesieve.disconnect reason=\"%s\" user=%s", reason, user);
	free(user);
	s->closed = true;
	if (s->jobs == 0)
		session_free(s);
}

static void on_shutdown(struct conn *conn, void *ctx)
{
	(void)conn;
	msieve_session_close(ctx, "Server shutting down.");
}
