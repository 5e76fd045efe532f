/* The ManageSieve commands (RFC 5804 section 2) and AUTHENTICATE over the
   shared SASL exchange (auth/auth-sasl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth-sasl.h"
#include "auth/auth.h"
#include "auth/sasl-cbind.h"
#include "auth/sasl.h"
#include "lib/xalloc.h"
#include "managesieve/managesieve-private.h"
#include "managesieve/managesieve-settings.h"
#include "sieve/sieve.h"

/* ---- AUTHENTICATE ---- */

static void on_sasl(void *ctx, const struct auth_sasl_reply *r)
{
	struct managesieve_session *s = ctx;
	char *user;
	struct buf b = BUF_INIT;

	if (r->event == AUTH_SASL_CHALLENGE) {
		if (msieve_session_release(s)) {
			s->auth_line = true;
			msieve_append_string(&b, r->challenge, strlen(r->challenge));
			buf_append_str(&b, "\r\n");
			msieve_write(s, b.data, b.len);
			buf_free(&b);
		}
		return;
	}
	s->auth_line = false;
	user = r->user != NULL ? xstrdup(r->user) : NULL;
	auth_sasl_free(&s->sasl);
	if (msieve_session_release(s)) {
		if (r->event == AUTH_SASL_OK) {
			msieve_session_login(s, user, "AUTHENTICATE");
			user = NULL;
		} else if (r->event == AUTH_SASL_TEMPFAIL)
			msieve_reply(s, "NO", "TRYLATER", "Temporary authentication failure.");
		else if (r->error == AUTH_SASL_CANCELLED)
			msieve_reply_bad(s, "Authentication aborted by client.");
		else
			msieve_reply_bad(s, "Authentication failed.");
	}
	free(user);
}

static bool is_string(const struct msieve_token *t)
{
	return t->type == MSIEVE_STRING && !t->streamed;
}

static void cmd_authenticate(struct managesieve_session *s, const struct msieve_command *cmd)
{
	struct sasl_channel_binding cb;
	struct timeval *delay = &s->server->auth_fail_delay;
	enum sasl_mech mech;

	if (cmd->count < 2 || cmd->count > 3 || !is_string(&cmd->tokens[1]) ||
	    (cmd->count == 3 && !is_string(&cmd->tokens[2]))) {
		msieve_reply_bad(s, "Usage: AUTHENTICATE \"mechanism\" [\"initial response\"]");
		return;
	}
	if (sasl_mech_lookup(cmd->tokens[1].data, &mech) < 0) {
		msieve_reply(s, "NO", NULL, "Unsupported authentication mechanism.");
		return;
	}
	if (sasl_mech_is_plaintext(mech) && !msieve_plaintext_allowed(s)) {
		msieve_reply(s, "NO", "ENCRYPT-NEEDED",
		             "Plaintext authentication disallowed without TLS.");
		return;
	}
	sasl_channel_binding_from_ssl(conn_ssl(s->conn), &cb);
	if (mech == SASL_MECH_SCRAM_SHA_256_PLUS && !sasl_channel_binding_usable(&cb)) {
		msieve_reply(s, "NO", NULL, "Channel binding not available.");
		return;
	}
	s->sasl = auth_sasl_new(
	    s->server->auth, mech,
	    &(struct auth_sasl_info){
	        .base = delay->tv_sec != 0 || delay->tv_usec != 0 ? s->server->base : NULL,
	        .service = "sieve",
	        .peer = conn_peer_ip(s->conn),
	        .sid = s->sid,
	        .cb = &cb},
	    on_sasl, s);
	msieve_session_hold(s);
	/* SASL-IR: an empty initial response is "" here, "=" for the exchange */
	auth_sasl_start(s->sasl, cmd->count == 3
	                             ? (cmd->tokens[2].len == 0 ? "=" : cmd->tokens[2].data)
	                             : NULL);
}

void msieve_auth_line(struct managesieve_session *s, const struct msieve_command *cmd)
{
	s->auth_line = false;
	msieve_session_hold(s);
	if (cmd == NULL || cmd->count != 1 || !is_string(&cmd->tokens[0]))
		auth_sasl_input(s->sasl, "!", 1); /* malformed */
	else
		auth_sasl_input(s->sasl, cmd->tokens[0].data, cmd->tokens[0].len);
}

/* ---- helpers ---- */

static const char *status_code(enum msieve_status st)
{
	switch (st) {
	case MSIEVE_NONEXISTENT:
		return "NONEXISTENT";
	case MSIEVE_ACTIVE:
		return "ACTIVE";
	case MSIEVE_ALREADYEXISTS:
		return "ALREADYEXISTS";
	case MSIEVE_MAXSCRIPTS:
		return "QUOTA/MAXSCRIPTS";
	case MSIEVE_MAXSIZE:
		return "QUOTA/MAXSIZE";
	default:
		return NULL;
	}
}

static const char *status_text(enum msieve_status st, const char *error)
{
	switch (st) {
	case MSIEVE_OK:
		return "Done.";
	case MSIEVE_NONEXISTENT:
		return "No such script.";
	case MSIEVE_ACTIVE:
		return "The active script cannot be deleted.";
	case MSIEVE_ALREADYEXISTS:
		return "A script of that name exists.";
	case MSIEVE_MAXSCRIPTS:
		return "Too many scripts.";
	case MSIEVE_MAXSIZE:
		return "Script too large.";
	case MSIEVE_BADNAME:
		return "Invalid script name.";
	case MSIEVE_ERROR:
		return error != NULL ? error : "Internal error.";
	}
	return "Internal error.";
}

static void reply_status(struct managesieve_session *s, const char *op, enum msieve_status st,
                         const char *error)
{
	if (st == MSIEVE_ERROR)
		log_error(s->sid, "event=managesieve.store_error op=%s reason=\"%s\"", op,
		          error != NULL ? error : "?");
	msieve_reply(s, st == MSIEVE_OK ? "OK" : "NO", status_code(st),
	             st == MSIEVE_ERROR ? "Internal error." : status_text(st, error));
}

/* A name argument: a string without NULs. */
static const char *name_arg(const struct msieve_command *cmd, size_t i)
{
	const struct msieve_token *t = &cmd->tokens[i];

	if (i >= cmd->count || !is_string(t) || strlen(t->data) != t->len)
		return NULL;
	return t->data;
}

/* The script of token i: malloc'ed in *data_r, length *len_r; or false. */
static bool script_arg(struct managesieve_session *s, const struct msieve_command *cmd, size_t i,
                       char **data_r, size_t *len_r)
{
	const struct msieve_token *t = &cmd->tokens[i];

	if (i >= cmd->count || t->type != MSIEVE_STRING)
		return false;
	if (t->streamed) {
		*data_r = msieve_session_streamed(s, len_r);
		return *data_r != NULL;
	}
	*data_r = xstrndup(t->data, t->len);
	*len_r = t->len;
	return true;
}

/* Compile: true, or false after NO "line:col: message". */
static bool compile_ok(struct managesieve_session *s, const char *data, size_t len)
{
	struct sieve_limits limits = sieve_limits_default();
	struct sieve_script *script = NULL;
	struct sieve_error err;
	char text[300];

	limits.max_script_size = managesieve_settings(s->server->settings)->max_script_size;
	if (sieve_compile(data, len, &limits, &script, &err) == 0) {
		sieve_script_free(&script);
		return true;
	}
	snprintf(text, sizeof(text), "%u:%u: %s", err.line, err.column, err.message);
	msieve_reply(s, "NO", NULL, text);
	return false;
}

/* ---- commands of the authenticated state ---- */

static void cmd_listscripts(struct managesieve_session *s, const struct msieve_command *cmd)
{
	char **names, *active;
	size_t count;
	const char *error = NULL;
	enum msieve_status st;
	struct buf b = BUF_INIT;

	(void)cmd;
	st = msieve_store_list(s->dir, &names, &count, &active, &error);
	if (st != MSIEVE_OK) {
		reply_status(s, "list", st, error);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		msieve_append_string(&b, names[i], strlen(names[i]));
		if (active != NULL && strcmp(active, names[i]) == 0)
			buf_append_str(&b, " ACTIVE");
		buf_append_str(&b, "\r\n");
	}
	buf_append_str(&b, "OK \"Listscripts completed.\"\r\n");
	msieve_write(s, b.data, b.len);
	buf_free(&b);
	msieve_names_free(names, count);
	free(active);
}

static void cmd_getscript(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const char *name = name_arg(cmd, 1), *error = NULL;
	char *data;
	size_t len;
	enum msieve_status st;
	struct buf b = BUF_INIT;

	if (cmd->count != 2 || name == NULL) {
		msieve_reply_bad(s, "Usage: GETSCRIPT \"name\"");
		return;
	}
	st = msieve_store_get(s->dir, name, &data, &len, &error);
	if (st != MSIEVE_OK) {
		reply_status(s, "get", st, error);
		return;
	}
	buf_printf(&b, "{%zu}\r\n", len);
	buf_append(&b, data, len);
	buf_append_str(&b, "\r\nOK \"Getscript completed.\"\r\n");
	msieve_write(s, b.data, b.len);
	buf_free(&b);
	free(data);
}

static void cmd_putscript(struct managesieve_session *s, const struct msieve_command *cmd,
                          bool check_only)
{
	struct msieve_quota quota = managesieve_quota(s->server->settings);
	const char *name = check_only ? "" : name_arg(cmd, 1), *error = NULL;
	char *data = NULL;
	size_t len = 0;
	enum msieve_status st;

	if (cmd->count != (check_only ? 2u : 3u) || name == NULL ||
	    !script_arg(s, cmd, check_only ? 1 : 2, &data, &len)) {
		msieve_reply_bad(s, check_only ? "Usage: CHECKSCRIPT script"
		                               : "Usage: PUTSCRIPT \"name\" script");
		return;
	}
	if (!check_only && !msieve_name_valid(name, strlen(name)))
		reply_status(s, "put", MSIEVE_BADNAME, NULL);
	else if (quota.max_size > 0 && len > quota.max_size)
		reply_status(s, "put", MSIEVE_MAXSIZE, NULL);
	else if (!compile_ok(s, data, len))
		; /* NO sent, nothing stored */
	else if (check_only)
		msieve_reply(s, "OK", NULL, "Script is valid.");
	else {
		st = msieve_store_put(s->dir, name, data, len, &quota, &error);
		if (st == MSIEVE_OK)
			log_info(s->sid, "event=managesieve.putscript size=%zu", len);
		reply_status(s, "put", st, error);
	}
	free(data);
}

static void cmd_setactive(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const char *name = name_arg(cmd, 1), *error = NULL;

	if (cmd->count != 2 || name == NULL) {
		msieve_reply_bad(s, "Usage: SETACTIVE \"name\"");
		return;
	}
	reply_status(s, "setactive", msieve_store_setactive(s->dir, name, &error), error);
}

static void cmd_deletescript(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const char *name = name_arg(cmd, 1), *error = NULL;

	if (cmd->count != 2 || name == NULL) {
		msieve_reply_bad(s, "Usage: DELETESCRIPT \"name\"");
		return;
	}
	reply_status(s, "delete", msieve_store_delete(s->dir, name, &error), error);
}

static void cmd_renamescript(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const char *from = name_arg(cmd, 1), *to = name_arg(cmd, 2), *error = NULL;

	if (cmd->count != 3 || from == NULL || to == NULL) {
		msieve_reply_bad(s, "Usage: RENAMESCRIPT \"old\" \"new\"");
		return;
	}
	reply_status(s, "rename", msieve_store_rename(s->dir, from, to, &error), error);
}

static void cmd_havespace(struct managesieve_session *s, const struct msieve_command *cmd)
{
	struct msieve_quota quota = managesieve_quota(s->server->settings);
	const char *name = name_arg(cmd, 1), *error = NULL;
	char *end;
	unsigned long long size;

	if (cmd->count != 3 || name == NULL || cmd->tokens[2].type != MSIEVE_ATOM) {
		msieve_reply_bad(s, "Usage: HAVESPACE \"name\" size");
		return;
	}
	size = strtoull(cmd->tokens[2].data, &end, 10);
	if (*end != '\0' || cmd->tokens[2].data[0] < '0' || cmd->tokens[2].data[0] > '9') {
		msieve_reply_bad(s, "Invalid size.");
		return;
	}
	reply_status(s, "havespace", msieve_store_havespace(s->dir, name, size, &quota, &error),
	             error);
}

/* ---- any state ---- */

static void cmd_capability(struct managesieve_session *s)
{
	struct buf b = BUF_INIT;

	msieve_capability(s, &b);
	buf_append_str(&b, "OK \"Capability completed.\"\r\n");
	msieve_write(s, b.data, b.len);
	buf_free(&b);
}

static void cmd_starttls(struct managesieve_session *s)
{
	if (conn_is_tls(s->conn) || s->server->tls == NULL) {
		msieve_reply_bad(s, "TLS is not available.");
		return;
	}
	msieve_reply(s, "OK", NULL, "Begin TLS negotiation now.");
	if (conn_starttls(s->conn) < 0) {
		msieve_session_close(s, "TLS failed.");
		return;
	}
	log_info(s->sid, "event=managesieve.starttls");
}

static void cmd_noop(struct managesieve_session *s, const struct msieve_command *cmd)
{
	struct buf b = BUF_INIT;

	if (cmd->count > 2 || (cmd->count == 2 && !is_string(&cmd->tokens[1]))) {
		msieve_reply_bad(s, "Usage: NOOP [tag]");
		return;
	}
	buf_append_str(&b, "OK ");
	if (cmd->count == 2) {
		buf_append_str(&b, "(TAG ");
		msieve_append_string(&b, cmd->tokens[1].data, cmd->tokens[1].len);
		buf_append_str(&b, ") ");
	}
	buf_append_str(&b, "\"Done.\"\r\n");
	msieve_write(s, b.data, b.len);
	buf_free(&b);
}

static bool dispatch_any(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const struct msieve_token *c = &cmd->tokens[0];

	if (msieve_token_is(c, "CAPABILITY") && cmd->count == 1)
		cmd_capability(s);
	else if (msieve_token_is(c, "NOOP"))
		cmd_noop(s, cmd);
	else if (msieve_token_is(c, "LOGOUT")) {
		msieve_reply(s, "OK", NULL, "Logout completed.");
		s->state = MSIEVE_STATE_CLOSING;
		conn_close(s->conn);
	} else
		return false;
	return true;
}

static bool dispatch_nonauth(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const struct msieve_token *c = &cmd->tokens[0];

	if (msieve_token_is(c, "STARTTLS") && cmd->count == 1)
		cmd_starttls(s);
	else if (msieve_token_is(c, "AUTHENTICATE"))
		cmd_authenticate(s, cmd);
	else
		return false;
	return true;
}

static bool dispatch_auth(struct managesieve_session *s, const struct msieve_command *cmd)
{
	const struct msieve_token *c = &cmd->tokens[0];

	if (msieve_token_is(c, "LISTSCRIPTS") && cmd->count == 1)
		cmd_listscripts(s, cmd);
	else if (msieve_token_is(c, "GETSCRIPT"))
		cmd_getscript(s, cmd);
	else if (msieve_token_is(c, "PUTSCRIPT"))
		cmd_putscript(s, cmd, false);
	else if (msieve_token_is(c, "CHECKSCRIPT"))
		cmd_putscript(s, cmd, true);
	else if (msieve_token_is(c, "SETACTIVE"))
		cmd_setactive(s, cmd);
	else if (msieve_token_is(c, "DELETESCRIPT"))
		cmd_deletescript(s, cmd);
	else if (msieve_token_is(c, "RENAMESCRIPT"))
		cmd_renamescript(s, cmd);
	else if (msieve_token_is(c, "HAVESPACE"))
		cmd_havespace(s, cmd);
	else if (msieve_token_is(c, "UNAUTHENTICATE") && cmd->count == 1) {
		const struct tern_settings *set = s->server->settings;
		struct timeval tv = {set->limits.session_timeout, 0};

		msieve_session_logout_user(s);
		s->state = MSIEVE_STATE_NONAUTH;
		s->errors = 0;
		/* the limits of a session before login again */
		conn_set_idle_timeout(s->conn, set->limits.login_timeout);
		if (set->limits.session_timeout > 0)
			evtimer_add(s->session_timer, &tv);
		msieve_reply(s, "OK", NULL, "Unauthenticated.");
	} else
		return false;
	return true;
}

void msieve_command_dispatch(struct managesieve_session *s, const struct msieve_command *cmd)
{
	if (cmd->count == 0)
		return; /* an empty line */
	if (cmd->tokens[0].type != MSIEVE_ATOM) {
		msieve_reply_bad(s, "Expected a command.");
		return;
	}
	if (dispatch_any(s, cmd))
		return;
	if (s->state == MSIEVE_STATE_NONAUTH ? dispatch_nonauth(s, cmd) : dispatch_auth(s, cmd))
		return;
	msieve_reply_bad(s, "Unknown command or not valid in this state.");
}
