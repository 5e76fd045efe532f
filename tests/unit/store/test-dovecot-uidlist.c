/* Unit tests for src/store/dovecot-uidlist.c: both file versions, extension
   fields, lines that do not parse, broken files, the lookup by base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/dovecot-uidlist.h"

static void parse_ok(const char *text, struct dovecot_uidlist *l)
{
	const char *error = NULL;

	if (dovecot_uidlist_parse(text, strlen(text), l, &error) < 0)
		fail_msg("refused: %s", error);
}

static uint32_t find(const struct dovecot_uidlist *l, const char *base)
{
	return dovecot_uidlist_find(l, base, strlen(base));
}

static void test_version3(void **state)
{
	static const char text[] = "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
	                           "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394\n"
	                           "25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n"
	                           "25020 S1000 W1020 :1276600000.M1P1.host,S=1000\n"
	                           "garbage line\n"
	                           "0 :zero-uid\n"
	                           "25021 :a/slash\n"
	                           "25019 no-colon-here";
	struct dovecot_uidlist l;

	(void)state;
	parse_ok(text, &l);
	assert_int_equal(l.uidvalidity, 1275660208);
	assert_int_equal(l.next_uid, 25022);
	assert_int_equal(l.uids.count, 3);
	assert_int_equal(find(&l, "1276528487.M364837P9451.kurkku,S=1355,W=1394"), 25006);
	/* the base is matched whole, not by prefix */
	assert_int_equal(find(&l, "1276528487.M364837P9451.kurkku"), 0);
	assert_int_equal(find(&l, "1276600000.M1P1.host,S=1000"), 25020);
	assert_int_equal(find(&l, "nonexistent"), 0);
	dovecot_uidlist_clear(&l);
	assert_int_equal(l.uids.count, 0);
}

static void test_version1_and_next_uid(void **state)
{
	struct dovecot_uidlist l;

	(void)state;
	parse_ok("1 1100000000 3\n1 1100000001.M1P2.h\n7 1100000002.M1P3.h\n", &l);
	assert_int_equal(l.uidvalidity, 1100000000);
	/* N below a listed UID is raised above it */
	assert_int_equal(l.next_uid, 8);
	assert_int_equal(find(&l, "1100000002.M1P3.h"), 7);
	dovecot_uidlist_clear(&l);
	/* an empty folder */
	parse_ok("3 V42 N1\n", &l);
	assert_int_equal(l.uidvalidity, 42);
	assert_int_equal(l.next_uid, 1);
	assert_int_equal(l.uids.count, 0);
	dovecot_uidlist_clear(&l);
}

static void test_broken(void **state)
{
	static const char *const bad[] = {
	    "",
	    "3 V1 N2",   /* no newline after the header */
	    "2 V1 N2\n", /* unknown version */
	    "3 N5\n",    /* no UIDVALIDITY */
	    "3 V0 N5\n", /* zero UIDVALIDITY */
	    "3 Vx N5\n", /* not a number */
	    "3 V99999999999 N5\n",
	    "1 100\n",
	    "3 V1 N9\n1 :a\n1 :b\n", /* a UID twice */
	    "3 V1 N9\n1 :a\n2 :a\n", /* a file twice */
	    "3 V1 N9\n4294967295 :a\n",
	};
	struct dovecot_uidlist l;
	const char *error;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		if (dovecot_uidlist_parse(bad[i], strlen(bad[i]), &l, &error) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(error);
		assert_int_equal(l.uids.count, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version3),
	    cmocka_unit_test(test_version1_and_next_uid),
	    cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
