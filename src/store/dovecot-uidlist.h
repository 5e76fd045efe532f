#ifndef TERN_STORE_DOVECOT_UIDLIST_H
#define TERN_STORE_DOVECOT_UIDLIST_H

/*
 * Dovecot's `dovecot-uidlist` (its UID <-> file name map of a Maildir
 * folder), read once when Tern first indexes a folder Dovecot used, so
 * that the UIDVALIDITY and every message's UID stay what Dovecot gave
 * them: IMAP clients keep their caches and POP3 UIDLs (%08X%08X of UID and
 * UIDVALIDITY) stay the same (docs/store.md "Taking over a Dovecot
 * Maildir"). I/O-free. Formats: version 3 (`3 V<uidvalidity> N<next>
 * G<guid> ...`, then `<uid> [<ext>...] :<file base>`) and version 1
 * (`1 <uidvalidity> <next>`, then `<uid> <file base>`).
 */

#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"

struct dovecot_uid {
	uint32_t uid;
	char *base; /* the file name up to its ":2," info part */
};

struct dovecot_uidlist {
	uint32_t uidvalidity;
	uint32_t next_uid;              /* above every UID listed */
	ARRAY(struct dovecot_uid) uids; /* by base, for dovecot_uidlist_find */
};

/* Parse data[0..len) into *list (zeroed first). Lines that do not parse
   are skipped; a header that does not parse, a zero UIDVALIDITY or a UID
   listed twice fails the whole file. Returns 0, or -1 with a static
   reason in *error_r (*list then empty). */
int dovecot_uidlist_parse(const char *data, size_t len, struct dovecot_uidlist *list,
                          const char **error_r);

/* The UID of the file whose base name is base[0..len), or 0. */
uint32_t dovecot_uidlist_find(const struct dovecot_uidlist *list, const char *base, size_t len);

void dovecot_uidlist_clear(struct dovecot_uidlist *list);

#endif
