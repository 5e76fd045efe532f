#ifndef TERN_MIME_MIME_ADDRESS_H
#define TERN_MIME_MIME_ADDRESS_H

/*
 * A lenient parser for address lists (RFC 5322 section 3.4 with the
 * obsolete forms of section 4.4): mailboxes, name-addr, groups, comments,
 * quoted local parts, source routes. Encoded words (RFC 2047) are kept as
 * written, which is what IMAP's ENVELOPE wants. Junk is skipped, never
 * fatal.
 */

#include <stdbool.h>
#include <stddef.h>

/* One entry of a parsed list. A group is a group_start entry (mailbox is
   the group name), its members, then a group_end entry (all NULL). */
struct mime_address {
	char *name;    /* display name, else the comment; NULL if none */
	char *route;   /* obsolete source route "@a,@b", NULL if none */
	char *mailbox; /* local part, quoted as written; "" if missing */
	char *domain;  /* "" if missing; NULL for group entries */
	bool group_start;
	bool group_end;
};

/* Parse an unfolded header value. Sets *list_r (malloc'ed, NULL when
   empty) and *count_r; free with mime_address_list_free(). At most 10000
   entries are returned. Never fails. */
void mime_address_list_parse(const char *value, size_t len, struct mime_address **list_r,
                             size_t *count_r);

/* Free a list. Accepts NULL; sets *list to NULL. */
void mime_address_list_free(struct mime_address **list, size_t count);

#endif
