/* DKIM key lookups driven by the event-loop resolver. */

#include "mailauth/dkim-async.h"

#include <stdlib.h>

#include "lib/xalloc.h"

struct dkim_async {
	struct dns_resolver *resolver;
	struct dkim_verifier *verifier;
	struct dns_query *query;
	char *name;
	dkim_done_t *callback;
	void *context;
};

static void answered(const struct dns_answer *answer, void *context);

/* Ask for the next key, or return 0 when every verdict is known. */
static int step(struct dkim_async *a)
{
	const char *name;

	if (dkim_verifier_run(a->verifier, &name) == 0)
		return 0;
	free(a->name);
	a->name = xstrdup(name);
	a->query = dns_lookup(a->resolver, a->name, DNS_TYPE_TXT, answered, a);
	return 1;
}

static void answered(const struct dns_answer *answer, void *context)
{
	struct dkim_async *a = context;

	a->query = NULL;
	dkim_verifier_answer(a->verifier, a->name, answer);
	if (step(a) == 0) {
		dkim_done_t *callback = a->callback;
		struct dkim_verifier *verifier = a->verifier;
		void *ctx = a->context;

		free(a->name);
		free(a);
		callback(verifier, ctx);
	}
}

struct dkim_async *dkim_async_start(struct dns_resolver *resolver, struct dkim_verifier *verifier,
                                    dkim_done_t *callback, void *context)
{
	struct dkim_async *a = xcalloc(1, sizeof(*a));

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

void dkim_async_cancel(struct dkim_async **async)
{
	if (*async == NULL)
		return;
	dns_query_cancel(&(*async)->query);
	free((*async)->name);
	free(*async);
	*async = NULL;
}
