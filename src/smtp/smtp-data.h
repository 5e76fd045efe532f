#ifndef TERN_SMTP_SMTP_DATA_H
#define TERN_SMTP_SMTP_DATA_H

/*
 * The DATA stream decoder (RFC 5321 section 4.1.1.4 and 4.5.2). I/O-free:
 * fed the raw bytes that follow the DATA command in chunks of any size, it
 * appends the message, dot-unstuffed, to an output buffer and reports the
 * end of the data at the one sequence that ends it: CRLF "." CRLF (the
 * CRLF of the DATA command line counts as the first CRLF, so an empty
 * message is just ".\r\n").
 *
 * "\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n" never end the data: treating them
 * as an end is what SMTP smuggling exploits. Any bare LF or bare CR (one
 * not part of a CRLF) is kept in the output and flagged; the session
 * refuses such a message after reading it to its real end
 * (smtp.bare_lf = reject, docs/smtp.md).
 *
 * Line ends are kept as received: the output holds CRLF for CRLF. The final
 * CRLF of the message (the one before ".") is part of the message.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum smtp_data_result {
	SMTP_DATA_OK,
	SMTP_DATA_TOO_BIG, /* over max_size: 552 5.3.4 */
	SMTP_DATA_BARE_LF, /* a bare LF or CR was seen: 554 5.6.0 */
};

struct smtp_data_decoder {
	int state;         /* private */
	uint64_t size;     /* message bytes decoded so far (counted past the limit) */
	uint64_t max_size; /* 0 = no limit */
	bool bare_lf;      /* a bare LF was seen */
	bool bare_cr;      /* a bare CR was seen */
};

/* Start decoding a message of at most max_size bytes (0: no limit). */
void smtp_data_init(struct smtp_data_decoder *d, uint64_t max_size);

/* Feed len bytes of the DATA stream. Decoded message bytes are appended to
   out, but only while the size is within max_size: past the limit bytes
   are counted and dropped. Returns 1 when the terminating CRLF.CRLF has been
   seen; *consumed_r is then the number of bytes of in used, through the
   final LF (the rest is the client's next command). Returns 0 when all len
   bytes were consumed and more are needed. Never fails: faults are
   reported by smtp_data_result() once the end is reached. */
int smtp_data_feed(struct smtp_data_decoder *d, const void *in, size_t len, size_t *consumed_r,
                   struct buf *out);

/* The verdict on a message whose end was reached: TOO_BIG takes precedence
   over BARE_LF. */
enum smtp_data_result smtp_data_result(const struct smtp_data_decoder *d);

#endif
