/* Unit tests for src/directory/directory.c: the rules run against the
   SQLite backend (a database in a temporary directory) and again against
   the in-memory backend, which proves the backend table is the whole seam. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "directory/directory-memory.h"
#include "directory/directory.h"
#include "lib/xalloc.h"

#define HASH "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA"

struct fixture {
	char *tmpdir;
	char *path;
	struct directory *dir;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-directory-XXXXXX";
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->tmpdir = xstrdup(tmpl);
	f->path = xasprintf("%s/directory.db", tmpl);
	if (directory_open(f->path, &f->dir, &error) < 0) {
		fprintf(stderr, "open: %s\n", error);
		return -1;
	}
	*state = f;
	return 0;
}

/* The same fixture over the in-memory backend. */
static int setup_memory(void **state)
{
	struct fixture *f;

	if (setup(state) < 0)
		return -1;
	f = *state;
	directory_close(&f->dir);
	directory_open_memory(&f->dir);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->tmpdir);

	directory_close(&f->dir);
	assert_null(f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->tmpdir);
	free(cmd);
	free(f->path);
	free(f->tmpdir);
	free(f);
	return 0;
}

/* Assert that a call failed with exactly this message. */
#define assert_fails(call, msg)                                                                    \
	do {                                                                                       \
		error = NULL;                                                                      \
		assert_int_equal((call), -1);                                                      \
		assert_non_null(error);                                                            \
		if ((msg) != NULL)                                                                 \
			assert_string_equal(error, (msg));                                         \
	} while (0)

#define assert_ok(call)                                                                            \
	do {                                                                                       \
		int ret_;                                                                          \
		error = "";                                                                        \
		ret_ = (call);                                                                     \
		if (ret_ != 0)                                                                     \
			fail_msg("%s: %s", #call, error);                                          \
	} while (0)

static void add_domains(struct directory *dir)
{
	const char *error;

	assert_ok(directory_domain_add(dir, "example.org", &error));
	assert_ok(directory_domain_add(dir, "example.net", &error));
}

/* --- open --- */

static sqlite3_int64 pragma_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_int64 v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_open_schema(void **state)
{
	struct fixture *f = *state;
	struct directory *dir2 = NULL;
	struct stat st;
	const char *error;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(pragma_int(f->path, "PRAGMA user_version"), 5);
	assert_int_equal(pragma_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = "
	                                     "'table' AND name IN ('domains', 'users', 'aliases',"
	                                     " 'guard_bans')"),
	                 4);
	/* a second handle on the same file, while the first is open */
	assert_ok(directory_open(f->path, &dir2, &error));
	assert_ok(directory_domain_add(dir2, "example.org", &error));
	assert_int_equal(directory_domain_exists(f->dir, "example.org", &error), 1);
	directory_close(&dir2);
	directory_close(&dir2);
	directory_close(NULL);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct directory *dir = NULL;
	char *path = xasprintf("%s/no/such/dir/x.db", f->tmpdir);
	char *junk = xasprintf("%s/junk.db", f->tmpdir);
	FILE *fp;
	sqlite3 *db;
	const char *error;

	assert_int_equal(directory_open(path, &dir, &error), -1);
	assert_non_null(strstr(error, "cannot open"));
	fp = fopen(junk, "w");
	fputs("this is not an SQLite database, not at all, no matter how long it is.....\n", fp);
	fclose(fp);
	assert_int_equal(directory_open(junk, &dir, &error), -1);
	assert_null(dir);
	/* a schema from a newer tern */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(directory_open(f->path, &dir, &error), -1);
	assert_non_null(strstr(error, "newer"));
	free(path);
	free(junk);
}

/* --- domains --- */

static void test_domains(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	char **names = NULL;
	size_t count = 99;
	const char *error;

	assert_ok(directory_domain_list(dir, &names, &count, &error));
	assert_int_equal(count, 0);
	assert_null(names);
	assert_ok(directory_domain_add(dir, "Example.ORG", &error));
	assert_ok(directory_domain_add(dir, "b.example.net", &error));
	assert_ok(directory_domain_add(dir, "a-1.example", &error));
	assert_fails(directory_domain_add(dir, "example.org", &error),
	             "domain example.org already exists");
	assert_fails(directory_domain_add(dir, "EXAMPLE.org", &error),
	             "domain example.org already exists");
	assert_ok(directory_domain_list(dir, &names, &count, &error));
	assert_int_equal(count, 3);
	assert_string_equal(names[0], "a-1.example");
	assert_string_equal(names[1], "b.example.net");
	assert_string_equal(names[2], "example.org");
	directory_names_free(&names, count);
	assert_null(names);
	assert_int_equal(directory_domain_exists(dir, "example.org", &error), 1);
	assert_int_equal(directory_domain_exists(dir, "EXAMPLE.Org", &error), 1);
	assert_int_equal(directory_domain_exists(dir, "example.com", &error), 0);
	assert_int_equal(directory_domain_exists(dir, "bad domain", &error), 0);
	assert_ok(directory_domain_del(dir, "B.example.NET", false, &error));
	assert_int_equal(directory_domain_exists(dir, "b.example.net", &error), 0);
	assert_fails(directory_domain_del(dir, "b.example.net", false, &error),
	             "unknown domain b.example.net");
}

static void test_domain_malformed(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	static const char *const bad[] = {
	    "",       "bad domain",  "a..b",    ".example.org", "example.org.",
	    "-x.org", "[192.0.2.1]", "a@b.org", "x\r\ny.org",   "a/b.org",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *error = NULL;

		if (directory_domain_add(dir, bad[i], &error) != -1)
			fail_msg("accepted domain \"%s\"", bad[i]);
		assert_non_null(strstr(error, "malformed"));
	}
}

static void test_domain_del_in_use(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	struct directory_user *users;
	struct directory_resolution res;
	size_t count;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "b@example.net", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_alias_add(dir, "info@example.org", "a@example.org", &error));
	/* an alias in another domain pointing into example.org */
	assert_ok(directory_alias_add(dir, "fwd@example.net", "a@example.org", &error));
	assert_fails(directory_domain_del(dir, "example.org", false, &error),
	             "domain example.org still has 2 users and aliases");
	assert_ok(directory_domain_del(dir, "example.org", true, &error));
	assert_ok(directory_user_list(dir, NULL, &users, &count, &error));
	assert_int_equal(count, 1);
	assert_string_equal(users[0].address, "b@example.net");
	directory_user_list_free(&users, count);
	/* the kept alias now forwards to a remote address */
	assert_ok(directory_resolve(dir, "fwd@example.net", &res, &error));
	assert_int_equal(res.result, DIRECTORY_LOCAL);
	assert_int_equal(res.local_count, 0);
	assert_int_equal(res.remote_count, 1);
	assert_string_equal(res.remote[0], "a@example.org");
	directory_resolution_free(&res);
}

/* --- users --- */

static void test_user_add_and_lookup(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	struct directory_user *user = NULL;
	const char *error;

	add_domains(dir);
	assert_ok(
	    directory_user_add(dir, "Tim@Example.ORG", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "q@example.org", "{BLF-CRYPT}$2y$05$x", 5000, &error));
	assert_ok(
	    directory_user_add(dir, "u@example.org", HASH, DIRECTORY_QUOTA_UNLIMITED, &error));
	assert_int_equal(directory_user_lookup(dir, "tim@example.org", &user, &error), 1);
	assert_string_equal(user->address, "Tim@example.org");
	assert_string_equal(user->password_hash, HASH);
	assert_true(user->quota_bytes == DIRECTORY_DEFAULT_QUOTA_BYTES);
	assert_true(user->enabled);
	directory_user_free(&user);
	assert_null(user);
	directory_user_free(&user);
	assert_int_equal(directory_user_lookup(dir, "TIM@EXAMPLE.org", &user, &error), 1);
	directory_user_free(&user);
	assert_int_equal(directory_user_lookup(dir, "q@example.org", &user, &error), 1);
	assert_true(user->quota_bytes == 5000);
	directory_user_free(&user);
	assert_int_equal(directory_user_lookup(dir, "u@example.org", &user, &error), 1);
	assert_true(user->quota_bytes == 0);
	directory_user_free(&user);
	assert_int_equal(directory_user_lookup(dir, "nobody@example.org", &user, &error), 0);
	assert_int_equal(directory_user_lookup(dir, "tim@example.net", &user, &error), 0);
	assert_int_equal(directory_user_lookup(dir, "not an address", &user, &error), 0);
	assert_int_equal(directory_user_lookup(dir, "", &user, &error), 0);
	assert_null(user);
}

static void test_user_add_errors(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_fails(directory_user_add(dir, "a@example.org", HASH, 0, &error),
	             "user a@example.org already exists");
	assert_fails(directory_user_add(dir, "A@EXAMPLE.ORG", HASH, 0, &error),
	             "user A@example.org already exists");
	assert_fails(directory_user_add(dir, "a@nowhere.org", HASH, 0, &error),
	             "unknown domain nowhere.org");
	assert_fails(directory_user_add(dir, "not-an-address", HASH, 0, &error), NULL);
	assert_fails(directory_user_add(dir, "a b@example.org", HASH, 0, &error), NULL);
	assert_fails(directory_user_add(dir, "a@[192.0.2.1]", HASH, 0, &error), NULL);
	assert_fails(directory_user_add(dir, "@example.org", HASH, 0, &error), NULL);
	assert_fails(directory_user_add(dir, "b@example.org", "", 0, &error),
	             "empty password hash");
	assert_fails(directory_user_add(dir, "b@example.org", HASH, UINT64_MAX - 1, &error),
	             "quota too large");
}

static void test_user_update(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	struct directory_user *user;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_set_password(dir, "A@example.org", "{SHA512-CRYPT}$6$x", &error));
	assert_ok(directory_user_set_enabled(dir, "a@example.org", false, &error));
	assert_ok(directory_user_set_quota(dir, "a@example.org", 42, &error));
	assert_int_equal(directory_user_lookup(dir, "a@example.org", &user, &error), 1);
	assert_string_equal(user->password_hash, "{SHA512-CRYPT}$6$x");
	assert_false(user->enabled);
	assert_true(user->quota_bytes == 42);
	directory_user_free(&user);
	assert_ok(directory_user_set_enabled(dir, "a@example.org", true, &error));
	assert_ok(directory_user_set_quota(dir, "a@example.org", DIRECTORY_QUOTA_DEFAULT, &error));
	assert_int_equal(directory_user_lookup(dir, "a@example.org", &user, &error), 1);
	assert_true(user->enabled);
	assert_true(user->quota_bytes == DIRECTORY_DEFAULT_QUOTA_BYTES);
	directory_user_free(&user);

	assert_fails(directory_user_set_password(dir, "b@example.org", HASH, &error),
	             "unknown user b@example.org");
	assert_fails(directory_user_set_password(dir, "a@example.org", "", &error),
	             "empty password hash");
	assert_fails(directory_user_set_enabled(dir, "b@example.org", true, &error),
	             "unknown user b@example.org");
	assert_fails(directory_user_set_quota(dir, "b@example.org", 1, &error),
	             "unknown user b@example.org");
	assert_fails(directory_user_set_enabled(dir, "bad", true, &error), NULL);
	assert_fails(directory_user_del(dir, "b@example.org", &error),
	             "unknown user b@example.org");
	assert_ok(directory_user_del(dir, "A@Example.org", &error));
	assert_int_equal(directory_user_lookup(dir, "a@example.org", &user, &error), 0);
	assert_fails(directory_user_del(dir, "a@example.org", &error),
	             "unknown user a@example.org");
}

static void test_user_list(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	struct directory_user *users = NULL;
	size_t count = 99;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_list(dir, NULL, &users, &count, &error));
	assert_int_equal(count, 0);
	assert_null(users);
	assert_ok(directory_user_add(dir, "c@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "a@example.org", HASH, 7, &error));
	assert_ok(directory_user_add(dir, "b@example.net", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_set_enabled(dir, "c@example.org", false, &error));
	assert_ok(directory_user_list(dir, NULL, &users, &count, &error));
	assert_int_equal(count, 3);
	assert_string_equal(users[0].address, "a@example.org");
	assert_string_equal(users[1].address, "b@example.net");
	assert_string_equal(users[2].address, "c@example.org");
	assert_true(users[0].quota_bytes == 7);
	assert_false(users[2].enabled);
	directory_user_list_free(&users, count);
	assert_null(users);
	assert_ok(directory_user_list(dir, "Example.ORG", &users, &count, &error));
	assert_int_equal(count, 2);
	assert_string_equal(users[1].address, "c@example.org");
	directory_user_list_free(&users, count);
	assert_fails(directory_user_list(dir, "example.com", &users, &count, &error),
	             "unknown domain example.com");
	assert_fails(directory_user_list(dir, "bad domain", &users, &count, &error), NULL);
}

/* --- aliases --- */

static void test_alias_add_del_list(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	struct directory_alias *aliases = NULL;
	size_t count = 99;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "b@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_alias_list(dir, NULL, &aliases, &count, &error));
	assert_int_equal(count, 0);
	assert_ok(directory_alias_add(dir, "info@example.org", "a@example.org", &error));
	assert_ok(directory_alias_add(dir, "Info@EXAMPLE.org", "B@example.org", &error));
	assert_ok(directory_alias_add(dir, "info@example.org", "x@remote.example", &error));
	assert_ok(directory_alias_add(dir, "@example.net", "a@example.org", &error));
	assert_fails(directory_alias_add(dir, "info@example.org", "a@example.org", &error),
	             "alias info@example.org -> a@example.org already exists");
	assert_fails(directory_alias_add(dir, "INFO@example.org", "A@example.org", &error), NULL);
	assert_fails(directory_alias_add(dir, "x@nowhere.org", "a@example.org", &error),
	             "unknown domain nowhere.org");
	assert_fails(directory_alias_add(dir, "@nowhere.org", "a@example.org", &error),
	             "unknown domain nowhere.org");
	assert_fails(directory_alias_add(dir, "info@example.org", "typo@example.org", &error),
	             "unknown destination typo@example.org");
	assert_fails(directory_alias_add(dir, "info@example.org", "@example.org", &error), NULL);
	assert_fails(directory_alias_add(dir, "bad source", "a@example.org", &error), NULL);
	assert_fails(directory_alias_add(dir, "@bad domain", "a@example.org", &error), NULL);
	assert_fails(directory_alias_add(dir, "x@example.org", "bad dest", &error), NULL);
	/* a destination in a domain with a catch-all is fine */
	assert_ok(directory_alias_add(dir, "y@example.org", "anything@example.net", &error));

	assert_ok(directory_alias_list(dir, "example.org", &aliases, &count, &error));
	assert_int_equal(count, 4);
	assert_string_equal(aliases[0].source, "info@example.org");
	assert_string_equal(aliases[0].destination, "a@example.org");
	assert_string_equal(aliases[1].destination, "B@example.org");
	assert_string_equal(aliases[2].destination, "x@remote.example");
	assert_string_equal(aliases[3].source, "y@example.org");
	directory_alias_list_free(&aliases, count);
	assert_null(aliases);
	assert_ok(directory_alias_list(dir, NULL, &aliases, &count, &error));
	assert_int_equal(count, 5);
	assert_string_equal(aliases[0].source, "@example.net");
	directory_alias_list_free(&aliases, count);
	assert_fails(directory_alias_list(dir, "nowhere.org", &aliases, &count, &error),
	             "unknown domain nowhere.org");

	assert_ok(directory_alias_del(dir, "info@example.org", "x@remote.example", &error));
	assert_fails(directory_alias_del(dir, "info@example.org", "x@remote.example", &error),
	             "unknown alias info@example.org -> x@remote.example");
	assert_ok(directory_alias_del(dir, "INFO@example.org", NULL, &error));
	assert_fails(directory_alias_del(dir, "info@example.org", NULL, &error),
	             "unknown alias info@example.org");
	assert_ok(directory_alias_del(dir, "@EXAMPLE.net", NULL, &error));
	assert_fails(directory_alias_del(dir, "bad", NULL, &error), NULL);
	assert_fails(directory_alias_del(dir, "y@example.org", "bad", &error), NULL);
	assert_ok(directory_alias_list(dir, NULL, &aliases, &count, &error));
	assert_int_equal(count, 1);
	directory_alias_list_free(&aliases, count);
}

/* --- resolution --- */

/* Resolve address and compare with the expected result and lists
   (comma-separated, in order; "" for none). */
static void check_resolve(struct directory *dir, const char *address, enum directory_result result,
                          const char *local, const char *remote)
{
	struct directory_resolution res;
	struct {
		const char *expect;
		char **items;
		size_t count;
	} lists[2];
	const char *error = "";

	if (directory_resolve(dir, address, &res, &error) != 0)
		fail_msg("resolve %s: %s", address, error);
	if (res.result != result)
		fail_msg("resolve %s: result %d, expected %d", address, res.result, result);
	lists[0].expect = local;
	lists[0].items = res.local;
	lists[0].count = res.local_count;
	lists[1].expect = remote;
	lists[1].items = res.remote;
	lists[1].count = res.remote_count;
	for (int l = 0; l < 2; l++) {
		char joined[1024] = "";

		for (size_t i = 0; i < lists[l].count; i++) {
			if (i > 0)
				strcat(joined, ",");
			strcat(joined, lists[l].items[i]);
		}
		if (strcmp(joined, lists[l].expect) != 0)
			fail_msg("resolve %s: list %d is \"%s\", expected \"%s\"", address, l,
			         joined, lists[l].expect);
	}
	directory_resolution_free(&res);
	assert_null(res.local);
	directory_resolution_free(&res);
}

static void test_resolve_basic(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	struct directory_resolution res;
	const char *error;

	add_domains(dir);
	assert_ok(
	    directory_user_add(dir, "Tim@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(
	    directory_user_add(dir, "off@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_set_enabled(dir, "off@example.org", false, &error));
	check_resolve(dir, "x@example.com", DIRECTORY_NOT_LOCAL, "", "");
	check_resolve(dir, "nobody@example.org", DIRECTORY_UNKNOWN, "", "");
	check_resolve(dir, "tim@example.org", DIRECTORY_LOCAL, "Tim@example.org", "");
	check_resolve(dir, "TIM@EXAMPLE.ORG", DIRECTORY_LOCAL, "Tim@example.org", "");
	check_resolve(dir, "\"tim\"@example.org", DIRECTORY_LOCAL, "Tim@example.org", "");
	/* disabled users cannot log in but still receive mail */
	check_resolve(dir, "off@example.org", DIRECTORY_LOCAL, "off@example.org", "");
	assert_fails(directory_resolve(dir, "not an address", &res, &error), NULL);
	assert_null(res.local);
	assert_fails(directory_resolve(dir, "", &res, &error), NULL);
}

static void test_resolve_aliases(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "b@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "c@example.net", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	/* one to many, with a remote forward */
	assert_ok(directory_alias_add(dir, "team@example.org", "a@example.org", &error));
	assert_ok(directory_alias_add(dir, "team@example.org", "b@example.org", &error));
	assert_ok(directory_alias_add(dir, "team@example.org", "out@remote.example", &error));
	check_resolve(dir, "Team@example.org", DIRECTORY_LOCAL, "a@example.org,b@example.org",
	              "out@remote.example");
	/* nested, with duplicates reached along several paths */
	assert_ok(directory_alias_add(dir, "all@example.net", "team@example.org", &error));
	assert_ok(directory_alias_add(dir, "all@example.net", "A@example.org", &error));
	assert_ok(directory_alias_add(dir, "all@example.net", "c@example.net", &error));
	assert_ok(directory_alias_add(dir, "all@example.net", "OUT@remote.example", &error));
	check_resolve(dir, "all@example.net", DIRECTORY_LOCAL,
	              "a@example.org,b@example.org,c@example.net", "out@remote.example");
	/* an alias on a user's address replaces delivery to that user... */
	assert_ok(directory_alias_add(dir, "b@example.org", "a@example.org", &error));
	check_resolve(dir, "b@example.org", DIRECTORY_LOCAL, "a@example.org", "");
	/* ...unless the user is one of its destinations (keep a copy) */
	assert_ok(directory_alias_add(dir, "b@example.org", "b@example.org", &error));
	check_resolve(dir, "b@example.org", DIRECTORY_LOCAL, "a@example.org,b@example.org", "");
	/* an alias whose only destination went away resolves to nothing */
	assert_ok(directory_alias_add(dir, "old@example.net", "c@example.net", &error));
	assert_ok(directory_user_del(dir, "c@example.net", &error));
	check_resolve(dir, "old@example.net", DIRECTORY_UNKNOWN, "", "");
}

static void test_resolve_loops(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "u@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	/* x -> y -> x, and y -> u */
	assert_ok(directory_alias_add(dir, "y@example.org", "u@example.org", &error));
	assert_ok(directory_alias_add(dir, "x@example.org", "y@example.org", &error));
	assert_ok(directory_alias_add(dir, "y@example.org", "x@example.org", &error));
	check_resolve(dir, "x@example.org", DIRECTORY_LOCAL, "u@example.org", "");
	check_resolve(dir, "y@example.org", DIRECTORY_LOCAL, "u@example.org", "");
	/* a pure loop delivers nowhere */
	assert_ok(directory_alias_del(dir, "y@example.org", "u@example.org", &error));
	check_resolve(dir, "x@example.org", DIRECTORY_UNKNOWN, "", "");
}

static void test_resolve_depth(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	char src[64], dst[64];
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "u@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	/* c0 -> c1 -> ... -> c8 -> u: nine levels of aliases */
	strcpy(dst, "u@example.org");
	for (int i = 8; i >= 0; i--) {
		snprintf(src, sizeof(src), "c%d@example.org", i);
		assert_ok(directory_alias_add(dir, src, dst, &error));
		strcpy(dst, src);
	}
	check_resolve(dir, "c1@example.org", DIRECTORY_LOCAL, "u@example.org", "");
	check_resolve(dir, "c0@example.org", DIRECTORY_UNKNOWN, "", "");
}

static void test_resolve_catchall(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	const char *error;

	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_user_add(dir, "b@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_ok(directory_alias_add(dir, "sales@example.org", "b@example.org", &error));
	assert_ok(directory_alias_add(dir, "@example.org", "a@example.org", &error));
	assert_ok(directory_alias_add(dir, "@example.org", "copy@remote.example", &error));
	/* exact matches win over the catch-all */
	check_resolve(dir, "b@example.org", DIRECTORY_LOCAL, "b@example.org", "");
	check_resolve(dir, "sales@example.org", DIRECTORY_LOCAL, "b@example.org", "");
	check_resolve(dir, "whoever@EXAMPLE.org", DIRECTORY_LOCAL, "a@example.org",
	              "copy@remote.example");
	/* other domains are not caught */
	check_resolve(dir, "whoever@example.net", DIRECTORY_UNKNOWN, "", "");
	/* an alias to a missing user of a caught domain lands in the catch-all */
	assert_ok(directory_alias_add(dir, "@example.net", "gone@example.org", &error));
	check_resolve(dir, "z@example.net", DIRECTORY_LOCAL, "a@example.org",
	              "copy@remote.example");
	/* a catch-all that points back into its own domain is cut, not looped */
	assert_ok(directory_alias_del(dir, "@example.org", NULL, &error));
	assert_ok(directory_alias_add(dir, "@example.org", "b@example.org", &error));
	assert_ok(directory_alias_add(dir, "@example.org", "nope@example.net", &error));
	check_resolve(dir, "q@example.org", DIRECTORY_LOCAL, "b@example.org", "");
}

/* --- error kinds --- */

static void test_error_kinds(void **state)
{
	struct directory *dir = ((struct fixture *)*state)->dir;
	const char *error;

	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NONE);
	add_domains(dir);
	assert_ok(directory_user_add(dir, "a@example.org", HASH, DIRECTORY_QUOTA_DEFAULT, &error));
	assert_fails(directory_domain_add(dir, "example.org", &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_EXISTS);
	assert_fails(directory_domain_del(dir, "example.org", false, &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_IN_USE);
	assert_fails(directory_domain_del(dir, "example.com", false, &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NOT_FOUND);
	assert_fails(directory_user_add(dir, "a@example.org", HASH, 0, &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_EXISTS);
	assert_fails(directory_user_add(dir, "bad address", HASH, 0, &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_MALFORMED);
	assert_fails(directory_user_add(dir, "b@example.org", "", 0, &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_INVALID);
	assert_fails(directory_user_set_enabled(dir, "nobody@example.org", false, &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NOT_FOUND);
	assert_fails(directory_alias_add(dir, "x@example.org", "nobody@example.org", &error), NULL);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NOT_FOUND);
	assert_ok(directory_alias_add(dir, "x@example.org", "a@example.org", &error));
	assert_fails(directory_alias_add(dir, "X@example.org", "A@example.org", &error),
	             "alias X@example.org -> A@example.org already exists");
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_EXISTS);
}

/* A backend failure is DATABASE, whatever the call (SQLite only). */
static void test_database_error_kind(void **state)
{
	struct fixture *f = *state;
	struct directory_user *user = NULL;
	const char *error;
	sqlite3 *db;

	add_domains(f->dir);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE aliases; DROP TABLE users", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_fails(directory_user_lookup(f->dir, "a@example.org", &user, &error), NULL);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_DATABASE);
	assert_non_null(strstr(error, "database error"));
	assert_fails(directory_user_add(f->dir, "a@example.org", HASH, 0, &error), NULL);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_DATABASE);
	assert_fails(directory_domain_del(f->dir, "example.org", false, &error), NULL);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_DATABASE);
}

/* SCRAM keys: stored, read back, removed by a new password hash; the
   "any user has keys" probe follows. */
static void test_user_scram(void **state)
{
	struct fixture *f = *state;
	struct directory_user *user = NULL;
	const char *error;

	assert_ok(directory_domain_add(f->dir, "example.org", &error));
	assert_ok(directory_user_add(f->dir, "a@example.org", HASH, 0, &error));
	assert_int_equal(directory_scram_any(f->dir, &error), 0);
	assert_int_equal(directory_user_lookup(f->dir, "a@example.org", &user, &error), 1);
	assert_null(user->scram);
	directory_user_free(&user);
	assert_ok(directory_user_set_scram(f->dir, "A@example.org", "SCRAM-SHA-256$x", &error));
	assert_int_equal(directory_scram_any(f->dir, &error), 1);
	assert_int_equal(directory_user_lookup(f->dir, "a@example.org", &user, &error), 1);
	assert_string_equal(user->scram, "SCRAM-SHA-256$x");
	directory_user_free(&user);
	/* a new hash (an import) drops keys that belong to the old password */
	assert_ok(directory_user_set_password(f->dir, "a@example.org", HASH, &error));
	assert_int_equal(directory_user_lookup(f->dir, "a@example.org", &user, &error), 1);
	assert_null(user->scram);
	directory_user_free(&user);
	assert_int_equal(directory_scram_any(f->dir, &error), 0);
	assert_ok(directory_user_set_scram(f->dir, "a@example.org", "SCRAM-SHA-256$y", &error));
	assert_ok(directory_user_set_scram(f->dir, "a@example.org", NULL, &error));
	assert_int_equal(directory_scram_any(f->dir, &error), 0);
	assert_fails(directory_user_set_scram(f->dir, "b@example.org", "z", &error), NULL);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_NOT_FOUND);
}

/* A version 1 database (before SCRAM keys) is migrated in place: its
   users are kept, without keys. */
static void test_schema_migrate_1(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/v1.db", f->tmpdir);
	struct directory *dir = NULL;
	struct directory_user *user = NULL;
	sqlite3 *db;
	const char *error;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
	                 "CREATE TABLE domains (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE"
	                 " COLLATE NOCASE, created_at INTEGER NOT NULL DEFAULT 0);"
	                 "CREATE TABLE users (id INTEGER PRIMARY KEY, domain_id INTEGER NOT NULL"
	                 " REFERENCES domains(id) ON DELETE CASCADE, address TEXT NOT NULL UNIQUE"
	                 " COLLATE NOCASE, password_hash TEXT NOT NULL, quota_bytes INTEGER NOT"
	                 " NULL DEFAULT 1073741824, enabled INTEGER NOT NULL DEFAULT 1,"
	                 " created_at INTEGER NOT NULL DEFAULT 0);"
	                 "CREATE TABLE aliases (id INTEGER PRIMARY KEY, domain_id INTEGER NOT NULL"
	                 " REFERENCES domains(id) ON DELETE CASCADE, source TEXT NOT NULL COLLATE"
	                 " NOCASE, destination TEXT NOT NULL COLLATE NOCASE, created_at INTEGER"
	                 " NOT NULL DEFAULT 0, UNIQUE(source, destination));"
	                 "INSERT INTO domains(name) VALUES ('example.org');"
	                 "INSERT INTO users(domain_id, address, password_hash) VALUES"
	                 " (1, 'old@example.org', '{BLF-CRYPT}$2y$05$abc');"
	                 "PRAGMA user_version = 1;",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_ok(directory_open(path, &dir, &error));
	assert_int_equal(pragma_int(path, "PRAGMA user_version"), 5);
	assert_int_equal(pragma_int(path, "SELECT count(*) FROM guard_bans"), 0);
	assert_int_equal(directory_user_lookup(dir, "old@example.org", &user, &error), 1);
	assert_string_equal(user->password_hash, "{BLF-CRYPT}$2y$05$abc");
	assert_null(user->scram);
	directory_user_free(&user);
	assert_ok(directory_user_set_scram(dir, "old@example.org", "SCRAM-SHA-256$k", &error));
	directory_close(&dir);
	/* opened again: no second migration, the keys are there */
	assert_ok(directory_open(path, &dir, &error));
	assert_int_equal(directory_scram_any(dir, &error), 1);
	directory_close(&dir);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_del_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_add_and_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_add_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alias_add_del_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_loops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_depth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_catchall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_database_error_kind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_scram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_migrate_1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_scram, setup_memory, teardown),
	    /* the rules again, over the in-memory backend */
	    cmocka_unit_test_setup_teardown(test_domains, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_malformed, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_del_in_use, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_user_add_and_lookup, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_user_add_errors, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_user_update, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_user_list, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_alias_add_del_list, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_basic, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_aliases, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_loops, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_depth, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_catchall, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_error_kinds, setup_memory, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
