#include "smtp/smtp-server.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "directory/directory.h"
#include "dns/dns-resolver.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailauth/psl.h"
#include "smtp/smtp-mailauth.h"
#include "smtp/smtp-server-private.h"
#include "store/delivery.h"

/* ---- replies ---- */

static void reply_va(struct smtp_session *s, unsigned code, char sep, const char *enhanced,
                     const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%03u%c", code, sep);
	if (enhanced != NULL && s->esmtp)
		buf_printf(&b, "%s ", enhanced);
	buf_vprintf(&b, fmt, ap);
	buf_append_str(&b, "\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

void smtp_reply(struct smtp_session *s, unsigned code, const char *enhanced, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_va(s, code, ' ', enhanced, fmt, ap);
	va_end(ap);
	if (code >= 400)
		s->errors++;
}

void smtp_reply_cont(struct smtp_session *s, unsigned code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_va(s, code, '-', NULL, fmt, ap);
	va_end(ap);
}

/* ---- session life cycle ---- */

void smtp_transaction_reset(struct smtp_session *s)
{
	address_free(&s->mail_from);
	free(s->mail_from_text);
	s->mail_from_text = NULL;
	s->has_mail = false;
	s->mail_size = 0;
	for (size_t i = 0; i < s->rcpt_count; i++)
		free(s->rcpts[i].address);
	free(s->rcpts);
	s->rcpts = NULL;
	s->rcpt_count = 0;
	for (size_t i = 0; i < s->maildir_count; i++) {
		free(s->maildirs[i]);
		free(s->maildir_users[i]);
	}
	free(s->maildirs);
	free(s->maildir_users);
	s->maildirs = NULL;
	s->maildir_users = NULL;
	s->maildir_count = 0;
	smtp_mailauth_free(s);
	smtp_header_clear(&s->header);
	delivery_abort(&s->delivery);
	s->in_data = false;
	s->write_error = NULL;
	buf_free(&s->data_out);
}

void smtp_session_close(struct smtp_session *s)
{
	s->closing = true;
	conn_close(s->conn);
}

static void session_free(struct smtp_session *s)
{
	smtp_transaction_reset(s);
	if (s->session_timer != NULL)
		event_free(s->session_timer);
	free(s->helo);
	buf_free(&s->line);
	free(s);
}

static void session_on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct smtp_session *s = ctx;
	char *why = log_value(reason, strlen(reason), 200);

	log_info(s->sid, "event=smtp.disconnect reason=%s messages=%u commands=%u errors=%u", why,
	         s->messages, s->commands, s->errors);
	free(why);
	s->conn = NULL;
	if (s->session_timer != NULL) {
		event_free(s->session_timer);
		s->session_timer = NULL;
	}
	if (s->busy) {
		/* The commit job still holds the session; it frees it when done. */
		s->closed = true;
		return;
	}
	session_free(s);
}

void smtp_session_bye(struct smtp_session *s, unsigned code, const char *enhanced, const char *text)
{
	if (s->busy) {
		s->closing = true;
		s->bye_code = code;
		s->bye_enhanced = enhanced;
		s->bye_text = text;
		return;
	}
	smtp_reply(s, code, enhanced, "%s", text);
	smtp_session_close(s);
}

static void session_on_shutdown(struct conn *conn, void *ctx)
{
	smtp_session_bye(ctx, 421, "4.3.2", "Service shutting down");
}

static void session_on_drained(struct conn *conn, void *ctx)
{
	struct smtp_session *s = ctx;

	if (s->output_wait && !s->busy) {
		s->output_wait = false;
		conn_resume_reading(conn);
	}
}

static void session_timer_cb(evutil_socket_t fd, short what, void *ctx)
{
	struct smtp_session *s = ctx;

	log_info(s->sid, "event=smtp.session_timeout seconds=%u", SMTP_SESSION_SECONDS_MAX);
	smtp_session_bye(s, 421, "4.4.2", "Session time limit exceeded");
}

void smtp_session_job_done(struct smtp_session *s)
{
	s->busy = false;
	if (s->closed) {
		session_free(s);
		return;
	}
	if (s->bye_code != 0) {
		smtp_session_bye(s, s->bye_code, s->bye_enhanced, s->bye_text);
		return;
	}
	if (s->closing) {
		smtp_session_close(s);
		return;
	}
	conn_resume_reading(s->conn);
}

/* ---- commands ---- */

static bool too_many_errors(struct smtp_session *s)
{
	unsigned max = s->server->settings->limits.max_errors;

	if (max == 0 || s->errors < max)
		return false;
	log_info(s->sid, "event=smtp.too_many_errors errors=%u", s->errors);
	smtp_reply(s, 421, "4.7.0", "Too many errors");
	smtp_session_close(s);
	return true;
}

static void run_command(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_command cmd;
	struct smtp_reply_error err;
	const struct smtp_cmd_def *def;

	s->commands++;
	if (smtp_command_parse(line, len, &cmd, &err) < 0) {
		smtp_reply(s, err.code, err.enhanced, "%s", err.text);
		return;
	}
	def = &smtp_commands[cmd.verb];
	if (s->helo == NULL && (def->flags & SMTP_CMD_BEFORE_HELO) == 0)
		smtp_reply(s, 503, "5.5.1", "Error: send HELO/EHLO first");
	else
		def->handler(s, &cmd);
	smtp_command_clear(&cmd);
}

/* Take the next command line; 1 if one was handled, 0 if none is there. */
static int next_command(struct smtp_session *s)
{
	size_t max = s->server->settings->limits.line_length;
	int ret = conn_read_line(s->conn, max, &s->line);

	if (ret == 0)
		return 0;
	if (ret < 0) {
		s->commands++;
		smtp_reply(s, 500, "5.5.2", "Error: line too long");
		return 1;
	}
	run_command(s, s->line.data, s->line.len);
	return 1;
}

/* Whether to stop reading commands for now: output backlog or the
   pipelining bound (resumed from the loop, so other sessions get a turn). */
static bool should_yield(struct smtp_session *s, unsigned handled)
{
	if (conn_output_pending(s->conn) > SMTP_OUTPUT_MAX) {
		s->output_wait = true;
		conn_pause_reading(s->conn);
		return true;
	}
	if (handled >= SMTP_PIPELINE_MAX) {
		conn_pause_reading(s->conn);
		conn_resume_reading(s->conn);
		return true;
	}
	return false;
}

static void session_on_read(struct conn *conn, void *ctx)
{
	struct smtp_session *s = ctx;
	unsigned handled = 0;

	while (!s->busy && !s->closing) {
		if (s->in_data) {
			if (smtp_data_input(s) == 0)
				break;
			continue;
		}
		if (should_yield(s, handled))
			break;
		if (next_command(s) == 0)
			break;
		handled++;
		if (!s->closing && too_many_errors(s))
			break;
	}
}

static const struct conn_handler session_handler = {
    .on_read = session_on_read,
    .on_close = session_on_close,
    .on_shutdown = session_on_shutdown,
    .on_drained = session_on_drained,
};

/* ---- the role ---- */

void smtp_notify_delivered(struct smtp_session *s)
{
	for (size_t i = 0; i < s->maildir_count; i++)
		role_notify_mailbox_changed(s->server->role, s->maildir_users[i]);
}

static void session_start(struct smtp_session *s, struct role_ctx *role)
{
	const struct tern_settings *set = s->server->settings;
	struct timeval tv = {SMTP_SESSION_SECONDS_MAX, 0};

	memcpy(s->sid, conn_sid(s->conn), sizeof(s->sid) - 1);
	/* One idle limit for the whole SMTP session: 5x the login timeout
	   (300 s by default, the RFC 5321 section 4.5.3.2.7 server timeout). */
	conn_set_idle_timeout(s->conn, set->limits.login_timeout * 5);
	s->session_timer = evtimer_new(role->base, session_timer_cb, s);
	if (s->session_timer != NULL)
		evtimer_add(s->session_timer, &tv);
	log_info(s->sid, "event=smtp.connect ip=%s service=%s tls=%s", conn_peer_ip(s->conn),
	         service_name(s->service), conn_is_tls(s->conn) ? "yes" : "no");
	conn_printf(s->conn, "220 %s ESMTP Tern\r\n", set->hostname);
}

static void smtp_accept(struct role_ctx *role, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, enum service service, enum tls_mode tls)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->server = role->data;
	s->service = service;
	s->conn = conn_new(role->base, fd, peer, peerlen, role->tls, tls == TLS_MODE_IMPLICIT,
	                   &session_handler, s);
	if (s->conn == NULL) {
		free(s);
		return;
	}
	session_start(s, role);
}

/* One resolver for the role, on its event base (docs/dns.md). */
static int open_resolver(struct smtp_server *server, const char **error_r)
{
	const struct tern_settings *set = server->settings;
	struct dns_resolver_settings dns = {
	    .zone_file = set->dns.zone_file,
	    .forwarders = (const char *const *)set->dns.forwarders,
	    .forwarder_count = set->dns.forwarder_count,
	    .timeout_msecs = set->dns.timeout * 1000,
	};
	char *error;

	if (dns_resolver_new(server->role->base, &dns, &server->resolver, &error) == 0)
		return 0;
	log_error(NULL, "event=smtp.dns_error error=\"%s\"", error);
	free(error);
	*error_r = "cannot start the DNS resolver";
	return -1;
}

/* Without the list DMARC still works, taking the last two labels as the
   Organizational Domain (the list's implicit "*" rule). */
static void load_psl(struct smtp_server *server)
{
	char *error;

	if (psl_load(server->settings->mailauth.psl_file, &server->psl, &error) == 0)
		return;
	log_warn(NULL, "event=smtp.psl_error error=\"%s\"", error);
	free(error);
	server->psl = psl_new();
}

static void server_free(struct smtp_server **serverp)
{
	struct smtp_server *server = *serverp;

	directory_close(&server->dir);
	dns_resolver_free(&server->resolver);
	psl_free(&server->psl);
	free(server);
	*serverp = NULL;
}

static int smtp_init(struct role_ctx *role, const char **error_r)
{
	struct smtp_server *server = xcalloc(1, sizeof(*server));

	server->role = role;
	server->settings = role->settings;
	if (directory_open(role->settings->directory_path, &server->dir, error_r) < 0 ||
	    open_resolver(server, error_r) < 0) {
		server_free(&server);
		return -1;
	}
	load_psl(server);
	role->data = server;
	return 0;
}

static void smtp_deinit(struct role_ctx *role)
{
	struct smtp_server *server = role->data;

	if (server == NULL)
		return;
	server_free(&server);
	role->data = NULL;
}

static const enum service smtp_services[] = {SERVICE_SMTP, SERVICE_SUBMISSION, SERVICE_SUBMISSIONS};

const struct role_ops smtp_role_ops = {
    .name = "smtp",
    .services = smtp_services,
    .service_count = sizeof(smtp_services) / sizeof(smtp_services[0]),
    .init = smtp_init,
    .accept = smtp_accept,
    .deinit = smtp_deinit,
};
