#ifndef TERN_POP3_POP3_MSG_H
#define TERN_POP3_POP3_MSG_H

/*
 * How a message goes out in POP3 (RFC 1939 3): every line ends with CRLF
 * (a bare LF of a taken-over Maildir file becomes CRLF), a line starting
 * with "." gets one more ".", and a last line without a line end gets
 * one before the terminating ".". TOP (RFC 1939 7) stops after the header,
 * the empty line and n lines of the body. The size LIST and STAT give is
 * what this sends before the final ".\r\n", without the stuffed dots
 * (docs/pop3.md), counted by the same code that sends it.
 *
 * And the UIDL of a message (docs/pop3.md): Dovecot's default
 * pop3_uidl_format "%08Xu%08Xv", so a mailbox taken over from Dovecot
 * keeps its UIDLs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* Longest UIDL text with its NUL. */
#define POP3_UIDL_MAX 17

/* The UIDL of uid in a mailbox of uidvalidity into out[POP3_UIDL_MAX]:
   the uid then the uidvalidity, each as 8 upper-case hex digits. */
void pop3_uidl_format(char out[POP3_UIDL_MAX], uint32_t uid, uint32_t uidvalidity);

/* Streaming conversion of one message's bytes. Zero-initialise with
   pop3_stuff_init(). */
struct pop3_stuff {
	uint64_t line_len;  /* bytes of the current line so far */
	bool pending_cr;    /* a CR came last: a line end if an LF follows */
	bool in_header;     /* no empty line yet */
	bool done;          /* TOP: the lines asked for are out; the rest is ignored */
	int64_t body_lines; /* TOP: body lines still to send; -1: all */
	uint64_t size;      /* bytes sent so far, stuffed dots not counted */
};

/* Begin a message; body_lines -1 for RETR (and sizes), n for TOP n. */
void pop3_stuff_init(struct pop3_stuff *st, int64_t body_lines);

/* Convert len bytes of the message, appending the result to out (NULL:
   only count st->size). Returns true once TOP has all it needs (further
   input is ignored: the caller may stop reading). */
bool pop3_stuff_feed(struct pop3_stuff *st, const char *data, size_t len, struct buf *out);

/* The end of the message: the CRLF a last line lacks (counted in size),
   then the terminating ".\r\n" when out is not NULL (not counted). */
void pop3_stuff_finish(struct pop3_stuff *st, struct buf *out);

#endif
