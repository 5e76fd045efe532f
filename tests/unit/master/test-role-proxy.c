/* Unit tests for src/master/role-proxy.c: a header read whole or byte by
   byte over a socketpair, the client's bytes after it left for the
   session, a bad header closing the connection, the limit on waits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "master/role-proxy.h"

struct got {
	int calls, fd;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
};

static void done(void *context, int fd, const struct sockaddr *peer, socklen_t peerlen,
                 struct listener *l)
{
	struct got *g = context;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;

	(void)peerlen;
	(void)l;
	g->calls++;
	g->fd = fd;
	if (peer->sa_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, g->ip, sizeof(g->ip));
		g->port = ntohs(sin->sin_port);
	} else {
		strcpy(g->ip, "other");
	}
}

static struct listener listener = {.fd = -1, .name = "127.0.0.1:25"};

static void run(struct event_base *base)
{
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static const struct sockaddr_in proxy_addr = {.sin_family = AF_INET};

static void test_whole_and_rest(void **state)
{
	static const char hdr[] = "PROXY TCP4 203.0.113.9 192.0.2.1 40000 25\r\n";
	struct event_base *base = event_base_new();
	struct got g = {0};
	char rest[16] = {0};
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(write(sv[1], hdr, strlen(hdr)), (ssize_t)strlen(hdr));
	assert_int_equal(write(sv[1], "EHLO x\r\n", 8), 8);
	assert_int_equal(role_proxy_wait(base, sv[0], (const struct sockaddr *)&proxy_addr,
	                                 sizeof(proxy_addr), &listener, done, &g),
	                 0);
	run(base);
	assert_int_equal(g.calls, 1);
	assert_string_equal(g.ip, "203.0.113.9");
	assert_int_equal(g.port, 40000);
	/* the session's bytes are still there */
	assert_int_equal(read(g.fd, rest, sizeof(rest)), 8);
	assert_string_equal(rest, "EHLO x\r\n");
	close(g.fd);
	close(sv[1]);
	event_base_free(base);
}

static void test_byte_by_byte(void **state)
{
	static const char hdr[] = "PROXY TCP4 198.51.100.4 192.0.2.1 1 993\r\n\x16";
	struct event_base *base = event_base_new();
	struct got g = {0};
	char rest[4];
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(role_proxy_wait(base, sv[0], (const struct sockaddr *)&proxy_addr,
	                                 sizeof(proxy_addr), &listener, done, &g),
	                 0);
	for (size_t i = 0; i < strlen(hdr); i++) {
		assert_int_equal(g.calls, 0);
		assert_int_equal(write(sv[1], hdr + i, 1), 1);
		if (hdr[i] != '\n')
			run(base);
	}
	run(base);
	assert_int_equal(g.calls, 1);
	assert_string_equal(g.ip, "198.51.100.4");
	assert_int_equal(read(g.fd, rest, sizeof(rest)), 1);
	assert_int_equal(rest[0], 0x16);
	close(g.fd);
	close(sv[1]);
	event_base_free(base);
}

/* The other end was closed (with our bytes unread there: ECONNRESET). */
static bool closed(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void test_bad_header_closes(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = {0};
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(write(sv[1], "EHLO x\r\n", 8), 8);
	role_proxy_wait(base, sv[0], (const struct sockaddr *)&proxy_addr, sizeof(proxy_addr),
	                &listener, done, &g);
	run(base);
	assert_int_equal(g.calls, 0);
	assert_true(closed(sv[1]));
	close(sv[1]);
	/* EOF before the header */
	pair(sv);
	assert_int_equal(write(sv[1], "PROXY TCP4", 10), 10);
	assert_int_equal(role_proxy_wait(base, sv[0], (const struct sockaddr *)&proxy_addr,
	                                 sizeof(proxy_addr), &listener, done, &g),
	                 0);
	run(base);
	shutdown(sv[1], SHUT_WR);
	run(base);
	assert_int_equal(g.calls, 0);
	assert_true(closed(sv[1]));
	close(sv[1]);
	event_base_free(base);
}

static void test_limit_and_abort(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = {0};
	int fds[ROLE_PROXY_MAX_PENDING + 1][2];

	(void)state;
	for (int i = 0; i <= ROLE_PROXY_MAX_PENDING; i++) {
		pair(fds[i]);
		int ret = role_proxy_wait(base, fds[i][0], (const struct sockaddr *)&proxy_addr,
		                          sizeof(proxy_addr), &listener, done, &g);

		assert_int_equal(ret, i < ROLE_PROXY_MAX_PENDING ? 0 : -1);
	}
	role_proxy_abort_all();
	for (int i = 0; i <= ROLE_PROXY_MAX_PENDING; i++) {
		assert_true(closed(fds[i][1]));
		close(fds[i][1]);
	}
	assert_int_equal(g.calls, 0);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_and_rest),
	    cmocka_unit_test(test_byte_by_byte),
	    cmocka_unit_test(test_bad_header_closes),
	    cmocka_unit_test(test_limit_and_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
