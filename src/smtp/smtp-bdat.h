#ifndef TERN_SMTP_SMTP_BDAT_H
#define TERN_SMTP_SMTP_BDAT_H

/*
 * CHUNKING (RFC 3030): the BDAT argument parser and the chunk reader.
 * I/O-free, like smtp-data.h: the session hands it the bytes that follow a
 * "BDAT <size> [LAST]" line, in pieces of any size, and it takes exactly
 * <size> of them (the rest is the client's next command), counting the
 * message's size across chunks and storing nothing past the size limit.
 *
 * BDAT data is not dot-stuffed and has no end marker: the octets are the
 * message as is. What the DATA decoder checks, the reader checks too, so
 * both paths give one verdict (enum smtp_data_result): the size limit and,
 * unless the transaction is BODY=BINARYMIME (RFC 3030 section 3), bare CR
 * and bare LF, also where a CRLF is split between two chunks.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "smtp/smtp-data.h"

/* Longest chunk-size accepted in a BDAT line: 20 digits hold any 64-bit
   value; a longer number is a syntax error. */
#define SMTP_BDAT_SIZE_DIGITS_MAX 20

struct smtp_bdat_reader {
	uint64_t chunk_left; /* octets of the current chunk not yet taken */
	uint64_t size;       /* message octets so far, all chunks (counted past the limit) */
	uint64_t max_size;   /* 0 = no limit */
	bool binary;         /* BODY=BINARYMIME: any octet, no line-end rule */
	bool pending_cr;     /* the last octet taken was a CR */
	bool bare_lf, bare_cr;
};

/* Parse the argument text of a BDAT command: "<chunk-size>" or
   "<chunk-size> LAST" (LAST in any case; RFC 3030 section 2). Returns 0
   with *size_r and *last_r set, or -1 on anything else (no digits, a
   number over 64 bits, other words). */
int smtp_bdat_parse_args(const char *arg, uint64_t *size_r, bool *last_r);

/* Start a message of at most max_size octets (0: no limit); binary for
   BODY=BINARYMIME. */
void smtp_bdat_init(struct smtp_bdat_reader *r, uint64_t max_size, bool binary);

/* Start a chunk of size octets. */
void smtp_bdat_chunk(struct smtp_bdat_reader *r, uint64_t size);

/* True if a chunk of size octets would take the message past max_size by
   more than max_size again: the session refuses it without reading it
   (docs/smtp.md). False when there is no limit. */
bool smtp_bdat_chunk_absurd(const struct smtp_bdat_reader *r, uint64_t size);

/* Take octets of the current chunk from in (len bytes): at most what the
   chunk still lacks. They are appended to out while the message is within
   max_size (out may be NULL: the octets are only counted). *consumed_r is
   the number of bytes of in taken. Returns 1 when the chunk is complete
   (a chunk of size 0 is complete at once), 0 when more is needed (then all
   len bytes were taken). Never fails. */
int smtp_bdat_feed(struct smtp_bdat_reader *r, const void *in, size_t len, size_t *consumed_r,
                   struct buf *out);

/* The message ended (BDAT LAST complete): a CR at its very end is bare. */
void smtp_bdat_finish(struct smtp_bdat_reader *r);

/* The verdict on the message so far: TOO_BIG takes precedence over
   BARE_LF, as for DATA. */
enum smtp_data_result smtp_bdat_result(const struct smtp_bdat_reader *r);

#endif
