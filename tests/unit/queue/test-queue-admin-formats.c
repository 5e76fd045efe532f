/* Unit tests for the admin formats of src/queue: the entry records of the
   state file, the request/answer lines (queue-request.h) and the hold
   rules (queue-hold.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "queue/queue-hold.h"
#include "queue/queue-request.h"
#include "queue/queue-state.h"
#include "queue/spool-envelope.h"

#define ID "0661bb0133bbacac8ff6fad6"

static void test_state_records(void **state)
{
	const char *text = "attempt 100 rcpt=0 code=451 next=400\n"
	                   "hold 150\n"
	                   "warned 160\n"
	                   "bogus 170\n";
	struct queue_state st;
	struct buf b = BUF_INIT;

	(void)state;
	queue_state_parse(text, strlen(text), 2, &st);
	assert_true(st.held);
	assert_int_equal(st.held_since, 150);
	assert_int_equal(st.warned, 160);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.rcpts.items[0].next, 400);
	queue_state_clear(&st);
	/* a release alone makes the pending recipient due now */
	buf_append_str(&b, text);
	queue_state_format_record(QUEUE_RECORD_RELEASE, 200, &b);
	queue_state_parse(b.data, b.len, 2, &st);
	assert_false(st.held);
	assert_int_equal(st.rcpts.items[0].next, 0);
	queue_state_clear(&st);
	buf_clear(&b);
	/* release, then a flush makes the pending recipient due now */
	buf_append_str(&b, text);
	queue_state_format_record(QUEUE_RECORD_RELEASE, 200, &b);
	queue_state_format_record(QUEUE_RECORD_FLUSH, 210, &b);
	queue_state_parse(b.data, b.len, 2, &st);
	assert_false(st.held);
	assert_int_equal(st.released, 200);
	assert_int_equal(st.rcpts.items[0].next, 0);
	assert_int_equal(st.rcpts.items[0].attempts, 1);
	queue_state_clear(&st);
	/* a later attempt sets the next retry again */
	buf_append_str(&b, "attempt 300 rcpt=0 code=451 next=900\n");
	queue_state_parse(b.data, b.len, 2, &st);
	assert_int_equal(st.rcpts.items[0].next, 900);
	queue_state_clear(&st);
	buf_free(&b);
}

static void test_request_round_trip(void **state)
{
	struct queue_request req = {.verb = QUEUE_REQ_HOLD}, back;
	struct buf b = BUF_INIT;
	const char *error;

	(void)state;
	queue_request_add_id(&req, ID);
	queue_request_add_id(&req, "0661bb0133bbacac8ff6fad7");
	queue_request_format(&req, &b);
	assert_string_equal(b.data, "hold " ID " 0661bb0133bbacac8ff6fad7\n");
	assert_int_equal(queue_request_parse(b.data, b.len, &back, &error), 0);
	assert_int_equal(back.verb, QUEUE_REQ_HOLD);
	assert_int_equal(back.ids.count, 2);
	queue_request_clear(&back);
	queue_request_clear(&req);
	buf_free(&b);
	assert_int_equal(queue_request_parse("flush domain=other.test\n", 24, &back, &error), 0);
	assert_string_equal(back.domain, "other.test");
	queue_request_clear(&back);
	assert_int_equal(queue_request_parse("flush all\n", 10, &back, &error), 0);
	assert_true(back.all);
	queue_request_clear(&back);
	assert_int_equal(queue_request_parse("rules\n", 6, &back, &error), 0);
	queue_request_clear(&back);
}

static void test_request_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "hold\n",                     /* no target */
	    "frobnicate " ID "\n",        /* unknown verb */
	    "hold ../etc\n",              /* not an id */
	    "hold " ID,                   /* no LF */
	    "hold " ID "\nhold " ID "\n", /* two lines */
	    "hold domain=x.test\n",       /* domain= is for flush */
	    "flush all " ID "\n",         /* all goes alone */
	    "rules " ID "\n",
	    "hold " ID "\r\n",
	};
	struct queue_request req;
	const char *error;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(queue_request_parse(bad[i], strlen(bad[i]), &req, &error), -1);
		assert_int_equal(req.ids.count, 0);
	}
}

static void test_answer_round_trip(void **state)
{
	struct queue_answer ans = {0}, back;
	struct buf b = BUF_INIT;
	const char *error;

	(void)state;
	queue_answer_add(&ans, QUEUE_ANSWER_OK, ID, NULL);
	queue_answer_add(&ans, QUEUE_ANSWER_ERROR, "x1", "disk full 100%");
	queue_answer_format(&ans, &b);
	assert_string_equal(b.data, "ok " ID "\nerror x1 disk%20full%20100%25\nend\n");
	assert_int_equal(queue_answer_parse(b.data, b.len, &back, &error), 0);
	assert_int_equal(back.items.count, 2);
	assert_string_equal(back.items.items[1].text, "disk full 100%");
	queue_answer_clear(&back);
	/* incomplete (no end) is refused */
	assert_int_equal(queue_answer_parse(b.data, b.len - 4, &back, &error), -1);
	queue_answer_clear(&ans);
	buf_free(&b);
	assert_true(queue_request_name("r-123-0123456789abcdef"));
	assert_false(queue_request_name(ID));
	assert_false(queue_request_name("r-../x"));
}

static void test_hold_rules(void **state)
{
	char dir[] = "/tmp/test-hold-rules-XXXXXX";
	struct queue_hold_rules rules;
	struct spool_envelope env;
	const char *error;
	size_t line;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(queue_hold_rules_load(dir, &rules, &error), 0);
	assert_int_equal(rules.items.count, 0);
	assert_int_equal(
	    queue_hold_rules_edit(dir, 0, QUEUE_HOLD_FROM, "alice@example.org", &rules, &error), 0);
	queue_hold_rules_clear(&rules);
	assert_int_equal(
	    queue_hold_rules_edit(dir, 0, QUEUE_HOLD_TO_DOMAIN, "Other.Test", &rules, &error), 0);
	queue_hold_rules_clear(&rules);
	assert_int_equal(queue_hold_rules_edit(dir, 0, QUEUE_HOLD_FROM, "a b", &rules, &error), -1);
	assert_int_equal(queue_hold_rules_edit(dir, 3, QUEUE_HOLD_FROM, NULL, &rules, &error), -1);
	assert_int_equal(queue_hold_rules_load(dir, &rules, &error), 0);
	assert_int_equal(rules.items.count, 2);
	memset(&env, 0, sizeof(env));
	env.sender = "bob@example.org";
	spool_envelope_add_rcpt(&env, "carol@other.test", 0, NULL, NULL, NULL);
	assert_int_equal(queue_hold_match(&rules, &env), 2);
	env.sender = "ALICE@example.org";
	assert_int_equal(queue_hold_match(&rules, &env), 1);
	queue_hold_rules_clear(&rules);
	assert_int_equal(queue_hold_rules_edit(dir, 1, QUEUE_HOLD_FROM, NULL, &rules, &error), 0);
	assert_int_equal(rules.items.count, 1);
	assert_int_equal(queue_hold_match(&rules, &env), 1);
	queue_hold_rules_clear(&rules);
	env.sender = NULL;
	spool_envelope_clear(&env);
	assert_int_equal(queue_hold_rules_parse("from x@y\nsender z\n", 18, &rules, &line, &error),
	                 -1);
	assert_int_equal(line, 2);
	char *path = queue_hold_rules_path(dir), *rdir = queue_hold_rules_dir(dir);

	unlink(path);
	rmdir(rdir);
	rmdir(dir);
	free(path);
	free(rdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_records),   cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_request_refused), cmocka_unit_test(test_answer_round_trip),
	    cmocka_unit_test(test_hold_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
