#ifndef TERN_LIB_MUTF7_H
#define TERN_LIB_MUTF7_H

/*
 * Modified UTF-7 (RFC 3501 5.1.3), the IMAP4rev1 encoding of mailbox
 * names, to and from UTF-8. Mailbox names are stored in modified UTF-7
 * (docs/store.md); sessions that enabled UTF8=ACCEPT or IMAP4rev2 see and
 * send them as UTF-8 (RFC 6855 3, RFC 9051 5.1).
 */

#include <stdbool.h>

struct buf;

/* Append the modified UTF-7 form of the NUL-terminated UTF-8 string utf8
   to out: printable ASCII as itself ("&" as "&-"), every other run of
   characters as "&" + modified BASE64 of its UTF-16 + "-". Returns 0, or
   -1 (out unchanged) if utf8 is not well-formed UTF-8 or holds a control
   character. */
int mutf7_from_utf8(const char *utf8, struct buf *out);

/* Append the UTF-8 form of the NUL-terminated modified UTF-7 string mutf7
   to out. Returns 0, or -1 (out unchanged) if mutf7 is not valid modified
   UTF-7 (8-bit bytes, an unterminated or empty-but-"&-" shift, bad
   BASE64, leftover bits, unpaired surrogates, a shifted printable ASCII
   character). */
int mutf7_to_utf8(const char *mutf7, struct buf *out);

/* True if s holds a byte above 0x7f (then it is no modified UTF-7). */
bool mutf7_has_8bit(const char *s);

#endif
