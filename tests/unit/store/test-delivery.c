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
	char *users[3];
	struct delivery_target targets[3] = {{0}};
	struct delivery_result results[3];
	char *spool = xasprintf("%s/.spool", root);
	struct delivery *d = write_message(root, size, &expect);

	for (size_t i = 0; i < ntargets; i++) {
		users[i] = xasprintf("User%zu@Example.ORG", i);
		targets[i].user = users[i];
	}
	assert_int_equal(
	    delivery_commit(d, targets, ntargets, DELIVERY_ALL_OR_NOTHING, results, &error), 0);
	for (size_t i = 0; i < ntargets; i++) {
		char *new_dir = xasprintf("%s/example.org/user%zu/new/", root, i);
		char *expect_end = xasprintf(",S=%zu", size);
		assert_int_equal(results[i].ret, 0);
		assert_int_equal(strncmp(results[i].path, new_dir, strlen(new_dir)), 0);
		assert_null(strchr(results[i].path + strlen(new_dir), '/'));
		assert_string_equal(results[i].path + strlen(results[i].path) - strlen(expect_end),
		                    expect_end);
		check_delivered(results[i].path, &expect);
		char *cur = xasprintf("%s/example.org/user%zu/cur", root, i);
		assert_int_equal(count_entries(cur, NULL), 0);
		free(cur);
		free(new_dir);
		free(expect_end);
		free(users[i]);
	}
	assert_int_equal(count_entries(spool, NULL), 0);
	delivery_results_clear(results, ntargets);
	for (size_t i = 0; i < ntargets; i++)
		assert_null(results[i].path);
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

/* Two targets, the second of which cannot be delivered to: a plain file
   where its Maildir should be. */
static int commit_good_and_bad(const char *root, enum delivery_mode mode,
                               struct delivery_result results[2], const char **error_r)
{
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(root, 10, &expect);
	char *good = xasprintf("%s/a.org/good", root);
	char *blocker = xasprintf("%s/a.org/bad", root);
	const struct delivery_target targets[2] = {{.user = "good@a.org"}, {.user = "bad@a.org"}};
	int ret;

	assert_int_equal(mkdir_p(good, 0700), 0);
	assert_int_equal(write_file_atomic(blocker, "x", 1, 0600), 0);
	ret = delivery_commit(d, targets, 2, mode, results, error_r);
	buf_free(&expect);
	free(good);
	free(blocker);
	return ret;
}

static void test_failed_link_leaves_nothing(void **state)
{
	const char *root = *state;
	char *good_new = xasprintf("%s/a.org/good/new", root);
	char *spool = xasprintf("%s/.spool", root);
	struct delivery_result results[2];
	const char *error = NULL;

	assert_int_equal(commit_good_and_bad(root, DELIVERY_ALL_OR_NOTHING, results, &error), -1);
	assert_non_null(error);
	assert_int_equal(results[0].ret, -1);
	assert_int_equal(results[1].ret, -1);
	assert_null(results[0].path);
	assert_null(results[1].path);
	assert_string_equal(error, results[1].error);
	assert_int_equal(count_entries(good_new, NULL), 0);
	assert_int_equal(count_entries(spool, NULL), 0);
	free(good_new);
	free(spool);
}

/* Per target: the good one keeps its copy, the bad one alone fails. */
static void test_per_target_failure(void **state)
{
	const char *root = *state;
	char *good_new = xasprintf("%s/a.org/good/new/", root);
	char *spool = xasprintf("%s/.spool", root);
	struct delivery_result results[2];
	const char *error = NULL;
	char *name = NULL;

	assert_int_equal(commit_good_and_bad(root, DELIVERY_PER_TARGET, results, &error), -1);
	assert_non_null(error);
	assert_int_equal(results[0].ret, 0);
	assert_non_null(results[0].path);
	assert_int_equal(strncmp(results[0].path, good_new, strlen(good_new)), 0);
	assert_int_equal(results[1].ret, -1);
	assert_null(results[1].path);
	assert_non_null(results[1].error);
	assert_int_equal(count_entries(good_new, &name), 1);
	assert_string_equal(name, results[0].path + strlen(good_new));
	assert_int_equal(count_entries(spool, NULL), 0);
	delivery_results_clear(results, 2);
	free(name);
	free(good_new);
	free(spool);
}

/* A target that names no usable user or mailbox fails alone. */
static void test_bad_target(void **state)
{
	const char *root = *state;
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(root, 5, &expect);
	const struct delivery_target targets[3] = {
	    {.user = "nobody"}, {.user = "ok@b.org", .mailbox = "a//b"}, {.user = "ok@b.org"}};
	struct delivery_result results[3];
	const char *error = NULL;

	assert_int_equal(delivery_commit(d, targets, 3, DELIVERY_PER_TARGET, results, &error), -1);
	assert_int_equal(results[0].ret, -1);
	assert_int_equal(results[1].ret, -1);
	assert_int_equal(results[2].ret, 0);
	check_delivered(results[2].path, &expect);
	delivery_results_clear(results, 3);
	buf_free(&expect);
}

/* Flags put the file into cur/ with its info; a mailbox names a Maildir++
   folder, created if missing; keywords become the letters of the folder's
   dovecot-keywords (docs/store.md, "Keywords"). */
/* A 27th keyword gets no letter: counted as dropped; a known one (any
   case) reuses its letter. */
static void test_keywords_beyond_letters(void **state)
{
	const char *root = *state;
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(root, 10, &expect);
	char *names[27];
	struct delivery_result results[2];
	const char *error = NULL;
	static const char *const again[] = {"K3", "k0"};

	for (int i = 0; i < 27; i++)
		names[i] = xasprintf("k%d", i);
	const struct delivery_target targets[2] = {
	    {.user = "v@c.org", .keywords = (const char *const *)names, .keyword_count = 27},
	    {.user = "v@c.org", .keywords = again, .keyword_count = 2},
	};
	assert_int_equal(delivery_commit(d, targets, 2, DELIVERY_PER_TARGET, results, &error), 0);
	assert_int_equal(results[0].keywords_dropped, 1);
	assert_string_equal(strstr(results[0].path, ":2,"), ":2,abcdefghijklmnopqrstuvwxyz");
	assert_int_equal(results[1].keywords_dropped, 0);
	assert_string_equal(strstr(results[1].path, ":2,"), ":2,ad");
	delivery_results_clear(results, 2);
	for (int i = 0; i < 27; i++)
		free(names[i]);
	buf_free(&expect);
}

static void test_flags_and_mailbox(void **state)
{
	const char *root = *state;
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(root, 42, &expect);
	static const char *const keywords[] = {"$Label1", "work"};
	const struct delivery_target targets[3] = {
	    {.user = "u@c.org", .flags = MAIL_SEEN | MAIL_FLAGGED},
	    {.user = "u@c.org", .mailbox = "Junk", .keywords = keywords, .keyword_count = 2},
	    {.user = "u@c.org", .mailbox = "inbox"},
	};
	struct delivery_result results[3];
	char *cur = xasprintf("%s/c.org/u/cur/", root);
	char *junk_new = xasprintf("%s/c.org/u/.Junk/cur/", root);
	char *kwfile = xasprintf("%s/c.org/u/.Junk/dovecot-keywords", root);
	char *data;
	size_t len;
	char *new_dir = xasprintf("%s/c.org/u/new/", root);
	const char *error = NULL;

	assert_int_equal(delivery_commit(d, targets, 3, DELIVERY_PER_TARGET, results, &error), 0);
	assert_int_equal(strncmp(results[0].path, cur, strlen(cur)), 0);
	assert_string_equal(results[0].path + strlen(results[0].path) - strlen(",S=42:2,FS"),
	                    ",S=42:2,FS");
	assert_int_equal(results[0].keywords_dropped, 0);
	assert_int_equal(strncmp(results[1].path, junk_new, strlen(junk_new)), 0);
	assert_int_equal(results[1].keywords_dropped, 0);
	assert_string_equal(results[1].path + strlen(results[1].path) - strlen(":2,ab"), ":2,ab");
	assert_int_equal(read_file(kwfile, 4096, &data, &len), 0);
	assert_string_equal(data, "0 $Label1\n1 work\n");
	free(data);
	free(kwfile);
	assert_int_equal(strncmp(results[2].path, new_dir, strlen(new_dir)), 0);
	for (size_t i = 0; i < 3; i++)
		check_delivered(results[i].path, &expect);
	assert_int_equal(count_entries(new_dir, NULL), 1);
	assert_int_equal(count_entries(cur, NULL), 1);
	delivery_results_clear(results, 3);
	buf_free(&expect);
	free(cur);
	free(junk_new);
	free(new_dir);
}

static void test_no_targets(void **state)
{
	struct buf expect = BUF_INIT;
	struct delivery *d = write_message(*state, 5, &expect);
	char *spool = xasprintf("%s/.spool", (char *)*state);
	const char *error = NULL;

	assert_int_equal(delivery_commit(d, NULL, 0, DELIVERY_PER_TARGET, NULL, &error), -1);
	assert_non_null(error);
	assert_int_equal(count_entries(spool, NULL), 0);
	buf_free(&expect);
	free(spool);
}

/* A prefix set at the end lands in front of the content: from the write
   buffer (small message) and through a second spool file (large one). */
static void deliver_prefixed(const char *root, size_t size)
{
	static const char prefix[] = "Authentication-Results: h; none\r\nSubject: x\r\n\r\n";
	struct buf body = BUF_INIT, expect = BUF_INIT;
	struct delivery *d = write_message(root, size, &body);
	const struct delivery_target target = {.user = "p@example.org"};
	struct delivery_result result;
	char *spool = xasprintf("%s/.spool", root);
	char *expect_end = xasprintf(",S=%zu", size + strlen(prefix));
	const char *error;

	delivery_set_prefix(d, "replaced", 8);
	delivery_set_prefix(d, prefix, strlen(prefix));
	assert_int_equal(delivery_size(d), size);
	buf_append(&expect, prefix, strlen(prefix));
	buf_append(&expect, body.data, body.len);
	assert_int_equal(delivery_commit(d, &target, 1, DELIVERY_ALL_OR_NOTHING, &result, &error),
	                 0);
	check_delivered(result.path, &expect);
	assert_string_equal(result.path + strlen(result.path) - strlen(expect_end), expect_end);
	assert_int_equal(count_entries(spool, NULL), 0);
	delivery_results_clear(&result, 1);
	buf_free(&body);
	buf_free(&expect);
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
	    cmocka_unit_test_setup_teardown(test_per_target_failure, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_bad_target, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_keywords_beyond_letters, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_flags_and_mailbox, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_no_targets, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_prefix, setup_dir, teardown_dir),
	    cmocka_unit_test(test_unique_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
