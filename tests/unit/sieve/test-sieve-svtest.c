/* Unit test of the .svtest runner (svtest-run.h) and, through it, the
   .svtest files of tests/unit/sieve/svtest/ written from the RFCs'
   examples: every file compiles, has tests, and every test passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>

#include "svtest-run.h"

static void test_runner_sees_failures(void **state)
{
	const char *src = "require \"vnd.dovecot.testsuite\";\n"
	                  "test_set \"message\" text:\nSubject: hi\n\nbody\n.\n;\n"
	                  "test \"passes\" { if not header :is \"subject\" \"hi\" "
	                  "{ test_fail \"wrong\"; } }\n"
	                  "test \"fails\" { if header :is \"subject\" \"hi\" "
	                  "{ test_fail \"expected\"; } }\n"
	                  "test \"run-time error\" { redirect \"a@b.c\"; redirect \"b@b.c\"; "
	                  "redirect \"c@b.c\"; redirect \"d@b.c\"; redirect \"e@b.c\"; }\n"
	                  "test \"fresh result\" { keep; }\n";
	unsigned tests, failed;

	(void)state;
	assert_int_equal(svtest_run_text("inline", src, strlen(src), NULL, &tests, &failed), 0);
	assert_int_equal(tests, 4);
	assert_int_equal(failed, 2);
	/* the extension is not there for ordinary scripts */
	struct sieve_script *s;
	struct sieve_error err;
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), -1);
	assert_string_equal(err.message, "unknown extension \"vnd.dovecot.testsuite\"");
}

static void test_files(void **state)
{
	const char *root = getenv("TERN_SRCDIR");
	char dir[4096];
	unsigned files = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/unit/sieve/svtest", root ? root : ".");
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		size_t l = strlen(e->d_name);
		if (l < 7 || strcmp(e->d_name + l - 7, ".svtest") != 0)
			continue;
		char path[8192];
		unsigned tests, failed;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (svtest_run_file(path, stderr, &tests, &failed) < 0)
			fail_msg("%s does not compile", path);
		if (tests == 0 || failed != 0)
			fail_msg("%s: %u tests, %u failed", path, tests, failed);
		files++;
	}
	closedir(d);
	assert_true(files >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runner_sees_failures),
	    cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
