/* Unit tests for src/store/mailbox*.c and index.c: views, UIDs, flags,
   expunges, index rebuilds and migration, the FETCH cache, all in a temporary mail directory. */
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
#include <sys/time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox.h"

#define ADDR "Bob@Example.ORG"

struct fixture {
	char *root;    /* mail_dir */
	char *maildir; /* bob's Maildir */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-mailbox-XXXXXX";

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

static void deliver(struct fixture *f, const char *text)
{
	struct delivery *d;
	const char *error;
	const struct delivery_target targets[1] = {{.maildir = f->maildir}};
	struct delivery_result result;

	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_write(d, text, strlen(text), &error), 0);
	assert_int_equal(delivery_commit(d, targets, 1, DELIVERY_ALL_OR_NOTHING, &result, &error),
	                 0);
	delivery_results_clear(&result, 1);
}

/* A file written into new/ by another program, with a given mtime. */
static void drop_file(struct fixture *f, const char *dir, const char *name, time_t mtime)
{
	char *path = xasprintf("%s/%s/%s", f->maildir, dir, name);
	struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};

	assert_int_equal(write_file_atomic(path, "Subject: x\r\n\r\nhi\r\n", 18, 0600), 0);
	assert_int_equal(utimes(path, tv), 0);
	free(path);
}

static struct mail_user *user_open(struct fixture *f)
{
	struct mail_user *user;
	const char *error;

	assert_int_equal(mail_user_open(f->root, ADDR, &user, &error), 0);
	return user;
}

static struct mailbox *box_open(struct mail_user *user, const char *name)
{
	struct mailbox *box;
	const char *error;

	/* a selecting view, as IMAP SELECT opens (it takes \\Recent) */
	assert_int_equal(mailbox_open_unsynced(user, name, false, &box, &error), 0);
	mailbox_claim_recent(box);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	return box;
}

static void sync_box(struct mailbox *box, struct mailbox_changes *ch)
{
	const char *error;

	assert_int_equal(mailbox_sync(box, ch, &error), 0);
}

static int count_dir(struct fixture *f, const char *sub)
{
	char *path = xasprintf("%s/%s", f->maildir, sub);
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	free(path);
	return n;
}

static void test_deliver_then_open(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	const char *msg = "Subject: one\r\n\r\nbody\r\n";

	deliver(f, msg);
	deliver(f, "Subject: two\r\n\r\n");
	struct mailbox *box = box_open(user, "inbox");
	assert_string_equal(mailbox_name(box), "INBOX");
	assert_int_equal(mailbox_count(box), 2);
	assert_int_equal(mailbox_uidnext(box), 3);
	assert_true(mailbox_uidvalidity(box) > 0);
	const struct mail_msg *m = mailbox_msg(box, 1);
	assert_int_equal(m->uid, 1);
	assert_int_equal(m->size, strlen(msg));
	assert_int_equal(m->flags, MAIL_RECENT);
	assert_true(m->internaldate > time(NULL) - 60);

	char *data;
	size_t len;
	assert_int_equal(read_file(mailbox_msg_path(box, 1), 1000, &data, &len), 0);
	assert_string_equal(data, msg);
	free(data);
	assert_int_equal(count_dir(f, "new"), 0);
	assert_int_equal(count_dir(f, "cur"), 2);
	assert_int_equal(mailbox_seq_by_uid(box, 2), 2);
	assert_int_equal(mailbox_seq_by_uid(box, 3), 0);
	mailbox_close(&box);
	assert_null(box);
	mail_user_close(&user);
	assert_null(user);
}

static void test_new_file_gets_next_uid(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	struct mailbox_changes ch;

	deliver(f, "a\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	uint32_t uidvalidity = mailbox_uidvalidity(box);
	/* two files: the older mtime gets the lower UID whatever the name */
	drop_file(f, "new", "2000.zzz.host", 2000);
	drop_file(f, "new", "1000.aaa.host", 3000);
	sync_box(box, &ch);
	assert_int_equal(ch.count, 3);
	assert_true(ch.grew);
	assert_int_equal(ch.expunged_count, 0);
	assert_int_equal(ch.recent, 3);
	assert_int_equal(mailbox_msg(box, 2)->uid, 2);
	assert_int_equal(mailbox_msg(box, 2)->internaldate, 2000);
	assert_int_equal(mailbox_msg(box, 3)->internaldate, 3000);
	assert_int_equal(mailbox_msg(box, 3)->size, 18);
	mailbox_changes_free(&ch);
	mailbox_close(&box);
	mail_user_close(&user);

	/* dropped while the server was down */
	drop_file(f, "new", "4000.x.host", 4000);
	user = user_open(f);
	box = box_open(user, "INBOX");
	assert_int_equal(mailbox_count(box), 4);
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	for (uint32_t seq = 1; seq <= 4; seq++)
		assert_int_equal(mailbox_msg(box, seq)->uid, seq);
	/* only the new one is recent in this view */
	assert_int_equal(mailbox_msg(box, 3)->flags, 0);
	assert_int_equal(mailbox_msg(box, 4)->flags, MAIL_RECENT);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_flags_round_trip(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	const char *error;

	deliver(f, "a\r\n");
	deliver(f, "b\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	assert_int_equal(mailbox_set_flags(box, 2, MAIL_SEEN | MAIL_FLAGGED | MAIL_RECENT, &error),
	                 0);
	const char *path = mailbox_msg_path(box, 2);
	assert_string_equal(path + strlen(path) - 5, ":2,FS");
	assert_int_equal(mailbox_msg(box, 2)->flags, MAIL_SEEN | MAIL_FLAGGED | MAIL_RECENT);
	uint64_t modseq = mailbox_msg(box, 2)->modseq;
	assert_true(modseq > mailbox_msg(box, 1)->modseq);
	assert_int_equal(mailbox_set_flags(box, 2, MAIL_SEEN | MAIL_ANSWERED | MAIL_DRAFT, &error),
	                 0);
	path = mailbox_msg_path(box, 2);
	assert_string_equal(path + strlen(path) - 6, ":2,DRS");
	mailbox_close(&box);
	mail_user_close(&user);

	user = user_open(f);
	box = box_open(user, "INBOX");
	assert_int_equal(mailbox_msg(box, 2)->flags, MAIL_SEEN | MAIL_ANSWERED | MAIL_DRAFT);
	assert_int_equal(mailbox_msg(box, 1)->flags, 0);
	mailbox_close(&box);

	/* read-only views refuse changes */
	assert_int_equal(mailbox_open(user, "INBOX", true, &box, &error), 0);
	assert_true(mailbox_is_readonly(box));
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_SEEN, &error), -1);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_two_views(void **state)
{
	struct fixture *f = *state;
	struct mail_user *ua = user_open(f), *ub = user_open(f);
	struct mailbox_changes ch;
	const char *error;

	for (int i = 0; i < 3; i++)
		deliver(f, "x\r\n");
	struct mailbox *a = box_open(ua, "INBOX");
	struct mailbox *b = box_open(ub, "INBOX");
	struct mailbox *a2 = box_open(ua, "INBOX");
	assert_int_equal(mailbox_set_flags(a, 2, MAIL_SEEN, &error), 0);
	sync_box(b, &ch);
	assert_int_equal(ch.flags_changed_count, 1);
	assert_int_equal(ch.flags_changed[0], 2);
	assert_false(ch.grew);
	assert_int_equal(mailbox_msg(b, 2)->flags & MAIL_SEEN, MAIL_SEEN);
	mailbox_changes_free(&ch);
	sync_box(a2, &ch);
	assert_int_equal(ch.flags_changed_count, 1);
	mailbox_changes_free(&ch);
	/* nothing new for the view that made the change */
	sync_box(a, &ch);
	assert_int_equal(ch.flags_changed_count, 0);
	assert_int_equal(ch.count, 3);
	mailbox_changes_free(&ch);
	/* a message delivered now shows up in both, recent in the first only */
	deliver(f, "y\r\n");
	sync_box(b, &ch);
	assert_true(ch.grew);
	assert_int_equal(ch.count, 4);
	assert_int_equal(mailbox_msg(b, 4)->flags, MAIL_RECENT);
	mailbox_changes_free(&ch);
	sync_box(a, &ch);
	assert_int_equal(mailbox_msg(a, 4)->uid, 4);
	assert_int_equal(mailbox_msg(a, 4)->flags, 0);
	mailbox_changes_free(&ch);
	mailbox_close(&a);
	mailbox_close(&a2);
	mailbox_close(&b);
	mail_user_close(&ua);
	mail_user_close(&ub);
}

static void test_expunge(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	struct mailbox_changes ch;
	const char *error;
	uint32_t *seqs;
	size_t count;

	for (int i = 0; i < 5; i++)
		deliver(f, "x\r\n");
	struct mailbox *a = box_open(user, "INBOX");
	struct mailbox *b = box_open(user, "INBOX");
	assert_int_equal(mailbox_set_flags(a, 2, MAIL_DELETED, &error), 0);
	assert_int_equal(mailbox_set_flags(a, 4, MAIL_DELETED | MAIL_SEEN, &error), 0);
	assert_int_equal(mailbox_expunge(a, &seqs, &count, &error), 0);
	assert_int_equal(count, 2);
	assert_int_equal(seqs[0], 4);
	assert_int_equal(seqs[1], 2);
	free(seqs);
	assert_int_equal(mailbox_count(a), 3);
	assert_int_equal(mailbox_msg(a, 1)->uid, 1);
	assert_int_equal(mailbox_msg(a, 2)->uid, 3);
	assert_int_equal(mailbox_msg(a, 3)->uid, 5);
	assert_int_equal(count_dir(f, "cur"), 3);

	sync_box(b, &ch);
	assert_int_equal(ch.expunged_count, 2);
	assert_int_equal(ch.expunged[0], 4);
	assert_int_equal(ch.expunged[1], 2);
	assert_int_equal(ch.count, 3);
	assert_int_equal(mailbox_msg(b, 3)->uid, 5);
	mailbox_changes_free(&ch);

	/* nothing deleted: nothing expunged */
	assert_int_equal(mailbox_expunge(a, &seqs, &count, &error), 0);
	assert_int_equal(count, 0);
	assert_null(seqs);
	mailbox_close(&a);
	mailbox_close(&b);

	/* UIDs are never reused */
	deliver(f, "z\r\n");
	a = box_open(user, "INBOX");
	assert_int_equal(mailbox_msg(a, 4)->uid, 6);
	mailbox_close(&a);
	mail_user_close(&user);
}

static void remove_index(struct fixture *f, bool garbage)
{
	char *path = xasprintf("%s/tern-index.db", f->maildir);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

	unlink(wal);
	unlink(shm);
	if (garbage)
		assert_int_equal(
		    write_file_atomic(path, "this is not sqlite, not at all", 30, 0600), 0);
	else
		assert_int_equal(unlink(path), 0);
	free(path);
	free(wal);
	free(shm);
}

static void index_rebuild(struct fixture *f, bool garbage)
{
	struct mail_user *user = user_open(f);
	const char *error;

	deliver(f, "a\r\n");
	deliver(f, "b\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	uint32_t uidvalidity = mailbox_uidvalidity(box);
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_FLAGGED, &error), 0);
	mailbox_close(&box);
	mail_user_close(&user);

	remove_index(f, garbage);
	user = user_open(f);
	box = box_open(user, "INBOX");
	assert_int_equal(mailbox_count(box), 2);
	assert_true(mailbox_uidvalidity(box) > uidvalidity);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_FLAGGED, MAIL_FLAGGED);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_index_deleted(void **state)
{
	index_rebuild(*state, false);
}

static void test_index_corrupt(void **state)
{
	index_rebuild(*state, true);
}

/* Rename a file in cur/ like mutt does when it changes flags. */
static void rename_behind(struct mailbox *box, uint32_t seq, const char *info)
{
	const char *path = mailbox_msg_path(box, seq);
	const char *colon = strrchr(path, ':');
	char *to = xasprintf("%.*s:2,%s", (int)(colon - path), path, info);

	assert_int_equal(rename(path, to), 0);
	free(to);
}

static void test_renamed_behind_back(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	struct mailbox_changes ch;
	const char *error;

	for (int i = 0; i < 3; i++)
		deliver(f, "x\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	rename_behind(box, 3, "ST");
	sync_box(box, &ch);
	assert_int_equal(ch.flags_changed_count, 1);
	assert_int_equal(ch.flags_changed[0], 3);
	assert_int_equal(mailbox_msg(box, 3)->flags, MAIL_SEEN | MAIL_DELETED | MAIL_RECENT);
	mailbox_changes_free(&ch);

	/* set flags through a stale name: the file is found again */
	rename_behind(box, 1, "Fa");
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_SEEN, &error), 0);
	const char *path = mailbox_msg_path(box, 1);
	assert_string_equal(path + strlen(path) - 5, ":2,Sa");
	sync_box(box, &ch);
	assert_int_equal(ch.flags_changed_count, 0);
	assert_int_equal(mailbox_msg(box, 1)->flags & MAIL_STORED_FLAGS, MAIL_SEEN);
	mailbox_changes_free(&ch);

	/* removed behind our back: set_flags leaves it, sync expunges it */
	assert_int_equal(unlink(mailbox_msg_path(box, 2)), 0);
	assert_int_equal(mailbox_set_flags(box, 2, MAIL_SEEN, &error), 0);
	sync_box(box, &ch);
	assert_int_equal(ch.expunged_count, 1);
	assert_int_equal(ch.expunged[0], 2);
	assert_int_equal(ch.count, 2);
	mailbox_changes_free(&ch);
	mailbox_close(&box);
	mail_user_close(&user);
}

static void test_junk_skipped(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	/* over-long names are refused by maildir_name_valid() (test-maildir.c);
	   the file system cannot even hold most of them */
	deliver(f, "x\r\n");
	drop_file(f, "new", ".hidden", 1000);
	drop_file(f, "new", "bad\tname", 1000);
	drop_file(f, "cur", "bad\x01name:2,S", 1000);
	char *link_path = xasprintf("%s/cur/evil:2,", f->maildir);
	assert_int_equal(symlink("/etc/passwd", link_path), 0);
	char *dir_path = xasprintf("%s/new/adir", f->maildir);
	assert_int_equal(mkdir(dir_path, 0700), 0);

	struct mailbox *box = box_open(user, "INBOX");
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(mailbox_msg(box, 1)->uid, 1);
	mailbox_close(&box);
	mail_user_close(&user);
	free(link_path);
	free(dir_path);
}

static void test_folders(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	const char *error;
	char **names;
	size_t count;
	struct mailbox *box;

	assert_int_equal(mail_user_create_mailbox(user, "Sent", &error), 0);
	assert_int_equal(mail_user_create_mailbox(user, "A/B", &error), 0);
	assert_int_equal(mail_user_create_mailbox(user, "Sent", &error), -1);
	assert_int_equal(mail_user_create_mailbox(user, "inbox", &error), -1);
	assert_int_equal(mail_user_create_mailbox(user, "a.b", &error), -1);
	/* a symlinked folder and a folder without cur/ are not listed */
	char *evil = xasprintf("%s/.Evil", f->maildir);
	assert_int_equal(symlink("/tmp", evil), 0);
	char *bare = xasprintf("%s/.Bare", f->maildir);
	assert_int_equal(mkdir(bare, 0700), 0);

	assert_int_equal(mail_user_list(user, &names, &count, &error), 0);
	assert_int_equal(count, 3);
	assert_string_equal(names[0], "INBOX");
	assert_string_equal(names[1], "A/B");
	assert_string_equal(names[2], "Sent");
	mail_user_list_free(names, count);

	assert_int_equal(mailbox_open(user, "Nope", false, &box, &error), -1);
	assert_int_equal(mailbox_open(user, "Evil", false, &box, &error), -1);
	box = box_open(user, "A/B");
	assert_int_equal(mailbox_count(box), 0);
	char *folder = xasprintf("%s/.A.B", f->maildir);
	assert_string_equal(mailbox_path(box), folder);
	const struct delivery_target targets[1] = {{.maildir = folder}};
	struct delivery_result result;
	struct delivery *d;
	assert_int_equal(delivery_begin(f->root, &d, &error), 0);
	assert_int_equal(delivery_commit(d, targets, 1, DELIVERY_ALL_OR_NOTHING, &result, &error),
	                 0);
	delivery_results_clear(&result, 1);
	sync_box(box, NULL);
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(mailbox_msg(box, 1)->uid, 1);
	mailbox_close(&box);
	mail_user_close(&user);
	free(evil);
	free(bare);
	free(folder);
}

/* The FETCH cache: empty at first, filled field by field, kept across
   sessions and flag changes. */
static void cache_put(struct mailbox *box, uint32_t seq, enum mail_cache_field field,
                      const char *value, size_t len)
{
	struct mail_cache c = {0};
	const char *error;

	c.field[field].data = (char *)value;
	c.field[field].len = len;
	assert_int_equal(mailbox_cache_set(box, seq, 1, &c, &error), 0);
}

static void cache_expect(struct mailbox *box, uint32_t seq, enum mail_cache_field field,
                         const char *value, size_t len)
{
	struct mail_cache c;
	const char *error;

	assert_int_equal(mailbox_cache_get(box, seq, 1, &c, &error), 0);
	if (value == NULL) {
		assert_null(c.field[field].data);
	} else {
		assert_non_null(c.field[field].data);
		assert_int_equal(c.field[field].len, len);
		assert_memory_equal(c.field[field].data, value, len);
	}
	mail_cache_free(&c);
	assert_null(c.field[field].data);
}

static void test_cache_fill_hit(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	const char *error;

	deliver(f, "Subject: a\r\n\r\n");
	deliver(f, "Subject: b\r\n\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	for (int i = 0; i < MAIL_CACHE_FIELDS; i++)
		cache_expect(box, 1, (enum mail_cache_field)i, NULL, 0);
	cache_put(box, 1, MAIL_CACHE_ENVELOPE, "(NIL \"a\")", 9);
	cache_expect(box, 1, MAIL_CACHE_ENVELOPE, "(NIL \"a\")", 9);
	cache_expect(box, 1, MAIL_CACHE_BODY, NULL, 0);
	cache_expect(box, 2, MAIL_CACHE_ENVELOPE, NULL, 0);
	/* a later fill of other fields keeps the first; bytes are kept as is */
	cache_put(box, 1, MAIL_CACHE_BODYSTRUCTURE, "{3}\r\na\0b", 8);
	cache_expect(box, 1, MAIL_CACHE_ENVELOPE, "(NIL \"a\")", 9);
	cache_expect(box, 1, MAIL_CACHE_BODYSTRUCTURE, "{3}\r\na\0b", 8);
	cache_put(box, 1, MAIL_CACHE_BODY, "", 0);
	cache_expect(box, 1, MAIL_CACHE_BODY, "", 0);

	/* a range in one query, a batch in one transaction */
	struct mail_cache two[2] = {{{{0}}}};
	two[1].field[MAIL_CACHE_BODY].data = (char *)"b2";
	two[1].field[MAIL_CACHE_BODY].len = 2;
	assert_int_equal(mailbox_cache_set(box, 1, 2, two, &error), 0);
	assert_int_equal(mailbox_cache_get(box, 1, 2, two, &error), 0);
	assert_int_equal(two[0].field[MAIL_CACHE_ENVELOPE].len, 9);
	assert_int_equal(two[0].field[MAIL_CACHE_BODY].len, 0);
	assert_null(two[1].field[MAIL_CACHE_ENVELOPE].data);
	assert_string_equal(two[1].field[MAIL_CACHE_BODY].data, "b2");
	mail_cache_free(&two[0]);
	mail_cache_free(&two[1]);
	/* flag changes rename the file but keep the row and its cache */
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_SEEN, &error), 0);
	mailbox_close(&box);
	mail_user_close(&user);

	user = user_open(f);
	box = box_open(user, "INBOX");
	cache_expect(box, 1, MAIL_CACHE_ENVELOPE, "(NIL \"a\")", 9);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* Expunge drops the row and its cache: a UID is never reused, and a new
   message starts uncached. */
static void test_cache_expunge(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);
	const char *error;
	uint32_t *seqs;
	size_t count;

	deliver(f, "a\r\n");
	deliver(f, "b\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	struct mailbox *other = box_open(user, "INBOX");
	cache_put(box, 1, MAIL_CACHE_ENVELOPE, "one", 3);
	cache_put(box, 2, MAIL_CACHE_ENVELOPE, "two", 3);
	assert_int_equal(mailbox_set_flags(box, 1, MAIL_DELETED, &error), 0);
	assert_int_equal(mailbox_expunge(box, &seqs, &count, &error), 0);
	assert_int_equal(count, 1);
	free(seqs);
	cache_expect(box, 1, MAIL_CACHE_ENVELOPE, "two", 3);
	/* a view that has not synced yet finds no row: nothing cached, and
	   storing is a harmless no-op */
	cache_expect(other, 1, MAIL_CACHE_ENVELOPE, NULL, 0);
	cache_put(other, 1, MAIL_CACHE_ENVELOPE, "stale", 5);
	cache_expect(other, 2, MAIL_CACHE_ENVELOPE, "two", 3);
	mailbox_close(&other);
	deliver(f, "c\r\n");
	sync_box(box, NULL);
	assert_int_equal(mailbox_count(box), 2);
	cache_expect(box, 2, MAIL_CACHE_ENVELOPE, NULL, 0);
	mailbox_close(&box);
	mail_user_close(&user);
}

/* A rebuilt index starts with an empty cache: the Maildir is the truth. */
static void test_cache_rebuild(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);

	deliver(f, "a\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	cache_put(box, 1, MAIL_CACHE_ENVELOPE, "one", 3);
	mailbox_close(&box);
	mail_user_close(&user);
	remove_index(f, false);
	user = user_open(f);
	box = box_open(user, "INBOX");
	cache_expect(box, 1, MAIL_CACHE_ENVELOPE, NULL, 0);
	mailbox_close(&box);
	mail_user_close(&user);
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

/* An index of schema version 1 (no cache columns) is migrated in place:
   UIDVALIDITY and UIDs are kept, the cache starts empty and works. */
static void test_cache_migrate_v1(void **state)
{
	struct fixture *f = *state;
	struct mail_user *user = user_open(f);

	deliver(f, "a\r\n");
	deliver(f, "b\r\n");
	struct mailbox *box = box_open(user, "INBOX");
	uint32_t uidvalidity = mailbox_uidvalidity(box);
	cache_put(box, 1, MAIL_CACHE_ENVELOPE, "one", 3);
	mailbox_close(&box);
	mail_user_close(&user);
	index_sql(f, "ALTER TABLE messages DROP COLUMN envelope;"
	             "ALTER TABLE messages DROP COLUMN body;"
	             "ALTER TABLE messages DROP COLUMN bodystructure;"
	             "PRAGMA user_version = 1;");

	user = user_open(f);
	box = box_open(user, "INBOX");
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	assert_int_equal(mailbox_count(box), 2);
	assert_int_equal(mailbox_msg(box, 2)->uid, 2);
	cache_expect(box, 1, MAIL_CACHE_ENVELOPE, NULL, 0);
	cache_put(box, 2, MAIL_CACHE_BODY, "two", 3);
	cache_expect(box, 2, MAIL_CACHE_BODY, "two", 3);
	mailbox_close(&box);
	mail_user_close(&user);

	/* a version this code does not know is rebuilt */
	index_sql(f, "PRAGMA user_version = 99;");
	user = user_open(f);
	box = box_open(user, "INBOX");
	assert_true(mailbox_uidvalidity(box) > uidvalidity);
	cache_expect(box, 2, MAIL_CACHE_BODY, NULL, 0);
	mailbox_close(&box);
	mail_user_close(&user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deliver_then_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_file_gets_next_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flags_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_views, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expunge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_deleted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_renamed_behind_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_junk_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_fill_hit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_expunge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_rebuild, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_migrate_v1, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
