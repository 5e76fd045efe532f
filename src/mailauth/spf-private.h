#ifndef TERN_MAILAUTH_SPF_PRIVATE_H
#define TERN_MAILAUTH_SPF_PRIVATE_H

/* Internals shared by the spf-*.c files. */

#include <stdbool.h>
#include <stddef.h>

/* Length of the macro-expand starting at spec[0] == '%', or 0 if it is not
   a valid one. */
size_t spf_macro_token_len(const char *spec, size_t len, bool explanation);

/* Validate a macro-string (explanation false) or explain-string. Returns 0,
   or -1 with *error_r set. */
int spf_macro_check(const char *spec, size_t len, bool explanation, const char **error_r);

#endif
