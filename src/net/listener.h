#ifndef TERN_NET_LISTENER_H
#define TERN_NET_LISTENER_H

/*
 * Listening sockets. A listener address in the config is "127.0.0.1:25",
 * "[::1]:25" or "*:25" (all IPv4 and all IPv6 addresses: two sockets, the
 * IPv6 one with IPV6_V6ONLY so the two do not collide), or "unix:PATH", a
 * Unix stream socket (PATH relative to data_dir unless absolute; its
 * directory is made if missing, a stale socket file nobody answers on is
 * replaced, the file gets mode LISTENER_UNIX_MODE).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/settings.h"

/* The prefix of a Unix socket listener address. */
#define LISTENER_UNIX_PREFIX "unix:"
/* The mode of a Unix socket file: any local user may connect (the service
   decides what it accepts, like Dovecot's lmtp socket); put it in a
   directory the front MTA can reach. */
#define LISTENER_UNIX_MODE 0666

/* One bound socket. */
struct listener {
	int fd;                     /* listening, nonblocking, close-on-exec */
	struct sockaddr_storage ss; /* the bound address */
	socklen_t sslen;
	char *name; /* "127.0.0.1:25", "[::]:25" */
	const struct service_def *service;
	enum tls_mode tls;
	/* The listener block's proxy_protocol networks (an own copy). */
	char **proxy_from;
	size_t proxy_from_count;
};

/* Parse a listener spec into up to two socket addresses (two for "*").
   Returns 0 with the addresses in addrs_r[0..*count_r-1] and their lengths
   in lens_r, or -1 with a static reason in *error_r ("missing port", "bad
   port", "bad IPv6 address", ...). Ports are 1..65535. */
int listener_spec_parse(const char *spec, struct sockaddr_storage addrs_r[2], socklen_t lens_r[2],
                        size_t *count_r, const char **error_r);

/* True if spec is a Unix socket address ("unix:PATH"). */
bool listener_spec_is_unix(const char *spec);

/* The socket address of "unix:PATH", PATH taken relative to base_dir
   unless absolute. Returns 0, or -1 with a static reason in *error_r
   ("missing socket path", "socket path too long": sun_path is 108 bytes). */
int listener_unix_addr(const char *spec, const char *base_dir, struct sockaddr_storage *ss_r,
                       socklen_t *len_r, const char **error_r);

/* Render a socket address as "1.2.3.4:25", "[::1]:25" or "unix:/path"
   (malloc'ed). */
char *listener_addr_name(const struct sockaddr *sa, socklen_t len);

/* Create a listening socket on sa (SO_REUSEADDR, IPV6_V6ONLY for IPv6;
   for AF_UNIX the directory, stale file and mode handling above;
   nonblocking, close-on-exec, backlog 1024). Returns the fd, or -1 with a
   malloc'ed reason in *error_r ("bind 127.0.0.1:25: Address already in
   use"). */
int listener_socket(const struct sockaddr *sa, socklen_t len, char **error_r);

/* Bind every address of every listener in settings. reuse (may be NULL,
   with reuse_count 0) is a previous set: a listener there with the same
   address is moved into the new set with its fd (and its entry in reuse
   set to NULL), so a reload keeps unchanged sockets open. Returns 0 with
   a new malloc'ed array of listeners, or -1 with a malloc'ed reason (then
   nothing was taken from reuse and every socket opened here is closed). */
int listeners_open(const struct tern_settings *settings, struct listener **reuse,
                   size_t reuse_count, struct listener ***listeners_r, size_t *count_r,
                   char **error_r);

/* "127.0.0.1:10025/smtp,127.0.0.1:10143/imap" for the started log line
   (malloc'ed). */
char *listeners_describe(struct listener *const *listeners, size_t count);

/* Close and free one listener (NULL is fine) and set *l to NULL. */
void listener_free(struct listener **l);
/* Free an array from listeners_open() and every listener still in it. */
void listeners_free(struct listener ***listeners, size_t count);

#endif
