/* Unit tests for src/imap/imap-thread.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* A chain of 20,000 replies, each to the one before: one thread, as
   deep as the mailbox (recursion over it must hold). */
static void test_deep_chain(void **state)
{
	enum { N = 20000 };
	struct imap_thread_msg *m = calloc(N, sizeof(*m));
	char(*ids)[32] = calloc(N, sizeof(*ids));
	struct buf b = BUF_INIT;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "<%d@x>", i);
		m[i].id = (uint32_t)i + 1;
		m[i].message_id = ids[i];
		m[i].in_reply_to = i > 0 ? ids[i - 1] : NULL;
		m[i].subject = "Re: deep";
		m[i].date = i;
	}
	imap_thread(IMAP_THREAD_REFERENCES, m, N, &b);
	assert_int_equal(b.data[0], '(');
	assert_memory_equal(b.data, "(1 2 3 ", 7);
	assert_null(strchr(b.data + 1, '('));
	assert_string_equal(b.data + b.len - 7, " 20000)");
	buf_free(&b);
	free(ids);
	free(m);
}

/* In-Reply-To with comments and junk before the id; References wins
   over In-Reply-To; ids without "@" are not ids. */
static void test_msgid_forms(void **state)
{
	const struct imap_thread_msg m[] = {
	    {1, "<p@x>", NULL, NULL, "a", 10},
	    {2, "<q@x>", NULL, NULL, "b", 20},
	    {3, "<r@x>", "<q@x>", "<p@x>", "c", 30},
	    {4, "<s@x>", NULL, "your message of today (<p @x>) <p@x>", "d", 40},
	    {5, "<t@x>", "<noat> <p@x>", NULL, "e", 50},
	};

	(void)state;
	check(IMAP_THREAD_REFERENCES, m, 5, "(1 (4)(5))(2 3)");
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
	    cmocka_unit_test(test_deep_chain),
	    cmocka_unit_test(test_msgid_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
