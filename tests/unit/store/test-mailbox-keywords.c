/* Unit tests for keywords (src/store/mailbox-keywords.c, the keyword part
   of flag changes, sync and COPY) and \Recent (the per-mailbox boundary),
   in a temporary mail directory. */
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
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox.h"

#define ADDR "kw@example.org"

struct fixture {
	char *root;
	char *maildir;
	struct mail_user *user;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-kw-XXXXXX";
	const char *error;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->root = xstrdup(tmpl);
	f->maildir = xasprintf("%s/example.org/kw", f->root);
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
	free(f->maildir);
	free(f->root);
	free(f);
	return ret == 0 ? 0 : -1;
}

static void deliver(struct fixture *f, int n)
{
	for (int i = 0; i < n; i++) {
		struct delivery *d;
		struct delivery_target t = {.user = ADDR};
		struct delivery_result r = {0};
		const char *error;

		assert_int_equal(delivery_begin(f->root, &d, &error), 0);
		assert_int_equal(delivery_write(d, "x\r\n", 3, &error), 0);
		assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_ALL_OR_NOTHING, &r, &error), 0);
		delivery_results_clear(&r, 1);
	}
}

/* mode: 0 a selecting view (claims \Recent), 1 read-only (EXAMINE), 2 a
   read-write view that does not claim (the store's own). */
static struct mailbox *open_view(struct mail_user *user, const char *name, int mode)
{
	struct mailbox *box;
	const char *error;

	assert_int_equal(mailbox_open_unsynced(user, name, mode == 1, &box, &error), 0);
	if (mode == 0)
		mailbox_claim_recent(box);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	return box;
}

static char *kw_file(struct fixture *f, const char *folder)
{
	char *path = xasprintf("%s/%sdovecot-keywords", f->maildir, folder);
	char *data = NULL;
	size_t len;

	if (read_file(path, 4096, &data, &len) < 0)
		data = NULL;
	free(path);
	return data;
}

static uint64_t get(struct mailbox *box, const char *const *names, size_t count)
{
	uint64_t mask = 0;
	const char *error;

	assert_int_equal(mailbox_keywords_get(box, names, count, &mask, &error), 0);
	return mask;
}

static void change(struct mailbox *box, uint32_t seq, enum mail_flags_mode mode, unsigned flags,
                   uint64_t kw)
{
	struct mail_flag_change ch = {mode, flags, mode, kw};
	const char *error;

	assert_int_equal(mailbox_change_flags(box, seq, &ch, &error), 1);
}

static const char *info_of(struct mailbox *box, uint32_t seq)
{
	return strstr(mailbox_msg_path(box, seq), ":2,") + 3;
}

/* Keywords get letters a, b, ... and a dovecot-keywords line each; they
   survive a reopen and a rebuilt index (the letters and the file). */
static void test_letters_and_file(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {"$Forwarded", "work"};
	struct mailbox *box;
	const char *error;

	deliver(f, 2);
	box = open_view(f->user, "INBOX", 0);
	uint64_t mask = get(box, names, 2);
	assert_int_equal(mask, 3);
	assert_string_equal(mailbox_keyword_name(box, 0), "$Forwarded");
	assert_int_equal(mailbox_keyword_find(box, "WORK"), 1);
	change(box, 1, MAIL_FLAGS_ADD, MAIL_SEEN, mask);
	assert_string_equal(info_of(box, 1), "Sab");
	change(box, 1, MAIL_FLAGS_REMOVE, 0, 1);
	assert_string_equal(info_of(box, 1), "Sb");
	assert_int_equal(mailbox_msg(box, 1)->keywords, 2);
	char *file = kw_file(f, "");
	assert_string_equal(file, "0 $Forwarded\n1 work\n");
	free(file);
	mailbox_close(&box);
	mail_user_close(&f->user);

	char *db = xasprintf("%s/tern-index.db", f->maildir);
	assert_int_equal(unlink(db), 0);
	free(db);
	assert_int_equal(mail_user_open(f->root, ADDR, &f->user, &error), 0);
	box = open_view(f->user, "INBOX", 0);
	assert_int_equal(mailbox_msg(box, 1)->keywords, 2);
	assert_string_equal(mailbox_keyword_name(box, 1), "work");
	assert_int_equal(mailbox_msg(box, 2)->keywords, 0);
	mailbox_close(&box);
}

/* Keywords past the 26 letters live in the index; the 65th is refused;
   STORE FLAGS replaces keywords too. */
static void test_index_only_and_limit(void **state)
{
	struct fixture *f = *state;
	char *names[MAIL_KEYWORDS_MAX + 1];
	struct mailbox *box;
	uint64_t mask = 0;
	const char *error;

	for (int i = 0; i <= MAIL_KEYWORDS_MAX; i++)
		names[i] = xasprintf("k%02d", i);
	deliver(f, 1);
	box = open_view(f->user, "INBOX", 0);
	mask = get(box, (const char *const *)names, MAIL_KEYWORDS_MAX);
	assert_true(mask == UINT64_MAX);
	change(box, 1, MAIL_FLAGS_ADD, 0, mask);
	assert_string_equal(info_of(box, 1), "abcdefghijklmnopqrstuvwxyz");
	assert_int_equal(mailbox_keywords_get(box, (const char *const *)&names[MAIL_KEYWORDS_MAX],
	                                      1, &mask, &error),
	                 MAIL_KEYWORDS_FULL);
	mailbox_close(&box);
	/* another view reads the index-only bits */
	box = open_view(f->user, "INBOX", 2);
	assert_true(mailbox_msg(box, 1)->keywords == UINT64_MAX);
	assert_string_equal(mailbox_keyword_name(box, 40), "k40");
	change(box, 1, MAIL_FLAGS_REPLACE, MAIL_FLAGGED, (uint64_t)1 << 40);
	assert_string_equal(info_of(box, 1), "F");
	assert_true(mailbox_msg(box, 1)->keywords == (uint64_t)1 << 40);
	mailbox_close(&box);
	for (int i = 0; i <= MAIL_KEYWORDS_MAX; i++)
		free(names[i]);
}

/* A Maildir as Dovecot leaves it: its dovecot-keywords maps the letters. */
static void test_dovecot_form(void **state)
{
	struct fixture *f = *state;
	static const char *const junk[] = {"junk"};
	struct mailbox *box;
	char *path = xasprintf("%s/dovecot-keywords", f->maildir);
	char *msg = xasprintf("%s/cur/1700000000.M1P1.dove,S=3:2,Sac", f->maildir);

	assert_int_equal(write_file_atomic(path, "0 $Forwarded\n2 project-x\n", 25, 0600), 0);
	assert_int_equal(write_file_atomic(msg, "x\r\n", 3, 0600), 0);
	box = open_view(f->user, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(mailbox_msg(box, 1)->keywords, 5);
	assert_string_equal(mailbox_keyword_name(box, 2), "project-x");
	/* a new keyword takes the lowest free letter, b */
	change(box, 1, MAIL_FLAGS_ADD, 0, get(box, junk, 1));
	assert_string_equal(info_of(box, 1), "Sabc");
	char *file = kw_file(f, "");
	assert_string_equal(file, "0 $Forwarded\n1 junk\n2 project-x\n");
	free(file);
	mailbox_close(&box);
	free(path);
	free(msg);
}

/* COPY gives the copy the same names, with the destination's letters. */
static void test_copy_maps_keywords(void **state)
{
	struct fixture *f = *state;
	static const char *const a[] = {"alpha"}, *const b[] = {"beta"};
	uint32_t seq = 1, uid, v;
	struct mailbox *box, *dest;
	const char *error;

	deliver(f, 1);
	assert_int_equal(mail_user_create_mailbox(f->user, "Dest", &error), 0);
	dest = open_view(f->user, "Dest", 2);
	(void)get(dest, a, 1); /* alpha is Dest's a */
	mailbox_close(&dest);
	box = open_view(f->user, "INBOX", 0);
	change(box, 1, MAIL_FLAGS_ADD, MAIL_SEEN, get(box, b, 1)); /* beta is INBOX's a */
	assert_int_equal(mailbox_copy(box, &seq, 1, "Dest", &v, &uid, &error), 0);
	mailbox_close(&box);
	dest = open_view(f->user, "Dest", 0);
	seq = mailbox_seq_by_uid(dest, uid);
	assert_int_equal(mailbox_msg(dest, seq)->keywords, (uint64_t)1 << 1);
	assert_string_equal(mailbox_keyword_name(dest, 1), "beta");
	assert_string_equal(info_of(dest, seq), "Sb");
	mailbox_close(&dest);
}

/* \Recent: EXAMINE sees it and leaves it; the first selecting view takes
   it; a later one, and a view of another connection, do not see it. */
static void test_recent_once(void **state)
{
	struct fixture *f = *state;
	struct mail_user *other;
	struct mailbox *ex, *sel, *sel2;
	struct mailbox_changes ch;
	const char *error;

	deliver(f, 2);
	ex = open_view(f->user, "INBOX", 1);
	assert_int_equal(mailbox_recent_count(ex), 2);
	mailbox_close(&ex);
	assert_int_equal(mail_user_open(f->root, ADDR, &other, &error), 0);
	sel = open_view(f->user, "INBOX", 0);
	assert_int_equal(mailbox_recent_count(sel), 2);
	sel2 = open_view(other, "INBOX", 0);
	assert_int_equal(mailbox_recent_count(sel2), 0);
	/* a new message: the first of the two to sync takes it */
	deliver(f, 1);
	assert_int_equal(mailbox_sync(sel2, &ch, &error), 0);
	assert_int_equal(ch.recent, 1);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_sync(sel, &ch, &error), 0);
	assert_int_equal(ch.count, 3);
	assert_int_equal(ch.recent, 2); /* its own two, not the third */
	assert_int_equal(mailbox_msg(sel, 3)->flags & MAIL_RECENT, 0);
	mailbox_changes_free(&ch);
	mailbox_close(&sel2);
	mail_user_close(&other);
	mailbox_close(&sel);
	/* SELECT again: nothing is recent */
	sel = open_view(f->user, "INBOX", 0);
	assert_int_equal(mailbox_recent_count(sel), 0);
	mailbox_close(&sel);
}

static void index_sql(struct fixture *f, const char *sql)
{
	char *path = xasprintf("%s/tern-index.db", f->maildir);
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

/* A version 3 index (no keywords, no recent boundary) is migrated in
   place: UIDs kept, nothing indexed before becomes recent, keywords work. */
static void test_migrate_v3(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {"after"};
	struct mailbox *box;
	const char *error;

	deliver(f, 2);
	box = open_view(f->user, "INBOX", 2); /* indexes them, takes nothing */
	uint32_t uidvalidity = mailbox_uidvalidity(box);
	static const char *const before[] = {"before"};
	change(box, 2, MAIL_FLAGS_ADD, 0, get(box, before, 1)); /* letter a */
	mailbox_close(&box);
	mail_user_close(&f->user);
	index_sql(f, "ALTER TABLE messages DROP COLUMN keywords;"
	             "ALTER TABLE mailboxes DROP COLUMN recent_uid;"
	             "DROP TABLE keywords;"
	             "PRAGMA user_version = 3;");
	assert_int_equal(mail_user_open(f->root, ADDR, &f->user, &error), 0);
	deliver(f, 1);
	box = open_view(f->user, "INBOX", 0);
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	assert_int_equal(mailbox_count(box), 3);
	assert_int_equal(mailbox_recent_count(box), 1);
	assert_int_not_equal(mailbox_msg(box, 3)->flags & MAIL_RECENT, 0);
	/* the letter of the version 3 file name is read back into the row */
	assert_int_equal(mailbox_msg(box, 2)->keywords, 1);
	assert_string_equal(mailbox_keyword_name(box, 0), "before");
	change(box, 1, MAIL_FLAGS_ADD, 0, get(box, names, 1));
	assert_int_equal(mailbox_msg(box, 1)->keywords, 2);
	mailbox_close(&box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_letters_and_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_only_and_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dovecot_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_maps_keywords, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recent_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
