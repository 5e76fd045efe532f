#ifndef TERN_MIME_MIME_TEXT_H
#define TERN_MIME_MIME_TEXT_H

/*
 * Plain-text extraction of a message for search indexing and previews:
 * every text/plain and text/html body that is not an attachment, with its
 * transfer encoding removed, converted to UTF-8 (mime-charset.h fallback
 * rules) and HTML reduced to text, with LF line ends. Bodies are streamed
 * through a struct mime_source in chunks; extraction stops reading once the
 * output cap is reached.
 *
 * Which parts: in multipart/alternative the first text/plain child, else
 * the first text/html, else the first multipart child; in other multiparts
 * every child in order; message/rfc822 parts are descended into (the
 * forwarded text is part of the message). Parts with
 * "Content-Disposition: attachment" and non-text types are skipped. Parts
 * are separated by an empty line.
 */

#include <stddef.h>

#include "lib/buf.h"
#include "mime/mime-part.h"
#include "mime/mime-section.h"

/* Append the text of the message (tree root, stored bytes src) to out, at
   most max_len bytes (cut on a UTF-8 character boundary). Returns 0, 1 if
   the text was cut at max_len, or -1 with *error_r from the source (out
   then holds what was extracted before). */
int mime_text_extract(const struct mime_part *root, const struct mime_source *src, size_t max_len,
                      struct buf *out, const char **error_r);

/*
 * HTML to text, streaming (any chunking gives the same output). Input is
 * UTF-8. Tags are dropped; comments, <script>, <style> and <title>
 * contents are skipped; block elements (p, div, br, li, tr, h1-h6, ...)
 * become line breaks (at most one empty line in a row); other whitespace
 * runs become one space; character references (&#NNN; &#xHH;) and the
 * common named entities (&amp; &lt; &gt; &quot; &apos; &nbsp; &copy; ...)
 * are decoded, unknown ones kept as written. A tag name or entity longer
 * than the state holds is treated as text/ignored without any read past
 * the input.
 */
struct mime_html;

/* Never returns NULL; free with mime_html_free(). */
struct mime_html *mime_html_new(void);

/* Convert the next len bytes, appending text to out. Cannot fail. */
void mime_html_feed(struct mime_html *h, const void *data, size_t len, struct buf *out);

/* End of input: flush a held entity. */
void mime_html_finish(struct mime_html *h, struct buf *out);

/* Accepts NULL; sets *h to NULL. */
void mime_html_free(struct mime_html **h);

#endif
