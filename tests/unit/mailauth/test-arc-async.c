/* Unit tests for src/dns/dns-driver.c with arc_verifier_ops: a sealed message validated
   through the event-loop resolver answering from a zone file; a message
   without ARC (no DNS); cancelling. */
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

#include "lib/xalloc.h"
#include "dns/dns-driver.h"
#include "mailauth/arc.h"
#include "mailauth/dkim-keystore.h"

static const char message[] = "From: joe@example.com\r\n"
                              "Subject: hello\r\n"
                              "\r\n"
                              "Hi.\r\n";

struct fixture {
	char path[64];
	struct event_base *base;
	struct dns_resolver *resolver;
	char *sealed;
	int done;
};

/* message with one ARC set by key (cv=none). */
static char *seal(EVP_PKEY *key)
{
	struct arc_seal_params p = {
	    .domain = "example.org", .selector = "s", .key = key, .authserv_id = "mx.example.org"};
	struct arc_sealer *sealer = NULL;
	const char *error;
	char *fields, *out;

	assert_int_equal(arc_sealer_new(&p, &sealer, &error), 0);
	assert_int_equal(arc_sealer_feed(sealer, message, strlen(message), &error), 0);
	assert_int_equal(arc_sealer_finish(sealer, ARC_CV_NONE, 1, &fields, &error), 1);
	out = xasprintf("%s%s", fields, message);
	free(fields);
	arc_sealer_free(&sealer);
	return out;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dns_resolver_settings settings = {.zone_file = f->path};
	EVP_PKEY *key = NULL;
	const char *e;
	char *error = NULL, *txt, *line;
	int fd;

	assert_int_equal(dkim_key_generate(DKIM_KEY_ED25519, 0, &key, &e), 0);
	txt = dkim_key_txt_record(key);
	line = dkim_txt_zone_line("example.org", "s", txt);
	strcpy(f->path, "/tmp/test-arc-async-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	f->sealed = seal(key);
	free(txt);
	free(line);
	EVP_PKEY_free(key);
	f->base = event_base_new();
	assert_int_equal(dns_resolver_new(f->base, &settings, &f->resolver, &error), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_resolver_free(&f->resolver);
	event_base_free(f->base);
	unlink(f->path);
	free(f->sealed);
	free(f);
	return 0;
}

static void done(void *arg, void *context)
{
	struct arc_verifier *v = arg;
	struct fixture *f = context;

	f->done++;
	assert_int_equal(arc_verifier_result(v, NULL), ARC_CV_PASS);
	assert_int_equal(arc_verifier_next_instance(v), 2);
}

static struct arc_verifier *new_verifier(const char *msg)
{
	struct arc_verifier *v = arc_verifier_new(0);
	const char *error;

	assert_int_equal(arc_verifier_feed(v, msg, strlen(msg), &error), 0);
	arc_verifier_finish(v);
	return v;
}

static void test_async(void **state)
{
	struct fixture *f = *state;
	struct arc_verifier *v = new_verifier(f->sealed);

	assert_non_null(dns_driver_start(f->resolver, &arc_verifier_ops, v, done, f));
	event_base_dispatch(f->base);
	assert_int_equal(f->done, 1);
	arc_verifier_free(&v);
}

static void test_no_dns_and_cancel(void **state)
{
	struct fixture *f = *state;
	struct arc_verifier *v = new_verifier(message);
	struct dns_driver *a;

	/* no ARC field: none at once, no callback */
	assert_null(dns_driver_start(f->resolver, &arc_verifier_ops, v, done, f));
	assert_int_equal(arc_verifier_result(v, NULL), ARC_CV_NONE);
	arc_verifier_free(&v);
	v = new_verifier(f->sealed);
	a = dns_driver_start(f->resolver, &arc_verifier_ops, v, done, f);
	dns_driver_cancel(&a);
	assert_null(a);
	dns_driver_cancel(&a);
	event_base_dispatch(f->base);
	assert_int_equal(f->done, 0);
	arc_verifier_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_dns_and_cancel, setup, teardown),
	};

	return cmocka_run_group_tests_name("mailauth-arc-async", tests, NULL, NULL);
}
