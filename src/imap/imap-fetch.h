#ifndef TERN_IMAP_IMAP_FETCH_H
#define TERN_IMAP_IMAP_FETCH_H

/*
 * FETCH attributes (RFC 3501 section 6.4.5, RFC 9051 section 6.4.5):
 * parsing the requested items and cutting the requested sections out of a
 * stored message. Pure functions, no I/O.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap-parser.h"
#include "lib/array.h"
#include "lib/buf.h"
#include "mime/mime-section.h"

enum fetch_item {
	FETCH_FLAGS = 1u << 0,
	FETCH_UID = 1u << 1,
	FETCH_RFC822_SIZE = 1u << 2,
	FETCH_INTERNALDATE = 1u << 3,
	FETCH_ENVELOPE = 1u << 4,
	FETCH_BODY = 1u << 5, /* BODY: the structure without extension data */
	FETCH_BODYSTRUCTURE = 1u << 6,
	FETCH_MODSEQ = 1u << 7, /* RFC 7162 3.1.4 */
};

enum fetch_section {
	FETCH_SECTION_ALL,    /* BODY[], RFC822 */
	FETCH_SECTION_HEADER, /* BODY[HEADER], RFC822.HEADER */
	FETCH_SECTION_TEXT,   /* BODY[TEXT], RFC822.TEXT */
	FETCH_SECTION_HEADER_FIELDS,
	FETCH_SECTION_HEADER_FIELDS_NOT,
	FETCH_SECTION_PART, /* a part number path ("1.2", "2.HEADER"): see sec */
};

/* What a struct fetch_body asks for. */
enum fetch_body_kind {
	FETCH_KIND_BODY,        /* BODY[...], BODY.PEEK[...], RFC822* */
	FETCH_KIND_BINARY,      /* BINARY[...], BINARY.PEEK[...] (RFC 3516) */
	FETCH_KIND_BINARY_SIZE, /* BINARY.SIZE[...] (RFC 3516) */
};

struct fetch_body {
	enum fetch_body_kind kind;
	enum fetch_section section;
	bool peek;    /* BODY.PEEK, RFC822.HEADER: \Seen is not set */
	bool partial; /* <offset.length> was given */
	uint64_t offset, length;
	char **fields; /* HEADER.FIELDS[.NOT]: the field names (owned by sec) */
	size_t field_count;
	/* The parsed section (always set), for mime_section_resolve(), or
	   for mime_binary_resolve() when kind is not FETCH_KIND_BODY (then a
	   part path, or empty for the whole message). */
	struct mime_section *sec;
	/* The item's name in the response ("BODY[HEADER]<0>", "RFC822",
	   "BINARY[1]<0>", "BINARY.SIZE[1]"). */
	char *name;
};

struct fetch_request {
	unsigned items; /* enum fetch_item */
	ARRAY(struct fetch_body) bodies;
	bool sets_seen; /* some body item is not a peek */
};

/* Parse FETCH's item argument: one item, a macro (ALL, FAST, FULL) or a
   parenthesised list of items. uid adds FETCH_UID (UID FETCH always
   returns UIDs). On success returns 0 and fills *req_r (free it with
   imap_fetch_request_free()). Returns -1 with a static *error_r for an
   unknown or malformed item. */
int imap_fetch_parse(const struct imap_arg *arg, bool uid, struct fetch_request *req_r,
                     const char **error_r);
void imap_fetch_request_free(struct fetch_request *req);

/* True if answering req needs the whole MIME tree of a message (BODY,
   BODYSTRUCTURE, part numbers); false if the top-level header is enough
   (or nothing at all: see imap_fetch_needs_header()). */
bool imap_fetch_needs_tree(const struct fetch_request *req);
/* True if answering req needs at least the parsed top-level header. */
bool imap_fetch_needs_header(const struct fetch_request *req);

/* Append to out the header fields of hdr (hdr_len bytes, as returned by
   mail_msg_header_length()) whose name is (not, for not=true) one of fields,
   case-insensitively, with their continuation lines, followed by the empty
   line (RFC 3501: HEADER.FIELDS includes the blank line). */
void imap_header_filter(const char *hdr, size_t hdr_len, char *const *fields, size_t field_count,
                        bool not, struct buf *out);

/* Clip a section of size bytes to <offset.length> (RFC 3501: an offset past
   the end gives an empty string). Sets *start_r and *len_r. */
void imap_fetch_clip(const struct fetch_body *body, uint64_t size, uint64_t *start_r,
                     uint64_t *len_r);

/* Append an IMAP date-time ("17-Jul-1996 02:44:25 -0700", RFC 3501
   date-time, quoted) for t in local time to out. */
void imap_append_datetime(struct buf *out, int64_t t);

/* Append the flag list ("(\Seen \Recent)") of enum mail_flags to out. */
void imap_append_flags(struct buf *out, unsigned flags);
/* Add the flag named name (a system flag in any case) to *flags: 0; 1 if
   name is a keyword (an atom not starting with '\', RFC 3501 9
   flag-keyword; the caller keeps it); -1 for \Recent, unknown system flags
   (\Foo), which a client cannot set (STORE, APPEND), and names that are no
   atom or too long to store. */
int imap_flag_parse(const char *name, unsigned *flags);
struct mailbox;
struct mail_msg;
/* Append the flag list of msg of box: its system flags (and \Recent),
   then the names of its keywords. */
void imap_append_msg_flags(struct buf *out, const struct mailbox *box, const struct mail_msg *msg);
/* Append the flag list of the system flags and every keyword box knows:
   the FLAGS response (RFC 3501 7.2.6). */
void imap_append_box_flags(struct buf *out, const struct mailbox *box);

/* Append s as an IMAP string: quoted when it can be, else a literal. */
void imap_append_astring(struct buf *out, const char *s);

#endif
