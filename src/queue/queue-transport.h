#ifndef TERN_QUEUE_QUEUE_TRANSPORT_H
#define TERN_QUEUE_QUEUE_TRANSPORT_H

/* Where a destination domain's mail goes: the transport map
   (queue.transport_file, like Postfix's transport(5)) and the smarthost.
   The map is text, one route per line:
     other.test   127.0.0.2:2525     # a fixed host (no MX lookup), a port
     example.net  [192.0.2.7]        # an IP literal
     example.org  mx.example.org     # a host name: its A/AAAA
   '#' starts a comment; domains match exactly (case-insensitive); a
   missing port means queue.port. */

#include <stdbool.h>
#include <stddef.h>

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

/* The route of domain, or NULL (then MX). Valid while t is. */
const struct queue_route *queue_transport_lookup(const struct queue_transport *t,
                                                 const char *domain);

/* Parse "host[:port]" or "[ip]:port" into r (malloc'ed host). Returns 0,
   or -1 when it is not one. */
int queue_route_parse(const char *s, struct queue_route *r);
void queue_route_clear(struct queue_route *r);

#endif
