/* Unit tests for the verdict of src/smtp/smtp-mailauth.c (what happens to
   a message given its DMARC outcome and the configured actions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp-mailauth.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct decide_case {
	struct mailauth_facts facts;
	enum dmarc_reject_action on_reject;
	enum dmarc_quarantine_action on_quarantine;
	enum smtp_auth_action expect;
};

#define FAIL(dis) true, DMARC_RESULT_FAIL, DMARC_POLICY_##dis
#define RESULT(r) true, DMARC_RESULT_##r, DMARC_POLICY_NONE
#define R(x)      DMARC_REJECT_##x
#define Q(x)      DMARC_QUARANTINE_##x
#define A(x)      SMTP_AUTH_##x

static const struct decide_case cases[] = {
    /* not checked (DMARC off): always delivered */
    {{false, DMARC_RESULT_FAIL, DMARC_POLICY_REJECT, false, false}, R(REJECT), Q(JUNK), A(DELIVER)},
    {{RESULT(PASS), false, true}, R(REJECT), Q(JUNK), A(DELIVER)},
    {{RESULT(NONE), false, false}, R(REJECT), Q(JUNK), A(DELIVER)},
    {{RESULT(PERMERROR), false, false}, R(REJECT), Q(JUNK), A(DELIVER)},
    /* p=reject */
    {{FAIL(REJECT), false, false}, R(REJECT), Q(JUNK), A(REJECT)},
    {{FAIL(REJECT), true, false}, R(REJECT), Q(JUNK), A(DEFER)},
    {{FAIL(REJECT), false, false}, R(QUARANTINE), Q(JUNK), A(JUNK)},
    {{FAIL(REJECT), false, false}, R(QUARANTINE), Q(NONE), A(DELIVER)},
    {{FAIL(REJECT), true, false}, R(NONE), Q(JUNK), A(DELIVER)},
    /* p=quarantine (or reject sampled down by pct=) */
    {{FAIL(QUARANTINE), false, false}, R(REJECT), Q(JUNK), A(JUNK)},
    {{FAIL(QUARANTINE), true, false}, R(REJECT), Q(JUNK), A(JUNK)},
    {{FAIL(QUARANTINE), false, false}, R(REJECT), Q(NONE), A(DELIVER)},
    /* p=none, or sampled out entirely */
    {{FAIL(NONE), false, false}, R(REJECT), Q(JUNK), A(DELIVER)},
    /* the policy could not be read */
    {{RESULT(TEMPERROR), false, false}, R(REJECT), Q(JUNK), A(DEFER)},
    {{RESULT(TEMPERROR), true, true}, R(REJECT), Q(JUNK), A(DELIVER)},
    {{RESULT(TEMPERROR), false, false}, R(QUARANTINE), Q(JUNK), A(DELIVER)},
    {{RESULT(TEMPERROR), false, false}, R(NONE), Q(JUNK), A(DELIVER)},
};

static void test_decide(void **state)
{
	struct mailauth_settings set;

	memset(&set, 0, sizeof(set));
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		set.dmarc_reject = cases[i].on_reject;
		set.dmarc_quarantine = cases[i].on_quarantine;
		if (smtp_auth_decide(&cases[i].facts, &set) != cases[i].expect)
			fail_msg("case %zu: got %s, expected %s", i,
			         smtp_auth_action_name(smtp_auth_decide(&cases[i].facts, &set)),
			         smtp_auth_action_name(cases[i].expect));
	}
}

static void test_names(void **state)
{
	assert_string_equal(smtp_auth_action_name(SMTP_AUTH_DELIVER), "deliver");
	assert_string_equal(smtp_auth_action_name(SMTP_AUTH_JUNK), "junk");
	assert_string_equal(smtp_auth_action_name(SMTP_AUTH_REJECT), "reject");
	assert_string_equal(smtp_auth_action_name(SMTP_AUTH_DEFER), "defer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
