/* Unit tests for src/store/maildir.c: names, flags, folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "store/maildir.h"

static void test_user_path(void **state)
{
	static const struct {
		const char *address;
		const char *path; /* NULL: refused */
	} cases[] = {
	    {"Alice@Example.ORG", "/m/example.org/alice"},
	    {"a.b+c@x.y", "/m/x.y/a.b+c"},
	    {"noat", NULL},
	    {"a@b@c", NULL},
	    {"@x.y", NULL},
	    {"a@", NULL},
	    {"../x@y", NULL},
	    {".x@y", NULL},
	    {"a@..", NULL},
	    {"a/b@y", NULL},
	    {"a@y/z", NULL},
	    {"a b@y", NULL},
	    {"a\x01@y", NULL},
	    {"a\\b@y", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = NULL;
		const char *error = NULL;
		int ret = maildir_user_path("/m", cases[i].address, &path, &error);
		if (cases[i].path == NULL) {
			assert_int_equal(ret, -1);
			assert_non_null(error);
		} else {
			assert_int_equal(ret, 0);
			assert_string_equal(path, cases[i].path);
			free(path);
		}
	}
}

static void test_name_valid(void **state)
{
	char long_name[300];

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_true(maildir_name_valid("1700000000.M1P2Q3R4.host,S=10:2,S"));
	assert_true(maildir_name_valid("1.M1P2.host\\057x,S=1,W=2:2,"));
	assert_false(maildir_name_valid(""));
	assert_false(maildir_name_valid("."));
	assert_false(maildir_name_valid(".."));
	assert_false(maildir_name_valid(".hidden"));
	assert_false(maildir_name_valid("a\nb"));
	assert_false(maildir_name_valid("a\x7f"));
	assert_false(maildir_name_valid(long_name));
}

static void test_name_parts(void **state)
{
	const char *info;
	uint64_t size;

	assert_int_equal(maildir_name_base("abc:2,FS", &info), 3);
	assert_string_equal(info, "FS");
	assert_int_equal(maildir_name_base("abc", &info), 3);
	assert_string_equal(info, "");
	assert_int_equal(maildir_name_base("abc:1,x", &info), 7);

	assert_true(maildir_name_size("1.M2P3.h,S=1234", 15, &size));
	assert_int_equal(size, 1234);
	assert_true(maildir_name_size("1.M2P3.h,S=77,W=80", 18, &size));
	assert_int_equal(size, 77);
	assert_false(maildir_name_size("1.M2P3.h", 8, &size));
	assert_false(maildir_name_size("1.M2P3.h,S=", 11, &size));
	assert_false(maildir_name_size("1.M2P3.h,S=1x", 13, &size));
	assert_false(maildir_name_size("1,S=99999999999999999999999", 27, &size));
}

static void test_flags(void **state)
{
	static const struct {
		const char *old_info;
		unsigned flags;
		const char *info;
	} cases[] = {
	    {"", 0, ""},
	    {"", MAIL_SEEN, "S"},
	    {"S", MAIL_SEEN | MAIL_FLAGGED, "FS"},
	    {"", MAIL_STORED_FLAGS, "DFRST"},
	    {"PS", MAIL_ANSWERED, "PR"},
	    {"Sab", MAIL_DELETED, "Tab"},
	    {"T", MAIL_RECENT, ""},
	    {"9,SS", MAIL_SEEN, "S"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		maildir_info_build(&b, cases[i].old_info, cases[i].flags);
		assert_string_equal(buf_cstr(&b), cases[i].info);
		assert_int_equal(maildir_info_flags(buf_cstr(&b)),
		                 cases[i].flags & MAIL_STORED_FLAGS);
		buf_free(&b);
	}
	assert_int_equal(maildir_info_flags("DFPRSTxyz"), MAIL_STORED_FLAGS);
}

static void test_folders(void **state)
{
	static const struct {
		const char *dir;
		const char *imap; /* NULL: not a folder */
	} cases[] = {
	    {".Sent", "Sent"}, {".A.B.C", "A/B/C"}, {".&AOQ-b", "&AOQ-b"}, {".", NULL},
	    {"..", NULL},      {"..A", NULL},       {".A..B", NULL},       {".A.", NULL},
	    {"cur", NULL},     {".a\tb", NULL},     {".a\\b", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name = NULL;
		int ret = maildir_folder_to_imap(cases[i].dir, &name);
		if (cases[i].imap == NULL) {
			assert_int_equal(ret, -1);
			continue;
		}
		assert_int_equal(ret, 0);
		assert_string_equal(name, cases[i].imap);
		char *dir = NULL;
		const char *error;
		assert_int_equal(maildir_imap_to_folder(name, &dir, &error), 0);
		assert_string_equal(dir, cases[i].dir);
		free(dir);
		free(name);
	}
	static const char *const bad[] = {"", "/", "a/", "/a", "a//b", "a.b", "~x", "a\nb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = NULL;
		const char *error = NULL;
		assert_int_equal(maildir_imap_to_folder(bad[i], &dir, &error), -1);
		assert_non_null(error);
	}
	assert_true(maildir_is_inbox("inBox"));
	assert_false(maildir_is_inbox("INBOX/a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_path),  cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_name_parts), cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_folders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
