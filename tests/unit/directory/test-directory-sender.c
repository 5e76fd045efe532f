/* Unit tests for src/directory/directory-sender.c: the ownership rule as a
   table, and the allowed-sender table over both backends, with a schema
   migration from version 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "directory/directory-memory.h"
#include "directory/directory-sender.h"
#include "directory/directory.h"
#include "lib/xalloc.h"

#define HASH "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA"

/* ---- the rule ---- */

static const char *const none[] = {NULL};
static const char *const sales[] = {"sales@example.org"};
static const char *const domain[] = {"@other.example", "x@example.org"};

static const struct {
	struct sender_facts f;
	bool owned;
} rule_cases[] = {
    {{"alice@example.org", "alice@example.org", false, none, 0}, true},
    /* local parts compare without regard to ASCII case */
    {{"alice@example.org", "Alice@example.org", false, none, 0}, true},
    {{"alice@example.org", "bob@example.org", false, none, 0}, false},
    /* same domain gives nothing by itself */
    {{"alice@example.org", "alicE2@example.org", false, none, 0}, false},
    {{"alice@example.org", "info@example.org", true, none, 0}, true},
    {{"alice@example.org", "sales@example.org", false, sales, 1}, true},
    {{"alice@example.org", "SALES@example.org", false, sales, 1}, true},
    {{"alice@example.org", "sales@example.net", false, sales, 1}, false},
    {{"alice@example.org", "anyone@other.example", false, domain, 2}, true},
    {{"alice@example.org", "anyone@sub.other.example", false, domain, 2}, false},
    {{"alice@example.org", "x@example.org", false, domain, 2}, true},
    {{"alice@example.org", "y@example.org", false, domain, 2}, false},
    /* the null path is never owned here: the caller decides about <> */
    {{"alice@example.org", "", true, domain, 2}, false},
    {{"", "alice@example.org", false, none, 0}, false},
};

static void test_rule_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		bool got = directory_sender_rule(&rule_cases[i].f);

		if (got != rule_cases[i].owned)
			fail_msg("case %zu: %s as %s: got %d", i, rule_cases[i].f.user,
			         rule_cases[i].f.address, got);
	}
}

/* ---- the table ---- */

struct fixture {
	char *tmpdir, *path;
	struct directory *dir;
};

static void populate(struct directory *dir)
{
	const char *error;

	assert_int_equal(directory_domain_add(dir, "example.org", &error), 0);
	assert_int_equal(directory_user_add(dir, "alice@example.org", HASH, 0, &error), 0);
	assert_int_equal(directory_user_add(dir, "bob@example.org", HASH, 0, &error), 0);
	assert_int_equal(directory_alias_add(dir, "info@example.org", "alice@example.org", &error),
	                 0);
	assert_int_equal(directory_alias_add(dir, "team@example.org", "info@example.org", &error),
	                 0);
	assert_int_equal(directory_alias_add(dir, "@example.org", "alice@example.org", &error), 0);
}

static int setup_sqlite(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-sender-XXXXXX";
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->tmpdir = xstrdup(tmpl);
	f->path = xasprintf("%s/directory.db", tmpl);
	if (directory_open(f->path, &f->dir, &error) < 0)
		return -1;
	populate(f->dir);
	*state = f;
	return 0;
}

static int setup_memory(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	directory_open_memory(&f->dir);
	populate(f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	directory_close(&f->dir);
	if (f->tmpdir != NULL) {
		char *cmd = xasprintf("rm -rf '%s'", f->tmpdir);

		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", f->tmpdir);
		free(cmd);
	}
	free(f->path);
	free(f->tmpdir);
	free(f);
	return 0;
}

static int owns(struct directory *dir, const char *user, const char *addr)
{
	const char *error;

	return directory_sender_owns(dir, user, addr, &error);
}

static void test_owns(void **state)
{
	struct fixture *f = *state;
	struct directory *dir = f->dir;
	const char *error;
	char **list;
	size_t count;

	assert_int_equal(owns(dir, "alice@example.org", "alice@example.org"), 1);
	assert_int_equal(owns(dir, "ALICE@Example.ORG", "alice@EXAMPLE.org"), 1);
	/* an alias, directly or through another alias */
	assert_int_equal(owns(dir, "alice@example.org", "info@example.org"), 1);
	assert_int_equal(owns(dir, "alice@example.org", "team@example.org"), 1);
	assert_int_equal(owns(dir, "bob@example.org", "info@example.org"), 0);
	/* the catch-all gives alice no ownership of unknown addresses */
	assert_int_equal(owns(dir, "alice@example.org", "nobody@example.org"), 0);
	assert_int_equal(owns(dir, "bob@example.org", "alice@example.org"), 0);
	assert_int_equal(owns(dir, "bob@example.org", ""), 0);
	assert_int_equal(owns(dir, "bob@example.org", "not an address"), 0);
	assert_int_equal(owns(dir, "ghost@example.org", "ghost@example.org"), 0);

	/* allowed: one address, then a whole domain */
	assert_int_equal(directory_sender_allow(dir, "bob@example.org", "Info@example.org", &error),
	                 0);
	assert_int_equal(owns(dir, "bob@example.org", "info@example.org"), 1);
	assert_int_equal(directory_sender_allow(dir, "bob@example.org", "@Example.NET", &error), 0);
	assert_int_equal(owns(dir, "bob@example.org", "anyone@example.net"), 1);
	assert_int_equal(owns(dir, "alice@example.org", "anyone@example.net"), 0);

	assert_int_equal(directory_sender_list(dir, "bob@example.org", &list, &count, &error), 0);
	assert_int_equal(count, 2);
	assert_string_equal(list[0], "@example.net");
	assert_string_equal(list[1], "Info@example.org");
	directory_names_free(&list, count);

	assert_int_equal(directory_sender_allow(dir, "bob@example.org", "info@example.org", &error),
	                 -1);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_EXISTS);
	assert_int_equal(directory_sender_deny(dir, "bob@example.org", "@example.net", &error), 0);
	assert_int_equal(owns(dir, "bob@example.org", "anyone@example.net"), 0);
	assert_int_equal(directory_sender_deny(dir, "bob@example.org", "@example.net", &error), -1);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NOT_FOUND);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char **list;
	size_t count;

	assert_int_equal(directory_sender_allow(f->dir, "ghost@example.org", "a@b.example", &error),
	                 -1);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_NOT_FOUND);
	assert_int_equal(directory_sender_allow(f->dir, "bob@example.org", "no at sign", &error),
	                 -1);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_MALFORMED);
	assert_int_equal(directory_sender_allow(f->dir, "bob@example.org", "a@[192.0.2.1]", &error),
	                 -1);
	assert_int_equal(directory_error_kind(f->dir), DIRECTORY_ERR_MALFORMED);
	assert_int_equal(directory_sender_allow(f->dir, "bob@example.org", "@", &error), -1);
	assert_int_equal(directory_sender_list(f->dir, "ghost@example.org", &list, &count, &error),
	                 -1);
}

/* Deleting the user deletes its entries: a new user of the same address
   starts with none. */
static void test_user_delete_cascades(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char **list;
	size_t count;

	assert_int_equal(directory_sender_allow(f->dir, "bob@example.org", "x@y.example", &error),
	                 0);
	assert_int_equal(directory_user_del(f->dir, "bob@example.org", &error), 0);
	assert_int_equal(directory_user_add(f->dir, "bob@example.org", HASH, 0, &error), 0);
	assert_int_equal(directory_sender_list(f->dir, "bob@example.org", &list, &count, &error),
	                 0);
	assert_int_equal(count, 0);
	assert_int_equal(owns(f->dir, "bob@example.org", "x@y.example"), 0);
}

/* A version-1 database (before the table) is migrated on open. */
static void test_migration(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	const char *error;

	directory_close(&f->dir);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
	                 "DROP TABLE sender_allow; ALTER TABLE users DROP COLUMN quota_messages;"
	                 " ALTER TABLE domains DROP COLUMN quota_bytes; PRAGMA user_version = 2",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(directory_open(f->path, &f->dir, &error), 0);
	assert_int_equal(directory_sender_allow(f->dir, "bob@example.org", "x@y.example", &error),
	                 0);
	assert_int_equal(owns(f->dir, "bob@example.org", "x@y.example"), 1);
	/* the users survived the migration */
	assert_int_equal(owns(f->dir, "alice@example.org", "info@example.org"), 1);
}

/* RFC 5321 4.5.1: postmaster@ of a local domain always exists. */
static void test_postmaster_fallback(void **state)
{
	struct fixture *f = *state;
	struct directory_resolution res;
	const char *error;

	/* the catch-all of populate() takes it first: delete it */
	assert_int_equal(directory_alias_del(f->dir, "@example.org", NULL, &error), 0);
	assert_int_equal(directory_resolve(f->dir, "postmaster@example.org", &res, &error), 0);
	assert_int_equal(res.result, DIRECTORY_UNKNOWN);
	directory_resolution_free(&res);
	/* no fallback: the domain's first user */
	assert_int_equal(
	    directory_resolve_postmaster(f->dir, "PostMaster@example.org", NULL, &res, &error), 0);
	assert_int_equal(res.result, DIRECTORY_LOCAL);
	assert_int_equal(res.local_count, 1);
	assert_string_equal(res.local[0], "alice@example.org");
	directory_resolution_free(&res);
	/* the setting, local or remote */
	assert_int_equal(directory_resolve_postmaster(f->dir, "postmaster@example.org",
	                                              "bob@example.org", &res, &error),
	                 0);
	assert_string_equal(res.local[0], "bob@example.org");
	directory_resolution_free(&res);
	assert_int_equal(directory_resolve_postmaster(f->dir, "postmaster@example.org",
	                                              "admin@elsewhere.example", &res, &error),
	                 0);
	assert_int_equal(res.result, DIRECTORY_LOCAL);
	assert_int_equal(res.remote_count, 1);
	assert_string_equal(res.remote[0], "admin@elsewhere.example");
	directory_resolution_free(&res);
	/* other unknown addresses stay unknown; an own alias wins */
	assert_int_equal(
	    directory_resolve_postmaster(f->dir, "nobody@example.org", NULL, &res, &error), 0);
	assert_int_equal(res.result, DIRECTORY_UNKNOWN);
	directory_resolution_free(&res);
	assert_int_equal(
	    directory_alias_add(f->dir, "postmaster@example.org", "bob@example.org", &error), 0);
	assert_int_equal(
	    directory_resolve_postmaster(f->dir, "postmaster@example.org", NULL, &res, &error), 0);
	assert_string_equal(res.local[0], "bob@example.org");
	directory_resolution_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_table),
	    cmocka_unit_test_setup_teardown(test_owns, setup_sqlite, teardown),
	    cmocka_unit_test_setup_teardown(test_owns, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup_sqlite, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_user_delete_cascades, setup_sqlite, teardown),
	    cmocka_unit_test_setup_teardown(test_user_delete_cascades, setup_memory, teardown),
	    cmocka_unit_test_setup_teardown(test_migration, setup_sqlite, teardown),
	    cmocka_unit_test_setup_teardown(test_postmaster_fallback, setup_sqlite, teardown),
	    cmocka_unit_test_setup_teardown(test_postmaster_fallback, setup_memory, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
