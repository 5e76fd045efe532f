/* Schema version 6 (store/mail-objects.h): MAILBOXID, EMAILID, THREADID,
   SAVEDATE and the preview cache in the index, the migration from version
   5, and METADATA entries with their limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/xalloc.h"
#include "mailbox-fixture.h"
#include "store/mail-objects.h"
#include "store/mailbox.h"

static int setup(void **state)
{
	return mailbox_fixture_setup(state, "objects");
}

static int teardown(void **state)
{
	return mailbox_fixture_teardown(state);
}

static unsigned counter;

/* Put a message file with content into dir (a Maildir path)/cur. */
static void put(const char *dir, const char *content)
{
	char *path =
	    xasprintf("%s/cur/17000000%02u.M1P1.host,S=%zu:2,", dir, counter++, strlen(content));
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(content, 1, strlen(content), fp), strlen(content));
	fclose(fp);
	free(path);
}

static void index_sql(struct mailbox_fixture *f, const char *sql)
{
	char *path = xasprintf("%s/tern-index.db", f->maildir);
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

static char *box_id(struct mail_user *user, const char *name)
{
	struct mailbox *box = mailbox_fixture_box(user, name);
	const char *error;
	char *id;

	assert_int_equal(mailbox_objectid(box, &id, &error), 0);
	mailbox_close(&box);
	return id;
}

static void test_mailboxid_stable_across_rename(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	const char *error;
	char *inbox = box_id(user, "INBOX"), *a, *b;

	assert_int_equal(mail_user_create_mailbox(user, "A", &error), 0);
	a = box_id(user, "A");
	assert_int_equal(strlen(a), 25);
	assert_int_equal(a[0], 'F');
	assert_true(strspn(a + 1, "0123456789abcdef") == 24);
	assert_string_not_equal(a, inbox);
	assert_int_equal(mail_user_rename_mailbox(user, "A", "B", &error), 0);
	b = box_id(user, "B");
	assert_string_equal(a, b);
	free(b);
	mail_user_close(&user);
	/* and after the user is opened again */
	user = mailbox_fixture_user(f);
	b = box_id(user, "B");
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(inbox);
	mail_user_close(&user);
}

static const char root_msg[] = "Subject: root\r\nMessage-ID: <r1@x>\r\n\r\nhello\r\n";
static const char reply_msg[] =
    "Subject: re\r\nMessage-ID: <r2@x>\r\nIn-Reply-To: <r1@x>\r\n\r\nanswer\r\n";
static const char lone_msg[] = "Subject: lone\r\n\r\nno ids at all\r\n";

static void get(struct mailbox *box, uint32_t seq, unsigned want, struct mail_objects *obj)
{
	const char *error;

	assert_int_equal(mailbox_objects_get(box, seq, want, obj, &error), 1);
}

static void test_emailid_threadid_savedate(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mail_objects o1, o2, o3;
	const char *error;
	time_t now = time(NULL);
	struct mailbox *box;
	char *dir;

	put(f->maildir, root_msg);
	put(f->maildir, reply_msg);
	put(f->maildir, lone_msg);
	assert_int_equal(mail_user_create_mailbox(user, "Other", &error), 0);
	dir = xasprintf("%s/.Other", f->maildir);
	put(dir, root_msg); /* the same content elsewhere: the same EMAILID */
	box = mailbox_fixture_box(user, "INBOX");
	assert_int_equal(mailbox_count(box), 3);
	get(box, 1, MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID, &o1);
	get(box, 2, MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID, &o2);
	get(box, 3, MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID, &o3);
	assert_int_equal(o1.emailid[0], 'M');
	assert_int_equal(strlen(o1.emailid), 25);
	assert_string_not_equal(o1.emailid, o2.emailid);
	assert_string_equal(o1.threadid, o2.threadid); /* the reply */
	assert_string_not_equal(o1.threadid, o3.threadid);
	/* no Message-ID: the thread id is the EMAILID's digest */
	assert_string_equal(o3.threadid + 1, o3.emailid + 1);
	assert_true(o1.savedate >= now - 5 && o1.savedate <= now + 5);
	assert_null(o1.preview); /* not asked for */
	assert_int_equal(mailbox_total_size(box),
	                 strlen(root_msg) + strlen(reply_msg) + strlen(lone_msg));
	mailbox_close(&box);
	mail_objects_free(&o2);

	box = mailbox_fixture_box(user, "Other");
	get(box, 1, MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID, &o2);
	assert_string_equal(o1.emailid, o2.emailid);
	assert_string_equal(o1.threadid, o2.threadid);
	mail_objects_free(&o2);
	mailbox_close(&box);
	mail_objects_free(&o1);
	mail_objects_free(&o3);
	free(dir);
	mail_user_close(&user);
}

/* A chain where messages name only their parent (In-Reply-To) is one
   thread when asked for in arrival order (FETCH 1:*), and also when a later
   message comes before its parent but names a known ancestor. */
static void test_threadid_chain(void **state)
{
	static const char *const chain[] = {
	    "Message-ID: <c1@x>\r\n\r\none\r\n",
	    "Message-ID: <c2@x>\r\nIn-Reply-To: <c1@x>\r\n\r\ntwo\r\n",
	    "Message-ID: <c3@x>\r\nIn-Reply-To: <c2@x>\r\n\r\nthree\r\n",
	    "Message-ID: <c4@x>\r\nIn-Reply-To: <c3@x>\r\nReferences: <c2@x> "
	    "<c3@x>\r\n\r\nfour\r\n",
	    "Message-ID: <d1@x>\r\n\r\nunrelated\r\n",
	};
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mail_objects o[5];
	struct mailbox *box;

	for (size_t i = 0; i < 5; i++)
		put(f->maildir, chain[i]);
	box = mailbox_fixture_box(user, "INBOX");
	assert_int_equal(mailbox_count(box), 5);
	get(box, 1, MAIL_OBJ_THREADID, &o[0]);
	get(box, 2, MAIL_OBJ_THREADID, &o[1]);
	/* four (References <c2@x>) before three, which then finds itself */
	get(box, 4, MAIL_OBJ_THREADID, &o[3]);
	get(box, 3, MAIL_OBJ_THREADID, &o[2]);
	get(box, 5, MAIL_OBJ_THREADID, &o[4]);
	for (size_t i = 1; i < 4; i++)
		assert_string_equal(o[i].threadid, o[0].threadid);
	assert_string_not_equal(o[4].threadid, o[0].threadid);
	for (size_t i = 0; i < 5; i++)
		mail_objects_free(&o[i]);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* What is computed once is read from the index: with the file gone the
   values still come (the row stays until the next sync). */
static void test_objects_cached(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mail_objects a, b;
	const char *error;
	struct mailbox *box;
	char *path;

	put(f->maildir,
	    "Subject: x\r\nContent-Type: text/plain\r\n\r\n  Some   text\r\n\r\nhere\r\n");
	box = mailbox_fixture_box(user, "INBOX");
	get(box, 1, MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID | MAIL_OBJ_PREVIEW, &a);
	assert_string_equal(a.preview, "Some text here");
	path = xstrdup(mailbox_msg_path(box, 1));
	assert_int_equal(unlink(path), 0);
	get(box, 1, MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID | MAIL_OBJ_PREVIEW, &b);
	assert_string_equal(a.emailid, b.emailid);
	assert_string_equal(a.threadid, b.threadid);
	assert_string_equal(b.preview, "Some text here");
	mail_objects_free(&a);
	mail_objects_free(&b);
	free(path);
	mailbox_close(&box);
	mail_user_close(&user);
	(void)error;
}

/* A version 5 index is migrated: UIDVALIDITY kept, a MAILBOXID made,
   SAVEDATE from INTERNALDATE. */
static void test_migrate_v5(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mailbox *box;
	struct mail_objects o;
	uint32_t uidvalidity;
	char *id;

	put(f->maildir, root_msg);
	box = mailbox_fixture_box(user, "INBOX");
	uidvalidity = mailbox_uidvalidity(box);
	mailbox_close(&box);
	mail_user_close(&user);
	index_sql(f, "ALTER TABLE mailboxes DROP COLUMN mailboxid;"
	             "ALTER TABLE messages DROP COLUMN savedate;"
	             "ALTER TABLE messages DROP COLUMN emailid;"
	             "ALTER TABLE messages DROP COLUMN threadid;"
	             "ALTER TABLE messages DROP COLUMN preview;"
	             "UPDATE messages SET internaldate = 1000000000;"
	             "DROP TABLE metadata; DROP TABLE threads; PRAGMA user_version = 5;");
	user = mailbox_fixture_user(f);
	box = mailbox_fixture_box(user, "INBOX");
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	get(box, 1, MAIL_OBJ_EMAILID, &o);
	assert_int_equal(o.savedate, 1000000000);
	assert_non_null(o.emailid);
	mail_objects_free(&o);
	id = NULL;
	{
		const char *error;
		assert_int_equal(mailbox_objectid(box, &id, &error), 0);
	}
	assert_int_equal(id[0], 'F');
	free(id);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_meta_names(void **state)
{
	(void)state;
	assert_true(mail_meta_name_valid("/private/comment"));
	assert_true(mail_meta_name_valid("/shared/vendor/x/y"));
	assert_false(mail_meta_name_valid("/private"));
	assert_false(mail_meta_name_valid("/private/"));
	assert_false(mail_meta_name_valid("/other/x"));
	assert_false(mail_meta_name_valid("/private//x"));
	assert_false(mail_meta_name_valid("/private/a*"));
	assert_false(mail_meta_name_valid("/private/a%b"));
	assert_false(mail_meta_name_valid("/private/a b"));
}

static int set1(struct mail_user *user, const char *box, const char *name, const char *value,
                size_t len)
{
	struct mail_meta_change c = {name, value, len};
	const char *error;

	return mail_meta_set(user, box, &c, 1, &error);
}

static void test_meta_set_get_depth(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mail_meta_entry *e;
	size_t n;
	const char *error;

	assert_int_equal(mail_user_create_mailbox(user, "W", &error), 0);
	assert_int_equal(set1(user, "W", "/private/a", "1", 1), 0);
	assert_int_equal(set1(user, "W", "/private/A/b", "2", 1), 0);
	assert_int_equal(set1(user, "W", "/private/a/b/c", "3", 1), 0);
	assert_int_equal(set1(user, "", "/private/a", "server", 6), 0);
	assert_int_equal(mail_meta_get(user, "W", "/private/a", 0, &e, &n, &error), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].value, "1");
	mail_meta_free(e, n);
	assert_int_equal(mail_meta_get(user, "W", "/PRIVATE/a", 1, &e, &n, &error), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[1].name, "/private/a/b");
	mail_meta_free(e, n);
	assert_int_equal(mail_meta_get(user, "W", "/private/a", -1, &e, &n, &error), 0);
	assert_int_equal(n, 3);
	mail_meta_free(e, n);
	assert_int_equal(mail_meta_get(user, NULL, "/private/a", -1, &e, &n, &error), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].value, "server");
	mail_meta_free(e, n);
	/* removal, rename, delete */
	assert_int_equal(set1(user, "W", "/private/a", NULL, 0), 0);
	assert_int_equal(mail_user_rename_mailbox(user, "W", "V", &error), 0);
	assert_int_equal(mail_meta_get(user, "V", "/private/a", -1, &e, &n, &error), 0);
	assert_int_equal(n, 2);
	mail_meta_free(e, n);
	assert_int_equal(mail_user_delete_mailbox(user, "V", &error), 0);
	assert_int_equal(mail_user_create_mailbox(user, "V", &error), 0);
	assert_int_equal(mail_meta_get(user, "V", "/private/a", -1, &e, &n, &error), 0);
	assert_int_equal(n, 0);
	mail_meta_free(e, n);
	assert_int_equal(mail_meta_get(user, "Gone", "/private/a", 0, &e, &n, &error), -1);
	mail_user_close(&user);
}

static void test_meta_limits(void **state)
{
	struct mailbox_fixture *f = *state;
	struct mail_user *user = mailbox_fixture_user(f);
	struct mail_meta_change many[MAIL_META_MAX_ENTRIES + 1];
	char names[MAIL_META_MAX_ENTRIES + 1][32];
	char *big = xmalloc(MAIL_META_MAX_VALUE + 1);
	struct mail_meta_entry *e;
	size_t n;
	const char *error;

	memset(big, 'x', MAIL_META_MAX_VALUE + 1);
	assert_int_equal(set1(user, "", "/private/big", big, MAIL_META_MAX_VALUE + 1),
	                 MAIL_META_TOOLARGE);
	assert_int_equal(set1(user, "", "/private/big", big, MAIL_META_MAX_VALUE), 0);
	assert_int_equal(set1(user, "", "/shared/comment", "x", 1), MAIL_META_READONLY);
	assert_int_equal(set1(user, "Nope", "/shared/comment", "x", 1), MAIL_META_NOMBOX);
	for (size_t i = 0; i < MAIL_META_MAX_ENTRIES; i++) {
		snprintf(names[i], sizeof(names[i]), "/private/e%zu", i);
		many[i] = (struct mail_meta_change){names[i], "v", 1};
	}
	/* with /private/big: one too many, and nothing of it stored */
	assert_int_equal(mail_meta_set(user, "", many, MAIL_META_MAX_ENTRIES, &error),
	                 MAIL_META_TOOMANY);
	assert_int_equal(mail_meta_get(user, "", "/private/e0", 0, &e, &n, &error), 0);
	assert_int_equal(n, 0);
	mail_meta_free(e, n);
	assert_int_equal(mail_meta_set(user, "", many, MAIL_META_MAX_ENTRIES - 1, &error), 0);
	/* replacing is no new entry */
	assert_int_equal(set1(user, "", "/private/e0", "w", 1), 0);
	free(big);
	mail_user_close(&user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mailboxid_stable_across_rename, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emailid_threadid_savedate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_objects_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threadid_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v5, setup, teardown),
	    cmocka_unit_test(test_meta_names),
	    cmocka_unit_test_setup_teardown(test_meta_set_get_depth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
