#ifndef TERN_SMTP_SMTP_CLIENT_REPLY_H
#define TERN_SMTP_SMTP_CLIENT_REPLY_H

/*
 * The reply parser of the SMTP client (RFC 5321 4.2): I/O-free, fed any
 * chunks of what a server sent, hands back one complete reply at a time
 * (multi-line replies joined). No I/O, no allocation beyond its buffers;
 * fuzzed by tests/fuzz/fuzz-smtp-reply.c.
 *
 * A reply is one or more lines "NNN-text" ending with "NNN text" (or a
 * bare "NNN"), all with the same code, each ending in LF (CR LF or LF).
 * A bare CR inside a line is read as a space.
 * The enhanced status code (RFC 3463), when the first line's text starts
 * with one whose class matches the reply's, is taken out separately.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Longest reply line accepted, line end included (RFC 5321 4.5.3.1.5 says
   512; servers exceed it in EHLO and error texts). */
#define SMTP_REPLY_MAX_LINE 4096
/* Most lines one reply may have. */
#define SMTP_REPLY_MAX_LINES 128

struct smtp_reply {
	unsigned code;     /* 200..599 */
	char enhanced[16]; /* "4.4.1", or "" when the reply has none */
	/* Every line's text (after "NNN-" / "NNN "), joined with LF, without
	   the first line's enhanced code; NUL-terminated. */
	struct buf text;
};

struct smtp_reply_parser {
	struct buf line;       /* the line being received */
	struct smtp_reply cur; /* the reply being assembled */
	unsigned lines;        /* lines of cur so far */
	const char *error;     /* sticky once set */
};

/* An empty parser; free with smtp_reply_parser_free(). */
void smtp_reply_parser_init(struct smtp_reply_parser *p);
void smtp_reply_parser_free(struct smtp_reply_parser *p);

/* Free what a reply holds (it stays usable, empty). */
void smtp_reply_clear(struct smtp_reply *r);

/* Consume bytes from data[0..len). Returns 1 when a reply is complete: it
   is moved into *reply_r (cleared first) and *used_r says how many bytes
   were consumed (the rest is for the next call); 0 when every byte was
   consumed and more are needed; -1 with a static reason when the stream
   is not SMTP replies (a bad code, codes changing within a reply, a line
   over SMTP_REPLY_MAX_LINE, more than SMTP_REPLY_MAX_LINES lines, a NUL):
   sticky, every later call returns -1. */
int smtp_reply_parse(struct smtp_reply_parser *p, const void *data, size_t len, size_t *used_r,
                     struct smtp_reply *reply_r, const char **error_r);

/* The reply's first text line as a log-safe, single-line value (for logs
   and the state file): at most max bytes of text, LFs as spaces,
   malloc'ed. */
char *smtp_reply_summary(const struct smtp_reply *r, size_t max);

/* Whether the text of r (e.g. an EHLO reply line) starts with keyword,
   case-insensitively, followed by the end, a space or '='. */
bool smtp_reply_line_is(const char *line, size_t len, const char *keyword);

#endif
