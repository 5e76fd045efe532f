/* The ManageSieve server: see managesieve-server.h. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth-settings.h"
#include "auth/auth.h"
#include "auth/sasl-cbind.h"
#include "lib/xalloc.h"
#include "managesieve/managesieve-private.h"

struct managesieve_server *managesieve_server_new(struct event_base *base,
                                                  const struct tern_settings *settings,
                                                  SSL_CTX *tls, struct auth *auth,
                                                  struct mail_user_registry *users)
{
	struct managesieve_server *server = xcalloc(1, sizeof(*server));

	server->base = base;
	server->settings = settings;
	server->tls = tls;
	server->auth = auth;
	server->users = users;
	server->auth_fail_delay = (struct timeval){MSIEVE_AUTH_FAIL_DELAY, 0};
	return server;
}

void managesieve_server_free(struct managesieve_server **server)
{
	free(*server);
	*server = NULL;
}

void managesieve_server_accept(struct managesieve_server *server, int fd,
                               const struct sockaddr *peer, socklen_t peerlen)
{
	msieve_session_start(server, fd, peer, peerlen);
}

void managesieve_server_set_fail_delay(struct managesieve_server *server, struct timeval delay)
{
	server->auth_fail_delay = delay;
}

bool msieve_plaintext_allowed(struct managesieve_session *s)
{
	return conn_is_tls(s->conn) || (auth_settings(s->server->settings)->plaintext_on_loopback &&
	                                conn_peer_is_loopback(s->conn));
}

void msieve_sasl_mechs(struct managesieve_session *s, struct buf *out)
{
	struct sasl_channel_binding cb;
	const char *sep = "";

	if (msieve_plaintext_allowed(s)) {
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

void msieve_append_string(struct buf *b, const char *data, size_t len)
{
	bool literal = len > 1024;

	for (size_t i = 0; i < len && !literal; i++)
		literal = data[i] == '\r' || data[i] == '\n' || data[i] == '\0';
	if (literal) {
		buf_printf(b, "{%zu}\r\n", len);
		buf_append(b, data, len);
		return;
	}
	buf_append_char(b, '"');
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '"' || data[i] == '\\')
			buf_append_char(b, '\\');
		buf_append_char(b, data[i]);
	}
	buf_append_char(b, '"');
}
