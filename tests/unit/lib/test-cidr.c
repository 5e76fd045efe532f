/* Unit tests for src/lib/cidr.c: an address against a list of networks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/cidr.h"

/* Both families, prefixes, hosts, and what never matches. */
static void test_ip_in_networks(void **state)
{
	char *nets[] = {"127.0.0.0/8", "::1/128", "192.0.2.128/25", "2001:db8::/32"};
	static const struct {
		const char *ip;
		bool in;
	} cases[] = {
	    {"127.0.0.1", true},    {"127.255.0.9", true},   {"128.0.0.1", false},
	    {"::1", true},          {"::2", false},          {"192.0.2.129", true},
	    {"192.0.2.127", false}, {"2001:db8:1::5", true}, {"2001:db9::1", false},
	    {"unix", false},        {"unknown", false},      {"", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ip_in_networks(cases[i].ip, nets, 4) != cases[i].in)
			fail_msg("%s: expected %d", cases[i].ip, cases[i].in);
	}
	assert_false(ip_in_networks("127.0.0.1", nets, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip_in_networks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
