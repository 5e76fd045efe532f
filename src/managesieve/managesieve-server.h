#ifndef TERN_MANAGESIEVE_MANAGESIEVE_SERVER_H
#define TERN_MANAGESIEVE_MANAGESIEVE_SERVER_H

/*
 * The ManageSieve server (RFC 5804) on port 4190, served by the imap role
 * with its directory and users, as POP3. Scripts are kept by
 * managesieve-store.h; PUTSCRIPT and CHECKSCRIPT compile with
 * sieve_compile(). docs/managesieve.md lists what is supported.
 */

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/settings.h"

struct auth;
struct mail_user_registry;
struct managesieve_server;

/* A server on base for settings (a schema with the managesieve section),
   tls (NULL: no STARTTLS), auth and users (not owned; all must outlive the
   server). Never returns NULL. */
struct managesieve_server *managesieve_server_new(struct event_base *base,
                                                  const struct tern_settings *settings,
                                                  SSL_CTX *tls, struct auth *auth,
                                                  struct mail_user_registry *users);
/* Free the server (its sessions must be gone); sets *server NULL. NULL is
   fine. */
void managesieve_server_free(struct managesieve_server **server);

/* Serve an accepted connection (fd is taken over; nonblocking). */
void managesieve_server_accept(struct managesieve_server *server, int fd,
                               const struct sockaddr *peer, socklen_t peerlen);

/* The base delay before a failed login is answered; {0, 0}: at once. */
void managesieve_server_set_fail_delay(struct managesieve_server *server, struct timeval delay);

#endif
