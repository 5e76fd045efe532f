#ifndef TERN_IMAP_IMAP_SERVER_H
#define TERN_IMAP_IMAP_SERVER_H

/*
 * The IMAP server (RFC 3501 IMAP4rev1, with LITERAL+, SASL-IR, IDLE,
 * UNSELECT, NAMESPACE): imap_role_ops (below) runs it in
 * the imap role; imap_server_new() and imap_server_accept() let a test run
 * sessions on its own event loop. docs/imap.md lists what is supported.
 */

#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/settings.h"
#include "lib/workpool.h"
#include "master/role.h"

/* The imap role (services imap, imaps, and pop3, pop3s of src/pop3). */
extern const struct role_ops imap_role_ops;

struct imap_server;

/* A server for settings (which must outlive it) on base: opens the user
   directory. tls may be NULL (no STARTTLS / implicit TLS then); pool runs
   password verification; failed logins count into auth_failures (see
   auth_new: shared by the role processes, NULL for a table of its own). Returns 0 with *server_r,
   or -1 with a reason in *error_r (static, or valid until the next call). */
int imap_server_new(struct event_base *base, const struct tern_settings *settings, SSL_CTX *tls,
                    struct workpool *pool, struct shm_table *auth_failures,
                    struct imap_server **server_r, const char **error_r);
/* Free the server (its sessions must be gone); sets *server to NULL. NULL
   is fine. */
void imap_server_free(struct imap_server **server);

/* user's mailbox changed (a notification from the channel): every
   session of user in IDLE syncs and reports now. */
void imap_server_mailbox_changed(struct imap_server *server, const char *user);

/* Serve an accepted connection (fd is taken over; nonblocking). */
void imap_server_accept(struct imap_server *server, int fd, const struct sockaddr *peer,
                        socklen_t peerlen, bool implicit_tls);

#endif
