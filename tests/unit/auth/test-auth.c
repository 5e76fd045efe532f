/* Unit tests for src/auth/auth.c: logins through a real event base, worker
   pool and SQLite directory; the credential cache seen from outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "auth/auth.h"
#include "directory/password.h"
#include "directory/directory.h"
#include "lib/xalloc.h"

struct fixture {
	char *tmpdir;
	char *path;
	struct event_base *base;
	struct workpool *pool;
	struct directory *dir; /* for changing users between logins */
	struct auth *auth;
};

struct answer {
	struct event_base *base;
	int calls;
	enum auth_result result;
	char *user;
	bool cached;
	bool has_reason;
};

/* A cheap hash: the tests are about the flow, not Argon2id's cost. */
static char *cheap_hash(const char *pw)
{
	char *hash;
	const char *error;

	assert_int_equal(password_hash_params(pw, 1, 8192, &hash, &error), 0);
	return hash;
}

static int setup_ttl(void **state, unsigned ttl)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct auth_settings set = {.cache_ttl = ttl};
	char tmpl[] = "/tmp/tern-test-auth-XXXXXX";
	char *hash = cheap_hash("correct horse");
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->tmpdir = xstrdup(tmpl);
	f->path = xasprintf("%s/directory.db", tmpl);
	if (directory_open(f->path, &f->dir, &error) < 0 ||
	    directory_domain_add(f->dir, "example.org", &error) < 0 ||
	    directory_user_add(f->dir, "Tim@example.org", hash, 0, &error) < 0) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	free(hash);
	f->base = event_base_new();
	f->pool = workpool_new(f->base, 2);
	if (auth_new(f->path, f->pool, &set, NULL, &f->auth, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_ttl(state, 300);
}

static int setup_nocache(void **state)
{
	return setup_ttl(state, 0);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->tmpdir);

	auth_free(&f->auth);
	assert_null(f->auth);
	workpool_free(&f->pool);
	event_base_free(f->base);
	directory_close(&f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->tmpdir);
	free(cmd);
	free(f->path);
	free(f->tmpdir);
	free(f);
	return 0;
}

static void on_reply(void *ctx, const struct auth_reply *r)
{
	struct answer *a = ctx;

	a->calls++;
	a->result = r->result;
	a->user = r->user != NULL ? xstrdup(r->user) : NULL;
	a->cached = r->cached;
	a->has_reason = r->reason != NULL;
	assert_null(r->home_node);
	event_base_loopbreak(a->base);
}

/* One login, run to its reply. */
static void login(struct fixture *f, const char *user, const char *pw, struct answer *a)
{
	struct auth_request req = {
	    .user = user, .password = pw, .service = "imap", .peer = "192.0.2.1"};

	memset(a, 0, sizeof(*a));
	a->base = f->base;
	auth_login(f->auth, &req, on_reply, a);
	assert_int_equal(a->calls, 0); /* never answered synchronously */
	event_base_dispatch(f->base);
	assert_int_equal(a->calls, 1);
}

static void expect(struct fixture *f, const char *user, const char *pw, enum auth_result result,
                   const char *stored, bool cached)
{
	struct answer a;

	login(f, user, pw, &a);
	if (a.result != result)
		fail_msg("login %s: result %d, expected %d", user, a.result, result);
	if (stored == NULL)
		assert_null(a.user);
	else
		assert_string_equal(a.user, stored);
	assert_int_equal(a.cached, cached);
	assert_int_equal(a.has_reason, result != AUTH_RESULT_OK);
	free(a.user);
}

static void test_results(void **state)
{
	struct fixture *f = *state;
	const char *error;

	expect(f, "tim@EXAMPLE.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", false);
	expect(f, "tim@example.org", "wrong", AUTH_RESULT_BAD_CREDENTIALS, NULL, false);
	expect(f, "nobody@example.org", "correct horse", AUTH_RESULT_BAD_CREDENTIALS, NULL, false);
	expect(f, "not an address", "x", AUTH_RESULT_BAD_CREDENTIALS, NULL, false);
	assert_int_equal(directory_user_set_enabled(f->dir, "tim@example.org", false, &error), 0);
	/* right password, disabled account: DISABLED, even though cached */
	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_DISABLED, "Tim@example.org",
	       true);
	expect(f, "tim@example.org", "wrong", AUTH_RESULT_BAD_CREDENTIALS, NULL, false);
	assert_int_equal(directory_user_set_enabled(f->dir, "tim@example.org", true, &error), 0);
	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", true);
}

static void test_cache_invalidated_by_password_change(void **state)
{
	struct fixture *f = *state;
	char *hash = cheap_hash("battery staple");
	const char *error;

	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", false);
	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", true);
	assert_int_equal(auth_cache_hits(f->auth), 1);
	assert_int_equal(auth_cache_entries(f->auth), 1);
	assert_int_equal(directory_user_set_password(f->dir, "tim@example.org", hash, &error), 0);
	free(hash);
	/* the old password misses the cache at once and fails */
	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_BAD_CREDENTIALS, NULL, false);
	expect(f, "tim@example.org", "battery staple", AUTH_RESULT_OK, "Tim@example.org", false);
	expect(f, "tim@example.org", "battery staple", AUTH_RESULT_OK, "Tim@example.org", true);
	assert_int_equal(auth_cache_hits(f->auth), 2);
}

static void test_no_cache(void **state)
{
	struct fixture *f = *state;

	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", false);
	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", false);
	assert_int_equal(auth_cache_hits(f->auth), 0);
	assert_int_equal(auth_cache_entries(f->auth), 0);
}

/* A directory that fails (here: its users table is gone) answers
   TEMPFAIL, not a failed login. */
static void test_tempfail(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;

	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_OK, "Tim@example.org", false);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA foreign_keys = OFF; DROP TABLE users", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	expect(f, "tim@example.org", "correct horse", AUTH_RESULT_TEMPFAIL, NULL, false);
}

/* Freeing with logins pending: no callback runs, nothing leaks (ASan). */
static void test_free_pending(void **state)
{
	struct fixture *f = *state;
	struct auth_request req = {.user = "tim@example.org", .password = "correct horse"};
	struct answer a[10];

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 10; i++) {
		a[i].base = f->base;
		auth_login(f->auth, &req, on_reply, &a[i]);
	}
	/* let some reach the verify stage */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	auth_free(&f->auth);
	workpool_free(&f->pool);
	for (int i = 0; i < 10; i++)
		assert_int_equal(a[i].calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_results, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_invalidated_by_password_change, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_no_cache, setup_nocache, teardown),
	    cmocka_unit_test_setup_teardown(test_tempfail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_pending, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
