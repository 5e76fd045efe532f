#ifndef TERN_NET_ROLE_H
#define TERN_NET_ROLE_H

/*
 * A role process: one libevent loop serving some services (role "smtp":
 * smtp, submission, submissions; role "imap": imap, imaps). The supervisor
 * forks it with the listeners already bound and the TLS context already
 * loaded; the role drops root, accepts connections and hands each one to
 * its role_ops. See docs/processes.md.
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
/* Connections one peer IP may hold at once in one role. */
#define ROLE_MAX_CONNECTIONS_PER_IP 50
/* Worker threads of each role's workpool. */
#define ROLE_WORKER_THREADS 4
/* Seconds a draining role (old generation after a reload) keeps serving its
   sessions before it shuts them down. */
#define ROLE_DRAIN_LIMIT 3600
/* Seconds a stopping role gives its sessions to say goodbye. */
#define ROLE_STOP_GRACE 3

struct role_ctx {
	struct event_base *base;
	const struct tern_settings *settings;
	SSL_CTX *tls; /* NULL when no certificate is configured/needed */
	struct workpool *pool;
	void *data; /* the role's own state, set by init */
};

struct role_ops {
	const char *name; /* "smtp", "imap" */
	/* After the privilege drop: open the directory etc. Returns 0, or -1
	   with a static/ctx-owned reason in *error_r (the role then exits with
	   a fatal log line and the supervisor restarts it later). */
	int (*init)(struct role_ctx *ctx, const char **error_r);
	/* A connection was accepted on a listener of `service` (TLS mode as
	   configured). The role owns fd from now on and creates its session,
	   typically with conn_new(base, fd, peer, peerlen, ctx->tls,
	   tls == TLS_MODE_IMPLICIT, ...). Limits are already checked. */
	void (*accept)(struct role_ctx *ctx, int fd, const struct sockaddr *peer, socklen_t peerlen,
	               enum service service, enum tls_mode tls);
	/* The loop has ended (all sessions are closed): free ctx->data. */
	void (*deinit)(struct role_ctx *ctx);
};

extern const struct role_ops smtp_role_ops; /* defined in src/smtp/ */
extern const struct role_ops imap_role_ops; /* defined in src/imap/ */

/* True if the role named ops->name serves service (smtp: smtp, submission,
   submissions; imap: imap, imaps). */
bool role_serves(const struct role_ops *ops, enum service service);

/* Run a role in a freshly forked child; never returns (exits 0 after a
   stop or drain, 1 on a fatal error). listeners is the supervisor's
   current set (the role closes the ones it does not serve). When running
   as root it drops privileges to settings->run_user first (fatal if the
   user is missing or root can be regained). Signals: SIGTERM = stop
   (sessions get on_shutdown, exit within ROLE_STOP_GRACE s), SIGUSR1 =
   drain (stop accepting, exit when the last session ends or after
   ROLE_DRAIN_LIMIT s). The role dies with its parent (PR_SET_PDEATHSIG). */
void role_run(const struct role_ops *ops, const struct tern_settings *settings, SSL_CTX *tls,
              struct listener *const *listeners, size_t listener_count) __attribute__((noreturn));

#endif
