/* Unit tests for src/store/quota.c: the arithmetic at the limits, the usage
   the index keeps (APPEND, delivery, COPY, expunge, the version 6 -> 7
   migration) and --recalc after files went away by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox.h"
#include "store/quota-settings.h"
#include "store/quota.h"

#define ADDR "bob@example.org"

/* ---- arithmetic ---- */

static void test_full_at_limits(void **state)
{
	struct quota_limit l = {1000, 0, NULL};
	struct quota_usage u = {999, 5, 0};

	(void)state;
	assert_false(quota_full(&l, &u));
	u.bytes = 1000; /* exactly at the limit: nothing more fits */
	assert_true(quota_full(&l, &u));
	u.bytes = 1001;
	assert_true(quota_full(&l, &u));
	/* unlimited */
	l.bytes = 0;
	u.bytes = UINT64_MAX;
	assert_false(quota_full(&l, &u));
	assert_false(quota_limited(&l));
	/* the message count */
	l.messages = 5;
	assert_true(quota_limited(&l));
	assert_true(quota_full(&l, &u));
	u.messages = 4;
	assert_false(quota_full(&l, &u));
}

static void test_fits_at_limits(void **state)
{
	struct quota_limit l = {1000, 0, NULL};
	struct quota_usage u = {900, 0, 0};

	(void)state;
	assert_true(quota_fits(&l, &u, 100));         /* ends exactly at the limit */
	assert_false(quota_fits(&l, &u, 101));        /* one byte over */
	assert_true(quota_fits(&l, &u, 0));           /* SIZE=0 */
	assert_false(quota_fits(&l, &u, UINT64_MAX)); /* no overflow */
	assert_false(quota_fits(&l, &u, UINT64_MAX - 899));
	u.bytes = 1000;
	assert_true(quota_fits(&l, &u, 0));
	assert_false(quota_fits(&l, &u, 1));
	u.bytes = 2000; /* over already (limit lowered) */
	assert_false(quota_fits(&l, &u, 0));
	/* the message count: the next message must fit too */
	l.bytes = 0;
	l.messages = 3;
	u.messages = 2;
	assert_true(quota_fits(&l, &u, UINT64_MAX));
	u.messages = 3;
	assert_false(quota_fits(&l, &u, 1));
}

static void test_levels(void **state)
{
	const unsigned p[] = {95, 80};
	struct quota_limit l = {1000, 0, NULL};
	struct quota_usage u = {799, 0, 0};
	unsigned v;

	(void)state;
	assert_int_equal(quota_level(&l, &u, p, 2), 0);
	u.bytes = 800;
	assert_int_equal(quota_level(&l, &u, p, 2), 80);
	u.bytes = 950;
	assert_int_equal(quota_level(&l, &u, p, 2), 95);
	u.bytes = 5000;
	assert_int_equal(quota_level(&l, &u, p, 2), 95);
	/* huge limits do not overflow */
	l.bytes = UINT64_MAX;
	u.bytes = UINT64_MAX / 100 * 81;
	assert_int_equal(quota_level(&l, &u, p, 2), 80);
	/* by messages */
	l.bytes = 0;
	l.messages = 10;
	u.messages = 8;
	assert_int_equal(quota_level(&l, &u, p, 2), 80);
	assert_int_equal(quota_percent_parse("80%", &v), 0);
	assert_int_equal(v, 80);
	assert_int_equal(quota_percent_parse("0%", &v), -1);
	assert_int_equal(quota_percent_parse("101%", &v), -1);
	assert_int_equal(quota_percent_parse("80", &v), -1);
}

/* ---- usage in the index ---- */

struct fixture {
	char *root;
	struct mail_user *user;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-quota-XXXXXX";
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->root = xstrdup(tmpl);
	if (mail_user_open(f->root, ADDR, &f->user, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->root);
	int ret;

	mail_user_close(&f->user);
	ret = system(cmd);
	free(cmd);
	free(f->root);
	free(f);
	return ret == 0 ? 0 : -1;
}

static void append(struct fixture *f, const char *box, const char *text, unsigned flags)
{
	struct delivery *d;
	uint32_t v, uid;
	const char *error;

	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, text, strlen(text), &error), 0);
	assert_int_equal(mail_user_append(f->user, box, d, flags, 0, &v, &uid, &error), 0);
}

static struct quota_usage usage_of(struct fixture *f)
{
	struct quota_usage u;
	const char *error;

	assert_int_equal(quota_user_usage(f->user, &u, &error), 0);
	return u;
}

/* The usage read by path (as SMTP does) agrees with the open user's. */
static struct quota_usage usage_by_path(struct fixture *f)
{
	struct quota_usage u;
	const char *error;

	assert_int_equal(quota_usage_read(mail_user_path(f->user), &u, &error), 0);
	return u;
}

static void test_usage_append_copy_expunge(void **state)
{
	struct fixture *f = *state;
	uint32_t seqs[2] = {1, 2}, uids[2], v, *gone;
	struct mailbox *box;
	const char *error;
	size_t n;

	assert_int_equal(usage_of(f).bytes, 0);
	append(f, "INBOX", "12345\r\n", 0);      /* 7 bytes */
	append(f, "INBOX", "1234567890\r\n", 0); /* 12 bytes */
	assert_int_equal(usage_of(f).bytes, 19);
	assert_int_equal(usage_of(f).messages, 2);
	assert_int_equal(usage_by_path(f).bytes, 19);
	/* COPY counts the copies */
	assert_int_equal(mail_user_create_mailbox(f->user, "Archive", &error), 0);
	assert_int_equal(mailbox_open(f->user, "INBOX", false, &box, &error), 0);
	assert_int_equal(mailbox_copy(box, seqs, 2, "Archive", &v, uids, &error), 0);
	assert_int_equal(usage_of(f).bytes, 38);
	assert_int_equal(usage_of(f).messages, 4);
	/* expunge frees at once (no sync needed) */
	assert_int_equal(mailbox_set_flags(box, 2, MAIL_DELETED, &error), 0);
	assert_int_equal(mailbox_expunge(box, &gone, &n, &error), 0);
	free(gone);
	assert_int_equal(n, 1);
	assert_int_equal(usage_of(f).bytes, 26);
	assert_int_equal(usage_of(f).messages, 3);
	mailbox_close(&box);
	/* deleting a mailbox frees its messages */
	assert_int_equal(mail_user_delete_mailbox(f->user, "Archive", &error), 0);
	assert_int_equal(usage_of(f).bytes, 7);
	assert_int_equal(usage_of(f).messages, 1);
}

/* A delivery counts at once (pending), and the sync that indexes the
   file takes it over without counting it twice; a target over its quota
   gets nothing on disk. */
static void test_usage_delivery(void **state)
{
	struct fixture *f = *state;
	struct quota_limit limit = {30, 0, NULL};
	struct delivery_target t = {.user = ADDR, .quota = &limit};
	struct delivery_result r;
	struct delivery *d;
	struct mailbox *box;
	const char *error;
	char *newdir;
	DIR *dir;
	int files = 0;

	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, "twenty bytes here\r\n.", 20, &error), 0);
	assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, &error), 0);
	delivery_results_clear(&r, 1);
	assert_int_equal(usage_by_path(f).bytes, 20);
	assert_int_equal(usage_by_path(f).messages, 1);
	/* 20 + 11 > 30: refused, nothing linked */
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, "eleven byte", 11, &error), 0);
	assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, &error), -1);
	assert_true(r.over_quota);
	delivery_results_clear(&r, 1);
	/* exactly to the limit: accepted */
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, "ten bytes!", 10, &error), 0);
	assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, &error), 0);
	assert_false(r.over_quota);
	delivery_results_clear(&r, 1);
	assert_int_equal(usage_by_path(f).bytes, 30);
	newdir = xasprintf("%s/new", mail_user_path(f->user));
	assert_non_null(dir = opendir(newdir));
	for (struct dirent *de; (de = readdir(dir)) != NULL;)
		files += de->d_name[0] != '.';
	closedir(dir);
	free(newdir);
	assert_int_equal(files, 2);
	/* the sync indexes both: still 30, not 60 */
	assert_int_equal(mailbox_open(f->user, "INBOX", false, &box, &error), 0);
	assert_int_equal(mailbox_count(box), 2);
	mailbox_close(&box);
	assert_int_equal(usage_of(f).bytes, 30);
	assert_int_equal(usage_of(f).messages, 2);
	/* full now: no byte more, and the message count */
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, "x", 1, &error), 0);
	assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, &error), -1);
	assert_true(r.over_quota);
	delivery_results_clear(&r, 1);
	limit.bytes = 0;
	limit.messages = 2;
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, "x", 1, &error), 0);
	assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, &error), -1);
	assert_true(r.over_quota);
	delivery_results_clear(&r, 1);
}

/* --recalc after a file was removed by hand and one added by hand. */
static void test_recalc(void **state)
{
	struct fixture *f = *state;
	struct quota_usage u;
	const char *error;
	char *path;
	FILE *fp;
	DIR *dir;
	struct dirent *de;
	char *cur;

	append(f, "INBOX", "aaaaaaaaaa", 0); /* 10 */
	append(f, "INBOX", "bbbbb", 0);      /* 5 */
	assert_int_equal(usage_of(f).bytes, 15);
	cur = xasprintf("%s/cur", mail_user_path(f->user));
	assert_non_null(dir = opendir(cur));
	while ((de = readdir(dir)) != NULL) {
		if (strstr(de->d_name, ",S=10") != NULL) {
			path = xasprintf("%s/%s", cur, de->d_name);
			assert_int_equal(unlink(path), 0);
			free(path);
		}
	}
	closedir(dir);
	free(cur);
	path = xasprintf("%s/new/1.M1P1.byhand,S=3", mail_user_path(f->user));
	assert_non_null(fp = fopen(path, "w"));
	fputs("abc", fp);
	fclose(fp);
	free(path);
	/* not walked: the index still says 15 */
	assert_int_equal(usage_of(f).bytes, 15);
	assert_int_equal(quota_recalc(f->user, &u, &error), 0);
	assert_int_equal(u.bytes, 8);
	assert_int_equal(u.messages, 2);
	assert_int_equal(usage_of(f).bytes, 8);
}

/* A version 6 index (no usage table) gets its usage computed from the
   rows on open, and keeps counting. */
static void test_migration_v6(void **state)
{
	struct fixture *f = *state;
	char *db_path = xasprintf("%s/tern-index.db", mail_user_path(f->user));
	sqlite3 *db;
	const char *error;

	append(f, "INBOX", "1234", 0);
	append(f, "INBOX", "123456", 0);
	mail_user_close(&f->user);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "DROP TRIGGER usage_add; DROP TRIGGER usage_del;"
	                              " DROP TABLE usage; DROP TABLE usage_pending;"
	                              " PRAGMA user_version = 6;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	free(db_path);
	assert_int_equal(mail_user_open(f->root, ADDR, &f->user, &error), 0);
	assert_int_equal(usage_of(f).bytes, 10);
	assert_int_equal(usage_of(f).messages, 2);
	append(f, "INBOX", "1", 0);
	assert_int_equal(usage_of(f).bytes, 11);
	assert_int_equal(quota_usage_set_warned(mail_user_path(f->user), 80, &error), 0);
	assert_int_equal(usage_of(f).warned, 80);
}

/* Deliver len bytes to ADDR with limit: the delivery's return. */
static int deliver_bytes(struct fixture *f, const struct quota_limit *limit, size_t len)
{
	struct delivery_target t = {.user = ADDR, .quota = limit};
	struct delivery_result r;
	struct delivery *d;
	const char *error;
	char *data = xmalloc(len);
	int ret;

	memset(data, 'x', len);
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, data, len, &error), 0);
	free(data);
	ret = delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, &error);
	delivery_results_clear(&r, 1);
	return ret;
}

/* The messages in sub (new or cur) whose text holds needle. */
static int count_in(struct fixture *f, const char *sub, const char *needle)
{
	char *subdir = xasprintf("%s/%s", mail_user_path(f->user), sub), buf[4096];
	DIR *dir = opendir(subdir);
	int n = 0;

	assert_non_null(dir);
	for (struct dirent *de; (de = readdir(dir)) != NULL;) {
		char *path = xasprintf("%s/%s", subdir, de->d_name);
		FILE *fp = de->d_name[0] != '.' ? fopen(path, "r") : NULL;
		size_t len = fp != NULL ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

		buf[len] = '\0';
		n += fp != NULL && strstr(buf, needle) != NULL;
		if (fp != NULL)
			fclose(fp);
		free(path);
	}
	closedir(dir);
	free(subdir);
	return n;
}

/* The messages of INBOX whose text holds needle. */
static int count_with(struct fixture *f, const char *needle)
{
	return count_in(f, "new", needle) + count_in(f, "cur", needle);
}

/* One warning per upward crossing, not per delivery; again after the
   usage fell below the level and crossed it again. */
static void test_warnings(void **state)
{
	struct fixture *f = *state;
	struct quota_warnings w;
	struct quota_limit limit = {10000, 0, &w};
	struct mailbox *box;
	uint32_t *gone;
	size_t n;
	const char *error;

	assert_int_equal(quota_warnings_parse("80%, 95%", &w), 0);
	assert_int_equal(w.count, 2);
	assert_int_equal(quota_warnings_parse("80% 120%", &w), -1);
	assert_int_equal(quota_warnings_parse("80%,95%", &w), 0);
	assert_int_equal(deliver_bytes(f, &limit, 7000), 0); /* 70 % */
	assert_int_equal(count_with(f, "Quota warning"), 0);
	assert_int_equal(deliver_bytes(f, &limit, 1000), 0); /* 80 % */
	assert_int_equal(count_with(f, "Quota warning: 80%"), 1);
	assert_int_equal(usage_by_path(f).warned, 80);
	assert_int_equal(deliver_bytes(f, &limit, 100), 0); /* still 80-95 */
	assert_int_equal(count_with(f, "Quota warning"), 1);
	assert_int_equal(deliver_bytes(f, &limit, 1000), 0); /* 95.7 % with the warning */
	assert_int_equal(count_with(f, "Quota warning: 95%"), 1);
	assert_int_equal(count_with(f, "Quota warning"), 2);
	/* expunge the big one: below 80 %, then cross again */
	assert_int_equal(mailbox_open(f->user, "INBOX", false, &box, &error), 0);
	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
		if (mailbox_msg(box, seq)->size == 7000)
			assert_int_equal(mailbox_set_flags(box, seq, MAIL_DELETED, &error), 0);
	}
	assert_int_equal(mailbox_expunge(box, &gone, &n, &error), 0);
	free(gone);
	mailbox_close(&box);
	assert_int_equal(deliver_bytes(f, &limit, 10), 0); /* lowers the level */
	assert_int_equal(usage_by_path(f).warned, 0);
	assert_int_equal(deliver_bytes(f, &limit, 5000), 0); /* 80.4 % */
	assert_int_equal(count_with(f, "Quota warning: 80%"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_at_limits),
	    cmocka_unit_test(test_fits_at_limits),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test_setup_teardown(test_usage_append_copy_expunge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_usage_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recalc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_v6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
