/* Unit tests for src/queue/queue-state.c: format and parse back, every
   prefix of a file (a crash mid-append), malformed lines, final states,
   append to a file ending in a partial line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "queue/queue-state.h"

static void sample(struct buf *out)
{
	struct queue_state_event ev = {.kind = QUEUE_EVENT_ATTEMPT,
	                               .time = 1000,
	                               .rcpt = 0,
	                               .code = 451,
	                               .status = "4.4.1",
	                               .next = 1300,
	                               .mx = "mx.other.test",
	                               .ip = "127.0.0.2",
	                               .tls = "none",
	                               .text = "try again % later\r\n"};

	queue_state_format(&ev, out);
	ev.rcpt = 1;
	ev.kind = QUEUE_EVENT_FAILED;
	ev.code = 550;
	ev.status = "5.1.1";
	ev.text = "no such user";
	queue_state_format(&ev, out);
	ev.rcpt = 0;
	ev.time = 1300;
	ev.kind = QUEUE_EVENT_DONE;
	ev.code = 250;
	ev.status = "2.0.0";
	ev.text = NULL;
	ev.tls = "opportunistic";
	queue_state_format(&ev, out);
}

static void test_round_trip(void **state)
{
	struct buf b = BUF_INIT;
	struct queue_state st;

	sample(&b);
	assert_null(memchr(b.data, '\r', b.len));
	queue_state_parse(b.data, b.len, 2, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_DONE);
	assert_int_equal(st.rcpts.items[0].attempts, 2);
	assert_int_equal(st.rcpts.items[0].last, 1300);
	assert_string_equal(st.rcpts.items[0].tls, "opportunistic");
	assert_null(st.rcpts.items[0].text);
	assert_int_equal(st.rcpts.items[1].status, QUEUE_RCPT_FAILED);
	assert_int_equal(st.rcpts.items[1].code, 550);
	assert_string_equal(st.rcpts.items[1].enhanced, "5.1.1");
	assert_string_equal(st.rcpts.items[1].text, "no such user");
	assert_true(queue_state_finished(&st));
	queue_state_clear(&st);
	buf_free(&b);
}

/* A bounce that could not be written: the recipient stays pending for its
   report (with next and the failure kept), until a failed line. */
static void test_unreported(void **state)
{
	struct buf b = BUF_INIT;
	struct queue_state st;
	struct queue_state_event ev = {.kind = QUEUE_EVENT_UNREPORTED,
	                               .time = 1000,
	                               .rcpt = 0,
	                               .code = 550,
	                               .status = "5.1.1",
	                               .next = 1300,
	                               .text = "no such user"};

	queue_state_format(&ev, &b);
	assert_non_null(
	    strstr(buf_cstr(&b), "unreported 1000 rcpt=0 code=550 status=5.1.1 next=1300"));
	queue_state_parse(b.data, b.len, 1, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_PENDING);
	assert_true(st.rcpts.items[0].unreported);
	assert_int_equal(st.rcpts.items[0].next, 1300);
	assert_int_equal(st.rcpts.items[0].code, 550);
	assert_string_equal(st.rcpts.items[0].text, "no such user");
	assert_false(queue_state_finished(&st));
	queue_state_clear(&st);
	ev.kind = QUEUE_EVENT_FAILED;
	ev.time = 1300;
	queue_state_format(&ev, &b);
	queue_state_parse(b.data, b.len, 1, &st);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_FAILED);
	assert_false(st.rcpts.items[0].unreported);
	assert_true(queue_state_finished(&st));
	queue_state_clear(&st);
	buf_free(&b);
}

static void test_escaped_text(void **state)
{
	struct buf b = BUF_INIT;
	struct queue_state st;

	sample(&b);
	queue_state_parse(b.data, strchr(b.data, '\n') - b.data + 1, 2, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_PENDING);
	assert_int_equal(st.rcpts.items[0].next, 1300);
	assert_string_equal(st.rcpts.items[0].text, "try again % later\r\n");
	assert_false(queue_state_finished(&st));
	queue_state_clear(&st);
	buf_free(&b);
}

/* Every prefix, as a crash could leave it: the complete lines count, the
   partial one does not. */
static void test_every_prefix(void **state)
{
	struct buf b = BUF_INIT;

	sample(&b);
	for (size_t len = 0; len <= b.len; len++) {
		struct queue_state st;
		size_t lines = 0;

		for (size_t i = 0; i < len; i++)
			lines += b.data[i] == '\n';
		queue_state_parse(b.data, len, 2, &st);
		assert_int_equal(st.malformed, len > 0 && b.data[len - 1] != '\n' ? 1 : 0);
		assert_int_equal(st.rcpts.items[0].attempts + st.rcpts.items[1].attempts, lines);
		assert_int_equal(st.rcpts.items[0].status,
		                 lines == 3 ? QUEUE_RCPT_DONE : QUEUE_RCPT_PENDING);
		queue_state_clear(&st);
	}
	buf_free(&b);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "attempt\n",
	    "attempt x rcpt=0\n",
	    "attempt 1000\n",        /* no rcpt */
	    "retry 1000 rcpt=0\n",   /* unknown kind */
	    "attempt 1000 rcpt=9\n", /* out of range */
	    "attempt 1000 rcpt=x\n",
	    "attempt 1000 rcpt=0 text=%0\n",  /* bad escape */
	    "attempt 1000 rcpt=0 text=%00\n", /* escaped NUL */
	    "attempt 1000 rcpt=0 noequals\n",
	    "attempt 99999999999999999999 rcpt=0\n",
	    "attempt 1000 rcpt=0 text=a\rb\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct queue_state st;

		queue_state_parse(bad[i], strlen(bad[i]), 1, &st);
		assert_int_equal(st.malformed, 1);
		assert_int_equal(st.rcpts.items[0].attempts, 0);
		queue_state_clear(&st);
	}
}

static void test_final_is_final(void **state)
{
	const char *text = "done 10 rcpt=0 code=250\nattempt 20 rcpt=0 code=451 next=30\n"
	                   "attempt 20 rcpt=0 code=451 next=30 future=yes\n";
	struct queue_state st;

	queue_state_parse(text, strlen(text), 2, &st);
	assert_int_equal(st.malformed, 2);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_DONE);
	assert_int_equal(st.rcpts.items[1].attempts, 0);
	queue_state_clear(&st);
	/* unknown keys are skipped */
	text = "attempt 20 rcpt=1 code=451 next=30 future=yes\n";
	queue_state_parse(text, strlen(text), 2, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.rcpts.items[1].next, 30);
	queue_state_clear(&st);
}

static void test_append(void **state)
{
	char path[] = "/tmp/test-queue-state-XXXXXX";
	int fd = mkstemp(path);
	struct buf b = BUF_INIT;
	struct queue_state st;
	const char *error;

	assert_true(fd >= 0);
	/* a partial line from a crash */
	assert_int_equal(write(fd, "attempt 10 rc", 13), 13);
	close(fd);
	sample(&b);
	assert_int_equal(queue_state_append(path, &b, &error), 0);
	assert_int_equal(queue_state_read(path, 2, &st, &error), 0);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_DONE);
	queue_state_clear(&st);
	unlink(path);
	/* a missing file: untried */
	assert_int_equal(queue_state_read(path, 3, &st, &error), 0);
	assert_int_equal(st.rcpts.count, 3);
	assert_int_equal(st.rcpts.items[2].attempts, 0);
	queue_state_clear(&st);
	buf_free(&b);
}

/* tls_verified: written beside a TLS that was used, read back; an old
   record without it reads as not verified; tls=none never carries it. */
static void test_tls_verified(void **state)
{
	struct queue_state_event ev = {.kind = QUEUE_EVENT_DONE,
	                               .time = 2000,
	                               .rcpt = 0,
	                               .code = 250,
	                               .status = "2.0.0",
	                               .tls = "dane",
	                               .tls_verified = true};
	struct buf b = BUF_INIT;
	struct queue_state st;
	const char *old = "done 2000 rcpt=0 code=250 status=2.0.0 tls=opportunistic\n";

	(void)state;
	queue_state_format(&ev, &b);
	assert_non_null(strstr(b.data, " tls=dane tls_verified=yes"));
	queue_state_parse(b.data, b.len, 1, &st);
	assert_int_equal(st.malformed, 0);
	assert_string_equal(st.rcpts.items[0].tls, "dane");
	assert_true(st.rcpts.items[0].tls_verified);
	queue_state_clear(&st);
	queue_state_parse(old, strlen(old), 1, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.rcpts.items[0].status, QUEUE_RCPT_DONE);
	assert_false(st.rcpts.items[0].tls_verified);
	queue_state_clear(&st);
	buf_clear(&b);
	ev.tls = "none";
	queue_state_format(&ev, &b);
	assert_null(strstr(b.data, "tls_verified"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_escaped_text),
	    cmocka_unit_test(test_every_prefix),   cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_final_is_final), cmocka_unit_test(test_append),
	    cmocka_unit_test(test_tls_verified),   cmocka_unit_test(test_unreported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
