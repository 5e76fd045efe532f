/* Unit tests for the SMTP session against a scripted policy
   (smtp-policy.h): stages answered at once or later, pipelining kept in
   order while a stage waits, a client that leaves while one waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

struct tpolicy {
	struct smtp_fixture_policy base; /* first: the session count */
	bool pend_rcpt, pend_data;
	struct smtp_session *pending; /* a stage waiting for the test */
	unsigned messages;
	/* what the last data_end saw */
	struct smtp_message last;
	char envid[128], orcpt[128], header[256];
	unsigned notify;
};

struct fixture {
	struct smtp_fixture sf;
	struct tpolicy tp;
};

static void tp_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	struct tpolicy *tp = ctx;

	if (tp->pend_rcpt)
		tp->pending = s;
	else
		smtp_stage_reply(s, 250, "2.1.5", "Ok");
}

static void tp_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct tpolicy *tp = ctx;

	assert_int_equal(msg->rcpt_count, 1);
	assert_string_equal(msg->rcpts[0], "x@y.test");
	assert_string_equal(msg->mail_from, "a@b.test");
	assert_non_null(msg->delivery);
	delivery_abort(&msg->delivery);
	tp->messages++;
	tp->last = *msg;
	snprintf(tp->envid, sizeof(tp->envid), "%s", msg->dsn_envid ? msg->dsn_envid : "-");
	snprintf(tp->orcpt, sizeof(tp->orcpt), "%s",
	         msg->rcpt_params[0].orcpt ? msg->rcpt_params[0].orcpt : "-");
	snprintf(tp->header, sizeof(tp->header), "%.*s", (int)msg->header_len, msg->header);
	tp->notify = msg->rcpt_params[0].notify;
	if (tp->pend_data)
		tp->pending = s;
	else
		smtp_stage_reply(s, 250, "2.0.0", "Ok: queued as %s", "T1");
}

static const struct smtp_policy_ops tp_ops = {
    .session_begin = smtp_fixture_session_begin,
    .session_end = smtp_fixture_session_end,
    .rcpt = tp_rcpt,
    .data_end = tp_data_end,
};

static int setup_service(void **state, const struct service_def *service, bool tls_required)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct smtp_policy policy = {&tp_ops, &f->tp, tls_required, false};

	*state = f;
	return smtp_fixture_start(&f->sf, "smtp-session", "mx.test", NULL, policy, service);
}

static int setup(void **state)
{
	return setup_service(state, &smtp_service_smtp, false);
}

static int setup_tls_required(void **state)
{
	return setup_service(state, &smtp_service_submission, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret;

	ret = smtp_fixture_stop(&f->sf, &f->tp.base);
	free(f);
	return ret;
}

static void test_sync_policy(void **state)
{
	struct fixture *f = *state;

	smtp_fixture_send(&f->sf,
	                  "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	smtp_fixture_send(&f->sf, "Subject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	smtp_fixture_expect_tail(&f->sf, "250 2.0.0 Ok: queued as T1\r\n221 2.0.0 Bye\r\n");
	assert_int_equal(f->tp.messages, 1);
}

/* A pending RCPT holds back the pipelined commands behind it: their
   replies come after its reply, in order. */
static void test_pending_rcpt_pipelined(void **state)
{
	struct fixture *f = *state;
	char *got;

	f->tp.pend_rcpt = true;
	smtp_fixture_send(&f->sf, "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n"
	                          "RCPT TO:<z@y.test>\r\nNOOP\r\nQUIT\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(strstr(got, "250 2.1.0 Ok\r\n"));
	assert_null(strstr(got, "2.1.5"));
	assert_null(strstr(got, "221"));
	free(got);
	assert_non_null(f->tp.pending);
	smtp_stage_reply(f->tp.pending, 250, "2.1.5", "first");
	f->tp.pending = NULL;
	got = smtp_fixture_received(&f->sf);
	assert_string_equal(got, "250 2.1.5 first\r\n");
	free(got);
	assert_non_null(f->tp.pending);
	smtp_stage_reply(f->tp.pending, 550, "5.1.1", "second");
	f->tp.pending = NULL;
	smtp_fixture_expect_tail(&f->sf, "550 5.1.1 second\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
}

/* The client leaves while RCPT waits: the reply still comes, goes
   nowhere, and the session is freed after it. */
static void test_disconnect_pending_rcpt(void **state)
{
	struct fixture *f = *state;

	f->tp.pend_rcpt = true;
	smtp_fixture_send(&f->sf,
	                  "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nQUIT\r\n");
	assert_non_null(f->tp.pending);
	close(f->sf.client);
	f->sf.client = -1;
	smtp_fixture_pump(&f->sf);
	assert_int_equal(f->tp.base.sessions, 1); /* held by the pending stage */
	assert_false(smtp_session_gone(f->tp.pending));
	/* the connection dies under the waiting stage (as at role exit) */
	conn_abort_all("test");
	assert_true(smtp_session_gone(f->tp.pending));
	assert_int_equal(f->tp.base.sessions, 1);
	smtp_stage_reply(f->tp.pending, 250, "2.1.5", "late");
	f->tp.pending = NULL;
	smtp_fixture_pump(&f->sf);
	assert_int_equal(f->tp.base.sessions, 0);
}

/* The same at the end of DATA (a commit or mail authentication waits). */
static void test_disconnect_pending_data(void **state)
{
	struct fixture *f = *state;

	f->tp.pend_data = true;
	smtp_fixture_send(&f->sf,
	                  "HELO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n"
	                  "Subject: t\r\n\r\nbody\r\n.\r\n");
	assert_non_null(f->tp.pending);
	assert_int_equal(f->tp.messages, 1);
	close(f->sf.client);
	f->sf.client = -1;
	conn_abort_all("test");
	assert_true(smtp_session_gone(f->tp.pending));
	smtp_fixture_pump(&f->sf);
	assert_int_equal(f->tp.base.sessions, 1);
	smtp_stage_reply(f->tp.pending, 451, "4.3.0", "late");
	f->tp.pending = NULL;
	smtp_fixture_pump(&f->sf);
	assert_int_equal(f->tp.base.sessions, 0);
}

/* RFC 3207 section 4: before STARTTLS only the commands flagged
   SMTP_CMD_BEFORE_TLS are taken where the policy requires TLS. */
static void test_tls_required(void **state)
{
	struct fixture *f = *state;
	char *got;

	got = smtp_fixture_received(&f->sf); /* the greeting */
	free(got);
	smtp_fixture_send(&f->sf, "MAIL FROM:<a@b.test>\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "530 Must issue a STARTTLS command first\r\n"); /* before EHLO: no code */
	smtp_fixture_send(&f->sf, "EHLO c.test\r\n");
	smtp_fixture_expect_tail(&f->sf, "250 ENHANCEDSTATUSCODES\r\n");
	smtp_fixture_send(&f->sf,
	                  "MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\nVRFY x\r\n");
	smtp_fixture_expect_tail(&f->sf, "530 5.7.0 Must issue a STARTTLS command first\r\n"
	                                 "530 5.7.0 Must issue a STARTTLS command first\r\n"
	                                 "530 5.7.0 Must issue a STARTTLS command first\r\n"
	                                 "530 5.7.0 Must issue a STARTTLS command first\r\n");
	/* a BDAT refused for want of TLS still has its octets skipped */
	smtp_fixture_send(&f->sf, "BDAT 6 LAST\r\nQUIT\r\n");
	smtp_fixture_expect_tail(&f->sf, "530 5.7.0 Must issue a STARTTLS command first\r\n");
	smtp_fixture_send(&f->sf, "NOOP\r\nRSET\r\nHELP\r\nQUIT\r\n");
	smtp_fixture_expect_tail(&f->sf,
	                         "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n214 2.0.0 See RFC 5321 (Tern)\r\n"
	                         "221 2.0.0 Bye\r\n");
}

/* Without the requirement (port 25, and submission until it has AUTH)
   MAIL is taken in plain text. */
/* BDAT chunks, pipelined, with the message's header split over two
   chunks; the DATA stage sees one message of the right size. */
static void test_bdat_pipelined(void **state)
{
	struct fixture *f = *state;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\n");
	free(smtp_fixture_received(&f->sf));
	smtp_fixture_send(&f->sf,
	                  "MAIL FROM:<a@b.test> RET=HDRS ENVID=E+2B1\r\n"
	                  "RCPT TO:<x@y.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y.test\r\n"
	                  "BDAT 10\r\nSubject: tBDAT 0\r\nBDAT 8 LAST\r\n\r\n\r\nbodyNOOP\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 10 octets received\r\n"
	            "250 2.0.0 Ok: 10 octets received\r\n250 2.0.0 Ok: queued as T1\r\n"
	            "250 2.0.0 Ok\r\n");
	assert_int_equal(f->tp.messages, 1);
	assert_true(f->tp.last.chunked);
	assert_true(f->tp.last.size == 18);
	assert_string_equal(f->tp.header, "Subject: t\r\n");
	assert_int_equal(f->tp.last.dsn_ret, SMTP_DSN_RET_HDRS);
	assert_string_equal(f->tp.envid, "E+2B1");
	assert_int_equal(f->tp.notify, SMTP_DSN_NOTIFY_SUCCESS | SMTP_DSN_NOTIFY_FAILURE);
	assert_string_equal(f->tp.orcpt, "rfc822;x@y.test");
	assert_false(f->tp.last.requiretls);
	assert_false(f->tp.last.smtputf8);
}

/* A BDAT that cannot start a message still has its octets read (they are
   not commands), then is refused; the session goes on. */
static void test_bdat_refused_chunk_skipped(void **state)
{
	struct fixture *f = *state;

	/* before HELO: the octets are no commands either */
	free(smtp_fixture_received(&f->sf));
	smtp_fixture_send(&f->sf, "BDAT 6\r\nQUIT\r\nNOOP\r\n");
	smtp_fixture_expect_tail(&f->sf, "503 Error: send HELO/EHLO first\r\n250 Ok\r\n");
	smtp_fixture_send(&f->sf, "EHLO c.test\r\n");
	free(smtp_fixture_received(&f->sf));
	smtp_fixture_send(&f->sf, "BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n");
	smtp_fixture_expect_tail(&f->sf, "503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n");
	smtp_fixture_send(&f->sf, "MAIL FROM:<a@b.test>\r\nBDAT 4\r\nRSETNOOP\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "250 2.1.0 Ok\r\n554 5.5.1 Error: no valid recipients\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(f->tp.messages, 0);
}

/* BINARYMIME: DATA refused, BDAT takes bare LFs; without BINARYMIME a bare
   LF in a chunk is refused like in DATA. DATA after BDAT is refused. */
static void test_bdat_binarymime(void **state)
{
	struct fixture *f = *state;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\n");
	free(smtp_fixture_received(&f->sf));
	smtp_fixture_send(&f->sf,
	                  "MAIL FROM:<a@b.test> BODY=BINARYMIME\r\nRCPT TO:<x@y.test>\r\nDATA\r\n");
	smtp_fixture_expect_tail(&f->sf, "503 5.5.1 Error: BODY=BINARYMIME requires BDAT\r\n");
	smtp_fixture_send(&f->sf, "BDAT 10 LAST\r\nA: b\n\nx\ry\r");
	smtp_fixture_expect_tail(&f->sf, "250 2.0.0 Ok: queued as T1\r\n");
	assert_int_equal(f->tp.last.body, SMTP_BODY_BINARYMIME);
	smtp_fixture_send(&f->sf,
	                  "MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nBDAT 5 LAST\r\na\nb\r\n");
	smtp_fixture_expect_tail(&f->sf, "554 5.6.0 Message contains bare CR or LF\r\n");
	smtp_fixture_send(&f->sf,
	                  "MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nBDAT 3\r\na\r\nDATA\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "250 2.0.0 Ok: 3 octets received\r\n503 5.5.1 Error: DATA after BDAT\r\n");
	assert_int_equal(f->tp.messages, 1);
}

/* The size limit counts all chunks; a chunk far past it is refused unread
   and the connection closed; a bad BDAT line too. */
static void test_bdat_size_limit(void **state)
{
	struct fixture *f = *state;
	char *got;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n");
	free(smtp_fixture_received(&f->sf));
	/* the default limit is 25 MiB: 30 MiB in one chunk is not absurd, 60 MiB is */
	smtp_fixture_send(&f->sf, "BDAT 62914560\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(strstr(got, "552 5.3.4 Error: message size exceeds fixed limit\r\n"));
	free(got);
	/* closed: the next read sees EOF */
	assert_int_equal(read(f->sf.client, &(char){0}, 1), 0);
}

static void test_bdat_bad_args(void **state)
{
	struct fixture *f = *state;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\n");
	free(smtp_fixture_received(&f->sf));
	smtp_fixture_send(&f->sf, "BDAT x\r\n");
	smtp_fixture_expect_tail(&f->sf, "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
	assert_int_equal(read(f->sf.client, &(char){0}, 1), 0);
}

/* SMTPUTF8 needed for a UTF-8 address; REQUIRETLS refused without TLS,
   and neither TLS-only keyword is offered then. */
static void test_utf8_and_requiretls(void **state)
{
	struct fixture *f = *state;
	char *got;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\n");
	got = smtp_fixture_received(&f->sf);
	assert_non_null(strstr(got, "250-SMTPUTF8\r\n"));
	assert_non_null(strstr(got, "250-CHUNKING\r\n"));
	assert_non_null(strstr(got, "250-DSN\r\n"));
	assert_null(strstr(got, "REQUIRETLS"));
	free(got);
	smtp_fixture_send(&f->sf, "MAIL FROM:<j\xc3\xb6rg@b.test>\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "553 5.6.7 Error: non-ASCII address requires the SMTPUTF8 parameter\r\n");
	smtp_fixture_send(&f->sf, "MAIL FROM:<a@b.test> REQUIRETLS\r\n");
	smtp_fixture_expect_tail(&f->sf, "530 5.7.10 Error: REQUIRETLS needs a TLS session\r\n");
	smtp_fixture_send(&f->sf, "MAIL FROM:<a@b.test>\r\nRCPT TO:<j\xc3\xb6rg@y.test>\r\n");
	smtp_fixture_expect_tail(
	    &f->sf, "250 2.1.0 Ok\r\n553 5.6.7 Error: non-ASCII address requires the SMTPUTF8 "
	            "parameter\r\n");
	smtp_fixture_send(&f->sf, "RSET\r\nMAIL FROM:<a@b.test> SMTPUTF8\r\nRCPT TO:<x@y.test>\r\n"
	                          "DATA\r\nSubject: \xc3\xa9\r\n\r\n.\r\n");
	smtp_fixture_expect_tail(&f->sf, "250 2.0.0 Ok: queued as T1\r\n");
	assert_true(f->tp.last.smtputf8);
	assert_false(f->tp.last.chunked);
	assert_string_equal(f->tp.header, "Subject: \xc3\xa9\r\n");
}

/* The same transaction written one byte at a time. */
static void test_bdat_bytewise(void **state)
{
	struct fixture *f = *state;
	const char *in = "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n"
	                 "BDAT 13\r\nSubject: t\r\n\rBDAT 5 LAST\r\n\nbodyNOOP\r\n";

	for (size_t i = 0; in[i] != '\0'; i++) {
		assert_int_equal(write(f->sf.client, in + i, 1), 1);
		smtp_fixture_pump(&f->sf);
	}
	smtp_fixture_expect_tail(
	    &f->sf, "250 2.0.0 Ok: 13 octets received\r\n250 2.0.0 Ok: queued as T1\r\n"
	            "250 2.0.0 Ok\r\n");
	assert_true(f->tp.last.size == 18);
	assert_string_equal(f->tp.header, "Subject: t\r\n");
}

static void test_tls_not_required(void **state)
{
	struct fixture *f = *state;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\n");
	smtp_fixture_expect_tail(&f->sf, "250 2.1.0 Ok\r\n");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as the roles do: writes to a gone client fail */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sync_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_rcpt_pipelined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disconnect_pending_rcpt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disconnect_pending_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_required, setup_tls_required, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_not_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bdat_pipelined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bdat_bytewise, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bdat_refused_chunk_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bdat_binarymime, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bdat_size_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bdat_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_utf8_and_requiretls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
