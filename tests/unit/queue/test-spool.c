/* Unit tests for src/queue/spool.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/spool.h"
#include "store/delivery.h"

struct fixture {
	char *root;
	char *mail_dir;
	char *queue_dir;
	struct spool *sp;
};

static int setup(void **state)
{
	char tmpl[] = "/tmp/tern-test-spool-XXXXXX";
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *error = NULL;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->root = xstrdup(tmpl);
	f->mail_dir = xasprintf("%s/mail", tmpl);
	f->queue_dir = xasprintf("%s/data/queue", tmpl);
	if (spool_open(f->queue_dir, true, &f->sp, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->root);
	int ret = system(cmd);

	free(cmd);
	spool_free(&f->sp);
	free(f->root);
	free(f->mail_dir);
	free(f->queue_dir);
	free(f);
	return ret == 0 ? 0 : -1;
}

/* A delivery holding prefix + body. */
static struct delivery *new_delivery(struct fixture *f, const char *prefix, const char *body)
{
	struct delivery *d;
	const char *error = NULL;

	assert_int_equal(delivery_begin(f->mail_dir, &d, &error), 0);
	assert_int_equal(delivery_write(d, body, strlen(body), &error), 0);
	if (prefix != NULL)
		delivery_set_prefix(d, prefix, strlen(prefix));
	return d;
}

static void make_envelope(struct spool_envelope *env, const char *rcpt)
{
	memset(env, 0, sizeof(*env));
	env->arrival = 1764766000;
	env->sender = xstrdup("alice@example.org");
	env->client_ip = xstrdup("127.0.0.1");
	spool_envelope_add_rcpt(env, rcpt, SPOOL_NOTIFY_FAILURE, NULL, NULL, NULL);
}

static char *read_all(const char *path)
{
	char *data;
	size_t len;

	assert_int_equal(read_file(path, 1 << 20, &data, &len), 0);
	return data;
}

/* The names in dir, sorted, joined by spaces (malloc'ed). */
static char *names(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *list[64];
	size_t n = 0;
	struct buf b = BUF_INIT;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL && n < 64) {
		if (de->d_name[0] != '.')
			list[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (strcmp(list[j], list[i]) < 0) {
				char *t = list[i];
				list[i] = list[j];
				list[j] = t;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i > 0 ? " " : "", list[i]);
		free(list[i]);
	}
	return b.len > 0 ? buf_steal(&b) : xstrdup("");
}

static void test_write_read_remove(void **state)
{
	struct fixture *f = *state;
	struct delivery *d =
	    new_delivery(f, "Return-Path: <alice@example.org>\r\n", "Subject: hi\r\n\r\nbody\r\n");
	struct spool_envelope env, back;
	enum spool_error kind;
	const char *error = NULL;
	char **ids, *data_path, *data, *expect, *listing;
	size_t count;

	make_envelope(&env, "bob@remote.test");
	env.data_skip = strlen("Return-Path: <alice@example.org>\r\n");
	assert_int_equal(spool_write(f->sp, d, &env, &error), 0);
	delivery_abort(&d);
	assert_non_null(env.id);
	assert_true(spool_id_valid(env.id));
	assert_int_equal(env.size, strlen("Subject: hi\r\n\r\nbody\r\n"));
	/* the two files, and the delivery's spool file gone */
	expect = xasprintf("%s.env %s.msg", env.id, env.id);
	listing = names(f->queue_dir);
	assert_string_equal(listing, expect);
	free(listing);
	free(expect);
	data_path = spool_data_path(f->sp, env.id);
	data = read_all(data_path);
	assert_string_equal(data,
	                    "Return-Path: <alice@example.org>\r\nSubject: hi\r\n\r\nbody\r\n");
	free(data);
	/* list and read back */
	assert_int_equal(spool_list(f->sp, &ids, &count, &error), 0);
	assert_int_equal(count, 1);
	assert_string_equal(ids[0], env.id);
	assert_null(ids[1]);
	spool_ids_free(&ids);
	assert_int_equal(spool_read(f->sp, env.id, &back, &kind, &error), 0);
	assert_string_equal(back.sender, "alice@example.org");
	assert_int_equal(back.size, env.size);
	assert_int_equal(back.data_skip, env.data_skip);
	assert_string_equal(back.rcpts.items[0].address, "bob@remote.test");
	assert_int_equal(back.rcpts.items[0].notify, SPOOL_NOTIFY_FAILURE);
	spool_envelope_clear(&back);
	/* remove: nothing is left */
	assert_int_equal(spool_remove(f->sp, env.id, &kind, &error), 0);
	listing = names(f->queue_dir);
	assert_string_equal(listing, "");
	free(listing);
	assert_int_equal(spool_remove(f->sp, env.id, &kind, &error), -1);
	assert_int_equal(kind, SPOOL_ERROR_NOT_FOUND);
	assert_int_equal(spool_read(f->sp, env.id, &back, &kind, &error), -1);
	assert_int_equal(kind, SPOOL_ERROR_NOT_FOUND);
	free(data_path);
	spool_envelope_clear(&env);
}

/* The delivery stays usable for local delivery after the spool took its data. */
static void test_shared_with_local_delivery(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, "X: 1\r\n", "body\r\n");
	struct delivery_target target = {.user = "carol@example.org"};
	struct delivery_result result;
	struct spool_envelope env;
	struct spool_entry *e;
	const char *error = NULL;
	char *data_path, *local;
	struct stat a, b;

	make_envelope(&env, "bob@remote.test");
	assert_int_equal(spool_prepare(f->sp, d, &env, &e, &error), 0);
	assert_int_equal(delivery_commit(d, &target, 1, DELIVERY_ALL_OR_NOTHING, &result, &error),
	                 0);
	assert_int_equal(spool_commit(&e, &error), 0);
	assert_null(e);
	data_path = spool_data_path(f->sp, env.id);
	local = read_all(result.path);
	assert_string_equal(local, "X: 1\r\nbody\r\n");
	/* same file system: one inode, the message written once */
	assert_int_equal(stat(data_path, &a), 0);
	assert_int_equal(stat(result.path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	free(local);
	free(data_path);
	delivery_results_clear(&result, 1);
	spool_envelope_clear(&env);
}

/* A queue on another file system (/dev/shm is tmpfs here) gets a copy,
   fsynced, with the prefix, and the delivery still works locally. */
static void test_other_file_system(void **state)
{
	struct fixture *f = *state;
	char tmpl[] = "/dev/shm/tern-test-spool-XXXXXX";
	struct delivery *d = new_delivery(f, "X: 1\r\n", "body\r\n");
	struct spool_envelope env;
	struct spool *sp;
	const char *error = NULL;
	char *data_path, *data, *cmd;
	struct stat a, b;

	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(spool_open(tmpl, true, &sp, &error), 0);
	make_envelope(&env, "bob@remote.test");
	assert_int_equal(spool_write(sp, d, &env, &error), 0);
	assert_int_equal(env.size, strlen("X: 1\r\nbody\r\n"));
	data_path = spool_data_path(sp, env.id);
	data = read_all(data_path);
	assert_string_equal(data, "X: 1\r\nbody\r\n");
	assert_int_equal(stat(data_path, &a), 0);
	assert_int_equal(stat(f->root, &b), 0);
	if (a.st_dev != b.st_dev)
		assert_int_equal(a.st_nlink, 1); /* a copy, not a link */
	free(data);
	free(data_path);
	delivery_abort(&d);
	spool_envelope_clear(&env);
	spool_free(&sp);
	cmd = xasprintf("rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* Before the commit nothing is listed; abort leaves nothing. */
static void test_prepare_invisible_then_abort(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, NULL, "body\r\n");
	struct spool_envelope env, back;
	struct spool_entry *e;
	enum spool_error kind;
	const char *error = NULL;
	char **ids, *listing, *expect;
	size_t count;

	make_envelope(&env, "bob@remote.test");
	assert_int_equal(spool_prepare(f->sp, d, &env, &e, &error), 0);
	assert_string_equal(spool_entry_id(e), env.id);
	expect = xasprintf("%s.msg %s.tmp", env.id, env.id);
	listing = names(f->queue_dir);
	assert_string_equal(listing, expect);
	free(listing);
	free(expect);
	assert_int_equal(spool_list(f->sp, &ids, &count, &error), 0);
	assert_int_equal(count, 0);
	spool_ids_free(&ids);
	assert_int_equal(spool_read(f->sp, env.id, &back, &kind, &error), -1);
	assert_int_equal(kind, SPOOL_ERROR_NOT_FOUND);
	spool_abort(&e);
	assert_null(e);
	listing = names(f->queue_dir);
	assert_string_equal(listing, "");
	free(listing);
	delivery_abort(&d);
	spool_envelope_clear(&env);
}

/* A bad envelope is refused before anything is written. */
static void test_prepare_refuses_bad_envelope(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, NULL, "body\r\n");
	struct spool_envelope env = {0};
	struct spool_entry *e = NULL;
	const char *error = NULL;
	char *listing;

	env.sender = xstrdup("a@b.test");
	env.client_ip = xstrdup("127.0.0.1"); /* no recipient */
	assert_int_equal(spool_prepare(f->sp, d, &env, &e, &error), -1);
	assert_non_null(error);
	assert_null(e);
	listing = names(f->queue_dir);
	assert_string_equal(listing, "");
	free(listing);
	delivery_abort(&d);
	spool_envelope_clear(&env);
}

static void write_file_text(const char *path, const char *text)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0600), 0);
}

static void age(const char *path, int seconds)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* What a crash at each instant leaves: readers ignore it, cleanup removes
   the old debris and keeps young debris and complete entries. */
static void test_crash_debris(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, NULL, "body\r\n");
	struct spool_envelope env;
	const char *error = NULL;
	char **ids, *p, *listing, *expect;
	size_t count, removed;
	const char *debris[] = {"aaaa1.msg", "aaaa2.msg",   "aaaa2.tmp",
	                        "aaaa3.env", "aaaa4.state", "young.msg",
	                        "young.tmp", "youngr.msg",  "youngr.state"};

	make_envelope(&env, "bob@remote.test");
	assert_int_equal(spool_write(f->sp, d, &env, &error), 0);
	delivery_abort(&d);
	for (size_t i = 0; i < sizeof(debris) / sizeof(debris[0]); i++) {
		p = xasprintf("%s/%s", f->queue_dir, debris[i]);
		write_file_text(p, "x");
		if (strncmp(debris[i], "young", 5) != 0)
			age(p, 7200);
		free(p);
	}
	/* a complete old entry is never debris, nor its state */
	p = xasprintf("%s/%s.msg", f->queue_dir, env.id);
	age(p, 7200);
	free(p);
	p = xasprintf("%s/%s.state", f->queue_dir, env.id);
	write_file_text(p, "x");
	age(p, 7200);
	free(p);
	/* an envelope without a valid id name, and one that does not parse */
	p = xasprintf("%s/bad.name.env", f->queue_dir);
	write_file_text(p, "x");
	free(p);
	p = xasprintf("%s/broken.env", f->queue_dir);
	write_file_text(p, "tern-envelope 1\nid broken\n");
	free(p);
	p = xasprintf("%s/broken.msg", f->queue_dir);
	write_file_text(p, "x");
	free(p);
	assert_int_equal(spool_list(f->sp, &ids, &count, &error), 0);
	assert_int_equal(count, 2); /* ours and "broken"; not aaaa3 without its data */
	assert_string_equal(ids[0], env.id);
	assert_string_equal(ids[1], "broken");
	spool_ids_free(&ids);
	{
		struct spool_envelope back;
		enum spool_error kind;

		assert_int_equal(spool_read(f->sp, "broken", &back, &kind, &error), -1);
		assert_int_equal(kind, SPOOL_ERROR_MALFORMED);
		assert_int_equal(spool_read(f->sp, "../x", &back, &kind, &error), -1);
		assert_int_equal(kind, SPOOL_ERROR_MALFORMED);
		assert_int_equal(spool_read(f->sp, "aaaa3", &back, &kind, &error), -1);
		assert_int_equal(kind, SPOOL_ERROR_NOT_FOUND);
	}
	/* youngr: a removal interrupted after the .env went (the .state says
	   the entry was committed): debris at any age */
	assert_int_equal(spool_cleanup(f->sp, 3600, &removed, &error), 0);
	assert_int_equal(removed, 7);
	listing = names(f->queue_dir);
	/* ids start with a digit: they sort first */
	expect = xasprintf("%s.env %s.msg %s.state bad.name.env broken.env broken.msg young.msg "
	                   "young.tmp",
	                   env.id, env.id, env.id);
	assert_string_equal(listing, expect);
	free(listing);
	free(expect);
	spool_envelope_clear(&env);
}

/* Ids sort by creation time, so the list is oldest first. */
static void test_list_order(void **state)
{
	struct fixture *f = *state;
	char *made[5];
	char **ids;
	size_t count;
	const char *error = NULL;

	for (int i = 0; i < 5; i++) {
		struct delivery *d = new_delivery(f, NULL, "body\r\n");
		struct spool_envelope env;

		make_envelope(&env, "bob@remote.test");
		assert_int_equal(spool_write(f->sp, d, &env, &error), 0);
		delivery_abort(&d);
		made[i] = xstrdup(env.id);
		spool_envelope_clear(&env);
		usleep(2);
	}
	assert_int_equal(spool_list(f->sp, &ids, &count, &error), 0);
	assert_int_equal(count, 5);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(ids[i], made[i]);
		free(made[i]);
	}
	spool_ids_free(&ids);
}

static void test_missing_dir_is_empty(void **state)
{
	struct fixture *f = *state;
	struct spool *sp;
	char **ids, *dir = xasprintf("%s/nowhere", f->root);
	size_t count, removed;
	const char *error = NULL;

	assert_int_equal(spool_open(dir, false, &sp, &error), 0);
	assert_int_equal(spool_list(sp, &ids, &count, &error), 0);
	assert_int_equal(count, 0);
	spool_ids_free(&ids);
	assert_int_equal(spool_cleanup(sp, 0, &removed, &error), 0);
	spool_free(&sp);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_read_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_with_local_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_file_system, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_invisible_then_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_refuses_bad_envelope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_debris, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_dir_is_empty, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
