#ifndef TERN_NET_CONN_H
#define TERN_NET_CONN_H

/*
 * One client connection: the socket, optional TLS (implicit or STARTTLS),
 * the idle timer, input and output buffers. Sessions (SMTP, IMAP) sit on top
 * of a conn and see only bytes: conn_input() / conn_read_line() to read,
 * conn_write() / conn_printf() to answer.
 *
 * Callbacks never run from inside a conn_* call made by the session: they
 * are always called from the event loop. In particular conn_close() never
 * calls on_close() before it returns, so a session may call conn_close()
 * from on_read() and keep using its own state until on_close() arrives.
 *
 * Each conn has a fresh session id (conn_sid()) that the net layer uses in
 * its own log lines; sessions should use the same id in theirs, so that one
 * connection's lines can be grepped together.
 *
 * Not thread-safe: every call must come from the event loop thread (a
 * worker-pool job hands its result back through its done callback).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/log.h"

/* Input beyond this many unconsumed bytes is not read from the socket until
   the session consumes some (backpressure against a flooding peer). */
#define CONN_MAX_INPUT_BUFFER (256 * 1024)
/* Seconds pending output may go unsent before the conn is closed with
   reason "write timeout" (a peer that never reads). */
#define CONN_WRITE_TIMEOUT 600
/* Seconds a TLS handshake may take. */
#define CONN_HANDSHAKE_TIMEOUT 30
/* Seconds an outgoing connect (and its implicit TLS handshake) may take
   unless the caller says otherwise. */
#define CONN_CONNECT_TIMEOUT 30

struct conn;

struct conn_handler {
	/* New bytes are available in conn_input(conn). Called again for each
	   new arrival (and by conn_resume_reading() when unread input is
	   waiting), so the session must consume every complete command it can
	   in one call. Not called while reading is paused or after
	   conn_close(). */
	void (*on_read)(struct conn *conn, void *ctx);
	/* The connection is going away (peer closed, I/O error, TLS failure,
	   idle timeout, or the server is stopping). reason is short text for
	   the log ("closed", "peer closed", "idle timeout", "write timeout",
	   "I/O error: ...", "TLS handshake failed: ..."). The session must free
	   its own state here and must not touch conn after returning; the conn
	   is freed by the net layer right after. Called exactly once. */
	void (*on_close)(struct conn *conn, void *ctx, const char *reason);
	/* Optional: the server is stopping or reloading; write a goodbye (SMTP
	   "421 4.3.2 ...", IMAP "* BYE ...") and call conn_close(). If NULL,
	   the connection is simply closed. A session that does not close
	   within a few seconds is closed by force. */
	void (*on_shutdown)(struct conn *conn, void *ctx);
	/* Optional: all output has been written to the socket (for flow
	   control when streaming big FETCH responses). */
	void (*on_drained)(struct conn *conn, void *ctx);
	/* Outgoing connections (conn_connect): the TCP connection, and the
	   TLS handshake with implicit TLS, succeeded; the peer's certificate
	   passed the verification asked for. A failure comes as on_close
	   instead ("connect failed: Connection refused", "connect timeout",
	   "TLS handshake failed: ... certificate verify failed"). */
	void (*on_connected)(struct conn *conn, void *ctx);
	/* Optional, accepted connections: the TLS handshake finished
	   (implicit TLS, or after conn_starttls()); from here conn_ssl() has
	   the data channel binding needs (RFC 9266 tls-exporter). */
	void (*on_tls_ready)(struct conn *conn, void *ctx);
};

/* Start serving an accepted connection. Takes ownership of fd (accepted,
   nonblocking). peer/peerlen is the address accept() returned (copied).
   tls_ctx may be NULL (no TLS available); it must outlive the conn.
   implicit: start the TLS handshake at once (ports 465/993); on_read is
   first called with decrypted bytes. handler must stay valid for the
   conn's lifetime; ctx is passed back to every callback.
   Returns the new conn, or NULL when it cannot be set up (implicit TLS
   without a tls_ctx, out of TLS resources): then fd is closed, the reason
   is logged, and no callback is ever called. A TLS handshake that fails
   later closes the conn through on_close() with a logged reason. */
struct conn *conn_new(struct event_base *base, int fd, const struct sockaddr *peer,
                      socklen_t peerlen, SSL_CTX *tls_ctx, bool implicit,
                      const struct conn_handler *handler, void *ctx);

/* What an outgoing connection checks of the server's certificate. */
enum conn_verify {
	CONN_VERIFY_NONE,  /* nothing (opportunistic TLS, as SMTP between MTAs) */
	CONN_VERIFY_CHAIN, /* a chain to a CA of the client context */
	CONN_VERIFY_NAME,  /* the chain, and server_name in the certificate */
};

struct conn_connect_params {
	const struct sockaddr *addr; /* IPv4 or IPv6 address and port */
	socklen_t addrlen;
	/* A client context (tls_client_ctx_new); NULL: no TLS at all, neither
	   implicit nor conn_starttls(). */
	SSL_CTX *tls_ctx;
	bool implicit_tls; /* handshake at once (465, 993) */
	/* Sent as SNI and matched with CONN_VERIFY_NAME; NULL: no SNI (then
	   CONN_VERIFY_NAME fails every handshake). */
	const char *server_name;
	enum conn_verify verify;
	/* Optional: called with the client SSL before its handshake, after
	   SNI and verify are set (the queue's TLS policy, tls_policy_apply).
	   Returning -1 fails the connection like a refused handshake. */
	int (*tls_prepare)(SSL *ssl, void *arg);
	void *tls_prepare_arg;
	unsigned timeout; /* seconds for connect + handshake; 0: CONN_CONNECT_TIMEOUT */
};

/* Open an outgoing connection (for the queue, a smarthost, milters,
   proxying). Nonblocking: returns the conn at once, then on_connected or
   on_close comes from the loop. handler and params->tls_ctx must outlive
   the conn (server_name is copied). conn_starttls() on it later starts a
   client handshake with the same SNI and verification (after the server's
   "ready" reply has been read). Output written before on_connected is sent
   once connected. Returns NULL with a static reason in *error_r when no
   socket can be made or the address is unusable ("bad address family",
   strerror text); no callback is called then. */
struct conn *conn_connect(struct event_base *base, const struct conn_connect_params *params,
                          const struct conn_handler *handler, void *ctx, const char **error_r);

/* The read side: decrypted bytes received and not yet consumed. The
   session drains (evbuffer_drain / evbuffer_remove) what it consumed.
   At most CONN_MAX_INPUT_BUFFER bytes are buffered. */
struct evbuffer *conn_input(struct conn *conn);

/* Take one line (through LF) from the input.
   Returns 1 with the line in *line_r (replacing its contents; CR LF or LF
   stripped, NUL-terminated, a bare CR inside kept); 0 when there is no
   complete line yet; -1 when the line is longer than max bytes (max counts
   the line end too, as RFC 5321 4.5.3.1.4 does): the bytes up to and
   including the next LF are discarded (resynchronising, possibly over
   later calls, which return 0 meanwhile) and the caller should answer with
   a "line too long" error once. -1 is returned as soon as max bytes without
   an LF are buffered, so a peer cannot make us buffer an endless line. */
int conn_read_line(struct conn *conn, size_t max, struct buf *line_r);

/* Queue bytes for sending. Never blocks. Ignored after conn_close(). The
   session bounds what it queues using conn_output_pending() / on_drained. */
void conn_write(struct conn *conn, const void *data, size_t len);
/* Queue formatted text (the caller writes its own CRLF). */
void conn_printf(struct conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes queued but not yet sent (before encryption when TLS is on). */
size_t conn_output_pending(struct conn *conn);

/* STARTTLS: call after writing the "ready to start TLS" reply (on an
   outgoing conn: after reading it; a client handshake starts). Discards
   any input already received (RFC 3207 section 6, RFC 2595 section 3.1:
   commands pipelined before the handshake must not be acted on), flushes
   the reply, then starts a server handshake; on_read is next called with
   bytes received over TLS. Reading stays enabled (the session should not
   pause it). Returns 0, or -1 if there is no TLS context or TLS is already
   on (nothing is changed then; the session answers with an error). */
int conn_starttls(struct conn *conn);

/* COMPRESS=DEFLATE (RFC 4978): from now on both directions are raw deflate
   (RFC 1951, no header) above the transport (TLS stays below). Call right
   after queueing the last uncompressed reply (IMAP: the tagged OK of
   COMPRESS): that reply goes out as is, everything written later is
   compressed, and every input byte not yet consumed, including any already
   received, is taken as compressed. Each loop pass's output is
   compressed together and sync-flushed, so nothing is held back. The peer's
   stream is inflated only as far as CONN_MAX_INPUT_BUFFER allows (a
   decompression bomb cannot grow memory); a corrupt stream closes the conn
   with reason "corrupt compressed input". conn_starttls() is refused
   afterwards. Returns 0, or -1 with a static reason in *error_r when
   compression is already on ("compression already active"), the conn is
   closing or in a TLS handshake, or out of memory; nothing changes then. */
int conn_start_deflate(struct conn *conn, const char **error_r);
/* True after a successful conn_start_deflate(). */
bool conn_is_compressed(const struct conn *conn);

/* True once TLS is on (implicit, or STARTTLS was called, even while the
   handshake is still running). */
bool conn_is_tls(const struct conn *conn);
/* The connection's TLS object once the handshake is done (for channel
   binding data, auth/sasl-cbind.h), else NULL. Valid while the conn lives. */
SSL *conn_ssl(const struct conn *conn);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done, else NULL.
   Valid while the conn lives. For Received headers. */
const char *conn_tls_description(const struct conn *conn);

/* The peer's address as text ("127.0.0.1", "::1"; "unix" on a Unix
   socket). Valid while the conn lives. */
const char *conn_peer_ip(const struct conn *conn);

/* The text conn_peer_ip gives for an address: "192.0.2.1", "2001:db8::1",
   "unix" for a Unix socket peer, "unknown" otherwise; into out (at least
   INET6_ADDRSTRLEN bytes). */
void conn_addr_text(const struct sockaddr *sa, char *out, size_t outlen);
/* True if the peer is in 127.0.0.0/8 or is ::1. */
bool conn_peer_is_loopback(const struct conn *conn);
/* The local address the peer connected to, as text. */
const char *conn_local_ip(const struct conn *conn);
/* The session id of this connection (SESSION_ID_LEN characters). */
const char *conn_sid(const struct conn *conn);

/* Seconds without input before the conn closes with reason "idle
   timeout"; 0 = none (the default). Resets on every read; does not run
   while reading is paused. */
void conn_set_idle_timeout(struct conn *conn, unsigned seconds);

/* Stop/start reading (while a session waits for a worker thread or for
   output to drain). Not counted: one resume undoes any number of pauses.
   Resuming with unread input already buffered calls
   on_read again (from the loop). A peer EOF seen while paused is acted on
   after the resume, once the buffered input has been offered to on_read. */
void conn_pause_reading(struct conn *conn);
void conn_resume_reading(struct conn *conn);

/* Flush pending output, then close and call on_close(reason "closed").
   Stops reading at once. Calling it again is harmless. */
void conn_close(struct conn *conn);

#endif
