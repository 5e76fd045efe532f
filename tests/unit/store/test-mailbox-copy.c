/* Unit tests for src/store/mailbox-copy.c (APPEND, COPY, DELETE, RENAME),
   mailbox_expunge_uids() and delivery_set_mtime(), in a temporary mail
   directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox.h"

#define ADDR "bob@example.org"

struct fixture {
	char *root;
	struct mail_user *user;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-copy-XXXXXX";
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

static uint32_t append(struct fixture *f, const char *box, const char *text, unsigned flags,
                       int64_t date)
{
	struct delivery *d;
	uint32_t uidvalidity, uid;
	const char *error;

	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, text, strlen(text), &error), 0);
	assert_int_equal(mail_user_append(f->user, box, d, flags, date, &uidvalidity, &uid, &error),
	                 0);
	assert_true(uidvalidity > 0);
	return uid;
}

static struct mailbox *box_open(struct fixture *f, const char *name)
{
	struct mailbox *box;
	const char *error;

	/* a selecting view, as IMAP SELECT opens (it takes \\Recent) */
	assert_int_equal(mailbox_open_unsynced(f->user, name, false, &box, &error), 0);
	mailbox_claim_recent(box);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	return box;
}

static void test_append(void **state)
{
	struct fixture *f = *state;
	struct delivery *d;
	uint32_t v, uid;
	const char *error;

	assert_int_equal(append(f, "INBOX", "a\r\n", 0, 0), 1);
	assert_int_equal(append(f, "INBOX", "bb\r\n", MAIL_SEEN | MAIL_DRAFT, 1000000000), 2);
	struct mailbox *box = box_open(f, "INBOX");
	assert_int_equal(mailbox_count(box), 2);
	assert_int_equal(mailbox_msg(box, 2)->flags & MAIL_STORED_FLAGS, MAIL_SEEN | MAIL_DRAFT);
	assert_int_equal(mailbox_msg(box, 2)->internaldate, 1000000000);
	assert_int_equal(mailbox_msg(box, 2)->size, 4);
	mailbox_close(&box);
	/* A missing mailbox: the delivery is consumed, nothing stored. */
	assert_false(mail_user_mailbox_exists(f->user, "Nope"));
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(mail_user_append(f->user, "Nope", d, 0, 0, &v, &uid, &error), -1);
	assert_true(mail_user_mailbox_exists(f->user, "inbox"));
}

static void *commit_thread(void *arg)
{
	mail_append_commit(arg);
	return NULL;
}

/* The three steps of an append, the commit on another thread (as IMAP
   APPEND runs it on the worker pool): nothing is visible before it, the
   UID and flags come at finish. */
static void test_append_steps(void **state)
{
	struct fixture *f = *state;
	struct mail_append *a;
	struct delivery *d;
	pthread_t thread;
	uint32_t v, uid;
	const char *error;

	assert_int_equal(append(f, "INBOX", "a\r\n", 0, 0), 1);
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, "hello\r\n", 7, &error), 0);
	assert_int_equal(mail_user_append_begin(f->user, "inbox", d, 1234567890, &a, &error), 0);
	struct mailbox *box = box_open(f, "INBOX");
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(pthread_create(&thread, NULL, commit_thread, a), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(mail_user_append_finish(&a, MAIL_FLAGGED, NULL, 0, &v, &uid, &error), 0);
	assert_null(a);
	assert_int_equal(uid, 2);
	assert_int_equal(v, mailbox_uidvalidity(box));
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	assert_int_equal(mailbox_count(box), 2);
	assert_int_equal(mailbox_msg(box, 2)->flags & MAIL_STORED_FLAGS, MAIL_FLAGGED);
	assert_int_equal(mailbox_msg(box, 2)->internaldate, 1234567890);
	assert_int_equal(mailbox_msg(box, 2)->size, 7);
	mailbox_close(&box);
	/* a missing mailbox fails at begin, the delivery consumed */
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(mail_user_append_begin(f->user, "Nope", d, 0, &a, &error), -1);
}

static void test_copy_and_expunge_uids(void **state)
{
	struct fixture *f = *state;
	uint32_t seqs[3] = {1, 2, 3}, uids[3], v, *expunged;
	size_t n;
	const char *error;

	for (int i = 0; i < 3; i++)
		append(f, "INBOX", "m\r\n", i == 1 ? MAIL_FLAGGED : 0, 1000 + i);
	assert_int_equal(mail_user_create_mailbox(f->user, "Archive", &error), 0);
	struct mailbox *src = box_open(f, "INBOX");
	assert_int_equal(mailbox_copy(src, seqs + 1, 2, "Archive", &v, uids, &error), 0);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 2);
	struct mailbox *dst = box_open(f, "Archive");
	assert_int_equal(mailbox_uidvalidity(dst), v);
	assert_int_equal(mailbox_count(dst), 2);
	assert_int_equal(mailbox_msg(dst, 1)->flags & MAIL_STORED_FLAGS, MAIL_FLAGGED);
	assert_int_equal(mailbox_msg(dst, 2)->internaldate, 1002);
	mailbox_close(&dst);
	/* Copy to a missing mailbox fails. */
	assert_int_equal(mailbox_copy(src, seqs, 1, "Nope", &v, uids, &error), -1);
	/* UID EXPUNGE: only \Deleted messages of the set. */
	for (uint32_t seq = 1; seq <= 3; seq++)
		assert_int_equal(mailbox_set_flags(src, seq, MAIL_DELETED, &error), 0);
	uint32_t set[2] = {1, 3};
	assert_int_equal(mailbox_expunge_uids(src, set, 2, &expunged, &n, &error), 0);
	assert_int_equal(n, 2);
	assert_int_equal(expunged[0], 3);
	assert_int_equal(expunged[1], 1);
	free(expunged);
	assert_int_equal(mailbox_count(src), 1);
	assert_int_equal(mailbox_msg(src, 1)->uid, 2);
	assert_int_equal(mailbox_expunge_uids(src, NULL, 0, &expunged, &n, &error), 0);
	assert_int_equal(n, 0);
	mailbox_close(&src);
}

static void test_delete_rename(void **state)
{
	struct fixture *f = *state;
	const char *error;
	uint32_t v;

	assert_int_equal(mail_user_create_mailbox(f->user, "A", &error), 0);
	assert_int_equal(mail_user_create_mailbox(f->user, "A/B", &error), 0);
	append(f, "A/B", "x\r\n", 0, 0);
	struct mailbox *box = box_open(f, "A/B");
	v = mailbox_uidvalidity(box);
	mailbox_close(&box);
	assert_int_equal(mail_user_delete_mailbox(f->user, "A", &error), -1); /* children */
	assert_int_equal(mail_user_delete_mailbox(f->user, "INBOX", &error), -1);
	assert_int_equal(mail_user_rename_mailbox(f->user, "A", "C", &error), 0);
	assert_false(mail_user_mailbox_exists(f->user, "A/B"));
	box = box_open(f, "C/B");
	assert_int_equal(mailbox_uidvalidity(box), v);
	assert_int_equal(mailbox_count(box), 1);
	mailbox_close(&box);
	assert_int_equal(mail_user_rename_mailbox(f->user, "C/B", "C", &error), -1); /* exists */
	assert_int_equal(mail_user_rename_mailbox(f->user, "Nope", "D", &error), -1);
	assert_int_equal(mail_user_rename_mailbox(f->user, "C", "INBOX", &error), -1);
	assert_int_equal(mail_user_delete_mailbox(f->user, "C/B", &error), 0);
	assert_false(mail_user_mailbox_exists(f->user, "C/B"));
	assert_int_equal(mail_user_delete_mailbox(f->user, "C", &error), 0);
	assert_int_equal(mail_user_delete_mailbox(f->user, "C", &error), -1);
	/* A new mailbox of a deleted name is empty, with a new UIDVALIDITY. */
	assert_int_equal(mail_user_create_mailbox(f->user, "C/B", &error), 0);
	box = box_open(f, "C/B");
	assert_int_equal(mailbox_count(box), 0);
	assert_true(mailbox_uidvalidity(box) != v);
	mailbox_close(&box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_steps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_and_expunge_uids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_rename, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
