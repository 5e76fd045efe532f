/* Unit tests for src/imap/imap-list-ext.c and the URL parser of
   src/imap/imap-catenate.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-catenate.h"
#include "imap/imap-list-ext.h"
#include "lib/buf.h"

static struct imap_arg atom(const char *s)
{
	return (struct imap_arg){.type = IMAP_ARG_ATOM, .str = (char *)s, .len = strlen(s)};
}

static struct imap_arg quoted(const char *s)
{
	return (struct imap_arg){.type = IMAP_ARG_STRING, .str = (char *)s, .len = strlen(s)};
}

static struct imap_arg list(struct imap_arg *items, size_t count)
{
	return (struct imap_arg){.type = IMAP_ARG_LIST, .list = items, .count = count};
}

static void test_list_basic(void **state)
{
	struct imap_arg args[2] = {quoted(""), atom("%")};
	struct imap_list_params p;
	const char *error;

	(void)state;
	assert_int_equal(imap_list_params_parse(args, 2, &p, &error), 0);
	assert_false(p.extended);
	assert_int_equal(p.pattern_count, 1);
	assert_string_equal(p.patterns[0], "%");
	assert_string_equal(p.ref, "");
	assert_int_equal(imap_list_params_parse(args, 1, &p, &error), -1);
}

static void test_list_extended(void **state)
{
	struct imap_arg sel[2] = {atom("subscribed"), atom("RECURSIVEMATCH")};
	struct imap_arg pats[2] = {atom("INBOX"), quoted("Fruit/%")};
	struct imap_arg items[2] = {atom("MESSAGES"), atom("UNSEEN")};
	struct imap_arg ret[3] = {atom("CHILDREN"), atom("STATUS"), list(items, 2)};
	struct imap_arg args[5] = {list(sel, 2), quoted(""), list(pats, 2), atom("RETURN"),
	                           list(ret, 3)};
	struct imap_list_params p;
	const char *error;

	(void)state;
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), 0);
	assert_true(p.extended && p.sel_subscribed && p.sel_recursive && !p.sel_special_use);
	/* SUBSCRIBED selection implies the return option */
	assert_true(p.ret_subscribed && p.ret_children && !p.ret_special_use);
	assert_ptr_equal(p.ret_status, &ret[2]);
	assert_int_equal(p.pattern_count, 2);
	assert_string_equal(p.patterns[1], "Fruit/%");
	/* RECURSIVEMATCH alone */
	sel[0] = atom("REMOTE");
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), -1);
	sel[1] = atom("SPECIAL-USE");
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), 0);
	assert_true(p.sel_remote && p.sel_special_use && !p.sel_subscribed && !p.ret_subscribed);
	sel[0] = atom("RECURSIVEMATCH"); /* with SPECIAL-USE: allowed */
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), 0);
	sel[0] = atom("REMOTE");
	sel[1] = atom("BOGUS");
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), -1);
	sel[1] = atom("REMOTE");
	/* STATUS needs its list; unknown return options; RETURN needs a list */
	ret[2] = atom("MESSAGES");
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), -1);
	ret[1] = atom("SPECIAL-USE");
	ret[2] = atom("NOSUCH");
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), -1);
	args[4] = atom("CHILDREN");
	assert_int_equal(imap_list_params_parse(args, 5, &p, &error), -1);
	/* an empty pattern list, extra arguments */
	args[2] = list(pats, 0);
	assert_int_equal(imap_list_params_parse(args, 3, &p, &error), -1);
	args[2] = list(pats, 2);
	assert_int_equal(imap_list_params_parse(args, 3, &p, &error), 0);
	assert_true(p.extended);
	assert_int_equal(imap_list_params_parse(args, 4, &p, &error), -1);
}

static void test_create_use(void **state)
{
	struct imap_arg attrs[2] = {atom("\\archive"), atom("\\Sent")};
	struct imap_arg use[2] = {atom("USE"), list(attrs, 2)};
	struct imap_arg args[1] = {list(use, 2)};
	unsigned mask;
	const char *error;

	(void)state;
	assert_int_equal(imap_create_params_parse(args, 0, &mask, &error), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(imap_create_params_parse(args, 1, &mask, &error), 0);
	assert_int_equal(mask, IMAP_SPECIAL_ARCHIVE | IMAP_SPECIAL_SENT);
	attrs[1] = atom("\\All"); /* needs a virtual mailbox */
	assert_int_equal(imap_create_params_parse(args, 1, &mask, &error), IMAP_CREATE_USEATTR);
	attrs[1] = atom("\\Important");
	assert_int_equal(imap_create_params_parse(args, 1, &mask, &error), IMAP_CREATE_USEATTR);
	use[1] = atom("\\Archive");
	assert_int_equal(imap_create_params_parse(args, 1, &mask, &error), -1);
	use[0] = atom("USED");
	use[1] = list(attrs, 1);
	assert_int_equal(imap_create_params_parse(args, 1, &mask, &error), -1);
}

static void test_special_use_append(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	imap_special_use_append(&b, IMAP_SPECIAL_TRASH | IMAP_SPECIAL_DRAFTS);
	assert_string_equal(b.data, " \\Drafts \\Trash");
	assert_int_equal(imap_special_use_bit("\\JUNK"), IMAP_SPECIAL_JUNK);
	assert_int_equal(imap_special_use_bit("Junk"), 0);
	buf_free(&b);
}

static void test_url(void **state)
{
	struct imap_url u;

	(void)state;
	assert_int_equal(imap_url_parse("/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.MIME", &u),
	                 0);
	assert_string_equal(u.mailbox, "INBOX");
	assert_int_equal(u.uidvalidity, 385759045);
	assert_int_equal(u.uid, 20);
	assert_string_equal(u.section, "1.MIME");
	imap_url_free(&u);
	assert_int_equal(imap_url_parse("/My%20Box/Sub/;uid=7", &u), 0);
	assert_string_equal(u.mailbox, "My Box/Sub");
	assert_int_equal(u.uidvalidity, 0);
	assert_null(u.section);
	imap_url_free(&u);
	assert_int_equal(imap_url_parse("/Drafts/;UID=1/;section=HEADER.FIELDS%20(From)", &u), 0);
	assert_string_equal(u.section, "HEADER.FIELDS (From)");
	imap_url_free(&u);
	static const char *const bad[] = {"imap://u@h/INBOX/;UID=1",
	                                  "//h/INBOX/;UID=1",
	                                  ";UID=1",
	                                  "/INBOX;UID=1",
	                                  "/INBOX/;UID=0",
	                                  "/INBOX/;UID=4294967296",
	                                  "/INBOX/;UID=1x",
	                                  "/;UID=1",
	                                  "/INBOX;UIDVALIDITY=0/;UID=1",
	                                  "/INBOX;FOO=1/;UID=1",
	                                  "/INBOX/;UID=1/;SECTION=",
	                                  "/INBOX/;UID=1/;PARTIAL=0.10",
	                                  "/INBOX/;UID=1;URLAUTH=anonymous",
	                                  "/IN%0BOX/;UID=1" /* fine: %0B decodes */,
	                                  "/IN%00BOX/;UID=1",
	                                  "/IN%zzBOX/;UID=1",
	                                  "/INBOX%/;UID=1",
	                                  "/INBOX/;UID=1/;SECTION=1;PARTIAL=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = imap_url_parse(bad[i], &u);

		if (strcmp(bad[i], "/IN%0BOX/;UID=1") == 0) {
			assert_int_equal(ret, 0);
			assert_string_equal(u.mailbox, "IN\vOX");
			imap_url_free(&u);
			continue;
		}
		if (ret != -1)
			fail_msg("accepted %s", bad[i]);
		assert_null(u.mailbox);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_basic), cmocka_unit_test(test_list_extended),
	    cmocka_unit_test(test_create_use), cmocka_unit_test(test_special_use_append),
	    cmocka_unit_test(test_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
