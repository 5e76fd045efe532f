#ifndef TERN_MASTER_ROLE_PROXY_H
#define TERN_MASTER_ROLE_PROXY_H

/*
 * The role loop's wait for a PROXY protocol header (net/proxy.h) on a
 * connection accepted from a listener's proxy_protocol peer: the header
 * is read (never a byte past it), and then the connection is handed on
 * with the client's address from the header. Private to src/master.
 */

#include <event2/event.h>
#include <sys/socket.h>

#include "net/listener.h"

/* Connections waiting for their header at once in one process; more are
   closed at accept. */
#define ROLE_PROXY_MAX_PENDING 256
/* Seconds a proxy has to send the header. */
#define ROLE_PROXY_TIMEOUT 10

/* The header arrived: fd (now the caller's) and the client's address (the
   connection's own for a LOCAL header), valid for the call. */
typedef void role_proxy_done_fn(void *context, int fd, const struct sockaddr *peer,
                                socklen_t peerlen, struct listener *l);

/* Wait on base for fd's header (fd accepted on l from peer, which is in
   l->proxy_from). On a bad header, EOF or the timeout the connection is
   closed and logged (event=proxy.failed). Returns -1 (fd closed) when
   ROLE_PROXY_MAX_PENDING are waiting already. */
int role_proxy_wait(struct event_base *base, int fd, const struct sockaddr *peer, socklen_t peerlen,
                    struct listener *l, role_proxy_done_fn *done, void *context);

/* Close every connection still waiting (the role is stopping). */
void role_proxy_abort_all(void);

#endif
