#ifndef TERN_IMAP_IMAP_SORT_H
#define TERN_IMAP_IMAP_SORT_H

/*
 * The pure parts of SORT (RFC 5256, RFC 5957 DISPLAYFROM/DISPLAYTO): the
 * sort criteria, the per-message sort keys, their comparison, the base
 * subject of RFC 5256 section 2.1 and the i;unicode-casemap collation of
 * RFC 5051 the string keys compare with. No I/O: cmd-sort.c reads the
 * header fields (index header cache or message file) and calls these.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum imap_sort_key {
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,
	IMAP_SORT_DISPLAYTO,
};

struct imap_sort_crit {
	enum imap_sort_key key;
	bool reverse;
};

/* More criteria than this is refused (there are nine keys). */
#define IMAP_SORT_MAX_CRITS 16

/* Parse the sort criteria atoms names[0..count) ("REVERSE" applies to the
   next key; case-insensitive) into crits_r (room for IMAP_SORT_MAX_CRITS).
   Returns the number of criteria (>= 1), or -1 for an unknown key, a
   dangling or doubled REVERSE, none or too many. */
int imap_sort_parse(const char *const *names, size_t count, struct imap_sort_crit *crits_r);

/* The sort keys of one message. Strings are malloc'ed, already casemapped
   (imap_sort_casemap()), never NULL ("" when the field is missing). */
struct imap_sort_msg {
	uint32_t seq; /* mailbox order: the final tie-break (RFC 5256 section 3) */
	uint32_t uid;
	uint64_t size;
	int64_t arrival; /* INTERNALDATE, seconds */
	int64_t date;    /* Date: in UTC seconds, else INTERNALDATE */
	char *subject;   /* base subject */
	char *from, *to, *cc;
	char *display_from, *display_to;
};

/* Fill the string keys of m that crits[0..count) use from the raw
   (undecoded, unfolded) header values; NULL means the field is absent; the
   keys not used are "". FROM/TO/CC: the local part of the first address;
   DISPLAYFROM/DISPLAYTO (RFC 5957): its decoded display name, else
   "local@domain". date_value: the Date: value, parsed to m->date, else
   m->date = m->arrival (set arrival first). */
void imap_sort_msg_fill(struct imap_sort_msg *m, const struct imap_sort_crit *crits, size_t count,
                        const char *subject, const char *from, const char *to, const char *cc,
                        const char *date_value);
/* Free the strings of m. */
void imap_sort_msg_free(struct imap_sort_msg *m);

/* Compare a and b by crits[0..count), then by seq: <0, 0 (same seq), >0. */
int imap_sort_compare(const struct imap_sort_crit *crits, size_t count,
                      const struct imap_sort_msg *a, const struct imap_sort_msg *b);
/* Sort msgs[0..n) with imap_sort_compare() (stable by construction). */
void imap_sort_messages(struct imap_sort_msg *msgs, size_t n, const struct imap_sort_crit *crits,
                        size_t count);

/* Append the i;unicode-casemap canonical form (RFC 5051) of the UTF-8
   text[0..len) to out: each character titlecased and decomposed, so two
   strings are equal in the collation iff their forms are byte-equal, and
   ordered as their forms' bytes. The case and decomposition tables cover
   Latin-1, Latin Extended-A, Greek and Cyrillic; other characters are kept
   as they are. A byte that is not UTF-8 is kept as it is. */
void imap_sort_casemap(const char *text, size_t len, struct buf *out);

/* The base subject (RFC 5256 section 2.1) of a raw Subject value
   (encoded words decoded with mime_header_decode()), casemapped, appended
   to out. *reply_r: whether a "Re:"/"Fwd:" leader, a "(fwd)" trailer or a
   "[fwd: ...]" wrapper was removed (the threads' "is a reply" test). */
void imap_sort_base_subject(const char *subject, size_t len, struct buf *out, bool *reply_r);

/* The time of an RFC 5322 Date: value in UTC seconds ("Mon, 7 Feb 1994
   21:52:25 -0800"; seconds, day name and zone optional; zone names UT, GMT,
   EST.. PDT). Returns 0, or -1 if there is no valid date. */
int imap_sort_parse_date(const char *value, int64_t *t_r);

#endif
