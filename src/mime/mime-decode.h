#ifndef TERN_MIME_MIME_DECODE_H
#define TERN_MIME_MIME_DECODE_H

/*
 * Streaming Content-Transfer-Encoding decoders (RFC 2045 section 6):
 * base64 and quoted-printable. I/O-free: fed the encoded bytes in chunks of
 * any size (one byte at a time gives the same output as one whole buffer),
 * they append the decoded bytes to a struct buf. They keep a few bytes of
 * state and never fail: broken input is repaired the way real mail needs
 * and counted in mime_decoder_errors().
 *
 * base64 (RFC 2045 section 6.8): characters outside the alphabet are
 *   skipped (whitespace silently, anything else counted as an error); the
 *   first complete "=" padding ends the data (later bytes are ignored, one
 *   error if they hold anything but whitespace); a final incomplete group
 *   yields its whole bytes (one error), a lone leftover character is
 *   dropped (one error).
 * quoted-printable (RFC 2045 section 6.7): "=XX" with upper- or lower-case
 *   hex; "=" followed by optional whitespace and a line end is a soft line
 *   break; whitespace at the end of a line (and of the data) is deleted
 *   (rule 3); an "=" that starts no valid sequence is kept as a literal "="
 *   (one error); "=" at the very end of the data is dropped; line ends are
 *   kept as they are (CRLF or LF).
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

enum mime_encoding {
	MIME_ENCODING_IDENTITY, /* 7bit, 8bit, binary or no field: the bytes as they are */
	MIME_ENCODING_BASE64,
	MIME_ENCODING_QP,
	MIME_ENCODING_UNKNOWN, /* x-uuencode, typos, ...: cannot be decoded */
};

/* The encoding named by a Content-Transfer-Encoding value (the first token,
   case-insensitive, comments and whitespace around it ignored). NULL or an
   empty value is MIME_ENCODING_IDENTITY (RFC 2045 section 6.1 default). */
enum mime_encoding mime_encoding_from_name(const char *value);

struct mime_decoder;

/* A decoder for encoding, which must not be MIME_ENCODING_UNKNOWN
   (IDENTITY copies). Never returns NULL; free with mime_decoder_free(). */
struct mime_decoder *mime_decoder_new(enum mime_encoding encoding);

/* Decode the next len bytes, appending output to out. Cannot fail. */
void mime_decoder_feed(struct mime_decoder *d, const void *data, size_t len, struct buf *out);

/* End of input: append what the held state still yields. Call once; only
   mime_decoder_errors() and mime_decoder_free() may follow. */
void mime_decoder_finish(struct mime_decoder *d, struct buf *out);

/* The number of repairs made so far (saturates at UINT_MAX). */
unsigned int mime_decoder_errors(const struct mime_decoder *d);

/* Accepts NULL; sets *d to NULL. */
void mime_decoder_free(struct mime_decoder **d);

/* Decode a whole buffer (new, feed, finish, free), appending to out.
   Returns the error count. */
unsigned int mime_decode(enum mime_encoding encoding, const void *data, size_t len,
                         struct buf *out);

/* Decode "Q" encoded text of an RFC 2047 encoded word (section 4.2: "_" is
   a space, "=XX" a byte, anything else itself), appending to out. Returns
   the number of "=" that started no valid "=XX" (kept literally). */
unsigned int mime_decode_q(const char *text, size_t len, struct buf *out);

#endif
