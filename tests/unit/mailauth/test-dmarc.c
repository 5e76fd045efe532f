/* Unit tests for src/mailauth/dmarc*.c: the record parser (RFC 7489 6.3,
   6.6.3), alignment (3.1), From domains (6.6.1) and the check on a zone
   table: discovery, sp/np, pct, errors, several From domains. The
   OpenDMARC vectors run in tests/e2e/test_dmarc_conformance.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns-zone.h"
#include "mailauth/dmarc.h"

static int parse(const char *txt, struct dmarc_record **r)
{
	const char *error = NULL;
	int ret = dmarc_record_parse(txt, strlen(txt), r, &error);

	if (ret < 0)
		assert_non_null(error);
	return ret;
}

static void test_is_record(void **state)
{
	assert_true(dmarc_is_record("v=DMARC1; p=none", 16));
	assert_true(dmarc_is_record(" v = DMARC1", 11));
	assert_true(dmarc_is_record("v=DMARC1", 8));
	assert_false(dmarc_is_record("v=DMARC10; p=none", 17));
	assert_false(dmarc_is_record("V=DMARC1; p=none", 16));
	assert_false(dmarc_is_record("p=none; v=DMARC1", 16));
	assert_false(dmarc_is_record("v=spf1 -all", 11));
	assert_false(dmarc_is_record("", 0));
	assert_false(dmarc_is_record("v=DMARC", 7));
}

static void test_record_fields(void **state)
{
	struct dmarc_record *r = NULL;

	assert_int_equal(parse("v=DMARC1; p=Reject; sp=none; np=quarantine; adkim=s; aspf=s; "
	                       "pct=20; rua=mailto:a@example.com; ruf=mailto:f@example.com; "
	                       "fo=1:d; rf=iodef; ri=3600",
	                       &r),
	                 0);
	assert_int_equal(r->p, DMARC_POLICY_REJECT);
	assert_int_equal(r->sp, DMARC_POLICY_NONE);
	assert_int_equal(r->np, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r->adkim, DMARC_ALIGN_STRICT);
	assert_int_equal(r->aspf, DMARC_ALIGN_STRICT);
	assert_int_equal(r->pct, 20);
	assert_string_equal(r->rua, "mailto:a@example.com");
	assert_string_equal(r->ruf, "mailto:f@example.com");
	assert_string_equal(r->fo, "1:d");
	assert_string_equal(r->rf, "iodef");
	assert_int_equal(r->ri, 3600);
	dmarc_record_free(&r);
	assert_null(r);
	dmarc_record_free(&r);

	/* Defaults, and bad values falling back to them (6.3). */
	assert_int_equal(
	    parse("v=DMARC1;p=quarantine;adkim=x;pct=500;fo=9;rf=bob;ri=-1;foo=bar;", &r), 0);
	assert_int_equal(r->sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r->np, DMARC_POLICY_QUARANTINE);
	assert_false(r->has_sp);
	assert_int_equal(r->adkim, DMARC_ALIGN_RELAXED);
	assert_int_equal(r->pct, 100);
	assert_string_equal(r->fo, "0");
	assert_string_equal(r->rf, "afrf");
	assert_int_equal(r->ri, 86400);
	assert_null(r->rua);
	dmarc_record_free(&r);
}

static void test_record_invalid(void **state)
{
	struct dmarc_record *r = NULL;

	/* No valid p= and no rua=: no policy. */
	assert_int_equal(parse("v=DMARC1; pct=100;", &r), 1);
	assert_int_equal(parse("v=DMARC1; p=bob", &r), 1);
	assert_int_equal(parse("v=DMARC1; p=n", &r), 1);
	assert_int_equal(parse("v=DMARC1; p=none; sp=bob", &r), 1);
	assert_int_equal(parse("v=DMARC1; sp=quarantine; np=reject", &r), 1);
	assert_int_equal(parse("v=DMARC1; p=x; rua=nonsense", &r), 1);
	/* ... with a valid rua=: p=none (6.6.3). */
	assert_int_equal(parse("v=DMARC1; p=bob; rua=mailto:x@example.com", &r), 0);
	assert_int_equal(r->p, DMARC_POLICY_NONE);
	dmarc_record_free(&r);
	/* Malformed tag lists: permerror. */
	assert_int_equal(parse("v=DMARC1; p=none; reject", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=none; p=reject", &r), -1);
	assert_int_equal(parse("p=none; v=DMARC1", &r), -1);
	assert_int_equal(parse("", &r), -1);
	assert_null(r);
}

static void test_aligned(void **state)
{
	struct psl *psl = psl_new();
	const char *error;

	assert_int_equal(psl_add_rule(psl, "com", 3, &error), 0);
	assert_int_equal(psl_add_rule(psl, "co.uk", 5, &error), 0);
	assert_true(dmarc_aligned(psl, "a.b.example.com", "example.com", DMARC_ALIGN_RELAXED));
	assert_true(dmarc_aligned(psl, "x.Example.com", "y.example.COM", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned(psl, "x.example.com", "example.com", DMARC_ALIGN_STRICT));
	assert_true(dmarc_aligned(psl, "Example.com.", "example.com", DMARC_ALIGN_STRICT));
	assert_false(dmarc_aligned(psl, "a.co.uk", "b.co.uk", DMARC_ALIGN_RELAXED));
	assert_true(dmarc_aligned(psl, "m.a.co.uk", "a.co.uk", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned(psl, "oooo.com", "ooo.com", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned(psl, "com", "example.com", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned(psl, NULL, "example.com", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned(psl, "...", "...", DMARC_ALIGN_STRICT));
	assert_false(dmarc_aligned(NULL, "a.example.com", "example.com", DMARC_ALIGN_RELAXED));
	psl_free(&psl);
}

static void test_from_domains(void **state)
{
	static const char *const values[] = {
	    "Joe <joe@Joe.com>, ace@ace.com",
	    "\"Johnson, Joe <joe@joe.com>\" joe@joe.com",
	    "group: a@x.example, b@y.example.;",
	    "\"Test User\"",
	    "Again <a@X.Example.>",
	};
	char *domains[8];
	size_t count = 0;

	for (size_t i = 0; i < 5; i++)
		dmarc_from_domains(values[i], strlen(values[i]), domains, &count, 8);
	assert_int_equal(count, 4);
	assert_string_equal(domains[0], "joe.com");
	assert_string_equal(domains[1], "ace.com");
	assert_string_equal(domains[2], "x.example");
	assert_string_equal(domains[3], "y.example");
	for (size_t i = 0; i < count; i++)
		free(domains[i]);
	count = 0;
	dmarc_from_domains("a@a.example, b@b.example", 24, domains, &count, 1);
	assert_int_equal(count, 1);
	free(domains[0]);
}

/* --- the check on a zone --- */

static const char *const zone_lines[] = {
    "_dmarc.example.com TXT \"v=DMARC1; p=reject; pct=50\"",
    "_dmarc.example.com TXT \"some other text\"",
    "_dmarc.example.net TXT \"v=DMARC1; p=none; sp=quarantine; np=reject; adkim=s\"",
    "exists.example.net A 192.0.2.1",
    "_dmarc.multi.example TXT \"v=DMARC1; p=reject\"",
    "_dmarc.multi.example TXT \"v=DMARC1; p=none\"",
    "_dmarc.bad.example TXT \"v=DMARC1; p=none; reject\"",
    "_dmarc.nop.example TXT \"v=DMARC1; sp=reject\"",
    "_dmarc.slow.example TIMEOUT",
    "_dmarc.org.example TXT \"v=DMARC1; p=quarantine\"",
    "_dmarc.sub.org.example TXT \"v=DMARC1; p=none\"",
    "_dmarc.strict.example TXT \"v=DMARC1; p=reject; aspf=s\"",
};

struct fixture {
	struct dns_zone *zone;
	struct psl *psl;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *error;

	f->zone = dns_zone_new();
	for (size_t i = 0; i < sizeof(zone_lines) / sizeof(zone_lines[0]); i++)
		assert_int_equal(
		    dns_zone_add_line(f->zone, zone_lines[i], strlen(zone_lines[i]), &error), 0);
	f->psl = psl_new();
	assert_int_equal(psl_add_rule(f->psl, "com", 3, &error), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_zone_free(&f->zone);
	psl_free(&f->psl);
	free(f);
	return 0;
}

struct run {
	const char *from[3];
	const char *spf_domain;
	enum spf_result spf;
	const char *dkim[2];
	unsigned sample;
};

/* Run a check to its end, answering from the zone, one query at a time. */
static struct dmarc_check *run(const struct fixture *f, const struct run *r)
{
	struct dmarc_check_params p = {.psl = f->psl,
	                               .from_domains = r->from,
	                               .spf_result = r->spf,
	                               .spf_domain = r->spf_domain,
	                               .dkim_domains = r->dkim,
	                               .sample = r->sample};
	struct dmarc_check *check;
	const char *name;
	enum dns_type type;
	unsigned queries = 0;

	while (p.from_count < 3 && r->from[p.from_count] != NULL)
		p.from_count++;
	while (p.dkim_count < 2 && r->dkim[p.dkim_count] != NULL)
		p.dkim_count++;
	check = dmarc_check_new(&p);
	while (dmarc_check_run(check, &name, &type) == 1) {
		struct dns_answer *a = dns_zone_lookup(f->zone, name, type);

		assert_true(++queries <= DMARC_MAX_QUERIES);
		dmarc_check_answer(check, name, type, a);
		dns_answer_free(&a);
	}
	return check;
}

static void expect(const struct fixture *f, const struct run *r, enum dmarc_result result,
                   enum dmarc_policy policy, enum dmarc_policy disposition, const char *from)
{
	struct dmarc_check *c = run(f, r);

	if (dmarc_check_result(c) != result || dmarc_check_policy(c) != policy ||
	    dmarc_check_disposition(c) != disposition ||
	    strcmp(dmarc_check_from_domain(c), from) != 0)
		fail_msg("from %s: got %s/%s/%s/%s (%s)", r->from[0] ? r->from[0] : "-",
		         dmarc_result_name(dmarc_check_result(c)),
		         dmarc_policy_name(dmarc_check_policy(c)),
		         dmarc_policy_name(dmarc_check_disposition(c)), dmarc_check_from_domain(c),
		         dmarc_check_reason(c));
	dmarc_check_free(&c);
	assert_null(c);
}

static void test_check_basic(void **state)
{
	const struct fixture *f = *state;
	const enum dmarc_policy N = DMARC_POLICY_NONE, Q = DMARC_POLICY_QUARANTINE,
	                        R = DMARC_POLICY_REJECT;

	/* SPF aligned, relaxed. */
	expect(f,
	       &(struct run){.from = {"example.com"},
	                     .spf_domain = "bounce.example.com",
	                     .spf = SPF_RESULT_PASS},
	       DMARC_RESULT_PASS, R, N, "example.com");
	/* SPF not passing, DKIM aligned. */
	expect(f,
	       &(struct run){.from = {"example.com"},
	                     .spf_domain = "example.com",
	                     .spf = SPF_RESULT_SOFTFAIL,
	                     .dkim = {"a.example.com"}},
	       DMARC_RESULT_PASS, R, N, "example.com");
	/* Nothing aligned; pct=50: sample 10 applies reject, 70 quarantine. */
	expect(f,
	       &(struct run){.from = {"example.com"},
	                     .spf_domain = "other.com",
	                     .spf = SPF_RESULT_PASS,
	                     .dkim = {"other.com"},
	                     .sample = 10},
	       DMARC_RESULT_FAIL, R, R, "example.com");
	expect(f,
	       &(struct run){.from = {"example.com"},
	                     .spf_domain = "other.com",
	                     .spf = SPF_RESULT_PASS,
	                     .dkim = {"other.com"},
	                     .sample = 70},
	       DMARC_RESULT_FAIL, R, Q, "example.com");
	/* Strict SPF alignment. */
	expect(f,
	       &(struct run){.from = {"strict.example"},
	                     .spf_domain = "strict.example",
	                     .spf = SPF_RESULT_PASS},
	       DMARC_RESULT_PASS, R, N, "strict.example");
	/* No record anywhere. */
	expect(f, &(struct run){.from = {"nothing.example"}}, DMARC_RESULT_NONE, N, N,
	       "nothing.example");
}

static void test_check_org(void **state)
{
	const struct fixture *f = *state;
	const enum dmarc_policy N = DMARC_POLICY_NONE, Q = DMARC_POLICY_QUARANTINE,
	                        R = DMARC_POLICY_REJECT;

	/* A subdomain that exists gets sp=, one that does not np=. */
	expect(f, &(struct run){.from = {"exists.example.net"}}, DMARC_RESULT_FAIL, Q, Q,
	       "exists.example.net");
	expect(f, &(struct run){.from = {"ghost.example.net"}}, DMARC_RESULT_FAIL, R, R,
	       "ghost.example.net");
	/* adkim=s: a DKIM d= of the org domain does not align with a subdomain. */
	expect(f,
	       &(struct run){.from = {"exists.example.net"},
	                     .spf_domain = NULL,
	                     .spf = SPF_RESULT_NONE,
	                     .dkim = {"example.net"}},
	       DMARC_RESULT_FAIL, Q, Q, "exists.example.net");
	/* The subdomain's own record wins over the org record. */
	expect(f, &(struct run){.from = {"sub.org.example"}}, DMARC_RESULT_FAIL, N, N,
	       "sub.org.example");
	expect(f, &(struct run){.from = {"a.b.org.example"}}, DMARC_RESULT_FAIL, Q, Q,
	       "a.b.org.example");
}

static void test_check_errors(void **state)
{
	const struct fixture *f = *state;
	const enum dmarc_policy N = DMARC_POLICY_NONE, R = DMARC_POLICY_REJECT;

	expect(f, &(struct run){.from = {"multi.example"}}, DMARC_RESULT_NONE, N, N,
	       "multi.example");
	expect(f, &(struct run){.from = {"bad.example"}}, DMARC_RESULT_PERMERROR, N, N,
	       "bad.example");
	expect(f, &(struct run){.from = {"nop.example"}}, DMARC_RESULT_NONE, N, N, "nop.example");
	expect(f, &(struct run){.from = {"slow.example"}}, DMARC_RESULT_TEMPERROR, N, N,
	       "slow.example");
	expect(f, &(struct run){.from = {NULL}}, DMARC_RESULT_PERMERROR, N, N, "none");
	expect(f, &(struct run){.from = {"[192.0.2.1]"}}, DMARC_RESULT_PERMERROR, N, N,
	       "[192.0.2.1]");
	/* Several From domains: the worst outcome is reported. */
	expect(f,
	       &(struct run){.from = {"org.example", "example.com"},
	                     .spf_domain = NULL,
	                     .spf = SPF_RESULT_NONE,
	                     .dkim = {"org.example"}},
	       DMARC_RESULT_FAIL, R, R, "example.com");
	expect(f,
	       &(struct run){.from = {"example.com", "nothing.example"},
	                     .spf_domain = NULL,
	                     .spf = SPF_RESULT_NONE,
	                     .dkim = {"example.com"}},
	       DMARC_RESULT_PASS, R, N, "example.com");
	expect(f, &(struct run){.from = {"slow.example", "bad.example"}}, DMARC_RESULT_TEMPERROR, N,
	       N, "slow.example");
}

static void test_names(void **state)
{
	assert_string_equal(dmarc_result_name(DMARC_RESULT_TEMPERROR), "temperror");
	assert_string_equal(dmarc_result_name(DMARC_RESULT_PERMERROR), "permerror");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_record),
	    cmocka_unit_test(test_record_fields),
	    cmocka_unit_test(test_record_invalid),
	    cmocka_unit_test(test_aligned),
	    cmocka_unit_test(test_from_domains),
	    cmocka_unit_test_setup_teardown(test_check_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_org, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_errors, setup, teardown),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("mailauth-dmarc", tests, NULL, NULL);
}
