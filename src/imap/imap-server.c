/* The IMAP server and the imap role: see imap-server.h. */
#include "imap/imap-server.h"

#include <stdlib.h>
#include <strings.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "directory/directory.h"
#include "guard/guard-settings.h"
#include "auth/sasl-cbind.h"
#include "imap/imap-private.h"
#include "lib/xalloc.h"
#include "managesieve/managesieve-server.h"
#include "managesieve/managesieve-settings.h"
#include "pop3/pop3-server.h"
#include "pop3/pop3-settings.h"
#include "store/mailbox.h"

/* A user whose sessions used its index for none of this long gives the
   connection back (docs/store.md, "Idle users give their index connection
   back"); checked every second. */
#define IDLE_INDEX_SECONDS 2

static void on_idle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct imap_server *server = arg;

	(void)fd;
	(void)what;
	(void)mail_user_registry_close_idle(server->users, IDLE_INDEX_SECONDS);
}

int imap_server_new(struct event_base *base, const struct tern_settings *settings, SSL_CTX *tls,
                    struct workpool *pool, struct shm_table *auth_failures,
                    struct imap_server **server_r, const char **error_r)
{
	struct imap_server *server = xcalloc(1, sizeof(*server));

	/* first: it sets SQLite up before the directory opens its database */
	server->users = mail_user_registry_new(settings->mail_dir);
	if (auth_new(settings->directory_path, pool, auth_settings(settings), auth_failures,
	             &server->auth, error_r) < 0) {
		mail_user_registry_free(&server->users);
		free(server);
		return -1;
	}
	server->base = base;
	server->idle_timer = event_new(base, -1, EV_PERSIST, on_idle_timer, server);
	if (server->idle_timer != NULL)
		event_add(server->idle_timer, &(struct timeval){1, 0});
	server->settings = settings;
	server->tls = tls;
	server->pool = pool;
	server->auth_fail_delay = (struct timeval){IMAP_AUTH_FAIL_DELAY, 0};
	*server_r = server;
	return 0;
}

void imap_server_free(struct imap_server **server)
{
	if (*server == NULL)
		return;
	if ((*server)->idle_timer != NULL)
		event_free((*server)->idle_timer);
	auth_free(&(*server)->auth);
	directory_close(&(*server)->quota_dir);
	mail_user_registry_free(&(*server)->users);
	free(*server);
	*server = NULL;
}

void imap_server_accept(struct imap_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls)
{
	imap_session_start(server, fd, peer, peerlen, implicit_tls);
}

void imap_notify_changed(struct imap_session *s)
{
	if (s->server->role != NULL && s->username != NULL)
		role_notify_mailbox_changed(s->server->role, s->username);
}

void imap_server_mailbox_changed(struct imap_server *server, const char *user)
{
	struct imap_session *next;

	mail_user_registry_notify(server->users, user);
	imap_notify_wake(server, user);
	for (struct imap_session *s = server->idlers; s != NULL; s = next) {
		next = s->idle_next; /* a sync that fails may end the session */
		if (s->username != NULL && strcasecmp(s->username, user) == 0 &&
		    s->input == IMAP_INPUT_IDLE && !s->closed)
			(void)imap_session_sync(s);
	}
}

bool imap_plaintext_allowed(struct imap_session *s)
{
	/* DESIGN: plain passwords only over TLS, loopback if configured. */
	return conn_is_tls(s->conn) || (auth_settings(s->server->settings)->plaintext_on_loopback &&
	                                conn_peer_is_loopback(s->conn));
}

/* The AUTH= capabilities, only where plain passwords may go (TLS, or
   loopback when allowed): PLAIN, SCRAM when the directory has keys, -PLUS
   with binding data. */
static void imap_capability_auth(struct imap_session *s, struct buf *caps)
{
	struct sasl_channel_binding cb;

	if (!imap_plaintext_allowed(s)) {
		buf_append_str(caps, " LOGINDISABLED");
		return;
	}
	buf_append_str(caps, " AUTH=PLAIN");
	if (auth_scram_offered(s->server->auth)) {
		buf_append_str(caps, " AUTH=SCRAM-SHA-256");
		sasl_channel_binding_from_ssl(conn_ssl(s->conn), &cb);
		if (sasl_channel_binding_usable(&cb))
			buf_append_str(caps, " AUTH=SCRAM-SHA-256-PLUS");
	}
}

void imap_capability(struct imap_session *s, struct buf *caps)
{
	buf_append_str(caps, "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID");
	if (s->state == IMAP_STATE_NOAUTH) {
		if (!conn_is_tls(s->conn) && s->server->tls != NULL)
			buf_append_str(caps, " STARTTLS");
		imap_capability_auth(s, caps);
	} else {
		buf_append_str(caps,
		               " IDLE UNSELECT NAMESPACE UIDPLUS MOVE SPECIAL-USE ENABLE BINARY"
		               " CONDSTORE QRESYNC");
		/* cmd-sort.c, cmd-search.c */
		buf_append_str(caps, " SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
		                     " ESEARCH ESORT SEARCHRES");
		/* cmd-fetch.c, cmd-metadata.c, cmd-list.c */
		buf_append_str(caps,
		               " OBJECTID SAVEDATE STATUS=SIZE PREVIEW METADATA METADATA-SERVER");
		/* cmd-list.c, cmd-folder.c, cmd-append.c */
		buf_append_str(caps,
		               " LIST-EXTENDED LIST-STATUS CHILDREN CREATE-SPECIAL-USE MULTIAPPEND"
		               " REPLACE CATENATE");
		/* imap-names.c, cmd-any.c (ENABLE) */
		buf_append_str(caps, " UTF8=ACCEPT");
		buf_append_str(caps, " COMPRESS=DEFLATE"); /* cmd-compress.c */
		buf_append_str(caps, " NOTIFY");           /* cmd-notify.c */
		buf_append_str(caps,
		               " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE"); /* cmd-quota.c */
	}
}

/* ---- the imap role ---- */

static int role_init(struct role_ctx *ctx, const char **error_r)
{
	struct imap_server *server;

	if (imap_server_new(ctx->base, ctx->settings, ctx->tls, ctx->pool,
	                    ctx->shared != NULL ? ctx->shared->auth_failures : NULL, &server,
	                    error_r) < 0)
		return -1;
	if (ctx->guard != NULL)
		auth_set_guard(server->auth, ctx->guard, guard_settings(ctx->settings));
	server->role = ctx;
	/* POP3 lives in the imap role (DESIGN.md): same directory, same users */
	server->pop3 =
	    pop3_server_new(ctx->base, ctx->settings, ctx->tls, server->auth, server->users, ctx);
	server->managesieve =
	    managesieve_server_new(ctx->base, ctx->settings, ctx->tls, server->auth, server->users);
	ctx->data = server;
	return 0;
}

static void role_accept(struct role_ctx *ctx, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, const struct service_def *service, enum tls_mode tls)
{
	struct imap_server *server = ctx->data;

	if (service == &pop3_service_pop3 || service == &pop3_service_pop3s)
		pop3_server_accept(server->pop3, fd, peer, peerlen, tls == TLS_MODE_IMPLICIT);
	else if (service == &managesieve_service_sieve)
		managesieve_server_accept(server->managesieve, fd, peer, peerlen);
	else
		imap_server_accept(server, fd, peer, peerlen, tls == TLS_MODE_IMPLICIT);
}

static void role_mailbox_changed(struct role_ctx *ctx, const char *user)
{
	imap_server_mailbox_changed(ctx->data, user);
}

static void role_deinit(struct role_ctx *ctx)
{
	struct imap_server *server = ctx->data;

	pop3_server_free(&server->pop3);
	managesieve_server_free(&server->managesieve);
	imap_server_free(&server);
	ctx->data = NULL;
}

static const struct service_def *const imap_services[] = {&imap_service_imap, &imap_service_imaps,
                                                          &pop3_service_pop3, &pop3_service_pop3s,
                                                          &managesieve_service_sieve};

const struct role_ops imap_role_ops = {
    .name = "imap",
    .services = imap_services,
    .service_count = sizeof(imap_services) / sizeof(imap_services[0]),
    .init = role_init,
    .accept = role_accept,
    .mailbox_changed = role_mailbox_changed,
    .deinit = role_deinit,
};
