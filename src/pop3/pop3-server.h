#ifndef TERN_POP3_POP3_SERVER_H
#define TERN_POP3_POP3_SERVER_H

/*
 * The POP3 server (RFC 1939, 2449 CAPA, 2595 STLS, 5034 AUTH): served by
 * the imap role (DESIGN.md), which gives it its directory (struct auth)
 * and its users (the mail_user_registry), so IMAP and POP3 sessions of one
 * user in one process share one index connection. The maildrop is INBOX.
 * docs/pop3.md lists what is supported.
 */

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/settings.h"

struct auth;
struct mail_user_registry;
struct role_ctx;
struct pop3_server;

/* A server on base for settings (a schema with the pop3 section), tls
   (NULL: no STLS, no implicit TLS), auth and users (not owned; all must
   outlive the server). role (NULL outside a role, in tests) is told of
   the expunges of QUIT (role_notify_mailbox_changed()); without a role
   only users is told. Never returns NULL. */
struct pop3_server *pop3_server_new(struct event_base *base, const struct tern_settings *settings,
                                    SSL_CTX *tls, struct auth *auth,
                                    struct mail_user_registry *users, struct role_ctx *role);
/* Free the server (its sessions must be gone); sets *server to NULL. NULL
   is fine. */
void pop3_server_free(struct pop3_server **server);

/* Serve an accepted connection (fd is taken over; nonblocking). */
void pop3_server_accept(struct pop3_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls);

/* The delay before a failed login is answered (the base of auth_failure()'s
   growing delay); {0, 0} answers at once, for tests and fuzzing. */
void pop3_server_set_fail_delay(struct pop3_server *server, struct timeval delay);

#endif
