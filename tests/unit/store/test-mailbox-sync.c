/* Unit tests for the sync fast path of src/store/mailbox-sync.c: a sync
   skips the Maildir scan only when nothing can have changed. A change
   "behind the back" is a change whose directory mtime is then set back to
   what it was, as two changes within one timestamp tick leave it; a skipped
   scan is seen by such a change staying invisible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

#define ADDR "Bob@Example.ORG"

struct fixture {
	char *root;    /* mail_dir */
	char *maildir; /* bob's Maildir */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-mailbox-sync-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->root = xstrdup(tmpl);
	f->maildir = xasprintf("%s/example.org/bob", tmpl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->root);
	int ret = system(cmd);

	free(cmd);
	free(f->root);
	free(f->maildir);
	free(f);
	return ret == 0 ? 0 : -1;
}

/* A message file another program put into dir ("cur" or "new"). */
static void drop_file(struct fixture *f, const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s/%s", f->maildir, dir, name);

	assert_int_equal(write_file_atomic(path, "Subject: x\r\n\r\nhi\r\n", 18, 0600), 0);
	free(path);
}

/* Give cur/ and new/ an mtime secs old: a scan of them is trusted. */
static void age_dirs(struct fixture *f, time_t secs)
{
	struct timespec ts[2] = {{time(NULL) - secs, 0}, {time(NULL) - secs, 0}};
	const char *subs[] = {"cur", "new"};

	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", f->maildir, subs[i]);
		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
		free(path);
	}
}

/* The mtimes of cur/ and new/, to put back with dirs_restore(). */
struct dir_times {
	struct timespec cur[2], new[2];
};

static void dirs_save(struct fixture *f, struct dir_times *t)
{
	char *cur = xasprintf("%s/cur", f->maildir), *new = xasprintf("%s/new", f->maildir);
	struct stat st;

	assert_int_equal(stat(cur, &st), 0);
	t->cur[0] = st.st_atim;
	t->cur[1] = st.st_mtim;
	assert_int_equal(stat(new, &st), 0);
	t->new[0] = st.st_atim;
	t->new[1] = st.st_mtim;
	free(cur);
	free(new);
}

static void dirs_restore(struct fixture *f, const struct dir_times *t)
{
	char *cur = xasprintf("%s/cur", f->maildir), *new = xasprintf("%s/new", f->maildir);

	assert_int_equal(utimensat(AT_FDCWD, cur, t->cur, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, new, t->new, 0), 0);
	free(cur);
	free(new);
}

static struct mail_user *user_open(struct fixture *f)
{
	struct mail_user *user;
	const char *error;

	assert_int_equal(mail_user_open(f->root, ADDR, &user, &error), 0);
	return user;
}

static struct mailbox *box_open(struct mail_user *user)
{
	struct mailbox *box;
	const char *error;

	/* a selecting view, as IMAP SELECT opens (it takes \\Recent) */
	assert_int_equal(mailbox_open_unsynced(user, "INBOX", false, &box, &error), 0);
	mailbox_claim_recent(box);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	return box;
}

/* Sync box; returns the new count, *recent_r (may be NULL) the recent. */
static uint32_t sync_count(struct mailbox *box, uint32_t *recent_r)
{
	struct mailbox_changes ch;
	const char *error;
	uint32_t count;

	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	count = ch.count;
	assert_int_equal(count, mailbox_count(box));
	if (recent_r != NULL)
		*recent_r = ch.recent;
	mailbox_changes_free(&ch);
	return count;
}

/* A Maildir of two messages in cur/ whose directories settled long ago. */
static void settled_maildir(struct fixture *f)
{
	struct mail_user *user = user_open(f);

	mail_user_close(&user); /* creates the Maildir */
	drop_file(f, "cur", "1000.M1P1.other:2,");
	drop_file(f, "cur", "1001.M2P1.other:2,S");
	age_dirs(f, 60);
}

static void test_unchanged_skips_scan(void **state)
{
	struct fixture *f = *state;
	struct dir_times t;
	uint32_t recent;

	settled_maildir(f);
	struct mail_user *user = user_open(f);
	struct mailbox *box = box_open(user);
	assert_int_equal(mailbox_count(box), 2);
	/* a file added with cur/'s mtime put back is not seen: no scan */
	dirs_save(f, &t);
	drop_file(f, "cur", "1002.M3P1.other:2,");
	dirs_restore(f, &t);
	assert_int_equal(sync_count(box, &recent), 2);
	assert_int_equal(recent, 2); /* the view's \Recent is still reported */
	assert_int_equal(sync_count(box, NULL), 2);
	/* once cur/ changes, the next sync scans and finds it */
	age_dirs(f, 90);
	assert_int_equal(sync_count(box, &recent), 3);
	assert_int_equal(recent, 3);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_new_dir_stamped(void **state)
{
	struct fixture *f = *state;
	struct dir_times t;

	settled_maildir(f);
	struct mail_user *user = user_open(f);
	struct mailbox *box = box_open(user);
	dirs_save(f, &t);
	drop_file(f, "new", "1002.M3P1.other");
	dirs_restore(f, &t);
	assert_int_equal(sync_count(box, NULL), 2);
	/* new/ alone changed */
	struct timespec ts[2] = {{0, UTIME_OMIT}, {time(NULL) - 30, 0}};
	char *new = xasprintf("%s/new", f->maildir);
	assert_int_equal(utimensat(AT_FDCWD, new, ts, 0), 0);
	free(new);
	assert_int_equal(sync_count(box, NULL), 3);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* A scan of a directory changed within the last seconds is not trusted:
   a change in the same tick after it may keep the mtime it saw. */
static void test_recent_mtime_rescans(void **state)
{
	struct fixture *f = *state;
	struct dir_times t;

	settled_maildir(f);
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	char *cur = xasprintf("%s/cur", f->maildir);
	assert_int_equal(utimensat(AT_FDCWD, cur, ts, 0), 0);
	free(cur);
	struct mail_user *user = user_open(f);
	struct mailbox *box = box_open(user);
	dirs_save(f, &t);
	drop_file(f, "cur", "1002.M3P1.other:2,");
	dirs_restore(f, &t);
	assert_int_equal(sync_count(box, NULL), 3);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* Another view of the same mail_user (same SQLite connection) changes
   flags: the user's change counter makes this view scan. */
static void test_same_user_change_seen(void **state)
{
	struct fixture *f = *state;
	struct mailbox_changes ch;
	struct dir_times t;
	const char *error;

	settled_maildir(f);
	struct mail_user *user = user_open(f);
	struct mailbox *a = box_open(user), *b = box_open(user);
	dirs_save(f, &t);
	assert_int_equal(mailbox_set_flags(a, 1, MAIL_FLAGGED, &error), 0);
	dirs_restore(f, &t);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch.flags_changed_count, 1);
	assert_int_equal(ch.flags_changed[0], 1);
	assert_int_equal(mailbox_msg(b, 1)->flags & MAIL_FLAGGED, MAIL_FLAGGED);
	mailbox_changes_free(&ch);
	/* and an expunge */
	dirs_save(f, &t);
	assert_int_equal(mailbox_set_flags(a, 2, MAIL_DELETED, &error), 0);
	uint32_t *seqs;
	size_t count;
	assert_int_equal(mailbox_expunge(a, &seqs, &count, &error), 0);
	assert_int_equal(count, 1);
	free(seqs);
	dirs_restore(f, &t);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch.expunged_count, 1);
	assert_int_equal(ch.count, 1);
	mailbox_changes_free(&ch);
	mailbox_close(&a);
	mailbox_close(&b);
	mail_user_close(&user);
}

/* Another connection to the index (another process) changes flags: its
   commit moves SQLite's data_version, so this view scans. */
static void test_other_connection_change_seen(void **state)
{
	struct fixture *f = *state;
	struct mailbox_changes ch;
	struct dir_times t;
	const char *error;

	settled_maildir(f);
	struct mail_user *ua = user_open(f), *ub = user_open(f);
	struct mailbox *a = box_open(ua), *b = box_open(ub);
	assert_int_equal(sync_count(b, NULL), 2);
	dirs_save(f, &t);
	assert_int_equal(mailbox_set_flags(a, 2, MAIL_ANSWERED, &error), 0);
	dirs_restore(f, &t);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch.flags_changed_count, 1);
	assert_int_equal(ch.flags_changed[0], 2);
	assert_int_equal(mailbox_msg(b, 2)->flags, MAIL_ANSWERED);
	mailbox_changes_free(&ch);
	/* b's own scan did not make a's view scan forever: a file added
	   behind the back stays unseen by a settled view */
	age_dirs(f, 90);
	assert_int_equal(sync_count(a, NULL), 2);
	assert_int_equal(sync_count(b, NULL), 2);
	dirs_save(f, &t);
	drop_file(f, "cur", "1002.M3P1.other:2,");
	dirs_restore(f, &t);
	assert_int_equal(sync_count(a, NULL), 2);
	mailbox_close(&a);
	mailbox_close(&b);
	mail_user_close(&ua);
	mail_user_close(&ub);
}

/* The channel's "mailbox changed" makes every view of the user scan. */
static void test_notify_rescans(void **state)
{
	struct fixture *f = *state;
	struct mail_user_registry *reg = mail_user_registry_new(f->root);
	struct mail_user *user;
	struct dir_times t;
	const char *error;

	settled_maildir(f);
	assert_int_equal(mail_user_acquire(reg, ADDR, &user, &error), 0);
	struct mailbox *box = box_open(user);
	dirs_save(f, &t);
	drop_file(f, "cur", "1002.M3P1.other:2,");
	dirs_restore(f, &t);
	assert_int_equal(sync_count(box, NULL), 2);
	mail_user_registry_notify(reg, "someone-else@example.org");
	assert_int_equal(sync_count(box, NULL), 2);
	mail_user_registry_notify(reg, "bob@example.org");
	assert_int_equal(sync_count(box, NULL), 3);
	mailbox_close(&box);
	mail_user_release(&user);
	mail_user_registry_free(&reg);
}

/* A view opened right after another was closed takes its messages when
   nothing changed (SELECT again), and scans when anything did. */
static void test_reopen_uses_snapshot(void **state)
{
	struct fixture *f = *state;
	struct dir_times t;
	const char *error;

	settled_maildir(f);
	struct mail_user *user = user_open(f);
	struct mailbox *box = box_open(user);
	uint32_t uidvalidity = mailbox_uidvalidity(box), uidnext = mailbox_uidnext(box);
	mailbox_close(&box);
	dirs_save(f, &t);
	drop_file(f, "cur", "1002.M3P1.other:2,");
	dirs_restore(f, &t);
	box = box_open(user);
	assert_int_equal(mailbox_count(box), 2); /* no scan */
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	assert_int_equal(mailbox_uidnext(box), uidnext);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_RECENT, 0);
	assert_int_equal(mailbox_msg(box, 2)->flags, MAIL_SEEN);
	mailbox_close(&box);
	/* the directory changed: the next view scans */
	age_dirs(f, 90);
	box = box_open(user);
	assert_int_equal(mailbox_count(box), 3);
	/* a view that changed flags itself leaves no usable snapshot */
	dirs_save(f, &t);
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_FLAGGED, &error), 0);
	mailbox_close(&box);
	drop_file(f, "cur", "1003.M4P1.other:2,");
	dirs_restore(f, &t);
	box = box_open(user);
	assert_int_equal(mailbox_count(box), 4);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* A folder deleted under an open view: the next sync fails, as before. */
static void test_deleted_folder_fails(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box;
	const char *error;

	settled_maildir(f);
	struct mail_user *user = user_open(f);
	assert_int_equal(mail_user_create_mailbox(user, "Old", &error), 0);
	assert_int_equal(mailbox_open(user, "Old", false, &box, &error), 0);
	struct mail_user *other = user_open(f);
	assert_int_equal(mail_user_delete_mailbox(other, "Old", &error), 0);
	assert_int_equal(mailbox_sync(box, NULL, &error), -1);
	mailbox_close(&box);
	mail_user_close(&user);
	mail_user_close(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unchanged_skips_scan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_dir_stamped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recent_mtime_rescans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_user_change_seen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_connection_change_seen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_rescans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_uses_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_folder_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
