#ifndef TERN_TESTS_UNIT_STORE_MAILBOX_FIXTURE_H
#define TERN_TESTS_UNIT_STORE_MAILBOX_FIXTURE_H

/* What the mailbox tests share (test-mailbox.c, test-mailbox-sync.c,
   test-mailbox-chunks.c): a fresh mail_dir with one user, Bob@Example.ORG,
   and short ways to open it. cmocka asserts inside. */

#include <time.h>

#include "store/mailbox.h"

#define MAILBOX_FIXTURE_ADDR "Bob@Example.ORG"

struct mailbox_fixture {
	char *root;    /* mail_dir */
	char *maildir; /* bob's Maildir (not made until the user is opened) */
};

/* A cmocka setup: *state is a new fixture in /tmp/tern-test-<name>-XXXXXX.
   0, or -1. */
int mailbox_fixture_setup(void **state, const char *name);

/* A cmocka teardown: removes the directory and frees the fixture. 0, or
   -1 if the directory could not be removed. */
int mailbox_fixture_teardown(void **state);

/* Bob, opened (mail_user_open()); the caller closes it. */
struct mail_user *mailbox_fixture_user(struct mailbox_fixture *f);

/* The mailbox name of user, opened read-write as a selecting view (it
   takes \Recent, as IMAP SELECT) and synced; the caller closes it. */
struct mailbox *mailbox_fixture_box(struct mail_user *user, const char *name);

/* A small message file another program put into dir ("cur" or "new") of
   bob's Maildir, named name, with mtime (-1: left as written). */
void mailbox_fixture_drop(struct mailbox_fixture *f, const char *dir, const char *name,
                          time_t mtime);

#endif
