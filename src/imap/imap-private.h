#ifndef TERN_IMAP_IMAP_PRIVATE_H
#define TERN_IMAP_IMAP_PRIVATE_H

/*
 * Internals of the IMAP server shared by imap-server.c, imap-session.c,
 * imap-commands.c and the cmd-*.c command families.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "imap/imap-parser.h"
#include "imap/imap-server.h"
#include "imap/imap-settings.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/settings.h"
#include "lib/workpool.h"
#include "net/conn.h"

/* Parser limits before login (DESIGN: tighter before login). */
#define IMAP_PRELOGIN_MAX_LITERAL (64 * 1024)
/* A pre-login line may be this long at least, whatever limits.line_length
   says: an ID of 30 pairs (RFC 2971 3.3: fields of 30, values of 1024
   bytes) is about 32 KB quoted. */
#define IMAP_PRELOGIN_MAX_LINE (40 * 1024)
/* After login: lines of big UID sets are common (Dovecot allows 64 KiB). */
#define IMAP_MAX_LINE_AUTHED (64 * 1024)
/* Literal bytes held in memory for one command; larger literals need the
   streaming sink (APPEND). */
#define IMAP_MAX_LITERALS_IN_MEMORY (1024 * 1024)
#define IMAP_MAX_ARGS               4096
#define IMAP_MAX_DEPTH              16
/* A failed login is answered after this many seconds (slows guessing). */
#define IMAP_AUTH_FAIL_DELAY 2
/* FETCH stops writing and waits for on_drained above this much output. */
#define IMAP_OUTPUT_HIGH_WATER (512 * 1024)
/* Seconds between mailbox syncs while IDLE. */
#define IMAP_IDLE_POLL 30

struct auth;
struct auth_sasl;
struct delivery;
struct mail_msg;
struct mail_user;
struct mail_user_registry;
struct mailbox;
struct imap_session;
struct imap_notify;

struct imap_server {
	struct event_base *base;
	const struct tern_settings *settings;
	SSL_CTX *tls;
	struct workpool *pool;
	struct auth *auth; /* logins (src/auth) */
	/* the logged-in users, shared by their sessions (loop thread only) */
	struct mail_user_registry *users;
	struct event *idle_timer; /* closes idle users' index connections */

	struct role_ctx *role; /* NULL when run outside a role (tests) */
	/* before a failed login is answered: IMAP_AUTH_FAIL_DELAY seconds;
	   tests (the session fuzzer) may shorten it */
	struct timeval auth_fail_delay;
	struct imap_session *idlers;            /* sessions in IDLE (cmd-idle.c) */
	struct imap_session *notifiers;         /* sessions with NOTIFY SET (cmd-notify.c) */
	struct pop3_server *pop3;               /* the role's POP3 services (src/pop3) */
	struct managesieve_server *managesieve; /* port 4190 (src/managesieve) */
	struct directory *quota_dir;            /* the limits (cmd-quota.c), opened at first use */
};

enum imap_state {
	IMAP_STATE_NOAUTH,
	IMAP_STATE_AUTH,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* What the session does with input when it is not a command. */
enum imap_input_mode {
	IMAP_INPUT_COMMANDS,
	IMAP_INPUT_AUTH_LINE, /* AUTHENTICATE continuation (RFC 9051 6.2.2) */
	IMAP_INPUT_IDLE,      /* waiting for DONE (RFC 2177) */
};

/* One command being executed. */
struct imap_cmd {
	const char *tag;
	const char *name; /* upper-cased; for UID commands the subcommand */
	const struct imap_arg *args;
	size_t count;
	bool uid;       /* UID FETCH / STORE / SEARCH */
	unsigned flags; /* enum imap_cmd_flags of the command */
};

/* A command that continues later (FETCH waiting for output to drain). */
struct imap_resumable {
	/* Called again when output has drained; returns 1 when done (the
	   command wrote its tagged reply), 0 to wait for another drain. */
	int (*resume)(struct imap_session *s, void *ctx);
	void (*free)(void *ctx);
	void *ctx;
};

struct imap_session {
	struct imap_server *server;
	struct conn *conn;
	char sid[SESSION_ID_LEN + 1]; /* a copy: the conn may go first */
	struct imap_parser *parser;
	enum imap_state state;
	enum imap_input_mode input;
	unsigned errors;
	bool busy;              /* waiting for a worker, a timer or a drain */
	bool closed;            /* on_close came while busy: free when idle */
	bool greeted;           /* the greeting went out (implicit TLS: after the handshake) */
	unsigned jobs;          /* worker jobs and timers holding the session */
	char *pending_tag;      /* AUTHENTICATE / IDLE: the command's tag */
	struct auth_sasl *sasl; /* AUTHENTICATE in progress (cmd-auth.c) */
	struct imap_resumable resumable;
	struct event *timer; /* failed login delay, IDLE poll, session timeout */
	struct event *session_timer;

	char *username;
	struct mail_user *user;
	struct mailbox *box;
	uint32_t exists; /* the count the client was last told */
	uint32_t recent;
	uint64_t kw_announced; /* keywords the client was told of (FLAGS) */
	/* SEARCHRES (RFC 5182): the UIDs of the last SEARCH RETURN (SAVE),
	   "$" in later commands; emptied when the mailbox is closed */
	uint32_t *searchres;
	size_t searchres_count;
	/* RFC 7162: CONDSTORE enabled (by ENABLE or a command using it): FETCH
	   responses carry MODSEQ; QRESYNC enabled (ENABLE only): expunges are
	   sent as VANISHED. */
	bool condstore, qresync;
	/* RFC 9051: ENABLE IMAP4rev2 switches the Appendix E behaviours (no
	   RECENT or \Recent, SEARCH answered as ESEARCH, SELECT's LIST and
	   CLOSED, LIST's \NonExistent). utf8: mailbox names are UTF-8 on the
	   wire, not modified UTF-7 (ENABLE UTF8=ACCEPT, RFC 6855 3, or
	   IMAP4rev2, RFC 9051 5.1); utf8_accept: UTF8=ACCEPT itself (APPEND's
	   UTF8 data item). */
	bool rev2, utf8, utf8_accept;
	/* imap_mailbox_arg() results, freed when the next command starts */
	char **names;
	size_t names_count;

	/* APPEND, REPLACE: the message literals streamed to disk, in order
	   (MULTIAPPEND sends several) */
	struct delivery **append;
	size_t append_count;
	unsigned cmd_flags; /* of the command running */
	struct buf line;    /* scratch for conn_read_line() */

	/* On server->idlers while in IDLE (cmd-idle.c). */
	struct imap_session *idle_prev, *idle_next;
	bool idle_listed;
	/* NOTIFY SET (RFC 5465, cmd-notify.c); NULL: none */
	struct imap_notify *notify;
};

/* ---- imap-server.c ---- */

/* Append the capability list for the session's current state (no leading
   "CAPABILITY") to out. */
void imap_capability(struct imap_session *s, struct buf *out);
/* True if plaintext authentication is allowed on this connection. */
bool imap_plaintext_allowed(struct imap_session *s);
/* The session changed its user's mail (APPEND, COPY/MOVE, EXPUNGE, STORE):
   tell every IDLE session of the user, in every imap process. */
void imap_notify_changed(struct imap_session *s);

/* ---- cmd-idle.c ---- */

/* Take s off the server's list of IDLE sessions (harmless if it is not on
   it). */
void imap_idle_leave(struct imap_session *s);

/* ---- imap-session.c ---- */

/* Create a session on an accepted fd (taken over) and greet the client. */
void imap_session_start(struct imap_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls);

/* Send a tagged reply "tag OK text"; for commands with IMAP_CMD_SYNC the
   mailbox is synced first and untagged updates sent. */
void imap_reply(struct imap_session *s, const char *tag, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "* BAD"/tagged BAD and count an error; past the limit "* BYE" and close. */
void imap_reply_bad(struct imap_session *s, const char *tag, const char *text);
/* Count a client error; past the limit sends "* BYE" and closes. Returns
   false if the session is closing. */
bool imap_session_count_error(struct imap_session *s);
/* Write bytes / formatted text to the client. */
void imap_write(struct imap_session *s, const void *data, size_t len);
void imap_printf(struct imap_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cmd-select.c: send FLAGS and PERMANENTFLAGS (RFC 3501 7.2.6) with the
   selected mailbox's keywords; imap_announce_keywords() only if the
   mailbox has keywords the client was not told of yet, before a FETCH
   shows one. */
void imap_send_flags(struct imap_session *s);
void imap_announce_keywords(struct imap_session *s);
/* Tell the client of count expunged messages: "* n EXPUNGE" for each of
   seqs (in the order given, each valid after the previous), or with
   QRESYNC enabled one "* VANISHED uid-set" of uids (uids[i] is seqs[i]'s
   UID). Lowers s->exists by count. */
void imap_send_expunges(struct imap_session *s, const uint32_t *seqs, const uint32_t *uids,
                        size_t count);
/* "* VANISHED [(EARLIER) ]uid-set" of uids (any order; nothing for 0). */
void imap_send_vanished(struct imap_session *s, const uint32_t *uids, size_t count, bool earlier);
/* Append " MODSEQ (n)" of message seq when CONDSTORE is enabled (the
   FETCH responses the server sends on its own: RFC 7162 3.1.4.1). */
void imap_append_modseq(struct imap_session *s, struct buf *out, uint32_t seq);
/* ---- imap-names.c ---- */

/* The stored (modified UTF-7) form of the mailbox name in arg, as the
   session's client writes names: UTF-8 converted when s->utf8, as given
   otherwise. NULL if arg is no astring or, in a UTF-8 session, not
   well-formed UTF-8. Valid until the next command starts. */
const char *imap_mailbox_arg(struct imap_session *s, const struct imap_arg *arg);
/* The same for a name already read from the command (NULL if invalid). */
const char *imap_mailbox_from_client(struct imap_session *s, const char *name);
/* The name as the client sees it (malloc'ed): the stored name converted
   to UTF-8 when s->utf8; for other sessions the stored name, or its
   modified UTF-7 form if it holds 8-bit bytes (made by some other
   program). */
char *imap_mailbox_display(struct imap_session *s, const char *stored);
/* Append imap_mailbox_display() of stored as a string (quoted UTF-8 when
   it fits a quoted string, else a literal). */
void imap_append_mailbox(struct imap_session *s, struct buf *out, const char *stored);
/* Forget the imap_mailbox_arg() results (the command is over). */
void imap_mailbox_args_clear(struct imap_session *s);
/* Append msg's FLAGS list as the session shows it: no \Recent once
   IMAP4rev2 is enabled (RFC 9051 Appendix E). */
void imap_session_msg_flags(struct imap_session *s, struct buf *out, const struct mail_msg *msg);
/* Sync the selected mailbox and send EXISTS / RECENT / EXPUNGE / FETCH FLAGS
   updates. allow_expunge false: sync only if no expunge can be reported
   (RFC 3501 7.4.1: not during FETCH, STORE, SEARCH). Returns 0 or -1. */
int imap_session_sync(struct imap_session *s);
/* Login succeeded for username (malloc'ed, taken): open the mail user and
   enter the authenticated state; writes the tagged reply for tag. */
void imap_session_login(struct imap_session *s, const char *tag, char *username,
                        const char *method);
/* Wait for a worker job or timer: reading stops until imap_session_resume(). */
void imap_session_hold(struct imap_session *s);
/* The job is over; returns false if the session is gone (freed meanwhile:
   the caller must not touch it). Resumes reading. */
bool imap_session_release(struct imap_session *s);
/* Close the selected mailbox (no expunge) and go back to AUTH. */
void imap_session_unselect(struct imap_session *s);
/* Close the connection after a final "* BYE text". */
void imap_session_bye(struct imap_session *s, const char *text);
/* Start a resumable command (see struct imap_resumable). */
void imap_session_resumable(struct imap_session *s, const struct imap_resumable *r);

/* ---- cmd-append.c ---- */

/* Install the parser's literal sink that streams the message literals of
   APPEND and REPLACE into deliveries (s->append). */
void imap_append_install_sink(struct imap_session *s);
/* Drop the streamed APPEND literals that no command took (parse error, BAD
   arguments, closed session). */
void imap_append_abort(struct imap_session *s);

/* ---- cmd-folder.c ---- */

/* The subscribed names (malloc'ed array of malloc'ed strings, free with
   imap_subs_free()): 0, or -1 if the file cannot be read. No subscription
   file yet means INBOX alone (docs/imap.md). */
int imap_subs_read(struct imap_session *s, char ***names_r, size_t *count_r);
void imap_subs_free(char **names, size_t count);
/* Give an account with no folder at all the usual ones (Drafts, Sent,
   Trash, Junk, Archive), subscribed. Called at login. */
void imap_folders_autocreate(struct imap_session *s);

/* ---- imap-commands.c ---- */

enum imap_cmd_flags {
	IMAP_CMD_NOAUTH = 1u << 0,   /* only before login */
	IMAP_CMD_AUTH = 1u << 1,     /* needs login */
	IMAP_CMD_SELECTED = 1u << 2, /* needs a selected mailbox */
	IMAP_CMD_SYNC = 1u << 3,     /* send mailbox updates before the tagged OK */
	IMAP_CMD_UID = 1u << 4,      /* may follow "UID" */
	/* changes the user's folders, subscriptions or metadata: wake the
	   NOTIFY sessions (imap_notify_changed) once it has run */
	IMAP_CMD_CHANGES = 1u << 5,
};

/* Run one parsed command. */
void imap_command_dispatch(struct imap_session *s, const struct imap_command *cmd);

/* The command handlers (cmd-*.c). Each writes its tagged reply, now or
   later (after imap_session_hold()). */
void cmd_capability(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_noop(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_logout(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_starttls(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_login(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd);
/* The AUTHENTICATE continuation line arrived (input mode AUTH_LINE). */
void cmd_authenticate_line(struct imap_session *s, const char *line);
void cmd_list(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_create(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_status(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_select(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_close(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_unselect(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_store(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_search(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_sort(struct imap_session *s, const struct imap_cmd *cmd);   /* cmd-sort.c */
void cmd_thread(struct imap_session *s, const struct imap_cmd *cmd); /* cmd-sort.c */
void cmd_idle(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_append(struct imap_session *s, const struct imap_cmd *cmd);
/* REPLACE and UID REPLACE (RFC 8508) */
void cmd_replace(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_copy(struct imap_session *s, const struct imap_cmd *cmd); /* COPY and MOVE */
void cmd_delete(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_rename(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_enable(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_id(struct imap_session *s, const struct imap_cmd *cmd);
/* cmd-metadata.c (RFC 5464) */
void cmd_getmetadata(struct imap_session *s, const struct imap_cmd *cmd);
/* cmd-quota.c (RFC 9208) */
void cmd_getquota(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_getquotaroot(struct imap_session *s, const struct imap_cmd *cmd);
void cmd_setquota(struct imap_session *s, const struct imap_cmd *cmd);
/* Whether count more messages of bytes in all fit the user's quota: 0, or
   -1 after answering tag NO [OVERQUOTA] (or NO [SERVERBUG] when the quota
   cannot be read). */
int imap_quota_allows(struct imap_session *s, const char *tag, uint64_t bytes, uint64_t count);
void cmd_setmetadata(struct imap_session *s, const struct imap_cmd *cmd);
/* cmd-notify.c (RFC 5465) */
void cmd_notify(struct imap_session *s, const struct imap_cmd *cmd);
/* Something of user's mail changed: every NOTIFY session of the user
   compares and sends what it watches, now or once its command is done. */
void imap_notify_wake(struct imap_server *server, const char *user);
/* Drop the session's NOTIFY state (NOTIFY NONE, overflow, session end);
   harmless without one. */
void imap_notify_free(struct imap_session *s);
/* cmd-compress.c (RFC 4978) */
void cmd_compress(struct imap_session *s, const struct imap_cmd *cmd);
/* A line arrived while IDLE. */
void cmd_idle_line(struct imap_session *s, const char *line);

struct imap_seqset;
/* cmd-search.c: replace the saved search result (SEARCHRES) by a copy
   of uids[0..count); count 0 empties it (and frees it). */
void imap_searchres_set(struct imap_session *s, const uint32_t *uids, size_t count);
/* "$": the saved result as a set of UIDs (uid) or of message numbers of
   the selected mailbox (the UIDs still in it). Free with
   imap_seqset_free(). */
void imap_searchres_seqset(struct imap_session *s, bool uid, struct imap_seqset *set_r);

/* Parse a sequence set argument for the selected mailbox: for cmd->uid a
   UID set ("*" = the highest UID), else message numbers, which must exist
   (RFC 9051 6.4.8), or "$" (SEARCHRES). Returns 0, or -1 after replying
   BAD. */
int imap_cmd_seqset(struct imap_session *s, const struct imap_cmd *cmd, const struct imap_arg *arg,
                    struct imap_seqset *set_r);
/* True if message seq of the selected mailbox is in set (by UID for
   cmd->uid). */
bool imap_cmd_seq_matches(struct imap_session *s, const struct imap_cmd *cmd,
                          const struct imap_seqset *set, uint32_t seq);

#endif
