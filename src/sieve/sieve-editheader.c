/* Headers as the script sees them, with editheader changes applied
   (RFC 5293 section 5: later tests see the edits). */
#include "sieve/sieve-run.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool value_listed(const struct sieve_edit *e, const char *v)
{
	for (size_t i = 0; i < e->nvalues; i++) {
		if (strcmp(e->values[i], v) == 0)
			return true;
	}
	return false;
}

/* Apply one edit to the list vals (n items, cap large enough). */
static void apply_edit(const struct sieve_edit *e, const char ***vals, size_t *n)
{
	if (e->add) {
		*vals = xreallocarray(*vals, *n + 1, sizeof(char *));
		if (e->last) {
			(*vals)[*n] = e->value;
		} else {
			memmove(*vals + 1, *vals, *n * sizeof(char *));
			(*vals)[0] = e->value;
		}
		(*n)++;
		return;
	}
	size_t out = 0;
	for (size_t i = 0; i < *n; i++) {
		bool del;
		if (e->index > 0)
			del = (e->last ? *n - i : i + 1) == e->index;
		else
			del = true;
		if (del && e->values != NULL)
			del = value_listed(e, (*vals)[i]);
		if (!del)
			(*vals)[out++] = (*vals)[i];
	}
	*n = out;
}

size_t sieve_header_values(struct sieve_run *r, const char *name, const char ***values_r)
{
	const char *const *orig = NULL;
	size_t n = 0;

	if (r->msg->header)
		n = r->msg->header(r->msg->ctx, name, &orig);
	const char **vals = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		vals[i] = orig[i];
	for (size_t i = 0; i < r->edits.count; i++) {
		if (strcasecmp(r->edits.items[i].name, name) == 0)
			apply_edit(&r->edits.items[i], &vals, &n);
	}
	*values_r = vals;
	return n;
}
