/* AUTH (RFC 4954) over the shared SASL exchange (auth/auth-sasl.h). Each
   SASL step is a session stage (SMTP_STAGE_AUTH), so the session reads no
   command while a password is checked or keys are looked up, and a client
   that goes away meanwhile is freed after the step's reply. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth-sasl.h"
#include "auth/auth.h"
#include "auth/sasl-cbind.h"
#include "guard/guard-settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-server-private.h"

int smtp_auth_init(struct smtp_server *server, const char **error_r)
{
	struct role_ctx *role = server->role;

	if (!server->submission_policy.auth && !server->policy.auth)
		return 0;
	if (auth_new(role->settings->directory_path, role->pool, auth_settings(role->settings),
	             role->shared != NULL ? role->shared->auth_failures : NULL, &server->auth,
	             error_r) < 0)
		return -1;
	if (role->guard != NULL)
		auth_set_guard(server->auth, role->guard, guard_settings(role->settings));
	return 0;
}

void smtp_auth_deinit(struct smtp_server *server)
{
	auth_free(&server->auth);
}

void smtp_auth_session_free(struct smtp_session *s)
{
	auth_sasl_free(&s->sasl);
	free(s->sasl_line);
	s->sasl_line = NULL;
	free(s->auth_user);
	s->auth_user = NULL;
}

static bool auth_on(const struct smtp_session *s)
{
	return s->policy != NULL && s->policy->auth && s->server->auth != NULL;
}

/* RFC 4954 section 4 and RFC 8314: the password mechanisms only over TLS,
   unless the settings allow them on loopback. */
static bool plaintext_allowed(const struct smtp_session *s)
{
	return conn_is_tls(s->conn) || (auth_settings(s->server->settings)->plaintext_on_loopback &&
	                                conn_peer_is_loopback(s->conn));
}

static void channel_binding(const struct smtp_session *s, struct sasl_channel_binding *cb)
{
	sasl_channel_binding_from_ssl(conn_ssl(s->conn), cb);
}

void smtp_auth_ehlo(struct smtp_session *s)
{
	struct sasl_channel_binding cb;
	bool scram;

	if (!auth_on(s) || !plaintext_allowed(s))
		return;
	scram = auth_scram_offered(s->server->auth);
	channel_binding(s, &cb);
	smtp_reply_cont(s, 250, "AUTH PLAIN LOGIN%s%s", scram ? " SCRAM-SHA-256" : "",
	                scram && sasl_channel_binding_usable(&cb) ? " SCRAM-SHA-256-PLUS" : "");
}

/* The end of an exchange: the reply for its outcome. */
static void finish(struct smtp_session *s, const struct auth_sasl_reply *r)
{
	char *user = r->event == AUTH_SASL_OK ? xstrdup(r->user) : NULL;

	/* the exchange goes first: the stage's reply may free the session */
	auth_sasl_free(&s->sasl);
	switch (r->event) {
	case AUTH_SASL_OK:
		s->auth_user = user;
		smtp_stage_reply(s, 235, "2.7.0", "Authentication successful");
		return;
	case AUTH_SASL_TEMPFAIL:
		smtp_stage_reply(s, 454, "4.7.0", "Temporary authentication failure");
		return;
	case AUTH_SASL_FAILED:
		if (r->error == AUTH_SASL_CANCELLED)
			smtp_stage_reply(s, 501, "5.0.0", "Authentication cancelled");
		else if (r->error == SASL_ERR_MALFORMED)
			smtp_stage_reply(s, 501, "5.5.2", "Invalid authentication response");
		else
			smtp_stage_reply(s, 535, "5.7.8", "Authentication credentials invalid");
		return;
	case AUTH_SASL_CHALLENGE:
		break;
	}
}

static void on_sasl(void *ctx, const struct auth_sasl_reply *r)
{
	struct smtp_session *s = ctx;

	if (r->event == AUTH_SASL_CHALLENGE)
		smtp_stage_reply(s, 334, NULL, "%s", r->challenge);
	else
		finish(s, r);
}

void smtp_auth_stage(struct smtp_session *s)
{
	char *line = s->sasl_line;

	s->sasl_line = NULL;
	if (!s->sasl_started) {
		s->sasl_started = true;
		auth_sasl_start(s->sasl, line);
	} else {
		auth_sasl_input(s->sasl, line, strlen(line));
	}
	free(line);
}

void smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	if (memchr(line, '\0', len) != NULL) {
		/* not base64 (or a line over the limit): the step fails as
		   malformed */
		line = "!";
		len = 1;
	}
	s->sasl_line = xstrndup(line, len);
	smtp_stage_begin(s, SMTP_STAGE_AUTH, NULL);
}

/* Split "MECH [initial-response]"; -1 on a malformed argument. */
static int parse_arg(const char *arg, char **mech_r, const char **ir_r)
{
	const char *sp;

	if (arg == NULL || arg[0] == '\0')
		return -1;
	sp = strchr(arg, ' ');
	*mech_r = sp != NULL ? xstrndup(arg, (size_t)(sp - arg)) : xstrdup(arg);
	*ir_r = sp != NULL ? sp + 1 : NULL;
	if (*ir_r != NULL && (strchr(*ir_r, ' ') != NULL || (*ir_r)[0] == '\0')) {
		free(*mech_r);
		return -1;
	}
	return 0;
}

/* Refusals before an exchange starts; true if one was sent. */
static bool refused(struct smtp_session *s, enum sasl_mech mech,
                    const struct sasl_channel_binding *cb)
{
	if (sasl_mech_is_plaintext(mech) && !plaintext_allowed(s)) {
		smtp_reply(s, 538, "5.7.11",
		           "Encryption required for requested authentication mechanism");
		return true;
	}
	if (mech == SASL_MECH_SCRAM_SHA_256_PLUS && !sasl_channel_binding_usable(cb)) {
		smtp_reply(s, 504, "5.5.4", "Channel binding not available");
		return true;
	}
	return false;
}

void smtp_cmd_auth(struct smtp_session *s, struct smtp_command *cmd)
{
	struct sasl_channel_binding cb;
	enum sasl_mech mech;
	const char *ir;
	char *name;

	if (!auth_on(s)) {
		smtp_reply(s, 502, "5.5.1", "Error: command not implemented");
		return;
	}
	if (s->auth_user != NULL) {
		smtp_reply(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (s->has_mail) {
		smtp_reply(s, 503, "5.5.1", "AUTH not permitted during a mail transaction");
		return;
	}
	if (parse_arg(cmd->arg, &name, &ir) < 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (sasl_mech_lookup(name, &mech) < 0) {
		free(name);
		smtp_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	free(name);
	channel_binding(s, &cb);
	if (refused(s, mech, &cb))
		return;
	s->sasl = auth_sasl_new(s->server->auth, mech,
	                        &(struct auth_sasl_info){.base = s->server->role->base,
	                                                 .service = s->service->name,
	                                                 .peer = s->peer_ip,
	                                                 .sid = s->sid,
	                                                 .cb = &cb},
	                        on_sasl, s);
	s->sasl_started = false;
	s->sasl_line = ir != NULL ? xstrdup(ir) : NULL;
	smtp_stage_begin(s, SMTP_STAGE_AUTH, NULL);
}
