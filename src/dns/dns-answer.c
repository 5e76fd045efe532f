/* struct dns_answer helpers and names of types and states. */
#include "dns/dns.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

static const struct {
	enum dns_type type;
	const char *name;
} type_names[] = {
    {DNS_TYPE_A, "A"},     {DNS_TYPE_CNAME, "CNAME"}, {DNS_TYPE_PTR, "PTR"},   {DNS_TYPE_MX, "MX"},
    {DNS_TYPE_TXT, "TXT"}, {DNS_TYPE_AAAA, "AAAA"},   {DNS_TYPE_TLSA, "TLSA"},
};

struct dns_answer *dns_answer_new(enum dns_status status)
{
	struct dns_answer *answer = xcalloc(1, sizeof(*answer));

	answer->status = status;
	return answer;
}

static void *memdup_nul(const void *data, size_t len)
{
	char *p = xmalloc(len + 1);

	if (len > 0)
		memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

static void rr_copy(struct dns_rr *dst, const struct dns_rr *src)
{
	*dst = *src;
	switch (src->type) {
	case DNS_TYPE_MX:
		dst->u.mx.exchange = xstrdup(src->u.mx.exchange);
		break;
	case DNS_TYPE_PTR:
	case DNS_TYPE_CNAME:
		dst->u.name = xstrdup(src->u.name);
		break;
	case DNS_TYPE_TXT:
		dst->u.txt.data = memdup_nul(src->u.txt.data, src->u.txt.len);
		break;
	case DNS_TYPE_TLSA:
		dst->u.tlsa.data = memdup_nul(src->u.tlsa.data, src->u.tlsa.len);
		break;
	default:
		break;
	}
}

void dns_rr_clear(struct dns_rr *rr)
{
	switch (rr->type) {
	case DNS_TYPE_MX:
		free(rr->u.mx.exchange);
		break;
	case DNS_TYPE_PTR:
	case DNS_TYPE_CNAME:
		free(rr->u.name);
		break;
	case DNS_TYPE_TXT:
		free(rr->u.txt.data);
		break;
	case DNS_TYPE_TLSA:
		free(rr->u.tlsa.data);
		break;
	default:
		break;
	}
}

void dns_answer_add(struct dns_answer *answer, const struct dns_rr *rr)
{
	rr_copy(array_push(&answer->rrs), rr);
	answer->status = DNS_STATUS_OK;
}

struct dns_answer *dns_answer_dup(const struct dns_answer *answer)
{
	struct dns_answer *copy = dns_answer_new(answer->status);

	copy->dnssec = answer->dnssec;
	for (size_t i = 0; i < answer->rrs.count; i++)
		dns_answer_add(copy, &answer->rrs.items[i]);
	copy->status = answer->status;
	return copy;
}

void dns_answer_free(struct dns_answer **answer)
{
	if (*answer == NULL)
		return;
	for (size_t i = 0; i < (*answer)->rrs.count; i++)
		dns_rr_clear(&(*answer)->rrs.items[i]);
	array_free(&(*answer)->rrs);
	free(*answer);
	*answer = NULL;
}

const char *dns_type_name(enum dns_type type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (type_names[i].type == type)
			return type_names[i].name;
	}
	return "UNKNOWN";
}

int dns_type_parse(const char *name, enum dns_type *type_r)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcasecmp(type_names[i].name, name) == 0) {
			*type_r = type_names[i].type;
			return 0;
		}
	}
	return -1;
}

const char *dns_status_name(enum dns_status status)
{
	static const char *const names[] = {"ok", "nxdomain", "nodata", "tempfail", "timeout"};

	return (unsigned)status < 5 ? names[status] : "unknown";
}

const char *dns_dnssec_name(enum dns_dnssec dnssec)
{
	static const char *const names[] = {"insecure", "secure", "bogus"};

	return (unsigned)dnssec < 3 ? names[dnssec] : "unknown";
}

bool dns_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}
