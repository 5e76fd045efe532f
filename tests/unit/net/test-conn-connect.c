/* Unit tests for conn_connect() (src/net/conn.c) and tls_client_ctx_new()
   (src/net/tls.c): outgoing connections to a local listener served by
   conn_new() on the same loop, plain, with implicit TLS (SNI, chain and
   name verification against the test certificate), with STARTTLS, and the
   failures (refused, bad certificate, wrong name). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cli/tls-selfsigned.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/tls.h"

#define HOST "mail.example.test"

/* ---- the server side: an echo that greets, on the same loop ---- */

struct server {
	struct event_base *base;
	int lfd;
	struct sockaddr_in addr;
	SSL_CTX *tls;
	bool implicit;
	struct event *ev;
	char sni[100]; /* the name the last client asked for */
};

static void srv_read(struct conn *conn, void *ctx)
{
	struct buf line = BUF_INIT;

	while (conn_read_line(conn, 200, &line) > 0) {
		if (strcmp(line.data, "STARTTLS") == 0) {
			conn_printf(conn, "220 go\r\n");
			assert_int_equal(conn_starttls(conn), 0);
		} else {
			conn_printf(conn, "echo %s%s\r\n", line.data,
			            conn_is_tls(conn) ? " tls" : "");
		}
	}
	buf_free(&line);
}

static void srv_close(struct conn *conn, void *ctx, const char *reason)
{
}

static const struct conn_handler srv_handler = {.on_read = srv_read, .on_close = srv_close};

static void srv_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *srv = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *conn;

	assert_true(fd >= 0);
	conn = conn_new(srv->base, fd, (struct sockaddr *)&ss, len, srv->tls, srv->implicit,
	                &srv_handler, srv);
	assert_non_null(conn);
	if (!srv->implicit)
		conn_printf(conn, "220 hello\r\n");
}

static int srv_sni(SSL *ssl, int *alert, void *arg)
{
	struct server *srv = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	snprintf(srv->sni, sizeof(srv->sni), "%s", name != NULL ? name : "");
	return SSL_TLSEXT_ERR_OK;
}

/* ---- the client side ---- */

struct client {
	struct event_base *base;
	struct conn *conn;
	bool connected, closed;
	char reason[300];
	char got[8][100];
	size_t lines;
	bool starttls_sent;
};

static void cli_connected(struct conn *conn, void *ctx)
{
	struct client *c = ctx;

	c->connected = true;
}

static void cli_read(struct conn *conn, void *ctx)
{
	struct client *c = ctx;
	struct buf line = BUF_INIT;

	while (conn_read_line(conn, 200, &line) > 0 && c->lines < 8) {
		snprintf(c->got[c->lines++], sizeof(c->got[0]), "%s", line.data);
		if (c->starttls_sent && strcmp(line.data, "220 go") == 0) {
			assert_int_equal(conn_starttls(conn), 0);
			conn_printf(conn, "after\r\n");
		}
	}
	buf_free(&line);
}

static void cli_close(struct conn *conn, void *ctx, const char *reason)
{
	struct client *c = ctx;

	c->closed = true;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	c->conn = NULL;
}

static const struct conn_handler cli_handler = {
    .on_read = cli_read, .on_close = cli_close, .on_connected = cli_connected};

/* ---- fixtures ---- */

struct fixture {
	struct server srv;
	struct client cli;
	char dir[64], cert[96], key[96];
	SSL_CTX *trusting;   /* trusts the test certificate */
	SSL_CTX *untrusting; /* the system's CAs only */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *error;
	char *err = NULL;
	struct tern_settings set = {0};
	socklen_t len = sizeof(f->srv.addr);

	snprintf(f->dir, sizeof(f->dir), "/tmp/tern-test-connect-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	assert_int_equal(tls_selfsigned_write(HOST, f->cert, f->key, &error), 0);
	set.tls.cert = f->cert;
	set.tls.key = f->key;
	set.tls.min_version = 12;
	assert_int_equal(tls_server_ctx_new(&set, &f->srv.tls, &err), 0);
	SSL_CTX_set_tlsext_servername_callback(f->srv.tls, srv_sni);
	SSL_CTX_set_tlsext_servername_arg(f->srv.tls, &f->srv);
	assert_int_equal(tls_client_ctx_new(f->cert, &f->trusting, &err), 0);
	assert_int_equal(tls_client_ctx_new(NULL, &f->untrusting, &err), 0);
	f->srv.base = f->cli.base = event_base_new();
	f->srv.addr.sin_family = AF_INET;
	f->srv.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->srv.lfd = listener_socket((struct sockaddr *)&f->srv.addr, sizeof(f->srv.addr), &err);
	assert_true(f->srv.lfd >= 0);
	assert_int_equal(getsockname(f->srv.lfd, (struct sockaddr *)&f->srv.addr, &len), 0);
	f->srv.ev = event_new(f->srv.base, f->srv.lfd, EV_READ | EV_PERSIST, srv_accept, &f->srv);
	event_add(f->srv.ev, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	event_free(f->srv.ev);
	close(f->srv.lfd);
	event_base_free(f->srv.base);
	tls_ctx_free(&f->srv.tls);
	tls_ctx_free(&f->trusting);
	tls_ctx_free(&f->untrusting);
	unlink(f->cert);
	unlink(f->key);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Run the loop until the client has n lines or is closed (5 s at most). */
static void run_until(struct fixture *f, size_t n)
{
	for (int i = 0; i < 500 && f->cli.lines < n && !f->cli.closed; i++) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(f->srv.base, &tv);
		event_base_dispatch(f->srv.base);
	}
}

static void client_start(struct fixture *f, SSL_CTX *ctx, bool implicit, const char *name,
                         enum conn_verify verify)
{
	struct conn_connect_params p = {
	    .addr = (struct sockaddr *)&f->srv.addr,
	    .addrlen = sizeof(f->srv.addr),
	    .tls_ctx = ctx,
	    .implicit_tls = implicit,
	    .server_name = name,
	    .verify = verify,
	    .timeout = 5,
	};
	const char *error = NULL;

	f->srv.implicit = implicit;
	f->cli.conn = conn_connect(f->cli.base, &p, &cli_handler, &f->cli, &error);
	assert_non_null(f->cli.conn);
	assert_null(error);
}

static void client_done(struct fixture *f)
{
	if (f->cli.conn != NULL)
		conn_close(f->cli.conn);
	run_until(f, 100);
	assert_true(f->cli.closed);
}

static void test_plain(void **state)
{
	struct fixture *f = *state;

	client_start(f, NULL, false, NULL, CONN_VERIFY_NONE);
	/* Written before the connect completes: sent once it does. */
	conn_printf(f->cli.conn, "early\r\n");
	run_until(f, 2);
	assert_true(f->cli.connected);
	assert_string_equal(f->cli.got[0], "220 hello");
	assert_string_equal(f->cli.got[1], "echo early");
	assert_false(conn_is_tls(f->cli.conn));
	assert_string_equal(conn_peer_ip(f->cli.conn), "127.0.0.1");
	assert_string_equal(conn_local_ip(f->cli.conn), "127.0.0.1");
	client_done(f);
	assert_string_equal(f->cli.reason, "closed");
}

static void test_implicit_tls_verified_with_sni(void **state)
{
	struct fixture *f = *state;

	client_start(f, f->trusting, true, HOST, CONN_VERIFY_NAME);
	conn_printf(f->cli.conn, "hi\r\n");
	run_until(f, 1);
	assert_true(f->cli.connected);
	assert_string_equal(f->cli.got[0], "echo hi tls");
	assert_string_equal(f->srv.sni, HOST);
	assert_non_null(conn_tls_description(f->cli.conn));
	client_done(f);
}

static void test_tls_wrong_name_fails(void **state)
{
	struct fixture *f = *state;

	client_start(f, f->trusting, true, "other.example.test", CONN_VERIFY_NAME);
	conn_printf(f->cli.conn, "hi\r\n");
	run_until(f, 1);
	assert_false(f->cli.connected);
	assert_true(f->cli.closed);
	assert_int_equal(f->cli.lines, 0);
	assert_non_null(strstr(f->cli.reason, "TLS handshake failed"));
	assert_non_null(strstr(f->cli.reason, "certificate verify failed"));
}

static void test_tls_untrusted_chain_fails(void **state)
{
	struct fixture *f = *state;

	client_start(f, f->untrusting, true, HOST, CONN_VERIFY_CHAIN);
	run_until(f, 1);
	assert_false(f->cli.connected);
	assert_non_null(strstr(f->cli.reason, "certificate verify failed"));
}

/* Opportunistic TLS: an unknown certificate is accepted without
   verification (and SNI is still sent). */
static void test_tls_no_verify(void **state)
{
	struct fixture *f = *state;

	client_start(f, f->untrusting, true, HOST, CONN_VERIFY_NONE);
	conn_printf(f->cli.conn, "x\r\n");
	run_until(f, 1);
	assert_true(f->cli.connected);
	assert_string_equal(f->cli.got[0], "echo x tls");
	assert_string_equal(f->srv.sni, HOST);
	client_done(f);
}

static void test_starttls_client(void **state)
{
	struct fixture *f = *state;

	client_start(f, f->trusting, false, HOST, CONN_VERIFY_NAME);
	run_until(f, 1);
	assert_string_equal(f->cli.got[0], "220 hello");
	f->cli.starttls_sent = true;
	conn_printf(f->cli.conn, "STARTTLS\r\n");
	run_until(f, 3);
	assert_string_equal(f->cli.got[1], "220 go");
	assert_string_equal(f->cli.got[2], "echo after tls");
	assert_true(conn_is_tls(f->cli.conn));
	assert_string_equal(f->srv.sni, HOST);
	client_done(f);
}

static void test_refused(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in closed = f->srv.addr;
	struct conn_connect_params p = {.addr = (struct sockaddr *)&closed,
	                                .addrlen = sizeof(closed)};
	const char *error = NULL;
	struct sockaddr_un {
		sa_family_t family;
	} unix_addr = {AF_UNIX};
	int fd;
	socklen_t len = sizeof(closed);

	/* A port nobody listens on: bind one, keep it closed. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	closed.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&closed, sizeof(closed)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&closed, &len), 0);
	f->cli.conn = conn_connect(f->cli.base, &p, &cli_handler, &f->cli, &error);
	assert_non_null(f->cli.conn);
	run_until(f, 1);
	close(fd);
	assert_false(f->cli.connected);
	assert_true(f->cli.closed);
	assert_string_equal(f->cli.reason, "connect failed: Connection refused");
	/* Refused at once, with no callback: */
	p.addr = (struct sockaddr *)&unix_addr;
	p.addrlen = sizeof(unix_addr);
	assert_null(conn_connect(f->cli.base, &p, &cli_handler, &f->cli, &error));
	assert_string_equal(error, "bad address family");
	p.addr = (struct sockaddr *)&closed;
	p.addrlen = sizeof(closed);
	p.implicit_tls = true;
	assert_null(conn_connect(f->cli.base, &p, &cli_handler, &f->cli, &error));
	assert_string_equal(error, "implicit TLS without a TLS context");
}

static void test_client_ctx_bad_ca(void **state)
{
	SSL_CTX *ctx = NULL;
	char *error = NULL;

	assert_int_equal(tls_client_ctx_new("/nonexistent/ca.pem", &ctx, &error), -1);
	assert_null(ctx);
	assert_non_null(strstr(error, "/nonexistent/ca.pem"));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_implicit_tls_verified_with_sni, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_wrong_name_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_untrusted_chain_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_no_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_starttls_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test(test_client_ctx_bad_ca),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
