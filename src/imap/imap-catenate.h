#ifndef TERN_IMAP_IMAP_CATENATE_H
#define TERN_IMAP_IMAP_CATENATE_H

/*
 * CATENATE's URL parts (RFC 4469 with RFC 5092 URLs, no URLAUTH): only the
 * form that names one of this user's own messages or one of its sections,
 *   /<mailbox>[;UIDVALIDITY=<n>]/;UID=<n>[/;SECTION=<section>]
 * (mailbox and section %-encoded, the keywords in any case). Anything else
 * (imap://, relative URLs, ;PARTIAL=, ;URLAUTH=) is a BADURL.
 */

#include <stdint.h>

struct delivery;
struct mail_user;

struct imap_url {
	char *mailbox;        /* malloc'ed, decoded */
	uint32_t uidvalidity; /* 0: not given */
	uint32_t uid;
	char *section; /* malloc'ed, decoded; NULL: the whole message */
};

/* Parse url. 0 with *u filled (free with imap_url_free()), or -1 (*u is
   then empty). */
int imap_url_parse(const char *url, struct imap_url *u);
void imap_url_free(struct imap_url *u);

/* Append the bytes u names to delivery d: the message as stored, or the
   section as FETCH BODY[section] gives it. 0; -1 if they do not exist (no
   such mailbox, UIDVALIDITY, UID or section: BADURL); -2 on an I/O or
   index error, *error_r set. */
#define IMAP_URL_IO_ERROR (-2)
int imap_url_write(struct mail_user *user, const struct imap_url *u, struct delivery *d,
                   const char **error_r);

#endif
