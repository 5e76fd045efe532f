/* Unit tests for src/smtp/smtp-rdns.c: reverse names, host name checks,
   and the PTR + forward lookup against a zone file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>
#include <unistd.h>

#include "dns/dns-resolver.h"
#include "lib/xalloc.h"
#include "smtp/smtp-rdns.h"

static void test_reverse_name(void **state)
{
	char out[80];

	assert_int_equal(smtp_rdns_reverse_name("192.0.2.1", out, sizeof(out)), 0);
	assert_string_equal(out, "1.2.0.192.in-addr.arpa");
	assert_int_equal(smtp_rdns_reverse_name("2001:db8::1", out, sizeof(out)), 0);
	assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	                         "ip6.arpa");
	assert_int_equal(smtp_rdns_reverse_name("300.1.1.1", out, sizeof(out)), -1);
	assert_int_equal(smtp_rdns_reverse_name("", out, sizeof(out)), -1);
	assert_int_equal(smtp_rdns_reverse_name("192.0.2.1", out, 10), -1);
	assert_int_equal(smtp_rdns_reverse_name("::1", out, 40), -1);
}

static void test_name_ok(void **state)
{
	char longlabel[80], longname[300];

	assert_true(smtp_rdns_name_ok("mail.example.org"));
	assert_true(smtp_rdns_name_ok("a-b_c.example"));
	assert_true(smtp_rdns_name_ok("localhost"));
	assert_false(smtp_rdns_name_ok(""));
	assert_false(smtp_rdns_name_ok("a..b"));
	assert_false(smtp_rdns_name_ok(".a"));
	assert_false(smtp_rdns_name_ok("a."));
	assert_false(smtp_rdns_name_ok("a b"));
	assert_false(smtp_rdns_name_ok("a\r\nX-Injected: 1"));
	assert_false(smtp_rdns_name_ok("a(b)"));
	assert_false(smtp_rdns_name_ok("a\\032b"));
	memset(longlabel, 'a', 64);
	longlabel[64] = '\0';
	assert_false(smtp_rdns_name_ok(longlabel));
	longlabel[63] = '\0';
	assert_true(smtp_rdns_name_ok(longlabel));
	for (size_t i = 0; i < 254; i++)
		longname[i] = i % 2 == 0 ? 'a' : '.';
	longname[253] = '\0';
	assert_true(smtp_rdns_name_ok(longname));
	longname[253] = 'a';
	longname[254] = '\0';
	assert_false(smtp_rdns_name_ok(longname));
}

struct outcome {
	int calls;
	char name[256];
};

static void done(const char *name, void *ctx)
{
	struct outcome *o = ctx;

	o->calls++;
	snprintf(o->name, sizeof(o->name), "%s", name != NULL ? name : "(unknown)");
}

static const char zone[] =
    "1.2.0.192.in-addr.arpa PTR good.example\n"
    "good.example A 192.0.2.1\n"
    "2.2.0.192.in-addr.arpa PTR liar.example\n"
    "liar.example A 192.0.2.99\n"
    "3.2.0.192.in-addr.arpa PTR first.example\n"
    "3.2.0.192.in-addr.arpa PTR second.example\n"
    "first.example A 192.0.2.100\n"
    "second.example A 192.0.2.3\n"
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR six.example\n"
    "six.example AAAA 2001:db8::1\n"
    "4.2.0.192.in-addr.arpa PTR noaddr.example\n"
    "6.2.0.192.in-addr.arpa TIMEOUT\n";

struct fixture {
	char path[64];
	struct event_base *base;
	struct dns_resolver *resolver;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct dns_resolver_settings set = {0};
	char *error = NULL;
	int fd;

	strcpy(f->path, "/tmp/tern-test-rdns-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0 || write(fd, zone, strlen(zone)) != (ssize_t)strlen(zone))
		return -1;
	close(fd);
	set.zone_file = f->path;
	set.timeout_msecs = 200;
	f->base = event_base_new();
	if (dns_resolver_new(f->base, &set, &f->resolver, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_resolver_free(&f->resolver);
	event_base_free(f->base);
	unlink(f->path);
	free(f);
	return 0;
}

static void lookup(struct fixture *f, const char *ip, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	(void)smtp_rdns_start(f->resolver, f->base, ip, done, o);
	assert_int_equal(o->calls, 0); /* never from inside the start */
	/* blocking turns: a TIMEOUT entry answers after the 200 ms timer */
	for (int i = 0; i < 50 && o->calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(o->calls, 1);
}

static void test_lookups(void **state)
{
	struct fixture *f = *state;
	struct outcome o;

	lookup(f, "192.0.2.1", &o);
	assert_string_equal(o.name, "good.example");
	lookup(f, "192.0.2.2", &o); /* PTR whose name points elsewhere */
	assert_string_equal(o.name, "(unknown)");
	lookup(f, "192.0.2.3", &o); /* the second PTR name is the confirmed one */
	assert_string_equal(o.name, "second.example");
	lookup(f, "2001:db8::1", &o);
	assert_string_equal(o.name, "six.example");
	lookup(f, "192.0.2.4", &o); /* the name has no address */
	assert_string_equal(o.name, "(unknown)");
	lookup(f, "192.0.2.5", &o); /* no PTR */
	assert_string_equal(o.name, "(unknown)");
	lookup(f, "192.0.2.6", &o); /* the PTR query times out */
	assert_string_equal(o.name, "(unknown)");
	lookup(f, "not an ip", &o);
	assert_string_equal(o.name, "(unknown)");
	assert_int_equal(dns_resolver_pending(f->resolver), 0);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct outcome o = {0};
	struct smtp_rdns *r = smtp_rdns_start(f->resolver, f->base, "192.0.2.1", done, &o);
	struct smtp_rdns *bad = smtp_rdns_start(f->resolver, f->base, "x", done, &o);

	smtp_rdns_cancel(&r);
	smtp_rdns_cancel(&bad);
	assert_null(r);
	smtp_rdns_cancel(&r);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(o.calls, 0);
	assert_int_equal(dns_resolver_pending(f->resolver), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reverse_name),
	    cmocka_unit_test(test_name_ok),
	    cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
