/* Unit tests for the filters of `tern queue` (src/cli/cmd-queue.c):
   sender, recipient, recipient domain (ignoring case), held, age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cmd-queue.h"
#include "lib/xalloc.h"
#include "queue/spool-envelope.h"

static void test_filter(void **state)
{
	struct spool_envelope env = {0};
	struct queue_state st;
	struct queue_filter f = {0};
	int64_t now = 10000;

	(void)state;
	env.id = xstrdup("0661ba2fed5bf4f1dab2cf1f");
	env.sender = xstrdup("alice@example.org");
	env.arrival = now - 600;
	spool_envelope_add_rcpt(&env, "bob@other.test", 0, NULL, NULL, NULL);
	spool_envelope_add_rcpt(&env, "carol@third.test", 0, NULL, NULL, NULL);
	queue_state_init(&st, 2);
	assert_true(queue_filter_match(&f, &env, &st, now)); /* no filter: all */
	f.from = "ALICE@example.org";
	assert_true(queue_filter_match(&f, &env, &st, now));
	f.from = "mallory@example.org";
	assert_false(queue_filter_match(&f, &env, &st, now));
	f.from = NULL;
	f.to = "carol@third.test";
	assert_true(queue_filter_match(&f, &env, &st, now));
	f.to = "carol@other.test";
	assert_false(queue_filter_match(&f, &env, &st, now));
	f.to = NULL;
	f.domain = "Other.Test";
	assert_true(queue_filter_match(&f, &env, &st, now));
	f.domain = "test"; /* a domain, not a suffix */
	assert_false(queue_filter_match(&f, &env, &st, now));
	f.domain = "third.test";
	f.older_than = 600;
	assert_true(queue_filter_match(&f, &env, &st, now));
	f.older_than = 601;
	assert_false(queue_filter_match(&f, &env, &st, now));
	f.older_than = 0;
	f.held = true;
	assert_false(queue_filter_match(&f, &env, &st, now));
	queue_state_apply_record(&st, QUEUE_RECORD_HOLD, now);
	assert_true(queue_filter_match(&f, &env, &st, now));
	/* every filter given must pass */
	f.to = "bob@other.test";
	f.domain = "third.test";
	assert_true(queue_filter_match(&f, &env, &st, now));
	f.from = "bob@other.test";
	assert_false(queue_filter_match(&f, &env, &st, now));
	queue_state_clear(&st);
	spool_envelope_clear(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
