/* Unit tests for src/outbound/queue-role.c that need no running role: the
   flush requests `tern queue flush` leaves for it. */
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
#include "outbound/queue-role.h"

static void test_flush_request(void **state)
{
	char dir[] = "/tmp/test-queue-flush-XXXXXX";
	char *flush, *path;
	const char *error;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	/* no flush directory: the role never ran */
	assert_int_equal(queue_flush_request(dir, NULL, &error), -1);
	flush = queue_flush_dir(dir);
	assert_int_equal(mkdir(flush, 0700), 0);
	assert_int_equal(queue_flush_request(dir, NULL, &error), 0);
	assert_int_equal(queue_flush_request(dir, "0661bb0133bbacac8ff6fad6", &error), 0);
	/* an id names a file: nothing else is accepted */
	assert_int_equal(queue_flush_request(dir, "../x", &error), -1);
	assert_int_equal(queue_flush_request(dir, "", &error), -1);
	path = xasprintf("%s/all", flush);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	free(path);
	path = xasprintf("%s/0661bb0133bbacac8ff6fad6", flush);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	free(path);
	assert_int_equal(rmdir(flush), 0);
	free(flush);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flush_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
