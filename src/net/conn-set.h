#ifndef TERN_NET_CONN_SET_H
#define TERN_NET_CONN_SET_H

/*
 * What the role loop (src/master/role.c) needs from the connection layer:
 * the set of live connections in this process (for limits, shutdown and
 * draining). Sessions do not use it.
 */

#include <stddef.h>
#include <sys/socket.h>

/* Live connections in this process. */
size_t conn_count(void);
/* Live connections from the IP address of peer (port ignored). */
size_t conn_count_for_peer(const struct sockaddr *peer, socklen_t peerlen);
/* Ask every live connection to end: on_shutdown if it has one, else
   conn_close. */
void conn_shutdown_all(void);
/* Close every live connection now (on_close with reason), without
   flushing. */
void conn_abort_all(const char *reason);
/* Call hook(ctx) from the loop each time the last live connection has been
   freed (NULL to unset). */
void conn_set_empty_hook(void (*hook)(void *ctx), void *ctx);

#endif
