#ifndef TERN_QUEUE_QUEUE_TRANSPORT_H
#define TERN_QUEUE_QUEUE_TRANSPORT_H

/* Where a destination domain's mail goes: the transport map
   (queue.transport_file, like Postfix's transport(5) and relayhost). The
   map is text, one route per line:
     other.test   127.0.0.2:2525     # a fixed host (no MX lookup), a port
     example.net  [192.0.2.7]        # an IP literal
     example.org  mx.example.org     # a host name: its A/AAAA
     *            smtp.provider.net:587   # every other domain: a smarthost
   '#' starts a comment; domains match exactly (case-insensitive), "*"
   matches the domains no line names; a missing port means queue.port.
   queue.auth_file ("host user password" lines) gives the credentials
   for a route's host: AUTH PLAIN/LOGIN, only over TLS (queue-auth). */

#include <stdbool.h>
#include <stddef.h>

#include "lib/array.h"

struct queue_route {
	char *host;    /* host name or IP literal (without brackets) */
	unsigned port; /* 0: queue.port */
};

struct queue_transport;

/* Parse a map. Returns 0 with *t_r (free with queue_transport_free()), or
   -1 with a static *error_r and *line_r the 1-based line at fault. */
int queue_transport_parse(const char *text, size_t len, struct queue_transport **t_r,
                          size_t *line_r, const char **error_r);
/* Read and parse the file at path (errors as above, 0 line for I/O). */
int queue_transport_load(const char *path, struct queue_transport **t_r, size_t *line_r,
                         const char **error_r);
void queue_transport_free(struct queue_transport **t);

/* The route of domain (its line, else the "*" line), or NULL (then
   MX). Valid while t is. */
const struct queue_route *queue_transport_lookup(const struct queue_transport *t,
                                                 const char *domain);

/* Parse "host[:port]" or "[ip]:port" into r (malloc'ed host). Returns 0,
   or -1 when it is not one. */
int queue_route_parse(const char *s, struct queue_route *r);
void queue_route_clear(struct queue_route *r);

/* Credentials per host: queue.auth_file. */
struct queue_auth {
	char *host, *user, *password;
};
typedef ARRAY(struct queue_auth) queue_auths;
/* Parse "host user password" lines ('#' comments, blank lines; the
   password is the rest of the line, spaces included). Returns
   0, or -1 with a static *error_r and the line in *line_r. */
int queue_auth_parse(const char *text, size_t len, queue_auths *auths_r, size_t *line_r,
                     const char **error_r);
int queue_auth_load(const char *path, queue_auths *auths_r, size_t *line_r, const char **error_r);
/* The entry of host (case-insensitive), or NULL. */
const struct queue_auth *queue_auth_lookup(const queue_auths *auths, const char *host);
/* Free (wiping the passwords). */
void queue_auths_free(queue_auths *auths);

#endif
