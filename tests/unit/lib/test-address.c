/* Unit tests for src/lib/address.c: RFC 5321 section 4.1.2 mailboxes and paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/address.h"
#include "lib/buf.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct mailbox_case {
	const char *in;
	const char *local;  /* NULL: must fail */
	const char *domain; /* expected domain, or the expected error if local is NULL */
	const char *normal; /* address_normalize(); NULL to skip */
};

static const struct mailbox_case mailbox_cases[] = {
    {"user@example.com", "user", "example.com", "user@example.com"},
    {"User.Name@Example.COM", "User.Name", "Example.COM", "User.Name@example.com"},
    {"a@b", "a", "b", "a@b"},
    {"x+tag@sub.example.org", "x+tag", "sub.example.org", "x+tag@sub.example.org"},
    {"!#$%&'*+-/=?^_`{|}~@x.y", "!#$%&'*+-/=?^_`{|}~", "x.y", NULL},
    {"a@3com.com", "a", "3com.com", NULL},
    {"a@a-b.c-d", "a", "a-b.c-d", NULL},
    {"\"john doe\"@example.com", "john doe", "example.com", "\"john doe\"@example.com"},
    {"\"a\\\"b\"@x", "a\"b", "x", "\"a\\\"b\"@x"},
    {"\"a\\\\b\"@x", "a\\b", "x", "\"a\\\\b\"@x"},
    {"\"plain\"@x", "plain", "x", "plain@x"},
    {"\"a..b\"@x", "a..b", "x", "\"a..b\"@x"},
    {"\"@\"@x", "@", "x", "\"@\"@x"},
    {"a@[192.0.2.1]", "a", "[192.0.2.1]", "a@[192.0.2.1]"},
    {"a@[IPv6:2001:db8::1]", "a", "[IPv6:2001:db8::1]", "a@[ipv6:2001:db8::1]"},
    {"a@[ipv6:::1]", "a", "[ipv6:::1]", NULL},
    {"j\xc3\xbcrgen@m\xc3\xbcller.de", "j\xc3\xbcrgen", "m\xc3\xbcller.de",
     "j\xc3\xbcrgen@xn--mller-kva.de"},
    /* U-label and A-label are one domain, case folded (UTS 46) */
    {"J\xc3\xb6rg@B\xc3\x9c"
     "CHER.Example",
     "J\xc3\xb6rg",
     "B\xc3\x9c"
     "CHER.Example",
     "J\xc3\xb6rg@xn--bcher-kva.example"},
    {"a@XN--bcher-kva.example", "a", "XN--bcher-kva.example", "a@xn--bcher-kva.example"},
    {"\"\xe2\x82\xac x\"@x", "\xe2\x82\xac x", "x", NULL},
    /* errors */
    {"", NULL, "bad local part", NULL},
    {"@example.com", NULL, "bad local part", NULL},
    {"user", NULL, "missing domain", NULL},
    {"user@", NULL, "empty domain label", NULL},
    {".a@x", NULL, "bad local part", NULL},
    {"a.@x", NULL, "bad local part", NULL},
    {"a..b@x", NULL, "bad local part", NULL},
    {"a b@x", NULL, "bad character in local part", NULL},
    {"a(b)@x", NULL, "bad character in local part", NULL},
    {"a@b@c", NULL, "bad character in domain", NULL},
    {"a@-b.c", NULL, "domain label starts with a hyphen", NULL},
    {"a@b-.c", NULL, "domain label ends with a hyphen", NULL},
    {"a@b..c", NULL, "empty domain label", NULL},
    {"a@b.c.", NULL, "empty domain label", NULL},
    {"a@.b", NULL, "empty domain label", NULL},
    {"a@b_c", NULL, "bad character in domain", NULL},
    {"a@b c", NULL, "bad character in domain", NULL},
    {"\"\"@x", NULL, "empty local part", NULL},
    {"\"abc@x", NULL, "unterminated quoted local part", NULL},
    {"\"a\tb\"@x", NULL, "bad character in quoted local part", NULL},
    {"\"a\\\x01\"@x", NULL, "bad quoted pair in local part", NULL},
    {"\"a\"b@x", NULL, "bad character in local part", NULL},
    {"a@[192.0.2.256]", NULL, "bad address literal", NULL},
    {"a@[192.0.2.1", NULL, "unterminated address literal", NULL},
    {"a@[]", NULL, "bad address literal", NULL},
    {"a@[IPv6:]", NULL, "bad address literal", NULL},
    {"a@[IPv6:zz::1]", NULL, "bad address literal", NULL},
    {"a@[x:1]", NULL, "bad address literal", NULL},
    {"a@[1.2.3.4]x", NULL, "bad character in domain", NULL},
    {"\xff@x", NULL, "invalid 8-bit character", NULL},
    {"a\xc3@x", NULL, "invalid 8-bit character", NULL},
    /* valid UTF-8 but no valid IDN: a combining mark cannot start a label */
    {"a@\xcc\x81x.example", NULL, "domain is not a valid internationalised domain name", NULL},
    {"\xc0\xaf@x", NULL, "invalid 8-bit character", NULL},         /* overlong "/" */
    {"\xed\xa0\x80@x", NULL, "invalid 8-bit character", NULL},     /* surrogate */
    {"a@\xf4\x90\x80\x80", NULL, "invalid 8-bit character", NULL}, /* > U+10FFFF */
};

static void test_mailbox_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(mailbox_cases); i++) {
		const struct mailbox_case *tc = &mailbox_cases[i];
		struct address addr;
		const char *error = NULL;
		int ret = address_parse_mailbox(tc->in, strlen(tc->in), &addr, &error);

		if (tc->local == NULL) {
			if (ret != -1)
				fail_msg("case %zu <%s> should fail", i, tc->in);
			assert_string_equal(error, tc->domain);
			assert_null(addr.local);
			continue;
		}
		if (ret != 0)
			fail_msg("case %zu <%s> failed: %s", i, tc->in, error);
		assert_string_equal(addr.local, tc->local);
		assert_string_equal(addr.domain, tc->domain);
		if (tc->normal != NULL) {
			char *n = address_normalize(&addr);
			assert_string_equal(n, tc->normal);
			free(n);
		}
		address_free(&addr);
		assert_null(addr.local);
	}
}

static void test_mailbox_nul(void **state)
{
	struct address addr;
	const char *error;

	assert_int_equal(address_parse_mailbox("a\0b@x", 5, &addr, &error), -1);
	assert_int_equal(address_parse_mailbox("ab@x\0", 5, &addr, &error), -1);
	assert_int_equal(address_parse_mailbox("\"a\0\"@x", 6, &addr, &error), -1);
	assert_int_equal(address_parse_mailbox("a@[1.2.3.4\0]", 12, &addr, &error), -1);
}

static void test_limits(void **state)
{
	struct buf b = BUF_INIT;
	struct address addr;
	const char *error;

	/* a 64-octet local part is fine, 65 is not */
	for (int i = 0; i < 64; i++)
		buf_append_char(&b, 'l');
	buf_append_str(&b, "@x");
	assert_int_equal(address_parse_mailbox(b.data, b.len, &addr, &error), 0);
	address_free(&addr);
	buf_clear(&b);
	for (int i = 0; i < 65; i++)
		buf_append_char(&b, 'l');
	buf_append_str(&b, "@x");
	assert_int_equal(address_parse_mailbox(b.data, b.len, &addr, &error), -1);
	assert_string_equal(error, "local part too long");

	/* labels: 63 ok, 64 not */
	buf_clear(&b);
	buf_append_str(&b, "a@");
	for (int i = 0; i < 63; i++)
		buf_append_char(&b, 'd');
	assert_int_equal(address_parse_mailbox(b.data, b.len, &addr, &error), 0);
	address_free(&addr);
	buf_append_char(&b, 'd');
	assert_int_equal(address_parse_mailbox(b.data, b.len, &addr, &error), -1);
	assert_string_equal(error, "domain label too long");

	/* a path of 256 octets is fine, 257 is not */
	buf_clear(&b);
	buf_append_str(&b, "<a@");
	for (int i = 0; i < 4; i++)
		buf_append_str(&b,
		               "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.");
	while (b.len < 255)
		buf_append_char(&b, 'e');
	buf_append_char(&b, '>');
	assert_int_equal(b.len, 256);
	assert_int_equal(address_parse_path(b.data, b.len, 0, &addr, NULL, &error), 0);
	address_free(&addr);
	b.data[b.len - 1] = 'e';
	buf_append_char(&b, '>');
	assert_int_equal(address_parse_path(b.data, b.len, 0, &addr, NULL, &error), -1);
	assert_string_equal(error, "path too long");
	assert_int_equal(address_parse_mailbox(b.data + 1, b.len - 2, &addr, &error), -1);
	buf_free(&b);
}

struct path_case {
	const char *in;
	unsigned flags;
	int ret;
	size_t consumed;
	const char *normal_or_error;
};

static const struct path_case path_cases[] = {
    {"<a@b>", 0, 0, 5, "a@b"},
    {"<a@B> SIZE=10", 0, 0, 5, "a@b"},
    {"<>", ADDRESS_ALLOW_NULL, 0, 2, ""},
    {"<> BODY=8BITMIME", ADDRESS_ALLOW_NULL, 0, 2, ""},
    {"<>", 0, -1, 0, "null path not allowed"},
    {"<@a,@b.c:x@y>", 0, 0, 13, "x@y"},
    {"<@a:x@y>", 0, 0, 8, "x@y"},
    {"<@a,x@y>", 0, -1, 0, "bad source route"},
    {"<@a;x@y>", 0, -1, 0, "bad source route"},
    {"<@-a:x@y>", 0, -1, 0, "domain label starts with a hyphen"},
    {"<Postmaster>", ADDRESS_ALLOW_POSTMASTER, 0, 12, "Postmaster"},
    {"<postMASTER>", ADDRESS_ALLOW_POSTMASTER, 0, 12, "postMASTER"},
    {"<postmaster>", 0, -1, 0, "missing domain"},
    {"<postmaster@X.org>", ADDRESS_ALLOW_POSTMASTER, 0, 18, "postmaster@x.org"},
    {"<\"a>b\"@x>", 0, 0, 9, "\"a>b\"@x"},
    {"a@b", 0, -1, 0, "path must start with <"},
    {"<a@b", 0, -1, 0, "path must end with >"},
    {"<a@b >", 0, -1, 0, "bad character in domain"},
    {"< a@b>", 0, -1, 0, "bad local part"},
    {"", 0, -1, 0, "path must start with <"},
};

static void test_path_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(path_cases); i++) {
		const struct path_case *tc = &path_cases[i];
		struct address addr;
		const char *error = NULL;
		size_t consumed = 999;
		int ret =
		    address_parse_path(tc->in, strlen(tc->in), tc->flags, &addr, &consumed, &error);

		if (ret != tc->ret)
			fail_msg("case %zu <%s>: ret %d (%s)", i, tc->in, ret, error);
		if (ret < 0) {
			assert_string_equal(error, tc->normal_or_error);
			continue;
		}
		char *n = address_normalize(&addr);
		assert_string_equal(n, tc->normal_or_error);
		assert_int_equal(consumed, tc->consumed);
		assert_int_equal(address_is_null(&addr), n[0] == '\0');
		free(n);
		address_free(&addr);
	}
}

static void test_path_exact(void **state)
{
	struct address addr, copy;
	const char *error;

	assert_int_equal(address_parse_path("<a@b> ", 6, 0, &addr, NULL, &error), -1);
	assert_string_equal(error, "junk after path");
	assert_int_equal(address_parse_path("<a@b>", 5, 0, &addr, NULL, &error), 0);
	address_copy(&copy, &addr);
	address_free(&addr);
	assert_string_equal(copy.local, "a");
	assert_string_equal(copy.domain, "b");
	address_free(&copy);
	address_free(&copy); /* twice is fine */
}

static void test_utf8_char_len(void **state)
{
	assert_int_equal(utf8_char_len((const unsigned char *)"a", 1), 0);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xf0\x80\x80\x80", 4), 0);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xc3\x28", 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mailbox_table), cmocka_unit_test(test_mailbox_nul),
	    cmocka_unit_test(test_limits),        cmocka_unit_test(test_path_table),
	    cmocka_unit_test(test_path_exact),    cmocka_unit_test(test_utf8_char_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
