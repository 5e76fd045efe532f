/* Unit tests for src/dns/dns-driver.c with dmarc_check_ops: a check driven through the
   event-loop resolver answering from a zone file; cancelling. */
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

#include "dns/dns-driver.h"
#include "mailauth/dmarc.h"

struct fixture {
	char path[64];
	struct event_base *base;
	struct dns_resolver *resolver;
	struct psl *psl;
	int done;
};

static int setup(void **state)
{
	static const char zone[] = "_dmarc.example.com TXT \"v=DMARC1; p=reject\"\n"
	                           "_dmarc.example.org TXT \"v=DMARC1; p=quarantine\"\n";
	struct fixture *f = calloc(1, sizeof(*f));
	struct dns_resolver_settings settings = {.zone_file = f->path};
	char *error = NULL;
	int fd;

	strcpy(f->path, "/tmp/test-dmarc-async-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, zone, sizeof(zone) - 1), (ssize_t)sizeof(zone) - 1);
	close(fd);
	f->base = event_base_new();
	assert_int_equal(dns_resolver_new(f->base, &settings, &f->resolver, &error), 0);
	f->psl = psl_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_resolver_free(&f->resolver);
	event_base_free(f->base);
	psl_free(&f->psl);
	unlink(f->path);
	free(f);
	return 0;
}

static void done(void *arg, void *context)
{
	struct dmarc_check *check = arg;
	struct fixture *f = context;

	f->done++;
	assert_int_equal(dmarc_check_result(check), DMARC_RESULT_FAIL);
	assert_int_equal(dmarc_check_policy(check), DMARC_POLICY_REJECT);
	assert_string_equal(dmarc_check_from_domain(check), "example.com");
}

static struct dmarc_check *new_check(const struct fixture *f, const char *const *from, size_t count)
{
	const struct dmarc_check_params p = {.psl = f->psl,
	                                     .from_domains = from,
	                                     .from_count = count,
	                                     .spf_result = SPF_RESULT_NONE};

	return dmarc_check_new(&p);
}

static void test_async(void **state)
{
	struct fixture *f = *state;
	const char *const from[] = {"example.org", "example.com"};
	struct dmarc_check *check = new_check(f, from, 2);
	struct dns_driver *a = dns_driver_start(f->resolver, &dmarc_check_ops, check, done, f);

	assert_non_null(a);
	event_base_dispatch(f->base);
	assert_int_equal(f->done, 1);
	dmarc_check_free(&check);
}

static void test_no_dns_and_cancel(void **state)
{
	struct fixture *f = *state;
	const char *const from[] = {"example.com"};
	struct dmarc_check *check = new_check(f, NULL, 0);
	struct dns_driver *a;

	/* No From domain: known at once, no callback. */
	assert_null(dns_driver_start(f->resolver, &dmarc_check_ops, check, done, f));
	assert_int_equal(dmarc_check_result(check), DMARC_RESULT_PERMERROR);
	dmarc_check_free(&check);
	check = new_check(f, from, 1);
	a = dns_driver_start(f->resolver, &dmarc_check_ops, check, done, f);
	dns_driver_cancel(&a);
	assert_null(a);
	dns_driver_cancel(&a);
	event_base_dispatch(f->base);
	assert_int_equal(f->done, 0);
	dmarc_check_free(&check);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_dns_and_cancel, setup, teardown),
	};

	return cmocka_run_group_tests_name("mailauth-dmarc-async", tests, NULL, NULL);
}
