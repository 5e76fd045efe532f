#ifndef TERN_IMAP_IMAP_THREAD_H
#define TERN_IMAP_IMAP_THREAD_H

/*
 * THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES over an array of
 * messages, written in the thread-list syntax of RFC 5256 section 4. Pure:
 * cmd-sort.c reads the header fields and calls imap_thread().
 */

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

/* One message, in mailbox order. Strings are raw header values as stored
   (NULL when the field is absent); date is the sent date in UTC seconds
   (INTERNALDATE when Date: is missing or broken, see imap_sort_parse_date()). */
struct imap_thread_msg {
	uint32_t id; /* what is written: a UID or a sequence number */
	const char *message_id, *references, *in_reply_to, *subject;
	int64_t date;
};

/* Parse "alg" (case-insensitive); 0 and *alg_r, or -1 if unknown. */
int imap_thread_alg_parse(const char *name, enum imap_thread_alg *alg_r);

/* Thread msgs[0..count) and append the threads to out, each a
   parenthesised thread-list, with nothing between them ("(1)(2 3)"):
   what follows "* THREAD " (nothing for count 0). Message-IDs are the
   first "<...@...>" of the field, compared as octets; a duplicate
   Message-ID makes the later message a fresh one; links that would make a
   loop are not made. Siblings, and threads, are ordered by sent date, ties
   by mailbox order. */
void imap_thread(enum imap_thread_alg alg, const struct imap_thread_msg *msgs, size_t count,
                 struct buf *out);

#endif
