/* Unit tests for src/store/mail-user-registry.c: one shared mail_user per
   Maildir, reference counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/xalloc.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
