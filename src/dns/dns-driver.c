/* One driver for every resumable check on the resolver (dns-driver.h). */
#include "dns/dns-driver.h"

#include <stdlib.h>

#include "lib/xalloc.h"

struct dns_driver {
	struct dns_resolver *resolver;
	const struct dns_check_ops *ops;
	void *check;
	struct dns_query *query;
	char *name; /* the pending question: the check's pointer may move */
	enum dns_type type;
	dns_driver_done_t *callback;
	void *context;
};

static void answered(const struct dns_answer *answer, void *context);

/* Ask the next question (1), or return 0 when the check is finished. The
   resolver never calls back from inside dns_lookup(), so one question is
   pending at a time. */
static int step(struct dns_driver *d)
{
	const char *name;

	if (d->ops->next(d->check, &name, &d->type) == 0)
		return 0;
	free(d->name);
	d->name = xstrdup(name);
	d->query = dns_lookup(d->resolver, d->name, d->type, answered, d);
	return 1;
}

static void driver_free(struct dns_driver *d)
{
	free(d->name);
	free(d);
}

static void answered(const struct dns_answer *answer, void *context)
{
	struct dns_driver *d = context;

	d->query = NULL;
	d->ops->answer(d->check, d->name, d->type, answer);
	if (step(d) == 0) {
		dns_driver_done_t *callback = d->callback;
		void *check = d->check, *ctx = d->context;

		driver_free(d);
		callback(check, ctx);
	}
}

struct dns_driver *dns_driver_start(struct dns_resolver *resolver, const struct dns_check_ops *ops,
                                    void *check, dns_driver_done_t *callback, void *context)
{
	struct dns_driver *d = xcalloc(1, sizeof(*d));

	d->resolver = resolver;
	d->ops = ops;
	d->check = check;
	d->callback = callback;
	d->context = context;
	if (step(d) == 0) {
		driver_free(d);
		return NULL;
	}
	return d;
}

void dns_driver_cancel(struct dns_driver **driver)
{
	if (*driver == NULL)
		return;
	dns_query_cancel(&(*driver)->query);
	driver_free(*driver);
	*driver = NULL;
}
