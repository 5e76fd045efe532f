#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/xalloc.h"
#include "net/conn-deflate.h"
#include "net/conn-set.h"
#include "net/tls.h"

struct conn {
	struct conn *prev, *next; /* the live list of this process */
	struct event_base *base;
	struct bufferevent *bev;
	int fd;
	SSL_CTX *tls_ctx;
	const struct conn_handler *handler;
	void *ctx;

	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_ip[INET6_ADDRSTRLEN];
	char local_ip[INET6_ADDRSTRLEN];
	char sid[SESSION_ID_LEN + 1];
	char *tls_desc;

	/* Work the loop does for us later, so no callback runs inside a
	   conn_* call (see conn.h). */
	struct event *deferred;
	/* Output written between conn_starttls() and the handshake start; it
	   must not go out in plaintext. */
	struct evbuffer *held_out;
	const char *close_reason;
	unsigned idle_timeout;

	/* COMPRESS (conn_start_deflate): the peer's bytes inflated into zin
	   (what conn_input() gives), the session's output gathered in zout
	   and compressed once per loop pass. NULL while not compressed. */
	struct conn_deflate *z;
	struct evbuffer *zin, *zout;

	/* Outgoing connections (conn_connect). */
	char *server_name; /* SNI and name to verify; NULL: none */
	enum conn_verify verify;
	int (*tls_prepare)(SSL *ssl, void *arg);
	void *tls_prepare_arg;
	unsigned connect_timeout;
	bool outgoing;
	bool connecting; /* waiting for connect (and its implicit handshake) */

	bool tls;          /* TLS on (or STARTTLS requested) */
	bool handshaking;  /* handshake not finished yet */
	bool upgrading;    /* STARTTLS requested, waiting for the reply to flush */
	bool paused;       /* the session paused reading */
	bool closing;      /* conn_close(): flushing, then on_close */
	bool peer_eof;     /* the peer closed its side */
	bool discarding;   /* conn_read_line: skipping the rest of an overlong line */
	bool want_read;    /* deferred: offer buffered input to on_read */
	bool want_finish;  /* deferred: call on_close and free */
	bool want_upgrade; /* deferred: start the STARTTLS handshake */
	bool want_zflush;  /* deferred: compress zout into the transport */
};

static struct conn *live_head;
static size_t live_count;
static void (*empty_hook)(void *ctx);
static void *empty_hook_ctx;

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_handshake_done(struct conn *conn);
static void conn_zflush(struct conn *conn);
static void conn_feed(struct conn *conn);

/* ---- the live list ---- */

static void live_add(struct conn *conn)
{
	conn->next = live_head;
	if (live_head != NULL)
		live_head->prev = conn;
	live_head = conn;
	live_count++;
}

static void live_remove(struct conn *conn)
{
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		live_head = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	live_count--;
}

size_t conn_count(void)
{
	return live_count;
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET) {
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr,
		              sizeof(struct in6_addr)) == 0;
	}
	return false;
}

size_t conn_count_for_peer(const struct sockaddr *peer, socklen_t peerlen)
{
	size_t n = 0;

	for (struct conn *c = live_head; c != NULL; c = c->next) {
		if (same_ip(&c->peer, peer))
			n++;
	}
	return n;
}

void conn_set_empty_hook(void (*hook)(void *ctx), void *ctx)
{
	empty_hook = hook;
	empty_hook_ctx = ctx;
}

/* ---- setup ---- */

void conn_addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (sa->sa_family == AF_UNIX)
		snprintf(out, outlen, "unix"); /* a local process (net/listener.h) */
	else if (a == NULL || inet_ntop(sa->sa_family, a, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "unknown");
}

static void conn_set_timeouts(struct conn *conn)
{
	struct timeval rd = {conn->idle_timeout, 0};
	struct timeval wr = {CONN_WRITE_TIMEOUT, 0};

	if (conn->connecting) {
		rd.tv_sec = wr.tv_sec = conn->connect_timeout;
		bufferevent_set_timeouts(conn->bev, &rd, &wr);
	} else if (conn->handshaking) {
		rd.tv_sec = CONN_HANDSHAKE_TIMEOUT;
		bufferevent_set_timeouts(conn->bev, &rd, &wr);
	} else {
		bufferevent_set_timeouts(conn->bev, conn->idle_timeout > 0 ? &rd : NULL, &wr);
	}
}

/* Point the conn at a new bufferevent and arm it. */
static void conn_attach(struct conn *conn, struct bufferevent *bev)
{
	conn->bev = bev;
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, conn);
	bufferevent_setwatermark(bev, EV_READ, 0, CONN_MAX_INPUT_BUFFER);
	conn_set_timeouts(conn);
	if (!conn->paused && !conn->closing)
		bufferevent_enable(bev, EV_READ);
	bufferevent_enable(bev, EV_WRITE);
}

/* Client side: SNI and the verification asked for. Returns 0 or -1. */
static int tls_client_setup(struct conn *conn, SSL *ssl)
{
	if (conn->server_name != NULL && SSL_set_tlsext_host_name(ssl, conn->server_name) != 1)
		return -1;
	if (conn->verify == CONN_VERIFY_NONE)
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	else
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	if (conn->verify == CONN_VERIFY_NAME) {
		/* No name: nothing can match, so the handshake fails. */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, conn->server_name != NULL ? conn->server_name : "") != 1)
			return -1;
	}
	if (conn->tls_prepare != NULL)
		return conn->tls_prepare(ssl, conn->tls_prepare_arg);
	return 0;
}

/* A TLS bufferevent on conn->fd (server side, or client side for an
   outgoing conn), or NULL. */
static struct bufferevent *tls_bev_new(struct conn *conn)
{
	SSL *ssl = SSL_new(conn->tls_ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	if (conn->outgoing && tls_client_setup(conn, ssl) < 0) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(conn->base, conn->fd, ssl,
	                                     conn->outgoing ? BUFFEREVENT_SSL_CONNECTING
	                                                    : BUFFEREVENT_SSL_ACCEPTING,
	                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Many clients close TCP without a close_notify; that is an EOF,
	   not an attack (we never rely on length-less framing). */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	conn->tls = true;
	conn->handshaking = true;
	return bev;
}

static void deferred_cb(evutil_socket_t fd, short what, void *arg);

static struct conn *conn_alloc(struct event_base *base, int fd, const struct sockaddr *peer,
                               socklen_t peerlen, SSL_CTX *tls_ctx)
{
	struct conn *conn = xcalloc(1, sizeof(*conn));
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);

	conn->base = base;
	conn->fd = fd;
	conn->tls_ctx = tls_ctx;
	if (peerlen > sizeof(conn->peer))
		peerlen = sizeof(conn->peer);
	memcpy(&conn->peer, peer, peerlen);
	conn->peerlen = peerlen;
	conn_addr_text(peer, conn->peer_ip, sizeof(conn->peer_ip));
	if (getsockname(fd, (struct sockaddr *)&local, &locallen) == 0)
		conn_addr_text((struct sockaddr *)&local, conn->local_ip, sizeof(conn->local_ip));
	else
		snprintf(conn->local_ip, sizeof(conn->local_ip), "unknown");
	session_id_new(conn->sid);
	conn->deferred = event_new(base, -1, 0, deferred_cb, conn);
	conn->held_out = evbuffer_new();
	if (conn->deferred == NULL || conn->held_out == NULL)
		log_fatal("event=conn.alloc_failed");
	return conn;
}

static void conn_dealloc(struct conn *conn)
{
	conn_deflate_free(conn->z);
	if (conn->zin != NULL)
		evbuffer_free(conn->zin);
	if (conn->zout != NULL)
		evbuffer_free(conn->zout);
	event_free(conn->deferred);
	evbuffer_free(conn->held_out);
	free(conn->tls_desc);
	free(conn->server_name);
	free(conn);
}

/* Replies are written in pieces (a FETCH response, an SMTP reply group);
   without TCP_NODELAY the last small piece waits for the client's delayed
   ACK, about 40 ms per command. Not a TCP socket (tests use socketpairs):
   nothing to do. */
static void conn_set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct conn *conn_new(struct event_base *base, int fd, const struct sockaddr *peer,
                      socklen_t peerlen, SSL_CTX *tls_ctx, bool implicit,
                      const struct conn_handler *handler, void *ctx)
{
	struct conn *conn = conn_alloc(base, fd, peer, peerlen, tls_ctx);
	struct bufferevent *bev = NULL;

	conn_set_nodelay(fd);

	conn->handler = handler;
	conn->ctx = ctx;
	if (implicit && tls_ctx != NULL)
		bev = tls_bev_new(conn);
	else if (!implicit)
		bev = bufferevent_socket_new(base, fd, BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		log_warn(conn->sid, "event=conn.setup_failed ip=%s reason=%s", conn->peer_ip,
		         implicit && tls_ctx == NULL ? "no-tls-context" : "out-of-resources");
		ERR_clear_error();
		close(fd);
		conn_dealloc(conn);
		return NULL;
	}
	conn_attach(conn, bev);
	live_add(conn);
	log_debug(conn->sid, "event=conn.open ip=%s local=%s tls=%s", conn->peer_ip, conn->local_ip,
	          conn->tls ? "yes" : "no");
	return conn;
}

/* ---- outgoing ---- */

struct conn *conn_connect(struct event_base *base, const struct conn_connect_params *params,
                          const struct conn_handler *handler, void *ctx, const char **error_r)
{
	const struct sockaddr *sa = params->addr;
	struct bufferevent *bev = NULL;
	struct conn *conn;
	int fd;

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    params->addrlen > sizeof(struct sockaddr_storage)) {
		*error_r = "bad address family";
		return NULL;
	}
	if (params->implicit_tls && params->tls_ctx == NULL) {
		*error_r = "implicit TLS without a TLS context";
		return NULL;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return NULL;
	}
	conn_set_nodelay(fd);
	conn = conn_alloc(base, fd, sa, params->addrlen, params->tls_ctx);
	conn->handler = handler;
	conn->ctx = ctx;
	conn->outgoing = true;
	conn->connecting = true;
	conn->verify = params->verify;
	conn->tls_prepare = params->tls_prepare;
	conn->tls_prepare_arg = params->tls_prepare_arg;
	conn->connect_timeout = params->timeout > 0 ? params->timeout : CONN_CONNECT_TIMEOUT;
	if (params->server_name != NULL)
		conn->server_name = xstrdup(params->server_name);
	bev = params->implicit_tls ? tls_bev_new(conn)
	                           : bufferevent_socket_new(base, fd, BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		ERR_clear_error();
		close(fd);
		conn_dealloc(conn);
		*error_r = "out of resources";
		return NULL;
	}
	conn_attach(conn, bev);
	/* Refused at once (a local port with no listener) comes back as an
	   error event, so the caller sees one path for every failure. */
	(void)bufferevent_socket_connect(bev, sa, (int)params->addrlen);
	live_add(conn);
	log_debug(conn->sid, "event=conn.connect ip=%s tls=%s", conn->peer_ip,
	          conn->tls ? "yes" : "no");
	return conn;
}

/* The outgoing connection is up (and its implicit TLS handshake done). */
static void conn_connected(struct conn *conn)
{
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);

	conn->connecting = false;
	if (conn->tls)
		conn_handshake_done(conn);
	if (getsockname(conn->fd, (struct sockaddr *)&local, &locallen) == 0)
		conn_addr_text((struct sockaddr *)&local, conn->local_ip, sizeof(conn->local_ip));
	conn_set_timeouts(conn);
	if (conn->handler->on_connected != NULL)
		conn->handler->on_connected(conn, conn->ctx);
}

/* ---- closing ---- */

static void conn_schedule(struct conn *conn)
{
	event_active(conn->deferred, EV_TIMEOUT, 1);
}

/* Tell the session, release everything. Only from loop callbacks. */
static void conn_finish(struct conn *conn, const char *reason)
{
	log_debug(conn->sid, "event=conn.close ip=%s reason=\"%s\"", conn->peer_ip, reason);
	if (conn->z != NULL) {
		size_t ir, iz, or, oz;
		conn_deflate_counts(conn->z, &ir, &iz, & or, &oz);
		log_debug(conn->sid, "event=conn.deflate in=%zu/%zu out=%zu/%zu", iz, ir, oz, or);
	}
	conn->handler->on_close(conn, conn->ctx, reason);
	bufferevent_free(conn->bev);
	/* A TLS bufferevent closes the fd itself (BEV_OPT_CLOSE_ON_FREE); a
	   plain one does not, so that STARTTLS can keep the socket. */
	if (!conn->tls)
		close(conn->fd);
	live_remove(conn);
	conn_dealloc(conn);
	if (live_count == 0 && empty_hook != NULL)
		empty_hook(empty_hook_ctx);
}

/* Stop reading, flush, then finish with reason (a static string). */
static void conn_start_close(struct conn *conn, const char *reason)
{
	if (conn->closing)
		return;
	conn_zflush(conn);
	conn->closing = true;
	conn->close_reason = reason;
	bufferevent_disable(conn->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0 && !conn->upgrading) {
		conn->want_finish = true;
		conn_schedule(conn);
	}
}

void conn_close(struct conn *conn)
{
	conn_start_close(conn, "closed");
}

void conn_shutdown_all(void)
{
	struct conn *next;

	for (struct conn *c = live_head; c != NULL; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		if (c->handler->on_shutdown != NULL)
			c->handler->on_shutdown(c, c->ctx);
		else
			conn_close(c);
	}
}

void conn_abort_all(const char *reason)
{
	while (live_head != NULL)
		conn_finish(live_head, reason);
}

/* ---- events from the loop ---- */

/* The peer closed its side: hand over what is buffered, then close, unless
   the session is busy (paused) or already closing. */
static void conn_check_eof(struct conn *conn)
{
	if (!conn->peer_eof || conn->paused || conn->closing)
		return;
	if (conn->z != NULL) {
		conn_feed(conn);
		if (conn->paused || conn->closing)
			return;
	} else if (evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0 && !conn->discarding) {
		conn->handler->on_read(conn, conn->ctx);
		if (conn->paused || conn->closing)
			return;
	}
	conn_start_close(conn, "peer closed");
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;

	if (conn->paused || conn->closing || conn->upgrading)
		return;
	if (conn->z != NULL)
		conn_feed(conn);
	else
		conn->handler->on_read(conn, conn->ctx);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;

	if (conn->upgrading) {
		conn->want_upgrade = true;
		conn_schedule(conn);
	} else if (conn->closing) {
		conn_finish(conn, conn->close_reason);
	} else if (conn->handler->on_drained != NULL) {
		conn->handler->on_drained(conn, conn->ctx);
	}
}

static void conn_handshake_done(struct conn *conn)
{
	SSL *ssl = bufferevent_openssl_get_ssl(conn->bev);

	conn->handshaking = false;
	conn->tls_desc = xasprintf("%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	log_debug(conn->sid, "event=tls.established ip=%s tls=\"%s\"", conn->peer_ip,
	          conn->tls_desc);
	conn_set_timeouts(conn);
	if (!conn->outgoing && conn->handler->on_tls_ready != NULL)
		conn->handler->on_tls_ready(conn, conn->ctx);
}

/* Reason text for an error event; static for the common cases. */
static const char *conn_error_reason(struct conn *conn, short what, char *tmp, size_t tmplen)
{
	unsigned long ssl_err = conn->tls ? bufferevent_get_openssl_error(conn->bev) : 0;
	int err = (what & BEV_EVENT_EOF) != 0 ? 0 : EVUTIL_SOCKET_ERROR();

	if (ssl_err != 0) {
		char text[200];
		ERR_error_string_n(ssl_err, text, sizeof(text));
		while (bufferevent_get_openssl_error(conn->bev) != 0)
			;
		snprintf(tmp, tmplen, "%s: %s",
		         conn->handshaking ? "TLS handshake failed" : "TLS error", text);
	} else if (conn->connecting && (!conn->tls || err != 0)) {
		snprintf(tmp, tmplen, "connect failed: %s",
		         err != 0 ? strerror(err) : "connection closed");
	} else if (conn->handshaking) {
		snprintf(tmp, tmplen, "TLS handshake failed: %s",
		         err != 0 ? strerror(err) : "connection closed");
	} else {
		snprintf(tmp, tmplen, "I/O error: %s", err != 0 ? strerror(err) : "unknown");
	}
	return tmp;
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *conn = arg;
	char tmp[300];

	if ((what & BEV_EVENT_CONNECTED) != 0) {
		if (conn->connecting)
			conn_connected(conn);
		else
			conn_handshake_done(conn);
	} else if ((what & BEV_EVENT_TIMEOUT) != 0) {
		if (conn->connecting)
			conn_finish(conn, "connect timeout");
		else if ((what & BEV_EVENT_WRITING) != 0)
			conn_finish(conn, "write timeout");
		else
			conn_finish(conn,
			            conn->handshaking ? "TLS handshake timeout" : "idle timeout");
	} else if ((what & BEV_EVENT_EOF) != 0 && !conn->handshaking) {
		conn->peer_eof = true;
		conn_check_eof(conn);
	} else if ((what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) != 0) {
		const char *reason = conn_error_reason(conn, what, tmp, sizeof(tmp));
		if (conn->handshaking)
			log_info(conn->sid, "event=tls.failed ip=%s reason=\"%s\"", conn->peer_ip,
			         reason);
		conn_finish(conn, reason);
	}
}

/* ---- STARTTLS ---- */

int conn_starttls(struct conn *conn)
{
	struct evbuffer *in;

	if (conn->tls_ctx == NULL || conn->tls || conn->closing || conn->z != NULL)
		return -1;
	in = bufferevent_get_input(conn->bev);
	/* RFC 3207 section 6: anything the client pipelined after STARTTLS
	   was sent in plaintext and must not be acted on. */
	evbuffer_drain(in, evbuffer_get_length(in));
	conn->discarding = false;
	conn->tls = true;
	conn->upgrading = true;
	bufferevent_disable(conn->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0) {
		conn->want_upgrade = true;
		conn_schedule(conn);
	}
	return 0;
}

/* The reply to STARTTLS has gone out: replace the plain bufferevent with a
   TLS one on the same socket. Bytes the peer sent after the command that
   are still in the kernel become handshake input (and fail it if they are
   not TLS). */
static void conn_upgrade(struct conn *conn)
{
	struct bufferevent *plain = conn->bev;
	struct bufferevent *bev;

	conn->upgrading = false;
	conn->tls = false;
	bev = tls_bev_new(conn);
	bufferevent_free(plain);
	if (bev == NULL) {
		/* The plain bufferevent is gone; the socket is ours to close. */
		conn->bev = bufferevent_socket_new(conn->base, conn->fd, 0);
		if (conn->bev == NULL)
			log_fatal("event=conn.alloc_failed");
		ERR_clear_error();
		conn_finish(conn, "TLS setup failed");
		return;
	}
	conn_attach(conn, bev);
	if (evbuffer_get_length(conn->held_out) > 0)
		bufferevent_write_buffer(bev, conn->held_out);
	if (conn->closing) {
		conn->closing = false;
		conn_start_close(conn, conn->close_reason);
	}
}

static void deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;

	if (conn->want_zflush)
		conn_zflush(conn);
	if (conn->want_upgrade) {
		conn->want_upgrade = false;
		conn_upgrade(conn);
		return; /* conn may be gone */
	}
	if (conn->want_finish) {
		conn_finish(conn, conn->close_reason);
		return;
	}
	if (conn->want_read) {
		conn->want_read = false;
		if (conn->paused || conn->closing || conn->upgrading)
			return;
		if (conn->z != NULL)
			conn_feed(conn);
		else if (evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0)
			conn->handler->on_read(conn, conn->ctx);
		conn_check_eof(conn);
	}
}

/* ---- COMPRESS=DEFLATE ---- */

/* Rounds of inflate + on_read in one loop callback before the rest waits
   for the next pass (fairness between conns). */
#define CONN_FEED_ROUNDS 16

/* Queue output for the next compression pass (data may be NULL: it is
   already in zout). */
static void conn_zqueue(struct conn *conn, const void *data, size_t len)
{
	if (data != NULL)
		evbuffer_add(conn->zout, data, len);
	if (!conn->want_zflush) {
		conn->want_zflush = true;
		conn_schedule(conn);
	}
}

/* Compress what the session wrote since the last pass, sync-flushed. */
static void conn_zflush(struct conn *conn)
{
	conn->want_zflush = false;
	if (conn->z == NULL || evbuffer_get_length(conn->zout) == 0)
		return;
	if (conn_deflate_flush(conn->z, conn->zout, bufferevent_get_output(conn->bev)) < 0) {
		evbuffer_drain(conn->zout, evbuffer_get_length(conn->zout));
		log_warn(conn->sid, "event=conn.deflate_failed ip=%s", conn->peer_ip);
		conn_start_close(conn, "compression failed");
	}
}

/* Inflate the transport's bytes into zin up to the input limit. Returns 0,
   or -1 when the peer's stream is corrupt (the conn is closing then). */
static int conn_inflate(struct conn *conn)
{
	size_t have = evbuffer_get_length(conn->zin);
	const char *error;

	if (have >= CONN_MAX_INPUT_BUFFER)
		return 0;
	if (conn_deflate_inflate(conn->z, bufferevent_get_input(conn->bev), conn->zin,
	                         CONN_MAX_INPUT_BUFFER - have, &error) < 0) {
		log_info(conn->sid, "event=conn.inflate_failed ip=%s reason=\"%s\"", conn->peer_ip,
		         error);
		conn_start_close(conn, "corrupt compressed input");
		return -1;
	}
	return 0;
}

/* Offer the peer's inflated input to on_read, inflating more as the
   session consumes, until nothing more can be inflated now. */
static void conn_feed(struct conn *conn)
{
	for (unsigned i = 0; i < CONN_FEED_ROUNDS; i++) {
		size_t before;

		if (conn_inflate(conn) < 0)
			return;
		before = evbuffer_get_length(conn->zin);
		if (before == 0)
			return;
		conn->handler->on_read(conn, conn->ctx);
		if (conn->paused || conn->closing || conn->upgrading)
			return;
		if (evbuffer_get_length(conn->zin) >= before)
			return; /* the session waits for more than there is room for */
		if (evbuffer_get_length(bufferevent_get_input(conn->bev)) == 0 &&
		    !conn_deflate_inflate_pending(conn->z))
			return;
	}
	conn->want_read = true;
	conn_schedule(conn);
}

int conn_start_deflate(struct conn *conn, const char **error_r)
{
	if (conn->z != NULL) {
		*error_r = "compression already active";
		return -1;
	}
	if (conn->closing || conn->upgrading || conn->handshaking) {
		*error_r = "connection not ready";
		return -1;
	}
	conn->z = conn_deflate_new();
	if (conn->z == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	conn->zin = evbuffer_new();
	conn->zout = evbuffer_new();
	if (conn->zin == NULL || conn->zout == NULL)
		log_fatal("event=conn.alloc_failed");
	conn->discarding = false;
	/* Bytes the peer sent after its command are already compressed. */
	if (evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0) {
		conn->want_read = true;
		conn_schedule(conn);
	}
	return 0;
}

bool conn_is_compressed(const struct conn *conn)
{
	return conn->z != NULL;
}

/* ---- the session's calls ---- */

struct evbuffer *conn_input(struct conn *conn)
{
	return conn->z != NULL ? conn->zin : bufferevent_get_input(conn->bev);
}

/* Skip input through the next LF. Returns true once the LF is consumed. */
static bool conn_skip_line(struct evbuffer *in)
{
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);

	if (p.pos < 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return false;
	}
	evbuffer_drain(in, (size_t)p.pos + 1);
	return true;
}

int conn_read_line(struct conn *conn, size_t max, struct buf *line_r)
{
	struct evbuffer *in = conn_input(conn);
	struct evbuffer_ptr p;
	size_t len;

	if (conn->discarding) {
		if (!conn_skip_line(in))
			return 0;
		conn->discarding = false;
	}
	p = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		if (evbuffer_get_length(in) < max)
			return 0;
		conn->discarding = true;
		evbuffer_drain(in, evbuffer_get_length(in));
		return -1;
	}
	len = (size_t)p.pos + 1;
	if (len > max) {
		evbuffer_drain(in, len);
		return -1;
	}
	buf_clear(line_r);
	buf_reserve(line_r, len);
	evbuffer_remove(in, line_r->data, len);
	len--; /* the LF */
	if (len > 0 && line_r->data[len - 1] == '\r')
		len--;
	line_r->len = len;
	line_r->data[len] = '\0';
	return 1;
}

void conn_write(struct conn *conn, const void *data, size_t len)
{
	if (conn->closing)
		return;
	if (conn->upgrading)
		evbuffer_add(conn->held_out, data, len);
	else if (conn->z != NULL)
		conn_zqueue(conn, data, len);
	else
		bufferevent_write(conn->bev, data, len);
}

void conn_printf(struct conn *conn, const char *fmt, ...)
{
	va_list ap;

	if (conn->closing)
		return;
	va_start(ap, fmt);
	if (conn->z != NULL) {
		evbuffer_add_vprintf(conn->zout, fmt, ap);
		conn_zqueue(conn, NULL, 0);
	} else {
		evbuffer_add_vprintf(
		    conn->upgrading ? conn->held_out : bufferevent_get_output(conn->bev), fmt, ap);
	}
	va_end(ap);
}

size_t conn_output_pending(struct conn *conn)
{
	return evbuffer_get_length(bufferevent_get_output(conn->bev)) +
	       evbuffer_get_length(conn->held_out) +
	       (conn->zout != NULL ? evbuffer_get_length(conn->zout) : 0);
}

bool conn_is_tls(const struct conn *conn)
{
	return conn->tls || conn->upgrading;
}

SSL *conn_ssl(const struct conn *conn)
{
	if (!conn->tls || conn->handshaking)
		return NULL;
	return bufferevent_openssl_get_ssl(conn->bev);
}

const char *conn_tls_description(const struct conn *conn)
{
	return conn->tls_desc;
}

const char *conn_peer_ip(const struct conn *conn)
{
	return conn->peer_ip;
}

bool conn_peer_is_loopback(const struct conn *conn)
{
	if (conn->peer.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&conn->peer;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (conn->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&conn->peer;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return false;
}

const char *conn_local_ip(const struct conn *conn)
{
	return conn->local_ip;
}

const char *conn_sid(const struct conn *conn)
{
	return conn->sid;
}

void conn_set_idle_timeout(struct conn *conn, unsigned seconds)
{
	conn->idle_timeout = seconds;
	conn_set_timeouts(conn);
}

void conn_pause_reading(struct conn *conn)
{
	conn->paused = true;
	bufferevent_disable(conn->bev, EV_READ);
}

void conn_resume_reading(struct conn *conn)
{
	if (!conn->paused)
		return;
	conn->paused = false;
	if (conn->closing || conn->upgrading)
		return;
	if (!conn->peer_eof)
		bufferevent_enable(conn->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0 || conn->peer_eof ||
	    (conn->z != NULL && evbuffer_get_length(conn->zin) > 0) ||
	    (conn->z != NULL && conn_deflate_inflate_pending(conn->z))) {
		conn->want_read = true;
		conn_schedule(conn);
	}
}
