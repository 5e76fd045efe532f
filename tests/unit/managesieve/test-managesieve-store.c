/* Unit tests for src/managesieve/managesieve-store.c: script names (RFC
   5804 1.6) and every store operation in a temporary directory, with the
   quotas. */
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

#include "lib/xalloc.h"
#include "managesieve/managesieve-store.h"

static void test_names(void **state)
{
	char longname[MSIEVE_NAME_MAX + 2];

	(void)state;
	assert_true(msieve_name_valid("main", 4));
	assert_true(msieve_name_valid("Mes r\xc3\xa8gles", 11));
	assert_true(msieve_name_valid("..", 2));
	assert_false(msieve_name_valid("", 0));
	assert_false(msieve_name_valid("a/b", 3));
	assert_false(msieve_name_valid("a\tb", 3));
	assert_false(msieve_name_valid("a\x7f", 2));
	assert_false(msieve_name_valid("a\0b", 3));
	assert_false(msieve_name_valid("\xc2\x85", 2));        /* U+0085, C1 */
	assert_false(msieve_name_valid("\xe2\x80\xa8", 3));    /* U+2028 */
	assert_false(msieve_name_valid("\xc3", 1));            /* truncated */
	assert_false(msieve_name_valid("\xc0\xaf", 2));        /* overlong "/" */
	assert_false(msieve_name_valid("\xed\xa0\x80", 3));    /* surrogate */
	assert_true(msieve_name_valid("\xf0\x9f\x98\x80", 4)); /* emoji */
	memset(longname, 'a', sizeof(longname));
	assert_true(msieve_name_valid(longname, MSIEVE_NAME_MAX));
	assert_false(msieve_name_valid(longname, MSIEVE_NAME_MAX + 1));
}

struct fixture {
	char root[64];
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/tern-msieve-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->dir = msieve_store_dir(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->root);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->dir);
	free(f);
	return 0;
}

/* The listing as "name,name*," (* for the active one). */
static char *listing(const char *dir)
{
	char **names, *active, out[1024] = "";
	size_t count;
	const char *error;

	assert_int_equal(msieve_store_list(dir, &names, &count, &active, &error), MSIEVE_OK);
	for (size_t i = 0; i < count; i++) {
		strcat(out, names[i]);
		if (active != NULL && strcmp(active, names[i]) == 0)
			strcat(out, "*");
		strcat(out, ",");
	}
	msieve_names_free(names, count);
	free(active);
	return xstrdup(out);
}

static void assert_listing(const char *dir, const char *want)
{
	char *got = listing(dir);

	assert_string_equal(got, want);
	free(got);
}

static void test_operations(void **state)
{
	struct fixture *f = *state;
	struct msieve_quota q = {0, 0};
	const char *error = NULL;
	char *data, *path;
	size_t len;

	assert_listing(f->dir, ""); /* no directory yet */
	assert_int_equal(msieve_store_put(f->dir, "b", "keep;", 5, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_put(f->dir, "a", "stop;", 5, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_put(f->dir, "x/y", "stop;", 5, &q, &error), MSIEVE_BADNAME);
	assert_listing(f->dir, "a,b,");
	assert_int_equal(msieve_store_get(f->dir, "a", &data, &len, &error), MSIEVE_OK);
	assert_int_equal(len, 5);
	assert_string_equal(data, "stop;");
	free(data);
	assert_int_equal(msieve_store_get(f->dir, "c", &data, &len, &error), MSIEVE_NONEXISTENT);
	/* replace */
	assert_int_equal(msieve_store_put(f->dir, "a", "discard;", 8, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_get(f->dir, "a", &data, &len, &error), MSIEVE_OK);
	assert_string_equal(data, "discard;");
	free(data);
	/* activate, and the file delivery reads */
	assert_int_equal(msieve_store_setactive(f->dir, "c", &error), MSIEVE_NONEXISTENT);
	assert_int_equal(msieve_store_setactive(f->dir, "b", &error), MSIEVE_OK);
	assert_listing(f->dir, "a,b*,");
	path = xasprintf("%s/active", f->dir);
	{
		char buf[16] = "";
		FILE *fp = fopen(path, "r");

		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		assert_string_equal(buf, "b");
	}
	free(path);
	assert_int_equal(msieve_store_delete(f->dir, "b", &error), MSIEVE_ACTIVE);
	assert_int_equal(msieve_store_delete(f->dir, "c", &error), MSIEVE_NONEXISTENT);
	/* rename keeps it active; never onto an existing name */
	assert_int_equal(msieve_store_rename(f->dir, "b", "a", &error), MSIEVE_ALREADYEXISTS);
	assert_int_equal(msieve_store_rename(f->dir, "c", "d", &error), MSIEVE_NONEXISTENT);
	assert_int_equal(msieve_store_rename(f->dir, "b", "c", &error), MSIEVE_OK);
	assert_listing(f->dir, "a,c*,");
	assert_int_equal(msieve_store_setactive(f->dir, "", &error), MSIEVE_OK);
	assert_int_equal(msieve_store_setactive(f->dir, NULL, &error), MSIEVE_OK);
	assert_listing(f->dir, "a,c,");
	assert_null(msieve_store_active(f->dir));
	assert_int_equal(msieve_store_delete(f->dir, "c", &error), MSIEVE_OK);
	assert_listing(f->dir, "a,");
}

static void test_quota(void **state)
{
	struct fixture *f = *state;
	struct msieve_quota q = {2, 10};
	const char *error = NULL;

	assert_int_equal(msieve_store_havespace(f->dir, "a", 10, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_havespace(f->dir, "a", 11, &q, &error), MSIEVE_MAXSIZE);
	assert_int_equal(msieve_store_havespace(f->dir, "", 1, &q, &error), MSIEVE_BADNAME);
	assert_int_equal(msieve_store_put(f->dir, "a", "keep;", 5, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_put(f->dir, "b", "keep;", 5, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_put(f->dir, "c", "keep;", 5, &q, &error), MSIEVE_MAXSCRIPTS);
	assert_int_equal(msieve_store_havespace(f->dir, "c", 1, &q, &error), MSIEVE_MAXSCRIPTS);
	/* replacing is not one more */
	assert_int_equal(msieve_store_havespace(f->dir, "a", 1, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_put(f->dir, "a", "stop;", 5, &q, &error), MSIEVE_OK);
	assert_int_equal(msieve_store_put(f->dir, "a", "01234567890", 11, &q, &error),
	                 MSIEVE_MAXSIZE);
	assert_listing(f->dir, "a,b,");
}

static void test_ignores_other_files(void **state)
{
	struct fixture *f = *state;
	struct msieve_quota q = {0, 0};
	const char *error = NULL;
	char *p;
	FILE *fp;

	assert_int_equal(msieve_store_put(f->dir, "a", "keep;", 5, &q, &error), MSIEVE_OK);
	p = xasprintf("%s/notes.txt", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	free(p);
	/* an active file naming a missing script: none active */
	p = xasprintf("%s/active", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("gone\n", fp);
	fclose(fp);
	free(p);
	assert_listing(f->dir, "a,");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_operations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignores_other_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
