#ifndef TERN_MIME_MIME_IMAP_H
#define TERN_MIME_MIME_IMAP_H

/*
 * IMAP renderings of a parsed message (RFC 3501 section 7.4.2, RFC 9051
 * section 7.5.2): ENVELOPE, BODY and BODYSTRUCTURE. They need only the tree
 * (the parser keeps the header values they use), not the message bytes.
 * Output is appended to a struct buf, in IMAP syntax, ready to follow
 * "ENVELOPE " or "BODYSTRUCTURE " in a FETCH response. Strings that cannot
 * be quoted (CR, LF, 8-bit) are sent as literals; NUL bytes are dropped.
 */

#include <stdbool.h>

#include "lib/buf.h"
#include "mime/mime-part.h"

/* The ENVELOPE of message, which must be a message part (the root, or the
   child of a MIME_PART_MESSAGE part). Sender and Reply-To default to From
   (RFC 3501 section 7.4.2); a missing mailbox or domain is rendered as
   MISSING_MAILBOX / MISSING_DOMAIN so a client never mistakes it for
   group syntax. */
void mime_imap_envelope(const struct mime_part *message, struct buf *out);

/* The BODYSTRUCTURE of part (extension data included) when extended is
   true, or BODY (no extension data) when false. */
void mime_imap_bodystructure(const struct mime_part *part, bool extended, struct buf *out);

/* Append s (len bytes; s NULL gives NIL) as an IMAP quoted string or, if it
   cannot be quoted, a literal. */
void mime_imap_nstring(struct buf *out, const char *s, size_t len);

#endif
