/* MX order and addresses: see queue-mx.h. */
#include "queue/queue-mx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

uint64_t queue_rng_next(uint64_t *state)
{
	uint64_t x = *state != 0 ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static bool is_root(const char *name)
{
	return name == NULL || name[0] == '\0' || strcmp(name, ".") == 0;
}

int queue_mx_order(const struct dns_answer *answer, uint64_t *rng, queue_mx_hosts *hosts_r)
{
	queue_mx_hosts *h = hosts_r;

	h->count = 0;
	if (answer->rrs.count == 1 && answer->rrs.items[0].type == DNS_TYPE_MX &&
	    is_root(answer->rrs.items[0].u.mx.exchange))
		return 1;
	for (size_t i = 0; i < answer->rrs.count; i++) {
		const struct dns_rr *rr = &answer->rrs.items[i];
		struct queue_mx_host *host;

		if (rr->type != DNS_TYPE_MX || is_root(rr->u.mx.exchange))
			continue;
		host = array_push(h);
		host->name = xstrdup(rr->u.mx.exchange);
		host->preference = rr->u.mx.preference;
	}
	/* a shuffle (Fisher-Yates), then a stable sort by preference keeps
	   the shuffled order among equals (RFC 5321 5.1) */
	for (size_t i = h->count; i > 1; i--) {
		size_t j = (size_t)(queue_rng_next(rng) % i);
		struct queue_mx_host t = h->items[i - 1];

		h->items[i - 1] = h->items[j];
		h->items[j] = t;
	}
	for (size_t i = 1; i < h->count; i++) {
		struct queue_mx_host t = h->items[i];
		size_t j = i;

		while (j > 0 && h->items[j - 1].preference > t.preference) {
			h->items[j] = h->items[j - 1];
			j--;
		}
		h->items[j] = t;
	}
	return 0;
}

void queue_mx_hosts_free(queue_mx_hosts *hosts)
{
	for (size_t i = 0; i < hosts->count; i++)
		free(hosts->items[i].name);
	array_free(hosts);
}

static void add_family(queue_addrs *addrs, const struct dns_answer *ans, bool v6, unsigned port)
{
	if (ans == NULL || ans->status != DNS_STATUS_OK)
		return;
	for (size_t i = 0; i < ans->rrs.count; i++) {
		const struct dns_rr *rr = &ans->rrs.items[i];
		struct queue_addr *a;

		if (rr->type != (v6 ? DNS_TYPE_AAAA : DNS_TYPE_A))
			continue;
		a = array_push(addrs);
		if (v6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->sa;

			s->sin6_family = AF_INET6;
			s->sin6_port = htons((uint16_t)port);
			memcpy(&s->sin6_addr, rr->u.aaaa, 16);
			a->len = sizeof(*s);
			inet_ntop(AF_INET6, &s->sin6_addr, a->ip, sizeof(a->ip));
		} else {
			struct sockaddr_in *s = (struct sockaddr_in *)&a->sa;

			s->sin_family = AF_INET;
			s->sin_port = htons((uint16_t)port);
			memcpy(&s->sin_addr, rr->u.a, 4);
			a->len = sizeof(*s);
			inet_ntop(AF_INET, &s->sin_addr, a->ip, sizeof(a->ip));
		}
	}
}

void queue_addrs_add(queue_addrs *addrs, const struct dns_answer *a, const struct dns_answer *aaaa,
                     unsigned port, bool prefer_ipv6)
{
	add_family(addrs, prefer_ipv6 ? aaaa : a, prefer_ipv6, port);
	add_family(addrs, prefer_ipv6 ? a : aaaa, !prefer_ipv6, port);
}

int queue_addrs_add_literal(queue_addrs *addrs, const char *ip, unsigned port)
{
	struct queue_addr a;

	memset(&a, 0, sizeof(a));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a.sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.sa;

	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		a.len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		a.len = sizeof(*s6);
	} else {
		return -1;
	}
	snprintf(a.ip, sizeof(a.ip), "%s", ip);
	array_append(addrs, a);
	return 0;
}
