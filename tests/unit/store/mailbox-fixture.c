/* The mailbox tests' shared fixture (mailbox-fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <sys/time.h>

#include "mailbox-fixture.h"

#include "lib/fsutil.h"
#include "lib/xalloc.h"

int mailbox_fixture_setup(void **state, const char *name)
{
	struct mailbox_fixture *f = xcalloc(1, sizeof(*f));
	char *tmpl = xasprintf("/tmp/tern-test-%s-XXXXXX", name);

	if (mkdtemp(tmpl) == NULL) {
		free(tmpl);
		free(f);
		return -1;
	}
	f->root = tmpl;
	f->maildir = xasprintf("%s/example.org/bob", tmpl);
	*state = f;
	return 0;
}

int mailbox_fixture_teardown(void **state)
{
	struct mailbox_fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->root);
	int ret = system(cmd);

	free(cmd);
	free(f->root);
	free(f->maildir);
	free(f);
	return ret == 0 ? 0 : -1;
}

struct mail_user *mailbox_fixture_user(struct mailbox_fixture *f)
{
	struct mail_user *user;
	const char *error;

	assert_int_equal(mail_user_open(f->root, MAILBOX_FIXTURE_ADDR, &user, &error), 0);
	return user;
}

struct mailbox *mailbox_fixture_box(struct mail_user *user, const char *name)
{
	struct mailbox *box;
	const char *error;

	/* a selecting view, as IMAP SELECT opens (it takes \Recent) */
	assert_int_equal(mailbox_open_unsynced(user, name, false, &box, &error), 0);
	mailbox_claim_recent(box);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	return box;
}

void mailbox_fixture_drop(struct mailbox_fixture *f, const char *dir, const char *name,
                          time_t mtime)
{
	char *path = xasprintf("%s/%s/%s", f->maildir, dir, name);
	struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};

	assert_int_equal(write_file_atomic(path, "Subject: x\r\n\r\nhi\r\n", 18, 0600), 0);
	if (mtime >= 0)
		assert_int_equal(utimes(path, tv), 0);
	free(path);
}
