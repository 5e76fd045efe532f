/* The POP3 server: see pop3-server.h. */
#include <stdlib.h>

#include "auth/auth-settings.h"
#include "auth/auth.h"
#include "auth/sasl-cbind.h"
#include "pop3/pop3-private.h"
#include "lib/xalloc.h"

struct pop3_server *pop3_server_new(struct event_base *base, const struct tern_settings *settings,
                                    SSL_CTX *tls, struct auth *auth,
                                    struct mail_user_registry *users, struct role_ctx *role)
{
	struct pop3_server *server = xcalloc(1, sizeof(*server));

	server->base = base;
	server->settings = settings;
	server->tls = tls;
	server->auth = auth;
	server->users = users;
	server->role = role;
	server->auth_fail_delay = (struct timeval){POP3_AUTH_FAIL_DELAY, 0};
	return server;
}

void pop3_server_free(struct pop3_server **server)
{
	free(*server);
	*server = NULL;
}

void pop3_server_accept(struct pop3_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls)
{
	pop3_session_start(server, fd, peer, peerlen, implicit_tls);
}

void pop3_server_set_fail_delay(struct pop3_server *server, struct timeval delay)
{
	server->auth_fail_delay = delay;
}

bool pop3_plaintext_allowed(struct pop3_session *s)
{
	/* DESIGN: plain passwords only over TLS, loopback if configured. */
	return conn_is_tls(s->conn) || (auth_settings(s->server->settings)->plaintext_on_loopback &&
	                                conn_peer_is_loopback(s->conn));
}

void pop3_sasl_mechs(struct pop3_session *s, struct buf *out)
{
	struct sasl_channel_binding cb;
	const char *sep = "";

	if (pop3_plaintext_allowed(s)) {
		buf_append_str(out, "PLAIN");
		sep = " ";
	}
	if (auth_scram_offered(s->server->auth)) {
		buf_printf(out, "%sSCRAM-SHA-256", sep);
		sasl_channel_binding_from_ssl(conn_ssl(s->conn), &cb);
		if (sasl_channel_binding_usable(&cb))
			buf_append_str(out, " SCRAM-SHA-256-PLUS");
	}
}
