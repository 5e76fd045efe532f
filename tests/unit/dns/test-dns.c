/* Unit tests for src/dns: the zone table, the wire-format parser, and the
   resolver answering from a zone file on a real libevent loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dns/dns-packet.h"
#include "dns/dns-resolver.h"
#include "dns/dns-zone.h"

static const char zone_text[] = "; test zone\n"
                                "example.com.  3600 IN TXT \"v=spf1 \" \"mx -all\"\n"
                                "example.com   MX 10 mail.example.com.\n"
                                "example.com   MX 20 backup.example.com\n"
                                "Mail.Example.COM A 192.0.2.1\n"
                                "mail.example.com AAAA 2001:db8::1\n"
                                "alias.example.com CNAME mail.example.com\n"
                                "loop1.example.com CNAME loop2.example.com\n"
                                "loop2.example.com CNAME loop1.example.com\n"
                                "esc.example.com TXT \"a\\\"b\\\\c\\032d\\200\"\n"
                                "1.2.0.192.in-addr.arpa PTR mail.example.com\n"
                                "_25._tcp.mail.example.com TLSA 3 1 1 0a0B ff\n"
                                "slow.example.com TIMEOUT\n"
                                "slow.example.com A 192.0.2.9\n"
                                "broken.example.com SERVFAIL\n"
                                "deep.sub.example.org A 192.0.2.2\n"
                                "null.example.com MX 0 .\n";

static struct dns_zone *load_zone(void)
{
	struct dns_zone *zone = dns_zone_new();
	const char *p = zone_text, *error;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		if (dns_zone_add_line(zone, p, (size_t)(nl - p), &error) < 0)
			fail_msg("%.*s: %s", (int)(nl - p), p, error);
		p = nl + 1;
	}
	return zone;
}

static void test_zone_lookup(void **state)
{
	struct dns_zone *zone = load_zone();
	struct dns_answer *a;

	a = dns_zone_lookup(zone, "EXAMPLE.com.", DNS_TYPE_TXT);
	assert_int_equal(a->status, DNS_STATUS_OK);
	assert_int_equal(a->rrs.count, 1);
	assert_string_equal(a->rrs.items[0].u.txt.data, "v=spf1 mx -all");
	dns_answer_free(&a);
	assert_null(a);

	a = dns_zone_lookup(zone, "example.com", DNS_TYPE_MX);
	assert_int_equal(a->rrs.count, 2);
	assert_int_equal(a->rrs.items[0].u.mx.preference, 10);
	assert_string_equal(a->rrs.items[0].u.mx.exchange, "mail.example.com");
	dns_answer_free(&a);

	a = dns_zone_lookup(zone, "alias.example.com", DNS_TYPE_A);
	assert_int_equal(a->status, DNS_STATUS_OK);
	assert_memory_equal(a->rrs.items[0].u.a, "\xc0\x00\x02\x01", 4);
	dns_answer_free(&a);

	a = dns_zone_lookup(zone, "esc.example.com", DNS_TYPE_TXT);
	assert_int_equal(a->rrs.items[0].u.txt.len, 8);
	assert_memory_equal(a->rrs.items[0].u.txt.data, "a\"b\\c d\xc8", 8);
	dns_answer_free(&a);

	a = dns_zone_lookup(zone, "_25._tcp.mail.example.com", DNS_TYPE_TLSA);
	assert_int_equal(a->rrs.items[0].u.tlsa.usage, 3);
	assert_int_equal(a->rrs.items[0].u.tlsa.len, 3);
	assert_memory_equal(a->rrs.items[0].u.tlsa.data, "\x0a\x0b\xff", 3);
	dns_answer_free(&a);

	a = dns_zone_lookup(zone, "null.example.com", DNS_TYPE_MX);
	assert_string_equal(a->rrs.items[0].u.mx.exchange, "");
	dns_answer_free(&a);
	dns_zone_free(&zone);
	assert_null(zone);
}

static void test_zone_status(void **state)
{
	static const struct {
		const char *name;
		enum dns_type type;
		enum dns_status status;
	} cases[] = {
	    {"nowhere.example.com", DNS_TYPE_A, DNS_STATUS_NXDOMAIN},
	    {"mail.example.com", DNS_TYPE_TXT, DNS_STATUS_NODATA},
	    {"sub.example.org", DNS_TYPE_A, DNS_STATUS_NODATA}, /* empty non-terminal */
	    {"loop1.example.com", DNS_TYPE_A, DNS_STATUS_TEMPFAIL},
	    {"slow.example.com", DNS_TYPE_TXT, DNS_STATUS_TIMEOUT},
	    {"slow.example.com", DNS_TYPE_A, DNS_STATUS_OK},
	    {"broken.example.com", DNS_TYPE_MX, DNS_STATUS_TEMPFAIL},
	    {"bad..name", DNS_TYPE_A, DNS_STATUS_NXDOMAIN},
	};
	struct dns_zone *zone = load_zone();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_answer *a = dns_zone_lookup(zone, cases[i].name, cases[i].type);
		if (a->status != cases[i].status)
			fail_msg("%s: %s", cases[i].name, dns_status_name(a->status));
		dns_answer_free(&a);
	}
	dns_zone_free(&zone);
}

static void test_zone_bad_lines(void **state)
{
	static const char *const bad[] = {
	    "example.com",
	    "example.com A",
	    "example.com A 1.2.3",
	    "example.com AAAA 1.2.3.4",
	    "example.com MX mail.example.com",
	    "example.com MX 70000 mail.example.com",
	    "example.com TXT \"unterminated",
	    "example.com TXT \"bad \\999 escape\"",
	    "example.com TXT",
	    "example.com HINFO a b",
	    "example.com TIMEOUT now",
	    "a..b A 1.2.3.4",
	    "example.com TLSA 3 1 1 abc",
	    "example.com CNAME a b",
	};
	struct dns_zone *zone = dns_zone_new();
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dns_zone_add_line(zone, bad[i], strlen(bad[i]), &error) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(dns_zone_add_line(zone, "   ; comment", 12, &error), 0);
	assert_int_equal(dns_zone_add_line(zone, "# comment", 9, &error), 0);
	assert_int_equal(dns_zone_add_line(zone, "", 0, &error), 0);
	assert_int_equal(dns_zone_count(zone), 0);
	dns_zone_free(&zone);
}

/* A response to a TXT/MX query with name compression. */
static void test_packet_parse(void **state)
{
	uint8_t pkt[512];
	int len = dns_packet_build_query("example.com", DNS_TYPE_MX, 7, pkt, sizeof(pkt));
	struct dns_answer *a;
	const char *error;

	assert_true(len > 12);
	pkt[2] |= 0x80; /* QR */
	pkt[7] = 2;     /* ANCOUNT */
	/* example.com MX 10 mail.example.com, with pointers to offset 12. */
	static const uint8_t rr1[] = {0xc0, 12, 0,  15, 0,   1,   0,   0,   0x0e, 0x10, 0,
	                              9,    0,  10, 4,  'm', 'a', 'i', 'l', 0xc0, 12};
	/* a CNAME record, skipped */
	static const uint8_t rr2[] = {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12};
	memcpy(pkt + len, rr1, sizeof(rr1));
	memcpy(pkt + len + sizeof(rr1), rr2, sizeof(rr2));
	size_t total = (size_t)len + sizeof(rr1) + sizeof(rr2);

	assert_int_equal(dns_packet_parse(pkt, total, DNS_TYPE_MX, &a, &error), 0);
	assert_int_equal(a->status, DNS_STATUS_OK);
	assert_int_equal(a->rrs.count, 1);
	assert_int_equal(a->rrs.items[0].ttl, 3600);
	assert_string_equal(a->rrs.items[0].u.mx.exchange, "mail.example.com");
	dns_answer_free(&a);

	assert_int_equal(dns_packet_parse(pkt, total, DNS_TYPE_A, &a, &error), 0);
	assert_int_equal(a->status, DNS_STATUS_NODATA);
	dns_answer_free(&a);

	/* Every truncation fails cleanly or parses. */
	for (size_t n = 0; n < total; n++) {
		if (dns_packet_parse(pkt, n, DNS_TYPE_MX, &a, &error) == 0)
			dns_answer_free(&a);
	}
	/* A pointer loop. */
	pkt[len] = 0xc0;
	pkt[len + 1] = (uint8_t)len;
	assert_int_equal(dns_packet_parse(pkt, total, DNS_TYPE_MX, &a, &error), -1);

	pkt[3] = 3; /* RCODE NXDOMAIN */
	assert_int_equal(dns_packet_parse(pkt, total, DNS_TYPE_MX, &a, &error), 0);
	assert_int_equal(a->status, DNS_STATUS_NXDOMAIN);
	dns_answer_free(&a);
	pkt[3] = 2; /* SERVFAIL */
	assert_int_equal(dns_packet_parse(pkt, total, DNS_TYPE_MX, &a, &error), 0);
	assert_int_equal(a->status, DNS_STATUS_TEMPFAIL);
	dns_answer_free(&a);
}

/* ---- the resolver on an event loop ---- */

struct result {
	int calls;
	enum dns_status status;
	size_t count;
};

static void on_answer(const struct dns_answer *answer, void *context)
{
	struct result *r = context;

	r->calls++;
	r->status = answer->status;
	r->count = answer->rrs.count;
}

static char *write_zone(void)
{
	char *path = strdup("/tmp/tern-test-zone-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, zone_text, strlen(zone_text)), (ssize_t)strlen(zone_text));
	close(fd);
	return path;
}

static void test_resolver_zone(void **state)
{
	char *path = write_zone();
	struct dns_resolver_settings set = {.zone_file = path, .timeout_msecs = 100};
	struct event_base *base = event_base_new();
	struct dns_resolver *resolver;
	struct result mx = {0}, nx = {0}, slow = {0}, cancelled = {0};
	char *error = NULL;

	assert_int_equal(dns_resolver_new(base, &set, &resolver, &error), 0);
	dns_lookup(resolver, "example.com", DNS_TYPE_MX, on_answer, &mx);
	dns_lookup(resolver, "nx.example.com", DNS_TYPE_A, on_answer, &nx);
	dns_lookup(resolver, "slow.example.com", DNS_TYPE_TXT, on_answer, &slow);
	struct dns_query *q =
	    dns_lookup(resolver, "example.com", DNS_TYPE_TXT, on_answer, &cancelled);
	/* Answers come from the loop, never from inside dns_lookup(). */
	assert_int_equal(mx.calls, 0);
	assert_int_equal(dns_resolver_pending(resolver), 4);
	dns_query_cancel(&q);
	assert_null(q);
	event_base_dispatch(base);
	assert_int_equal(mx.calls, 1);
	assert_int_equal(mx.status, DNS_STATUS_OK);
	assert_int_equal(mx.count, 2);
	assert_int_equal(nx.status, DNS_STATUS_NXDOMAIN);
	assert_int_equal(slow.calls, 1);
	assert_int_equal(slow.status, DNS_STATUS_TIMEOUT);
	assert_int_equal(cancelled.calls, 0);
	assert_int_equal(dns_resolver_pending(resolver), 0);

	/* Freeing with queries pending calls no callback. */
	dns_lookup(resolver, "slow.example.com", DNS_TYPE_TXT, on_answer, &slow);
	dns_resolver_free(&resolver);
	assert_null(resolver);
	event_base_dispatch(base);
	assert_int_equal(slow.calls, 1);
	event_base_free(base);
	unlink(path);
	free(path);
}

/* libunbound answers its built-in local zones (localhost.) at once, from
   inside ub_resolve_event(); the callback must still come from the loop.
   No network is needed for this. */
static void test_resolver_unbound_local_zone(void **state)
{
	struct dns_resolver_settings set = {.timeout_msecs = 2000};
	struct event_base *base = event_base_new();
	struct dns_resolver *resolver;
	struct result local = {0};
	char *error = NULL;

	assert_int_equal(dns_resolver_new(base, &set, &resolver, &error), 0);
	dns_lookup(resolver, "localhost", DNS_TYPE_A, on_answer, &local);
	assert_int_equal(local.calls, 0);
	event_base_dispatch(base);
	assert_int_equal(local.calls, 1);
	assert_int_equal(local.status, DNS_STATUS_OK);
	assert_int_equal(dns_resolver_pending(resolver), 0);
	dns_resolver_free(&resolver);
	event_base_free(base);
}

static void test_resolver_bad_zone(void **state)
{
	char path[] = "/tmp/tern-test-zone-XXXXXX";
	int fd = mkstemp(path);
	struct dns_resolver_settings set = {.zone_file = path};
	struct event_base *base = event_base_new();
	struct dns_resolver *resolver;
	char *error = NULL;

	assert_true(write(fd, "ok.example.com A 192.0.2.1\nbad A 1\n", 35) == 35);
	close(fd);
	assert_int_equal(dns_resolver_new(base, &set, &resolver, &error), -1);
	assert_non_null(strstr(error, ":2: bad record data"));
	free(error);
	unlink(path);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zone_lookup),
	    cmocka_unit_test(test_zone_status),
	    cmocka_unit_test(test_zone_bad_lines),
	    cmocka_unit_test(test_packet_parse),
	    cmocka_unit_test(test_resolver_zone),
	    cmocka_unit_test(test_resolver_bad_zone),
	    cmocka_unit_test(test_resolver_unbound_local_zone),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
