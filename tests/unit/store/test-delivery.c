/* Unit tests for src/store/delivery.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/maildir.h"

static int setup_dir(void **state)
{
	char tmpl[] = "/tmp/tern-test-delivery-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	*state = xstrdup(tmpl);
	return 0;
}

static int teardown_dir(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", (char *)*state);
	int ret = system(cmd);

	free(cmd);
	free(*state);
	return ret == 0 ? 0 : -1;
}

/* The number of entries (other than . and ..) in dir; -1 if missing. */
static int count_entries(const char *dir, char **last_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		if (last_r != NULL) {
			free(*last_r);
			*last_r = xstrdup(de->d_name);
		}
	}
	closedir(d);
	return n;
}

/* A message of size bytes, written in odd-sized pieces. */
static struct delivery *write_message(const char *root, size_t size, struct buf *expect)
{
	struct delivery *d;
	const char *error;
	char piece[1000];

	assert_int_equal(delivery_begin(root, &d, &error), 0);
	for (size_t off = 0; off < size;) {
		size_t n = size - off < 777 ? size - off : 777;
		for (size_t i = 0; i < n; i++)
			piece[i] = (char)('a' + (off + i) % 26);
		assert_int_equal(delivery_write(d, piece, n, &error), 0);
		buf_append(expect, piece, n);
		off += n;
	}
	assert_int_equal(delivery_size(d), size);
	return d;
}

static void check_delivered(const char *path, const struct buf *expect)
{
	char *data;
	size_t len;
	struct stat st;

	assert_int_equal(read_file(path, 1 << 30, &data, &len), 0);
	assert_int_equal(len, expect->len);
	assert_memory_equal(data, expect->data, len);
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void deliver_to(const char *root, size_t ntargets, size_t size)
{
	struct buf expect = BUF_INIT;
	const char *error;
	char *targets[3];
	char **paths;
	char *spool = xasprintf("%s/.spool", root);
	struct delivery *d = write_message(root, size, &expect);

	for (size_t i = 0; i < ntargets; i++)
		targets[i] = xasprintf("%s/example.org/user%zu", root, i);
	assert_int_equal(
	    delivery_commit_paths(d, (const char *const *)targets, ntargets, &paths, &error), 0);
	for (size_t i = 0; i < ntargets; i++) {
		char *new_dir = xasprintf("%s/new", targets[i]);
		char *expect_end = xasprintf(",S=%zu", size);
		assert_int_equal(strncmp(paths[i], new_dir, strlen(new_dir)), 0);
		assert_string_equal(paths[i] + strlen(paths[i]) - strlen(expect_end), expect_end);
		check_delivered(paths[i], &expect);
		char *cur = xasprintf("%s/cur", targets[i]);
		assert_int_equal(count_entries(cur, NULL), 0);
		free(cur);
		free(new_dir);
		free(expect_end);
		free(targets[i]);
	}
	assert_int_equal(count_entries(spool, NULL), 0);
	delivery_paths_free(paths, ntargets);
	buf_free(&expect);
	free(spool);
}

static void test_deliver_one(void **state)
{
	deliver_to(*state, 1, 100);
	/* again into the existing Maildir, a message of several chunks */
	deliver_to(*state, 1, 200 * 1024 + 3);
}

static void test_deliver_three(void **state)
{
	deliver_to(*state, 3, 70000);
}

static void test_deliver_empty(void **state)
{
	deliver_to(*state, 1, 0);
}

static void test_abort(void **state)
{
	const char *root = *state;
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(root, 150000, &expect);
	char *spool = xasprintf("%s/.spool", root);

	assert_int_equal(count_entries(spool, NULL), 1);
	delivery_abort(&d);
	assert_null(d);
	delivery_abort(&d);
	assert_int_equal(count_entries(spool, NULL), 0);
	buf_free(&expect);
	free(spool);
}

static void test_failed_link_leaves_nothing(void **state)
{
	const char *root = *state;
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(root, 10, &expect);
	char *good = xasprintf("%s/a.org/good", root);
	char *blocker = xasprintf("%s/a.org/bad", root);
	char *good_new = xasprintf("%s/new", good);
	char *spool = xasprintf("%s/.spool", root);
	const char *targets[2] = {good, blocker};
	const char *error;

	/* a plain file where the second Maildir should be */
	assert_int_equal(mkdir_p(good, 0700), 0);
	assert_int_equal(write_file_atomic(blocker, "x", 1, 0600), 0);
	assert_int_equal(delivery_commit(d, targets, 2, &error), -1);
	assert_non_null(error);
	assert_int_equal(count_entries(good_new, NULL), 0);
	assert_int_equal(count_entries(spool, NULL), 0);
	buf_free(&expect);
	free(good);
	free(blocker);
	free(good_new);
	free(spool);
}

/* A prefix set at the end lands in front of the content: from the write
   buffer (small message) and through a second spool file (large one). */
static void deliver_prefixed(const char *root, size_t size)
{
	static const char prefix[] = "Authentication-Results: h; none\r\nSubject: x\r\n\r\n";
	struct buf body = BUF_INIT, expect = BUF_INIT;
	struct delivery *d = write_message(root, size, &body);
	char *target = xasprintf("%s/example.org/p", root);
	char *spool = xasprintf("%s/.spool", root);
	char *expect_end = xasprintf(",S=%zu", size + strlen(prefix));
	const char *error;
	char **paths;

	delivery_set_prefix(d, "replaced", 8);
	delivery_set_prefix(d, prefix, strlen(prefix));
	assert_int_equal(delivery_size(d), size);
	buf_append(&expect, prefix, strlen(prefix));
	buf_append(&expect, body.data, body.len);
	assert_int_equal(delivery_commit_paths(d, (const char *const *)&target, 1, &paths, &error),
	                 0);
	check_delivered(paths[0], &expect);
	assert_string_equal(paths[0] + strlen(paths[0]) - strlen(expect_end), expect_end);
	assert_int_equal(count_entries(spool, NULL), 0);
	delivery_paths_free(paths, 1);
	buf_free(&body);
	buf_free(&expect);
	free(target);
	free(spool);
	free(expect_end);
}

static void test_prefix(void **state)
{
	deliver_prefixed(*state, 0);
	deliver_prefixed(*state, 1000);
	deliver_prefixed(*state, 64 * 1024);
	deliver_prefixed(*state, 64 * 1024 + 1);
	deliver_prefixed(*state, 300 * 1024 + 7);
}

static void test_unique_names(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	maildir_unique_name(&a);
	maildir_unique_name(&b);
	assert_string_not_equal(a.data, b.data);
	assert_true(maildir_name_valid(a.data));
	assert_null(strchr(a.data, ':'));
	assert_null(strchr(a.data, '/'));
	buf_free(&a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deliver_one, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_deliver_three, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_deliver_empty, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_abort, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_failed_link_leaves_nothing, setup_dir,
	                                    teardown_dir),
	    cmocka_unit_test_setup_teardown(test_prefix, setup_dir, teardown_dir),
	    cmocka_unit_test(test_unique_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
