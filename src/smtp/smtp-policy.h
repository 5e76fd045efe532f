#ifndef TERN_SMTP_SMTP_POLICY_H
#define TERN_SMTP_SMTP_POLICY_H

/*
 * What an SMTP session does with a transaction, apart from the protocol.
 *
 * The session (smtp-server.c and the smtp-cmd-*.c files) keeps the protocol
 * state and the command table: syntax, command order, limits, the DATA
 * decoder and the spool file of the body. What to do at MAIL, at RCPT and
 * at the end of DATA (directory lookups, relay rules, mail authentication,
 * later SASL, milters, Sieve, quotas, the queue) is asked of a policy
 * through the ops below. Each service wires up one policy: port 25 the
 * inbound one (smtp-policy-inbound.h), LMTP its own (smtp-policy-lmtp.h);
 * submission will be one more on the same library.
 *
 * Stages. mail, rcpt and data_end are stages: the policy answers each with
 * smtp_stage_reply(), either before the op returns (synchronous) or later
 * from the event loop thread (pending: a directory lookup on the worker
 * pool, DNS, a milter). While a stage is pending the session reads no
 * command, so pipelined commands are answered in order (RFC 2920). A
 * pending stage must always be answered, even when the client has gone
 * away meanwhile (the session then only counts the reply and frees itself
 * afterwards): the session and everything it handed the policy stay valid
 * until that reply. smtp_stage_reply() must not be called outside a stage.
 *
 * The session calls these on the event loop thread only. ctx is what
 * session_begin stored; the ops other than session_begin may be NULL
 * (mail and rcpt then accept with 250, data_end refuses with 451).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/settings.h"
#include "smtp/smtp-command.h"

struct smtp_session;
struct delivery;
struct smtp_milter_rcpts;

/* The message at the end of DATA, valid until the stage's reply. */
struct smtp_message {
	const char *id;           /* the session-made id, for "queued as" and logs */
	const char *mail_from;    /* normalised reverse-path, "" for <> */
	const char *const *rcpts; /* the accepted recipients, normalised, in RCPT order */
	size_t rcpt_count;
	const char *trace; /* Return-Path and Received (RFC 5321 4.4), CRLF ended */
	size_t trace_len;
	const char *header; /* the header section as received, without the empty line */
	size_t header_len;
	bool header_ended; /* the empty line after the header section was there */
	uint64_t size;     /* decoded bytes as received */
	/* The extensions of the transaction, for the queue's envelope:
	   MAIL BODY= (SMTP_BODY_UNSET when not given), SMTPUTF8 (RFC 6531),
	   REQUIRETLS (RFC 8689; only ever true on a TLS session), DSN RET=
	   and ENVID= (RFC 3461; envid the xtext as sent, NULL when absent),
	   and whether the message came by BDAT (RFC 3030). */
	enum smtp_body body;
	bool smtputf8;
	bool requiretls;
	enum smtp_dsn_ret dsn_ret;
	const char *dsn_envid;
	bool chunked;
	/* A milter asked for quarantine (smtp-milter.c): the message goes
	   into the recipients' Junk folders. */
	bool quarantine;
	/* milter: recipients the milters added or removed, NULL: none; the
	   policy applies them with smtp_milter_rcpts_apply() (smtp-milter.h). */
	const struct smtp_milter_rcpts *milter_rcpts;
	/* The DSN NOTIFY=/ORCPT= of each recipient, parallel to rcpts
	   (rcpt_count entries, smtp-command.h). */
	const struct smtp_rcpt_params *rcpt_params;
	/* The spooled body (everything after the header section). The policy
	   takes it (sets the pointer NULL) to commit or abort it; one left
	   here is aborted after the reply. */
	struct delivery *delivery;
};

struct smtp_policy_ops {
	/* A session starts: store the policy's state for it in *ctx_r. */
	void (*session_begin)(void *policy, struct smtp_session *s, void **ctx_r);
	/* The session is freed (never while a stage is pending). */
	void (*session_end)(void *ctx);
	/* Stage: MAIL FROM passed the protocol's checks (syntax, order, SIZE);
	   smtp_session_mail_from() gives the sender. A reply of 400 or more
	   ends the transaction. */
	void (*mail)(void *ctx, struct smtp_session *s);
	/* Stage: RCPT TO for address (normalised; the bare Postmaster is
	   postmaster@<hostname>). A 2xx reply adds it to the transaction. */
	void (*rcpt)(void *ctx, struct smtp_session *s, const char *address);
	/* Every decoded byte of the message as it arrives (header section and
	   body), e.g. for DKIM body hashes. Not a stage. */
	void (*data_feed)(void *ctx, const void *data, size_t len);
	/* Stage: DATA ended with a message the protocol accepts (size, bare
	   LF, header limit and spool writes are checked before). A 2xx must
	   mean the message is durable (DESIGN.md). SMTP expects one reply;
	   LMTP (RFC 2033 4.2; the lmtp service) expects one per accepted
	   recipient (msg->rcpt_count), in RCPT order, each through
	   smtp_stage_reply(); the stage stays pending until the last (the
	   lmtp policy commits with DELIVERY_PER_TARGET). The transaction ends
	   with it. The same stage ends BDAT LAST. */
	void (*data_end)(void *ctx, struct smtp_session *s, struct smtp_message *msg);
	/* The transaction is forgotten (RSET, HELO, STARTTLS, after DATA):
	   drop its state. Never called while a stage is pending. */
	void (*reset)(void *ctx);
};

struct smtp_policy {
	const struct smtp_policy_ops *ops;
	void *policy; /* passed to session_begin */
	/* Before STARTTLS only the commands flagged SMTP_CMD_BEFORE_TLS in the
	   command table (EHLO, HELO, STARTTLS, NOOP, RSET, HELP, QUIT) are
	   taken; the others get 530 5.7.0 (RFC 3207 section 4). For the
	   submission policy, once it offers AUTH: off until then, since port
	   587 still takes local mail in plain text as port 25 does. */
	bool tls_required;
	/* SMTP AUTH (RFC 4954, smtp-cmd-auth.c) is offered: advertised in EHLO
	   over TLS (or on loopback when auth { plaintext_on_loopback } allows
	   it) and taken. The submission services run with it on. */
	bool auth;
};

/* Answer the current stage with "<code> <enhanced> <text>" (enhanced NULL:
   none). See the stage rules above. Answering a pending stage of a session
   that is gone frees the session, after the policy's reset and
   session_end: touch neither s nor the policy's session state after this
   call (the arguments are used before anything is freed). */
void smtp_stage_reply(struct smtp_session *s, unsigned code, const char *enhanced, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/* What a policy may know of its session; the strings stay valid until the
   next stage or the end of the session. */
const char *smtp_session_sid(const struct smtp_session *s);
const char *smtp_session_peer_ip(const struct smtp_session *s);
/* The HELO/EHLO name (NULL before one). */
const char *smtp_session_helo(const struct smtp_session *s);
/* The SIZE= of the transaction's MAIL (RFC 1870), 0 when not given
   (quota check at RCPT, docs/quota.md). */
uint64_t smtp_session_mail_size(const struct smtp_session *s);
/* The normalised MAIL FROM of the transaction ("" for <>, NULL before). */
const char *smtp_session_mail_from(const struct smtp_session *s);
const struct service_def *smtp_session_service(const struct smtp_session *s);
/* The DSN parameters of the recipient the RCPT stage asks about (NULL
   outside that stage); valid until the stage's reply. */
const struct smtp_rcpt_params *smtp_session_rcpt_params(const struct smtp_session *s);
/* True if the client came in on a Unix socket (its peer IP is "unix"). */
bool smtp_session_peer_is_unix(const struct smtp_session *s);
/* The user the session authenticated as with AUTH (the directory's
   address), NULL before. */
const char *smtp_session_auth_user(const struct smtp_session *s);
/* The TLS description ("TLSv1.3 with cipher ..."), NULL without TLS. */
const char *smtp_session_tls(const struct smtp_session *s);
/* True once the client has gone: a pending stage may skip its work (its
   reply is still required, and is dropped). */
bool smtp_session_gone(const struct smtp_session *s);

#endif
