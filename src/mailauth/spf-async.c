/* The SPF check driven by the event-loop resolver. */
#include "mailauth/spf-async.h"

#include <stdlib.h>

#include "lib/xalloc.h"

struct spf_async {
	struct dns_resolver *resolver;
	struct spf_check *check;
	struct dns_query *query;
	char *name;
	enum dns_type type;
	spf_done_t *callback;
	void *context;
};

static void answered(const struct dns_answer *answer, void *context);

/* Ask the next question, or return 0 when the check is finished. */
static int step(struct spf_async *a)
{
	const char *name;

	if (spf_check_run(a->check, &name, &a->type) == 0)
		return 0;
	free(a->name);
	a->name = xstrdup(name);
	a->query = dns_lookup(a->resolver, a->name, a->type, answered, a);
	return 1;
}

static void answered(const struct dns_answer *answer, void *context)
{
	struct spf_async *a = context;

	a->query = NULL;
	spf_check_answer(a->check, a->name, a->type, answer);
	if (step(a) == 0) {
		spf_done_t *callback = a->callback;
		struct spf_check *check = a->check;
		void *ctx = a->context;

		free(a->name);
		free(a);
		callback(check, ctx);
	}
}

struct spf_async *spf_async_start(struct dns_resolver *resolver, struct spf_check *check,
                                  spf_done_t *callback, void *context)
{
	struct spf_async *a = xcalloc(1, sizeof(*a));

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

void spf_async_cancel(struct spf_async **async)
{
	if (*async == NULL)
		return;
	dns_query_cancel(&(*async)->query);
	free((*async)->name);
	free(*async);
	*async = NULL;
}
