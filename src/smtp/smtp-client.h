#ifndef TERN_SMTP_SMTP_CLIENT_H
#define TERN_SMTP_SMTP_CLIENT_H

/*
 * The SMTP client protocol engine (RFC 5321, 3207, 4954, 1870, 2920, 3461,
 * 6152, 6531): I/O-free, so scripted server transcripts drive it in unit
 * tests and every transport (the queue's MX delivery, a smarthost, a
 * proxy) shares it. The caller owns the connection:
 *
 *   c = smtp_client_new(&config);
 *   loop:
 *     send what smtp_client_output() holds, then smtp_client_output_done();
 *     switch (smtp_client_want(c)):
 *       REPLY: feed the server's bytes with smtp_client_feed();
 *       TLS:   start the TLS handshake, then smtp_client_tls_started();
 *       BODY:  stream the message with smtp_client_body() (dot-stuffed
 *              here), then smtp_client_body_end();
 *       READY: the session is up and idle: smtp_client_start() a
 *              transaction, or smtp_client_quit();
 *       CLOSE: close the connection (after sending the output).
 *
 * Results: per recipient of a transaction (smtp_client_txn.results) and,
 * for a session-level failure (greeting, EHLO, STARTTLS required, a
 * malformed reply, the peer lacking something the message needs),
 * smtp_client_failure().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "queue/spool-envelope.h"
#include "smtp/smtp-client-reply.h"

/* What the server offered in its EHLO reply. */
struct smtp_client_ext {
	bool esmtp; /* EHLO worked (HELO fallback: everything false) */
	bool size;
	uint64_t size_max; /* SIZE's parameter; 0: no limit given */
	bool pipelining, eightbitmime, binarymime, chunking, smtputf8, dsn, starttls, requiretls;
	bool auth_plain, auth_login;
};

/* Timeouts in seconds (RFC 5321 4.5.3.2); zeros take the RFC's values. */
struct smtp_client_timeouts {
	unsigned greeting;  /* 5 min */
	unsigned command;   /* MAIL, RCPT, EHLO, ...: 5 min */
	unsigned data_init; /* the 354: 2 min */
	unsigned data_end;  /* the reply to the final dot: 10 min */
};

struct smtp_client_config {
	const char *helo;      /* our EHLO name */
	bool tls_possible;     /* the caller can start TLS: STARTTLS when offered */
	bool tls_required;     /* no STARTTLS offered (or it failed): failure 4.7.0 */
	bool tls_active;       /* TLS is on already (implicit TLS) */
	const char *auth_user; /* AUTH PLAIN/LOGIN after EHLO, only over TLS; NULL: none */
	const char *auth_pass;
	struct smtp_client_timeouts timeouts;
};

/* One recipient's outcome: the server's reply to its RCPT, or to DATA's
   final dot once RCPT was accepted. code 0: not tried. */
struct smtp_client_result {
	unsigned code;
	char enhanced[16];
	char *text; /* single line, malloc'ed */
};

struct smtp_client_rcpt {
	const char *address;
	unsigned notify; /* enum spool_notify bits */
	const char *orcpt_type, *orcpt;
};

/* One mail transaction, filled by the caller (strings stay the caller's
   until the transaction ends). */
struct smtp_client_txn {
	const char *sender; /* "" for <> */
	uint64_t size;      /* bytes of the message, for SIZE= */
	enum spool_body body;
	bool smtputf8;
	enum spool_ret ret;
	const char *envid;
	/* RFC 8689 2: the message carries REQUIRETLS; sent as a MAIL FROM
	   parameter when the peer offers the extension (the caller decides
	   beforehand whether the session may carry it at all) */
	bool requiretls;
	ARRAY(struct smtp_client_rcpt) rcpts;
	ARRAY(struct smtp_client_result) results; /* set by the engine, one per rcpt */
	unsigned accepted;                        /* RCPTs the server accepted */
};

enum smtp_client_want {
	SMTP_CLIENT_WANT_REPLY,
	SMTP_CLIENT_WANT_TLS,
	SMTP_CLIENT_WANT_BODY,
	SMTP_CLIENT_WANT_READY,
	SMTP_CLIENT_WANT_CLOSE,
};

struct smtp_client;

/* A new engine (config's strings must outlive it); it waits for the
   greeting. Never NULL. */
struct smtp_client *smtp_client_new(const struct smtp_client_config *config);
/* Free and set *c NULL; NULL is fine. */
void smtp_client_free(struct smtp_client **c);

enum smtp_client_want smtp_client_want(const struct smtp_client *c);
/* Bytes to send now (commands); the caller sends them and calls
   smtp_client_output_done(). */
struct buf *smtp_client_output(struct smtp_client *c);
void smtp_client_output_done(struct smtp_client *c);
/* Seconds the current wait for a reply may take (the caller's timer;
   expiry is a temporary failure of the session: smtp_client_timeout()). */
unsigned smtp_client_reply_timeout(const struct smtp_client *c);

/* Feed server bytes (any chunking). Replies are acted on as they
   complete; stops early when the engine no longer wants replies (the
   rest is kept for later). */
void smtp_client_feed(struct smtp_client *c, const void *data, size_t len);
/* The TLS handshake the engine asked for is done: EHLO again. */
void smtp_client_tls_started(struct smtp_client *c);
/* The connection failed or a timeout ran out (reason for the failure
   text): a temporary failure of the session (and of the transaction's
   recipients without a result). */
void smtp_client_connection_lost(struct smtp_client *c, const char *reason);

/* The extensions of the last EHLO. */
const struct smtp_client_ext *smtp_client_ext(const struct smtp_client *c);
/* Whether TLS was started (or was active from the start). */
bool smtp_client_tls(const struct smtp_client *c);
/* The session-level failure, or NULL while there is none. */
const struct smtp_client_result *smtp_client_failure(const struct smtp_client *c);
/* Whether the peer accepted MAIL FROM of the last transaction started
   (false before any, and after a refusal or a loss before its reply). */
bool smtp_client_mail_accepted(const struct smtp_client *c);
/* Whether the whole message went out (the final dot, or the last BDAT
   chunk) and its reply is due: cutting the session now may deliver it
   without our knowing (RFC 1047), so a stopping client waits for it. */
bool smtp_client_awaiting_data_reply(const struct smtp_client *c);

/* Start a transaction (want READY only). Checks first what the message
   needs against what the peer offered: a SIZE the peer refuses (5.3.4),
   SMTPUTF8 (5.6.7), BINARYMIME without BINARYMIME+CHUNKING (5.6.3,
   docs/queue.md); then returns -1 with *result_r set (the session stays
   READY) and nothing is sent. Otherwise 0: MAIL, RCPTs (and DATA, when
   pipelining) are written, and the engine wants REPLY, then BODY, then
   READY again with txn->results filled. txn must live until then. */
int smtp_client_start(struct smtp_client *c, struct smtp_client_txn *txn,
                      struct smtp_client_result *result_r);
/* Stream message bytes (want BODY): dot-stuffed into the output. */
void smtp_client_body(struct smtp_client *c, const void *data, size_t len);
/* The message is complete: the final dot; then the engine wants REPLY. */
void smtp_client_body_end(struct smtp_client *c);
/* End the session: QUIT, then CLOSE. */
void smtp_client_quit(struct smtp_client *c);

/* Transaction helpers. */
void smtp_client_txn_add_rcpt(struct smtp_client_txn *txn, const char *address, unsigned notify,
                              const char *orcpt_type, const char *orcpt);
void smtp_client_txn_clear(struct smtp_client_txn *txn);
void smtp_client_result_set(struct smtp_client_result *r, unsigned code, const char *enhanced,
                            const char *text);
void smtp_client_result_clear(struct smtp_client_result *r);

/* Dot-stuffing (RFC 5321 4.5.2) as a stream: at_line_start starts true. */
struct smtp_dot_stuffer {
	bool at_line_start;
};
void smtp_dot_stuff(struct smtp_dot_stuffer *st, const void *data, size_t len, struct buf *out);
/* The end of data: CR LF if the data did not end with a line end, then
   ".\r\n". */
void smtp_dot_end(struct smtp_dot_stuffer *st, struct buf *out);

#endif
