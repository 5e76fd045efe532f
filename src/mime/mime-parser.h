#ifndef TERN_MIME_MIME_PARSER_H
#define TERN_MIME_MIME_PARSER_H

/*
 * The streaming MIME parser: an I/O-free state machine fed the stored
 * bytes of one message in chunks of any size (down to one byte). It builds
 * the MIME tree (mime-part.h) with exact offsets, never copies bodies and
 * keeps only bounded header values, so its memory does not depend on the
 * size of the message bodies.
 *
 * Broken mail never fails: missing or wrong boundaries, unterminated
 * multiparts, headers without an empty line, NUL and 8-bit bytes, huge
 * header lines, bare LF line ends and too deep nesting all give a
 * best-effort tree (flags in struct mime_part say what was repaired).
 *
 *   struct mime_parser *p = mime_parser_new(NULL);
 *   while (more) mime_parser_feed(p, data, len);
 *   mime_parser_finish(p, &root);
 *   mime_parser_free(&p);
 *   ... mime_part_free(&root);
 */

#include <stddef.h>

#include "mime/mime-part.h"

struct mime_limits {
	/* multipart and message nesting; deeper parts are left unparsed */
	unsigned int max_depth;
	/* parts per message; later boundaries are ignored */
	unsigned int max_parts;
	/* bytes of one unfolded header value kept in memory */
	size_t max_field_value;
	/* header fields kept in memory per message */
	size_t max_fields;
	/* bytes of header names and values kept in memory per message */
	size_t max_header_bytes;
};

/* The defaults: depth 100, 10000 parts, 64 KiB per value, 10000 fields,
   1 MiB of header text. */
void mime_limits_default(struct mime_limits *limits_r);

/* A new parser; limits NULL means the defaults. Never returns NULL. */
struct mime_parser *mime_parser_new(const struct mime_limits *limits);

/* Feed the next len bytes of the message. Cannot fail. Must not be called
   after mime_parser_finish(). */
void mime_parser_feed(struct mime_parser *p, const void *data, size_t len);

/* End of message: close every open part and hand the tree over in *root_r
   (the caller frees it with mime_part_free()). Returns 0 if the message
   was well formed, 1 if the parser had to repair it (some part has a
   MIME_PART_FLAG_* set). Call once; only mime_parser_free() may follow. */
int mime_parser_finish(struct mime_parser *p, struct mime_part **root_r);

/* Free the parser (and the tree if it was never handed over). Accepts
   NULL; sets *p to NULL. */
void mime_parser_free(struct mime_parser **p);

/* Parse a whole message in memory: new, one feed, finish, free. Returns
   the tree (never NULL); the caller frees it with mime_part_free(). */
struct mime_part *mime_parse(const void *data, size_t len, const struct mime_limits *limits);

#endif
