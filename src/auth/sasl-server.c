/* The SASL server state machines (sasl-server.h): PLAIN and LOGIN here, the
   SCRAM messages in sasl-scram.c. */
#include "auth/sasl-server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/sasl-private.h"
#include "auth/sasl.h"
#include "lib/xalloc.h"

static const char *const mech_names[SASL_MECH_COUNT] = {
    [SASL_MECH_PLAIN] = "PLAIN",
    [SASL_MECH_LOGIN] = "LOGIN",
    [SASL_MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
    [SASL_MECH_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
};

const char *sasl_mech_name(enum sasl_mech mech)
{
	return mech_names[mech];
}

int sasl_mech_lookup(const char *name, enum sasl_mech *mech_r)
{
	for (int i = 0; i < SASL_MECH_COUNT; i++) {
		if (strcasecmp(name, mech_names[i]) == 0) {
			*mech_r = (enum sasl_mech)i;
			return 0;
		}
	}
	return -1;
}

bool sasl_mech_is_plaintext(enum sasl_mech mech)
{
	return mech == SASL_MECH_PLAIN || mech == SASL_MECH_LOGIN;
}

bool sasl_channel_binding_usable(const struct sasl_channel_binding *cb)
{
	return cb != NULL && cb->tls && (cb->has_exporter || cb->end_point_len > 0);
}

struct sasl_server *sasl_server_new(enum sasl_mech mech, const struct sasl_channel_binding *cb)
{
	struct sasl_server *s = xcalloc(1, sizeof(*s));

	s->mech = mech;
	if (cb != NULL)
		s->cb = *cb;
	return s;
}

void sasl_server_free(struct sasl_server **sp)
{
	struct sasl_server *s;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	*sp = NULL;
	sasl_secret_free(&s->user);
	sasl_secret_free(&s->password);
	sasl_scram_clear(s);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

void sasl_fail(struct sasl_server *s, struct sasl_result *r, enum sasl_error error,
               const char *reason)
{
	s->state = SASL_STATE_OVER;
	sasl_secret_free(&s->password);
	*r = (struct sasl_result){
	    .status = SASL_STATUS_FAILED, .error = error, .reason = reason, .user = s->user};
}

void sasl_challenge(struct sasl_server *s, struct sasl_result *r, const void *data, size_t len)
{
	*r = (struct sasl_result){
	    .status = SASL_STATUS_CHALLENGE, .data = data, .len = len, .user = s->user};
}

static void need_password(struct sasl_server *s, struct sasl_result *r)
{
	s->state = SASL_STATE_CHECKING;
	*r = (struct sasl_result){
	    .status = SASL_STATUS_NEED_PASSWORD, .user = s->user, .password = s->password};
}

void sasl_server_start(struct sasl_server *s, struct sasl_result *r)
{
	if (s->state != SASL_STATE_START) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "start after the first response");
		return;
	}
	s->state = SASL_STATE_FIRST;
	if (s->mech == SASL_MECH_LOGIN) {
		s->state = SASL_STATE_LOGIN_USER;
		sasl_challenge(s, r, "Username:", 9);
		return;
	}
	sasl_challenge(s, r, "", 0);
}

static void plain_step(struct sasl_server *s, const unsigned char *in, size_t len,
                       struct sasl_result *r)
{
	char *authzid = NULL;
	const char *error;

	if (sasl_plain_parse(in, len, &authzid, &s->user, &s->password, &error) < 0) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, error);
		return;
	}
	/* acting as another user is not supported (RFC 4616 section 2) */
	if (authzid != NULL && strcmp(authzid, s->user) != 0) {
		sasl_secret_free(&authzid);
		sasl_fail(s, r, SASL_ERR_AUTHZ, "authorization identity is not the user");
		return;
	}
	sasl_secret_free(&authzid);
	need_password(s, r);
}

static void login_step(struct sasl_server *s, const unsigned char *in, size_t len,
                       struct sasl_result *r)
{
	char **field = s->state == SASL_STATE_LOGIN_PASS ? &s->password : &s->user;
	const char *error;

	if (sasl_login_field_parse(in, len, field, &error) < 0) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, error);
		return;
	}
	if (s->state == SASL_STATE_LOGIN_PASS) {
		need_password(s, r);
		return;
	}
	/* the username, after "Username:" or as the initial response */
	s->state = SASL_STATE_LOGIN_PASS;
	sasl_challenge(s, r, "Password:", 9);
}

void sasl_server_step(struct sasl_server *s, const unsigned char *in, size_t len,
                      struct sasl_result *r)
{
	if (len > SASL_RESPONSE_MAX) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "response too long");
		return;
	}
	switch (s->state) {
	case SASL_STATE_START:
	case SASL_STATE_FIRST:
	case SASL_STATE_LOGIN_USER:
	case SASL_STATE_LOGIN_PASS:
		if (s->mech == SASL_MECH_PLAIN)
			plain_step(s, in, len, r);
		else if (s->mech == SASL_MECH_LOGIN)
			login_step(s, in, len, r);
		else
			sasl_scram_client_first(s, in, len, r);
		return;
	case SASL_STATE_SCRAM_FINAL:
		sasl_scram_client_final(s, in, len, r);
		return;
	case SASL_STATE_SCRAM_OUTCOME:
		/* RFC 5802 section 5: the client acknowledges server-final with an
		   empty response */
		if (len != 0) {
			sasl_fail(s, r, SASL_ERR_MALFORMED,
			          "data after the server's final message");
			return;
		}
		s->state = SASL_STATE_OVER;
		*r = (struct sasl_result){.status = SASL_STATUS_DONE, .user = s->user};
		return;
	default:
		sasl_fail(s, r, SASL_ERR_MALFORMED, "response out of turn");
		return;
	}
}

void sasl_server_password_checked(struct sasl_server *s, bool ok, struct sasl_result *r)
{
	if (s->state != SASL_STATE_CHECKING) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "no password check pending");
		return;
	}
	sasl_secret_free(&s->password);
	if (!ok) {
		sasl_fail(s, r, SASL_ERR_CREDENTIALS, "wrong credentials");
		return;
	}
	s->state = SASL_STATE_OVER;
	*r = (struct sasl_result){.status = SASL_STATUS_DONE, .user = s->user};
}

void sasl_server_set_nonce(struct sasl_server *s, const char *nonce)
{
	free(s->fixed_nonce);
	s->fixed_nonce = xstrdup(nonce);
}
