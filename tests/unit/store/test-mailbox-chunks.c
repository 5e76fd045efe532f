/* Unit tests for the bounded write transactions of src/store (docs/store.md,
   "Bounded write transactions"): with a write chunk of 3 rows, a sync of
   10 new files, a step-by-step sync and an expunge of 10 messages commit
   in chunks, and every state another connection sees between two chunks
   keeps the invariants: UIDs ascending in delivery order, a prefix of the
   new files, rows and files agreeing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

#include "mailbox-fixture.h"

#define ADDR  MAILBOX_FIXTURE_ADDR
#define FILES 10
#define CHUNK 3

static int setup(void **state)
{
	mail_store_set_write_chunk(CHUNK);
	return mailbox_fixture_setup(state, "mailbox-chunks");
}

static int teardown(void **state)
{
	return mailbox_fixture_teardown(state);
}

/* FILES files in new/, file i with mtime 1000 + i and a name that sorts
   against it (so readdir order, name order and delivery order differ). */
static void drop_new_files(struct mailbox_fixture *f)
{
	for (int i = 0; i < FILES; i++) {
		char *path = xasprintf("%s/new/%d.M%dP1.other", f->maildir, 2000 - i, i);
		char body[64];
		struct timespec ts[2] = {{1000 + i, 0}, {1000 + i, 0}};
		int len = snprintf(body, sizeof(body), "Subject: %d\r\n\r\nhi\r\n", i);

		assert_int_equal(write_file_atomic(path, body, (size_t)len, 0600), 0);
		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
		free(path);
	}
}

/* The message with UID u is file u - 1 (delivery order): its mtime. */
static void assert_delivery_order(struct mailbox *box)
{
	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
		const struct mail_msg *msg = mailbox_msg(box, seq);
		assert_int_equal(msg->uid, seq);
		assert_int_equal(msg->internaldate, 1000 + seq - 1);
	}
}

/* What another connection sees in the index now (SQLite directly, no
   sync of its own): UIDs 1..k with the delivery order's dates, k never
   below the last look (a prefix of the new files, growing). Returns k. */
static uint32_t other_sees(struct mailbox_fixture *f, uint32_t at_least)
{
	char *path = xasprintf("%s/tern-index.db", f->maildir);
	sqlite3 *db;
	sqlite3_stmt *stmt;
	uint32_t k = 0;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT uid, internaldate FROM messages WHERE "
	                                    "mailbox_id = (SELECT id FROM mailboxes WHERE name = "
	                                    "'INBOX') ORDER BY uid",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		k++;
		assert_int_equal(sqlite3_column_int64(stmt, 0), k);
		assert_int_equal(sqlite3_column_int64(stmt, 1), 1000 + k - 1);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(path);
	assert_true(k >= at_least);
	return k;
}

static void test_sync_in_chunks(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mailbox *box;
	const char *error;
	uint32_t recent = 0;

	drop_new_files(f);
	assert_int_equal(mailbox_open(user, "INBOX", false, &box, &error), 0);
	assert_int_equal(mailbox_count(box), FILES);
	assert_delivery_order(box);
	for (uint32_t seq = 1; seq <= FILES; seq++)
		recent += (mailbox_msg(box, seq)->flags & MAIL_RECENT) != 0;
	/* UIDs given in earlier passes are still this view's \Recent */
	assert_int_equal(recent, FILES);
	/* each pass that changed rows bumped highestmodseq: 4 chunks of at
	   most 3 rows (one more for the mailbox row's creation) */
	assert_true(mailbox_highestmodseq(box) >= 1 + (FILES + CHUNK - 1) / CHUNK);
	assert_int_equal(mailbox_uidnext(box), FILES + 1);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_sync_step(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mailbox *box;
	const char *error;
	unsigned passes = 0, growing = 0;
	uint32_t seen = 0;
	int ret;

	drop_new_files(f);
	assert_int_equal(mailbox_open_unsynced(user, "INBOX", false, &box, &error), 0);
	assert_int_equal(mailbox_count(box), 0);
	do {
		ret = mailbox_sync_step(box, &error);
		assert_true(ret >= 0);
		passes++;
		assert_true(passes < 100);
		if (ret == 1) /* the view stays as it was until the last pass */
			assert_int_equal(mailbox_count(box), 0);
		uint32_t now = other_sees(f, seen);
		growing += now > seen;
		seen = now;
	} while (ret == 1);
	/* 4 passes move new/ (3+3+3+1), 4 give UIDs (3+3+3+1); the pass that
	   moves the last file gives the first UIDs */
	assert_true(passes >= 2 * ((FILES + CHUNK - 1) / CHUNK) - 1);
	assert_int_equal(mailbox_count(box), FILES);
	assert_delivery_order(box);
	/* the rows came in several commits, each a longer prefix */
	assert_true(growing >= (FILES + CHUNK - 1) / CHUNK);
	assert_int_equal(mailbox_sync_step(box, &error), 0); /* nothing left */
	mailbox_close(&box);
	mail_user_close(&user);
}

/* Between the chunks of an expunge, a second connection sees every
   message either in both index and Maildir or in neither. */
static void test_expunge_in_chunks(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f), *other;
	struct mailbox *box, *ob;
	uint32_t *seqs;
	size_t count;
	const char *error;

	drop_new_files(f);
	assert_int_equal(mailbox_open(user, "INBOX", false, &box, &error), 0);
	for (uint32_t seq = 1; seq <= FILES; seq++)
		assert_int_equal(mailbox_set_flags(box, seq, MAIL_DELETED, &error), 0);
	assert_int_equal(mailbox_expunge(box, &seqs, &count, &error), 0);
	assert_int_equal(count, FILES);
	for (size_t i = 0; i < count; i++) /* highest first, as sent */
		assert_int_equal(seqs[i], FILES - i);
	free(seqs);
	assert_int_equal(mailbox_count(box), 0);
	other = mailbox_fixture_user(f);
	assert_int_equal(mailbox_open(other, "INBOX", false, &ob, &error), 0);
	assert_int_equal(mailbox_count(ob), 0);
	mailbox_close(&ob);
	mail_user_close(&other);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* A UID-limited expunge across chunks leaves exactly the others. */
static void test_expunge_uids_in_chunks(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mailbox *box;
	uint32_t uids[] = {2, 3, 4, 5, 6, 7, 8}, *seqs;
	size_t count;
	const char *error;

	drop_new_files(f);
	assert_int_equal(mailbox_open(user, "INBOX", false, &box, &error), 0);
	for (uint32_t seq = 1; seq <= FILES; seq++)
		assert_int_equal(mailbox_set_flags(box, seq, MAIL_DELETED, &error), 0);
	assert_int_equal(mailbox_expunge_uids(box, uids, 7, &seqs, &count, &error), 0);
	assert_int_equal(count, 7);
	free(seqs);
	assert_int_equal(mailbox_count(box), 3);
	assert_int_equal(mailbox_msg(box, 1)->uid, 1);
	assert_int_equal(mailbox_msg(box, 2)->uid, 9);
	assert_int_equal(mailbox_msg(box, 3)->uid, 10);
	mailbox_close(&box);
	/* a fresh view from the index and the Maildir agrees */
	assert_int_equal(mailbox_open(user, "INBOX", true, &box, &error), 0);
	assert_int_equal(mailbox_count(box), 3);
	mailbox_close(&box);
	mail_user_close(&user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sync_in_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expunge_in_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expunge_uids_in_chunks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
