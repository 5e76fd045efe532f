/* Unit tests for src/cli/cli-settings.c: the schema of tern.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli-settings.h"
#include "imap/imap-server.h"
#include "smtp/smtp-server.h"

static bool in_schema(const struct service_def *service)
{
	for (size_t i = 0; i < tern_settings_schema.service_count; i++) {
		if (tern_settings_schema.services[i] == service)
			return true;
	}
	return false;
}

/* A service a role serves but the schema lacks could never be configured;
   one the schema has but no role serves would listen for nobody. */
static void test_services_are_the_roles(void **state)
{
	const struct role_ops *const roles[] = {&smtp_role_ops, &imap_role_ops};
	size_t served = 0;

	for (size_t r = 0; r < 2; r++) {
		for (size_t i = 0; i < roles[r]->service_count; i++) {
			assert_true(in_schema(roles[r]->services[i]));
			served++;
		}
	}
	assert_int_equal(served, tern_settings_schema.service_count);
	for (size_t i = 0; i < tern_settings_schema.service_count; i++) {
		const struct service_def *s = tern_settings_schema.services[i];
		assert_true(role_serves(&smtp_role_ops, s) || role_serves(&imap_role_ops, s));
	}
}

/* Section names are unique and leave lib's own blocks alone. */
static void test_section_names(void **state)
{
	static const char *const global[] = {"tls", "limits", "listener"};

	for (size_t i = 0; i < tern_settings_schema.section_count; i++) {
		const char *name = tern_settings_schema.sections[i]->name;

		for (size_t j = 0; j < 3; j++)
			assert_string_not_equal(name, global[j]);
		for (size_t j = i + 1; j < tern_settings_schema.section_count; j++)
			assert_string_not_equal(name, tern_settings_schema.sections[j]->name);
	}
	assert_int_equal(tern_settings_schema.section_count, 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_services_are_the_roles),
	    cmocka_unit_test(test_section_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
