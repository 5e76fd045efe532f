/* The milter NAME { } blocks: lib's labelled sections, in order, with
   their defaults, errors and the dump reading back the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter/filter-settings.h"
#include "lib/settings-private.h"

static const struct settings_section *const sections[] = {&milter_settings_section};
static const struct settings_schema schema = {sections, 1, NULL, 0};

static struct tern_settings *load(const char *text, char **error_r)
{
	struct tern_settings *set = NULL;

	*error_r = NULL;
	if (settings_load_buffer(&schema, "/tmp/t.conf", text, strlen(text), &set, error_r) < 0)
		return NULL;
	return set;
}

static const char two[] = "hostname = mail.test\n"
                          "milter rspamd {\n"
                          "\taddress = 127.0.0.1:11332\n"
                          "\tdefault_action = accept\n"
                          "\tlisteners = smtp submission\n"
                          "}\n"
                          "milter clam {\n"
                          "\taddress = unix:/run/clamav/milter.sock\n"
                          "\ttimeout = 2m\n"
                          "}\n";

static void test_blocks_in_order(void **state)
{
	char *error;
	struct tern_settings *set = load(two, &error);
	const struct settings_labelled *l;
	const struct milter_settings *a, *b;

	(void)state;
	assert_non_null(set);
	l = milter_settings(set);
	assert_int_equal(l->count, 2);
	assert_string_equal(l->labels[0], "rspamd");
	a = l->items[0];
	b = l->items[1];
	assert_string_equal(a->name, "rspamd");
	assert_string_equal(a->address, "127.0.0.1:11332");
	assert_int_equal(a->default_action, MILTER_DEFAULT_ACCEPT);
	assert_int_equal(a->timeout, 30);
	assert_true(milter_settings_serves(a, "submission"));
	assert_false(milter_settings_serves(a, "lmtp"));
	assert_string_equal(b->name, "clam");
	assert_int_equal(b->default_action, MILTER_DEFAULT_TEMPFAIL);
	assert_int_equal(b->timeout, 120);
	assert_int_equal(b->connect_timeout, 30);
	assert_true(milter_settings_serves(b, "smtp"));
	assert_false(milter_settings_serves(b, "submission"));
	settings_free(&set);
}

static void test_dump_reads_back(void **state)
{
	char *error, *dump, *again;
	struct tern_settings *set = load(two, &error), *set2;

	(void)state;
	dump = settings_dump(set);
	assert_non_null(strstr(dump, "milter rspamd {\n"));
	assert_non_null(strstr(dump, "milter clam {\n"));
	assert_true(strstr(dump, "milter rspamd") < strstr(dump, "milter clam"));
	set2 = load(dump, &error);
	assert_non_null(set2);
	again = settings_dump(set2);
	/* the first line names the file, the same here */
	assert_string_equal(dump, again);
	free(dump);
	free(again);
	settings_free(&set);
	settings_free(&set2);
}

static void expect_error(const char *text, const char *needle)
{
	char *error;
	struct tern_settings *set = load(text, &error);

	assert_null(set);
	assert_non_null(error);
	if (strstr(error, needle) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", error, needle);
	free(error);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("hostname = h\nmilter {\n\taddress = 127.0.0.1:1\n}\n", "needs a name");
	expect_error("hostname = h\nmilter a {\n\taddress = x\n}\nmilter a {\n\taddress = y\n}\n",
	             "duplicate milter a");
	expect_error("hostname = h\nmilter a {\n\tdefault_action = maybe\n}\n",
	             "tempfail, accept or reject");
	expect_error("hostname = h\nmilter a {\n\taddress = x\n\taddress = y\n}\n",
	             "duplicate key");
	expect_error("hostname = h\nmilter a {\n\tcolour = red\n}\n", "unknown key");
}

static void test_none(void **state)
{
	char *error;
	struct tern_settings *set = load("hostname = h\n", &error);

	(void)state;
	assert_int_equal(milter_settings(set)->count, 0);
	settings_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocks_in_order),
	    cmocka_unit_test(test_dump_reads_back),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
