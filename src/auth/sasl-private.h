#ifndef TERN_AUTH_SASL_PRIVATE_H
#define TERN_AUTH_SASL_PRIVATE_H

/* What sasl-server.c (PLAIN, LOGIN, the dispatch) and sasl-scram.c share. */

#include "auth/sasl-server.h"
#include "lib/buf.h"

enum sasl_state {
	SASL_STATE_START,         /* nothing yet: the initial response or start() */
	SASL_STATE_FIRST,         /* start() sent the empty challenge */
	SASL_STATE_LOGIN_USER,    /* LOGIN: "Username:" sent */
	SASL_STATE_LOGIN_PASS,    /* LOGIN: "Password:" sent */
	SASL_STATE_CHECKING,      /* NEED_PASSWORD given */
	SASL_STATE_SCRAM_KEYS,    /* NEED_KEYS given */
	SASL_STATE_SCRAM_FINAL,   /* server-first sent */
	SASL_STATE_SCRAM_OUTCOME, /* server-final sent */
	SASL_STATE_OVER,          /* DONE or FAILED */
};

struct sasl_server {
	enum sasl_mech mech;
	enum sasl_state state;
	struct sasl_channel_binding cb;
	char *user;     /* the authcid (decoded saslname for SCRAM) */
	char *password; /* PLAIN and LOGIN, until checked */
	char *fixed_nonce;
	/* SCRAM */
	struct buf gs2_header;   /* "n,,", "p=tls-exporter,a=x," ... */
	struct buf client_first; /* client-first-message-bare */
	struct buf server_first;
	struct buf auth_message;
	char *nonce; /* client nonce + server nonce */
	struct scram_keys keys;
	bool have_keys;
	int cb_type; /* 0 none, 1 tls-exporter, 2 tls-server-end-point */
	char *server_final;
};

/* Fill r with FAILED (and wipe the password); the exchange is over. */
void sasl_fail(struct sasl_server *s, struct sasl_result *r, enum sasl_error error,
               const char *reason);
/* Fill r with a CHALLENGE of data (which must live until the next call). */
void sasl_challenge(struct sasl_server *s, struct sasl_result *r, const void *data, size_t len);

/* SCRAM steps (sasl-scram.c). */
void sasl_scram_client_first(struct sasl_server *s, const unsigned char *in, size_t len,
                             struct sasl_result *r);
void sasl_scram_client_final(struct sasl_server *s, const unsigned char *in, size_t len,
                             struct sasl_result *r);
/* Wipe and free the SCRAM state. */
void sasl_scram_clear(struct sasl_server *s);

#endif
