/* Unit tests for src/directory/directory-async.c with a real event base and
   worker pool: results arrive on the loop thread, in any order, each
   exactly once; a closed handle runs no callback and leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "directory/directory-async.h"
#include "lib/xalloc.h"

#define HASH     "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA"
#define REQUESTS 200

struct fixture {
	char *tmpdir;
	char *path;
	struct event_base *base;
	struct workpool *pool;
	pthread_t loop_thread;
};

struct answer {
	struct fixture *f;
	int calls;
	int ret;
	bool off_loop;
	char *text; /* the user's address, or local list joined */
	char *error;
};

static int outstanding;

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-dirasync-XXXXXX";
	struct directory *dir;
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->tmpdir = xstrdup(tmpl);
	f->path = xasprintf("%s/directory.db", tmpl);
	if (directory_open(f->path, &dir, &error) < 0 ||
	    directory_domain_add(dir, "example.org", &error) < 0 ||
	    directory_user_add(dir, "Tim@example.org", HASH, 0, &error) < 0 ||
	    directory_alias_add(dir, "team@example.org", "tim@example.org", &error) < 0 ||
	    directory_alias_add(dir, "team@example.org", "x@remote.example", &error) < 0) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	directory_close(&dir);
	f->base = event_base_new();
	f->pool = workpool_new(f->base, 3);
	f->loop_thread = pthread_self();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->tmpdir);

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

static void answered(struct answer *a, int ret, const char *error)
{
	if (!pthread_equal(pthread_self(), a->f->loop_thread))
		a->off_loop = true;
	a->calls++;
	a->ret = ret;
	a->error = error != NULL ? xstrdup(error) : NULL;
	if (--outstanding == 0)
		event_base_loopbreak(a->f->base);
}

static void on_user(void *ctx, int ret, struct directory_user *user, const char *error)
{
	struct answer *a = ctx;

	if (user != NULL)
		a->text = xstrdup(user->address);
	directory_user_free(&user);
	answered(a, ret, error);
}

static void on_resolve(void *ctx, int ret, struct directory_resolution *res, const char *error)
{
	struct answer *a = ctx;

	if (ret == 0)
		a->text =
		    xasprintf("%d:%s:%s", res->result, res->local_count > 0 ? res->local[0] : "",
		              res->remote_count > 0 ? res->remote[0] : "");
	answered(a, ret, error);
}

static void answer_clear(struct answer *a)
{
	free(a->text);
	free(a->error);
	memset(a, 0, sizeof(*a));
}

static void test_user_lookups(void **state)
{
	struct fixture *f = *state;
	static struct answer answers[REQUESTS];
	struct directory_async *da;
	const char *error;

	assert_int_equal(directory_async_open(f->path, f->pool, &da, &error), 0);
	for (int i = 0; i < REQUESTS; i++) {
		answers[i].f = f;
		outstanding++;
		directory_async_user_lookup(da,
		                            i % 3 == 0   ? "TIM@example.org"
		                            : i % 3 == 1 ? "nobody@example.org"
		                                         : "not an address",
		                            on_user, &answers[i]);
	}
	/* nothing answers before the loop runs */
	assert_int_equal(answers[0].calls, 0);
	event_base_dispatch(f->base);
	assert_int_equal(outstanding, 0);
	for (int i = 0; i < REQUESTS; i++) {
		assert_int_equal(answers[i].calls, 1);
		assert_false(answers[i].off_loop);
		if (i % 3 == 0) {
			assert_int_equal(answers[i].ret, 1);
			assert_string_equal(answers[i].text, "Tim@example.org");
		} else {
			assert_int_equal(answers[i].ret, 0);
			assert_null(answers[i].text);
		}
		assert_null(answers[i].error);
		answer_clear(&answers[i]);
	}
	directory_async_close(&da);
	assert_null(da);
}

static void test_resolve(void **state)
{
	struct fixture *f = *state;
	struct answer a[3] = {{.f = f}, {.f = f}, {.f = f}};
	struct directory_async *da;
	const char *error;

	assert_int_equal(directory_async_open(f->path, f->pool, &da, &error), 0);
	outstanding = 3;
	directory_async_resolve(da, "Team@example.org", on_resolve, &a[0]);
	directory_async_resolve(da, "x@example.com", on_resolve, &a[1]);
	directory_async_resolve(da, "bad address", on_resolve, &a[2]);
	event_base_dispatch(f->base);
	assert_int_equal(a[0].ret, 0);
	assert_string_equal(a[0].text, "2:Tim@example.org:x@remote.example");
	assert_int_equal(a[1].ret, 0);
	assert_string_equal(a[1].text, "0::");
	assert_int_equal(a[2].ret, -1);
	assert_non_null(a[2].error);
	assert_non_null(strstr(a[2].error, "malformed"));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].calls, 1);
		answer_clear(&a[i]);
	}
	directory_async_close(&da);
}

/* Closing with requests in flight: their callbacks never run, and the
   handle is freed when the pool finishes them (ASan checks the leak). */
static void test_close_pending(void **state)
{
	struct fixture *f = *state;
	struct answer a[20];
	struct directory_async *da;
	const char *error;

	memset(a, 0, sizeof(a));
	assert_int_equal(directory_async_open(f->path, f->pool, &da, &error), 0);
	for (int i = 0; i < 20; i++) {
		a[i].f = f;
		directory_async_user_lookup(da, "tim@example.org", on_user, &a[i]);
	}
	directory_async_close(&da);
	assert_null(da);
	workpool_free(&f->pool); /* runs the done() of every request */
	for (int i = 0; i < 20; i++)
		assert_int_equal(a[i].calls, 0);
}

static void test_open_error(void **state)
{
	struct fixture *f = *state;
	struct directory_async *da = NULL;
	const char *error = NULL;
	char *path = xasprintf("%s/missing/dir.db", f->tmpdir);

	assert_int_equal(directory_async_open(path, f->pool, &da, &error), -1);
	assert_null(da);
	assert_non_null(error);
	free(path);
	directory_async_close(&da);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_user_lookups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
