#ifndef TERN_MIME_MIME_BINARY_H
#define TERN_MIME_MIME_BINARY_H

/*
 * FETCH BINARY[section-part]<origin.length> and BINARY.SIZE[section-part]
 * (RFC 3516, RFC 9051 section 6.4.5): a part's body with its
 * Content-Transfer-Encoding removed. Shaped like mime-section.h: parse the
 * spec, resolve it against the tree, then read through a struct
 * mime_source. Decoding streams the encoded body through the source in
 * chunks, so neither a partial fetch nor BINARY.SIZE holds the whole body;
 * a partial fetch stops reading once its window is filled.
 *
 * The empty section (BINARY[]) is the whole message as stored: a message
 * header has no transfer encoding to remove. A multipart or message/rfc822
 * part is returned as stored (RFC 2045 section 6.4 allows them only
 * 7bit/8bit/binary). The result may hold NUL bytes: the IMAP server sends
 * it as literal8 (RFC 3516 section 4.2).
 */

#include <stdint.h>

#include "lib/buf.h"
#include "mime/mime-decode.h"
#include "mime/mime-part.h"
#include "mime/mime-section.h"

/* The stored bytes of a resolved section and how to decode them. */
struct mime_binary {
	uint64_t offset;
	uint64_t size;
	enum mime_encoding encoding;
};

/* Parse the text between the brackets of BINARY[...]: "" or a part path
   "1.2.3" (RFC 3516 section-binary: no HEADER, TEXT or MIME). Returns 0
   with *sec_r (free with mime_section_free()), or -1 with a static reason
   in *error_r. */
int mime_binary_parse(const char *spec, size_t len, struct mime_section **sec_r,
                      const char **error_r);

/* Resolve sec (from mime_binary_parse(); a part path) against the tree.
   Returns 0 with *bin_r set; 1 when the part's Content-Transfer-Encoding is
   unknown (RFC 3516 section 4.1: the server answers NO [UNKNOWN-CTE];
   *error_r says so, *bin_r is set with MIME_ENCODING_UNKNOWN); -1 with a
   static reason if the part does not exist or sec is not a part path. */
int mime_binary_resolve(const struct mime_part *root, const struct mime_section *sec,
                        struct mime_binary *bin_r, const char **error_r);

/* Append bytes [origin, origin + length) of the decoded section to out
   (clipped to its decoded size; length UINT64_MAX for all of it). Returns
   0, or -1 with *error_r from the source, when the range lies outside a
   memory source, or when the encoding is MIME_ENCODING_UNKNOWN. */
int mime_binary_read(const struct mime_source *src, const struct mime_binary *bin, uint64_t origin,
                     uint64_t length, struct buf *out, const char **error_r);

/* The decoded size of the section (BINARY.SIZE): the stored size for
   identity encodings, else the body is decoded and counted. Returns 0 with
   *size_r, or -1 as mime_binary_read(). */
int mime_binary_size(const struct mime_source *src, const struct mime_binary *bin, uint64_t *size_r,
                     const char **error_r);

#endif
