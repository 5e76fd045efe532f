/* ARC key lookups driven by the event-loop resolver. */

#include "mailauth/arc-async.h"

#include <stdlib.h>

#include "lib/xalloc.h"

struct arc_async {
	struct dns_resolver *resolver;
	struct arc_verifier *verifier;
	struct dns_query *query;
	char *name;
	arc_done_t *callback;
	void *context;
};

static void answered(const struct dns_answer *answer, void *context);

/* Ask for the next key, or return 0 when the result is known. */
static int step(struct arc_async *a)
{
	const char *name;

	if (arc_verifier_run(a->verifier, &name) == 0)
		return 0;
	free(a->name);
	a->name = xstrdup(name);
	a->query = dns_lookup(a->resolver, a->name, DNS_TYPE_TXT, answered, a);
	return 1;
}

static void answered(const struct dns_answer *answer, void *context)
{
	struct arc_async *a = context;
	arc_done_t *callback;
	struct arc_verifier *verifier;
	void *ctx;

	a->query = NULL;
	arc_verifier_answer(a->verifier, a->name, answer);
	if (step(a) == 1)
		return;
	callback = a->callback;
	verifier = a->verifier;
	ctx = a->context;
	free(a->name);
	free(a);
	callback(verifier, ctx);
}

struct arc_async *arc_async_start(struct dns_resolver *resolver, struct arc_verifier *verifier,
                                  arc_done_t *callback, void *context)
{
	struct arc_async *a = xcalloc(1, sizeof(*a));

	a->resolver = resolver;
	a->verifier = verifier;
	a->callback = callback;
	a->context = context;
	if (step(a) == 0) {
		free(a->name);
		free(a);
		return NULL;
	}
	return a;
}

void arc_async_cancel(struct arc_async **async)
{
	if (*async == NULL)
		return;
	dns_query_cancel(&(*async)->query);
	free((*async)->name);
	free(*async);
	*async = NULL;
}
