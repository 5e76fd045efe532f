/* Unit tests for LMTP on the SMTP session (smtp-lmtp.c) against a scripted
   policy: LHLO instead of HELO/EHLO, no AUTH, and after the message one
   reply per accepted recipient in RCPT order, given at once or later,
   with pipelined commands answered only after the last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/cli-settings.h"
#include "lib/buf.h"
#include "lib/settings-private.h"
#include "lib/xalloc.h"
#include "net/conn-set.h"
#include "smtp/smtp-server.h"
#include "store/delivery.h"

#include "smtp-fixture.h"

/* What the scripted policy answers at the end of DATA: codes[i] for the
   i-th accepted recipient; the first sync_count replies inside the op,
   the rest when the test calls answer_rest(). */
struct tpolicy {
	struct smtp_fixture_policy base; /* first: the session count */
	unsigned codes[8];
	size_t sync_count;
	size_t answered;
	size_t rcpt_count;
	struct smtp_session *pending;
	unsigned data_ends;
};

struct fixture {
	struct smtp_fixture sf;
	struct tpolicy tp;
};

/* Recipients at "bad" are refused; the others accepted. */
static void tp_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	if (strstr(addr, "@bad.test") != NULL)
		smtp_stage_reply(s, 550, "5.1.1", "<%s>: unknown", addr);
	else
		smtp_stage_reply(s, 250, "2.1.5", "Ok");
}

static void answer_one(struct tpolicy *tp, struct smtp_session *s)
{
	size_t i = tp->answered++;
	unsigned code = tp->codes[i];

	smtp_stage_reply(s, code, code < 300 ? "2.0.0" : "4.3.0", "rcpt %zu", i + 1);
}

static void tp_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct tpolicy *tp = ctx;

	delivery_abort(&msg->delivery);
	tp->data_ends++;
	tp->answered = 0;
	tp->rcpt_count = msg->rcpt_count;
	for (size_t i = 0; i < tp->sync_count && i < msg->rcpt_count; i++)
		answer_one(tp, s);
	if (tp->answered < msg->rcpt_count)
		tp->pending = s;
}

static const struct smtp_policy_ops tp_ops = {
    .session_begin = smtp_fixture_session_begin,
    .session_end = smtp_fixture_session_end,
    .rcpt = tp_rcpt,
    .data_end = tp_data_end,
};

static int setup_service(void **state, const struct service_def *service)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct smtp_policy policy = {&tp_ops, &f->tp, false, false};

	f->tp.sync_count = 8;
	*state = f;
	return smtp_fixture_start(&f->sf, "smtp-lmtp", "mx.test", "limits {\nmax_errors = 100\n}\n",
	                          policy, service);
}

static int setup(void **state)
{
	return setup_service(state, &smtp_service_lmtp);
}

static int setup_smtp(void **state)
{
	return setup_service(state, &smtp_service_smtp);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret;

	ret = smtp_fixture_stop(&f->sf, &f->tp.base);
	free(f);
	return ret;
}

static void start_message(struct fixture *f)
{
	char *got;

	smtp_fixture_send(&f->sf, "LHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n"
	                          "RCPT TO:<n@bad.test>\r\nRCPT TO:<z@y.test>\r\nDATA\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(strstr(got, "220 mx.test LMTP Tern\r\n"));
	assert_non_null(strstr(got, "250-mx.test\r\n"));
	assert_non_null(strstr(got,
	                       "250 2.1.5 Ok\r\n550 5.1.1 <n@bad.test>: unknown\r\n250 2.1.5 Ok\r\n"
	                       "354 "));
	free(got);
}

/* RFC 2033 section 4.2: one reply per accepted recipient, in RCPT order,
   each with its own code. */
static void test_reply_per_recipient(void **state)
{
	struct fixture *f = *state;

	f->tp.codes[0] = 250;
	f->tp.codes[1] = 451;
	start_message(f);
	smtp_fixture_send(&f->sf, "Subject: t\r\n\r\nbody\r\n.\r\nNOOP\r\n");
	smtp_fixture_expect(&f->sf, "250 2.0.0 rcpt 1\r\n451 4.3.0 rcpt 2\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(f->tp.rcpt_count, 2);
	assert_int_equal(f->tp.data_ends, 1);
	/* the transaction is over: a new one starts clean */
	smtp_fixture_send(&f->sf, "MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n");
	smtp_fixture_expect(
	    &f->sf, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	smtp_fixture_send(&f->sf, "\r\nbody\r\n.\r\n");
	smtp_fixture_expect(&f->sf, "250 2.0.0 rcpt 1\r\n");
	assert_int_equal(f->tp.rcpt_count, 1);
}

/* Replies that come later: the stage stays pending until the last one, and
   the pipelined command behind the message waits for it. */
static void test_replies_later_keep_order(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s;

	f->tp.sync_count = 1;
	f->tp.codes[0] = 451;
	f->tp.codes[1] = 250;
	start_message(f);
	smtp_fixture_send(&f->sf, "Subject: t\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n");
	smtp_fixture_expect(&f->sf, "451 4.3.0 rcpt 1\r\n");
	assert_non_null(f->tp.pending);
	s = f->tp.pending;
	f->tp.pending = NULL;
	answer_one(&f->tp, s);
	smtp_fixture_expect(&f->sf, "250 2.0.0 rcpt 2\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
}

/* A message the protocol refuses before the policy sees it gets the same
   refusal once per accepted recipient. */
static void test_protocol_refusal_per_recipient(void **state)
{
	struct fixture *f = *state;

	start_message(f);
	smtp_fixture_send(&f->sf, "Subject: t\r\n\r\nbare\nLF\r\n.\r\n");
	smtp_fixture_expect(&f->sf, "554 5.6.0 Message contains bare CR or LF\r\n"
	                            "554 5.6.0 Message contains bare CR or LF\r\n");
	assert_int_equal(f->tp.data_ends, 0);
}

/* The client leaves while replies are still owed: they go nowhere and the
   last one frees the session. */
static void test_disconnect_with_replies_owed(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s;

	f->tp.sync_count = 0;
	f->tp.codes[0] = 250;
	f->tp.codes[1] = 250;
	start_message(f);
	smtp_fixture_send(&f->sf, "\r\nbody\r\n.\r\n");
	s = f->tp.pending;
	assert_non_null(s);
	close(f->sf.client);
	f->sf.client = -1;
	conn_abort_all("test");
	assert_true(smtp_session_gone(s));
	answer_one(&f->tp, s);
	assert_int_equal(f->tp.base.sessions, 1);
	answer_one(&f->tp, s);
	smtp_fixture_pump(&f->sf);
	assert_int_equal(f->tp.base.sessions, 0);
}

/* RFC 2033 section 4.1: HELO and EHLO are refused on LMTP, and so is AUTH. */
static void test_helo_ehlo_auth_refused(void **state)
{
	struct fixture *f = *state;
	char *got;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\nHELO c.test\r\nMAIL FROM:<a@b.test>\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(strstr(got, "500 Error: this is LMTP, use LHLO\r\n"
	                            "500 Error: this is LMTP, use LHLO\r\n"
	                            "503 Error: send LHLO first\r\n"));
	free(got);
	smtp_fixture_send(&f->sf, "LHLO c.test\r\nAUTH PLAIN\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(
	    strstr(got, "250 ENHANCEDSTATUSCODES\r\n502 5.5.1 Error: no AUTH in LMTP\r\n"));
	free(got);
}

/* LHLO is not SMTP. */
static void test_lhlo_unknown_in_smtp(void **state)
{
	struct fixture *f = *state;
	char *got;

	smtp_fixture_send(&f->sf, "LHLO c.test\r\nEHLO c.test\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(strstr(got,
	                       "220 mx.test ESMTP Tern\r\n500 Error: command not recognized\r\n"
	                       "250-mx.test\r\n"));
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reply_per_recipient, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replies_later_keep_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protocol_refusal_per_recipient, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disconnect_with_replies_owed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helo_ehlo_auth_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lhlo_unknown_in_smtp, setup_smtp, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
