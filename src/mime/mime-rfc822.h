#ifndef TERN_MIME_MIME_RFC822_H
#define TERN_MIME_MIME_RFC822_H

/*
 * A small tokenizer for structured header values (RFC 5322 section 3.2,
 * RFC 2045 section 5.1), shared by the Content-* and address parsers. It
 * reads a bounded in-memory value; nothing here does I/O or allocates
 * except into the struct buf it is given.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct rfc822_reader {
	const char *p;
	const char *end;
};

void rfc822_reader_init(struct rfc822_reader *r, const char *data, size_t len);

/* Skip whitespace and (nested, possibly unterminated) comments. When
   comment is not NULL, the text of the comments is appended to it (several
   comments separated by a space). */
void rfc822_skip_cfws(struct rfc822_reader *r, struct buf *comment);

/* True if the reader is at the end of its input. */
bool rfc822_eof(const struct rfc822_reader *r);

/* Append an RFC 2045 token to out. Returns 1 if at least one byte was
   read, 0 if the next byte cannot start a token. */
int rfc822_read_token(struct rfc822_reader *r, struct buf *out);

/* At a '"': append the unquoted contents of a quoted string to out (a
   missing closing quote ends it at the end of input). Returns 1, or 0 if
   not at a '"'. */
int rfc822_read_quoted(struct rfc822_reader *r, struct buf *out);

/* Append an RFC 5322 atom (atext; 8-bit bytes are accepted, RFC 6532) to
   out. Returns 1 if at least one byte was read, else 0. */
int rfc822_read_atom(struct rfc822_reader *r, struct buf *out);

/* At a '[': append a domain literal including its brackets. Returns 1, or
   0 if not at a '['. */
int rfc822_read_domain_literal(struct rfc822_reader *r, struct buf *out);

#endif
