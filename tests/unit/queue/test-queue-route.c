/* Unit tests for the queue's I/O-free routing parts: the retry schedule
   (queue-retry.c), MX order with a seeded generator and null MX
   (queue-mx.c), address order, the transport map (queue-transport.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "queue/queue-mx.h"
#include "queue/queue-retry.h"
#include "queue/queue-transport.h"

static void test_retry_schedule(void **state)
{
	struct queue_retry_policy p = {300, 4000, 5 * 86400};
	int64_t next;

	assert_int_equal(queue_retry_delay(&p, 1), 300);
	assert_int_equal(queue_retry_delay(&p, 2), 600);
	assert_int_equal(queue_retry_delay(&p, 3), 1200);
	assert_int_equal(queue_retry_delay(&p, 4), 2400);
	assert_int_equal(queue_retry_delay(&p, 5), 4000);
	assert_int_equal(queue_retry_delay(&p, 1000), 4000);
	assert_false(queue_retry_expired(&p, 1000, 1000, 1, &next));
	assert_int_equal(next, 1300);
	/* the last try comes at expiry, then it expires */
	assert_false(queue_retry_expired(&p, 0, 5 * 86400 - 10, 40, &next));
	assert_int_equal(next, 5 * 86400);
	assert_true(queue_retry_expired(&p, 0, 5 * 86400, 41, &next));
	/* over the whole life: bounded attempts */
	int64_t t = 0;
	unsigned n = 0;

	while (!queue_retry_expired(&p, 0, t, n + 1, &next) && n < 1000) {
		assert_true(next > t);
		t = next;
		n++;
	}
	assert_true(n > 100 && n < 120);
}

static void mx(struct dns_answer *a, unsigned pref, const char *name)
{
	struct dns_rr *rr = array_push(&a->rrs);

	rr->type = DNS_TYPE_MX;
	rr->u.mx.preference = (uint16_t)pref;
	rr->u.mx.exchange = xstrdup(name);
}

static void answer_free(struct dns_answer *a)
{
	for (size_t i = 0; i < a->rrs.count; i++)
		free(a->rrs.items[i].u.mx.exchange);
	array_free(&a->rrs);
}

static void test_mx_order(void **state)
{
	struct dns_answer a = {0};
	queue_mx_hosts hosts = ARRAY_INIT;
	unsigned first_b = 0;

	mx(&a, 20, "c.test");
	mx(&a, 10, "a.test");
	mx(&a, 10, "b.test");
	mx(&a, 30, "d.test");
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t rng = seed;

		assert_int_equal(queue_mx_order(&a, &rng, &hosts), 0);
		assert_int_equal(hosts.count, 4);
		assert_int_equal(hosts.items[0].preference, 10);
		assert_int_equal(hosts.items[1].preference, 10);
		assert_string_equal(hosts.items[2].name, "c.test");
		assert_string_equal(hosts.items[3].name, "d.test");
		first_b += strcmp(hosts.items[0].name, "b.test") == 0;
		queue_mx_hosts_free(&hosts);
	}
	/* both equal hosts come first in a fair share of the orders */
	assert_true(first_b > 60 && first_b < 140);
	/* the same seed, the same order */
	uint64_t r1 = 42, r2 = 42;
	queue_mx_hosts h2 = ARRAY_INIT;

	queue_mx_order(&a, &r1, &hosts);
	queue_mx_order(&a, &r2, &h2);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(hosts.items[i].name, h2.items[i].name);
	queue_mx_hosts_free(&hosts);
	queue_mx_hosts_free(&h2);
	answer_free(&a);
}

static void test_null_mx(void **state)
{
	struct dns_answer a = {0};
	queue_mx_hosts hosts = ARRAY_INIT;
	uint64_t rng = 1;

	mx(&a, 0, "");
	assert_int_equal(queue_mx_order(&a, &rng, &hosts), 1);
	assert_int_equal(hosts.count, 0);
	/* mixed with others: the root entry is dropped */
	mx(&a, 10, "mx.test");
	assert_int_equal(queue_mx_order(&a, &rng, &hosts), 0);
	assert_int_equal(hosts.count, 1);
	queue_mx_hosts_free(&hosts);
	answer_free(&a);
}

static void test_addresses(void **state)
{
	struct dns_answer a = {.status = DNS_STATUS_OK}, aaaa = {.status = DNS_STATUS_OK};
	struct dns_rr *rr = array_push(&a.rrs);
	queue_addrs addrs = ARRAY_INIT;

	rr->type = DNS_TYPE_A;
	memcpy(rr->u.a, "\x7f\x00\x00\x02", 4);
	rr = array_push(&aaaa.rrs);
	rr->type = DNS_TYPE_AAAA;
	memset(rr->u.aaaa, 0, 16);
	rr->u.aaaa[15] = 1;
	queue_addrs_add(&addrs, &a, &aaaa, 25, false);
	assert_int_equal(addrs.count, 2);
	assert_string_equal(addrs.items[0].ip, "127.0.0.2");
	assert_string_equal(addrs.items[1].ip, "::1");
	array_clear(&addrs);
	queue_addrs_add(&addrs, &a, &aaaa, 25, true);
	assert_string_equal(addrs.items[0].ip, "::1");
	assert_string_equal(addrs.items[1].ip, "127.0.0.2");
	assert_int_equal(queue_addrs_add_literal(&addrs, "192.0.2.1", 2525), 0);
	assert_int_equal(queue_addrs_add_literal(&addrs, "mx.test", 25), -1);
	assert_int_equal(addrs.count, 3);
	array_free(&addrs);
	array_free(&a.rrs);
	array_free(&aaaa.rrs);
}

static void test_transport(void **state)
{
	const char *text = "# tests\nother.test 127.0.0.2:2525\n"
	                   "Example.NET [192.0.2.7]  # literal\r\n\nexample.org mx.example.org\n"
	                   "v6.test [::1]:26\n";
	struct queue_transport *t;
	const struct queue_route *r;
	const char *error;
	size_t line;

	assert_int_equal(queue_transport_parse(text, strlen(text), &t, &line, &error), 0);
	r = queue_transport_lookup(t, "OTHER.test");
	assert_non_null(r);
	assert_string_equal(r->host, "127.0.0.2");
	assert_int_equal(r->port, 2525);
	r = queue_transport_lookup(t, "example.net");
	assert_string_equal(r->host, "192.0.2.7");
	assert_int_equal(r->port, 0);
	assert_string_equal(queue_transport_lookup(t, "example.org")->host, "mx.example.org");
	assert_string_equal(queue_transport_lookup(t, "v6.test")->host, "::1");
	assert_int_equal(queue_transport_lookup(t, "v6.test")->port, 26);
	assert_null(queue_transport_lookup(t, "else.test"));
	queue_transport_free(&t);
	/* "*": every domain no line names (a smarthost) */
	text = "other.test 127.0.0.2\n* relay.test:587\n";
	assert_int_equal(queue_transport_parse(text, strlen(text), &t, &line, &error), 0);
	assert_string_equal(queue_transport_lookup(t, "else.test")->host, "relay.test");
	assert_int_equal(queue_transport_lookup(t, "else.test")->port, 587);
	assert_string_equal(queue_transport_lookup(t, "other.test")->host, "127.0.0.2");
	queue_transport_free(&t);

	static const char *const bad[] = {"a.test\n",          "a.test b c\n",
	                                  "a.test host:0\n",   "a.test host:99999\n",
	                                  "a.test [1.2.3.4\n", "a.test :25\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(queue_transport_parse(bad[i], strlen(bad[i]), &t, &line, &error),
		                 -1);
		assert_int_equal(line, 1);
	}
}

static void test_auth_file(void **state)
{
	const char *text =
	    "# credentials\nrelay.test alice s3cret\n\nRelay2.test bob pass with spaces\r\n";
	queue_auths auths;
	const char *error;
	size_t line;

	assert_int_equal(queue_auth_parse(text, strlen(text), &auths, &line, &error), 0);
	assert_int_equal(auths.count, 2);
	assert_string_equal(queue_auth_lookup(&auths, "RELAY.test")->password, "s3cret");
	assert_string_equal(queue_auth_lookup(&auths, "relay2.test")->user, "bob");
	assert_string_equal(queue_auth_lookup(&auths, "relay2.test")->password, "pass with spaces");
	assert_null(queue_auth_lookup(&auths, "other.test"));
	queue_auths_free(&auths);
	text = "relay.test alice s3cret\nrelay.test alice\n";
	assert_int_equal(queue_auth_parse(text, strlen(text), &auths, &line, &error), -1);
	assert_int_equal(line, 2);
	assert_int_equal(auths.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_schedule), cmocka_unit_test(test_mx_order),
	    cmocka_unit_test(test_null_mx),        cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_transport),      cmocka_unit_test(test_auth_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
