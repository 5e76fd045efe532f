#ifndef TERN_MIME_MIME_PART_H
#define TERN_MIME_MIME_PART_H

/*
 * The MIME tree of one message, as built by the streaming parser
 * (mime-parser.h). Every part records exact byte offsets into the message
 * as stored, so renderers read headers and bodies from the Maildir file
 * instead of keeping copies. Header values kept in memory are bounded
 * (see struct mime_limits); offsets are always exact.
 *
 * Shape (RFC 2046, and RFC 3501 section 6.4.5 for the numbering):
 *   - a message (the root, or the body of a message/rfc822 part) is a part
 *     with its own header;
 *   - MIME_PART_MULTIPART parts have children, one per body part;
 *   - MIME_PART_MESSAGE parts (message/rfc822, message/global) have exactly
 *     one child: the nested message;
 *   - everything else is a MIME_PART_LEAF. A multipart whose boundary never
 *     shows up (or is missing) has no children and is a leaf.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"

/* One header field. name and value are NUL-terminated; value is unfolded
   (RFC 5322 section 2.2.3: the CRLFs of folded lines removed) with the
   whitespace around it trimmed, and cut to the parser's per-field cap
   (truncated is then true). [start, end) is the raw field in the message,
   from the first byte of the name to just past the terminator of its last
   line: that is what DKIM signs and what HEADER.FIELDS returns. */
struct mime_field {
	char *name;
	char *value;
	size_t value_len;
	bool truncated;
	uint64_t start;
	uint64_t end;
};

/* A parameter of Content-Type or Content-Disposition, as written (quoted
   strings unquoted, name case kept). RFC 2231 continuations are not joined
   yet. */
struct mime_param {
	char *name;
	char *value;
};

enum mime_part_kind {
	MIME_PART_LEAF,
	MIME_PART_MULTIPART,
	MIME_PART_MESSAGE,
};

/* The part is broken in a way the parser repaired (best-effort). */
enum mime_part_flags {
	/* the header had no empty line before the body or boundary */
	MIME_PART_FLAG_NO_BLANK_LINE = 1 << 0,
	/* a multipart that ended without its close delimiter */
	MIME_PART_FLAG_UNTERMINATED = 1 << 1,
	/* nesting or part count cap reached: the body was not parsed further */
	MIME_PART_FLAG_CAPPED = 1 << 2,
	/* some header fields were not kept (field count or byte cap) */
	MIME_PART_FLAG_FIELDS_DROPPED = 1 << 3,
	/* the header has 8-bit or NUL bytes */
	MIME_PART_FLAG_HDR_8BIT = 1 << 4,
};

/* A byte range of the stored message, with the number of LFs in it. */
struct mime_range {
	uint64_t start;
	uint64_t size;
	uint64_t lines;
};

struct mime_part {
	struct mime_part *parent;
	struct mime_part *children; /* first child */
	struct mime_part *next;     /* next sibling */
	enum mime_part_kind kind;
	unsigned int flags;
	unsigned int depth; /* 0 for the root */

	/* The header, including the empty line that ends it. */
	struct mime_range hdr;
	/* The body. In a multipart, the CRLF before a delimiter line belongs
	   to the delimiter (RFC 2046 section 5.1.1) and is not in size, but
	   the line it ends is counted in lines (IMAP counts text lines). */
	struct mime_range body;

	ARRAY(struct mime_field) fields;

	/* Content-Type, or its default (text/plain; or message/rfc822 inside
	   multipart/digest). type and subtype as written; has_content_type
	   tells whether the header had a valid one. */
	char *type;
	char *subtype;
	struct mime_param *params;
	size_t param_count;
	bool has_content_type;

	/* The other MIME fields, unfolded and trimmed, NULL when absent. */
	char *encoding;    /* Content-Transfer-Encoding */
	char *id;          /* Content-ID */
	char *description; /* Content-Description */
	char *md5;         /* Content-MD5 */
	char *language;    /* Content-Language, the raw list */
	char *location;    /* Content-Location */
	char *disposition; /* Content-Disposition value, NULL when absent */
	struct mime_param *disp_params;
	size_t disp_param_count;
};

/* Free a tree (the part and everything below it). Accepts NULL; sets
 *part to NULL. */
void mime_part_free(struct mime_part **part);

/* The first field named name (case-insensitive) in part's header, or NULL. */
const struct mime_field *mime_part_field(const struct mime_part *part, const char *name);

/* The value of parameter name (case-insensitive) in params, or NULL. */
const char *mime_param_get(const struct mime_param *params, size_t count, const char *name);

/* True if the part's type/subtype equals type/subtype, case-insensitively;
   subtype NULL matches any subtype. */
bool mime_part_is(const struct mime_part *part, const char *type, const char *subtype);

/* The number of children of part. */
size_t mime_part_child_count(const struct mime_part *part);

/* The nth child (1-based) of part, or NULL. */
struct mime_part *mime_part_child(const struct mime_part *part, size_t n);

struct buf;

/* Append a readable description of the tree to out (one line per part with
   its type, ranges and flags, then one line per kept field): for debugging
   and tests, not a stable format. */
void mime_part_dump(const struct mime_part *part, struct buf *out);

#endif
