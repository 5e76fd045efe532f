/* Unit tests for src/auth/auth-sasl.c: whole exchanges through a real event
   base, worker pool and SQLite directory: PLAIN and LOGIN to the stored
   address, SCRAM against keys stored by the admin operation, failures
   after the delay and counted per IP, cancel, and an exchange freed while
   its check runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "auth/auth-penalty.h"
#include "auth/auth-sasl.h"
#include "auth/sasl.h"
#include "directory/directory-admin.h"
#include "directory/directory.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"

struct fixture {
	char *tmpdir, *path;
	struct event_base *base;
	struct workpool *pool;
	struct auth *auth;
};

struct events {
	struct event_base *base;
	int count;
	struct auth_sasl_reply last;
	char challenge[512];
	char user[256];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct auth_settings set = {.cache_ttl = 0};
	struct directory_password_policy policy = {.argon2_ops = 1, .argon2_mem = 8192};
	char tmpl[] = "/tmp/tern-test-auth-sasl-XXXXXX";
	struct directory *dir;
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->tmpdir = xstrdup(tmpl);
	f->path = xasprintf("%s/directory.db", tmpl);
	if (directory_open(f->path, &dir, &error) < 0 ||
	    directory_domain_add(dir, "example.org", &error) < 0 ||
	    directory_admin_user_add(dir, &policy, "Tim@example.org", "pencil", 0, &error) < 0) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	directory_close(&dir);
	f->base = event_base_new();
	f->pool = workpool_new(f->base, 2);
	if (auth_new(f->path, f->pool, &set, NULL, &f->auth, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->tmpdir);

	auth_free(&f->auth);
	workpool_free(&f->pool);
	event_base_free(f->base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->tmpdir);
	free(cmd);
	free(f->path);
	free(f->tmpdir);
	free(f);
	return 0;
}

static void on_event(void *ctx, const struct auth_sasl_reply *r)
{
	struct events *e = ctx;

	e->count++;
	e->last = *r;
	if (r->challenge != NULL)
		snprintf(e->challenge, sizeof(e->challenge), "%s", r->challenge);
	if (r->user != NULL)
		snprintf(e->user, sizeof(e->user), "%s", r->user);
	e->last.challenge = e->challenge;
	e->last.user = e->user;
	event_base_loopbreak(e->base);
}

/* Run the loop until one more event (at most 20 s). */
static void wait_event(struct fixture *f, struct events *e)
{
	int before = e->count;
	struct timeval limit = {20, 0};

	for (int i = 0; i < 100 && e->count == before; i++)
		event_base_loopexit(f->base, &limit), event_base_dispatch(f->base);
	assert_int_equal(e->count, before + 1);
}

static struct auth_sasl *exchange(struct fixture *f, enum sasl_mech mech, struct events *e)
{
	struct auth_sasl_info info = {
	    .base = f->base, .service = "test", .peer = "192.0.2.7", .sid = "sid"};

	memset(e, 0, sizeof(*e));
	e->base = f->base;
	return auth_sasl_new(f->auth, mech, &info, on_event, e);
}

static char *b64(const char *s, size_t len)
{
	return sasl_base64_encode(s, len);
}

static void test_plain_ok(void **state)
{
	struct fixture *f = *state;
	struct events e;
	struct auth_sasl *a = exchange(f, SASL_MECH_PLAIN, &e);
	char *ir = b64("\0tim@example.org\0pencil", 23);

	auth_sasl_start(a, ir);
	free(ir);
	wait_event(f, &e);
	assert_int_equal(e.last.event, AUTH_SASL_OK);
	assert_string_equal(e.user, "Tim@example.org"); /* as stored */
	auth_sasl_free(&a);
	assert_null(a);
}

static void test_login_flow(void **state)
{
	struct fixture *f = *state;
	struct events e;
	struct auth_sasl *a = exchange(f, SASL_MECH_LOGIN, &e);
	char *u = b64("tim@example.org", 15), *p = b64("pencil", 6);

	auth_sasl_start(a, NULL);
	assert_int_equal(e.count, 1);
	assert_int_equal(e.last.event, AUTH_SASL_CHALLENGE);
	assert_string_equal(e.challenge, SASL_LOGIN_CHALLENGE_USER);
	assert_true(auth_sasl_wants_input(a));
	auth_sasl_input(a, u, strlen(u));
	assert_string_equal(e.challenge, SASL_LOGIN_CHALLENGE_PASS);
	auth_sasl_input(a, p, strlen(p));
	assert_false(auth_sasl_wants_input(a));
	wait_event(f, &e);
	assert_int_equal(e.last.event, AUTH_SASL_OK);
	auth_sasl_free(&a);
	free(u);
	free(p);
}

static double now_s(void)
{
	return (double)auth_penalty_now_ms() / 1000.0;
}

static void test_failures_delayed_and_counted(void **state)
{
	struct fixture *f = *state;
	struct events e;
	struct auth_sasl *a;
	char *wrong = b64("\0tim@example.org\0nope", 21),
	     *unknown = b64("\0x@example.org\0nope", 19);
	double t0;

	assert_int_equal(auth_failures(f->auth, "192.0.2.7"), 0);
	a = exchange(f, SASL_MECH_PLAIN, &e);
	t0 = now_s();
	auth_sasl_start(a, wrong);
	wait_event(f, &e);
	assert_true(now_s() - t0 >= 0.5);
	assert_int_equal(e.last.event, AUTH_SASL_FAILED);
	assert_int_equal(e.last.error, SASL_ERR_CREDENTIALS);
	auth_sasl_free(&a);
	/* an unknown user: the same answer, after the next delay */
	a = exchange(f, SASL_MECH_PLAIN, &e);
	t0 = now_s();
	auth_sasl_start(a, unknown);
	wait_event(f, &e);
	assert_true(now_s() - t0 >= 1.0);
	assert_int_equal(e.last.error, SASL_ERR_CREDENTIALS);
	auth_sasl_free(&a);
	assert_int_equal(auth_failures(f->auth, "192.0.2.7"), 2);
	assert_int_equal(auth_failures(f->auth, "192.0.2.8"), 0);
	free(wrong);
	free(unknown);
}

static void test_cancel_and_malformed_at_once(void **state)
{
	struct fixture *f = *state;
	struct events e;
	struct auth_sasl *a = exchange(f, SASL_MECH_PLAIN, &e);

	auth_sasl_start(a, NULL);
	assert_int_equal(e.last.event, AUTH_SASL_CHALLENGE);
	assert_string_equal(e.challenge, "");
	auth_sasl_input(a, "*", 1);
	assert_int_equal(e.count, 2);
	assert_int_equal(e.last.event, AUTH_SASL_FAILED);
	assert_int_equal(e.last.error, AUTH_SASL_CANCELLED);
	auth_sasl_free(&a);
	a = exchange(f, SASL_MECH_PLAIN, &e);
	auth_sasl_start(a, "not base64!");
	assert_int_equal(e.count, 1);
	assert_int_equal(e.last.error, SASL_ERR_MALFORMED);
	auth_sasl_free(&a);
	assert_int_equal(auth_failures(f->auth, "192.0.2.7"), 0);
}

/* SCRAM against the keys the admin operation stored: the server-first
   carries the stored salt and count; a client that cannot compute the
   proof (this test only checks the flow up to it) fails as credentials. */
static void test_scram_uses_stored_keys(void **state)
{
	struct fixture *f = *state;
	struct events e;
	struct auth_sasl *a = exchange(f, SASL_MECH_SCRAM_SHA_256, &e);
	const char *first = "n,,n=tim@example.org,r=abc";
	char *ir = b64(first, strlen(first)), *final;
	unsigned char *sf;
	size_t len;
	const char *error;
	char nonce[128], line[300];

	auth_sasl_start(a, ir);
	free(ir);
	wait_event(f, &e);
	assert_int_equal(e.last.event, AUTH_SASL_CHALLENGE);
	assert_int_equal(
	    sasl_base64_decode(e.challenge, strlen(e.challenge), 400, &sf, &len, &error), 0);
	assert_non_null(strstr((char *)sf, ",i=4096"));
	assert_int_equal(sscanf((char *)sf, "r=%127[^,]", nonce), 1);
	assert_int_equal(strncmp(nonce, "abc", 3), 0);
	sasl_bytes_free(&sf, len);
	snprintf(line, sizeof(line),
	         "c=biws,r=%s,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", nonce);
	final = b64(line, strlen(line));
	auth_sasl_input(a, final, strlen(final));
	free(final);
	wait_event(f, &e);
	assert_int_equal(e.last.event, AUTH_SASL_FAILED);
	assert_int_equal(e.last.error, SASL_ERR_CREDENTIALS);
	auth_sasl_free(&a);
}

/* Freed while the password is being checked: the callback never runs,
   nothing leaks (ASan). */
static void test_free_while_pending(void **state)
{
	struct fixture *f = *state;
	struct events e;
	struct auth_sasl *a = exchange(f, SASL_MECH_PLAIN, &e);
	char *ir = b64("\0tim@example.org\0pencil", 23);
	struct timeval tv = {0, 300000};

	auth_sasl_start(a, ir);
	free(ir);
	auth_sasl_free(&a);
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(e.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_flow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures_delayed_and_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_and_malformed_at_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scram_uses_stored_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_while_pending, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
