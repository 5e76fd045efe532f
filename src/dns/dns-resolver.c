/* The resolver: a local zone table in front of libunbound, both delivered
   through libevent so callers always get their answer from the loop. */
#include "dns/dns-resolver.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unbound-event.h>
#include <unbound.h>
#include <unistd.h>

#include "dns/dns-packet.h"
#include "dns/dns-zone.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"

struct dns_query {
	struct dns_resolver *resolver;
	struct dns_query *prev, *next;
	char *name;
	enum dns_type type;
	dns_callback_t *callback;
	void *context;
	struct event *timer;      /* timeout, or immediate delivery */
	struct dns_answer *ready; /* answer to deliver when timer fires */
	int async_id;             /* libunbound query, 0 if none */
	bool ub_pending;
	bool starting; /* inside ub_resolve_event(): answers must wait for the loop */
};

struct dns_resolver {
	struct event_base *base;
	struct ub_ctx *ub;
	struct dns_zone *zone;
	unsigned timeout_msecs;
	struct dns_query *queries;
	size_t pending;
};

static int unbound_setup(struct dns_resolver *r, const struct dns_resolver_settings *set,
                         char **error_r)
{
	const char *ta = set->trust_anchor_file;
	int ret = 0;

	r->ub = ub_ctx_create_event(r->base);
	if (r->ub == NULL) {
		*error_r = xstrdup("cannot create the libunbound context");
		return -1;
	}
	for (size_t i = 0; i < set->forwarder_count && ret == 0; i++)
		ret = ub_ctx_set_fwd(r->ub, set->forwarders[i]);
	if (ret == 0 && ta == NULL && access(DEFAULT_TRUST_ANCHOR, R_OK) == 0)
		ta = DEFAULT_TRUST_ANCHOR;
	if (ret == 0 && ta != NULL)
		ret = ub_ctx_add_ta_file(r->ub, ta);
	if (ret != 0) {
		*error_r = xasprintf("libunbound: %s", ub_strerror(ret));
		return -1;
	}
	return 0;
}

int dns_resolver_new(struct event_base *base, const struct dns_resolver_settings *settings,
                     struct dns_resolver **resolver_r, char **error_r)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));

	r->base = base;
	r->timeout_msecs =
	    settings->timeout_msecs != 0 ? settings->timeout_msecs : DNS_DEFAULT_TIMEOUT_MSECS;
	if (settings->zone_file != NULL) {
		if (dns_zone_load(settings->zone_file, &r->zone, error_r) < 0) {
			free(r);
			return -1;
		}
	} else if (unbound_setup(r, settings, error_r) < 0) {
		dns_resolver_free(&r);
		return -1;
	}
	*resolver_r = r;
	return 0;
}

static void query_unlink(struct dns_query *q)
{
	struct dns_resolver *r = q->resolver;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	r->pending--;
}

static void query_free(struct dns_query *q)
{
	if (q->ub_pending && q->resolver->ub != NULL)
		ub_cancel(q->resolver->ub, q->async_id);
	event_free(q->timer);
	dns_answer_free(&q->ready);
	free(q->name);
	free(q);
}

/* Hand the answer over and forget the query. */
static void query_finish(struct dns_query *q, const struct dns_answer *answer)
{
	dns_callback_t *callback = q->callback;
	void *context = q->context;

	query_unlink(q);
	if (q->ub_pending) {
		ub_cancel(q->resolver->ub, q->async_id);
		q->ub_pending = false;
	}
	char *name = log_value(q->name, strlen(q->name), 255);
	log_debug(NULL, "event=dns.answer name=%s type=%s status=%s count=%zu dnssec=%s", name,
	          dns_type_name(q->type), dns_status_name(answer->status), answer->rrs.count,
	          dns_dnssec_name(answer->dnssec));
	free(name);
	callback(answer, context);
	query_free(q);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;
	struct dns_answer *answer = q->ready;

	q->ready = NULL;
	if (answer == NULL)
		answer = dns_answer_new(DNS_STATUS_TIMEOUT);
	query_finish(q, answer);
	dns_answer_free(&answer);
}

static void arm_timer(struct dns_query *q, unsigned msecs)
{
	struct timeval tv = {.tv_sec = msecs / 1000, .tv_usec = (msecs % 1000) * 1000};

	evtimer_add(q->timer, &tv);
}

static void unbound_cb(void *arg, int rcode, void *packet, int packet_len, int sec, char *why_bogus,
                       int was_ratelimited)
{
	struct dns_query *q = arg;
	struct dns_answer *answer = NULL;
	const char *error;

	q->ub_pending = false;
	if (rcode == 3)
		answer = dns_answer_new(DNS_STATUS_NXDOMAIN);
	else if (rcode != 0 || packet == NULL || packet_len < 0)
		answer = dns_answer_new(DNS_STATUS_TEMPFAIL);
	else if (dns_packet_parse(packet, (size_t)packet_len, q->type, &answer, &error) < 0)
		answer = dns_answer_new(DNS_STATUS_TEMPFAIL);
	answer->dnssec = sec == 2   ? DNS_DNSSEC_SECURE
	                 : sec == 1 ? DNS_DNSSEC_BOGUS
	                            : DNS_DNSSEC_INSECURE;
	/* RFC 4035 5.5: a bogus answer must not be used. */
	if (answer->dnssec == DNS_DNSSEC_BOGUS)
		answer->status = DNS_STATUS_TEMPFAIL;
	if (q->starting) {
		/* libunbound answered from its own local zones (localhost., test.,
		   invalid., ...) before ub_resolve_event() returned: the callback
		   must not run inside dns_lookup(), so hand it over through the
		   loop, as zone-file answers are. */
		q->ready = answer;
		arm_timer(q, 0);
		return;
	}
	query_finish(q, answer);
	dns_answer_free(&answer);
}

static void start_unbound(struct dns_query *q)
{
	struct dns_resolver *r = q->resolver;
	int ret;

	q->ub_pending = true;
	q->starting = true;
	ret = ub_resolve_event(r->ub, q->name, (int)q->type, 1, q, unbound_cb, &q->async_id);
	q->starting = false;
	if (ret != 0 && q->ready == NULL) {
		q->ub_pending = false;
		log_warn(NULL, "event=dns.error reason=\"%s\"", ub_strerror(ret));
		q->ready = dns_answer_new(DNS_STATUS_TEMPFAIL);
		arm_timer(q, 0);
	}
}

struct dns_query *dns_lookup(struct dns_resolver *resolver, const char *name, enum dns_type type,
                             dns_callback_t *callback, void *context)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->resolver = resolver;
	q->name = xstrdup(name);
	q->type = type;
	q->callback = callback;
	q->context = context;
	q->timer = evtimer_new(resolver->base, timer_cb, q);
	q->next = resolver->queries;
	if (q->next != NULL)
		q->next->prev = q;
	resolver->queries = q;
	resolver->pending++;
	arm_timer(q, resolver->timeout_msecs);
	if (resolver->zone == NULL) {
		start_unbound(q);
		return q;
	}
	q->ready = dns_zone_lookup(resolver->zone, name, type);
	if (q->ready->status == DNS_STATUS_TIMEOUT)
		dns_answer_free(&q->ready); /* let the timeout timer fire */
	else
		arm_timer(q, 0);
	return q;
}

void dns_query_cancel(struct dns_query **query)
{
	if (*query == NULL)
		return;
	query_unlink(*query);
	query_free(*query);
	*query = NULL;
}

size_t dns_resolver_pending(const struct dns_resolver *resolver)
{
	return resolver->pending;
}

void dns_resolver_free(struct dns_resolver **resolver)
{
	struct dns_resolver *r = *resolver;

	if (r == NULL)
		return;
	while (r->queries != NULL) {
		struct dns_query *q = r->queries;
		dns_query_cancel(&q);
	}
	if (r->ub != NULL)
		ub_ctx_delete(r->ub);
	dns_zone_free(&r->zone);
	free(r);
	*resolver = NULL;
}
