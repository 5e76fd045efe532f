/* CAPA (RFC 2449 5), STLS (RFC 2595 4), USER/PASS (RFC 1939 7) and AUTH
   (RFC 5034) with every mechanism of auth/sasl-server.h. Passwords are
   verified on a worker thread and never logged. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth-sasl.h"
#include "auth/auth.h"
#include "auth/sasl-cbind.h"
#include "auth/sasl.h"
#include "lib/xalloc.h"
#include "pop3/pop3-private.h"

void pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct buf b = BUF_INIT;

	(void)cmd;
	buf_append_str(&b, "+OK Capability list follows\r\n"
	                   "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
	                   "EXPIRE NEVER\r\nLOGIN-DELAY 0\r\n");
	if (s->state == POP3_STATE_AUTHORIZATION) {
		struct buf mechs = BUF_INIT;

		if (pop3_plaintext_allowed(s))
			buf_append_str(&b, "USER\r\n");
		pop3_sasl_mechs(s, &mechs);
		if (mechs.len > 0)
			buf_printf(&b, "SASL %s\r\n", buf_cstr(&mechs));
		buf_free(&mechs);
		if (!conn_is_tls(s->conn) && s->server->tls != NULL)
			buf_append_str(&b, "STLS\r\n");
	}
	buf_append_str(&b, "IMPLEMENTATION Tern\r\n.\r\n");
	pop3_write(s, b.data, b.len);
	buf_free(&b);
}

void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd)
{
	(void)cmd;
	if (conn_is_tls(s->conn)) {
		pop3_reply_bad(s, "TLS is already active.");
		return;
	}
	if (s->server->tls == NULL) {
		pop3_reply_bad(s, "TLS support isn't enabled.");
		return;
	}
	pop3_printf(s, "+OK Begin TLS negotiation now.\r\n");
	/* RFC 2595 4: whatever USER said before is forgotten */
	free(s->user_arg);
	s->user_arg = NULL;
	if (conn_starttls(s->conn) < 0) {
		pop3_session_close(s, false, "TLS failed.");
		return;
	}
	log_info(s->sid, "event=pop3.starttls");
}

/* RFC 2595 2.2 / DESIGN: no plain password without TLS. */
static bool check_privacy(struct pop3_session *s)
{
	if (pop3_plaintext_allowed(s))
		return true;
	pop3_printf(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
	               "connections.\r\n");
	return false;
}

void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->count != 1) {
		pop3_reply_bad(s, "USER takes one argument.");
		return;
	}
	if (!check_privacy(s))
		return;
	free(s->user_arg);
	s->user_arg = xstrdup(cmd->args[0]);
	pop3_printf(s, "+OK\r\n");
}

struct pass_job {
	struct pop3_session *s;
	char *login;
};

static void pass_job_free(struct pass_job *job)
{
	free(job->login);
	free(job);
}

static void pass_fail_done(evutil_socket_t fd, short what, void *arg)
{
	struct pass_job *job = arg;

	(void)fd;
	(void)what;
	if (pop3_session_release(job->s))
		pop3_reply_bad(job->s, "[AUTH] Authentication failed.");
	pass_job_free(job);
}

/* Answer a failed PASS after the growing delay of the IP (auth-penalty.h),
   as IMAP LOGIN does. */
static void pass_fail(struct pass_job *job, const char *reason)
{
	struct pop3_session *s = job->s;
	struct timeval tv = s->server->auth_fail_delay;
	char *user = log_value(job->login, strlen(job->login), 256);

	if (tv.tv_sec != 0 || tv.tv_usec != 0) {
		unsigned ms = auth_failure(s->server->auth, conn_peer_ip(s->conn));

		tv = (struct timeval){ms / 1000, (ms % 1000) * 1000};
	}
	log_info(s->sid,
	         "event=pop3.login_failed ip=%s user=%s method=USER reason=\"%s\" failures=%u",
	         conn_peer_ip(s->conn), user, reason,
	         auth_failures(s->server->auth, conn_peer_ip(s->conn)));
	free(user);
	event_base_once(s->server->base, -1, EV_TIMEOUT, pass_fail_done, job, &tv);
}

static void pass_done(void *ctx, const struct auth_reply *reply)
{
	struct pass_job *job = ctx;
	struct pop3_session *s = job->s;

	if (s->closed) {
		(void)pop3_session_release(s);
		pass_job_free(job);
		return;
	}
	if (reply->result == AUTH_RESULT_BAD_CREDENTIALS || reply->result == AUTH_RESULT_DISABLED) {
		pass_fail(job, reply->reason);
		return;
	}
	if (pop3_session_release(s)) {
		if (reply->result == AUTH_RESULT_OK)
			pop3_session_login(s, xstrdup(reply->user), "USER");
		else
			pop3_printf(s, "-ERR [SYS/TEMP] Temporary authentication failure.\r\n");
	}
	pass_job_free(job);
}

void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pass_job *job;
	char *password;

	if (s->user_arg == NULL) {
		pop3_reply_bad(s, "No USER given.");
		return;
	}
	if (cmd->count == 0) {
		pop3_reply_bad(s, "PASS takes the password.");
		return;
	}
	if (!check_privacy(s))
		return;
	/* RFC 1939 7: the password may hold spaces: the rest of the line */
	password = xstrdup(cmd->rest);
	job = xcalloc(1, sizeof(*job));
	job->s = s;
	job->login = s->user_arg;
	s->user_arg = NULL;
	pop3_session_hold(s);
	auth_login(s->server->auth,
	           &(struct auth_request){.user = job->login,
	                                  .password = password,
	                                  .service = "pop3",
	                                  .peer = conn_peer_ip(s->conn),
	                                  .sid = s->sid},
	           pass_done, job);
	sasl_secret_free(&password);
}

/* ---- AUTH (RFC 5034) over the shared exchange (auth/auth-sasl.h): each
   step holds the session until the exchange answers. ---- */

static void sasl_final(struct pop3_session *s, const struct auth_sasl_reply *r)
{
	switch (r->event) {
	case AUTH_SASL_OK:
		pop3_session_login(s, xstrdup(r->user), "AUTH");
		return;
	case AUTH_SASL_TEMPFAIL:
		pop3_printf(s, "-ERR [SYS/TEMP] Temporary authentication failure.\r\n");
		return;
	case AUTH_SASL_FAILED:
		if (r->error == AUTH_SASL_CANCELLED)
			pop3_reply_bad(s, "Authentication aborted by client.");
		else if (r->error == SASL_ERR_MALFORMED)
			pop3_reply_bad(s, "Invalid AUTH response.");
		else
			pop3_reply_bad(s, "[AUTH] Authentication failed.");
		return;
	case AUTH_SASL_CHALLENGE:
		break;
	}
}

static void on_sasl(void *ctx, const struct auth_sasl_reply *r)
{
	struct pop3_session *s = ctx;
	char *user;

	if (r->event == AUTH_SASL_CHALLENGE) {
		if (pop3_session_release(s)) {
			s->auth_line = true;
			pop3_printf(s, "+ %s\r\n", r->challenge);
		}
		return;
	}
	s->auth_line = false;
	user = r->user != NULL ? xstrdup(r->user) : NULL;
	auth_sasl_free(&s->sasl);
	if (pop3_session_release(s)) {
		struct auth_sasl_reply copy = *r;

		copy.user = user;
		sasl_final(s, &copy);
	}
	free(user);
}

/* AUTH without arguments: the mechanisms, one a line (as Dovecot and
   fetchmail's probing expect; RFC 5034 leaves it to CAPA). */
static void auth_list(struct pop3_session *s)
{
	struct buf mechs = BUF_INIT;

	pop3_sasl_mechs(s, &mechs);
	buf_append_str(&mechs, " ");
	pop3_printf(s, "+OK\r\n");
	for (size_t start = 0, i = 0; i < mechs.len; i++) {
		if (mechs.data[i] != ' ')
			continue;
		if (i > start)
			pop3_printf(s, "%.*s\r\n", (int)(i - start), mechs.data + start);
		start = i + 1;
	}
	pop3_printf(s, ".\r\n");
	buf_free(&mechs);
}

/* Refusals before the exchange; true if one was sent. */
static bool auth_refused(struct pop3_session *s, enum sasl_mech mech,
                         const struct sasl_channel_binding *cb)
{
	if (sasl_mech_is_plaintext(mech) && !check_privacy(s))
		return true;
	if (mech == SASL_MECH_SCRAM_SHA_256_PLUS && !sasl_channel_binding_usable(cb)) {
		pop3_printf(s, "-ERR Channel binding not available.\r\n");
		return true;
	}
	return false;
}

void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct sasl_channel_binding cb;
	struct timeval *delay = &s->server->auth_fail_delay;
	enum sasl_mech mech;

	if (cmd->count == 0) {
		auth_list(s);
		return;
	}
	if (cmd->count > 2) {
		pop3_reply_bad(s, "Invalid arguments.");
		return;
	}
	if (sasl_mech_lookup(cmd->args[0], &mech) < 0) {
		pop3_printf(s, "-ERR Unsupported authentication mechanism.\r\n");
		return;
	}
	sasl_channel_binding_from_ssl(conn_ssl(s->conn), &cb);
	if (auth_refused(s, mech, &cb))
		return;
	s->sasl = auth_sasl_new(
	    s->server->auth, mech,
	    &(struct auth_sasl_info){
	        /* a zero delay (fuzzing) answers failures at once */
	        .base = delay->tv_sec != 0 || delay->tv_usec != 0 ? s->server->base : NULL,
	        .service = "pop3",
	        .peer = conn_peer_ip(s->conn),
	        .sid = s->sid,
	        .cb = &cb},
	    on_sasl, s);
	pop3_session_hold(s);
	/* RFC 5034 4: the initial response, "=" for an empty one */
	auth_sasl_start(s->sasl, cmd->count == 2 ? cmd->args[1] : NULL);
}

void pop3_auth_line(struct pop3_session *s, const char *line)
{
	s->auth_line = false;
	pop3_session_hold(s);
	/* a line too long for the limit is not a response: malformed */
	if (line == NULL)
		auth_sasl_input(s->sasl, "!", 1);
	else
		auth_sasl_input(s->sasl, line, strlen(line));
}
