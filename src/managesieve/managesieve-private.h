#ifndef TERN_MANAGESIEVE_MANAGESIEVE_PRIVATE_H
#define TERN_MANAGESIEVE_MANAGESIEVE_PRIVATE_H

/* Internals of the ManageSieve server shared by managesieve-server.c,
   managesieve-session.c and managesieve-commands.c. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/settings.h"
#include "managesieve/managesieve-parser.h"
#include "managesieve/managesieve-server.h"
#include "managesieve/managesieve-store.h"
#include "net/conn.h"

/* A failed login is answered after this many seconds (growing per IP). */
#define MSIEVE_AUTH_FAIL_DELAY 2
/* Literals of at least this many octets go to a temporary file. */
#define MSIEVE_STREAM_MIN 4096

struct auth;
struct auth_sasl;
struct mail_user;
struct mail_user_registry;

struct managesieve_server {
	struct event_base *base;
	const struct tern_settings *settings;
	SSL_CTX *tls;
	struct auth *auth;
	struct mail_user_registry *users;
	struct timeval auth_fail_delay;
};

enum msieve_state {
	MSIEVE_STATE_NONAUTH,
	MSIEVE_STATE_AUTH,
	MSIEVE_STATE_CLOSING,
};

struct managesieve_session {
	struct managesieve_server *server;
	struct conn *conn;
	char sid[SESSION_ID_LEN + 1];
	struct msieve_parser *parser;
	enum msieve_state state;
	unsigned errors;
	bool busy, closed, auth_line;
	unsigned jobs;
	struct auth_sasl *sasl;
	struct event *session_timer; /* limits { session_timeout } before login */
	char *username;
	struct mail_user *user;
	char *dir;  /* the user's sieve directory */
	int tmp_fd; /* streamed literal of the current command, -1 */
	size_t tmp_len;
};

/* ---- managesieve-server.c ---- */
bool msieve_plaintext_allowed(struct managesieve_session *s);
void msieve_sasl_mechs(struct managesieve_session *s, struct buf *out);
/* Append data as a quoted string, or a literal when it needs one. */
void msieve_append_string(struct buf *b, const char *data, size_t len);

/* ---- managesieve-session.c ---- */
void msieve_session_start(struct managesieve_server *server, int fd, const struct sockaddr *peer,
                          socklen_t peerlen);
void msieve_write(struct managesieve_session *s, const void *data, size_t len);
/* "OK"/"NO"/"BYE" with an optional code (NULL: none) and text. */
void msieve_reply(struct managesieve_session *s, const char *kind, const char *code,
                  const char *text);
/* NO for a bad command, counted; at the limit BYE and close. */
void msieve_reply_bad(struct managesieve_session *s, const char *text);
void msieve_session_close(struct managesieve_session *s, const char *text);
/* Logged in as username (malloc'ed, taken); method for the log. */
void msieve_session_login(struct managesieve_session *s, char *username, const char *method);
void msieve_session_logout_user(struct managesieve_session *s);
void msieve_session_hold(struct managesieve_session *s);
bool msieve_session_release(struct managesieve_session *s);
/* The streamed literal's octets (malloc'ed, NUL-terminated), or NULL. */
char *msieve_session_streamed(struct managesieve_session *s, size_t *len_r);
/* The capability lines. */
void msieve_capability(struct managesieve_session *s, struct buf *out);

/* ---- managesieve-commands.c ---- */
void msieve_command_dispatch(struct managesieve_session *s, const struct msieve_command *cmd);
/* An AUTHENTICATE response line (a command of one string), NULL if bad. */
void msieve_auth_line(struct managesieve_session *s, const struct msieve_command *cmd);

#endif
