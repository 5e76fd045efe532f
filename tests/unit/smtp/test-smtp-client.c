/* Unit tests for src/smtp/smtp-client.c: the engine against scripted server
   transcripts (pipelined and not, a 452 split, STARTTLS, AUTH, the checks
   before MAIL, a lost connection), and dot-stuffing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "smtp/smtp-client.h"

static const char EHLO_PLAIN[] = "250-mx.test\r\n250-SIZE 1000\r\n250 DSN\r\n";
static const char EHLO_PIPE[] = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE\r\n250 8BITMIME\r\n";
static const char BODY[] = "Subject: x\r\n\r\n.leading dot\r\nend";

struct drive {
	struct smtp_client *c;
	struct buf out; /* everything the client sent */
	bool body_sent;
};

/* Feed server bytes one at a time, acting as a connection would on TLS and
   BODY; returns what the client wrote since the last call. */
static const char *server(struct drive *d, const char *text)
{
	buf_clear(&d->out);
	for (size_t i = 0; text[i] != '\0'; i++) {
		smtp_client_feed(d->c, text + i, 1);
		for (int guard = 0; guard < 4; guard++) {
			struct buf *o = smtp_client_output(d->c);

			buf_append(&d->out, o->data, o->len);
			smtp_client_output_done(d->c);
			if (smtp_client_want(d->c) == SMTP_CLIENT_WANT_TLS) {
				smtp_client_tls_started(d->c);
			} else if (smtp_client_want(d->c) == SMTP_CLIENT_WANT_BODY) {
				smtp_client_body(d->c, BODY, strlen(BODY));
				smtp_client_body_end(d->c);
				d->body_sent = true;
			}
		}
	}
	return buf_cstr(&d->out);
}

static const char *output(struct drive *d)
{
	struct buf *o = smtp_client_output(d->c);

	buf_clear(&d->out);
	buf_append(&d->out, o->data, o->len);
	smtp_client_output_done(d->c);
	return buf_cstr(&d->out);
}

static void drive_init(struct drive *d, const struct smtp_client_config *config)
{
	memset(d, 0, sizeof(*d));
	d->c = smtp_client_new(config);
}

static void drive_free(struct drive *d)
{
	smtp_client_free(&d->c);
	buf_free(&d->out);
}

static void txn_init(struct smtp_client_txn *t, size_t rcpts)
{
	static const char *const addrs[] = {"a@other.test", "b@other.test", "c@other.test"};

	memset(t, 0, sizeof(*t));
	t->sender = "s@example.test";
	t->size = 100;
	for (size_t i = 0; i < rcpts; i++)
		smtp_client_txn_add_rcpt(t, addrs[i], 0, NULL, NULL);
}

static const struct smtp_client_config plain_config = {.helo = "me.test"};

static void test_not_pipelined(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	drive_init(&d, &plain_config);
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_REPLY);
	assert_string_equal(server(&d, "220 mx.test ESMTP\r\n"), "EHLO me.test\r\n");
	assert_string_equal(server(&d, EHLO_PLAIN), "");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	assert_true(smtp_client_ext(d.c)->dsn);
	assert_int_equal(smtp_client_ext(d.c)->size_max, 1000);
	txn_init(&t, 2);
	t.ret = SPOOL_RET_HDRS;
	t.envid = "id 1+";
	t.rcpts.items[0].notify = SPOOL_NOTIFY_FAILURE | SPOOL_NOTIFY_DELAY;
	t.rcpts.items[0].orcpt_type = "rfc822";
	t.rcpts.items[0].orcpt = "a=x@other.test";
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	assert_string_equal(output(&d),
	                    "MAIL FROM:<s@example.test> SIZE=100 RET=HDRS ENVID=id+201+2B\r\n");
	assert_string_equal(server(&d, "250 2.1.0 ok\r\n"),
	                    "RCPT TO:<a@other.test> NOTIFY=FAILURE,DELAY "
	                    "ORCPT=rfc822;a+3Dx@other.test\r\n");
	assert_string_equal(server(&d, "250 2.1.5 ok\r\n"), "RCPT TO:<b@other.test>\r\n");
	assert_string_equal(server(&d, "550 5.1.1 no such user\r\n"), "DATA\r\n");
	assert_string_equal(server(&d, "354 go\r\n"),
	                    "Subject: x\r\n\r\n..leading dot\r\nend\r\n.\r\n");
	assert_true(d.body_sent);
	assert_string_equal(server(&d, "250 2.0.0 queued\r\n"), "");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	assert_int_equal(t.results.items[0].code, 250);
	assert_string_equal(t.results.items[0].enhanced, "2.0.0");
	assert_int_equal(t.results.items[1].code, 550);
	assert_string_equal(t.results.items[1].enhanced, "5.1.1");
	assert_string_equal(t.results.items[1].text, "no such user");
	smtp_client_quit(d.c);
	assert_string_equal(output(&d), "QUIT\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_CLOSE);
	assert_null(smtp_client_failure(d.c));
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

static void ready_pipelined(struct drive *d, const struct smtp_client_config *config)
{
	drive_init(d, config);
	server(d, "220 mx.test\r\n");
	server(d, EHLO_PIPE);
	assert_int_equal(smtp_client_want(d->c), SMTP_CLIENT_WANT_READY);
}

static void test_pipelined_and_reuse(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	ready_pipelined(&d, &plain_config);
	for (int round = 0; round < 2; round++) {
		txn_init(&t, 2);
		t.body = SPOOL_BODY_8BITMIME;
		assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
		assert_string_equal(output(&d),
		                    "MAIL FROM:<s@example.test> SIZE=100 BODY=8BITMIME\r\n"
		                    "RCPT TO:<a@other.test>\r\nRCPT TO:<b@other.test>\r\nDATA\r\n");
		server(&d, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
		assert_true(d.body_sent);
		server(&d, "250 2.0.0 done\r\n");
		assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
		assert_int_equal(t.accepted, 2);
		assert_int_equal(t.results.items[1].code, 250);
		smtp_client_txn_clear(&t);
	}
	drive_free(&d);
}

static void test_452_split(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	ready_pipelined(&d, &plain_config);
	txn_init(&t, 3);
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	output(&d);
	server(&d, "250 ok\r\n250 ok\r\n250 ok\r\n452 4.5.3 too many recipients\r\n354 go\r\n");
	server(&d, "250 done\r\n");
	assert_int_equal(t.accepted, 2);
	assert_int_equal(t.results.items[0].code, 250);
	assert_int_equal(t.results.items[2].code, 452);
	assert_string_equal(t.results.items[2].enhanced, "4.5.3");
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

static void test_no_recipient_rset(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	/* pipelined: DATA refused, then RSET */
	ready_pipelined(&d, &plain_config);
	txn_init(&t, 1);
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	output(&d);
	assert_string_equal(server(&d, "250 ok\r\n550 5.1.1 no\r\n554 5.5.1 no valid rcpt\r\n"),
	                    "RSET\r\n");
	server(&d, "250 ok\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	assert_int_equal(t.results.items[0].code, 550);
	smtp_client_txn_clear(&t);
	drive_free(&d);

	/* not pipelined: MAIL refused, no RCPT at all */
	drive_init(&d, &plain_config);
	server(&d, "220 mx\r\n");
	server(&d, EHLO_PLAIN);
	txn_init(&t, 2);
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	output(&d);
	assert_string_equal(server(&d, "451 4.3.0 busy\r\n"), "RSET\r\n");
	assert_int_equal(t.results.items[0].code, 451);
	assert_int_equal(t.results.items[1].code, 451);
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

static void test_starttls_and_auth(void **state)
{
	struct smtp_client_config config = {
	    .helo = "me.test", .tls_possible = true, .auth_user = "u", .auth_pass = "p"};
	struct drive d;

	drive_init(&d, &config);
	server(&d, "220 mx\r\n");
	assert_string_equal(server(&d, "250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"),
	                    "STARTTLS\r\n");
	/* TLS started by the driver: EHLO again */
	assert_string_equal(server(&d, "220 go ahead\r\n"), "EHLO me.test\r\n");
	assert_true(smtp_client_tls(d.c));
	/* base64 of "\0u\0p" */
	assert_string_equal(server(&d, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n"),
	                    "AUTH PLAIN AHUAcA==\r\n");
	server(&d, "235 2.7.0 ok\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	drive_free(&d);

	/* LOGIN when PLAIN is not offered; TLS already on */
	config.tls_active = true;
	drive_init(&d, &config);
	server(&d, "220 mx\r\n");
	assert_string_equal(server(&d, "250-mx\r\n250 AUTH LOGIN\r\n"), "AUTH LOGIN\r\n");
	assert_string_equal(server(&d, "334 VXNlcm5hbWU6\r\n"), "dQ==\r\n");
	assert_string_equal(server(&d, "334 UGFzc3dvcmQ6\r\n"), "cA==\r\n");
	server(&d, "235 ok\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	drive_free(&d);

	/* never AUTH in clear */
	config.tls_active = false;
	config.tls_possible = false;
	drive_init(&d, &config);
	server(&d, "220 mx\r\n");
	assert_string_equal(server(&d, "250-mx\r\n250 AUTH PLAIN\r\n"), "QUIT\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_CLOSE);
	assert_non_null(smtp_client_failure(d.c));
	assert_string_equal(smtp_client_failure(d.c)->enhanced, "4.7.0");
	drive_free(&d);

	/* a failed AUTH */
	config.tls_active = true;
	drive_init(&d, &config);
	server(&d, "220 mx\r\n");
	server(&d, "250-mx\r\n250 AUTH PLAIN\r\n");
	assert_string_equal(server(&d, "535 5.7.8 bad credentials\r\n"), "QUIT\r\n");
	assert_int_equal(smtp_client_failure(d.c)->code, 535);
	drive_free(&d);
}

static void test_checks_before_mail(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	drive_init(&d, &plain_config);
	server(&d, "220 mx\r\n");
	server(&d, EHLO_PLAIN);
	txn_init(&t, 1);
	t.size = 1001;
	assert_int_equal(smtp_client_start(d.c, &t, &fail), -1);
	assert_string_equal(fail.enhanced, "5.3.4");
	t.size = 10;
	t.smtputf8 = true;
	assert_int_equal(smtp_client_start(d.c, &t, &fail), -1);
	assert_string_equal(fail.enhanced, "5.6.7");
	t.smtputf8 = false;
	t.body = SPOOL_BODY_BINARYMIME;
	assert_int_equal(smtp_client_start(d.c, &t, &fail), -1);
	assert_string_equal(fail.enhanced, "5.6.3");
	assert_string_equal(output(&d), "");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	smtp_client_result_clear(&fail);
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

static void test_bdat(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	drive_init(&d, &plain_config);
	server(&d, "220 mx\r\n");
	server(&d, "250-mx\r\n250-CHUNKING\r\n250 BINARYMIME\r\n");
	txn_init(&t, 1);
	t.body = SPOOL_BODY_BINARYMIME;
	t.size = strlen(BODY);
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	assert_string_equal(output(&d), "MAIL FROM:<s@example.test> BODY=BINARYMIME\r\n");
	assert_string_equal(server(&d, "250 ok\r\n"), "RCPT TO:<a@other.test>\r\n");
	assert_string_equal(server(&d, "250 ok\r\n"), "BDAT 31 LAST\r\n"
	                                              "Subject: x\r\n\r\n.leading dot\r\nend");
	server(&d, "250 2.0.0 ok\r\n");
	assert_int_equal(t.results.items[0].code, 250);
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

/* RFC 8689 2: REQUIRETLS goes on MAIL FROM when the message has it and
   the peer offers it; never to a peer that does not. */
static void test_requiretls_param(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	drive_init(&d, &plain_config);
	server(&d, "220 mx\r\n");
	server(&d, "250-mx\r\n250 REQUIRETLS\r\n");
	txn_init(&t, 1);
	t.requiretls = true;
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	assert_string_equal(output(&d), "MAIL FROM:<s@example.test> REQUIRETLS\r\n");
	smtp_client_txn_clear(&t);
	drive_free(&d);

	drive_init(&d, &plain_config);
	server(&d, "220 mx\r\n");
	server(&d, "250 mx\r\n");
	txn_init(&t, 1);
	t.requiretls = true;
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	assert_string_equal(output(&d), "MAIL FROM:<s@example.test>\r\n");
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

static void test_helo_fallback_and_greeting(void **state)
{
	struct drive d;

	drive_init(&d, &plain_config);
	server(&d, "220 old\r\n");
	assert_string_equal(server(&d, "502 what\r\n"), "HELO me.test\r\n");
	server(&d, "250 old\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_READY);
	assert_false(smtp_client_ext(d.c)->esmtp);
	drive_free(&d);

	drive_init(&d, &plain_config);
	assert_string_equal(server(&d, "554 5.7.1 go away\r\n"), "QUIT\r\n");
	assert_int_equal(smtp_client_failure(d.c)->code, 554);
	drive_free(&d);

	/* garbage is a lost session */
	drive_init(&d, &plain_config);
	server(&d, "HTTP/1.1 400\r\n");
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_CLOSE);
	assert_int_equal(smtp_client_failure(d.c)->code, 421);
	drive_free(&d);
}

static void test_lost_after_rcpt(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	ready_pipelined(&d, &plain_config);
	txn_init(&t, 2);
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	output(&d);
	server(&d, "250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n");
	smtp_client_connection_lost(d.c, "peer closed");
	/* accepted but not confirmed: not delivered */
	assert_int_equal(t.results.items[0].code, 421);
	assert_int_equal(t.results.items[1].code, 550);
	assert_int_equal(smtp_client_want(d.c), SMTP_CLIENT_WANT_CLOSE);
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

/* What the queue asks on a lost session: was MAIL accepted (a 421 to MAIL
   on a reused session means a new connection, not a deferral), and is the
   reply to the whole message due (a stop waits for it). */
static void test_mail_accepted_and_data_reply_due(void **state)
{
	struct drive d;
	struct smtp_client_txn t;
	struct smtp_client_result fail = {0};

	ready_pipelined(&d, &plain_config);
	txn_init(&t, 1);
	assert_false(smtp_client_mail_accepted(d.c));
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	output(&d);
	server(&d, "421 4.7.0 Too many messages in this session\r\n");
	assert_false(smtp_client_mail_accepted(d.c));
	assert_false(smtp_client_awaiting_data_reply(d.c));
	smtp_client_connection_lost(d.c, "peer closed");
	assert_int_equal(t.results.items[0].code, 421);
	smtp_client_txn_clear(&t);
	drive_free(&d);

	ready_pipelined(&d, &plain_config);
	txn_init(&t, 1);
	assert_int_equal(smtp_client_start(d.c, &t, &fail), 0);
	output(&d);
	server(&d, "250 ok\r\n250 ok\r\n");
	assert_true(smtp_client_mail_accepted(d.c));
	assert_false(smtp_client_awaiting_data_reply(d.c));
	server(&d, "354 go\r\n");
	assert_true(d.body_sent);
	assert_true(smtp_client_awaiting_data_reply(d.c));
	server(&d, "250 2.0.0 kept\r\n");
	assert_false(smtp_client_awaiting_data_reply(d.c));
	assert_int_equal(t.results.items[0].code, 250);
	smtp_client_txn_clear(&t);
	drive_free(&d);
}

static void test_dot_stuffing(void **state)
{
	const char *in = "a\r\n.b\r\n..c\r\n.\r\nd";
	struct smtp_dot_stuffer st = {true};
	struct buf out = BUF_INIT;

	for (size_t i = 0; in[i] != '\0'; i++)
		smtp_dot_stuff(&st, in + i, 1, &out);
	smtp_dot_end(&st, &out);
	assert_string_equal(buf_cstr(&out), "a\r\n..b\r\n...c\r\n..\r\nd\r\n.\r\n");
	buf_clear(&out);
	st.at_line_start = true;
	smtp_dot_stuff(&st, "x\r\n", 3, &out);
	smtp_dot_end(&st, &out);
	assert_string_equal(buf_cstr(&out), "x\r\n.\r\n");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_pipelined),
	    cmocka_unit_test(test_pipelined_and_reuse),
	    cmocka_unit_test(test_452_split),
	    cmocka_unit_test(test_no_recipient_rset),
	    cmocka_unit_test(test_starttls_and_auth),
	    cmocka_unit_test(test_checks_before_mail),
	    cmocka_unit_test(test_bdat),
	    cmocka_unit_test(test_requiretls_param),
	    cmocka_unit_test(test_helo_fallback_and_greeting),
	    cmocka_unit_test(test_lost_after_rcpt),
	    cmocka_unit_test(test_mail_accepted_and_data_reply_due),
	    cmocka_unit_test(test_dot_stuffing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
