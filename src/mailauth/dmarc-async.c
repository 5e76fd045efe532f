/* The DMARC check driven by the event-loop resolver. */
#include "mailauth/dmarc-async.h"

#include <stdlib.h>

#include "lib/xalloc.h"

struct dmarc_async {
	struct dns_resolver *resolver;
	struct dmarc_check *check;
	struct dns_query *query;
	char *name;
	enum dns_type type;
	dmarc_done_t *callback;
	void *context;
};

static void answered(const struct dns_answer *answer, void *context);

/* Ask the next question, or return 0 when the check is finished. */
static int step(struct dmarc_async *a)
{
	const char *name;

	if (dmarc_check_run(a->check, &name, &a->type) == 0)
		return 0;
	free(a->name);
	a->name = xstrdup(name);
	a->query = dns_lookup(a->resolver, a->name, a->type, answered, a);
	return 1;
}

static void answered(const struct dns_answer *answer, void *context)
{
	struct dmarc_async *a = context;

	a->query = NULL;
	dmarc_check_answer(a->check, a->name, a->type, answer);
	if (step(a) == 0) {
		dmarc_done_t *callback = a->callback;
		struct dmarc_check *check = a->check;
		void *ctx = a->context;

		free(a->name);
		free(a);
		callback(check, ctx);
	}
}

struct dmarc_async *dmarc_async_start(struct dns_resolver *resolver, struct dmarc_check *check,
                                      dmarc_done_t *callback, void *context)
{
	struct dmarc_async *a = xcalloc(1, sizeof(*a));

	a->resolver = resolver;
	a->check = check;
	a->callback = callback;
	a->context = context;
	if (step(a) == 0) {
		free(a->name);
		free(a);
		return NULL;
	}
	return a;
}

void dmarc_async_cancel(struct dmarc_async **async)
{
	if (*async == NULL)
		return;
	dns_query_cancel(&(*async)->query);
	free((*async)->name);
	free(*async);
	*async = NULL;
}
