/* STARTTLS, LOGIN and AUTHENTICATE PLAIN (RFC 3501 6.2, RFC 4959 SASL-IR).
   Passwords are verified on a worker thread and never logged. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
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

	log_info(s->sid, "event=imap.login_failed user=%s method=%s reason=\"%s\"", user,
	         job->method, reason);
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

/* A PLAIN response, base64 (RFC 4616; "=" is an empty response). */
static void plain_response(struct imap_session *s, const char *tag, const char *b64)
{
	unsigned char *data = NULL;
	size_t len = 0;
	char *authzid = NULL, *authcid = NULL, *password = NULL;
	const char *error;

	if (strcmp(b64, "=") == 0)
		b64 = "";
	if (sasl_base64_decode(b64, strlen(b64), SASL_PLAIN_MAX, &data, &len, &error) < 0 ||
	    sasl_plain_parse(data, len, &authzid, &authcid, &password, &error) < 0) {
		sasl_bytes_free(&data, len);
		imap_reply_bad(s, tag, "Invalid AUTHENTICATE response.");
		return;
	}
	sasl_bytes_free(&data, len);
	/* Acting as another user is not supported. */
	if (authzid != NULL && strcmp(authzid, authcid) != 0) {
		sasl_secret_free(&password);
		sasl_secret_free(&authcid);
		sasl_secret_free(&authzid);
		imap_printf(s, "%s NO [AUTHORIZATIONFAILED] Authorization failed.\r\n", tag);
		return;
	}
	auth_begin(s, tag, authcid, password, "PLAIN");
	sasl_secret_free(&authcid);
	sasl_secret_free(&authzid);
}

void cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *mech = cmd->count >= 1 ? imap_arg_atom(&cmd->args[0]) : NULL;
	const char *ir = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;

	if (mech == NULL || cmd->count > 2 || (cmd->count == 2 && ir == NULL)) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (strcasecmp(mech, "PLAIN") != 0) {
		imap_printf(s, "%s NO Unsupported authentication mechanism.\r\n", cmd->tag);
		return;
	}
	if (!check_privacy(s, cmd->tag))
		return;
	if (ir != NULL) {
		plain_response(s, cmd->tag, ir);
		return;
	}
	/* RFC 9051 6.2.2: an empty challenge, then the response line. */
	free(s->pending_tag);
	s->pending_tag = xstrdup(cmd->tag);
	s->input = IMAP_INPUT_AUTH_LINE;
	imap_printf(s, "+ \r\n");
}

void cmd_authenticate_line(struct imap_session *s, const char *line)
{
	char *tag = s->pending_tag;

	s->pending_tag = NULL;
	s->input = IMAP_INPUT_COMMANDS;
	if (line == NULL)
		imap_reply_bad(s, tag, "Response too long.");
	else if (strcmp(line, "*") == 0)
		imap_reply_bad(s, tag, "Authentication aborted by client.");
	else
		plain_response(s, tag, line);
	free(tag);
}
