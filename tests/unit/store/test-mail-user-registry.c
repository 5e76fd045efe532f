/* Unit tests for src/store/mail-user-registry.c: one shared mail_user per
   Maildir, reference counted; idle users' index connections closed and
   opened again on the next use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "store/maildir.h"
#include "store/mailbox-private.h"
#include "store/mailbox.h"

static char *make_root(void)
{
	char tmpl[] = "/tmp/tern-test-registry-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void remove_root(char *root)
{
	char *cmd = xasprintf("rm -rf '%s'", root);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
}

static void test_shared(void **state)
{
	char *root = make_root();
	struct mail_user_registry *reg = mail_user_registry_new(root);
	struct mail_user *a, *b, *c;
	struct mailbox *box_a, *box_b;
	const char *error;

	(void)state;
	assert_int_equal(mail_user_acquire(reg, "Bob@Example.org", &a, &error), 0);
	assert_int_equal(mail_user_acquire(reg, "bob@example.ORG", &b, &error), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(mail_user_acquire(reg, "carol@example.org", &c, &error), 0);
	assert_ptr_not_equal(a, c);
	assert_int_equal(mail_user_registry_count(reg), 2);
	/* each session has its own view on the shared user */
	assert_int_equal(mailbox_open(a, "INBOX", false, &box_a, &error), 0);
	assert_int_equal(mailbox_open(b, "INBOX", true, &box_b, &error), 0);
	assert_ptr_not_equal(box_a, box_b);
	mailbox_close(&box_a);
	mailbox_close(&box_b);
	mail_user_release(&a);
	assert_null(a);
	assert_int_equal(mail_user_registry_count(reg), 2);
	mail_user_release(&b);
	assert_int_equal(mail_user_registry_count(reg), 1);
	/* a refused address acquires nothing */
	assert_int_equal(mail_user_acquire(reg, "no-at-sign", &a, &error), -1);
	assert_int_equal(mail_user_registry_count(reg), 1);
	/* reopened after the last release */
	assert_int_equal(mail_user_acquire(reg, "bob@example.org", &a, &error), 0);
	assert_int_equal(mail_user_registry_count(reg), 2);
	mail_user_release(&a);
	/* the registry may go before its last user */
	mail_user_registry_free(&reg);
	assert_null(reg);
	assert_int_equal(mailbox_open(c, "INBOX", false, &box_a, &error), 0);
	mailbox_close(&box_a);
	mail_user_release(&c);
	mail_user_release(&c);
	mail_user_registry_free(&reg);
	remove_root(root);
}

/* A message file in the cur/ of the user's INBOX. */
static void drop_message(struct mail_user *user, const char *name)
{
	char *path = xasprintf("%s/cur/%s", mail_user_path(user), name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs("Subject: x\r\n\r\nhi\r\n", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* Set the mtime of INBOX's cur/ and new/ long ago, as a Maildir nobody
   touched for a while: a sync then trusts its stamp (docs/store.md). */
static void settle(struct mail_user *user)
{
	const struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	const char *subs[2] = {"cur", "new"};

	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", mail_user_path(user), subs[i]);

		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
		free(path);
	}
}

static void sync_box(struct mailbox *box)
{
	struct mailbox_changes ch;
	const char *error;

	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	mailbox_changes_free(&ch);
}

/* A view opened before the close stays valid and usable after it. */
static void test_view_across_close(void **state)
{
	char *root = make_root();
	struct mail_user_registry *reg = mail_user_registry_new(root);
	struct mail_user *u;
	struct mailbox *box;
	const char *error;

	(void)state;
	assert_int_equal(mail_user_acquire(reg, "dave@example.org", &u, &error), 0);
	drop_message(u, "1000000000.1.host:2,");
	drop_message(u, "1000000001.2.host:2,S");
	assert_int_equal(mailbox_open(u, "INBOX", false, &box, &error), 0);
	assert_int_equal(mailbox_count(box), 2);
	/* used just now: a sweep with a delay keeps it, one without closes it */
	assert_int_equal(mail_user_registry_close_idle(reg, 3600), 0);
	assert_int_equal(mail_user_registry_close_idle(reg, 0), 1);
	assert_int_equal(mail_user_registry_close_idle(reg, 0), 0);
	/* the view's messages do not depend on the connection */
	assert_int_equal(mailbox_msg(box, 2)->flags & MAIL_SEEN, MAIL_SEEN);
	/* a change opens it again, with fresh prepared statements */
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_FLAGGED, &error), 0);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_FLAGGED, MAIL_FLAGGED);
	assert_int_equal(mail_user_registry_close_idle(reg, 0), 1);
	sync_box(box);
	assert_int_equal(mailbox_count(box), 2);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_FLAGGED, MAIL_FLAGGED);
	mailbox_close(&box);
	/* a view opened while closed */
	assert_int_equal(mail_user_registry_close_idle(reg, 0), 1);
	assert_int_equal(mailbox_open(u, "INBOX", true, &box, &error), 0);
	assert_int_equal(mailbox_count(box), 2);
	mailbox_close(&box);
	mail_user_release(&u);
	mail_user_registry_free(&reg);
	remove_root(root);
}

/* A session entering IDLE gives its user's connection back at once; never
   one inside a transaction, and the views keep working after it. */
static void test_release_now(void **state)
{
	char *root = make_root();
	struct mail_user_registry *reg = mail_user_registry_new(root);
	struct mail_user *u;
	struct mailbox *box;
	struct mail_index *index;
	const char *error;

	(void)state;
	assert_int_equal(mail_user_acquire(reg, "fay@example.org", &u, &error), 0);
	drop_message(u, "1000000000.1.host:2,S");
	assert_int_equal(mailbox_open(u, "INBOX", false, &box, &error), 0);
	assert_true(mail_user_index_release(u));
	assert_false(mail_user_index_release(u)); /* already closed */
	assert_int_equal(mail_user_registry_close_idle(reg, 0), 0);
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_FLAGGED, &error), 0);
	assert_int_equal(mail_user_index(u, &index, &error), 0);
	assert_int_equal(mail_index_begin(index, &error), 0);
	assert_false(mail_user_index_release(u)); /* a transaction is open */
	mail_index_rollback(index);
	assert_true(mail_user_index_release(u));
	sync_box(box);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_FLAGGED, MAIL_FLAGGED);
	mailbox_close(&box);
	mail_user_release(&u);
	mail_user_registry_free(&reg);
	remove_root(root);
}

/* A change another connection (another process) commits while the
   index is closed is seen by the next sync after the reopen. */
static void test_change_while_closed(void **state)
{
	char *root = make_root();
	struct mail_user_registry *reg = mail_user_registry_new(root);
	struct mail_user *u, *other;
	struct mailbox *box, *other_box;
	const char *error;

	(void)state;
	assert_int_equal(mail_user_acquire(reg, "erin@example.org", &u, &error), 0);
	drop_message(u, "1000000000.1.host:2,");
	assert_int_equal(mailbox_open(u, "INBOX", false, &box, &error), 0);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_SEEN, 0);
	settle(u);
	sync_box(box); /* its stamp is trusted now */
	assert_int_equal(mail_user_registry_close_idle(reg, 0), 1);
	assert_int_equal(mail_user_open(root, "erin@example.org", &other, &error), 0);
	assert_int_equal(mailbox_open(other, "INBOX", false, &other_box, &error), 0);
	assert_int_equal(mailbox_set_flags(other_box, 1, MAIL_SEEN | MAIL_ANSWERED, &error), 0);
	mailbox_close(&other_box);
	mail_user_close(&other);
	/* the directories look untouched: only the index says something
	   changed, and the data_version of the new connection cannot be
	   compared with the old one's */
	settle(u);
	sync_box(box);
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(mailbox_msg(box, 1)->flags & (MAIL_SEEN | MAIL_ANSWERED),
	                 MAIL_SEEN | MAIL_ANSWERED);
	mailbox_close(&box);
	mail_user_release(&u);
	mail_user_registry_free(&reg);
	remove_root(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shared),
	    cmocka_unit_test(test_view_across_close),
	    cmocka_unit_test(test_change_while_closed),
	    cmocka_unit_test(test_release_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
