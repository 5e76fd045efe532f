#ifndef TERN_MIME_MIME_SECTION_H
#define TERN_MIME_MIME_SECTION_H

/*
 * FETCH BODY[section]<origin.length> (RFC 3501 section 6.4.5, RFC 9051
 * section 6.4.5): the section spec is parsed, resolved against the tree to
 * a list of byte extents of the stored message, and those are read through
 * a struct mime_source, so a big body is never copied whole unless the
 * caller asks for it whole.
 */

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "mime/mime-part.h"

/* The stored message. read appends exactly len bytes at offset to out and
   returns 0, or returns -1 with a reason in *error_r. When read is NULL,
   mem/mem_len is used instead (a mapped file or a buffer). */
struct mime_source {
	int (*read)(void *ctx, uint64_t offset, size_t len, struct buf *out, const char **error_r);
	void *ctx;
	const unsigned char *mem;
	uint64_t mem_len;
};

enum mime_section_kind {
	MIME_SECTION_ALL,    /* BODY[] or BODY[1.2]: the whole part */
	MIME_SECTION_HEADER, /* HEADER */
	MIME_SECTION_FIELDS, /* HEADER.FIELDS (...) */
	MIME_SECTION_FIELDS_NOT,
	MIME_SECTION_TEXT,
	MIME_SECTION_MIME,
};

#define MIME_SECTION_MAX_PATH   100
#define MIME_SECTION_MAX_FIELDS 1000

struct mime_section {
	unsigned int path[MIME_SECTION_MAX_PATH];
	size_t path_len;
	enum mime_section_kind kind;
	ARRAY(char *) fields;
};

/* A piece of the section: size bytes of the message at offset, or, when
   offset is MIME_EXTENT_CRLF, the two bytes CRLF (the empty line that
   ends HEADER.FIELDS). */
#define MIME_EXTENT_CRLF UINT64_MAX
struct mime_extent {
	uint64_t offset;
	uint64_t size;
};

/* Parse the text between the brackets ("", "1.2.MIME", "HEADER.FIELDS
   (From To)", case-insensitive). Returns 0 with *sec_r (free with
   mime_section_free()), or -1 with a static reason in *error_r. */
int mime_section_parse(const char *spec, size_t len, struct mime_section **sec_r,
                       const char **error_r);

void mime_section_free(struct mime_section **sec);

/* Resolve sec against the tree. Returns 0 with the malloc'ed extents
   (*ext_r, *count_r; the caller frees the array) and the total size in
   *size_r, or -1 with a static reason if the part does not exist. A
   HEADER/TEXT of a part that is not a message is an empty section. */
int mime_section_resolve(const struct mime_part *root, const struct mime_section *sec,
                         struct mime_extent **ext_r, size_t *count_r, uint64_t *size_r,
                         const char **error_r);

/* Append bytes [origin, origin + length) of the concatenated extents to
   out (clipped to the section size: RFC 3501 partial fetch). Returns 0, or
   -1 with *error_r from the source or when an extent lies outside a memory
   source. */
int mime_extents_read(const struct mime_source *src, const struct mime_extent *ext, size_t count,
                      uint64_t origin, uint64_t length, struct buf *out, const char **error_r);

#endif
