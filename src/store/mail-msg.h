#ifndef TERN_STORE_MAIL_MSG_H
#define TERN_STORE_MAIL_MSG_H

/*
 * Reading one message of a view: its bytes, byte ranges and MIME
 * structure. The only way code outside src/store gets at a message's
 * content (IMAP FETCH, SEARCH; later POP3 RETR/TOP, Sieve, backup, and a
 * compressed store behind the same calls): no caller builds or opens a
 * message file path.
 *
 * The message is found by its key (its UID in the view, i.e. the
 * Maildir base name without ":2,"), not by the file name the view last
 * saw: when another session or program renamed the file since (a flag
 * change), the reader still opens it. Once open, the reader keeps the
 * file open: later renames and even an expunge do not affect it (a
 * Maildir file's content never changes).
 *
 * A reader belongs to the thread of its mail_user and is independent of
 * the view after mail_msg_open() returns: closing or syncing the view
 * does not invalidate it. Errors: -1 with *error_r valid until the next
 * call on the same reader (for mail_msg_open(), on the mailbox).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime/mime-part.h"
#include "mime/mime-section.h"

struct mailbox;
struct mail_msg_reader;

/* Longest top-level header mail_msg_header() reads (a longer one is cut
   there and parsed as far as it goes). */
#define MAIL_MSG_MAX_HEADER (1024 * 1024)

/* Open message seq (1..count of the view; out of range is a bug: abort).
   1 with *reader_r new (close with mail_msg_close()), 0 if the message is
   gone (expunged meanwhile: no file with its base any more; the next sync
   reports it), -1 on an I/O or index error. */
int mail_msg_open(struct mailbox *box, uint32_t seq, struct mail_msg_reader **reader_r,
                  const char **error_r);
/* Close and set *reader to NULL; NULL is fine. */
void mail_msg_close(struct mail_msg_reader **reader);

/* The message's size in bytes (RFC822.SIZE: stored with CRLF). */
uint64_t mail_msg_size(const struct mail_msg_reader *reader);

/* Read exactly len bytes at offset into buf. 0, or -1 on an I/O error or
   if [offset, offset + len) goes past the end. */
int mail_msg_read(struct mail_msg_reader *reader, uint64_t offset, void *buf, size_t len,
                  const char **error_r);

/* The length of a message's header in data[0..len): up to and including
   the empty line that ends it (RFC 5322 section 2.1; a bare LF counts as a
   line end, as found in broken mail). If there is no empty line in the len
   bytes given, returns len and sets *complete_r to false; else sets it to
   true. */
size_t mail_msg_header_length(const char *data, size_t len, bool *complete_r);

/* A struct mime_source reading this message (for mime_extents_read(),
   mime_binary_read()); valid while the reader is open. */
struct mime_source mail_msg_source(struct mail_msg_reader *reader);

/* The top-level header, parsed (at most MAIL_MSG_MAX_HEADER is read, in
   growing reads: a big message's header costs a few KiB). The root's body
   range covers the rest of the message; it has no children. Owned by the
   reader (valid until it is closed). If mail_msg_tree() was called
   before, its root is returned. 0, or -1 on a read error. */
int mail_msg_header(struct mail_msg_reader *reader, const struct mime_part **root_r,
                    const char **error_r);
/* The whole MIME tree (the message is read once, in 64 KiB chunks, and
   parsed with the default mime limits). Owned by the reader. 0, or -1 on
   a read error. */
int mail_msg_tree(struct mail_msg_reader *reader, const struct mime_part **tree_r,
                  const char **error_r);

#endif
