/* Unit tests for src/mailauth/spf*.c: macro expansion (RFC 7208 7.4),
   the record parser, check_host() on a zone table, the lookup limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns-zone.h"
#include "mailauth/spf.h"

static const uint8_t ip4[4] = {192, 0, 2, 3};
static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcb, 0x01};

static void vars_rfc(struct spf_macro_vars *v, bool ipv6)
{
	*v = (struct spf_macro_vars){
	    .sender = "strong-bad@email.example.com",
	    .local_part = "strong-bad",
	    .sender_domain = "email.example.com",
	    .domain = "email.example.com",
	    .ip = ipv6 ? ip6 : ip4,
	    .ipv6 = ipv6,
	    .validated = "mx.example.org",
	    .helo = "mail.example.org",
	    .receiver = "mx.example.net",
	    .now = 1234567890,
	};
}

static void expect_expansion(const char *spec, bool ipv6, bool expl, const char *want)
{
	struct spf_macro_vars v;
	struct buf out = BUF_INIT;
	const char *error = NULL;

	vars_rfc(&v, ipv6);
	if (spf_macro_expand(spec, strlen(spec), &v, expl, &out, &error) != 0)
		fail_msg("%s: %s", spec, error != NULL ? error : "pending");
	if (strcmp(buf_cstr(&out), want) != 0)
		fail_msg("%s: got %s, want %s", spec, buf_cstr(&out), want);
	buf_free(&out);
}

/* RFC 7208 section 7.4, in order. */
static void test_macro_rfc_examples(void **state)
{
	static const struct {
		const char *spec, *want;
	} cases[] = {
	    {"%{s}", "strong-bad@email.example.com"},
	    {"%{o}", "email.example.com"},
	    {"%{d}", "email.example.com"},
	    {"%{d4}", "email.example.com"},
	    {"%{d3}", "email.example.com"},
	    {"%{d2}", "example.com"},
	    {"%{d1}", "com"},
	    {"%{dr}", "com.example.email"},
	    {"%{d2r}", "example.email"},
	    {"%{l}", "strong-bad"},
	    {"%{l-}", "strong.bad"},
	    {"%{lr}", "strong-bad"},
	    {"%{lr-}", "bad.strong"},
	    {"%{l1r-}", "strong"},
	    {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
	    {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
	    {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	    {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	    {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_expansion(cases[i].spec, false, false, cases[i].want);
	/* The IPv6 example. The RFC prints lower-case nibbles; Tern prints
	   upper case as the OpenSPF suite expects (DNS ignores case). */
	expect_expansion("%{ir}.%{v}._spf.%{d2}", true, false,
	                 "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf."
	                 "example.com");
}

static void test_macro_other(void **state)
{
	expect_expansion("a%%b%_c%-d", false, false, "a%b c%20d");
	expect_expansion("%{p}", false, false, "mx.example.org");
	expect_expansion("%{h}", false, false, "mail.example.org");
	expect_expansion("%{S}", false, false, "strong-bad%40email.example.com");
	expect_expansion("%{d200}", false, false, "email.example.com");
	expect_expansion("%{l+-}", false, false, "strong.bad");
	expect_expansion("%{c} at %{r} %{t}", false, true,
	                 "192.0.2.3 at mx.example.net 1234567890");
	expect_expansion("%{c}", true, true, "2001:db8::cb01");
}

static void test_macro_errors(void **state)
{
	static const char *const bad[] = {"%",    "%{",   "%{x}", "%{d0}", "%{d",     "%a",
	                                  "%{c}", "%{r}", "%{t}", "a b",   "%{d2rr}", "%{dx}"};
	struct spf_macro_vars v;
	struct buf out = BUF_INIT;
	const char *error;

	vars_rfc(&v, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spf_macro_expand(bad[i], strlen(bad[i]), &v, false, &out, &error) != -1)
			fail_msg("accepted %s", bad[i]);
	}
	/* p not known yet: the caller must look it up. */
	v.validated = NULL;
	assert_int_equal(spf_macro_expand("x.%{p}", 6, &v, false, &out, &error), 1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_record_parse(void **state)
{
	static const char *const good[] = {
	    "v=spf1",
	    "v=spf1 -all",
	    "V=SPF1 +All",
	    "v=spf1  a  mx   ",
	    "v=spf1 a/24 a//64 a/24//64 a:example.com/24//64 mx:%{d}",
	    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip4:10.0.0.1",
	    "v=spf1 include:_spf.example.com exists:%{ir}.%{l1r+-}._spf.%{d} ~all",
	    "v=spf1 ptr ptr:example.com ?all redirect=_spf.example.com",
	    "v=spf1 exp=explain.%{d} -all",
	    "v=spf1 foo.bar-baz_x=anything:at/all -all",
	    "v=spf1 a:foo:bar/baz.example.com",
	};
	static const char *const bad[] = {
	    "v=spf10",
	    "v=spf1 moo",
	    "v=spf1 -all.",
	    "v=spf1 -all:foo",
	    "v=spf1 -all/8",
	    "v=spf1 a:",
	    "v=spf1 include",
	    "v=spf1 ptr/0",
	    "v=spf1 ip4:1.2.3",
	    "v=spf1 ip4:1.2.3.4/33",
	    "v=spf1 ip6:::1/129",
	    "v=spf1 a/024",
	    "v=spf1 a:examplecom",
	    "v=spf1 a:example.123",
	    "v=spf1 redirect=a.example.com redirect=b.example.com",
	    "v=spf1 exp=a.example.com exp=b.example.com",
	    "v=spf1 redirect=",
	    "v=spf1 =foo",
	    "v=spf1 1x=foo",
	    "v=spf1 x=%{z}",
	    "v=spf1 a:%{x}.example.com",
	    "v=spf1 a\tmx",
	    "v=spf1 \x80"
	    "a",
	};
	struct spf_record *rec;
	const char *error;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (spf_record_parse(good[i], strlen(good[i]), &rec, &error) < 0)
			fail_msg("rejected %s: %s", good[i], error);
		spf_record_free(&rec);
		assert_null(rec);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spf_record_parse(bad[i], strlen(bad[i]), &rec, &error) == 0)
			fail_msg("accepted %s", bad[i]);
	}
}

static void test_record_fields(void **state)
{
	const char *txt = "v=spf1 -ip4:192.0.2.0/24 ~a:example.com/28//64 ?mx redirect=x.example";
	struct spf_record *rec;
	const char *error;

	assert_int_equal(spf_record_parse(txt, strlen(txt), &rec, &error), 0);
	assert_int_equal(rec->mechanisms.count, 3);
	assert_int_equal(rec->mechanisms.items[0].type, SPF_MECH_IP4);
	assert_int_equal(rec->mechanisms.items[0].qualifier, SPF_RESULT_FAIL);
	assert_int_equal(rec->mechanisms.items[0].cidr4, 24);
	assert_memory_equal(rec->mechanisms.items[0].addr, ip4, 3);
	assert_int_equal(rec->mechanisms.items[1].qualifier, SPF_RESULT_SOFTFAIL);
	assert_string_equal(rec->mechanisms.items[1].domain_spec, "example.com");
	assert_int_equal(rec->mechanisms.items[1].cidr4, 28);
	assert_int_equal(rec->mechanisms.items[1].cidr6, 64);
	assert_int_equal(rec->mechanisms.items[2].qualifier, SPF_RESULT_NEUTRAL);
	assert_null(rec->mechanisms.items[2].domain_spec);
	assert_string_equal(rec->redirect, "x.example");
	spf_record_free(&rec);
}

/* Every prefix of a record parses or fails cleanly (the record arrives
   whole from DNS; this is the byte-at-a-time check of the parser). */
static void test_record_prefixes(void **state)
{
	const char *txt = "v=spf1 a:%{d2}.example.com/24//64 ip6:2001:db8::/32 exp=%{l}.x.org -all";
	struct spf_record *rec;
	const char *error;

	for (size_t n = 0; n <= strlen(txt); n++) {
		char *copy = strndup(txt, n);
		if (spf_record_parse(copy, n, &rec, &error) == 0)
			spf_record_free(&rec);
		free(copy);
	}
}

/* ---- check_host() on a zone ---- */

static struct dns_zone *zone_of(const char *const *lines)
{
	struct dns_zone *zone = dns_zone_new();
	const char *error;

	for (size_t i = 0; lines[i] != NULL; i++) {
		if (dns_zone_add_line(zone, lines[i], strlen(lines[i]), &error) < 0)
			fail_msg("%s: %s", lines[i], error);
	}
	return zone;
}

static enum spf_result check(const struct dns_zone *zone, const char *ip, const char *from,
                             struct spf_check **check_r)
{
	struct spf_check_params params = {.ip = ip, .helo = "helo.example.org", .mail_from = from};
	struct spf_check *c;
	const char *error, *name;
	enum dns_type type;
	int rounds = 0;

	assert_int_equal(spf_check_new(&params, &c, &error), 0);
	while (spf_check_run(c, &name, &type) == 1) {
		struct dns_answer *a = dns_zone_lookup(zone, name, type);
		spf_check_answer(c, name, type, a);
		dns_answer_free(&a);
		assert_true(++rounds < 500);
	}
	enum spf_result r = spf_check_result(c);
	if (check_r != NULL)
		*check_r = c;
	else
		spf_check_free(&c);
	return r;
}

static void test_check_basic(void **state)
{
	static const char *const lines[] = {
	    "example.com TXT \"v=spf1 ip4:192.0.2.0/24 mx include:inc.example.com \" \"-all "
	    "exp=why.example.com\"",
	    "example.com MX 10 mx.example.com",
	    "mx.example.com A 198.51.100.1",
	    "mx.example.com AAAA 2001:db8::25",
	    "inc.example.com TXT \"v=spf1 ip4:203.0.113.7 -all\"",
	    "why.example.com TXT \"%{i} is not allowed by %{d}\"",
	    "slow.example.com TIMEOUT",
	    "two.example.com TXT \"v=spf1 -all\"",
	    "two.example.com TXT \"v=spf1 +all\"",
	    NULL,
	};
	struct dns_zone *zone = zone_of(lines);
	struct spf_check *c;

	assert_int_equal(check(zone, "192.0.2.9", "a@example.com", NULL), SPF_RESULT_PASS);
	assert_int_equal(check(zone, "198.51.100.1", "a@example.com", NULL), SPF_RESULT_PASS);
	assert_int_equal(check(zone, "2001:db8::25", "a@example.com", NULL), SPF_RESULT_PASS);
	assert_int_equal(check(zone, "203.0.113.7", "a@example.com", NULL), SPF_RESULT_PASS);
	assert_int_equal(check(zone, "::ffff:192.0.2.1", "a@example.com", NULL), SPF_RESULT_PASS);
	assert_int_equal(check(zone, "203.0.113.8", "a@example.com", &c), SPF_RESULT_FAIL);
	assert_string_equal(spf_check_explanation(c), "203.0.113.8 is not allowed by example.com");
	spf_check_free(&c);
	assert_int_equal(check(zone, "192.0.2.1", "a@nowhere.example.com", NULL), SPF_RESULT_NONE);
	assert_int_equal(check(zone, "192.0.2.1", "a@slow.example.com", NULL),
	                 SPF_RESULT_TEMPERROR);
	assert_int_equal(check(zone, "192.0.2.1", "a@two.example.com", NULL), SPF_RESULT_PERMERROR);
	assert_int_equal(check(zone, "192.0.2.1", "a@localhost", NULL), SPF_RESULT_NONE);
	/* Null sender: the HELO identity. */
	assert_int_equal(check(zone, "192.0.2.1", "", &c), SPF_RESULT_NONE);
	assert_string_equal(spf_check_domain(c), "helo.example.org");
	spf_check_free(&c);
	dns_zone_free(&zone);
}

static void test_lookup_limit(void **state)
{
	static const char *const lines[] = {
	    "ten.example.com TXT \"v=spf1 a a a a a a a a a a -all\"",
	    "eleven.example.com TXT \"v=spf1 a a a a a a a a a a a -all\"",
	    "late.example.com TXT \"v=spf1 ip4:192.0.2.1 a a a a a a a a a a a -all\"",
	    "loop.example.com TXT \"v=spf1 include:loop.example.com -all\"",
	    "ten.example.com A 198.51.100.1",
	    "eleven.example.com A 198.51.100.1",
	    "late.example.com A 198.51.100.1",
	    NULL,
	};
	struct dns_zone *zone = zone_of(lines);
	struct spf_check *c;

	assert_int_equal(check(zone, "192.0.2.1", "a@ten.example.com", &c), SPF_RESULT_FAIL);
	assert_int_equal(spf_check_lookup_count(c), 10);
	spf_check_free(&c);
	assert_int_equal(check(zone, "192.0.2.1", "a@eleven.example.com", NULL),
	                 SPF_RESULT_PERMERROR);
	/* The limit applies to what is evaluated: a match before it wins. */
	assert_int_equal(check(zone, "192.0.2.1", "a@late.example.com", NULL), SPF_RESULT_PASS);
	assert_int_equal(check(zone, "192.0.2.1", "a@loop.example.com", NULL),
	                 SPF_RESULT_PERMERROR);
	dns_zone_free(&zone);
}

static void test_void_limit(void **state)
{
	static const char *const lines[] = {
	    "two.example.com TXT \"v=spf1 a:nx1.example.com a:nx2.example.com -all\"",
	    "three.example.com TXT \"v=spf1 a:nx1.example.com mx:nodata.example.com "
	    "exists:nx3.example.com -all\"",
	    "nodata.example.com TXT \"not spf\"",
	    NULL,
	};
	struct dns_zone *zone = zone_of(lines);
	struct spf_check *c;

	assert_int_equal(check(zone, "192.0.2.1", "a@two.example.com", &c), SPF_RESULT_FAIL);
	assert_int_equal(spf_check_void_count(c), 2);
	spf_check_free(&c);
	assert_int_equal(check(zone, "192.0.2.1", "a@three.example.com", &c), SPF_RESULT_PERMERROR);
	assert_int_equal(spf_check_void_count(c), 3);
	spf_check_free(&c);
	dns_zone_free(&zone);
}

static void test_mx_limit(void **state)
{
	const char *head[] = {"many.example.com TXT \"v=spf1 mx -all\"", NULL};
	struct dns_zone *zone = zone_of(head);
	const char *error;
	char line[128];

	for (int i = 0; i < 11; i++) {
		snprintf(line, sizeof(line), "many.example.com MX %d mx%d.example.com", i, i);
		assert_int_equal(dns_zone_add_line(zone, line, strlen(line), &error), 0);
	}
	assert_int_equal(check(zone, "192.0.2.1", "a@many.example.com", NULL),
	                 SPF_RESULT_PERMERROR);
	dns_zone_free(&zone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_macro_rfc_examples), cmocka_unit_test(test_macro_other),
	    cmocka_unit_test(test_macro_errors),       cmocka_unit_test(test_record_parse),
	    cmocka_unit_test(test_record_fields),      cmocka_unit_test(test_record_prefixes),
	    cmocka_unit_test(test_check_basic),        cmocka_unit_test(test_lookup_limit),
	    cmocka_unit_test(test_void_limit),         cmocka_unit_test(test_mx_limit),
	};

	return cmocka_run_group_tests_name("mailauth-spf", tests, NULL, NULL);
}
