#ifndef TERN_SMTP_SMTP_SERVER_PRIVATE_H
#define TERN_SMTP_SMTP_SERVER_PRIVATE_H

/*
 * Internals of the SMTP receiving session, shared by smtp-server.c (the
 * role, the session life cycle, input and replies) and the command
 * families in smtp-cmd-*.c. Not for use outside src/smtp/.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/address.h"
#include "lib/array.h"
#include "lib/buf.h"
#include "lib/settings.h"
#include "net/conn.h"
#include "master/role.h"
#include "smtp/smtp-bdat.h"
#include "smtp/smtp-command.h"
#include "smtp/smtp-data.h"
#include "smtp/smtp-header.h"
#include "smtp/smtp-policy.h"
#include "smtp/smtp-settings.h"

struct auth;
struct auth_sasl;
struct delivery;
struct dns_resolver;
struct smtp_inbound;
struct smtp_rdns;
struct smtp_lmtp;
struct smtp_submission;

/* Commands handled in one on_read before yielding to the loop (RFC 2920
   pipelining, bounded). */
#define SMTP_PIPELINE_MAX 100
/* Stop reading commands while this much output is unsent (a client that
   pipelines without reading the replies). */
#define SMTP_OUTPUT_MAX (64 * 1024)
/* Messages accepted in one session before it is closed. */
#define SMTP_SESSION_MESSAGES_MAX 100
/* Whole-session time limit in seconds. */
#define SMTP_SESSION_SECONDS_MAX 3600
/* Decoded DATA is handed to the delivery in chunks of this size. */
#define SMTP_DATA_CHUNK (64 * 1024)

/* The role's state (role_ctx->data). */
struct smtp_server {
	struct role_ctx *role;
	const struct tern_settings *settings;
	struct smtp_policy policy;    /* what every session asks at its stages */
	struct smtp_inbound *inbound; /* the policy's state (smtp-policy-inbound.h) */
	/* The clients' reverse DNS (smtp-rdns.h); NULL: none is looked up. */
	struct dns_resolver *resolver;
	/* The lmtp service's policy (smtp-policy-lmtp.h); ops NULL: sessions
	   of that service ask policy too (tests). */
	struct smtp_policy lmtp_policy;
	struct smtp_lmtp *lmtp;
	/* The submission and submissions services' policy
	   (smtp-policy-submission.h; tests: the one of smtp_server_new()). */
	struct smtp_policy submission_policy;
	struct smtp_submission *submission;
	struct auth *auth; /* for AUTH; NULL: not offered (smtp-cmd-auth.c) */
	/* milter: the wrappers of policy, submission_policy, lmtp_policy
	   (smtp-milter.h); NULL: none */
	struct smtp_milter *milters[3];
};

/* The stage waiting for the policy's reply (smtp-policy.h). */
enum smtp_stage {
	SMTP_STAGE_NONE,
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA_END,
	SMTP_STAGE_AUTH, /* a SASL step: its reply is a 334, 235 or failure */
};

struct smtp_session;

/* Command flags. */
enum smtp_cmd_flags {
	/* Allowed before HELO/EHLO (the others get 503 5.5.1). */
	SMTP_CMD_BEFORE_HELO = 1 << 0,
	/* Allowed before STARTTLS where the policy requires TLS
	   (smtp_policy.tls_required; the others get 530 5.7.0). */
	SMTP_CMD_BEFORE_TLS = 1 << 1,
	/* SMTP only: refused in LMTP (HELO, EHLO, AUTH; RFC 2033 section 4.1). */
	SMTP_CMD_NOT_LMTP = 1 << 2,
	/* LMTP only (LHLO): unknown in SMTP. */
	SMTP_CMD_LMTP_ONLY = 1 << 3,
};

struct smtp_cmd_def {
	enum smtp_verb verb;
	void (*handler)(struct smtp_session *s, struct smtp_command *cmd);
	unsigned flags;
};

/* The command table, indexed by enum smtp_verb (smtp-commands.c). */
extern const struct smtp_cmd_def smtp_commands[SMTP_VERB_COUNT];

struct smtp_session {
	struct smtp_server *server;
	struct conn *conn;
	char sid[SESSION_ID_LEN + 1];
	char *peer_ip; /* kept after the connection is gone */
	const struct service_def *service;
	const struct smtp_policy *policy; /* the one of its service */
	bool lmtp;                        /* the lmtp service: RFC 2033 (smtp-lmtp.c) */
	bool unix_peer;                   /* came in on a Unix socket */
	bool starttls;                    /* the listener offers STARTTLS (tls = starttls) */
	struct event *session_timer;

	char *helo;       /* the HELO/EHLO name; NULL before one */
	bool esmtp;       /* EHLO was used: enhanced status codes in replies */
	bool closing;     /* QUIT, too many errors, shutdown: no more commands */
	bool closed;      /* on_close came while a stage was pending */
	bool busy;        /* a stage is pending; reading is paused */
	bool output_wait; /* paused until the output drains */
	/* A goodbye (shutdown, session time limit) that came while a stage was pending:
	   sent after the stage's reply, then the session closes. */
	unsigned bye_code;
	const char *bye_enhanced, *bye_text;
	unsigned errors;
	unsigned messages;
	unsigned commands;

	/* The mail transaction (RFC 5321 section 3.3). */
	bool has_mail;
	struct address mail_from;
	char *mail_from_text; /* normalised */
	uint64_t mail_size;   /* SIZE= */
	ARRAY(char *) rcpts;  /* accepted, normalised, for the policy and the Received header */
	/* Extensions (smtp-cmd-mail.c): the MAIL parameters, and the DSN
	   parameters of each accepted recipient, parallel to rcpts. */
	enum smtp_body mail_body;
	bool mail_smtputf8, mail_requiretls;
	enum smtp_dsn_ret mail_ret;
	char *mail_envid;
	ARRAY(struct smtp_rcpt_params) rcpt_params;
	struct smtp_rcpt_params stage_rcpt_params; /* of the RCPT being asked */

	/* The policy's state for this session, and the stage it is asked. */
	void *policy_ctx;
	enum smtp_stage stage;
	bool stage_sync;             /* inside the policy's op: its reply is synchronous */
	char *stage_rcpt;            /* SMTP_STAGE_RCPT: the address asked about */
	struct smtp_message message; /* SMTP_STAGE_DATA_END */
	struct buf trace;
	/* LMTP's DATA stage: replies given so far, and how many said 2xx. */
	unsigned lmtp_replies, lmtp_delivered;

	/* DATA in progress, or a BDAT chunk being read (in_bdat too). */
	bool in_data;
	/* CHUNKING (smtp-cmd-data.c): the transaction's BDAT message, the
	   chunk being read, and the reply owed for a chunk read only to be
	   dropped (bdat_fail_code != 0). */
	bool in_bdat, bdat_used, bdat_last;
	struct smtp_bdat_reader bdat;
	unsigned bdat_fail_code;
	const char *bdat_fail_enhanced, *bdat_fail_text;
	struct smtp_data_decoder decoder;
	/* The header section is kept here and written in front of the body
	   by the policy (smtp_message.header). */
	struct smtp_header header;
	struct delivery *delivery;
	const char *write_error; /* delivery_write failed: read on, then 451 */
	struct buf data_out;
	char msg_id[SESSION_ID_LEN + 1];

	struct buf line;
	/* The client's name by reverse DNS, checked forward (smtp-rdns.h):
	   NULL for unknown. The lookup runs before the greeting. */
	char *ptr_name;
	struct smtp_rdns *rdns;

	/* AUTH (smtp-cmd-auth.c) */
	struct auth_sasl *sasl; /* an exchange in progress */
	char *sasl_line;        /* the response the AUTH stage feeds */
	bool sasl_started;
	char *auth_user; /* after 235 */
};

/* Send one reply line: "<code> <enhanced> <text>" (the enhanced code only
   after EHLO, RFC 2034). Every 4xx/5xx reply counts towards the session's
   error limit. */
void smtp_reply(struct smtp_session *s, unsigned code, const char *enhanced, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A continuation line of a multi-line reply ("250-..."). */
void smtp_reply_cont(struct smtp_session *s, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Forget the mail transaction (RSET, HELO/EHLO, STARTTLS, after DATA). */
void smtp_transaction_reset(struct smtp_session *s);

/* Forget the extension parameters of the transaction (MAIL, RCPT, BDAT
   state): part of smtp_transaction_reset() (smtp-cmd-mail.c). */
void smtp_transaction_ext_reset(struct smtp_session *s);

/* A RCPT stage ended with code: keep the DSN parameters of an accepted
   recipient beside it, drop those of a refused one (smtp-cmd-mail.c). */
void smtp_rcpt_params_finish(struct smtp_session *s, unsigned code);

/* Close the session after the queued output is sent. */
void smtp_session_close(struct smtp_session *s);

/* Say goodbye with a 421-type reply and close, now or, while a stage is
   pending, right after its reply. */
void smtp_session_bye(struct smtp_session *s, unsigned code, const char *enhanced,
                      const char *text);

/* The input of a DATA body has arrived: feed it to the decoder
   (smtp-cmd-data.c). Returns 1 when the body ended (the session goes on
   with commands, or waits for the policy's DATA stage), 0 when more is
   needed. */
int smtp_data_input(struct smtp_session *s);

/* The reply to EHLO after the HELO name is set: the host name and every
   extension keyword, the last line ending the reply (smtp-cmd-hello.c).
   LMTP's LHLO gives the same list. */
void smtp_ehlo_keywords(struct smtp_session *s);
/* ---- LMTP (smtp-lmtp.c) ---- */

/* Whether the command def may run in this session's protocol; if not, the
   refusal is sent (500 5.5.1 for HELO/EHLO in LMTP, 502 for AUTH, 500
   5.5.2 for LHLO in SMTP) and false returned. */
bool smtp_protocol_allows(struct smtp_session *s, const struct smtp_cmd_def *def);

/* The reply that ends a message which never reached the policy's DATA
   stage (size, bare LF, header limit, spool write; for DATA and BDAT
   LAST alike): one reply in SMTP; in LMTP the same reply once per accepted
   recipient (RFC 2033 section 4.2), counted once in the error limit. Call
   before the transaction is reset. */
void smtp_reply_message(struct smtp_session *s, unsigned code, const char *enhanced,
                        const char *text);

/* The DATA stage begins (for DATA and BDAT LAST alike). */
void smtp_lmtp_stage_begin(struct smtp_session *s);

/* One reply of the DATA stage with code was sent (an LMTP session only).
   Returns true while replies are still owed (one per accepted recipient,
   in RCPT order, RFC 2033 section 4.2; the stage stays pending); on the
   last one returns false with *code_r the message's outcome (250 if any
   recipient got it, else the last code). Counts the errors (once per
   message). */
bool smtp_lmtp_stage_reply(struct smtp_session *s, unsigned *code_r);

/* Command handlers (smtp-cmd-*.c). */
void smtp_cmd_helo(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_ehlo(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_starttls(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_mail(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_rcpt(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_rset(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_data(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_bdat(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_noop(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_quit(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_vrfy(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_help(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_not_implemented(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_lhlo(struct smtp_session *s, struct smtp_command *cmd);
void smtp_cmd_auth(struct smtp_session *s, struct smtp_command *cmd);

/* AUTH support (smtp-cmd-auth.c): open the role's login handle (0, or -1
   with *error_r), close it; the EHLO line; a line sent during an exchange;
   the AUTH stage; the session's AUTH state freed. */
int smtp_auth_init(struct smtp_server *server, const char **error_r);
void smtp_auth_deinit(struct smtp_server *server);
void smtp_auth_ehlo(struct smtp_session *s);
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);
void smtp_auth_stage(struct smtp_session *s);
void smtp_auth_session_free(struct smtp_session *s);

/* Ask the policy at stage (rcpt: the RCPT address, else NULL; copied). If
   the policy answers later, reading stops until it does
   (smtp_stage_reply()); then the session resumes reading, or finishes
   closing. */
void smtp_stage_begin(struct smtp_session *s, enum smtp_stage stage, const char *rcpt);

#endif
