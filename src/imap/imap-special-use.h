#ifndef TERN_IMAP_IMAP_SPECIAL_USE_H
#define TERN_IMAP_IMAP_SPECIAL_USE_H

/*
 * The special-use attributes (RFC 6154) of a user's mailboxes: those given
 * by CREATE (USE (...)) are kept in tern-special-use beside the Maildir, one
 * "<mask>\t<name>" line each (mask: enum imap_special_use bits), rewritten
 * atomically; a mailbox without a line has the attribute of its usual name
 * (Drafts, Sent, Trash, Junk, Archive and their variants, any case).
 */

#include <stddef.h>

struct imap_session;

struct imap_special_map {
	char **names;
	unsigned *masks;
	size_t count;
};

/* Read the user's file into *map (empty if there is none). 0, or -1 if it
   cannot be read (*map is then empty). Free with imap_special_map_free(). */
int imap_special_map_read(struct imap_session *s, struct imap_special_map *map);
void imap_special_map_free(struct imap_special_map *map);
/* The attributes of mailbox name: its line's, else its usual name's. */
unsigned imap_special_map_get(const struct imap_special_map *map, const char *name);
/* The attribute of a usual folder name ("Sent Items": \Sent), or 0. */
unsigned imap_special_use_default(const char *name);

/* Store mask for mailbox name (CREATE-SPECIAL-USE); 0 removes its line
   (DELETE). 0, or -1 on an I/O error. */
int imap_special_use_set(struct imap_session *s, const char *name, unsigned mask);
/* RENAME: the lines of from and of its inferiors (from/...) move to the
   new name. 0, or -1 on an I/O error. */
int imap_special_use_rename(struct imap_session *s, const char *from, const char *to);

#endif
