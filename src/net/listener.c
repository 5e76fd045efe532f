#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define LISTEN_BACKLOG 1024

static int parse_port(const char *s, in_port_t *port_r, const char **error_r)
{
	unsigned long v = 0;

	if (*s == '\0') {
		*error_r = "missing port";
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 65535) {
			*error_r = "bad port";
			return -1;
		}
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535) {
		*error_r = "bad port";
		return -1;
	}
	*port_r = htons((in_port_t)v);
	return 0;
}

static void set_v4(struct sockaddr_storage *ss, socklen_t *len_r, const struct in_addr *a,
                   in_port_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr = *a;
	sin->sin_port = port;
	*len_r = sizeof(*sin);
}

static void set_v6(struct sockaddr_storage *ss, socklen_t *len_r, const struct in6_addr *a,
                   in_port_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = *a;
	sin6->sin6_port = port;
	*len_r = sizeof(*sin6);
}

/* "[v6]:port" */
static int parse_v6_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len_r,
                         const char **error_r)
{
	const char *end = strchr(spec, ']');
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a;
	in_port_t port;

	if (end == NULL || (size_t)(end - spec - 1) >= sizeof(host)) {
		*error_r = "bad IPv6 address";
		return -1;
	}
	memcpy(host, spec + 1, (size_t)(end - spec - 1));
	host[end - spec - 1] = '\0';
	if (inet_pton(AF_INET6, host, &a) != 1) {
		*error_r = "bad IPv6 address";
		return -1;
	}
	if (end[1] != ':') {
		*error_r = "missing port";
		return -1;
	}
	if (parse_port(end + 2, &port, error_r) < 0)
		return -1;
	set_v6(ss, len_r, &a, port);
	return 0;
}

/* "a.b.c.d:port" or "*:port" */
static int parse_v4_spec(const char *spec, struct sockaddr_storage addrs_r[2], socklen_t lens_r[2],
                         size_t *count_r, const char **error_r)
{
	const char *colon = strrchr(spec, ':');
	char host[INET_ADDRSTRLEN];
	struct in_addr a;
	in_port_t port;

	if (colon == NULL) {
		*error_r = "missing port";
		return -1;
	}
	if (parse_port(colon + 1, &port, error_r) < 0)
		return -1;
	if (colon - spec == 1 && spec[0] == '*') {
		a.s_addr = htonl(INADDR_ANY);
		set_v4(&addrs_r[0], &lens_r[0], &a, port);
		set_v6(&addrs_r[1], &lens_r[1], &in6addr_any, port);
		*count_r = 2;
		return 0;
	}
	if ((size_t)(colon - spec) >= sizeof(host)) {
		*error_r = "bad IPv4 address";
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1) {
		*error_r = strchr(host, ':') != NULL ? "IPv6 address needs [brackets]"
		                                     : "bad IPv4 address";
		return -1;
	}
	set_v4(&addrs_r[0], &lens_r[0], &a, port);
	*count_r = 1;
	return 0;
}

int listener_spec_parse(const char *spec, struct sockaddr_storage addrs_r[2], socklen_t lens_r[2],
                        size_t *count_r, const char **error_r)
{
	if (spec[0] == '[') {
		if (parse_v6_spec(spec, &addrs_r[0], &lens_r[0], error_r) < 0)
			return -1;
		*count_r = 1;
		return 0;
	}
	return parse_v4_spec(spec, addrs_r, lens_r, count_r, error_r);
}

/* ---- Unix sockets ---- */

int listener_unix_addr(const char *spec, const char *base_dir, struct sockaddr_storage *ss_r,
                       socklen_t *len_r, const char **error_r)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss_r;
	const char *path = spec + strlen(LISTENER_UNIX_PREFIX);
	int n;

	if (!listener_spec_is_unix(spec) || *path == '\0') {
		*error_r = "missing socket path";
		return -1;
	}
	memset(ss_r, 0, sizeof(*ss_r));
	sun->sun_family = AF_UNIX;
	if (path[0] == '/')
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
	else
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", base_dir, path);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path)) {
		*error_r = "socket path too long";
		return -1;
	}
	*len_r = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

bool listener_spec_is_unix(const char *spec)
{
	return strncmp(spec, LISTENER_UNIX_PREFIX, strlen(LISTENER_UNIX_PREFIX)) == 0;
}

/* Make the socket's directory if missing, and remove a socket file left by
   a server that is gone (nobody answers on it); a live one is an error. */
static int unix_prepare(const struct sockaddr_un *sun, socklen_t len, const char **what_r)
{
	char dir[sizeof(sun->sun_path)];
	char *slash;
	struct stat st;
	int fd, ret;

	snprintf(dir, sizeof(dir), "%s", sun->sun_path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			*what_r = "mkdir";
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*what_r = "socket";
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)sun, len);
	close(fd);
	if (ret == 0) {
		errno = EADDRINUSE;
		*what_r = "bind";
		return -1;
	}
	if (errno == ECONNREFUSED && lstat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(sun->sun_path);
	return 0;
}

char *listener_addr_name(const struct sockaddr *sa, socklen_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
		size_t n = strnlen(sun->sun_path, len - offsetof(struct sockaddr_un, sun_path));
		return xasprintf(LISTENER_UNIX_PREFIX "%.*s", (int)n, sun->sun_path);
	}

	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		return xasprintf("[%s]:%u", host, ntohs(sin6->sin6_port));
	}
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		return xasprintf("%s:%u", host, ntohs(sin->sin_port));
	}
	return xstrdup("unknown");
}

static int socket_options(int fd, int family)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return -1;
	/* Without V6ONLY the "::" socket would also take IPv4 and collide with
	   the 0.0.0.0 one. */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		return -1;
	return 0;
}

int listener_socket(const struct sockaddr *sa, socklen_t len, char **error_r)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char *name;
	const char *what = "bind";

	if (fd < 0) {
		what = "socket";
		goto fail;
	}
	if (sa->sa_family == AF_UNIX) {
		if (unix_prepare((const struct sockaddr_un *)sa, len, &what) < 0)
			goto fail;
	} else if (socket_options(fd, sa->sa_family) < 0) {
		what = "setsockopt";
		goto fail;
	}
	if (bind(fd, sa, len) < 0)
		goto fail;
	/* Who may connect is the policy's business (docs/smtp.md, LMTP): any
	   local process, as with Dovecot's lmtp socket. */
	if (sa->sa_family == AF_UNIX &&
	    chmod(((const struct sockaddr_un *)sa)->sun_path, LISTENER_UNIX_MODE) < 0) {
		what = "chmod";
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		what = "listen";
		goto fail;
	}
	return fd;
fail:
	name = listener_addr_name(sa, len);
	*error_r = xasprintf("%s %s: %s", what, name, strerror(errno));
	free(name);
	if (fd >= 0)
		close(fd);
	return -1;
}

static bool same_addr(const struct listener *l, const struct sockaddr_storage *ss, socklen_t len)
{
	return l != NULL && l->sslen == len && memcmp(&l->ss, ss, len) == 0;
}

struct open_state {
	struct listener **list;
	size_t count;
	struct listener **reuse;
	size_t reuse_count;
	/* Where each reused entry came from, to put it back on failure. */
	size_t *reused_from;
};

static bool already_open(const struct open_state *st, const struct sockaddr_storage *ss,
                         socklen_t len)
{
	for (size_t i = 0; i < st->count; i++) {
		if (same_addr(st->list[i], ss, len))
			return true;
	}
	return false;
}

static void proxy_from_free(struct listener *l)
{
	for (size_t i = 0; i < l->proxy_from_count; i++)
		free(l->proxy_from[i]);
	free(l->proxy_from);
	l->proxy_from = NULL;
	l->proxy_from_count = 0;
}

static void proxy_from_set(struct listener *l, const struct listener_settings *ls)
{
	proxy_from_free(l);
	if (ls->proxy_protocol_count == 0)
		return;
	l->proxy_from = xcalloc(ls->proxy_protocol_count, sizeof(char *));
	for (size_t i = 0; i < ls->proxy_protocol_count; i++)
		l->proxy_from[i] = xstrdup(ls->proxy_protocol[i]);
	l->proxy_from_count = ls->proxy_protocol_count;
}

static int open_one(struct open_state *st, const struct listener_settings *ls,
                    const struct sockaddr_storage *ss, socklen_t len, char **error_r)
{
	struct listener *l;
	size_t from = SIZE_MAX;

	if (already_open(st, ss, len)) {
		char *name = listener_addr_name((const struct sockaddr *)ss, len);
		*error_r = xasprintf("listener %s: address %s used twice", ls->service->name, name);
		free(name);
		return -1;
	}
	for (size_t i = 0; i < st->reuse_count; i++) {
		if (same_addr(st->reuse[i], ss, len))
			from = i;
	}
	if (from != SIZE_MAX) {
		l = st->reuse[from];
		st->reuse[from] = NULL;
	} else {
		int fd = listener_socket((const struct sockaddr *)ss, len, error_r);
		if (fd < 0)
			return -1;
		l = xcalloc(1, sizeof(*l));
		l->fd = fd;
		l->ss = *ss;
		l->sslen = len;
		l->name = listener_addr_name((const struct sockaddr *)ss, len);
	}
	l->service = ls->service;
	l->tls = ls->tls;
	proxy_from_set(l, ls);
	st->list[st->count] = l;
	st->reused_from[st->count] = from;
	st->count++;
	return 0;
}

/* Undo a failed listeners_open: return reused entries, close new ones. */
static void open_rollback(struct open_state *st)
{
	for (size_t i = 0; i < st->count; i++) {
		if (st->reused_from[i] != SIZE_MAX)
			st->reuse[st->reused_from[i]] = st->list[i];
		else
			listener_free(&st->list[i]);
	}
	free(st->list);
	free(st->reused_from);
}

static int open_listener_settings(struct open_state *st, const struct listener_settings *ls,
                                  const char *data_dir, char **error_r)
{
	struct sockaddr_storage addrs[2];
	socklen_t lens[2];
	size_t n;
	const char *error;

	for (size_t a = 0; a < ls->address_count; a++) {
		const char *spec = ls->addresses[a];
		int ret;

		n = 1;
		ret = listener_spec_is_unix(spec)
		          ? listener_unix_addr(spec, data_dir, &addrs[0], &lens[0], &error)
		          : listener_spec_parse(spec, addrs, lens, &n, &error);

		if (ret < 0) {
			*error_r = xasprintf("listener %s: address %s: %s", ls->service->name,
			                     ls->addresses[a], error);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (open_one(st, ls, &addrs[i], lens[i], error_r) < 0)
				return -1;
		}
	}
	return 0;
}

int listeners_open(const struct tern_settings *settings, struct listener **reuse,
                   size_t reuse_count, struct listener ***listeners_r, size_t *count_r,
                   char **error_r)
{
	struct open_state st = {.reuse = reuse, .reuse_count = reuse_count};
	size_t max = 0;

	for (size_t i = 0; i < settings->listener_count; i++)
		max += 2 * settings->listeners[i].address_count;
	st.list = xcalloc(max + 1, sizeof(*st.list));
	st.reused_from = xcalloc(max + 1, sizeof(*st.reused_from));
	for (size_t i = 0; i < settings->listener_count; i++) {
		if (open_listener_settings(&st, &settings->listeners[i], settings->data_dir,
		                           error_r) < 0) {
			open_rollback(&st);
			return -1;
		}
	}
	free(st.reused_from);
	*listeners_r = st.list;
	*count_r = st.count;
	return 0;
}

char *listeners_describe(struct listener *const *listeners, size_t count)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < count; i++) {
		buf_printf(&b, "%s%s/%s", i > 0 ? "," : "", listeners[i]->name,
		           listeners[i]->service->name);
	}
	return buf_steal(&b);
}

void listener_free(struct listener **lp)
{
	struct listener *l = *lp;

	if (l == NULL)
		return;
	*lp = NULL;
	if (l->fd >= 0)
		close(l->fd);
	proxy_from_free(l);
	free(l->name);
	free(l);
}

void listeners_free(struct listener ***listeners, size_t count)
{
	if (*listeners == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		listener_free(&(*listeners)[i]);
	free(*listeners);
	*listeners = NULL;
}
