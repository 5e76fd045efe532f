/* Unit tests for src/imap/imap-thread.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-thread.h"
#include "lib/buf.h"

static void check(enum imap_thread_alg alg, const struct imap_thread_msg *m, size_t n,
                  const char *want)
{
	struct buf b = BUF_INIT;

	imap_thread(alg, m, n, &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_alg(void **state)
{
	enum imap_thread_alg a;

	(void)state;
	assert_int_equal(imap_thread_alg_parse("references", &a), 0);
	assert_int_equal(a, IMAP_THREAD_REFERENCES);
	assert_int_equal(imap_thread_alg_parse("OrderedSubject", &a), 0);
	assert_int_equal(a, IMAP_THREAD_ORDEREDSUBJECT);
	assert_int_equal(imap_thread_alg_parse("X", &a), -1);
}

static void test_ordered_subject(void **state)
{
	const struct imap_thread_msg m[] = {
	    {1, NULL, NULL, NULL, "a", 10},     {2, NULL, NULL, NULL, "Re: b", 5},
	    {3, NULL, NULL, NULL, "Re: a", 30}, {4, NULL, NULL, NULL, "A (fwd)", 20},
	    {5, NULL, NULL, NULL, "b", 7},      {6, NULL, NULL, NULL, "c", 1},
	};

	(void)state;
	check(IMAP_THREAD_ORDEREDSUBJECT, m, 6, "(6)(2 5)(1 (4)(3))");
	check(IMAP_THREAD_ORDEREDSUBJECT, m, 0, "");
}

static void test_references_basic(void **state)
{
	const struct imap_thread_msg m[] = {
	    {1, "<1@x>", NULL, NULL, "hello", 10},
	    {2, "<2@x>", "<1@x>", NULL, "Re: hello", 20},
	    {3, "<3@x>", "<1@x> <2@x>", NULL, "Re: hello", 30},
	    {4, "<4@x>", NULL, "<1@x>", "Re: hello", 25},
	    {5, "<5@x>", NULL, NULL, "other", 5},
	};

	(void)state;
	check(IMAP_THREAD_REFERENCES, m, 5, "(5)(1 (2 3)(4))");
}

static void test_references_dummy(void **state)
{
	/* 1 and 2 both reply to a missing parent: a dummy at the root with
	   two children; 3 has the same base subject as the dummy's first
	   child and no references: it joins the dummy */
	const struct imap_thread_msg m[] = {
	    {1, "<1@x>", "<gone@x>", NULL, "Re: s", 10},
	    {2, "<2@x>", "<gone@x>", NULL, "Re: s", 20},
	    {3, "<3@x>", NULL, NULL, "s", 30},
	    {4, "<4@x>", "<lost@x>", NULL, "t", 5},
	};

	(void)state;
	check(IMAP_THREAD_REFERENCES, m, 4, "(4)((1)(2)(3))");
}

static void test_references_subject_merge(void **state)
{
	/* no references: an original and a reply by subject, two replies
	   become siblings under a dummy */
	const struct imap_thread_msg m[] = {
	    {1, "<1@x>", NULL, NULL, "Re: topic", 20}, {2, "<2@x>", NULL, NULL, "topic", 10},
	    {3, "<3@x>", NULL, NULL, "Re: other", 1},  {4, "<4@x>", NULL, NULL, "Re: other", 2},
	    {5, "<5@x>", NULL, NULL, "", 3},           {6, "<6@x>", NULL, NULL, NULL, 4},
	};

	(void)state;
	check(IMAP_THREAD_REFERENCES, m, 6, "((3)(4))(5)(6)(2 1)");
}

static void test_references_loops_dups(void **state)
{
	/* 1 and 2 reference each other; 3 repeats 1's Message-ID; 4 lists
	   itself in its references */
	const struct imap_thread_msg m[] = {
	    {1, "<a@x>", "<b@x>", NULL, "p", 10},        {2, "<b@x>", "<a@x>", NULL, "q", 20},
	    {3, "<a@x>", NULL, NULL, "r", 30},           {4, "<d@x>", "<d@x>", NULL, "s", 40},
	    {5, "junk", "no-id-here", "<a@x>", "u", 50},
	};

	(void)state;
	/* 1 is a child of b (2); 2's parent would be a (1), its descendant:
	   not linked, so 2 is a root with child 1 and 1's child 5 */
	check(IMAP_THREAD_REFERENCES, m, 5, "(2 1 5)(3)(4)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alg),
	    cmocka_unit_test(test_ordered_subject),
	    cmocka_unit_test(test_references_basic),
	    cmocka_unit_test(test_references_dummy),
	    cmocka_unit_test(test_references_subject_merge),
	    cmocka_unit_test(test_references_loops_dups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
