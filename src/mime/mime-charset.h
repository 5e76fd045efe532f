#ifndef TERN_MIME_MIME_CHARSET_H
#define TERN_MIME_MIME_CHARSET_H

/*
 * Text in MIME charsets to UTF-8: charset conversion with iconv (streaming),
 * RFC 2047 encoded words in header values, and RFC 2231 parameter values
 * (continuations, charsets, percent-encoding). Nothing here fails on broken
 * input; what could not be converted is replaced and counted.
 *
 * Fallback policy (one rule everywhere): bytes that are invalid in their
 * charset become U+FFFD, one per invalid byte (for UTF-8 input: one per
 * maximal invalid subsequence, as Python's "replace" does). An unknown
 * charset, a missing one, "us-ascii" and "unknown-8bit" are read as UTF-8
 * (ASCII is unchanged, mislabelled UTF-8 survives, anything else becomes
 * U+FFFD): guessing latin-1 would silently produce wrong letters, while
 * U+FFFD says plainly that something was lost. Output is always valid
 * UTF-8 (NUL bytes pass through).
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "mime/mime-part.h"

/* Longest charset name looked up; longer ones are unknown. */
#define MIME_CHARSET_MAX_NAME 64

/* True if charset (a MIME charset name, case-insensitive; an RFC 2231
   "*language" suffix is ignored) can be converted exactly. */
bool mime_charset_is_known(const char *charset);

struct mime_charset_conv;

/* A streaming converter from charset (NULL: none given) to UTF-8. Never
   returns NULL; an unknown charset gets the fallback above. Free with
   mime_charset_conv_free(). */
struct mime_charset_conv *mime_charset_conv_new(const char *charset);

/* Convert the next len bytes, appending UTF-8 to out. A multibyte character
   split between calls is held back (so any chunking gives the same
   output). Cannot fail. */
void mime_charset_conv_feed(struct mime_charset_conv *conv, const void *data, size_t len,
                            struct buf *out);

/* End of input: a held incomplete character becomes U+FFFD. */
void mime_charset_conv_finish(struct mime_charset_conv *conv, struct buf *out);

/* Replacements made so far, plus one if the charset was unknown. */
unsigned int mime_charset_conv_errors(const struct mime_charset_conv *conv);

/* Accepts NULL; sets *conv to NULL. */
void mime_charset_conv_free(struct mime_charset_conv **conv);

/* Convert a whole buffer, appending UTF-8 to out. Returns 0 if exact, 1 if
   something was replaced or the charset is unknown. */
int mime_charset_to_utf8(const char *charset, const void *data, size_t len, struct buf *out);

/* Decode an unstructured header value (Subject, a display name, ...) to
   UTF-8, appending at most max_out bytes to out (cut on a character
   boundary). RFC 2047: "=?charset[*lang]?B|Q?text?=" words are decoded
   wherever they appear (also inside a word, as mailers write them);
   whitespace between two adjacent encoded words is dropped (section 6.2);
   the bytes of adjacent words in the same charset are joined before
   conversion, so a character split across words survives; a word that is
   malformed (bad encoding letter, whitespace inside, longer than
   MIME_EW_MAX_LEN) is left as written. Raw 8-bit text outside encoded
   words is read as UTF-8 (RFC 6532). CR and LF are dropped (unfolding).
   Returns 0, or 1 if something was replaced or the output was cut. */
#define MIME_EW_MAX_LEN 512
int mime_header_decode(const char *value, size_t len, size_t max_out, struct buf *out);

/* Cap on a decoded parameter value, in bytes, and on the parameters
   looked at (later ones are ignored: joining is quadratic in the count). */
#define MIME_PARAM_MAX_VALUE (64 * 1024)
#define MIME_PARAM_MAX_COUNT 1000

/* RFC 2231 applied to a parameter list as mime-header.c returns it (names
   as written, values unquoted): continuations "name*0", "name*1*", ... are
   joined in numeric order (missing numbers are skipped, a repeated number
   keeps its first value); "*" segments are percent-decoded and the charset
   of "name*=" / "name*0*=" ("charset'lang'...") is converted to UTF-8;
   plain values get RFC 2047 decoding (not allowed there by the RFC, but
   common for filenames). When both "name" and "name*..." are present the
   RFC 2231 form wins. The result has one entry per name (without the
   "*..." suffix, case as first written, in order of first appearance),
   values UTF-8 and capped at MIME_PARAM_MAX_VALUE; only the first
   MIME_PARAM_MAX_COUNT input parameters are used. A new array in *out_r
   and *count_r, freed with mime_params_free() (mime-header.h). */
void mime_params_decode(const struct mime_param *params, size_t count, struct mime_param **out_r,
                        size_t *count_r);

#endif
