#ifndef TERN_MAILAUTH_TAG_LIST_H
#define TERN_MAILAUTH_TAG_LIST_H

/*
 * The tag=value list of RFC 6376 section 3.2, used by DKIM-Signature
 * header fields, DKIM key records, DMARC records (RFC 7489 6.4) and the ARC
 * header fields (RFC 8617):
 *
 *   tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name  =  ALPHA *ALNUMPUNC            ; ALPHA / DIGIT / "_"
 *   tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
 *   tval      =  1*VALCHAR                   ; %x21-3A / %x3C-7E
 *
 * Tag names are case-sensitive. A name given twice makes the whole list
 * invalid. Whitespace (WSP and folding CRLF) around names and values is not
 * part of them; whitespace inside a value is kept as it was (3.2: "WSP
 * inside the value is significant"); tags whose value must have all of it
 * removed (b=, bh=, p=) use tag_value_compact(). Bytes 0x80-0xff are
 * accepted in values (RFC 8616, UTF-8 in i= and elsewhere).
 *
 * The input is a whole header field value or TXT record, so the parser
 * takes it in one piece; it does no I/O.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/array.h"
#include "lib/buf.h"

/* At most this many tags in one list, and this many input bytes. */
#define TAG_LIST_MAX_TAGS 64
#define TAG_LIST_MAX_LEN  65536

struct tag {
	char *name;       /* NUL-terminated */
	char *value;      /* surrounding FWS removed, NUL-terminated */
	size_t value_len; /* strlen(value) */
	/* Where the value lies in the parsed input: input[value_start ..
	   value_end) is the raw value (surrounding whitespace excluded). DKIM
	   and ARC need it to empty b= when hashing the signature field. */
	size_t value_start, value_end;
};

struct tag_list {
	ARRAY(struct tag) tags; /* in input order */
};

/* Flags for tag_list_parse_flags(). */
enum tag_list_flags {
	/* Accept empty tag-specs (";;", a leading ";"), which many published
	   records have although the grammar forbids them. */
	TAG_LIST_ALLOW_EMPTY = 1 << 0,
};

/* Parse s (len bytes, NUL not needed) into *list_r. Returns 0, or -1 with
   *error_r a static reason ("duplicate tag", "bad tag name", ...) and
   *list_r left empty. Always call tag_list_free() on *list_r afterwards
   (it is safe on an empty list). An empty or all-whitespace input gives an
   empty list and returns 0. */
int tag_list_parse(const char *s, size_t len, struct tag_list *list_r, const char **error_r);

/* The same with TAG_LIST_* flags. */
int tag_list_parse_flags(const char *s, size_t len, unsigned flags, struct tag_list *list_r,
                         const char **error_r);

/* The tag called name (case-sensitive), or NULL if the list has none. The
   pointer is valid until tag_list_free(). */
const struct tag *tag_list_get(const struct tag_list *list, const char *name);

/* The value of tag name, or NULL if absent. */
const char *tag_list_value(const struct tag_list *list, const char *name);

/* Append value with every WSP, CR and LF removed to out (for base64
   values: b=, bh=, p=, RFC 6376 3.5 and 3.6.1). */
void tag_value_compact(const char *value, size_t len, struct buf *out);

/* Free what the list holds; it is empty (count 0) afterwards. */
void tag_list_free(struct tag_list *list);

#endif
