#ifndef TERN_MIME_MIME_HEADER_H
#define TERN_MIME_MIME_HEADER_H

/*
 * Parsing of the structured MIME header fields: Content-Type (RFC 2045
 * section 5.1) and Content-Disposition (RFC 2183), from an unfolded value
 * kept in memory.
 */

#include <stddef.h>

#include "mime/mime-part.h"

/* Parse "type/subtype *(; param)". On success returns 0 and sets the
   malloc'ed *type_r, *subtype_r and the parameter array (*params_r, count
   in *count_r; free with mime_params_free()). Returns -1 if there is no
   valid type/subtype; nothing is allocated then. Broken parameters are
   skipped, the good ones are kept. */
int mime_content_type_parse(const char *value, size_t len, char **type_r, char **subtype_r,
                            struct mime_param **params_r, size_t *count_r);

/* Parse "disposition *(; param)". Returns 0 with malloc'ed *disp_r and the
   parameters, or -1 if there is no disposition token (nothing allocated). */
int mime_disposition_parse(const char *value, size_t len, char **disp_r,
                           struct mime_param **params_r, size_t *count_r);

/* Free count parameters and the array. Accepts NULL; sets *params to
   NULL. */
void mime_params_free(struct mime_param **params, size_t count);

#endif
