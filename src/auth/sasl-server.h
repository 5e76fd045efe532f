#ifndef TERN_AUTH_SASL_SERVER_H
#define TERN_AUTH_SASL_SERVER_H

/*
 * The server side of a SASL exchange, one I/O-free state machine per
 * mechanism: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677, channel
 * bindings tls-exporter of RFC 9266 and tls-server-end-point of RFC 5929).
 *
 * The session decodes the client's base64 and feeds the bytes in; each call
 * fills a struct sasl_result telling what to do next:
 *
 *   CHALLENGE      send data (raw bytes: the session base64-encodes them)
 *                  and feed the client's next response to sasl_server_step()
 *   NEED_PASSWORD  check user/password (auth_login()), then call
 *                  sasl_server_password_checked()
 *   NEED_KEYS      look up user's SCRAM keys, then call sasl_server_keys()
 *   DONE           authenticated as user (as the client sent it)
 *   FAILED         error says why; the exchange is over
 *
 * Nothing here waits, reads a socket or logs. Pointers in a result are
 * valid until the next call on the same server or its free. Passwords are
 * wiped when no longer needed.
 */

#include <stdbool.h>
#include <stddef.h>

#include "directory/scram-keys.h"

/* The longest client response a mechanism accepts, decoded. */
#define SASL_RESPONSE_MAX 4096
/* The bytes of tls-exporter channel binding data (RFC 9266 section 2). */
#define SASL_CB_EXPORTER_LEN 32
/* The most bytes of tls-server-end-point data (a SHA-512 hash). */
#define SASL_CB_END_POINT_MAX 64

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_SCRAM_SHA_256,
	SASL_MECH_SCRAM_SHA_256_PLUS,
	SASL_MECH_COUNT
};

/* The channel binding data of the connection, filled by the session (see
   auth/sasl-cbind.h). A zeroed struct: not TLS, no binding. */
struct sasl_channel_binding {
	bool tls; /* the connection is TLS */
	bool has_exporter;
	unsigned char exporter[SASL_CB_EXPORTER_LEN];   /* tls-exporter, TLS 1.3 */
	size_t end_point_len;                           /* 0: none */
	unsigned char end_point[SASL_CB_END_POINT_MAX]; /* tls-server-end-point */
};

enum sasl_status {
	SASL_STATUS_CHALLENGE,
	SASL_STATUS_NEED_PASSWORD,
	SASL_STATUS_NEED_KEYS,
	SASL_STATUS_DONE,
	SASL_STATUS_FAILED,
};

enum sasl_error {
	SASL_ERR_NONE,
	SASL_ERR_MALFORMED,       /* a response that breaks the mechanism's syntax */
	SASL_ERR_AUTHZ,           /* an authorization identity other than the user */
	SASL_ERR_CHANNEL_BINDING, /* binding missing, of an unsupported type,
	                             downgraded (RFC 5802 section 6) or different */
	SASL_ERR_CREDENTIALS,     /* wrong password or proof, unknown user, no keys */
};

struct sasl_result {
	enum sasl_status status;
	const unsigned char *data; /* CHALLENGE: the bytes to send */
	size_t len;
	const char *user;      /* NEED_PASSWORD, NEED_KEYS, DONE: the authcid */
	const char *password;  /* NEED_PASSWORD */
	enum sasl_error error; /* FAILED */
	const char *reason;    /* FAILED: static text for the log (never the client's) */
};

/* "PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS". */
const char *sasl_mech_name(enum sasl_mech mech);

/* The mechanism named name (ASCII case-insensitive): 0 with *mech_r, -1 if
   unknown. */
int sasl_mech_lookup(const char *name, enum sasl_mech *mech_r);

/* True for the mechanisms that send the password itself (PLAIN, LOGIN):
   refused without TLS unless the settings allow it. */
bool sasl_mech_is_plaintext(enum sasl_mech mech);

/* True if cb holds data of a binding type the PLUS mechanism can use, i.e.
   SCRAM-SHA-256-PLUS may be advertised. */
bool sasl_channel_binding_usable(const struct sasl_channel_binding *cb);

struct sasl_server;

/* A new exchange of mech; cb (copied; NULL: no TLS) is the connection's
   channel binding. Never returns NULL. */
struct sasl_server *sasl_server_new(enum sasl_mech mech, const struct sasl_channel_binding *cb);

/* Wipe and free; NULL is fine; sets *s to NULL. */
void sasl_server_free(struct sasl_server **s);

/* The client sent no initial response: the first challenge (empty for
   PLAIN and SCRAM, "Username:" for LOGIN). Call once, first, or not at
   all (then the first sasl_server_step() gets the initial response). */
void sasl_server_start(struct sasl_server *s, struct sasl_result *r);

/* Feed one client response (decoded; len 0 for an empty one). */
void sasl_server_step(struct sasl_server *s, const unsigned char *in, size_t len,
                      struct sasl_result *r);

/* The answer to NEED_PASSWORD: ok if the password is right and the
   account may log in. DONE or FAILED (CREDENTIALS). */
void sasl_server_password_checked(struct sasl_server *s, bool ok, struct sasl_result *r);

/* The answer to NEED_KEYS: the user's keys, or NULL when there are none
   (unknown user, disabled, imported hash only). Without keys the exchange
   goes on with a salt derived from the user name and fails at the proof,
   as a wrong password does (no oracle for which users exist). Gives the
   server-first CHALLENGE. */
void sasl_server_keys(struct sasl_server *s, const struct scram_keys *keys, struct sasl_result *r);

/* Tests only: use nonce (printable, no ',') as the server's part of the
   SCRAM nonce instead of random bytes. Call before the first step. */
void sasl_server_set_nonce(struct sasl_server *s, const char *nonce);

#endif
