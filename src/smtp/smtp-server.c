#include "smtp/smtp-server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns-resolver.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-milter.h"
#include "smtp/smtp-policy-inbound.h"
#include "smtp/smtp-rdns.h"
#include "smtp/smtp-policy-lmtp.h"
#include "smtp/smtp-policy-submission.h"
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
	const struct smtp_policy_ops *ops = s->policy->ops;

	address_free(&s->mail_from);
	free(s->mail_from_text);
	s->mail_from_text = NULL;
	s->has_mail = false;
	s->mail_size = 0;
	for (size_t i = 0; i < s->rcpts.count; i++)
		free(s->rcpts.items[i]);
	array_free(&s->rcpts);
	smtp_transaction_ext_reset(s);
	if (ops->reset != NULL)
		ops->reset(s->policy_ctx);
	smtp_header_clear(&s->header);
	delivery_abort(&s->delivery);
	delivery_abort(&s->message.delivery);
	memset(&s->message, 0, sizeof(s->message));
	buf_free(&s->trace);
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
	const struct smtp_policy_ops *ops = s->policy->ops;

	smtp_transaction_reset(s);
	if (ops->session_end != NULL)
		ops->session_end(s->policy_ctx);
	smtp_auth_session_free(s);
	free(s->peer_ip);
	smtp_rdns_cancel(&s->rdns);
	free(s->ptr_name);
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
		/* The policy still holds the session: the stage's reply frees it. */
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

/* A pending stage was answered: resume reading, or finish closing. */
static void stage_job_done(struct smtp_session *s)
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

/* ---- stages (smtp-policy.h) ---- */

static void stage_call(struct smtp_session *s, enum smtp_stage stage)
{
	const struct smtp_policy_ops *ops = s->policy->ops;

	switch (stage) {
	case SMTP_STAGE_MAIL:
		if (ops->mail != NULL)
			ops->mail(s->policy_ctx, s);
		else
			smtp_stage_reply(s, 250, "2.1.0", "Ok");
		return;
	case SMTP_STAGE_RCPT:
		if (ops->rcpt != NULL)
			ops->rcpt(s->policy_ctx, s, s->stage_rcpt);
		else
			smtp_stage_reply(s, 250, "2.1.5", "Ok");
		return;
	case SMTP_STAGE_DATA_END:
		if (ops->data_end != NULL)
			ops->data_end(s->policy_ctx, s, &s->message);
		else
			smtp_stage_reply(s, 451, "4.3.0", "Error: no delivery here");
		return;
	case SMTP_STAGE_AUTH:
		smtp_auth_stage(s);
		return;
	case SMTP_STAGE_NONE:
		break;
	}
}

void smtp_stage_begin(struct smtp_session *s, enum smtp_stage stage, const char *rcpt)
{
	s->stage = stage;
	s->stage_rcpt = rcpt != NULL ? xstrdup(rcpt) : NULL;
	s->stage_sync = true;
	if (stage == SMTP_STAGE_DATA_END)
		smtp_lmtp_stage_begin(s);
	stage_call(s, stage);
	s->stage_sync = false;
	if (s->stage != SMTP_STAGE_NONE) {
		/* pending: no command is read until the reply */
		s->busy = true;
		conn_pause_reading(s->conn);
	}
}

/* What the protocol does with a stage's outcome. */
static void stage_finish(struct smtp_session *s, enum smtp_stage stage, unsigned code)
{
	switch (stage) {
	case SMTP_STAGE_MAIL:
		if (code >= 400)
			smtp_transaction_reset(s);
		break;
	case SMTP_STAGE_RCPT:
		smtp_rcpt_params_finish(s, code);
		if (code < 300) {
			array_append(&s->rcpts, s->stage_rcpt);
			s->stage_rcpt = NULL;
		}
		break;
	case SMTP_STAGE_DATA_END:
		if (code < 300)
			s->messages++;
		smtp_transaction_reset(s);
		break;
	case SMTP_STAGE_AUTH:
	case SMTP_STAGE_NONE:
		break;
	}
	free(s->stage_rcpt);
	s->stage_rcpt = NULL;
}

void smtp_stage_reply(struct smtp_session *s, unsigned code, const char *enhanced, const char *fmt,
                      ...)
{
	enum smtp_stage stage = s->stage;
	bool per_rcpt = s->lmtp && stage == SMTP_STAGE_DATA_END;
	va_list ap;

	if (stage == SMTP_STAGE_NONE) {
		log_error(s->sid, "event=smtp.policy_error error=\"reply outside a stage\"");
		return;
	}
	if (!s->closed) {
		va_start(ap, fmt);
		reply_va(s, code, ' ', enhanced, fmt, ap);
		va_end(ap);
	}
	/* LMTP: the stage goes on until every accepted recipient has its
	   reply (smtp-lmtp.c) */
	if (per_rcpt && smtp_lmtp_stage_reply(s, &code))
		return;
	s->stage = SMTP_STAGE_NONE;
	if (code >= 400 && !per_rcpt)
		s->errors++;
	stage_finish(s, stage, code);
	if (!s->stage_sync)
		stage_job_done(s);
}

const char *smtp_session_sid(const struct smtp_session *s)
{
	return s->sid;
}

const char *smtp_session_peer_ip(const struct smtp_session *s)
{
	return s->peer_ip;
}

const char *smtp_session_helo(const struct smtp_session *s)
{
	return s->helo;
}

const char *smtp_session_mail_from(const struct smtp_session *s)
{
	return s->mail_from_text;
}

uint64_t smtp_session_mail_size(const struct smtp_session *s)
{
	return s->mail_size;
}

const char *smtp_session_auth_user(const struct smtp_session *s)
{
	return s->auth_user;
}

const struct service_def *smtp_session_service(const struct smtp_session *s)
{
	return s->service;
}

const struct smtp_rcpt_params *smtp_session_rcpt_params(const struct smtp_session *s)
{
	return s->stage == SMTP_STAGE_RCPT ? &s->stage_rcpt_params : NULL;
}

bool smtp_session_peer_is_unix(const struct smtp_session *s)
{
	return s->unix_peer;
}

const char *smtp_session_tls(const struct smtp_session *s)
{
	if (s->conn == NULL || !conn_is_tls(s->conn))
		return NULL;
	return conn_tls_description(s->conn);
}

bool smtp_session_gone(const struct smtp_session *s)
{
	return s->closed;
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

	if (s->sasl != NULL) {
		smtp_auth_line(s, line, len);
		return;
	}
	s->commands++;
	if (smtp_command_parse(line, len, &cmd, &err) < 0) {
		smtp_reply(s, err.code, err.enhanced, "%s", err.text);
		return;
	}
	def = &smtp_commands[cmd.verb];
	if (!smtp_protocol_allows(s, def))
		; /* refused: LHLO in SMTP, HELO/EHLO/AUTH in LMTP */
	else if (s->policy->tls_required && (def->flags & SMTP_CMD_BEFORE_TLS) == 0 &&
	         !conn_is_tls(s->conn) && s->auth_user == NULL)
		/* a login the config allowed without TLS (loopback) lifts it */
		smtp_reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
	else if (s->helo == NULL && (def->flags & SMTP_CMD_BEFORE_HELO) == 0)
		smtp_reply(s, 503, "5.5.1", "Error: send %s first", s->lmtp ? "LHLO" : "HELO/EHLO");
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
	if (ret < 0 && s->sasl != NULL) {
		smtp_auth_line(s, "", 1); /* not a response: the exchange fails, 501 */
		return 1;
	}
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

static void greet(struct smtp_session *s)
{
	conn_printf(s->conn, "220 %s %s Tern\r\n", s->server->settings->hostname,
	            s->lmtp ? "LMTP" : "ESMTP");
}

static void rdns_done(const char *name, void *ctx)
{
	struct smtp_session *s = ctx;

	s->rdns = NULL;
	s->ptr_name = name != NULL ? xstrdup(name) : NULL;
	log_info(s->sid, "event=smtp.rdns name=%s", name != NULL ? name : "unknown");
	if (s->closing)
		return;
	greet(s);
	conn_resume_reading(s->conn);
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
	         s->service->name, conn_is_tls(s->conn) ? "yes" : "no");
	if (s->server->resolver == NULL) {
		greet(s);
		return;
	}
	/* the client's name first, as Postfix does: nothing is read until the
	   greeting, which comes within the resolver's timeouts */
	conn_pause_reading(s->conn);
	s->rdns = smtp_rdns_start(s->server->resolver, role->base, s->peer_ip, rdns_done, s);
}

/* The policy of a service: LMTP and submission have their own (when the
   role set them up), the rest port 25's. */
static const struct smtp_policy *session_policy(const struct smtp_server *server,
                                                const struct service_def *service)
{
	if (service == &smtp_service_lmtp && server->lmtp_policy.ops != NULL)
		return &server->lmtp_policy;
	if (service == &smtp_service_submission || service == &smtp_service_submissions)
		return &server->submission_policy;
	return &server->policy;
}

static void server_accept(struct smtp_server *server, int fd, const struct sockaddr *peer,
                          socklen_t peerlen, const struct service_def *service, enum tls_mode tls)
{
	struct role_ctx *role = server->role;
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->server = server;
	s->service = service;
	s->lmtp = service == &smtp_service_lmtp;
	s->policy = session_policy(server, service);
	s->unix_peer = peer->sa_family == AF_UNIX;
	s->starttls = tls == TLS_MODE_STARTTLS;
	s->conn = conn_new(role->base, fd, peer, peerlen, role->tls, tls == TLS_MODE_IMPLICIT,
	                   &session_handler, s);
	if (s->conn == NULL) {
		free(s);
		return;
	}
	s->peer_ip = xstrdup(conn_peer_ip(s->conn));
	s->policy->ops->session_begin(s->policy->policy, s, &s->policy_ctx);
	session_start(s, role);
}

static void smtp_accept(struct role_ctx *role, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, const struct service_def *service, enum tls_mode tls)
{
	server_accept(role->data, fd, peer, peerlen, service, tls);
}

struct smtp_server *smtp_server_new(struct role_ctx *role, const struct smtp_policy *policy)
{
	struct smtp_server *server = xcalloc(1, sizeof(*server));

	server->role = role;
	server->settings = role->settings;
	server->policy = *policy;
	server->submission_policy = *policy;
	return server;
}

void smtp_server_free(struct smtp_server **server)
{
	free(*server);
	*server = NULL;
}

void smtp_server_accept_fd(struct smtp_server *server, int fd, const struct service_def *service)
{
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};

	server_accept(server, fd, (const struct sockaddr *)&peer, sizeof(peer), service,
	              TLS_MODE_NONE);
}

static void smtp_deinit_server(struct smtp_server *server)
{
	smtp_inbound_free(&server->inbound);
	dns_resolver_free(&server->resolver);
	smtp_lmtp_free(&server->lmtp);
	smtp_submission_free(&server->submission);
	smtp_auth_deinit(server);
	for (size_t i = 0; i < 3; i++)
		smtp_milter_free(&server->milters[i]);
	free(server);
}

static int smtp_init(struct role_ctx *role, const char **error_r)
{
	struct smtp_server *server = xcalloc(1, sizeof(*server));

	server->role = role;
	server->settings = role->settings;
	if (smtp_inbound_new(role, &server->inbound, error_r) < 0 ||
	    smtp_submission_new(role, &server->submission, error_r) < 0) {
		smtp_deinit_server(server);
		return -1;
	}
	server->policy.ops = &smtp_inbound_ops;
	server->policy.policy = server->inbound;
	/* before smtp_auth_init(), which looks at .auth */
	server->submission_policy = smtp_submission_policy(server->submission);
	if (smtp_rdns_resolver_new(role->base, role->settings, &server->resolver, error_r) < 0 ||
	    smtp_lmtp_new(role, &server->lmtp, error_r) < 0 ||
	    smtp_auth_init(server, error_r) < 0) {
		smtp_deinit_server(server);
		return -1;
	}
	server->lmtp_policy.ops = &smtp_lmtp_ops;
	server->lmtp_policy.policy = server->lmtp;
	/* milter: the milters in front of each policy (smtp-milter.h) */
	if (smtp_milter_wrap(&server->policy, role->settings, role->base, &server->milters[0],
	                     error_r) < 0 ||
	    smtp_milter_wrap(&server->submission_policy, role->settings, role->base,
	                     &server->milters[1], error_r) < 0 ||
	    smtp_milter_wrap(&server->lmtp_policy, role->settings, role->base, &server->milters[2],
	                     error_r) < 0) {
		smtp_deinit_server(server);
		return -1;
	}
	role->data = server;
	return 0;
}

static void smtp_deinit(struct role_ctx *role)
{
	if (role->data == NULL)
		return;
	smtp_deinit_server(role->data);
	role->data = NULL;
}

static const struct service_def *const smtp_services[] = {
    &smtp_service_smtp, &smtp_service_submission, &smtp_service_submissions, &smtp_service_lmtp};

const struct role_ops smtp_role_ops = {
    .name = "smtp",
    .services = smtp_services,
    .service_count = sizeof(smtp_services) / sizeof(smtp_services[0]),
    .init = smtp_init,
    .accept = smtp_accept,
    .deinit = smtp_deinit,
};
