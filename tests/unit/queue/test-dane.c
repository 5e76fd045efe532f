/* Unit tests for src/queue/dane.c: which TLSA answers make DANE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue/dane.h"

static uint8_t digest32[32] = {1, 2, 3};
static uint8_t digest64[64] = {4, 5, 6};

static struct dns_rr tlsa(uint8_t usage, uint8_t selector, uint8_t matching, uint8_t *data,
                          size_t len)
{
	struct dns_rr rr = {.type = DNS_TYPE_TLSA};

	rr.u.tlsa.usage = usage;
	rr.u.tlsa.selector = selector;
	rr.u.tlsa.matching = matching;
	rr.u.tlsa.data = data;
	rr.u.tlsa.len = len;
	return rr;
}

static void test_usable(void **state)
{
	struct dns_rr rr;

	rr = tlsa(3, 1, 1, digest32, 32);
	assert_true(dane_tlsa_usable(&rr));
	rr = tlsa(2, 0, 2, digest64, 64);
	assert_true(dane_tlsa_usable(&rr));
	rr = tlsa(3, 0, 0, digest64, 64); /* a whole "certificate" */
	assert_true(dane_tlsa_usable(&rr));
	rr = tlsa(1, 1, 1, digest32, 32); /* PKIX-EE: RFC 7672 3.1.3 */
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(0, 1, 1, digest32, 32); /* PKIX-TA */
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(4, 1, 1, digest32, 32);
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(3, 2, 1, digest32, 32);
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(3, 1, 3, digest32, 32);
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(3, 1, 1, digest32, 31); /* wrong digest length */
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(3, 1, 2, digest32, 32);
	assert_false(dane_tlsa_usable(&rr));
	rr = tlsa(3, 1, 0, digest32, 0);
	assert_false(dane_tlsa_usable(&rr));
}

static struct dns_answer *answer(enum dns_status status, enum dns_dnssec sec)
{
	struct dns_answer *a = dns_answer_new(status);

	a->dnssec = sec;
	return a;
}

/* The table of RFC 7672 2.2: MX security x TLSA answer. */
static void test_evaluate(void **state)
{
	struct dane_records rec = {0};
	struct dns_answer *a;
	struct dns_rr good = tlsa(3, 1, 1, digest32, 32), pkix = tlsa(1, 1, 1, digest32, 32);

	assert_int_equal(dane_evaluate(true, NULL, &rec), DANE_NONE);

	a = answer(DNS_STATUS_OK, DNS_DNSSEC_SECURE);
	dns_answer_add(a, &good);
	dns_answer_add(a, &pkix);
	assert_int_equal(dane_evaluate(false, a, &rec), DANE_NONE); /* insecure MX */
	assert_int_equal(rec.tlsa.count, 0);
	assert_int_equal(dane_evaluate(true, a, &rec), DANE_AUTH);
	assert_int_equal(rec.tlsa.count, 1); /* the PKIX one left out */
	assert_int_equal(rec.tlsa.items[0].usage, 3);
	assert_int_equal(rec.tlsa.items[0].len, 32);
	assert_memory_equal(rec.tlsa.items[0].data, digest32, 32);
	dane_records_clear(&rec);
	assert_int_equal(rec.tlsa.count, 0);
	a->dnssec = DNS_DNSSEC_INSECURE; /* insecure TLSA: not DANE */
	assert_int_equal(dane_evaluate(true, a, &rec), DANE_NONE);
	a->dnssec = DNS_DNSSEC_BOGUS;
	assert_int_equal(dane_evaluate(true, a, &rec), DANE_TEMPFAIL);
	dns_answer_free(&a);

	a = answer(DNS_STATUS_OK, DNS_DNSSEC_SECURE);
	dns_answer_add(a, &pkix);
	assert_int_equal(dane_evaluate(true, a, &rec), DANE_UNUSABLE);
	assert_int_equal(rec.tlsa.count, 0);
	dns_answer_free(&a);

	static const struct {
		enum dns_status status;
		enum dane_state want;
	} rows[] = {
	    {DNS_STATUS_NXDOMAIN, DANE_NONE},
	    {DNS_STATUS_NODATA, DANE_NONE},
	    {DNS_STATUS_TEMPFAIL, DANE_TEMPFAIL},
	    {DNS_STATUS_TIMEOUT, DANE_TEMPFAIL},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		a = answer(rows[i].status, DNS_DNSSEC_SECURE);
		assert_int_equal(dane_evaluate(true, a, &rec), rows[i].want);
		/* Under an insecure MX nothing of the TLSA answer matters. */
		assert_int_equal(dane_evaluate(false, a, &rec), DANE_NONE);
		dns_answer_free(&a);
	}
}

static void test_names(void **state)
{
	char *n = dane_tlsa_name("mx.example.com");

	assert_string_equal(n, "_25._tcp.mx.example.com");
	free(n);
	assert_string_equal(dane_state_name(DANE_AUTH), "dane");
	assert_string_equal(dane_state_name(DANE_TEMPFAIL), "tempfail");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usable),
	    cmocka_unit_test(test_evaluate),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
