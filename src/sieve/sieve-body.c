/* Selecting body parts by content type for the body test (RFC 5173). */
#include "sieve/sieve.h"

#include <string.h>
#include <strings.h>

bool sieve_body_type_selected(const char *ctype, const char *const *types, size_t ntypes)
{
	size_t full = strcspn(ctype, "; \t");
	size_t major = strcspn(ctype, "/; \t");

	for (size_t i = 0; i < ntypes; i++) {
		const char *t = types[i];
		size_t tl = strlen(t);
		if (tl == 0)
			return true;
		if (strchr(t, '/') == NULL) {
			if (tl == major && strncasecmp(ctype, t, tl) == 0)
				return true;
		} else if (tl == full && strncasecmp(ctype, t, tl) == 0) {
			return true;
		}
	}
	return false;
}
