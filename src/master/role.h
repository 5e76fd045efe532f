#ifndef TERN_MASTER_ROLE_H
#define TERN_MASTER_ROLE_H

/*
 * A role process: one libevent loop serving the services its role_ops
 * declares (none for a role without listeners, such as the coming queue
 * role). The supervisor forks it with the listeners already bound, the TLS
 * context already loaded and one end of a socketpair (its channel, see
 * channel.h); the role drops root, restricts itself (no new privileges,
 * Landlock), accepts connections and hands each one to its role_ops. See
 * docs/processes.md and docs/security.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/settings.h"
#include "lib/workpool.h"
#include "net/listener.h"

/* Connections one role process serves at once; more are closed at accept
   (and logged). */
#define ROLE_MAX_CONNECTIONS 10000
/* Connections one peer IP may hold at once in one role process. */
#define ROLE_MAX_CONNECTIONS_PER_IP 50
/* Worker threads of each role's workpool. */
#define ROLE_WORKER_THREADS 4
/* Seconds a draining role (old generation after a reload) keeps serving its
   sessions before it shuts them down. */
#define ROLE_DRAIN_LIMIT 3600
/* Seconds a stopping role gives its sessions to say goodbye. */
#define ROLE_STOP_GRACE 3

struct channel;
struct guard;
struct shm_table;

/* Tables every role process counts into (lib/shm-table.h), made once
   before the first fork and kept across reloads and restarts, so a count
   is the server's and not one process's. A member may be NULL (tests):
   its user then keeps a table of its own. */
struct role_shared {
	struct shm_table *auth_failures;   /* auth-penalty.h: failed logins per IP */
	struct shm_table *submission_user; /* smtp-rate.h: messages per user */
	struct shm_table *submission_ip;   /* smtp-rate.h: messages per IP */
	struct shm_table *guard;           /* guard.h: failures and bans per network */
};

struct role_ctx {
	struct event_base *base;
	const struct tern_settings *settings;
	SSL_CTX *tls; /* NULL when no certificate is configured/needed */
	struct workpool *pool;
	void *data;                       /* the role's own state, set by init */
	struct channel *channel;          /* to the supervisor; owned by the role loop */
	unsigned process_index;           /* 0..process_count-1 among this role's processes */
	const struct role_shared *shared; /* never NULL in a role process */
	/* Brute-force protection on shared->guard (guard.h): banned networks
	   are refused at accept; roles with logins count failures into it
	   (auth_set_guard). NULL outside a role process (tests). */
	struct guard *guard;
};

struct role_ops {
	const char *name; /* "smtp", "imap": the log's role= and the process name */
	/* The services whose listeners this role accepts on, declared by the
	   role's folder (e.g. smtp/smtp-settings.h) and listed in the config
	   schema too (cli/cli-settings.c); service_count 0: a role without
	   listeners. */
	const struct service_def *const *services;
	size_t service_count;
	/* After the privilege drop: open the directory etc. Returns 0, or -1
	   with a static/ctx-owned reason in *error_r (the role then exits with
	   a fatal log line and the supervisor restarts it later). */
	int (*init)(struct role_ctx *ctx, const char **error_r);
	/* A connection was accepted on a listener of `service` (TLS mode as
	   configured). The role owns fd from now on and creates its session,
	   typically with conn_new(base, fd, peer, peerlen, ctx->tls,
	   tls == TLS_MODE_IMPLICIT, ...). Limits are already checked. NULL
	   for a role without services. */
	void (*accept)(struct role_ctx *ctx, int fd, const struct sockaddr *peer, socklen_t peerlen,
	               const struct service_def *service, enum tls_mode tls);
	/* Optional: the mailbox of user (a normalised address, NUL-terminated,
	   valid for the call) changed in some process (this one included): a
	   delivery, APPEND, COPY, EXPUNGE or a flag change. Roles with it set
	   receive every such notification. */
	void (*mailbox_changed)(struct role_ctx *ctx, const char *user);
	/* Optional: a message was queued (id as in the queue, NUL-terminated).
	   For the coming queue role; roles with it set receive every one. */
	void (*message_queued)(struct role_ctx *ctx, const char *id);
	/* The loop has ended (all sessions are closed): free ctx->data. */
	void (*deinit)(struct role_ctx *ctx);
	/* This role's process does the server's periodic upkeep: writing the
	   guard's bans to the directory and applying `tern ban` changes
	   (guard-sync.h). One role sets it, one that runs a single process
	   (the queue role). */
	bool housekeeping;
};

/* True if ops declares service among its services. */
bool role_serves(const struct role_ops *ops, const struct service_def *service);

/* Tell every role process that handles mailbox_changed (this one and the
   other processes of this role included) that user's mailbox changed. One
   call per change after it is durable; never blocks. user is a normalised
   address (at most CHANNEL_MAX_NAME bytes, printable, no spaces); a user
   that cannot be sent or a channel that is gone is logged and dropped:
   IDLE sessions then see the change at their next poll. */
void role_notify_mailbox_changed(struct role_ctx *ctx, const char *user);
/* The same for "message queued" with a queue id (for the queue role). */
void role_notify_message_queued(struct role_ctx *ctx, const char *id);

/* How the supervisor starts one role process. */
struct role_start {
	const struct tern_settings *settings;
	SSL_CTX *tls;
	/* The supervisor's current set; the role closes the ones it does not
	   serve. */
	struct listener *const *listeners;
	size_t listener_count;
	int channel_fd;         /* this process's end of the socketpair; -1 for none */
	unsigned process_index; /* which of the role's processes this is */
	unsigned process_count; /* how many the role runs (>= 1) */
	const struct role_shared *shared;
};

/* Run a role in a freshly forked child; never returns (exits 0 after a
   stop or drain, 1 on a fatal error). Every process of a role accepts on
   the same inherited listening sockets (docs/processes.md says why). When
   running as root it
   drops privileges to settings->run_user first (fatal if the user is
   missing or root can be regained); then it sets PR_SET_NO_NEW_PRIVS and,
   where the kernel has Landlock, limits its file system access to the data
   dir (one log line when Landlock is missing). Signals: SIGTERM = stop
   (sessions get on_shutdown, exit within ROLE_STOP_GRACE s), SIGUSR1 or a
   reload message on the channel = drain (stop accepting, exit when the
   last session ends or after ROLE_DRAIN_LIMIT s). The role dies with its
   parent (PR_SET_PDEATHSIG) and stops when its channel closes. */
void role_run(const struct role_ops *ops, const struct role_start *start) __attribute__((noreturn));

#endif
