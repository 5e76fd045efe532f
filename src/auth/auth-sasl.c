/* One SASL exchange over the mechanism, the login and the delay
   (auth-sasl.h). An exchange freed while a check or lookup runs is
   orphaned: the pending callback frees it. */
#include "auth/auth-sasl.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "auth/sasl.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct auth_sasl {
	struct auth *auth;
	struct sasl_server *mech;
	enum sasl_mech mech_id;
	struct event_base *base;
	char *service, *peer, *sid;
	auth_sasl_cb *cb;
	void *ctx;
	struct event *delay;
	enum sasl_error delayed_error;
	char *stored_user; /* the directory's address once known */
	bool pending;      /* a login or lookup runs */
	bool orphan;       /* freed by the session while pending */
	bool wants_input;
	bool over;
};

struct auth_sasl *auth_sasl_new(struct auth *auth, enum sasl_mech mech,
                                const struct auth_sasl_info *info, auth_sasl_cb *cb, void *ctx)
{
	struct auth_sasl *a = xcalloc(1, sizeof(*a));

	a->auth = auth;
	a->mech_id = mech;
	a->mech = sasl_server_new(mech, info->cb);
	a->base = info->base;
	a->service = xstrdup(info->service != NULL ? info->service : "-");
	a->peer = xstrdup(info->peer != NULL ? info->peer : "-");
	a->sid = info->sid != NULL ? xstrdup(info->sid) : NULL;
	a->cb = cb;
	a->ctx = ctx;
	return a;
}

static void destroy(struct auth_sasl *a)
{
	if (a->delay != NULL)
		event_free(a->delay);
	sasl_server_free(&a->mech);
	free(a->service);
	free(a->peer);
	free(a->sid);
	free(a->stored_user);
	free(a);
}

void auth_sasl_free(struct auth_sasl **ap)
{
	struct auth_sasl *a;

	if (ap == NULL || *ap == NULL)
		return;
	a = *ap;
	*ap = NULL;
	if (a->pending)
		a->orphan = true;
	else
		destroy(a);
}

bool auth_sasl_wants_input(const struct auth_sasl *a)
{
	return a->wants_input;
}

/* Hand an event to the session: the last use of a in this call chain for
   a final event (the session may free a in its callback). */
static void emit(struct auth_sasl *a, const struct auth_sasl_reply *r)
{
	a->wants_input = r->event == AUTH_SASL_CHALLENGE;
	a->over = r->event != AUTH_SASL_CHALLENGE;
	a->cb(a->ctx, r);
}

static void log_failure(struct auth_sasl *a, const char *user, const char *reason)
{
	char *u = user != NULL ? log_value(user, strlen(user), 256) : xstrdup("-");

	log_info(a->sid,
	         "event=auth.failed service=%s ip=%s user=%s mech=%s reason=\"%s\" failures=%u",
	         a->service, a->peer, u, sasl_mech_name(a->mech_id), reason,
	         auth_failures(a->auth, a->peer));
	free(u);
}

static void delay_done(evutil_socket_t fd, short what, void *arg)
{
	struct auth_sasl *a = arg;
	struct auth_sasl_reply r = {.event = AUTH_SASL_FAILED, .error = a->delayed_error};

	emit(a, &r);
}

/* A failure: counted and delayed unless it is a syntax error or a cancel
   (those reveal nothing and cost the attacker a round trip anyway). */
static void fail(struct auth_sasl *a, enum sasl_error error, const char *user, const char *reason)
{
	struct auth_sasl_reply r = {.event = AUTH_SASL_FAILED, .error = error};
	unsigned ms;
	struct timeval tv;

	if (error == SASL_ERR_MALFORMED || error == AUTH_SASL_CANCELLED || a->base == NULL) {
		log_failure(a, user, reason);
		emit(a, &r);
		return;
	}
	ms = auth_failure(a->auth, a->peer);
	log_failure(a, user, reason);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	a->delayed_error = error;
	a->wants_input = false;
	a->delay = evtimer_new(a->base, delay_done, a);
	evtimer_add(a->delay, &tv);
}

static void on_login(void *ctx, const struct auth_reply *reply);
static void on_keys(void *ctx, const struct auth_scram_reply *reply);

/* Act on what the mechanism said. */
static void handle(struct auth_sasl *a, struct sasl_result *res)
{
	struct auth_sasl_reply r = {0};
	char *b64;

	switch (res->status) {
	case SASL_STATUS_CHALLENGE:
		b64 = sasl_base64_encode(res->data, res->len);
		r.event = AUTH_SASL_CHALLENGE;
		r.challenge = b64;
		emit(a, &r);
		free(b64);
		return;
	case SASL_STATUS_NEED_PASSWORD: {
		struct auth_request req = {
		    .user = res->user,
		    .password = res->password,
		    .service = a->service,
		    .peer = a->peer,
		    .sid = a->sid,
		};

		a->pending = true;
		a->wants_input = false;
		auth_login(a->auth, &req, on_login, a);
		return;
	}
	case SASL_STATUS_NEED_KEYS:
		a->pending = true;
		a->wants_input = false;
		auth_scram_lookup(a->auth, res->user, on_keys, a);
		return;
	case SASL_STATUS_DONE:
		r.event = AUTH_SASL_OK;
		r.user = a->stored_user != NULL ? a->stored_user : res->user;
		log_info(a->sid, "event=auth.ok service=%s ip=%s user=%s mech=%s", a->service,
		         a->peer, r.user, sasl_mech_name(a->mech_id));
		emit(a, &r);
		return;
	case SASL_STATUS_FAILED:
		fail(a, res->error, res->user, res->reason);
		return;
	}
}

/* A pending callback came back: false if the session had let go. */
static bool resume(struct auth_sasl *a)
{
	a->pending = false;
	if (a->orphan) {
		destroy(a);
		return false;
	}
	return true;
}

static void on_login(void *ctx, const struct auth_reply *reply)
{
	struct auth_sasl *a = ctx;
	struct sasl_result res;

	if (!resume(a))
		return;
	if (reply->result == AUTH_RESULT_TEMPFAIL) {
		struct auth_sasl_reply r = {.event = AUTH_SASL_TEMPFAIL};

		emit(a, &r);
		return;
	}
	if (reply->result == AUTH_RESULT_OK)
		a->stored_user = xstrdup(reply->user);
	sasl_server_password_checked(a->mech, reply->result == AUTH_RESULT_OK, &res);
	if (res.status == SASL_STATUS_FAILED)
		res.reason = reply->reason != NULL ? reply->reason : res.reason;
	handle(a, &res);
}

static void on_keys(void *ctx, const struct auth_scram_reply *reply)
{
	struct auth_sasl *a = ctx;
	struct sasl_result res;

	if (!resume(a))
		return;
	if (reply->result == AUTH_RESULT_TEMPFAIL) {
		struct auth_sasl_reply r = {.event = AUTH_SASL_TEMPFAIL};

		emit(a, &r);
		return;
	}
	if (reply->user != NULL)
		a->stored_user = xstrdup(reply->user);
	else if (reply->reason != NULL)
		log_debug(a->sid, "event=auth.scram_no_keys reason=\"%s\"", reply->reason);
	sasl_server_keys(a->mech, reply->keys, &res);
	handle(a, &res);
}

/* Decode a base64 response ("=" is empty) and step the mechanism. */
static void feed(struct auth_sasl *a, const char *b64, size_t len)
{
	unsigned char *data = NULL;
	size_t dlen = 0;
	const char *error;
	struct sasl_result res;

	if (len == 1 && b64[0] == '=')
		len = 0;
	if (sasl_base64_decode(b64, len, SASL_RESPONSE_MAX, &data, &dlen, &error) < 0) {
		fail(a, SASL_ERR_MALFORMED, NULL, error);
		return;
	}
	sasl_server_step(a->mech, data, dlen, &res);
	sasl_bytes_free(&data, dlen);
	handle(a, &res);
}

void auth_sasl_start(struct auth_sasl *a, const char *ir)
{
	struct sasl_result res;

	if (ir != NULL) {
		feed(a, ir, strlen(ir));
		return;
	}
	sasl_server_start(a->mech, &res);
	handle(a, &res);
}

void auth_sasl_input(struct auth_sasl *a, const char *line, size_t len)
{
	if (!a->wants_input || a->over)
		return;
	a->wants_input = false;
	/* RFC 4954 section 4, RFC 9051 6.2.2: "*" cancels */
	if (len == 1 && line[0] == '*') {
		fail(a, AUTH_SASL_CANCELLED, NULL, "cancelled by the client");
		return;
	}
	feed(a, line, len);
}
