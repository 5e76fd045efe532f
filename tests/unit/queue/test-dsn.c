/* Unit tests for src/queue/dsn.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/dsn.h"

#define NOW ((int64_t)1796305503) /* Thu, 03 Dec 2026 13:45:03 +0000 */

static const char HEADER[] = "Received: from x.test\r\nFrom: alice@a.test\r\nSubject: hi\r\n";
static const char BODY[] = "the body\r\n";

struct fixture {
	struct spool_envelope env;
	struct dsn_rcpt rcpts[2];
	struct dsn_original orig;
	struct buf out;
	bool eight;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct spool_rcpt *r;

	f->env.id = xstrdup("0661ba2fed5bf4f1dab2cf1f");
	f->env.arrival = NOW - 3600;
	f->env.sender = xstrdup("alice@a.test");
	f->env.client_ip = xstrdup("192.0.2.7");
	f->env.envid = xstrdup("QQ314159");
	r = spool_envelope_add_rcpt(&f->env, "bob@remote.test", SPOOL_NOTIFY_FAILURE, "rfc822",
	                            "Bob@remote.test", NULL);
	(void)r;
	spool_envelope_add_rcpt(&f->env, "carol@other.test", 0, NULL, NULL, "fwd@example.test");
	f->rcpts[0] = (struct dsn_rcpt){&f->env.rcpts.items[0],
	                                DSN_ACTION_FAILED,
	                                "5.1.1",
	                                "550 5.1.1 <bob@remote.test>: User unknown",
	                                "mx.remote.test",
	                                NOW - 60,
	                                0};
	f->rcpts[1] =
	    (struct dsn_rcpt){&f->env.rcpts.items[1], DSN_ACTION_FAILED, "5.4.4", NULL, NULL, 0, 0};
	buf_append_str(&f->orig.data, HEADER);
	f->orig.headers_only = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	spool_envelope_clear(&f->env);
	dsn_original_clear(&f->orig);
	buf_free(&f->out);
	free(f);
	return 0;
}

static void compose(struct fixture *f, size_t count)
{
	struct dsn_params p = {"mail.example.test", &f->env, NULL, f->rcpts, count, NOW};
	const char *error;

	buf_clear(&f->out);
	assert_int_equal(dsn_compose(&p, &f->orig, &f->out, &f->eight, &error), 0);
}

/* Whether the output has the line (CRLF-terminated, at a line start). */
static bool has_line(const struct fixture *f, const char *line)
{
	char *needle = xasprintf("\n%s\r\n", line);
	bool found = strstr(f->out.data, needle) != NULL;

	free(needle);
	return found;
}

/* CRLF only, no line over 998 bytes (RFC 5322 2.1.1). */
static void assert_well_formed(const struct fixture *f)
{
	size_t line = 0;

	for (size_t i = 0; i < f->out.len; i++) {
		if (f->out.data[i] == '\n') {
			assert_true(i > 0 && f->out.data[i - 1] == '\r');
			line = 0;
		} else {
			assert_true(f->out.data[i] != '\r' || f->out.data[i + 1] == '\n');
			assert_true(++line <= 998);
		}
	}
}

static void test_bounce_fields(void **state)
{
	struct fixture *f = *state;

	compose(f, 2);
	assert_well_formed(f);
	assert_false(f->eight);
	assert_true(strncmp(f->out.data,
	                    "From: Mail Delivery System <MAILER-DAEMON@mail.example.test>\r\n",
	                    62) == 0);
	assert_true(has_line(f, "To: <alice@a.test>"));
	assert_true(has_line(f, "Subject: Undelivered Mail Returned to Sender"));
	assert_true(has_line(f, "Date: Thu, 03 Dec 2026 13:45:03 +0000"));
	assert_true(has_line(f, "Auto-Submitted: auto-replied"));
	assert_true(has_line(f, "Content-Type: multipart/report; report-type=delivery-status;"));
	assert_true(has_line(f, "Content-Type: message/delivery-status"));
	assert_true(has_line(f, "Reporting-MTA: dns; mail.example.test"));
	assert_true(has_line(f, "Original-Envelope-Id: QQ314159"));
	assert_true(has_line(f, "Arrival-Date: Thu, 03 Dec 2026 12:45:03 +0000"));
	assert_true(has_line(f, "Original-Recipient: rfc822;Bob@remote.test"));
	assert_true(has_line(f, "Final-Recipient: rfc822; bob@remote.test"));
	assert_true(has_line(f, "Action: failed"));
	assert_true(has_line(f, "Status: 5.1.1"));
	assert_true(has_line(f, "Remote-MTA: dns; mx.remote.test"));
	assert_true(
	    has_line(f, "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>: User unknown"));
	assert_true(has_line(f, "Last-Attempt-Date: Thu, 03 Dec 2026 13:44:03 +0000"));
	/* the second: no ORCPT, no remote: only what is known */
	assert_true(has_line(f, "Final-Recipient: rfc822; carol@other.test"));
	assert_true(has_line(f, "Status: 5.4.4"));
	assert_null(strstr(f->out.data, "Original-Recipient: rfc822;carol"));
	assert_null(strstr(f->out.data, "Will-Retry-Until"));
	/* the person's part names the alias it came through */
	assert_non_null(
	    strstr(f->out.data, "<carol@other.test> (expanded from <fwd@example.test>):"));
	assert_true(has_line(f, "Content-Type: text/rfc822-headers"));
	assert_non_null(strstr(f->out.data, HEADER));
	assert_true(has_line(f, "--=_tern-dsn-0661ba2fed5bf4f1dab2cf1f-1796305503-0--"));
}

static void test_delay_and_success(void **state)
{
	struct fixture *f = *state;

	f->rcpts[0].action = DSN_ACTION_DELAYED;
	f->rcpts[0].status = "4.4.1";
	f->rcpts[0].will_retry_until = NOW + 4 * 86400;
	compose(f, 1);
	assert_true(has_line(f, "Subject: Delayed Mail (still being retried)"));
	assert_true(has_line(f, "Action: delayed"));
	assert_true(has_line(f, "Will-Retry-Until: Mon, 07 Dec 2026 13:45:03 +0000"));
	f->rcpts[0].action = DSN_ACTION_DELIVERED;
	f->rcpts[0].status = NULL; /* a default after the action */
	compose(f, 1);
	assert_true(has_line(f, "Subject: Successful Mail Delivery Report"));
	assert_true(has_line(f, "Action: delivered"));
	assert_true(has_line(f, "Status: 2.0.0"));
	assert_null(strstr(f->out.data, "Will-Retry-Until"));
	/* one failure among others: it is a bounce */
	f->rcpts[1].action = DSN_ACTION_FAILED;
	f->rcpts[1].status = "bogus";
	compose(f, 2);
	assert_true(has_line(f, "Subject: Undelivered Mail Returned to Sender"));
	assert_true(has_line(f, "Status: 5.0.0"));
}

static void test_hostile_text(void **state)
{
	struct fixture *f = *state;
	char *lng = xcalloc(1, 5000);

	f->rcpts[0].diagnostic = "550-first line\r\n550 second \x01line \xc3\xa9t\xc3\xa9\r\n";
	compose(f, 1);
	assert_well_formed(f);
	assert_true(has_line(f, "Diagnostic-Code: smtp; 550-first line 550 second line ??t??"));
	assert_false(f->eight);
	memset(lng, 'x', 4999);
	f->rcpts[0].diagnostic = lng;
	compose(f, 1);
	assert_well_formed(f);
	free(lng);
}

static void test_global(void **state)
{
	struct fixture *f = *state;

	f->env.smtputf8 = true;
	f->rcpts[0].diagnostic = "550 5.1.1 <j\xc3\xb6rg@remote.test> unknown";
	compose(f, 1);
	assert_true(
	    has_line(f, "Content-Type: multipart/report; report-type=global-delivery-status;"));
	assert_true(has_line(f, "Content-Type: message/global-delivery-status"));
	assert_true(has_line(f, "Content-Type: message/global-headers"));
	assert_true(
	    has_line(f, "Diagnostic-Code: smtp; 550 5.1.1 <j\xc3\xb6rg@remote.test> unknown"));
	assert_true(f->eight);
}

static void test_full_and_boundary(void **state)
{
	struct fixture *f = *state;

	buf_clear(&f->orig.data);
	/* the original holds the boundary we would pick first */
	buf_printf(&f->orig.data, "%s\r\n--=_tern-dsn-0661ba2fed5bf4f1dab2cf1f-1796305503-0\r\n%s",
	           HEADER, BODY);
	f->orig.headers_only = false;
	compose(f, 1);
	assert_true(has_line(f, "Content-Type: message/rfc822"));
	assert_true(has_line(f, "--=_tern-dsn-0661ba2fed5bf4f1dab2cf1f-1796305503-1--"));
	assert_non_null(strstr(f->out.data, BODY));
}

static void test_refuses(void **state)
{
	struct fixture *f = *state;
	struct dsn_params p = {"mail.example.test", &f->env, NULL, f->rcpts, 0, NOW};
	const char *error;
	bool eight;

	assert_int_equal(dsn_compose(&p, &f->orig, &f->out, &eight, &error), -1);
	p.rcpt_count = 1;
	p.hostname = "";
	assert_int_equal(dsn_compose(&p, &f->orig, &f->out, &eight, &error), -1);
}

static void test_status_and_date(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"5.1.1", true},  {"2.0.0", true},   {"4.999.999", true}, {"3.1.1", false},
	    {"5.1", false},   {"5.1.1.", false}, {"5..1", false},     {"5.1000.1", false},
	    {"x.1.1", false}, {"", false},       {"55.1.1", false},
	};
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(dsn_status_valid(cases[i].s), cases[i].ok);
	assert_false(dsn_status_valid(NULL));
	dsn_format_date(0, &b);
	assert_string_equal(b.data, "Thu, 01 Jan 1970 00:00:00 +0000");
	buf_clear(&b);
	dsn_format_date(951782400, &b); /* a leap day */
	assert_string_equal(b.data, "Tue, 29 Feb 2000 00:00:00 +0000");
	buf_free(&b);
	assert_string_equal(dsn_action_name(DSN_ACTION_RELAYED), "relayed");
	assert_string_equal(dsn_action_name(DSN_ACTION_EXPANDED), "expanded");
}

/* ---- dsn_load_original ---- */

static char *write_original(const char *content, size_t len)
{
	char *path = xstrdup("/tmp/test-dsn-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write_full(fd, content, len), 0);
	close(fd);
	return path;
}

static void load(const char *content, size_t len, uint64_t skip, enum spool_ret ret,
                 enum spool_body body, struct dsn_original *orig)
{
	struct spool_envelope env = {.data_skip = skip, .ret = ret, .body = body};
	char *path = write_original(content, len);
	const char *error;

	env.size = len - skip;
	assert_int_equal(dsn_load_original(path, &env, orig, &error), 0);
	unlink(path);
	free(path);
}

static void test_load(void **state)
{
	static const char rp[] = "Return-Path: <alice@a.test>\r\n";
	struct buf msg = BUF_INIT;
	struct dsn_original o;

	(void)state;
	buf_printf(&msg, "%s%s\r\n%s", rp, HEADER, BODY);
	load(msg.data, msg.len, strlen(rp), SPOOL_RET_HDRS, SPOOL_BODY_UNSET, &o);
	assert_true(o.headers_only);
	assert_string_equal(o.data.data, HEADER);
	dsn_original_clear(&o);
	load(msg.data, msg.len, strlen(rp), SPOOL_RET_UNSET, SPOOL_BODY_UNSET, &o);
	assert_true(o.headers_only);
	assert_string_equal(o.data.data, HEADER);
	dsn_original_clear(&o);
	load(msg.data, msg.len, strlen(rp), SPOOL_RET_FULL, SPOOL_BODY_8BITMIME, &o);
	assert_false(o.headers_only);
	assert_string_equal(o.data.data, msg.data + strlen(rp));
	dsn_original_clear(&o);
	/* BINARYMIME cannot go into a message/rfc822 part */
	load(msg.data, msg.len, strlen(rp), SPOOL_RET_FULL, SPOOL_BODY_BINARYMIME, &o);
	assert_true(o.headers_only);
	dsn_original_clear(&o);
	/* LF line ends too */
	load("A: 1\nB: 2\n\nbody\n", 16, 0, SPOOL_RET_HDRS, SPOOL_BODY_UNSET, &o);
	assert_string_equal(o.data.data, "A: 1\nB: 2\n");
	dsn_original_clear(&o);
	/* no header at all */
	load("\r\nbody\r\n", 8, 0, SPOOL_RET_HDRS, SPOOL_BODY_UNSET, &o);
	assert_int_equal(o.data.len, 0);
	dsn_original_clear(&o);
	buf_free(&msg);
}

static void test_load_limits(void **state)
{
	struct buf big = BUF_INIT;
	struct dsn_original o;
	const char *error;
	struct spool_envelope env = {.ret = SPOOL_RET_FULL};

	(void)state;
	/* over DSN_MAX_FULL with RET=FULL: the header section only */
	buf_append_str(&big, HEADER);
	buf_append_str(&big, "\r\n");
	while (big.len <= DSN_MAX_FULL)
		buf_append_str(&big,
		               "0123456789012345678901234567890123456789012345678901234567\r\n");
	load(big.data, big.len, 0, SPOOL_RET_FULL, SPOOL_BODY_UNSET, &o);
	assert_true(o.headers_only);
	assert_string_equal(o.data.data, HEADER);
	dsn_original_clear(&o);
	/* a header section without end, larger than DSN_MAX_HEADER: cut at a
	   line end */
	buf_clear(&big);
	while (big.len <= DSN_MAX_HEADER + 100)
		buf_append_str(&big,
		               "X-Filler: 01234567890123456789012345678901234567890123456\r\n");
	load(big.data, big.len, 0, SPOOL_RET_HDRS, SPOOL_BODY_UNSET, &o);
	assert_true(o.data.len <= DSN_MAX_HEADER && o.data.len > DSN_MAX_HEADER - 100);
	assert_memory_equal(o.data.data + o.data.len - 2, "\r\n", 2);
	dsn_original_clear(&o);
	buf_free(&big);
	assert_int_equal(dsn_load_original("/nonexistent/x.msg", &env, &o, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bounce_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delay_and_success, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_global, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_and_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses, setup, teardown),
	    cmocka_unit_test(test_status_and_date),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
