#ifndef TERN_STORE_MAIL_OBJECTS_H
#define TERN_STORE_MAIL_OBJECTS_H

/*
 * Per-mailbox and per-message values of the IMAP extensions OBJECTID
 * (RFC 8474), SAVEDATE (RFC 8514), STATUS=SIZE (RFC 8438), PREVIEW
 * (RFC 8970) and METADATA (RFC 5464), kept in the index (schema version 6,
 * docs/store.md "Object ids, save dates, previews, metadata").
 *
 * - MAILBOXID: "F" + 24 hex digits, random, made with the mailbox's index
 *   row; RENAME keeps the row and so the id, DELETE + CREATE makes a new
 *   one. A rebuilt index gives new ids (as it gives new UIDVALIDITYs).
 * - EMAILID: "M" + 24 hex digits of the SHA-256 of the message's bytes, so
 *   a COPY or MOVE (the same file, hard-linked) has the same EMAILID, and
 *   so does an identical message stored twice (RFC 8474 5.1 allows it).
 * - THREADID: "T" + 24 hex digits. The user's thread table (in the
 *   index) maps each Message-ID seen to a THREADID: a message takes the one
 *   of its own Message-ID, else of its In-Reply-To, else of a References id
 *   already in the table; else the SHA-256 of its thread's root Message-ID
 *   (first of References, else In-Reply-To, else its own; none: its
 *   EMAILID's digest). Then all its ids are given that THREADID. So a reply
 *   shares its thread's id in every mailbox of the user when it names the
 *   root (References), or names only its parent (In-Reply-To) and the
 *   parent's id was computed first (arrival order, as FETCH 1:* goes). A
 *   THREADID never changes once given: two threads already apart are not
 *   merged when a later message links them.
 * - SAVEDATE: the time the message's index row was made (arrival in this
 *   mailbox: APPEND, COPY, MOVE, delivery); rows from before version 6
 *   have their INTERNALDATE, and a rebuilt index the rebuild time.
 * EMAILID, THREADID and the preview are computed the first time they are
 * asked for and cached in the row.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "mime/mime-part.h"
#include "mime/mime-section.h"

struct mailbox;
struct mail_user;

/* The MAILBOXID of box: malloc'ed in *id_r. 0, or -1. */
int mailbox_objectid(struct mailbox *box, char **id_r, const char **error_r);
/* STATUS SIZE: the sum of RFC822.SIZE of the view's messages. */
uint64_t mailbox_total_size(const struct mailbox *box);

enum mail_object_want {
	MAIL_OBJ_EMAILID = 1u << 0,
	MAIL_OBJ_THREADID = 1u << 1,
	MAIL_OBJ_PREVIEW = 1u << 2,
};
struct mail_objects {
	bool found;       /* the message has an index row */
	int64_t savedate; /* 0: unknown */
	char *emailid;    /* the wanted ones are set on success */
	char *threadid;
	char *preview; /* UTF-8, at most MAIL_PREVIEW_CHARS characters */
	size_t preview_len;
};
/* The values of message seq of the view: from the index, computing (and
   storing) the wanted ones (enum mail_object_want) it lacks from the
   message file. 1 with *obj_r (free with mail_objects_free()), 0 if the
   message is gone, -1. */
int mailbox_objects_get(struct mailbox *box, uint32_t seq, unsigned want,
                        struct mail_objects *obj_r, const char **error_r);
void mail_objects_free(struct mail_objects *obj);
/* The windowed form (FETCH of many messages): read what the index holds
   for messages first..first+count-1 of the view into objs_r[0..count)
   with one query, nothing computed (found false for a message whose row
   is gone); free each with mail_objects_free(). 0, or -1 (all empty). */
int mailbox_objects_read(struct mailbox *box, uint32_t first, uint32_t count,
                         struct mail_objects *objs_r, const char **error_r);
/* Then compute (and store) the wanted values obj, read for message seq,
   lacks. 1, 0 if the message is gone, -1. */
int mailbox_objects_fill(struct mailbox *box, uint32_t seq, unsigned want, struct mail_objects *obj,
                         const char **error_r);

/* The THREADID of a message with the parsed top-level header hdr, or NULL
   if it names no Message-ID (malloc'ed). */
char *mail_threadid_from_header(const struct mime_part *hdr);

/*
 * PREVIEW (RFC 8970 3.1): the text of the message's first text parts
 * (mime_text_extract(): text/plain preferred in alternatives, HTML reduced
 * to text, transfer encoding and charset decoded), whitespace runs turned
 * into one space, trimmed, cut to MAIL_PREVIEW_CHARS characters.
 */
#define MAIL_PREVIEW_CHARS 256
/* Append the preview of the message (tree root, bytes src) to out. 0, or
   -1 with *error_r from the source. */
int mail_preview_make(const struct mime_part *root, const struct mime_source *src, struct buf *out,
                      const char **error_r);
/* Append text[0..len) with whitespace collapsed and trimmed, cut at
   max_chars UTF-8 characters (control characters become spaces). */
void mail_preview_collapse(const char *text, size_t len, size_t max_chars, struct buf *out);

/*
 * METADATA (RFC 5464). Entries of a mailbox, or of the server when the
 * mailbox name is "" (stored in the user's index: "server" entries are
 * per user, which is what a client can see). Names are lower-cased.
 * /shared entries of the server are read-only for users (there is no
 * admin role): SETMETADATA on them fails with MAIL_META_READONLY.
 */
#define MAIL_META_MAX_VALUE   (64 * 1024) /* bytes of one value */
#define MAIL_META_MAX_ENTRIES 256         /* entries of one mailbox or the server */
#define MAIL_META_MAX_NAME    512         /* bytes of an entry name */

/* A valid entry name: "/private/..." or "/shared/...", printable ASCII
   without '*', '%', no "//", no trailing '/', at most MAIL_META_MAX_NAME. */
bool mail_meta_name_valid(const char *name);

struct mail_meta_entry {
	char *name;
	char *value;
	size_t len;
};
/* The entries named name and, for depth 1, those one level below it, for
   depth -1 ("infinity") all below it (RFC 5464 4.2.2), of the mailbox
   (NULL or "" for the server), in name order: *entries_r malloc'ed, free
   with mail_meta_free(). 0, or -1 (also for a mailbox that does not
   exist). */
int mail_meta_get(struct mail_user *user, const char *mailbox, const char *name, int depth,
                  struct mail_meta_entry **entries_r, size_t *count_r, const char **error_r);
void mail_meta_free(struct mail_meta_entry *entries, size_t count);

/* Results of mail_meta_set() besides 0 and -1. */
#define MAIL_META_TOOLARGE (-2) /* a value over MAIL_META_MAX_VALUE */
#define MAIL_META_TOOMANY  (-3) /* more than MAIL_META_MAX_ENTRIES */
#define MAIL_META_READONLY (-4) /* a server /shared entry */
#define MAIL_META_NOMBOX   (-5) /* no such mailbox */
struct mail_meta_change {
	const char *name;  /* valid (mail_meta_name_valid()) */
	const char *value; /* NULL: remove the entry */
	size_t len;
};
/* Apply the count changes to the mailbox (NULL or "" for the server) in
   one transaction: all or none. 0, or one of the codes above, or -1. */
int mail_meta_set(struct mail_user *user, const char *mailbox,
                  const struct mail_meta_change *changes, size_t count, const char **error_r);

#endif
