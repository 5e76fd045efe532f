#ifndef TERN_SMTP_SMTP_HEADER_H
#define TERN_SMTP_SMTP_HEADER_H

/*
 * The header section of a message received on port 25, held in memory
 * (bounded) while the body streams to disk, so the server can put its own
 * Authentication-Results on top and drop forged ones (RFC 8601 section 5)
 * before the message is stored. I/O-free: fed the decoded DATA bytes in
 * chunks of any size, it keeps the bytes up to the empty line that ends
 * the header section (RFC 5322 section 2.1) and says where the body
 * starts.
 *
 * The functions below it work on a complete header section (CRLF line
 * ends, as the DATA decoder passes them; a message with a bare LF or CR is
 * refused anyway).
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct smtp_header {
	struct buf fields; /* the header section, without the empty line */
	size_t max;        /* limit on fields.len */
	int state;         /* private */
	bool ended;        /* the empty line was seen */
	bool too_big;      /* over max: the rest is not kept */
};

/* Start collecting a header section of at most max bytes. */
void smtp_header_init(struct smtp_header *h, size_t max);

/* Feed len bytes of the message. Returns 1 when the empty line that ends
   the header section was in them: *consumed_r is the number of bytes used,
   through that line's LF (the rest is body). Returns 0 when every byte was
   used and the section goes on. Returns -1 (every byte used, nothing kept)
   when the section went over max: the message is to be refused; later
   calls return -1 too. A message without an empty line is all header
   section: 0 until the end. */
int smtp_header_feed(struct smtp_header *h, const void *data, size_t len, size_t *consumed_r);

/* Free the collected bytes. */
void smtp_header_clear(struct smtp_header *h);

/* One header field inside a header section: name (without the colon) and
   value (after the colon, folding kept, the final CRLF excluded), as slices
   of the section; raw is the whole field with its final CRLF. */
struct smtp_header_field {
	const char *name, *value, *raw;
	size_t name_len, value_len, raw_len;
};

/* The field starting at *pos in hdr[0..len) (a line and its continuation
   lines starting with space or tab). Returns 1 with *field_r and *pos moved
   past it, 0 at the end. A line without a colon is returned with name_len
   0 (such lines are kept as they are, never taken for a field). */
int smtp_header_next(const char *hdr, size_t len, size_t *pos, struct smtp_header_field *field_r);

/* True if the field is name (case-insensitive, RFC 5322 section 1.2.2). */
bool smtp_header_field_is(const struct smtp_header_field *field, const char *name);

/* Append hdr to out without the Authentication-Results fields whose
   authserv-id is authserv_id (RFC 8601 section 5: forged or stale claims of
   this host). Returns the number of fields removed. */
unsigned smtp_header_filter(const char *hdr, size_t len, const char *authserv_id, struct buf *out);

#endif
