/* Unit tests for src/master/role.c: a forked role process with a small echo
   role, drained (SIGUSR1 or a reload message) and stopped (SIGTERM) with a
   live session; a role without listeners that answers on its channel; the
   sandbox. */
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
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/channel.h"
#include "master/role.h"
#include "master/sandbox.h"
#include "net/conn.h"

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
                        socklen_t peerlen, const struct service_def *service, enum tls_mode tls)
{
	struct conn *conn =
	    conn_new(ctx->base, fd, peer, peerlen, NULL, false, &echo_handler, NULL);

	if (conn != NULL)
		conn_printf(conn, "hi\r\n");
}

/* Services as a role would declare them. */
static const struct service_def smtp_service = {"smtp", 25, TLS_MODE_STARTTLS};
static const struct service_def imap_service = {"imap", 143, TLS_MODE_STARTTLS};
static const struct service_def *const echo_services[] = {&smtp_service};

static const struct role_ops echo_ops = {
    .name = "echo",
    .services = echo_services,
    .service_count = 1,
    .init = echo_init,
    .accept = echo_accept,
    .deinit = echo_deinit,
};

/* ---- the test side ---- */

struct running_role {
	pid_t pid;
	unsigned port;
	int chan; /* the supervisor's end of the channel */
};

static void role_start(struct running_role *r)
{
	static char run_user[] = "nobody";
	struct tern_settings set = {0};
	struct listener l = {.service = &smtp_service, .tls = TLS_MODE_NONE};
	struct listener *list[1] = {&l};
	struct sockaddr_in *sin = (struct sockaddr_in *)&l.ss;
	char *error = NULL;
	int sv[2];

	set.run_user = run_user;
	set.log_level = LOG_ERROR;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l.sslen = sizeof(*sin);
	l.fd = listener_socket((struct sockaddr *)sin, l.sslen, &error);
	assert_true(l.fd >= 0);
	assert_int_equal(getsockname(l.fd, (struct sockaddr *)sin, &l.sslen), 0);
	r->port = ntohs(sin->sin_port);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		struct role_start start = {.settings = &set,
		                           .listeners = list,
		                           .listener_count = 1,
		                           .channel_fd = sv[1],
		                           .process_count = 1};
		close(sv[0]);
		role_run(&echo_ops, &start);
	}
	close(sv[1]);
	r->chan = sv[0];
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

static void chan_send(int fd, enum channel_type type, const char *payload)
{
	struct buf b = BUF_INIT;
	const char *error;

	assert_int_equal(
	    channel_encode(&b, type, payload, payload == NULL ? 0 : strlen(payload), &error), 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	buf_free(&b);
}

/* Read one message from fd (5 s at most); returns its type, with a name
   copied to name_r. */
static int chan_recv(int fd, char *name_r, size_t size)
{
	struct channel_decoder d;
	struct channel_msg msg;
	struct timeval tv = {5, 0};
	const char *error;
	char c;
	int ret = 0;

	channel_decoder_init(&d);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (ret == 0 && read(fd, &c, 1) == 1) {
		channel_decoder_feed(&d, &c, 1);
		ret = channel_decoder_next(&d, &msg, &error);
	}
	assert_int_equal(ret, 1);
	snprintf(name_r, size, "%s", msg.name != NULL ? msg.name : "");
	ret = (int)msg.type;
	channel_decoder_free(&d);
	return ret;
}

/* A reload message on the channel drains the role as SIGUSR1 does. */
static void test_reload_message_drains(void **state)
{
	struct running_role r;
	int fd, fd2;

	role_start(&r);
	fd = client_connect(r.port);
	assert_true(fd >= 0);
	expect(fd, "hi\r\n");
	chan_send(r.chan, CHANNEL_RELOAD, NULL);
	usleep(200000);
	fd2 = client_connect(r.port);
	assert_int_equal(fd2, -1);
	say(fd, "b\r\n");
	expect(fd, "pong b\r\n");
	assert_int_equal(waitpid(r.pid, NULL, WNOHANG), 0);
	close(fd);
	assert_int_equal(wait_exit(r.pid), 0);
	close(r.chan);
}

/* ---- a role without listeners (as the queue role will be) ---- */

static int quiet_init(struct role_ctx *ctx, const char **error_r)
{
	/* Say that we run: a role without listeners talks only through its
	   channel. */
	role_notify_message_queued(ctx, "ready");
	return 0;
}

/* Answer each notification with one of our own, so the test sees that
   the role got it. */
static void quiet_changed(struct role_ctx *ctx, const char *user)
{
	char id[80];

	snprintf(id, sizeof(id), "seen-%zu-%u", strlen(user), ctx->process_index);
	role_notify_message_queued(ctx, id);
}

static const struct role_ops quiet_ops = {
    .name = "quiet",
    .init = quiet_init,
    .mailbox_changed = quiet_changed,
    .deinit = echo_deinit,
};

static pid_t quiet_start(int *chan_r, struct listener *const *listeners, size_t count)
{
	static char run_user[] = "nobody";
	struct tern_settings set = {0};
	int sv[2];
	pid_t pid;

	set.run_user = run_user;
	set.log_level = LOG_ERROR;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct role_start start = {.settings = &set,
		                           .listeners = listeners,
		                           .listener_count = count,
		                           .channel_fd = sv[1],
		                           .process_index = 3,
		                           .process_count = 4};
		close(sv[0]);
		role_run(&quiet_ops, &start);
	}
	close(sv[1]);
	*chan_r = sv[0];
	return pid;
}

static void test_role_without_listeners(void **state)
{
	char name[100];
	int chan;
	pid_t pid = quiet_start(&chan, NULL, 0);

	assert_int_equal(chan_recv(chan, name, sizeof(name)), CHANNEL_MESSAGE_QUEUED);
	assert_string_equal(name, "ready");
	chan_send(chan, CHANNEL_MAILBOX_CHANGED, "alice@example.org");
	assert_int_equal(chan_recv(chan, name, sizeof(name)), CHANNEL_MESSAGE_QUEUED);
	assert_string_equal(name, "seen-17-3");
	/* Reload: no sessions, so it exits at once. */
	chan_send(chan, CHANNEL_RELOAD, NULL);
	assert_int_equal(wait_exit(pid), 0);
	close(chan);
}

/* The listener of a service the role does not declare is closed in it. */
static void test_undeclared_service_not_served(void **state)
{
	struct listener l = {.service = &imap_service, .tls = TLS_MODE_NONE};
	struct listener *list[1] = {&l};
	struct sockaddr_in *sin = (struct sockaddr_in *)&l.ss;
	char *error = NULL, name[100];
	int chan, fd;
	pid_t pid;

	assert_false(role_serves(&quiet_ops, &smtp_service));
	assert_true(role_serves(&echo_ops, &smtp_service));
	assert_false(role_serves(&echo_ops, &imap_service));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l.sslen = sizeof(*sin);
	l.fd = listener_socket((struct sockaddr *)sin, l.sslen, &error);
	assert_true(l.fd >= 0);
	assert_int_equal(getsockname(l.fd, (struct sockaddr *)sin, &l.sslen), 0);
	pid = quiet_start(&chan, list, 1);
	close(l.fd);
	assert_int_equal(chan_recv(chan, name, sizeof(name)), CHANNEL_MESSAGE_QUEUED);
	/* Nobody holds the listening socket any more. */
	fd = client_connect(ntohs(sin->sin_port));
	assert_int_equal(fd, -1);
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid), 0);
	close(chan);
}

/* A malformed message, or the channel closing, stops the role. */
static void test_broken_channel_stops_role(void **state)
{
	static const unsigned char bad[8] = {0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0};
	char name[100];
	int chan;
	pid_t pid = quiet_start(&chan, NULL, 0);

	assert_int_equal(chan_recv(chan, name, sizeof(name)), CHANNEL_MESSAGE_QUEUED);
	assert_int_equal(write(chan, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	assert_int_equal(wait_exit(pid), 0);
	close(chan);
	pid = quiet_start(&chan, NULL, 0);
	assert_int_equal(chan_recv(chan, name, sizeof(name)), CHANNEL_MESSAGE_QUEUED);
	close(chan);
	assert_int_equal(wait_exit(pid), 0);
}

/* The sandbox: no new privileges; with Landlock, nothing outside the data
   dir and the system folders can be opened, and nothing executed. */
static void test_sandbox(void **state)
{
	char data_dir[] = "/tmp/tern-sandbox-XXXXXX";
	const char *srcdir = getenv("TERN_SRCDIR");
	pid_t pid;
	int status;

	assert_non_null(srcdir);
	assert_non_null(mkdtemp(data_dir));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tern_settings set = {.data_dir = data_dir};
		char path[300], *argv[] = {"true", NULL};
		int abi = sandbox_enter(&set), fd;

		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(10);
		snprintf(path, sizeof(path), "%s/f", data_dir);
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		if (fd < 0)
			_exit(11);
		close(fd);
		if (open("/etc/passwd", O_RDONLY) < 0)
			_exit(12);
		if (abi != sandbox_landlock_abi() && abi != 0)
			_exit(13);
		if (abi >= SANDBOX_MIN_LANDLOCK_ABI) {
			snprintf(path, sizeof(path), "%s/meson.build", srcdir);
			if (open(path, O_RDONLY) >= 0 || errno != EACCES)
				_exit(14);
			if (open("/etc/tern-sandbox-test", O_WRONLY | O_CREAT, 0600) >= 0)
				_exit(15);
			execv("/bin/true", argv);
			if (errno != EACCES)
				_exit(16);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		char file[sizeof(data_dir) + 2];

		snprintf(file, sizeof(file), "%s/f", data_dir);
		assert_int_equal(unlink(file), 0);
		assert_int_equal(rmdir(data_dir), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drain),
	    cmocka_unit_test(test_reload_message_drains),
	    cmocka_unit_test(test_role_without_listeners),
	    cmocka_unit_test(test_undeclared_service_not_served),
	    cmocka_unit_test(test_broken_channel_stops_role),
	    cmocka_unit_test(test_sandbox),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_per_ip_limit),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
