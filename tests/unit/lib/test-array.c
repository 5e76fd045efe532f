/* Unit tests for src/lib/array.h and array.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/array.h"

struct pair {
	int key;
	const char *value;
};

static void test_append_and_read(void **state)
{
	ARRAY(int) a = ARRAY_INIT;

	for (int i = 0; i < 1000; i++)
		array_append(&a, i * 3);
	assert_int_equal(a.count, 1000);
	assert_int_equal(a.cap, 1024); /* 4, 8, ... doubling */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(a.items[i], i * 3);
	assert_int_equal(*array_last(&a), 999 * 3);
	array_free(&a);
	assert_null(a.items);
	assert_int_equal(a.count, 0);
	assert_int_equal(a.cap, 0);
	array_free(&a); /* twice is fine */
}

static void test_push_zeroes(void **state)
{
	ARRAY(struct pair) a = ARRAY_INIT;
	struct pair *p;

	array_append(&a, ((struct pair){1, "one"}));
	p = array_push(&a);
	assert_int_equal(p->key, 0);
	assert_null(p->value);
	p->key = 2;
	p->value = "two";
	assert_int_equal(a.count, 2);
	assert_ptr_equal(p, &a.items[1]);
	assert_string_equal(a.items[0].value, "one");
	assert_string_equal(a.items[1].value, "two");
	array_free(&a);
}

static void test_reserve_keeps_storage(void **state)
{
	ARRAY(char) a = ARRAY_INIT;
	char *before;

	array_reserve(&a, 100);
	assert_int_equal(a.count, 0);
	assert_true(a.cap >= 100);
	before = a.items;
	for (int i = 0; i < 100; i++)
		array_append(&a, (char)i);
	assert_ptr_equal(a.items, before); /* no reallocation within the reserve */
	array_clear(&a);
	assert_int_equal(a.count, 0);
	assert_ptr_equal(a.items, before);
	array_reserve(&a, 0);
	assert_ptr_equal(a.items, before);
	array_free(&a);
}

static void test_remove_keeps_order(void **state)
{
	ARRAY(int) a = ARRAY_INIT;

	for (int i = 0; i < 5; i++)
		array_append(&a, i);
	array_remove(&a, 1);
	array_remove(&a, 3); /* the last one */
	array_remove(&a, 0);
	assert_int_equal(a.count, 2);
	assert_int_equal(a.items[0], 2);
	assert_int_equal(a.items[1], 3);
	array_free(&a);
}

static void test_steal(void **state)
{
	ARRAY(const char *) a = ARRAY_INIT;
	const char **items;
	size_t count = 99;

	items = array_steal(&a, &count);
	assert_null(items);
	assert_int_equal(count, 0);
	array_append(&a, "x");
	array_append(&a, "y");
	items = array_steal(&a, &count);
	assert_int_equal(count, 2);
	assert_string_equal(items[1], "y");
	assert_null(a.items);
	assert_int_equal(a.count, 0);
	assert_int_equal(a.cap, 0);
	free(items);
}

static void test_next_cap(void **state)
{
	size_t cap = 0;

	assert_int_equal(array_next_cap(0, 0, 1, 8, &cap), 0);
	assert_int_equal(cap, 4);
	assert_int_equal(array_next_cap(4, 4, 1, 8, &cap), 0);
	assert_int_equal(cap, 8);
	assert_int_equal(array_next_cap(8, 3, 5, 8, &cap), 0);
	assert_int_equal(cap, 8); /* enough already */
	assert_int_equal(array_next_cap(8, 8, 100, 8, &cap), 0);
	assert_int_equal(cap, 128);
}

static void test_next_cap_overflow(void **state)
{
	size_t cap = 7;

	/* count + n does not fit */
	assert_int_equal(array_next_cap(0, SIZE_MAX, 1, 1, &cap), -1);
	assert_int_equal(array_next_cap(0, 1, SIZE_MAX, 1, &cap), -1);
	/* the size in bytes does not fit */
	assert_int_equal(array_next_cap(0, SIZE_MAX / 16, 1, 16, &cap), -1);
	assert_int_equal(array_next_cap(0, 0, SIZE_MAX / 8 + 1, 8, &cap), -1);
	assert_int_equal(cap, 7); /* untouched on failure */
	assert_int_equal(array_next_cap(0, 0, 1, 0, &cap), -1);
	/* doubling stops at what fits: the exact limit still works */
	assert_int_equal(array_next_cap(SIZE_MAX / 8 - 1, SIZE_MAX / 8 - 1, 1, 8, &cap), 0);
	assert_int_equal(cap, SIZE_MAX / 8);
	/* past half of size_t, growth is to the exact need */
	assert_int_equal(array_next_cap(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, 1, 1, &cap), 0);
	assert_int_equal(cap, SIZE_MAX / 2 + 2);
}

/* Growing past size_t exits (as out of memory) instead of wrapping. */
static void test_overflow_exits(void **state)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		ARRAY(uint64_t) a = ARRAY_INIT;

		array_append(&a, 1);
		a.count = SIZE_MAX / 8; /* as if that many were there */
		array_reserve(&a, 1);
		_exit(0); /* not reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_and_read),
	    cmocka_unit_test(test_push_zeroes),
	    cmocka_unit_test(test_reserve_keeps_storage),
	    cmocka_unit_test(test_remove_keeps_order),
	    cmocka_unit_test(test_steal),
	    cmocka_unit_test(test_next_cap),
	    cmocka_unit_test(test_next_cap_overflow),
	    cmocka_unit_test(test_overflow_exits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
