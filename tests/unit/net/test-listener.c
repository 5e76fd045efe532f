/* Unit tests for src/net/listener.c: listener specs, bind errors, reuse of
   sockets across a reload, Unix sockets. */
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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "net/listener.h"

/* Services as a role would declare them. */
static const struct service_def smtp_service = {"smtp", 25, TLS_MODE_STARTTLS};
static const struct service_def submission_service = {"submission", 587, TLS_MODE_STARTTLS};

static void test_spec_parse(void **state)
{
	static const struct {
		const char *spec;
		const char *names; /* rendered addresses, or the error */
	} cases[] = {
	    {"127.0.0.1:25", "127.0.0.1:25"},
	    {"[::1]:10143", "[::1]:10143"},
	    {"*:25", "0.0.0.0:25 [::]:25"},
	    {"0.0.0.0:65535", "0.0.0.0:65535"},
	    {"[2001:db8::1]:587", "[2001:db8::1]:587"},
	    {"127.0.0.1", "missing port"},
	    {"127.0.0.1:", "missing port"},
	    {"127.0.0.1:0", "bad port"},
	    {"127.0.0.1:65536", "bad port"},
	    {"127.0.0.1:99999999999999999999", "bad port"},
	    {"127.0.0.1:2x", "bad port"},
	    {"1.2.3:25", "bad IPv4 address"},
	    {"localhost:25", "bad IPv4 address"},
	    {"::1:25", "IPv6 address needs [brackets]"},
	    {"[::1]25", "missing port"},
	    {"[::1", "bad IPv6 address"},
	    {"[1.2.3.4]:25", "bad IPv6 address"},
	    {"", "missing port"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage addrs[2];
		socklen_t lens[2];
		size_t n = 0;
		const char *error = NULL;
		char got[128] = "";

		if (listener_spec_parse(cases[i].spec, addrs, lens, &n, &error) < 0) {
			snprintf(got, sizeof(got), "%s", error);
		} else {
			for (size_t a = 0; a < n; a++) {
				char *name =
				    listener_addr_name((struct sockaddr *)&addrs[a], lens[a]);
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
				         a > 0 ? " " : "", name);
				free(name);
			}
		}
		assert_string_equal(got, cases[i].names);
	}
}

/* A free loopback port: bind to 0 and read it back. */
static unsigned free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void test_bind_error(void **state)
{
	struct sockaddr_storage addrs[2];
	socklen_t lens[2];
	size_t n;
	const char *perr;
	char *error = NULL, *spec, *want;
	unsigned port = free_port();
	int fd;

	spec = xasprintf("127.0.0.1:%u", port);
	assert_int_equal(listener_spec_parse(spec, addrs, lens, &n, &perr), 0);
	fd = listener_socket((struct sockaddr *)&addrs[0], lens[0], &error);
	assert_true(fd >= 0);
	assert_int_equal(listener_socket((struct sockaddr *)&addrs[0], lens[0], &error), -1);
	want = xasprintf("bind 127.0.0.1:%u: Address already in use", port);
	assert_string_equal(error, want);
	free(want);
	free(error);
	free(spec);
	close(fd);
}

static void settings_with(struct tern_settings *set, struct listener_settings *ls, char **addrs,
                          size_t n)
{
	memset(set, 0, sizeof(*set));
	memset(ls, 0, sizeof(*ls));
	ls->service = &smtp_service;
	ls->addresses = addrs;
	ls->address_count = n;
	ls->tls = TLS_MODE_STARTTLS;
	set->listeners = ls;
	set->listener_count = 1;
}

/* A reload keeps the socket of an unchanged address and closes nothing on
   failure. */
static void test_open_reuse(void **state)
{
	struct tern_settings set;
	struct listener_settings ls;
	struct listener **first, **second;
	size_t nfirst, nsecond;
	char *error = NULL;
	char *a1 = xasprintf("127.0.0.1:%u", free_port());
	char *a2 = xasprintf("127.0.0.1:%u", free_port());
	char *addrs[2] = {a1, a2};
	char *dup_addrs[2] = {a1, a1};
	int fd1;

	settings_with(&set, &ls, addrs, 1);
	assert_int_equal(listeners_open(&set, NULL, 0, &first, &nfirst, &error), 0);
	assert_int_equal(nfirst, 1);
	fd1 = first[0]->fd;
	settings_with(&set, &ls, dup_addrs, 2);
	assert_int_equal(listeners_open(&set, first, nfirst, &second, &nsecond, &error), -1);
	assert_non_null(strstr(error, "used twice"));
	free(error);
	assert_non_null(first[0]); /* given back after the failure */
	settings_with(&set, &ls, addrs, 2);
	ls.service = &submission_service;
	assert_int_equal(listeners_open(&set, first, nfirst, &second, &nsecond, &error), 0);
	assert_int_equal(nsecond, 2);
	assert_null(first[0]);
	assert_int_equal(second[0]->fd, fd1);
	assert_int_equal(second[0]->service, &submission_service);
	listeners_free(&first, nfirst);
	listeners_free(&second, nsecond);
	assert_null(second);
	free(a1);
	free(a2);
}

/* "unix:PATH": relative to the base directory unless absolute; sun_path
   bounds the length. */
static void test_unix_addr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *error;
	char *name, *longpath = xasprintf("unix:/%0200d", 0);

	assert_true(listener_spec_is_unix("unix:/x"));
	assert_false(listener_spec_is_unix("127.0.0.1:24"));
	assert_int_equal(listener_unix_addr("unix:run/lmtp.sock", "/data", &ss, &len, &error), 0);
	name = listener_addr_name((struct sockaddr *)&ss, len);
	assert_string_equal(name, "unix:/data/run/lmtp.sock");
	free(name);
	assert_int_equal(listener_unix_addr("unix:/var/lmtp", "/data", &ss, &len, &error), 0);
	name = listener_addr_name((struct sockaddr *)&ss, len);
	assert_string_equal(name, "unix:/var/lmtp");
	free(name);
	assert_int_equal(listener_unix_addr("unix:", "/data", &ss, &len, &error), -1);
	assert_string_equal(error, "missing socket path");
	assert_int_equal(listener_unix_addr(longpath, "/data", &ss, &len, &error), -1);
	assert_string_equal(error, "socket path too long");
	free(longpath);
}

/* A Unix listener makes its directory, gets mode 0666, replaces a stale
   socket file, refuses a live one and never removes a file that is not a
   socket. */
static void test_unix_socket(void **state)
{
	char dir[] = "/tmp/tern-test-listener-XXXXXX";
	struct sockaddr_storage ss;
	socklen_t len;
	const char *error;
	char *spec, *path, *perr = NULL, *cmd;
	struct stat st;
	int fd, fd2;

	assert_non_null(mkdtemp(dir));
	spec = xasprintf("unix:run/lmtp.sock");
	path = xasprintf("%s/run/lmtp.sock", dir);
	assert_int_equal(listener_unix_addr(spec, dir, &ss, &len, &error), 0);
	fd = listener_socket((struct sockaddr *)&ss, len, &perr);
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, LISTENER_UNIX_MODE);
	/* live: refused */
	assert_int_equal(listener_socket((struct sockaddr *)&ss, len, &perr), -1);
	assert_non_null(strstr(perr, "Address already in use"));
	free(perr);
	perr = NULL;
	/* stale (its server is gone): replaced */
	close(fd);
	fd2 = listener_socket((struct sockaddr *)&ss, len, &perr);
	assert_true(fd2 >= 0);
	close(fd2);
	/* a regular file in the way stays */
	assert_int_equal(unlink(path), 0);
	fd = creat(path, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(listener_socket((struct sockaddr *)&ss, len, &perr), -1);
	free(perr);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(spec);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_parse),  cmocka_unit_test(test_bind_error),
	    cmocka_unit_test(test_open_reuse),  cmocka_unit_test(test_unix_addr),
	    cmocka_unit_test(test_unix_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
