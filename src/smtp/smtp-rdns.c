#include "smtp/smtp-rdns.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns-resolver.h"
#include "dns/dns-settings.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct smtp_rdns {
	struct dns_resolver *resolver;
	struct dns_query *query;
	struct event *later; /* answers a bad IP from the loop */
	smtp_rdns_callback_t *callback;
	void *ctx;
	int family;
	unsigned char addr[16];
	char *names[SMTP_RDNS_NAMES_MAX];
	size_t name_count, next;
};

int smtp_rdns_reverse_name(const char *ip, char *out, size_t size)
{
	unsigned char a[16];
	size_t pos = 0;

	if (inet_pton(AF_INET, ip, a) == 1) {
		if (snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]) >=
		    (int)size)
			return -1;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || size < 16 * 4 + sizeof("ip6.arpa"))
		return -1;
	for (int i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		out[pos++] = hex[a[i] & 0xf];
		out[pos++] = '.';
		out[pos++] = hex[a[i] >> 4];
		out[pos++] = '.';
	}
	memcpy(out + pos, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

bool smtp_rdns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static void rdns_free(struct smtp_rdns *r)
{
	for (size_t i = 0; i < r->name_count; i++)
		free(r->names[i]);
	if (r->later != NULL)
		event_free(r->later);
	free(r);
}

/* Report and free (the callback may start anything, even a new lookup). */
static void finish(struct smtp_rdns *r, const char *name)
{
	smtp_rdns_callback_t *cb = r->callback;
	void *ctx = r->ctx;
	char *copy = name != NULL ? xstrdup(name) : NULL;

	rdns_free(r);
	cb(copy, ctx);
	free(copy);
}

static void forward_next(struct smtp_rdns *r);

static bool answer_has_addr(const struct smtp_rdns *r, const struct dns_answer *answer)
{
	if (answer->status != DNS_STATUS_OK)
		return false;
	for (size_t i = 0; i < answer->rrs.count; i++) {
		const struct dns_rr *rr = &answer->rrs.items[i];

		if (r->family == AF_INET && rr->type == DNS_TYPE_A &&
		    memcmp(rr->u.a, r->addr, 4) == 0)
			return true;
		if (r->family == AF_INET6 && rr->type == DNS_TYPE_AAAA &&
		    memcmp(rr->u.aaaa, r->addr, 16) == 0)
			return true;
	}
	return false;
}

static void on_forward(const struct dns_answer *answer, void *ctx)
{
	struct smtp_rdns *r = ctx;

	r->query = NULL;
	if (answer_has_addr(r, answer)) {
		finish(r, r->names[r->next - 1]);
		return;
	}
	forward_next(r);
}

/* The forward lookup of the next PTR name, or unknown when none is left. */
static void forward_next(struct smtp_rdns *r)
{
	const char *name;

	if (r->next >= r->name_count) {
		finish(r, NULL);
		return;
	}
	name = r->names[r->next++];
	r->query = dns_lookup(r->resolver, name, r->family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA,
	                      on_forward, r);
}

static void on_ptr(const struct dns_answer *answer, void *ctx)
{
	struct smtp_rdns *r = ctx;

	r->query = NULL;
	if (answer->status == DNS_STATUS_OK) {
		for (size_t i = 0; i < answer->rrs.count && r->name_count < SMTP_RDNS_NAMES_MAX;
		     i++) {
			const struct dns_rr *rr = &answer->rrs.items[i];

			if (rr->type == DNS_TYPE_PTR && rr->u.name != NULL &&
			    smtp_rdns_name_ok(rr->u.name))
				r->names[r->name_count++] = xstrdup(rr->u.name);
		}
	}
	forward_next(r);
}

static void on_later(evutil_socket_t fd, short what, void *ctx)
{
	finish(ctx, NULL);
}

struct smtp_rdns *smtp_rdns_start(struct dns_resolver *resolver, struct event_base *base,
                                  const char *ip, smtp_rdns_callback_t *callback, void *ctx)
{
	struct smtp_rdns *r = xcalloc(1, sizeof(*r));
	char rname[80];

	r->resolver = resolver;
	r->callback = callback;
	r->ctx = ctx;
	if (inet_pton(AF_INET, ip, r->addr) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, r->addr) == 1)
		r->family = AF_INET6;
	if (r->family == 0 || smtp_rdns_reverse_name(ip, rname, sizeof(rname)) < 0) {
		struct timeval now = {0, 0};

		r->later = evtimer_new(base, on_later, r);
		if (r->later == NULL) {
			log_error(NULL, "event=smtp.rdns_error error=\"out of memory\"");
			exit(1);
		}
		evtimer_add(r->later, &now);
		return r;
	}
	r->query = dns_lookup(resolver, rname, DNS_TYPE_PTR, on_ptr, r);
	return r;
}

void smtp_rdns_cancel(struct smtp_rdns **rdns)
{
	struct smtp_rdns *r = *rdns;

	if (r == NULL)
		return;
	dns_query_cancel(&r->query);
	rdns_free(r);
	*rdns = NULL;
}

int smtp_rdns_resolver_new(struct event_base *base, const struct tern_settings *settings,
                           struct dns_resolver **resolver_r, const char **error_r)
{
	const struct dns_settings *set = dns_settings(settings);
	struct dns_resolver_settings dns = {
	    .zone_file = set->zone_file,
	    .forwarders = (const char *const *)set->forwarders,
	    .forwarder_count = set->forwarder_count,
	    .timeout_msecs = set->timeout * 1000,
	};
	char *error;

	if (dns_resolver_new(base, &dns, resolver_r, &error) == 0)
		return 0;
	log_error(NULL, "event=smtp.dns_error error=\"%s\"", error);
	free(error);
	*error_r = "cannot start the DNS resolver";
	return -1;
}
