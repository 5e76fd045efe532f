#ifndef TERN_POP3_POP3_PRIVATE_H
#define TERN_POP3_POP3_PRIVATE_H

/* Internals of the POP3 server shared by pop3-server.c, pop3-session.c,
   pop3-auth.c and pop3-commands.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/settings.h"
#include "net/conn.h"
#include "pop3/pop3-msg.h"
#include "pop3/pop3-parser.h"
#include "pop3/pop3-server.h"

/* A failed login is answered after this many seconds (then growing per IP:
   auth-penalty.h), as IMAP's. */
#define POP3_AUTH_FAIL_DELAY 2
/* RETR/TOP stop writing and wait for on_drained above this much output. */
#define POP3_OUTPUT_HIGH_WATER (256 * 1024)
/* Bytes of a message read at once. */
#define POP3_READ_CHUNK (64 * 1024)
/* The lock file of a maildrop in use, in the user's Maildir (flock). */
#define POP3_LOCK_FILE "tern-pop3.lock"

struct auth;
struct auth_sasl;
struct mail_user;
struct mail_user_registry;
struct mail_msg_reader;
struct mailbox;

struct pop3_server {
	struct event_base *base;
	const struct tern_settings *settings;
	SSL_CTX *tls;
	struct auth *auth;
	struct mail_user_registry *users;
	struct role_ctx *role;
	struct timeval auth_fail_delay;
};

/* RFC 1939 3 */
enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
	POP3_STATE_CLOSING, /* QUIT answered (after UPDATE), or a fatal error */
};

/* One message of the maildrop as the session numbers it (1..count). */
struct pop3_msg {
	uint32_t seq; /* in the session's view of INBOX */
	uint32_t uid;
	uint64_t size; /* what RETR sends (pop3-msg.h), once size_known */
	bool size_known;
	bool deleted;   /* DELE: expunged at QUIT */
	bool retrieved; /* all of it went out by RETR: \Seen at QUIT */
};

/* RETR / TOP streaming out. */
struct pop3_retr {
	struct mail_msg_reader *reader;
	uint64_t offset, total;
	struct pop3_stuff stuff;
	struct pop3_msg *msg; /* marked retrieved when RETR is all out */
};

struct pop3_session {
	struct pop3_server *server;
	struct conn *conn;
	char sid[SESSION_ID_LEN + 1];
	struct pop3_parser *parser;
	enum pop3_state state;
	unsigned errors;
	bool busy;      /* waiting for a worker, a timer or a drain */
	bool closed;    /* on_close came: free when no job holds it */
	bool greeted;   /* the greeting went out (implicit TLS: after the handshake) */
	unsigned jobs;  /* worker jobs and timers holding the session */
	bool auth_line; /* the next line is an AUTH response (RFC 5034 4) */
	struct auth_sasl *sasl;
	struct event *session_timer;

	char *user_arg; /* USER's name, for PASS */
	char *username; /* logged in */
	struct mail_user *user;
	struct mailbox *box; /* INBOX */
	int lock_fd;         /* flock'ed POP3_LOCK_FILE, -1 */
	struct pop3_msg *msgs;
	uint32_t count;
	struct pop3_retr *retr;
};

/* ---- pop3-server.c ---- */

/* True if plain passwords may go on this connection (TLS, or loopback
   when auth { plaintext_on_loopback } allows). */
bool pop3_plaintext_allowed(struct pop3_session *s);
/* The SASL mechanisms offered now, space-separated, into out. */
void pop3_sasl_mechs(struct pop3_session *s, struct buf *out);

/* ---- pop3-session.c ---- */

void pop3_session_start(struct pop3_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls);
/* Write formatted text (the caller writes CRLF) / bytes to the client. */
void pop3_printf(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pop3_write(struct pop3_session *s, const void *data, size_t len);
/* "-ERR text" for a bad command or a failed login, counted; at the limit
   the same reply also says "Too many bad commands." and the session
   closes. */
void pop3_reply_bad(struct pop3_session *s, const char *text);
/* Count a client error (as pop3_reply_bad() without the reply). Returns
   false if the session is closing. */
bool pop3_session_count_error(struct pop3_session *s);
/* Close after a last "-ERR text" (or "+OK text" when ok). */
void pop3_session_close(struct pop3_session *s, bool ok, const char *text);
/* Login of username (malloc'ed, taken) succeeded: lock the maildrop, open
   INBOX and enter TRANSACTION, or answer "-ERR [IN-USE]" / "[SYS/TEMP]"
   and stay in AUTHORIZATION. method is for the log. */
void pop3_session_login(struct pop3_session *s, char *username, const char *method);
/* Give the maildrop back: the view, the lock, the user (again: nothing).
   UPDATE calls it before its "+OK", so a client that logs in again at once
   does not find the maildrop still locked by the closing session. */
void pop3_maildrop_release(struct pop3_session *s);
/* Hold the session for a worker job or timer (reading stops); release
   returns false if the session is gone meanwhile (do not touch it). */
void pop3_session_hold(struct pop3_session *s);
bool pop3_session_release(struct pop3_session *s);
/* Stop / go on reading commands while output drains (RETR). */
void pop3_session_pause(struct pop3_session *s);
void pop3_session_resume(struct pop3_session *s);

/* ---- pop3-commands.c ---- */

/* Run one command line. */
void pop3_command_dispatch(struct pop3_session *s, const struct pop3_command *cmd);
/* Output drained: go on with RETR / TOP. */
void pop3_retr_continue(struct pop3_session *s);
/* Free a RETR in progress (session end). */
void pop3_retr_free(struct pop3_retr **retr);
/* QUIT in TRANSACTION: the UPDATE state (RFC 1939 6), then close. */
void pop3_update(struct pop3_session *s);

/* ---- pop3-auth.c ---- */

void pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd);
/* An AUTH response line (s->auth_line); NULL for a line too long. */
void pop3_auth_line(struct pop3_session *s, const char *line);

#endif
