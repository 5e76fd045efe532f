/* Unit tests for src/imap/imap-condstore.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-condstore.h"

static struct imap_arg atom(const char *s)
{
	return (struct imap_arg){.type = IMAP_ARG_ATOM, .str = (char *)s, .len = strlen(s)};
}

static struct imap_arg list(struct imap_arg *items, size_t count)
{
	return (struct imap_arg){.type = IMAP_ARG_LIST, .list = items, .count = count};
}

static void test_modseq(void **state)
{
	struct imap_arg a;
	uint64_t v;

	(void)state;
	a = atom("9223372036854775807");
	assert_int_equal(imap_modseq_parse(&a, &v), 0);
	assert_true(v == IMAP_MODSEQ_MAX);
	a = atom("9223372036854775808");
	assert_int_equal(imap_modseq_parse(&a, &v), -1);
	a = atom("12x");
	assert_int_equal(imap_modseq_parse(&a, &v), -1);
	a = atom("");
	assert_int_equal(imap_modseq_parse(&a, &v), -1);
	a = atom("0");
	assert_int_equal(imap_modseq_parse(&a, &v), 0);
	assert_true(v == 0);
}

static void test_select_qresync(void **state)
{
	struct imap_arg match[2] = {atom("1:2"), atom("10,12")};
	struct imap_arg q[4] = {atom("67890007"), atom("20050715194045000"), atom("41,43:211"),
	                        list(match, 2)};
	struct imap_arg params[2] = {atom("QRESYNC"), list(q, 4)};
	struct imap_arg top = list(params, 2);
	struct imap_select_params p;
	const char *error;

	(void)state;
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), 0);
	assert_true(p.qresync && !p.condstore);
	assert_int_equal(p.uidvalidity, 67890007);
	assert_true(p.modseq == 20050715194045000ULL);
	assert_true(imap_seqset_contains(&p.known_uids, 41));
	assert_false(imap_seqset_contains(&p.known_uids, 42));
	assert_true(imap_seqset_contains(&p.known_uids, 211));
	assert_int_equal(p.match_count, 2);
	assert_int_equal(p.match_seqs[1], 2);
	assert_int_equal(p.match_uids[1], 12);
	imap_select_params_free(&p);

	/* uneven seq-match data, modseq 0, a '*' in known-uids: BAD */
	match[1] = atom("10");
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), -1);
	match[1] = atom("10,12");
	q[1] = atom("0");
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), -1);
	q[1] = atom("5");
	q[2] = atom("1:*");
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), -1);
	/* the minimal form */
	top.list[1].count = 2;
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), 0);
	assert_int_equal(p.known_uids.count, 0);
	imap_select_params_free(&p);
}

static void test_select_condstore(void **state)
{
	struct imap_arg params[2] = {atom("condstore"), atom("CONDSTORE")};
	struct imap_arg top = list(params, 1);
	struct imap_select_params p;
	const char *error;

	(void)state;
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), 0);
	assert_true(p.condstore && !p.qresync);
	top.count = 2; /* given twice */
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), -1);
	assert_int_equal(imap_select_params_parse(NULL, 0, &p, &error), 0);
	assert_false(p.condstore);
	params[0] = atom("FOO");
	top.count = 1;
	assert_int_equal(imap_select_params_parse(&top, 1, &p, &error), -1);
}

static void test_fetch_mods(void **state)
{
	struct imap_arg m[3] = {atom("CHANGEDSINCE"), atom("12345"), atom("VANISHED")};
	struct imap_arg top = list(m, 3);
	uint64_t since;
	bool vanished;
	const char *error;

	(void)state;
	assert_int_equal(imap_fetch_mods_parse(&top, &since, &vanished, &error), 0);
	assert_true(since == 12345 && vanished);
	top.count = 2;
	assert_int_equal(imap_fetch_mods_parse(&top, &since, &vanished, &error), 0);
	assert_false(vanished);
	m[1] = atom("0");
	assert_int_equal(imap_fetch_mods_parse(&top, &since, &vanished, &error), -1);
	top.list = m + 2; /* VANISHED alone */
	top.count = 1;
	assert_int_equal(imap_fetch_mods_parse(&top, &since, &vanished, &error), -1);
	assert_int_equal(imap_fetch_mods_parse(NULL, &since, &vanished, &error), 0);
	assert_true(since == 0);
}

static void test_store_mods(void **state)
{
	struct imap_arg m[2] = {atom("UNCHANGEDSINCE"), atom("0")};
	struct imap_arg top = list(m, 2);
	uint64_t since;
	bool present;
	const char *error;

	(void)state;
	assert_int_equal(imap_store_mods_parse(&top, &since, &present, &error), 0);
	assert_true(present && since == 0);
	m[0] = atom("CHANGEDSINCE");
	assert_int_equal(imap_store_mods_parse(&top, &since, &present, &error), -1);
	assert_false(present);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modseq),           cmocka_unit_test(test_select_qresync),
	    cmocka_unit_test(test_select_condstore), cmocka_unit_test(test_fetch_mods),
	    cmocka_unit_test(test_store_mods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
