/* libFuzzer target: the DNS response parser (src/dns/dns-packet.c).
   Input: one mode byte, then a DNS message in wire format. The mode's low
   bits pick the asked type; bit 3 also builds a query from the message
   bytes taken as a name and parses it back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns-packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum dns_type types[] = {
    DNS_TYPE_A,   DNS_TYPE_CNAME, DNS_TYPE_PTR,  DNS_TYPE_MX,
    DNS_TYPE_TXT, DNS_TYPE_AAAA,  DNS_TYPE_TLSA, DNS_TYPE_TXT,
};

/* What dns-packet.h promises of a parsed answer. */
static void check_answer(const struct dns_answer *a, enum dns_type type)
{
	struct dns_answer *copy;

	if ((a->rrs.count > 0) != (a->status == DNS_STATUS_OK))
		abort();
	for (size_t i = 0; i < a->rrs.count; i++) {
		const struct dns_rr *rr = &a->rrs.items[i];

		if (rr->type != type)
			abort();
		if (type == DNS_TYPE_MX)
			(void)strlen(rr->u.mx.exchange);
		else if (type == DNS_TYPE_PTR || type == DNS_TYPE_CNAME)
			(void)strlen(rr->u.name);
		else if (type == DNS_TYPE_TXT && rr->u.txt.data[rr->u.txt.len] != '\0')
			abort();
		else if (type == DNS_TYPE_TLSA && rr->u.tlsa.len > 0 && rr->u.tlsa.data == NULL)
			abort();
	}
	copy = dns_answer_dup(a);
	if (copy->rrs.count != a->rrs.count || copy->status != a->status)
		abort();
	dns_answer_free(&copy);
}

/* A query built from a name must parse back as an answer with no records. */
static void round_trip(const uint8_t *data, size_t size, enum dns_type type)
{
	char name[300];
	uint8_t query[512];
	struct dns_answer *answer;
	const char *error;
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	int len;

	memcpy(name, data, n);
	name[n] = '\0';
	len = dns_packet_build_query(name, type, 0x1234, query, sizeof(query));
	if (len < 0)
		return;
	if (dns_packet_parse(query, (size_t)len, type, &answer, &error) < 0 ||
	    answer->status != DNS_STATUS_NODATA)
		abort();
	dns_answer_free(&answer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer *answer = NULL;
	const char *error = NULL;
	enum dns_type type;

	if (size == 0)
		return 0;
	type = types[data[0] & 7];
	if (dns_packet_parse(data + 1, size - 1, type, &answer, &error) == 0) {
		check_answer(answer, type);
		dns_answer_free(&answer);
	} else if (error == NULL || answer != NULL) {
		abort();
	}
	if (data[0] & 8)
		round_trip(data + 1, size - 1, type);
	return 0;
}
