/* Unit tests for src/queue/srs.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/srs.h"

#define DAY 86400
static const char SECRET[] = "0123456789abcdef-test-secret";
/* day 20000 since the epoch: 20000 % 1024 = 544 = 17 * 32 + 0, "RA" */
static const time_t NOW = (time_t)20000 * DAY + 3600;

static struct srs *test_srs(void)
{
	return srs_new(SECRET, strlen(SECRET));
}

/* The hash as the scheme defines it, computed here on its own: base64 of
   HMAC-SHA1 over the lowercased concatenation, 4 characters. */
static void expected_hash(const char *data, char out[5])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len;
	char *lower = xstrdup(data);

	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	HMAC(EVP_sha1(), SECRET, (int)strlen(SECRET), (unsigned char *)lower, strlen(lower), mac,
	     &len);
	free(lower);
	out[0] = b64[mac[0] >> 2];
	out[1] = b64[((mac[0] & 3) << 4) | (mac[1] >> 4)];
	out[2] = b64[((mac[1] & 15) << 2) | (mac[2] >> 6)];
	out[3] = b64[mac[2] & 63];
	out[4] = '\0';
}

static void test_forward_format(void **state)
{
	static const struct {
		const char *sender, *domain, *local;
	} cases[] = {
	    {"alice@a.test", "a.test", "alice"},
	    {"Bob.Smith@Sub.A.test", "Sub.A.test", "Bob.Smith"},
	    {"a=b+c@x.test", "x.test", "a=b+c"},
	};
	struct srs *srs = test_srs();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *data, *want, hash[5];
		const char *error;

		assert_int_equal(
		    srs_forward(srs, cases[i].sender, "example.test", NOW, &out, &error), 0);
		data = xasprintf("RA%s%s", cases[i].domain, cases[i].local);
		expected_hash(data, hash);
		want = xasprintf("SRS0=%s=RA=%s=%s@example.test", hash, cases[i].domain,
		                 cases[i].local);
		assert_string_equal(out, want);
		assert_true(srs_is_srs(out));
		free(data);
		free(want);
		free(out);
	}
	srs_free(&srs);
	assert_null(srs);
}

static void test_round_trip(void **state)
{
	static const char *const senders[] = {
	    "alice@a.test", "Bob.Smith@Sub.A.test", "a=b=c@x.test", "x@y.z", "u-v+w@h-1.test",
	};
	struct srs *srs = test_srs();

	(void)state;
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		char *fwd, *back;
		const char *error;
		enum srs_error kind;

		assert_int_equal(srs_forward(srs, senders[i], "example.test", NOW, &fwd, &error),
		                 0);
		assert_int_equal(srs_reverse(srs, fwd, NOW + 3 * DAY, &back, &kind), 0);
		assert_string_equal(back, senders[i]);
		free(back);
		/* some MTAs fold the case of local parts: still ours */
		for (char *p = fwd; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		assert_int_equal(srs_reverse(srs, fwd, NOW, &back, &kind), 0);
		assert_int_equal(strcasecmp(back, senders[i]), 0);
		free(back);
		free(fwd);
	}
	srs_free(&srs);
}

static void test_stamp_and_age(void **state)
{
	static const struct {
		int64_t made_day, checked_day;
		int ok;
	} cases[] = {
	    {20000, 20000, 1}, {20000, 20021, 1},
	    {20000, 20022, 0}, {20000, 19999, 0}, /* from the future */
	    {1023, 1030, 1},                      /* the day counter wraps at 1024 */
	    {1023, 1045, 0},   {0, 1024 + 21, 1},
	};
	struct srs *srs = test_srs();
	char *out, *back;
	const char *error;
	enum srs_error kind;

	(void)state;
	assert_int_equal(srs_forward(srs, "a@b.test", "f.test", 0, &out, &error), 0);
	assert_non_null(strstr(out, "=AA=b.test=a@"));
	free(out);
	assert_int_equal(srs_forward(srs, "a@b.test", "f.test", (time_t)1023 * DAY, &out, &error),
	                 0);
	assert_non_null(strstr(out, "=77=b.test=a@"));
	free(out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(srs_forward(srs, "a@b.test", "f.test",
		                             (time_t)(cases[i].made_day * DAY), &out, &error),
		                 0);
		if (cases[i].ok) {
			assert_int_equal(srs_reverse(srs, out, (time_t)(cases[i].checked_day * DAY),
			                             &back, &kind),
			                 0);
			assert_string_equal(back, "a@b.test");
			free(back);
		} else {
			assert_int_equal(srs_reverse(srs, out, (time_t)(cases[i].checked_day * DAY),
			                             &back, &kind),
			                 -1);
			assert_int_equal(kind, SRS_ERROR_EXPIRED);
		}
		free(out);
	}
	srs_free(&srs);
}

static void test_reverse_refuses(void **state)
{
	static const struct {
		const char *address;
		enum srs_error kind;
	} cases[] = {
	    {"alice@example.test", SRS_ERROR_NOT_SRS},
	    {"SRS2=abcd=RA=a.test=x@example.test", SRS_ERROR_NOT_SRS},
	    {"SRS0@example.test", SRS_ERROR_NOT_SRS},
	    {"noat", SRS_ERROR_NOT_SRS},
	    {"SRS0=abc@example.test", SRS_ERROR_MALFORMED},
	    {"SRS0=abcd=RA=a.test@example.test", SRS_ERROR_MALFORMED},
	    {"SRS0=abcd=RA=a.test=@example.test", SRS_ERROR_MALFORMED},
	    {"SRS0==RA=a.test=x@example.test", SRS_ERROR_MALFORMED},
	    {"SRS0=abcd=RA=a.test=x@example.test", SRS_ERROR_BAD_HASH},
	    {"SRS1=abcd=host@example.test", SRS_ERROR_MALFORMED},
	    {"SRS1=abcd=host=x@example.test", SRS_ERROR_MALFORMED},
	    {"SRS1=abcd=host==x@example.test", SRS_ERROR_BAD_HASH},
	};
	struct srs *srs = test_srs();
	char *out = NULL;
	enum srs_error kind;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(srs_reverse(srs, cases[i].address, NOW, &out, &kind), -1);
		assert_int_equal(kind, cases[i].kind);
	}
	assert_null(out);
	srs_free(&srs);
}

static void test_other_secret_and_tampering(void **state)
{
	static const char other[] = "another secret, 16+ bytes";
	struct srs *srs = test_srs(), *srs2 = srs_new(other, strlen(other));
	char *fwd, *back;
	const char *error;
	enum srs_error kind;

	(void)state;
	assert_int_equal(srs_forward(srs, "alice@a.test", "example.test", NOW, &fwd, &error), 0);
	assert_int_equal(srs_reverse(srs2, fwd, NOW, &back, &kind), -1);
	assert_int_equal(kind, SRS_ERROR_BAD_HASH);
	/* another original domain under the same hash: refused */
	fwd[strlen("SRS0=HHHH=RA=")] = 'b';
	assert_int_equal(srs_reverse(srs, fwd, NOW, &back, &kind), -1);
	assert_int_equal(kind, SRS_ERROR_BAD_HASH);
	free(fwd);
	srs_free(&srs);
	srs_free(&srs2);
}

static void test_srs1(void **state)
{
	struct srs *srs = test_srs(), *first = srs_new("first forwarder secret", 22);
	char *srs0, *srs1, *again, *back, *back2, hash[5], *data, *want;
	const char *error;
	enum srs_error kind;

	(void)state;
	/* fwd1.test (another secret) made the SRS0; we forward it once more */
	assert_int_equal(srs_forward(first, "alice@a.test", "fwd1.test", NOW, &srs0, &error), 0);
	assert_int_equal(srs_forward(srs, srs0, "example.test", NOW, &srs1, &error), 0);
	data = xasprintf("fwd1.test%s", strchr(srs0, '='));
	*strrchr(data, '@') = '\0';
	expected_hash(data, hash);
	want = xasprintf("SRS1=%s=fwd1.test=%.*s@example.test", hash,
	                 (int)(strrchr(srs0, '@') - srs0 - 4), srs0 + 4);
	assert_string_equal(srs1, want);
	assert_non_null(strstr(srs1, "==")); /* the customary SRS1 look */
	/* back: the SRS0 address at the first forwarder, which decodes it */
	assert_int_equal(srs_reverse(srs, srs1, NOW + 100 * DAY, &back, &kind), 0);
	assert_string_equal(back, srs0);
	assert_int_equal(srs_reverse(first, back, NOW, &back2, &kind), 0);
	assert_string_equal(back2, "alice@a.test");
	/* SRS1 forwarded again keeps the first forwarder */
	assert_int_equal(srs_forward(srs, srs1, "third.test", NOW, &again, &error), 0);
	assert_non_null(strstr(again, "=fwd1.test=="));
	free(back);
	assert_int_equal(srs_reverse(srs, again, NOW, &back, &kind), 0);
	assert_string_equal(back, srs0);
	free(back);
	free(back2);
	free(again);
	free(data);
	free(want);
	free(srs1);
	free(srs0);
	srs_free(&srs);
	srs_free(&first);
}

static void test_forward_refuses(void **state)
{
	struct srs *srs = test_srs();
	char *out = NULL, *lng;
	const char *error;

	(void)state;
	assert_int_equal(srs_forward(srs, "noat", "example.test", NOW, &out, &error), -1);
	assert_int_equal(srs_forward(srs, "@a.test", "example.test", NOW, &out, &error), -1);
	assert_int_equal(srs_forward(srs, "a@", "example.test", NOW, &out, &error), -1);
	assert_int_equal(srs_forward(srs, "a@b.test", "", NOW, &out, &error), -1);
	assert_int_equal(
	    srs_forward(srs, "\"odd@local\"@q.test", "example.test", NOW, &out, &error), -1);
	assert_int_equal(srs_forward(srs, "\"a b\"@q.test", "example.test", NOW, &out, &error), -1);
	lng = xasprintf("%0200d@%050d.test", 0, 0);
	assert_int_equal(srs_forward(srs, lng, "example.test", NOW, &out, &error), -1);
	assert_null(out);
	free(lng);
	srs_free(&srs);
}

static void test_secret_file(void **state)
{
	char dir[] = "/tmp/test-srs-XXXXXX";
	char *path, *a, *b;
	struct srs *one, *two;
	struct stat st;
	const char *error;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = srs_secret_path(dir);
	assert_int_equal(srs_open(path, &one, &error), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65); /* 32 bytes in hex and a newline */
	assert_int_equal(srs_open(path, &two, &error), 0);
	assert_int_equal(srs_forward(one, "a@b.test", "f.test", NOW, &a, &error), 0);
	assert_int_equal(srs_forward(two, "a@b.test", "f.test", NOW, &b, &error), 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	srs_free(&one);
	srs_free(&two);
	assert_int_equal(write_file_atomic(path, "abcd\n", 5, 0600), 0);
	assert_int_equal(srs_open(path, &one, &error), -1);
	assert_int_equal(write_file_atomic(path, "zz0123456789abcdef0123456789abcdef\n", 35, 0600),
	                 0);
	assert_int_equal(srs_open(path, &one, &error), -1);
	unlink(path);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forward_format),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_stamp_and_age),
	    cmocka_unit_test(test_reverse_refuses),
	    cmocka_unit_test(test_other_secret_and_tampering),
	    cmocka_unit_test(test_srs1),
	    cmocka_unit_test(test_forward_refuses),
	    cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
