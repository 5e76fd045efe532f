/* Unit tests for src/net/conn.c and src/net/tls.c: line reading over a real
   socketpair and event loop, EOF handling, close flushing, STARTTLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/tls.h"

#define MAX_EVENTS 32

/* What the test session saw. */
struct session {
	struct conn *conn;
	size_t max;
	char *events[MAX_EVENTS]; /* "line:..", "toolong", "close:reason" */
	size_t event_count;
	bool closed;
	bool pause_after_line;
	bool starttls_on; /* answer "STARTTLS" with 220 and conn_starttls */
	bool echo;        /* answer each line with "got <line>" */
};

static void add_event(struct session *s, char *ev)
{
	assert_true(s->event_count < MAX_EVENTS);
	s->events[s->event_count++] = ev;
}

static void session_line(struct session *s, const char *line)
{
	add_event(s, xasprintf("line:%s", line));
	if (s->starttls_on && strcmp(line, "STARTTLS") == 0) {
		conn_printf(s->conn, "220 go\r\n");
		assert_int_equal(conn_starttls(s->conn), 0);
		assert_int_equal(conn_starttls(s->conn), -1);
	} else if (s->echo) {
		conn_printf(s->conn, "got %s%s\r\n", line,
		            conn_tls_description(s->conn) != NULL ? " tls" : "");
	}
}

static void on_read(struct conn *conn, void *ctx)
{
	struct session *s = ctx;
	struct buf line = BUF_INIT;
	int ret;

	while ((ret = conn_read_line(conn, s->max, &line)) != 0) {
		if (ret < 0) {
			add_event(s, xstrdup("toolong"));
			continue;
		}
		session_line(s, buf_cstr(&line));
		if (s->pause_after_line) {
			conn_pause_reading(conn);
			break;
		}
		if (s->starttls_on && conn_is_tls(conn) && strcmp(line.data, "STARTTLS") == 0)
			break;
	}
	buf_free(&line);
}

static void on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct session *s = ctx;

	add_event(s, xasprintf("close:%s", reason));
	s->closed = true;
}

static void on_tls_ready(struct conn *conn, void *ctx)
{
	struct session *s = ctx;

	add_event(s, xstrdup(conn_ssl(conn) != NULL ? "tls-ready" : "tls-ready without ssl"));
}

static const struct conn_handler handler = {
    .on_read = on_read,
    .on_close = on_close,
    .on_tls_ready = on_tls_ready,
};

struct fixture {
	struct event_base *base;
	struct session s;
	int peer; /* the test's end of the socketpair */
};

static const struct sockaddr_in loopback_peer = {
    .sin_family = AF_INET,
    .sin_port = 0x3930,
    .sin_addr = {0x0100007f},
};

static void fixture_init(struct fixture *f, size_t max, SSL_CTX *tls, bool implicit)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->base = event_base_new();
	assert_non_null(f->base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f->peer = sv[1];
	f->s.max = max;
	f->s.conn = conn_new(f->base, sv[0], (const struct sockaddr *)&loopback_peer,
	                     sizeof(loopback_peer), tls, implicit, &handler, &f->s);
	assert_non_null(f->s.conn);
}

static void fixture_free(struct fixture *f)
{
	for (size_t i = 0; i < f->s.event_count; i++)
		free(f->s.events[i]);
	if (f->peer >= 0)
		close(f->peer);
	event_base_free(f->base);
}

/* Run the loop for a short while so everything pending is handled. */
static void pump(struct fixture *f)
{
	struct timeval tv = {0, 30000};

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

static void send_str(struct fixture *f, const char *s)
{
	assert_int_equal(write(f->peer, s, strlen(s)), (ssize_t)strlen(s));
	pump(f);
}

static void assert_events(struct fixture *f, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < f->s.event_count; i++)
		assert_string_equal(f->s.events[i], want[i]);
	assert_int_equal(f->s.event_count, n);
}

static void test_lines_split(void **state)
{
	static const char *const want[] = {"line:HELO x", "line:NOOP", "line:a\rb",
	                                   "line:", "line:last"};
	struct fixture f;

	fixture_init(&f, 100, NULL, false);
	assert_string_equal(conn_peer_ip(f.s.conn), "127.0.0.1");
	assert_true(conn_peer_is_loopback(f.s.conn));
	assert_false(conn_is_tls(f.s.conn));
	send_str(&f, "HEL");
	send_str(&f, "O x\r");
	send_str(&f, "\nNOOP\na\rb\r\n");
	send_str(&f, "\r\nlast\n");
	assert_events(&f, want, 5);
	conn_close(f.s.conn);
	pump(&f);
	assert_true(f.s.closed);
	fixture_free(&f);
}

/* Every byte on its own read. */
static void test_lines_byte_at_a_time(void **state)
{
	static const char *const want[] = {"line:ab", "line:cd"};
	const char *input = "ab\r\ncd\n";
	struct fixture f;

	fixture_init(&f, 100, NULL, false);
	for (const char *p = input; *p != '\0'; p++) {
		char c[2] = {*p, '\0'};
		send_str(&f, c);
	}
	assert_events(&f, want, 2);
	conn_close(f.s.conn);
	pump(&f);
	fixture_free(&f);
}

static void test_line_limits(void **state)
{
	/* max 10 counts the line end: "12345678\r\n" fits, one more does not. */
	static const char *const want[] = {"line:12345678", "toolong",    "line:ok",
	                                   "toolong",       "line:after", "line:123456789"};
	struct fixture f;

	fixture_init(&f, 10, NULL, false);
	send_str(&f, "12345678\r\n123456789\r\nok\r\n");
	/* An endless line is refused as soon as max bytes are buffered, and
	   skipped up to its LF over later reads. */
	send_str(&f, "aaaaaaa");
	send_str(&f, "bbbbbbb");
	send_str(&f, "ccccccccccccccccccccc");
	send_str(&f, "dd\nafter\n123456789\n");
	assert_events(&f, want, 6);
	conn_close(f.s.conn);
	pump(&f);
	fixture_free(&f);
}

/* A half-closed peer: complete input is still delivered, then on_close. */
static void test_eof_with_pending_input(void **state)
{
	static const char *const want[] = {"line:one", "line:two", "close:peer closed"};
	struct fixture f;

	fixture_init(&f, 100, NULL, false);
	assert_int_equal(write(f.peer, "one\r\ntwo\r\npartial", 17), 17);
	shutdown(f.peer, SHUT_WR);
	pump(&f);
	assert_events(&f, want, 3);
	fixture_free(&f);
}

/* EOF while the session is paused waits for the resume. */
static void test_eof_while_paused(void **state)
{
	static const char *const want1[] = {"line:one"};
	static const char *const want2[] = {"line:one", "line:two", "line:three",
	                                    "close:peer closed"};
	struct fixture f;

	fixture_init(&f, 100, NULL, false);
	f.s.pause_after_line = true;
	assert_int_equal(write(f.peer, "one\ntwo\nthree\n", 14), 14);
	shutdown(f.peer, SHUT_WR);
	pump(&f);
	assert_events(&f, want1, 1);
	f.s.pause_after_line = false;
	conn_resume_reading(f.s.conn);
	assert_int_equal(f.s.event_count, 1); /* not from inside the call */
	pump(&f);
	assert_events(&f, want2, 4);
	fixture_free(&f);
}

/* conn_close flushes what was written, and on_close comes from the loop. */
/* A real TCP connection on loopback gets TCP_NODELAY (replies written in
   pieces must not wait for the client's delayed ACK). */
static void test_tcp_nodelay(void **state)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd = socket(AF_INET, SOCK_STREAM, 0), sfd;
	int value = 0;
	socklen_t vlen = sizeof(value);
	struct fixture f;

	fixture_init(&f, 100, NULL, false); /* for the event base and handler */
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	assert_int_equal(getsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &value, &vlen), 0);
	assert_int_equal(value, 0);
	struct session s = {.max = 100};
	s.conn = conn_new(f.base, sfd, (const struct sockaddr *)&loopback_peer,
	                  sizeof(loopback_peer), NULL, false, &handler, &s);
	assert_non_null(s.conn);
	assert_int_equal(getsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &value, &vlen), 0);
	assert_int_equal(value, 1);
	conn_close(s.conn);
	conn_close(f.s.conn);
	pump(&f);
	for (size_t i = 0; i < s.event_count; i++)
		free(s.events[i]);
	close(cfd);
	close(lfd);
	fixture_free(&f);
}

static void test_close_flushes(void **state)
{
	struct fixture f;
	char got[64];
	ssize_t n;

	fixture_init(&f, 100, NULL, false);
	conn_printf(f.s.conn, "221 %s\r\n", "bye");
	conn_close(f.s.conn);
	conn_write(f.s.conn, "ignored", 7);
	assert_false(f.s.closed);
	pump(&f);
	assert_true(f.s.closed);
	n = read(f.peer, got, sizeof(got));
	assert_int_equal(n, 9);
	assert_memory_equal(got, "221 bye\r\n", 9);
	assert_int_equal(read(f.peer, got, sizeof(got)), 0);
	assert_string_equal(f.s.events[0], "close:closed");
	fixture_free(&f);
}

static void test_idle_timeout(void **state)
{
	struct fixture f;
	struct timeval tv = {1, 500000};

	fixture_init(&f, 100, NULL, false);
	conn_set_idle_timeout(f.s.conn, 1);
	event_base_loopexit(f.base, &tv);
	event_base_dispatch(f.base);
	assert_true(f.s.closed);
	assert_string_equal(f.s.events[0], "close:idle timeout");
	fixture_free(&f);
}

/* ---- TLS ---- */

static X509 *make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1,
	                           0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL), 1);
	if (cert != NULL)
		assert_int_equal(PEM_write_X509(fp, cert), 1);
	fclose(fp);
}

struct tls_files {
	char dir[64];
	char cert[96], key[96], other_key[96];
};

static void tls_files_make(struct tls_files *t)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *cert;

	assert_non_null(key);
	assert_non_null(other);
	cert = make_cert(key);
	snprintf(t->dir, sizeof(t->dir), "/tmp/tern-test-conn-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->cert, sizeof(t->cert), "%s/cert.pem", t->dir);
	snprintf(t->key, sizeof(t->key), "%s/key.pem", t->dir);
	snprintf(t->other_key, sizeof(t->other_key), "%s/other.pem", t->dir);
	write_pem(t->cert, NULL, cert);
	write_pem(t->key, key, NULL);
	write_pem(t->other_key, other, NULL);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void tls_files_remove(struct tls_files *t)
{
	unlink(t->cert);
	unlink(t->key);
	unlink(t->other_key);
	rmdir(t->dir);
}

static SSL_CTX *server_ctx(struct tls_files *t)
{
	struct tern_settings set = {0};
	SSL_CTX *ctx;
	char *error = NULL;

	set.tls.cert = t->cert;
	set.tls.key = t->key;
	set.tls.min_version = 12;
	assert_int_equal(tls_server_ctx_new(&set, &ctx, &error), 0);
	return ctx;
}

static void test_tls_ctx_errors(void **state)
{
	struct tls_files t;
	struct tern_settings set = {0};
	SSL_CTX *ctx = NULL;
	char *error = NULL;
	char *want;

	tls_files_make(&t);
	set.tls.cert = t.cert;
	set.tls.key = t.other_key;
	set.tls.min_version = 13;
	assert_int_equal(tls_server_ctx_new(&set, &ctx, &error), -1);
	want = xasprintf("tls.key %s does not match tls.cert %s", t.other_key, t.cert);
	assert_string_equal(error, want);
	free(want);
	free(error);
	set.tls.cert = "/nonexistent/cert.pem";
	assert_int_equal(tls_server_ctx_new(&set, &ctx, &error), -1);
	assert_string_equal(error, "tls.cert /nonexistent/cert.pem: No such file or directory");
	free(error);
	assert_null(ctx);
	set.tls.cert = t.cert;
	set.tls.key = t.key;
	assert_int_equal(tls_server_ctx_new(&set, &ctx, &error), 0);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	tls_ctx_free(&ctx);
	assert_null(ctx);
	tls_ctx_free(&ctx);
	tls_files_remove(&t);
}

/* The client side of the STARTTLS test, on its own thread with blocking
   I/O: pipeline a command after STARTTLS, then talk over TLS. */
struct client {
	int fd;
	char reply[256]; /* the answer received over TLS */
	bool ok;
};

static void read_line_fd(int fd, char *out, size_t outlen)
{
	size_t n = 0;

	while (n + 1 < outlen && read(fd, &out[n], 1) == 1 && out[n++] != '\n')
		;
	out[n] = '\0';
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	const char *first = "STARTTLS\r\nEVIL pipelined\r\n";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	char line[256];
	int n;

	if (write(c->fd, first, strlen(first)) != (ssize_t)strlen(first))
		return NULL;
	read_line_fd(c->fd, line, sizeof(line));
	if (strcmp(line, "220 go\r\n") != 0)
		return NULL;
	SSL_set_fd(ssl, c->fd);
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, "AFTER\r\n", 7) == 7) {
		n = SSL_read(ssl, c->reply, sizeof(c->reply) - 1);
		if (n > 0) {
			c->reply[n] = '\0';
			c->ok = true;
		}
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void test_starttls_discards_pipelined(void **state)
{
	static const char *const want[] = {"line:STARTTLS", "tls-ready", "line:AFTER",
	                                   "close:peer closed"};
	struct tls_files t;
	SSL_CTX *ctx;
	struct fixture f;
	struct client c = {0};
	pthread_t th;

	tls_files_make(&t);
	ctx = server_ctx(&t);
	fixture_init(&f, 100, ctx, false);
	f.s.starttls_on = true;
	f.s.echo = true;
	c.fd = f.peer;
	assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
	for (int i = 0; i < 100 && !f.s.closed; i++)
		pump(&f);
	pthread_join(th, NULL);
	assert_true(c.ok);
	assert_string_equal(c.reply, "got AFTER tls\r\n");
	assert_events(&f, want, 4);
	fixture_free(&f);
	tls_ctx_free(&ctx);
	tls_files_remove(&t);
}

/* Implicit TLS with a client that is not speaking TLS fails the handshake
   with a logged reason through on_close. */
static void test_implicit_tls_garbage(void **state)
{
	struct tls_files t;
	SSL_CTX *ctx;
	struct fixture f;

	tls_files_make(&t);
	ctx = server_ctx(&t);
	fixture_init(&f, 100, ctx, true);
	assert_true(conn_is_tls(f.s.conn));
	send_str(&f, "EHLO plaintext\r\n");
	pump(&f);
	assert_true(f.s.closed);
	assert_int_equal(f.s.event_count, 1);
	assert_true(strncmp(f.s.events[0], "close:TLS handshake failed", 26) == 0);
	fixture_free(&f);
	tls_ctx_free(&ctx);
	tls_files_remove(&t);
}

static void test_starttls_without_ctx(void **state)
{
	struct fixture f;

	fixture_init(&f, 100, NULL, false);
	assert_int_equal(conn_starttls(f.s.conn), -1);
	assert_null(conn_new(f.base, dup(f.peer), (const struct sockaddr *)&loopback_peer,
	                     sizeof(loopback_peer), NULL, true, &handler, &f.s));
	conn_close(f.s.conn);
	pump(&f);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_split),
	    cmocka_unit_test(test_lines_byte_at_a_time),
	    cmocka_unit_test(test_line_limits),
	    cmocka_unit_test(test_eof_with_pending_input),
	    cmocka_unit_test(test_eof_while_paused),
	    cmocka_unit_test(test_close_flushes),
	    cmocka_unit_test(test_tcp_nodelay),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_tls_ctx_errors),
	    cmocka_unit_test(test_starttls_discards_pipelined),
	    cmocka_unit_test(test_implicit_tls_garbage),
	    cmocka_unit_test(test_starttls_without_ctx),
	};

	log_init("test", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
