/* Unit tests for src/store/mail-msg.c (the message reader) and the flag
   changes of mailbox-update.c under two views: messages found by their
   key after renames, byte ranges, header and tree, read-modify-write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mime/mime-part.h"
#include "store/mail-msg.h"
#include "store/mailbox.h"

#define ADDR "bob@example.org"
#define BASE "1700000000.M1P1.host,S=89"
#define TEXT                                                                                       \
	"Subject: hi\r\nContent-Type: multipart/mixed; "                                           \
	"boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"

struct fixture {
	char *root, *maildir;
	struct mail_user *user;
	struct mailbox *a, *b; /* two views of INBOX */
};

static char *cur_file(struct fixture *f, const char *info)
{
	return xasprintf("%s/cur/" BASE ":2,%s", f->maildir, info);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/tern-test-mail-msg-XXXXXX";
	const char *error;
	char *path;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	f->root = xstrdup(tmpl);
	f->maildir = xasprintf("%s/example.org/bob", tmpl);
	if (mail_user_open(f->root, ADDR, &f->user, &error) < 0)
		return -1;
	path = cur_file(f, "S");
	if (write_file_atomic(path, TEXT, strlen(TEXT), 0600) < 0)
		return -1;
	free(path);
	if (mailbox_open(f->user, "INBOX", false, &f->a, &error) < 0 ||
	    mailbox_open(f->user, "INBOX", false, &f->b, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->root);
	int ret;

	mailbox_close(&f->a);
	mailbox_close(&f->b);
	mail_user_close(&f->user);
	ret = system(cmd);
	free(cmd);
	free(f->root);
	free(f->maildir);
	free(f);
	return ret == 0 ? 0 : -1;
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	struct mail_msg_reader *r;
	const struct mime_part *root, *tree;
	struct mime_source src;
	struct buf out = BUF_INIT;
	const char *error;
	char buf[8];

	assert_int_equal(mail_msg_open(f->a, 1, &r, &error), 1);
	assert_int_equal(mail_msg_size(r), strlen(TEXT));
	assert_int_equal(mail_msg_read(r, 0, buf, 7, &error), 0);
	assert_memory_equal(buf, "Subject", 7);
	assert_int_equal(mail_msg_read(r, strlen(TEXT) - 2, buf, 2, &error), 0);
	assert_memory_equal(buf, "\r\n", 2);
	/* past the end */
	assert_int_equal(mail_msg_read(r, strlen(TEXT) - 1, buf, 2, &error), -1);
	assert_int_equal(mail_msg_read(r, strlen(TEXT) + 1, buf, 0, &error), -1);
	assert_int_equal(mail_msg_header(r, &root, &error), 0);
	assert_null(root->children);
	assert_non_null(mime_part_field(root, "Subject"));
	assert_int_equal(root->body.start + root->body.size, strlen(TEXT));
	assert_int_equal(mail_msg_tree(r, &tree, &error), 0);
	assert_non_null(tree->children);
	/* after the tree, the header call gives the tree's root */
	assert_int_equal(mail_msg_header(r, &root, &error), 0);
	assert_ptr_equal(root, tree);
	src = mail_msg_source(r);
	assert_int_equal(src.read(src.ctx, 9, 2, &out, &error), 0);
	assert_memory_equal(out.data, "hi", 2);
	buf_free(&out);
	mail_msg_close(&r);
	assert_null(r);
	mail_msg_close(&r);
}

/* Another program renamed the file: a scan of cur/ finds it. */
static void test_renamed_by_other_program(void **state)
{
	struct fixture *f = *state;
	struct mail_msg_reader *r;
	char *from = cur_file(f, "S"), *to = cur_file(f, "FS");
	const char *error;

	assert_int_equal(rename(from, to), 0);
	assert_int_equal(mail_msg_open(f->a, 1, &r, &error), 1);
	assert_int_equal(mail_msg_size(r), strlen(TEXT));
	mail_msg_close(&r);
	/* the view follows the name found: a second open needs no scan */
	assert_int_equal(mail_msg_open(f->a, 1, &r, &error), 1);
	mail_msg_close(&r);
	free(from);
	free(to);
}

/* Another session renamed it (flag change): the index has the name. The
   reader stays valid across later renames and an expunge. */
static void test_renamed_by_other_view(void **state)
{
	struct fixture *f = *state;
	struct mail_msg_reader *r;
	const char *error;
	char buf[7];
	char *gone;

	assert_int_equal(mailbox_update_flags(f->b, 1, MAIL_FLAGS_ADD, MAIL_FLAGGED, &error), 1);
	assert_int_equal(mail_msg_open(f->a, 1, &r, &error), 1);
	assert_int_equal(mailbox_update_flags(f->b, 1, MAIL_FLAGS_ADD, MAIL_DELETED, &error), 1);
	gone = cur_file(f, "FST");
	assert_int_equal(unlink(gone), 0);
	free(gone);
	assert_int_equal(mail_msg_read(r, 0, buf, 7, &error), 0);
	assert_memory_equal(buf, "Subject", 7);
	mail_msg_close(&r);
	/* now it is gone for a new reader */
	assert_int_equal(mail_msg_open(f->a, 1, &r, &error), 0);
	assert_null(r);
}

static void test_update_flags_current_state(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char *path;

	/* a adds \Answered; b, whose view still says \Seen, removes \Seen */
	assert_int_equal(mailbox_update_flags(f->a, 1, MAIL_FLAGS_ADD, MAIL_ANSWERED, &error), 1);
	assert_int_equal(mailbox_msg(f->b, 1)->flags & MAIL_STORED_FLAGS, MAIL_SEEN);
	assert_int_equal(mailbox_update_flags(f->b, 1, MAIL_FLAGS_REMOVE, MAIL_SEEN, &error), 1);
	assert_int_equal(mailbox_msg(f->b, 1)->flags & MAIL_STORED_FLAGS, MAIL_ANSWERED);
	path = cur_file(f, "R");
	assert_int_equal(access(path, F_OK), 0);
	free(path);
	/* replace from a stale view, then add from the other */
	assert_int_equal(mailbox_update_flags(f->a, 1, MAIL_FLAGS_REPLACE, MAIL_FLAGGED, &error),
	                 1);
	assert_int_equal(mailbox_update_flags(f->b, 1, MAIL_FLAGS_ADD, MAIL_DRAFT, &error), 1);
	assert_int_equal(mailbox_msg(f->b, 1)->flags & MAIL_STORED_FLAGS,
	                 MAIL_FLAGGED | MAIL_DRAFT);
	/* a no-op change on a current view still answers the current flags */
	assert_int_equal(mailbox_update_flags(f->a, 1, MAIL_FLAGS_ADD, 0, &error), 1);
	assert_int_equal(mailbox_msg(f->a, 1)->flags & MAIL_STORED_FLAGS,
	                 MAIL_FLAGGED | MAIL_DRAFT);
	path = cur_file(f, "DF");
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(mailbox_update_flags(f->a, 1, MAIL_FLAGS_ADD, MAIL_SEEN, &error), 0);
}

static void test_header_length(void **state)
{
	const char *crlf = "From: a\r\nTo: b,\r\n c\r\n\r\nbody\r\n";
	bool complete = false;

	(void)state;
	assert_int_equal(mail_msg_header_length(crlf, strlen(crlf), &complete), strlen(crlf) - 6);
	assert_true(complete);
	assert_int_equal(mail_msg_header_length("A: b\n\nx", 7, &complete), 6);
	assert_true(complete);
	/* no header at all: the empty line is the first */
	assert_int_equal(mail_msg_header_length("\r\nbody", 6, &complete), 2);
	assert_true(complete);
	/* not ended within len: a bare CR is not an empty line */
	assert_int_equal(mail_msg_header_length("A: b\r\n", 6, &complete), 6);
	assert_false(complete);
	complete = true;
	assert_int_equal(mail_msg_header_length("A: b\r\n\r", 7, &complete), 7);
	assert_false(complete);
	assert_int_equal(mail_msg_header_length("", 0, &complete), 0);
	assert_false(complete);
}

static void test_flags_apply(void **state)
{
	(void)state;
	assert_int_equal(mail_flags_apply(MAIL_SEEN | MAIL_RECENT, MAIL_FLAGS_ADD, MAIL_DRAFT),
	                 MAIL_SEEN | MAIL_DRAFT);
	assert_int_equal(mail_flags_apply(MAIL_SEEN | MAIL_DRAFT, MAIL_FLAGS_REMOVE, MAIL_SEEN),
	                 MAIL_DRAFT);
	assert_int_equal(
	    mail_flags_apply(MAIL_SEEN, MAIL_FLAGS_REPLACE, MAIL_FLAGGED | MAIL_RECENT),
	    MAIL_FLAGGED);
}

/* DELETE in two steps: the folder is gone at once, its files after. */
static void test_delete_two_steps(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char *trash, *file;

	assert_int_equal(mail_user_create_mailbox(f->user, "Old", &error), 0);
	file = xasprintf("%s/.Old/cur/" BASE ":2,", f->maildir);
	assert_int_equal(write_file_atomic(file, TEXT, strlen(TEXT), 0600), 0);
	free(file);
	assert_int_equal(mail_user_delete_mailbox_begin(f->user, "Old", &trash, &error), 0);
	assert_false(mail_user_mailbox_exists(f->user, "Old"));
	assert_int_equal(access(trash, F_OK), 0);
	assert_non_null(strstr(trash, "/tern-deleting."));
	mail_trash_remove(trash);
	assert_int_equal(access(trash, F_OK), -1);
	free(trash);
	assert_int_equal(mail_user_delete_mailbox_begin(f->user, "Old", &trash, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_renamed_by_other_program, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_renamed_by_other_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_flags_current_state, setup, teardown),
	    cmocka_unit_test(test_header_length),
	    cmocka_unit_test(test_flags_apply),
	    cmocka_unit_test_setup_teardown(test_delete_two_steps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
