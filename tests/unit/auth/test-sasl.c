/* Unit tests for src/auth/sasl.c: strict base64, PLAIN (RFC 4616), LOGIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/sasl.h"

static void test_base64_valid(void **state)
{
	static const struct {
		const char *in, *out;
		size_t out_len;
	} cases[] = {
	    {"", "", 0},
	    {"Zg==", "f", 1},
	    {"Zm8=", "fo", 2},
	    {"Zm9v", "foo", 3},
	    {"Zm9vYg==", "foob", 4},
	    {"Zm9vYmE=", "fooba", 5},
	    {"Zm9vYmFy", "foobar", 6},
	    {"AHRpbQB0YW5zdGFhZnRhbmJyaWRnZQ==", "\0tim\0tanstaaftanbridge", 22},
	    {"+/8=", "\xfb\xff", 2},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *out;
		size_t len;
		const char *error;
		char *enc;

		assert_int_equal(
		    sasl_base64_decode(cases[i].in, strlen(cases[i].in), 100, &out, &len, &error),
		    0);
		assert_int_equal(len, cases[i].out_len);
		assert_memory_equal(out, cases[i].out, len);
		assert_int_equal(out[len], '\0');
		enc = sasl_base64_encode(out, len);
		assert_string_equal(enc, cases[i].in);
		free(enc);
		sasl_bytes_free(&out, len);
		assert_null(out);
	}
}

static void test_base64_invalid(void **state)
{
	static const char *const bad[] = {
	    "Zg",       /* not a multiple of 4 */
	    "Zg=",      /* idem */
	    "Zm9vY",    /* idem */
	    "Zg=\n",    /* no whitespace */
	    "Zm 9v",    /* idem */
	    "Z===",     /* too much padding */
	    "====",     /* idem */
	    "Zg==Zm9v", /* padding in the middle */
	    "Zm=v",     /* idem */
	    "Zh==",     /* non-zero padding bits */
	    "Zm9=",     /* idem */
	    "Zm9v*A==", /* outside the alphabet */
	    "Zm9v-_==", /* base64url is not base64 */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *out = NULL;
		size_t len = 77;
		const char *error = NULL;

		if (sasl_base64_decode(bad[i], strlen(bad[i]), 100, &out, &len, &error) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(error);
		assert_null(out);
		assert_int_equal(len, 77);
	}
}

static void test_base64_limit(void **state)
{
	unsigned char *out;
	size_t len;
	const char *error;

	assert_int_equal(sasl_base64_decode("Zm9vYmFy", 8, 6, &out, &len, &error), 0);
	sasl_bytes_free(&out, len);
	assert_int_equal(sasl_base64_decode("Zm9vYmFy", 8, 5, &out, &len, &error), -1);
	assert_string_equal(error, "response too long");
	assert_int_equal(sasl_base64_decode("Zm9vYg==", 8, 4, &out, &len, &error), 0);
	sasl_bytes_free(&out, len);
	assert_int_equal(sasl_base64_decode("Zm9vYg==", 8, 3, &out, &len, &error), -1);
}

static void test_base64_all_bytes(void **state)
{
	unsigned char data[256], *out;
	size_t len;
	const char *error;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	for (size_t n = 0; n <= sizeof(data); n++) {
		char *enc = sasl_base64_encode(data, n);

		assert_int_equal(sasl_base64_decode(enc, strlen(enc), n, &out, &len, &error), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, data, n);
		sasl_bytes_free(&out, len);
		free(enc);
	}
}

static int plain(const char *msg, size_t len, char **z, char **c, char **p, const char **error)
{
	return sasl_plain_parse((const unsigned char *)msg, len, z, c, p, error);
}

static void test_plain_valid(void **state)
{
	char *z = NULL, *c = NULL, *p = NULL;
	const char *error;

	/* RFC 4616 section 4 examples */
	assert_int_equal(plain("\0tim\0tanstaaftanbridge", 22, &z, &c, &p, &error), 0);
	assert_null(z);
	assert_string_equal(c, "tim");
	assert_string_equal(p, "tanstaaftanbridge");
	sasl_secret_free(&c);
	sasl_secret_free(&p);
	assert_null(p);

	assert_int_equal(plain("Ursel\0Kurt\0xipj3plmq", 20, &z, &c, &p, &error), 0);
	assert_string_equal(z, "Ursel");
	assert_string_equal(c, "Kurt");
	assert_string_equal(p, "xipj3plmq");
	sasl_secret_free(&z);
	sasl_secret_free(&c);
	sasl_secret_free(&p);

	/* UTF-8 in every field */
	assert_int_equal(
	    plain("j\xc3\xb6rg\0\xe6\x97\xa5\0p\xf0\x9f\x94\x91", 15, &z, &c, &p, &error), 0);
	assert_string_equal(z, "j\xc3\xb6rg");
	assert_string_equal(c, "\xe6\x97\xa5");
	assert_string_equal(p, "p\xf0\x9f\x94\x91");
	sasl_secret_free(&z);
	sasl_secret_free(&c);
	sasl_secret_free(&p);
	sasl_secret_free(NULL);
}

static void test_plain_invalid(void **state)
{
	static const struct {
		const char *msg;
		size_t len;
	} bad[] = {
	    {"", 0},
	    {"\0", 1},
	    {"\0\0", 2},
	    {"tim", 3},
	    {"\0tim", 4},
	    {"\0tim\0", 5},                   /* empty password */
	    {"\0\0secret", 8},                /* empty authcid */
	    {"\0tim\0sec\0ret", 12},          /* NUL inside the password */
	    {"\0tim\0secret\0", 12},          /* trailing NUL */
	    {"\0t\xffm\0secret", 11},         /* not UTF-8 */
	    {"\0tim\0s\xc0\xafx", 9},         /* overlong */
	    {"\0tim\0s\xed\xa0\x80x", 10},    /* surrogate */
	    {"\0tim\0s\xf4\x90\x80\x80", 10}, /* above U+10FFFF */
	    {"\0tim\0s\xe6\x97", 8},          /* truncated sequence */
	    {"\x80\0tim\0secret", 12},        /* bad authzid */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *z = NULL, *c = NULL, *p = NULL;
		const char *error = NULL;

		if (plain(bad[i].msg, bad[i].len, &z, &c, &p, &error) != -1)
			fail_msg("accepted case %zu", i);
		assert_non_null(error);
		assert_null(z);
		assert_null(c);
		assert_null(p);
	}
}

static void test_plain_field_limits(void **state)
{
	unsigned char msg[SASL_PLAIN_MAX + 1];
	char *z, *c, *p;
	const char *error;

	/* three fields of exactly 255 bytes: the longest valid message */
	memset(msg, 'a', sizeof(msg));
	msg[255] = '\0';
	msg[511] = '\0';
	assert_int_equal(sasl_plain_parse(msg, SASL_PLAIN_MAX, &z, &c, &p, &error), 0);
	assert_int_equal(strlen(z), 255);
	assert_int_equal(strlen(c), 255);
	assert_int_equal(strlen(p), 255);
	sasl_secret_free(&z);
	sasl_secret_free(&c);
	sasl_secret_free(&p);
	/* one more byte anywhere is too long */
	assert_int_equal(sasl_plain_parse(msg, SASL_PLAIN_MAX + 1, &z, &c, &p, &error), -1);
	/* a 256-byte field in a short message */
	memset(msg, 'a', sizeof(msg));
	msg[0] = '\0';
	msg[257] = '\0';
	assert_int_equal(sasl_plain_parse(msg, 258 + 3, &z, &c, &p, &error), -1);
	assert_string_equal(error, "PLAIN authcid too long");
}

/* Every prefix of a valid message is either rejected or parsed, never read
   past its end (run under ASan), and the whole message parses. */
static void test_plain_prefixes(void **state)
{
	const char msg[] = "admin\0user@example.org\0correct horse";
	size_t len = sizeof(msg) - 1;

	for (size_t n = 0; n <= len; n++) {
		unsigned char *copy = malloc(n ? n : 1);
		char *z = NULL, *c = NULL, *p = NULL;
		const char *error;
		int ret;

		memcpy(copy, msg, n);
		ret = sasl_plain_parse(copy, n, &z, &c, &p, &error);
		assert_int_equal(ret, n > 23 ? 0 : -1);
		sasl_secret_free(&z);
		sasl_secret_free(&c);
		sasl_secret_free(&p);
		free(copy);
	}
}

static void test_login(void **state)
{
	unsigned char *user;
	size_t len;
	char *field = NULL;
	const char *error;
	unsigned char long_field[SASL_FIELD_MAX + 1];

	assert_int_equal(sasl_base64_decode(SASL_LOGIN_CHALLENGE_USER,
	                                    strlen(SASL_LOGIN_CHALLENGE_USER), 64, &user, &len,
	                                    &error),
	                 0);
	assert_string_equal((char *)user, "Username:");
	sasl_bytes_free(&user, len);
	assert_int_equal(sasl_base64_decode(SASL_LOGIN_CHALLENGE_PASS,
	                                    strlen(SASL_LOGIN_CHALLENGE_PASS), 64, &user, &len,
	                                    &error),
	                 0);
	assert_string_equal((char *)user, "Password:");
	sasl_bytes_free(&user, len);

	assert_int_equal(
	    sasl_login_field_parse((const unsigned char *)"tim@x.org", 9, &field, &error), 0);
	assert_string_equal(field, "tim@x.org");
	sasl_secret_free(&field);
	assert_int_equal(sasl_login_field_parse((const unsigned char *)"", 0, &field, &error), -1);
	assert_int_equal(sasl_login_field_parse((const unsigned char *)"a\0b", 3, &field, &error),
	                 -1);
	assert_int_equal(sasl_login_field_parse((const unsigned char *)"\xfe", 1, &field, &error),
	                 -1);
	memset(long_field, 'x', sizeof(long_field));
	assert_int_equal(sasl_login_field_parse(long_field, SASL_FIELD_MAX, &field, &error), 0);
	sasl_secret_free(&field);
	assert_int_equal(sasl_login_field_parse(long_field, SASL_FIELD_MAX + 1, &field, &error),
	                 -1);
	assert_null(field);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_valid),
	    cmocka_unit_test(test_base64_invalid),
	    cmocka_unit_test(test_base64_limit),
	    cmocka_unit_test(test_base64_all_bytes),
	    cmocka_unit_test(test_plain_valid),
	    cmocka_unit_test(test_plain_invalid),
	    cmocka_unit_test(test_plain_field_limits),
	    cmocka_unit_test(test_plain_prefixes),
	    cmocka_unit_test(test_login),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
