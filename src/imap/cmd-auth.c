/* STARTTLS, LOGIN and AUTHENTICATE (RFC 3501 6.2, RFC 4959 SASL-IR) with
   every mechanism of auth/sasl-server.h.
   Passwords are verified on a worker thread and never logged. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth-sasl.h"
#include "auth/auth.h"
#include "auth/sasl-cbind.h"
#include "auth/sasl.h"
#include "imap/imap-private.h"
#include "lib/xalloc.h"

struct auth_job {
	struct imap_session *s;
	char *tag;
	char *login; /* as the client sent it */
	const char *method;
};

static void auth_job_free(struct auth_job *job)
{
	free(job->tag);
	free(job->login);
	free(job);
}

static void auth_fail_done(evutil_socket_t fd, short what, void *arg)
{
	struct auth_job *job = arg;

	if (imap_session_release(job->s)) {
		imap_printf(job->s, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
		            job->tag);
		(void)imap_session_count_error(job->s);
	}
	auth_job_free(job);
}

/* Answer a failed login after a delay (the session is held meanwhile). */
static void auth_fail(struct auth_job *job, const char *reason)
{
	struct imap_session *s = job->s;
	struct timeval tv = s->server->auth_fail_delay;
	char *user = log_value(job->login, strlen(job->login), 256);

	/* the growing delay per IP (auth-penalty.h); a zero delay (fuzzing)
	   stays zero */
	if (tv.tv_sec != 0 || tv.tv_usec != 0) {
		unsigned ms = auth_failure(s->server->auth, conn_peer_ip(s->conn));

		tv = (struct timeval){ms / 1000, (ms % 1000) * 1000};
	}
	log_info(s->sid,
	         "event=imap.login_failed ip=%s user=%s method=%s reason=\"%s\" failures=%u",
	         conn_peer_ip(s->conn), user, job->method, reason,
	         auth_failures(s->server->auth, conn_peer_ip(s->conn)));
	free(user);
	event_base_once(s->server->base, -1, EV_TIMEOUT, auth_fail_done, job, &tv);
}

static void auth_done(void *ctx, const struct auth_reply *reply)
{
	struct auth_job *job = ctx;
	struct imap_session *s = job->s;

	if (s->closed) {
		(void)imap_session_release(s);
		auth_job_free(job);
		return;
	}
	if (reply->result == AUTH_RESULT_BAD_CREDENTIALS || reply->result == AUTH_RESULT_DISABLED) {
		auth_fail(job, reply->reason);
		return;
	}
	if (imap_session_release(s)) {
		if (reply->result == AUTH_RESULT_OK)
			imap_session_login(s, job->tag, xstrdup(reply->user), job->method);
		else
			imap_printf(s, "%s NO [UNAVAILABLE] Temporary authentication failure.\r\n",
			            job->tag);
	}
	auth_job_free(job);
}

/* Check login/password (password is taken and wiped) and answer tag. */
static void auth_begin(struct imap_session *s, const char *tag, const char *login, char *password,
                       const char *method)
{
	struct auth_job *job = xcalloc(1, sizeof(*job));
	struct auth_request req = {
	    .user = login,
	    .password = password,
	    .service = "imap",
	    .peer = conn_peer_ip(s->conn),
	    .sid = s->sid,
	};

	job->s = s;
	job->tag = xstrdup(tag);
	job->login = xstrdup(login);
	job->method = method;
	imap_session_hold(s);
	auth_login(s->server->auth, &req, auth_done, job);
	sasl_secret_free(&password);
}

/* RFC 3501 6.2.3 / RFC 2595: no plaintext password without TLS. */
static bool check_privacy(struct imap_session *s, const char *tag)
{
	if (imap_plaintext_allowed(s))
		return true;
	imap_printf(s,
	            "%s NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
	            "(SSL/TLS) connections.\r\n",
	            tag);
	return false;
}

void cmd_starttls(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (conn_is_tls(s->conn)) {
		imap_reply_bad(s, cmd->tag, "TLS is already active.");
		return;
	}
	if (s->server->tls == NULL) {
		imap_reply_bad(s, cmd->tag, "TLS support isn't enabled.");
		return;
	}
	imap_reply(s, cmd->tag, "OK", "Begin TLS negotiation now.");
	if (conn_starttls(s->conn) < 0) {
		imap_session_bye(s, "TLS failed");
		return;
	}
	log_info(s->sid, "event=imap.starttls");
}

void cmd_login(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *user = cmd->count == 2 ? imap_arg_astring(&cmd->args[0]) : NULL;
	const char *pass = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;

	if (user == NULL || pass == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (!check_privacy(s, cmd->tag))
		return;
	auth_begin(s, cmd->tag, user, xstrdup(pass), "LOGIN");
}

/* ---- AUTHENTICATE (RFC 9051 6.2.2, SASL-IR RFC 4959) over the shared
   exchange (auth/auth-sasl.h). Each step holds the session until the
   exchange answers (at once or after a check, a lookup or the failure
   delay); the command's tag is s->pending_tag throughout. ---- */

static void sasl_final(struct imap_session *s, const struct auth_sasl_reply *r, const char *tag)
{
	switch (r->event) {
	case AUTH_SASL_OK:
		imap_session_login(s, tag, xstrdup(r->user), "AUTHENTICATE");
		return;
	case AUTH_SASL_TEMPFAIL:
		imap_printf(s, "%s NO [UNAVAILABLE] Temporary authentication failure.\r\n", tag);
		return;
	case AUTH_SASL_FAILED:
		if (r->error == AUTH_SASL_CANCELLED)
			imap_reply_bad(s, tag, "Authentication aborted by client.");
		else if (r->error == SASL_ERR_MALFORMED)
			imap_reply_bad(s, tag, "Invalid AUTHENTICATE response.");
		else if (r->error == SASL_ERR_AUTHZ)
			imap_printf(s, "%s NO [AUTHORIZATIONFAILED] Authorization failed.\r\n",
			            tag);
		else
			imap_printf(s, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
			            tag);
		(void)imap_session_count_error(s);
		return;
	case AUTH_SASL_CHALLENGE:
		break;
	}
}

static void on_sasl(void *ctx, const struct auth_sasl_reply *r)
{
	struct imap_session *s = ctx;
	char *tag, *user;

	if (r->event == AUTH_SASL_CHALLENGE) {
		/* if the session is gone it freed the exchange and the tag */
		if (imap_session_release(s)) {
			s->input = IMAP_INPUT_AUTH_LINE;
			imap_printf(s, "+ %s\r\n", r->challenge);
		}
		return;
	}
	tag = s->pending_tag;
	s->pending_tag = NULL;
	s->input = IMAP_INPUT_COMMANDS;
	user = r->user != NULL ? xstrdup(r->user) : NULL;
	auth_sasl_free(&s->sasl);
	if (imap_session_release(s)) {
		struct auth_sasl_reply copy = *r;

		copy.user = user;
		sasl_final(s, &copy, tag);
	}
	free(user);
	free(tag);
}

/* Refusals before the exchange; true if one was sent. */
static bool authenticate_refused(struct imap_session *s, const char *tag, enum sasl_mech mech,
                                 const struct sasl_channel_binding *cb)
{
	if (sasl_mech_is_plaintext(mech) && !check_privacy(s, tag))
		return true;
	if (mech == SASL_MECH_SCRAM_SHA_256_PLUS && !sasl_channel_binding_usable(cb)) {
		imap_printf(s, "%s NO Channel binding not available.\r\n", tag);
		return true;
	}
	return false;
}

void cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *name = cmd->count >= 1 ? imap_arg_atom(&cmd->args[0]) : NULL;
	const char *ir = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;
	struct sasl_channel_binding cb;
	struct timeval *delay = &s->server->auth_fail_delay;
	enum sasl_mech mech;

	if (name == NULL || cmd->count > 2 || (cmd->count == 2 && ir == NULL)) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (sasl_mech_lookup(name, &mech) < 0) {
		imap_printf(s, "%s NO Unsupported authentication mechanism.\r\n", cmd->tag);
		return;
	}
	sasl_channel_binding_from_ssl(conn_ssl(s->conn), &cb);
	if (authenticate_refused(s, cmd->tag, mech, &cb))
		return;
	s->sasl = auth_sasl_new(
	    s->server->auth, mech,
	    &(struct auth_sasl_info){
	        /* a zero delay (fuzzing) answers failures at once */
	        .base = delay->tv_sec != 0 || delay->tv_usec != 0 ? s->server->base : NULL,
	        .service = "imap",
	        .peer = conn_peer_ip(s->conn),
	        .sid = s->sid,
	        .cb = &cb},
	    on_sasl, s);
	free(s->pending_tag);
	s->pending_tag = xstrdup(cmd->tag);
	imap_session_hold(s);
	auth_sasl_start(s->sasl, ir);
}

void cmd_authenticate_line(struct imap_session *s, const char *line)
{
	s->input = IMAP_INPUT_COMMANDS;
	imap_session_hold(s);
	/* a line too long for the limit is not a response: malformed */
	if (line == NULL)
		auth_sasl_input(s->sasl, "!", 1);
	else
		auth_sasl_input(s->sasl, line, strlen(line));
}
