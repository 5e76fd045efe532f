/* SMTP DANE decisions from TLSA answers (RFC 7672 2.2, 3.1). */

#include "queue/dane.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

char *dane_tlsa_name(const char *mx_host)
{
	return xasprintf("_25._tcp.%s", mx_host);
}

bool dane_tlsa_usable(const struct dns_rr *rr)
{
	if (rr->type != DNS_TYPE_TLSA || rr->u.tlsa.len == 0)
		return false;
	if (rr->u.tlsa.usage != 2 && rr->u.tlsa.usage != 3)
		return false; /* 0/1 are PKIX: unusable for SMTP, 3.1.3 */
	if (rr->u.tlsa.selector > 1)
		return false;
	switch (rr->u.tlsa.matching) {
	case 0:
		return true;
	case 1:
		return rr->u.tlsa.len == 32; /* SHA2-256 */
	case 2:
		return rr->u.tlsa.len == 64; /* SHA2-512 */
	}
	return false;
}

static void records_add(struct dane_records *records, const struct dns_rr *rr)
{
	uint8_t *data = xmalloc(rr->u.tlsa.len);

	memcpy(data, rr->u.tlsa.data, rr->u.tlsa.len);
	array_append(&records->tlsa, ((struct tls_tlsa){.usage = rr->u.tlsa.usage,
	                                                .selector = rr->u.tlsa.selector,
	                                                .matching = rr->u.tlsa.matching,
	                                                .data = data,
	                                                .len = rr->u.tlsa.len}));
}

enum dane_state dane_evaluate(bool mx_secure, const struct dns_answer *tlsa,
                              struct dane_records *records_r)
{
	if (!mx_secure || tlsa == NULL)
		return DANE_NONE;
	switch (tlsa->status) {
	case DNS_STATUS_OK:
		break;
	case DNS_STATUS_NXDOMAIN:
	case DNS_STATUS_NODATA:
		/* A secure denial proves there is no DANE; an insecure one
		   leaves none either (2.2.3). */
		return DANE_NONE;
	case DNS_STATUS_TEMPFAIL:
	case DNS_STATUS_TIMEOUT:
		/* Under a secure MX and host, a TLSA lookup that fails (or is
		   bogus, which the resolver turns into TEMPFAIL) defers. */
		return DANE_TEMPFAIL;
	}
	if (tlsa->dnssec == DNS_DNSSEC_BOGUS)
		return DANE_TEMPFAIL;
	if (tlsa->dnssec != DNS_DNSSEC_SECURE)
		return DANE_NONE; /* insecure TLSA records are ignored */
	for (size_t i = 0; i < tlsa->rrs.count; i++)
		if (dane_tlsa_usable(&tlsa->rrs.items[i]))
			records_add(records_r, &tlsa->rrs.items[i]);
	return records_r->tlsa.count > 0 ? DANE_AUTH : DANE_UNUSABLE;
}

const char *dane_state_name(enum dane_state state)
{
	switch (state) {
	case DANE_AUTH:
		return "dane";
	case DANE_UNUSABLE:
		return "dane-unusable";
	case DANE_TEMPFAIL:
		return "tempfail";
	case DANE_NONE:
		break;
	}
	return "none";
}

void dane_records_clear(struct dane_records *records)
{
	for (size_t i = 0; i < records->tlsa.count; i++)
		free((void *)records->tlsa.items[i].data);
	array_free(&records->tlsa);
}
