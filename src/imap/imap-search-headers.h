#ifndef TERN_IMAP_IMAP_SEARCH_HEADERS_H
#define TERN_IMAP_IMAP_SEARCH_HEADERS_H

/*
 * The SEARCH header cache (MAIL_CACHE_SEARCH_HEADERS in store/mailbox.h):
 * the top-level header fields SEARCH's header keys match, kept in the
 * index so that SEARCH SUBJECT, FROM, TO, CC, BCC and HEADER <field> on
 * these fields open no message file (docs/imap.md, "SEARCH").
 *
 * What is kept is exactly what a search of the file matches against: every
 * instance, in order, of the covered fields, each value as the MIME parser
 * gives it (unfolded, trimmed, not RFC 2047 decoded, cut at the parser's
 * cap). The rendered ENVELOPE cannot stand in: it keeps only the first of
 * each field and re-renders addresses (comments, groups and the raw
 * "Name <a@b>" text are gone). Encoding: per field, one code byte ('a' +
 * the field's index), the value's length in decimal, ':', the value's bytes
 * (any byte, NUL included). Pure functions, no I/O.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "mime/mime-part.h"

/* The code of References: rendered always (an empty value when the
   message has none), so that an entry holding it is known to cover it;
   imap_search_header_code() does not give it (older entries lack it). */
#define IMAP_SEARCH_HEADER_REFERENCES 10

/* The index of field name (any case) among the covered fields, or -1 if
   SEARCH must read the file for it. */
int imap_search_header_code(const char *name);

/* Append the encoding of hdr's covered fields (hdr->fields, a message's
   top-level header) to out. */
void imap_search_headers_render(const struct mime_part *hdr, struct buf *out);

/* Does any field with code (from imap_search_header_code()) in the
   encoding data[0..len) contain text, ignoring ASCII case? 1 yes, 0 no,
   -1 if data is not a valid encoding (the caller reads the file). */
int imap_search_headers_match(const char *data, size_t len, int code, const char *text);

/* The first value of the field with code in the encoding data[0..len):
   1 with *value_r (into data, not NUL-terminated) and *len_r, 0 if the
   field is not there, -1 if data is not a valid encoding. */
int imap_search_headers_first(const char *data, size_t len, int code, const char **value_r,
                              size_t *len_r);

/* Does one value of header field (name, any case) match text? The raw
   value contains it (imap_search_contains()), or, for the address fields
   (From, Sender, Reply-To, To, Cc, Bcc), an address of the parsed list
   (mime-address.h) reads as "local@domain" or "name <local@domain>"
   containing it: comments and folding whitespace inside an address do not
   hide it. Both the file and the cache path match with this. */
bool imap_search_value_matches(const char *field, const char *value, size_t len, const char *text);

/* Substring search ignoring ASCII case, the one rule of SEARCH's string
   keys: an empty needle matches; a match never spans a NUL byte of hay
   (needles hold none). */
bool imap_search_contains(const char *hay, size_t len, const char *needle, size_t nlen);

#endif
