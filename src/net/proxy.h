#ifndef TERN_NET_PROXY_H
#define TERN_NET_PROXY_H

/*
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a
 * load balancer in front of Tern sends first on each connection, so that
 * logs, bans, SPF and DNSBL see the real client address (docs/guard.md).
 * I/O-free: give it the bytes that have arrived so far (never more than
 * the header needs: read with MSG_PEEK and then consume exactly
 * header->length, since the client's own bytes, a TLS ClientHello, may
 * follow at once).
 */

#include <stddef.h>
#include <sys/socket.h>

/* The longest header accepted: v1's 107 bytes, v2's 16 + addresses and
   TLVs (longer ones are refused). */
#define PROXY_HEADER_MAX 1024

enum proxy_status {
	PROXY_NEED_MORE, /* a valid prefix: read more */
	PROXY_DONE,      /* *header filled */
	PROXY_INVALID,   /* not a PROXY header, or a bad one: close */
};

struct proxy_header {
	size_t length; /* bytes of the header, to consume */
	/* The client's and the proxy's listener's addresses. local: the proxy
	   spoke for itself (v2 LOCAL, v1 UNKNOWN, or a family not carried):
	   keep the connection's own addresses. */
	int local;
	struct sockaddr_storage source, destination;
	socklen_t source_len, destination_len;
};

/* Parse data[0..len). Returns PROXY_NEED_MORE while data is a prefix of a
   header (len < PROXY_HEADER_MAX), PROXY_DONE with *header, or
   PROXY_INVALID with a static reason in *error_r. */
enum proxy_status proxy_parse(const unsigned char *data, size_t len, struct proxy_header *header,
                              const char **error_r);

#endif
