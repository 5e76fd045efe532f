#ifndef TERN_AUTH_AUTH_SASL_H
#define TERN_AUTH_AUTH_SASL_H

/*
 * One SASL exchange of a session, for every protocol (SMTP AUTH, IMAP
 * AUTHENTICATE, later POP3 and ManageSieve): the mechanism's state machine
 * (sasl-server.h) driven with the client's base64 lines, the password
 * check (auth_login()) and the SCRAM key lookup (auth_scram_lookup()) on
 * the workers, and the failure delay per IP (auth_failure()). The session
 * only reads lines and turns events into its protocol's replies:
 *
 *   CHALLENGE  send challenge (base64, maybe "") as a continuation
 *              (SMTP "334 ", IMAP "+ ") and pass the next line to
 *              auth_sasl_input()
 *   OK         authenticated: user is the stored address
 *   FAILED     error says why; for SASL_ERR_CREDENTIALS (and AUTHZ and
 *              CHANNEL_BINDING) after the growing delay of the client's
 *              IP; MALFORMED and CANCELLED at once
 *   TEMPFAIL   the directory failed: try later
 *
 * The callback may run inside auth_sasl_start()/auth_sasl_input() or later
 * on the loop thread. After OK, FAILED or TEMPFAIL the exchange is over:
 * the session frees it (in the callback or later). Failures are logged
 * here (session id, IP, user, mechanism, reason; never a password).
 */

#include "auth/auth.h"
#include "auth/sasl-server.h"

enum auth_sasl_event {
	AUTH_SASL_CHALLENGE,
	AUTH_SASL_OK,
	AUTH_SASL_FAILED,
	AUTH_SASL_TEMPFAIL,
};

/* FAILED kinds: those of sasl-server.h, plus the client's "*". */
#define AUTH_SASL_CANCELLED ((enum sasl_error)100)

struct auth_sasl_reply {
	enum auth_sasl_event event;
	const char *challenge; /* CHALLENGE: base64 text */
	const char *user;      /* OK */
	enum sasl_error error; /* FAILED */
};

typedef void auth_sasl_cb(void *ctx, const struct auth_sasl_reply *reply);

struct event_base;

struct auth_sasl_info {
	struct event_base *base;               /* for the failure delay's timer */
	const char *service;                   /* "smtp", "imap" for the log */
	const char *peer;                      /* the client's IP: the failure delay is per IP */
	const char *sid;                       /* NULL: none */
	const struct sasl_channel_binding *cb; /* NULL: not TLS */
};

struct auth_sasl;

/* A new exchange of mech; info's strings are copied. cb(ctx, ...) gets
   every event; ctx stays alive until the session frees the exchange.
   Never returns NULL. */
struct auth_sasl *auth_sasl_new(struct auth *auth, enum sasl_mech mech,
                                const struct auth_sasl_info *info, auth_sasl_cb *cb, void *ctx);

/* Begin: ir is the initial response as the client sent it (base64, "="
   for an empty one), NULL when there is none. */
void auth_sasl_start(struct auth_sasl *a, const char *ir);

/* The client's next line (base64, or "*" to cancel), without CRLF. */
void auth_sasl_input(struct auth_sasl *a, const char *line, size_t len);

/* True while the exchange waits for the client's next line. */
bool auth_sasl_wants_input(const struct auth_sasl *a);

/* End the exchange (NULL is fine; sets *a to NULL). Its callback does not
   run again; a password check or lookup still running finishes quietly. */
void auth_sasl_free(struct auth_sasl **a);

#endif
