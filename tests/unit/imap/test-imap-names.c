/* Unit tests for src/imap/imap-names.c: mailbox names as a session
   writes them (modified UTF-7, or UTF-8 once UTF8=ACCEPT / IMAP4rev2 is
   enabled) and as they are stored (modified UTF-7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-private.h"
#include "lib/buf.h"

static void test_from_client(void **state)
{
	struct imap_session s;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* rev1: as given, whatever it holds */
	assert_string_equal(imap_mailbox_from_client(&s, "Entw&APw-rfe"), "Entw&APw-rfe");
	assert_string_equal(imap_mailbox_from_client(&s, "R&D"), "R&D");
	assert_int_equal(s.names_count, 0);
	s.utf8 = true;
	assert_string_equal(imap_mailbox_from_client(&s, "Entw\xc3\xbcrfe"), "Entw&APw-rfe");
	assert_string_equal(imap_mailbox_from_client(&s, "R&D"), "R&-D");
	assert_string_equal(imap_mailbox_from_client(&s, "INBOX"), "INBOX");
	assert_null(imap_mailbox_from_client(&s, "bad\xff"));
	assert_null(imap_mailbox_from_client(&s, NULL));
	assert_int_equal(s.names_count, 3);
	imap_mailbox_args_clear(&s);
	assert_int_equal(s.names_count, 0);
	assert_null(s.names);
}

static void test_display(void **state)
{
	struct imap_session s;
	struct buf b = BUF_INIT;
	char *d;

	(void)state;
	memset(&s, 0, sizeof(s));
	d = imap_mailbox_display(&s, "Entw&APw-rfe");
	assert_string_equal(d, "Entw&APw-rfe");
	free(d);
	/* an 8-bit stored name (made outside IMAP) is modified UTF-7 to rev1 */
	d = imap_mailbox_display(&s, "Entw\xc3\xbcrfe");
	assert_string_equal(d, "Entw&APw-rfe");
	free(d);
	imap_append_mailbox(&s, &b, "Entw&APw-rfe");
	assert_string_equal(buf_cstr(&b), "\"Entw&APw-rfe\"");
	buf_clear(&b);
	s.utf8 = true;
	d = imap_mailbox_display(&s, "Entw&APw-rfe");
	assert_string_equal(d, "Entw\xc3\xbcrfe");
	free(d);
	/* not modified UTF-7: shown as stored */
	d = imap_mailbox_display(&s, "a&b");
	assert_string_equal(d, "a&b");
	free(d);
	imap_append_mailbox(&s, &b, "Entw&APw-rfe/Q\"&-");
	assert_string_equal(buf_cstr(&b), "\"Entw\xc3\xbcrfe/Q\\\"&\"");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_client),
	    cmocka_unit_test(test_display),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
