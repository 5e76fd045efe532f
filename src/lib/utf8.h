#ifndef TERN_LIB_UTF8_H
#define TERN_LIB_UTF8_H

/*
 * UTF-8 well-formedness, for input that must be UTF-8 before anything else
 * looks at it (SASL fields, passwords).
 */

#include <stdbool.h>
#include <stddef.h>

/* True if the len bytes of data are well-formed UTF-8 (RFC 3629: no
   overlong forms, no surrogates, nothing above U+10FFFF). NUL bytes are
   valid UTF-8; callers that refuse them check separately. */
bool utf8_valid(const unsigned char *data, size_t len);

#endif
