/* Unit tests for src/queue/queue-settings.c: the queue { } keys of the TLS
   policy and helo_name, with their defaults, mapped to what
   tls_policy_new() and the SMTP client take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli-settings.h"
#include "lib/settings-private.h"
#include "queue/queue-settings.h"

static struct tern_settings *load_ok(const char *text)
{
	struct tern_settings *set = NULL;
	char *error = NULL;

	if (settings_load_buffer(&tern_settings_schema, "/etc/tern/tern.conf", text, strlen(text),
	                         &set, &error) < 0)
		fail_msg("unexpected error: %s", error);
	return set;
}

static void test_defaults(void **state)
{
	struct tern_settings *set =
	    load_ok("hostname = mail.example.test\ndata_dir = /var/lib/tern\n");
	const struct queue_settings *q = queue_settings(set);
	struct tls_policy_settings tp;
	char *cache;

	(void)state;
	queue_tls_policy_settings(q, set->data_dir, &tp, &cache);
	assert_false(tp.no_tls);
	assert_true(tp.dane);
	assert_true(tp.mta_sts);
	assert_null(tp.mx_ca_file);
	assert_string_equal(tp.sts.cache_dir, "/var/lib/tern/queue/mta-sts");
	assert_ptr_equal(tp.sts.cache_dir, cache);
	assert_null(tp.sts.ca_file);
	assert_int_equal(tp.sts.port, 0);
	assert_int_equal(tp.sts.resolve_count, 0);
	assert_int_equal(tp.sts.timeout_secs, 20);
	assert_string_equal(queue_helo_name(q, set->hostname), "mail.example.test");
	free(cache);
	settings_free(&set);
}

static void test_set(void **state)
{
	struct tern_settings *set =
	    load_ok("hostname = mail.example.test\n"
	            "data_dir = /var/lib/tern\n"
	            "queue {\n"
	            "\ttls = no\n"
	            "\tdane = no\n"
	            "\tmta_sts = no\n"
	            "\tmta_sts_cache_dir = /srv/sts\n"
	            "\tmta_sts_fetch_port = 8443\n"
	            "\tmta_sts_fetch_resolve = mta-sts.a.test:8443:127.0.0.1\n"
	            "\tmta_sts_fetch_timeout = 5s\n"
	            "\thelo_name = out.example.test\n"
	            "}\n");
	const struct queue_settings *q = queue_settings(set);
	struct tls_policy_settings tp;
	char *cache;

	(void)state;
	queue_tls_policy_settings(q, set->data_dir, &tp, &cache);
	assert_true(tp.no_tls);
	assert_false(tp.dane);
	assert_false(tp.mta_sts);
	assert_string_equal(tp.sts.cache_dir, "/srv/sts");
	assert_int_equal(tp.sts.port, 8443);
	assert_int_equal(tp.sts.resolve_count, 1);
	assert_string_equal(tp.sts.resolve[0], "mta-sts.a.test:8443:127.0.0.1");
	assert_int_equal(tp.sts.timeout_secs, 5);
	assert_string_equal(queue_helo_name(q, set->hostname), "out.example.test");
	free(cache);
	settings_free(&set);
}

static void test_bad_values(void **state)
{
	const char *text = "hostname = h.test\ndata_dir = /d\nqueue {\n\tmta_sts_fetch_port = "
	                   "70000\n}\n";
	struct tern_settings *set = NULL;
	char *error = NULL;

	(void)state;
	assert_int_equal(settings_load_buffer(&tern_settings_schema, "/etc/tern/tern.conf", text,
	                                      strlen(text), &set, &error),
	                 -1);
	assert_non_null(strstr(error, "mta_sts_fetch_port"));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
