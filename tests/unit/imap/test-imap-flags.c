/* Unit tests for the keyword part of src/imap/imap-fetch.c: flag names
   parsed (RFC 3501 9 flag-keyword = atom) and flag lists written with a
   mailbox's keywords, against a real store in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-fetch.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox.h"

#define ADDR "f@example.org"

static void test_keyword_atoms(void **state)
{
	unsigned flags = 0;
	char long_name[MAIL_KEYWORD_NAME_MAX + 2];

	(void)state;
	assert_int_equal(imap_flag_parse("$Forwarded", &flags), 1);
	assert_int_equal(imap_flag_parse("$MDNSent", &flags), 1);
	assert_int_equal(imap_flag_parse("NonJunk", &flags), 1);
	assert_int_equal(imap_flag_parse("a.b-c_d", &flags), 1);
	assert_int_equal(flags, 0);
	/* atom-specials, CTL, 8-bit, system flag lookalikes */
	static const char *const bad[] = {"a(b",      "a)b",   "a{b",      "a b", "a%",
	                                  "a*",       "a\"b",  "a\\b",     "a]",  "\x01",
	                                  "\xc3\xa9", "\\Foo", "\\Recent", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(imap_flag_parse(bad[i], &flags), -1);
	memset(long_name, 'k', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(imap_flag_parse(long_name, &flags), -1);
	long_name[MAIL_KEYWORD_NAME_MAX] = '\0';
	assert_int_equal(imap_flag_parse(long_name, &flags), 1);
}

static void test_flag_lists(void **state)
{
	char tmpl[] = "/tmp/tern-test-imapflags-XXXXXX";
	static const char *const names[] = {"$Junk", "work"};
	struct mail_user *user;
	struct mailbox *box;
	struct delivery *d;
	struct delivery_target t = {.user = ADDR};
	struct delivery_result r = {0};
	struct buf b = BUF_INIT;
	uint64_t mask;
	const char *error;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(mail_user_open(tmpl, ADDR, &user, &error), 0);
	assert_int_equal(delivery_begin(tmpl, &d, &error), 0);
	assert_int_equal(delivery_write(d, "x\r\n", 3, &error), 0);
	assert_int_equal(delivery_commit(d, &t, 1, DELIVERY_ALL_OR_NOTHING, &r, &error), 0);
	delivery_results_clear(&r, 1);
	assert_int_equal(mailbox_open_unsynced(user, "INBOX", false, &box, &error), 0);
	mailbox_claim_recent(box);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);

	imap_append_msg_flags(&b, box, mailbox_msg(box, 1));
	assert_string_equal(buf_cstr(&b), "(\\Recent)");
	buf_clear(&b);
	imap_append_box_flags(&b, box);
	assert_string_equal(buf_cstr(&b), "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)");

	assert_int_equal(mailbox_keywords_get(box, names, 2, &mask, &error), 0);
	struct mail_flag_change ch = {MAIL_FLAGS_ADD, MAIL_SEEN, MAIL_FLAGS_ADD, mask & 2};
	assert_int_equal(mailbox_change_flags(box, 1, &ch, &error), 1);
	buf_clear(&b);
	imap_append_msg_flags(&b, box, mailbox_msg(box, 1));
	assert_string_equal(buf_cstr(&b), "(\\Seen \\Recent work)");
	buf_clear(&b);
	imap_append_box_flags(&b, box);
	assert_string_equal(buf_cstr(&b),
	                    "(\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk work)");
	/* only keywords */
	ch = (struct mail_flag_change){MAIL_FLAGS_REPLACE, 0, MAIL_FLAGS_REPLACE, mask};
	assert_int_equal(mailbox_change_flags(box, 1, &ch, &error), 1);
	buf_clear(&b);
	struct mail_msg msg = *mailbox_msg(box, 1);
	msg.flags = 0;
	imap_append_msg_flags(&b, box, &msg);
	assert_string_equal(buf_cstr(&b), "($Junk work)");

	buf_free(&b);
	mailbox_close(&box);
	mail_user_close(&user);
	char *cmd = xasprintf("rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keyword_atoms),
	    cmocka_unit_test(test_flag_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
