/* Unit tests for src/net/role.c: a forked role process with a small echo
   role, drained (SIGUSR1) and stopped (SIGTERM) with a live session. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/role.h"

/* ---- the echo role, run in the child ---- */

static void echo_read(struct conn *conn, void *ctx)
{
	struct buf line = BUF_INIT;

	while (conn_read_line(conn, 100, &line) > 0)
		conn_printf(conn, "pong %s\r\n", line.data);
	buf_free(&line);
}

static void echo_close(struct conn *conn, void *ctx, const char *reason)
{
}

static void echo_shutdown(struct conn *conn, void *ctx)
{
	conn_printf(conn, "421 bye\r\n");
	conn_close(conn);
}

static const struct conn_handler echo_handler = {
    .on_read = echo_read,
    .on_close = echo_close,
    .on_shutdown = echo_shutdown,
};

static int echo_init(struct role_ctx *ctx, const char **error_r)
{
	return 0;
}

static void echo_deinit(struct role_ctx *ctx)
{
}

static void echo_accept(struct role_ctx *ctx, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, enum service service, enum tls_mode tls)
{
	struct conn *conn =
	    conn_new(ctx->base, fd, peer, peerlen, NULL, false, &echo_handler, NULL);

	if (conn != NULL)
		conn_printf(conn, "hi\r\n");
}

static const struct role_ops echo_ops = {
    .name = "smtp",
    .init = echo_init,
    .accept = echo_accept,
    .deinit = echo_deinit,
};

/* ---- the test side ---- */

struct running_role {
	pid_t pid;
	unsigned port;
};

static void role_start(struct running_role *r)
{
	static char run_user[] = "nobody";
	struct tern_settings set = {0};
	struct listener l = {.service = SERVICE_SMTP, .tls = TLS_MODE_NONE};
	struct listener *list[1] = {&l};
	struct sockaddr_in *sin = (struct sockaddr_in *)&l.ss;
	char *error = NULL;

	set.run_user = run_user;
	set.log_level = LOG_ERROR;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l.sslen = sizeof(*sin);
	l.fd = listener_socket((struct sockaddr *)sin, l.sslen, &error);
	assert_true(l.fd >= 0);
	assert_int_equal(getsockname(l.fd, (struct sockaddr *)sin, &l.sslen), 0);
	r->port = ntohs(sin->sin_port);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0)
		role_run(&echo_ops, &set, NULL, list, 1);
	close(l.fd);
}

static int client_connect(unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((in_port_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void expect(int fd, const char *want)
{
	char got[128];
	size_t n = 0;
	struct timeval tv = {5, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < strlen(want) && read(fd, &got[n], 1) == 1)
		n++;
	got[n] = '\0';
	assert_string_equal(got, want);
}

static void say(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static int wait_exit(pid_t pid)
{
	int status;

	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Draining: no new connections, the old session goes on, the role exits
   when it ends. */
static void test_drain(void **state)
{
	struct running_role r;
	int fd, fd2;

	role_start(&r);
	fd = client_connect(r.port);
	assert_true(fd >= 0);
	expect(fd, "hi\r\n");
	say(fd, "a\r\n");
	expect(fd, "pong a\r\n");
	kill(r.pid, SIGUSR1);
	usleep(200000);
	fd2 = client_connect(r.port);
	assert_int_equal(fd2, -1);
	say(fd, "b\r\n");
	expect(fd, "pong b\r\n");
	assert_int_equal(waitpid(r.pid, NULL, WNOHANG), 0);
	close(fd);
	assert_int_equal(wait_exit(r.pid), 0);
}

/* Stopping: the session says goodbye, the role exits at once. */
static void test_stop(void **state)
{
	struct running_role r;
	int fd;
	char c;

	role_start(&r);
	fd = client_connect(r.port);
	assert_true(fd >= 0);
	expect(fd, "hi\r\n");
	kill(r.pid, SIGTERM);
	expect(fd, "421 bye\r\n");
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(wait_exit(r.pid), 0);
	close(fd);
}

/* The connection over the per-IP cap is closed at once, without a
   greeting; the others are served. */
static void test_per_ip_limit(void **state)
{
	struct running_role r;
	int fds[ROLE_MAX_CONNECTIONS_PER_IP];
	int extra;
	char c;

	role_start(&r);
	for (size_t i = 0; i < ROLE_MAX_CONNECTIONS_PER_IP; i++) {
		fds[i] = client_connect(r.port);
		assert_true(fds[i] >= 0);
		expect(fds[i], "hi\r\n");
	}
	extra = client_connect(r.port);
	assert_true(extra >= 0);
	assert_int_equal(read(extra, &c, 1), 0);
	close(extra);
	say(fds[0], "x\r\n");
	expect(fds[0], "pong x\r\n");
	close(fds[1]);
	usleep(100000);
	extra = client_connect(r.port);
	expect(extra, "hi\r\n");
	kill(r.pid, SIGTERM);
	assert_int_equal(wait_exit(r.pid), 0);
	close(extra);
	for (size_t i = 0; i < ROLE_MAX_CONNECTIONS_PER_IP; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drain),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_per_ip_limit),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
