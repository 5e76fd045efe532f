/* Unit tests for the RCPT path the policies share (smtp-rcpt.c): a test
   policy that asks a real directory through the worker pool, the replies
   each result maps to, the recipients gathered once each, and the
   postmaster of the server for postmaster@<hostname> (RFC 5321 4.5.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "directory/directory.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "smtp/smtp-rcpt.h"

#include "smtp-fixture.h"

#define HASH "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA"

/* The policy: local results are accepted (users and forward targets
   gathered), non-local ones refused with 554. */
struct tpolicy {
	struct smtp_fixture_policy base; /* first: the session count */
	struct smtp_rcpt_env env;
	struct smtp_rcpts *last; /* the session's, while it lives */
};

struct tsession {
	struct tpolicy *tp;
	struct smtp_rcpts rcpts;
};

struct fixture {
	struct smtp_fixture sf;
	struct tpolicy tp;
};

static void found(void *ctx, const struct directory_resolution *res)
{
	struct tsession *ts = ctx;

	if (res->result == DIRECTORY_NOT_LOCAL) {
		smtp_rcpt_answer(&ts->rcpts, 554, "5.7.1", true, "not ours");
		return;
	}
	assert_int_equal(smtp_rcpts_add_users(&ts->rcpts, res), 0);
	for (size_t i = 0; i < res->remote_count; i++)
		smtp_rcpts_add_remote(&ts->rcpts, res->remote[i], ts->rcpts.addr);
	smtp_rcpt_answer(&ts->rcpts, 250, "2.1.5", false, "Ok");
}

static void tp_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct tpolicy *tp = policy;
	struct tsession *ts = xcalloc(1, sizeof(*ts));

	tp->base.sessions++;
	ts->tp = tp;
	smtp_rcpts_init(&ts->rcpts, &tp->env, s, found, ts);
	tp->last = &ts->rcpts;
	*ctx_r = ts;
}

static void tp_end(void *ctx)
{
	struct tsession *ts = ctx;

	ts->tp->base.sessions--;
	ts->tp->last = NULL;
	smtp_rcpts_reset(&ts->rcpts);
	free(ts);
}

static void tp_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	struct tsession *ts = ctx;

	(void)s;
	if (smtp_rcpt_begin(&ts->rcpts, addr, false))
		smtp_rcpt_resolve(&ts->rcpts);
}

static void tp_reset(void *ctx)
{
	struct tsession *ts = ctx;

	smtp_rcpts_reset(&ts->rcpts);
}

static const struct smtp_policy_ops tp_ops = {
    .session_begin = tp_begin,
    .session_end = tp_end,
    .rcpt = tp_rcpt,
    .reset = tp_reset,
};

/* example.org with tim and bob, team@ (tim and a remote address), and
   postmaster@ of nothing; the hostname is mail.example.org, not a local
   domain. */
static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct smtp_policy policy = {&tp_ops, &f->tp, false, false};
	struct directory *dir;
	const char *error;

	*state = f;
	f->sf.base = event_base_new();
	f->sf.role.pool = workpool_new(f->sf.base, 2);
	if (smtp_fixture_start(&f->sf, "smtp-rcpt", "mail.example.org", NULL, policy,
	                       &smtp_service_smtp) < 0)
		return -1;
	if (directory_open(f->sf.set->directory_path, &dir, &error) < 0 ||
	    directory_domain_add(dir, "example.org", &error) < 0 ||
	    directory_user_add(dir, "tim@example.org", HASH, 0, &error) < 0 ||
	    directory_user_add(dir, "bob@example.org", HASH, 0, &error) < 0 ||
	    directory_alias_add(dir, "team@example.org", "tim@example.org", &error) < 0 ||
	    directory_alias_add(dir, "team@example.org", "x@remote.example", &error) < 0) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	directory_close(&dir);
	return smtp_rcpt_env_open(&f->tp.env, f->sf.set, f->sf.role.pool, "test", &error);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret;

	smtp_fixture_send(&f->sf, "QUIT\r\n");
	smtp_fixture_pump(&f->sf);
	smtp_rcpt_env_close(&f->tp.env);
	ret = smtp_fixture_stop(&f->sf, &f->tp.base);
	free(f);
	return ret;
}

static void start(struct fixture *f)
{
	smtp_fixture_send(&f->sf, "EHLO c.test\r\nMAIL FROM:<a@remote.example>\r\n");
	smtp_fixture_expect_wait(&f->sf, "\r\n250 2.1.0 Ok\r\n");
}

static void rcpt(struct fixture *f, const char *addr, const char *reply)
{
	char *cmd = xasprintf("RCPT TO:<%s>\r\n", addr);

	smtp_fixture_send(&f->sf, cmd);
	smtp_fixture_expect_wait(&f->sf, reply);
	free(cmd);
}

static void test_replies(void **state)
{
	struct fixture *f = *state;

	start(f);
	rcpt(f, "nobody@example.org",
	     "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown\r\n");
	rcpt(f, "x@elsewhere.test", "554 5.7.1 <x@elsewhere.test>: not ours\r\n");
	rcpt(f, "x@[127.0.0.1]", "501 5.1.3 Bad recipient address syntax\r\n");
	assert_int_equal(f->tp.last->accepted, 0);
	assert_null(f->tp.last->addr);
}

/* Users once each by Maildir, remote targets once each, with the RCPT
   they came from and its index. */
static void test_gathered_once(void **state)
{
	struct fixture *f = *state;
	struct smtp_rcpts *r;

	start(f);
	rcpt(f, "Tim@example.org", "250 2.1.5 Ok\r\n");
	rcpt(f, "team@example.org", "250 2.1.5 Ok\r\n");
	rcpt(f, "team@example.org", "250 2.1.5 Ok\r\n");
	r = f->tp.last;
	assert_int_equal(r->accepted, 3);
	assert_int_equal(r->users.count, 1);
	assert_string_equal(r->users.items[0].name, "tim@example.org");
	assert_int_equal(r->remotes.count, 1);
	assert_string_equal(r->remotes.items[0].address, "x@remote.example");
	assert_string_equal(r->remotes.items[0].alias, "team@example.org");
	assert_int_equal(r->remotes.items[0].rcpt_index, 1);
	smtp_fixture_send(&f->sf, "RSET\r\n");
	smtp_fixture_expect_wait(&f->sf, "250 2.0.0 Ok\r\n");
	assert_int_equal(r->accepted, 0);
	assert_int_equal(r->users.count, 0);
	assert_int_equal(r->remotes.count, 0);
}

/* RFC 5321 4.5.1: the bare <Postmaster> (postmaster@<hostname> from the
   session) goes to the postmaster of example.org, the hostname's parent
   domain: with no alias, its first user (bob). Another domain's
   postmaster is not ours. */
static void test_bare_postmaster(void **state)
{
	struct fixture *f = *state;
	struct smtp_rcpts *r;

	start(f);
	rcpt(f, "Postmaster", "250 2.1.5 Ok\r\n");
	rcpt(f, "POSTMASTER@Mail.Example.Org", "250 2.1.5 Ok\r\n");
	r = f->tp.last;
	assert_int_equal(r->users.count, 1);
	assert_string_equal(r->users.items[0].name, "bob@example.org");
	assert_null(r->probe);
	rcpt(f, "postmaster@elsewhere.test", "554 5.7.1 <postmaster@elsewhere.test>: not ours\r\n");
}

static void test_syntax_ok(void **state)
{
	(void)state;
	assert_true(smtp_rcpt_syntax_ok("a@b.test"));
	assert_true(smtp_rcpt_syntax_ok("\"a b\"@b.test"));
	assert_false(smtp_rcpt_syntax_ok("a@[192.0.2.1]"));
	assert_false(smtp_rcpt_syntax_ok("a@"));
	assert_false(smtp_rcpt_syntax_ok("postmaster"));
}

static void test_postmaster_next(void **state)
{
	char *next;

	(void)state;
	next = smtp_rcpt_postmaster_next("postmaster@mx.a.example.org", "mx.a.example.org");
	assert_string_equal(next, "postmaster@a.example.org");
	free(next);
	next = smtp_rcpt_postmaster_next("PostMaster@a.example.org", "MX.a.example.org");
	assert_string_equal(next, "postmaster@example.org");
	free(next);
	/* not to the top-level name */
	assert_null(smtp_rcpt_postmaster_next("postmaster@example.org", "mx.example.org"));
	/* only the hostname and its parents */
	assert_null(smtp_rcpt_postmaster_next("postmaster@b.example.org", "mx.a.example.org"));
	assert_null(smtp_rcpt_postmaster_next("postmaster@x.example.org", "mx.example.org"));
	assert_null(smtp_rcpt_postmaster_next("postmaster@le.org", "mx.example.org"));
	assert_null(smtp_rcpt_postmaster_next("admin@mx.example.org", "mx.example.org"));
	assert_null(smtp_rcpt_postmaster_next("xpostmaster@mx.example.org", "mx.example.org"));
}

/* The RCPT quota replies at the limits (docs/quota.md). */
static void test_quota_verdict(void **state)
{
	struct quota_limit l = {1000, 0, NULL};
	struct quota_usage u = {999, 0, 0};
	const char *enh = NULL, *text = NULL;

	(void)state;
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, 0, &enh, &text), 0);
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, 1, &enh, &text), 0);
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, 2, &enh, &text), 552);
	assert_string_equal(enh, "5.2.2");
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, UINT64_MAX, &enh, &text), 552);
	u.bytes = 1000; /* exactly at the limit: full, whatever SIZE says */
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, 0, &enh, &text), 452);
	assert_string_equal(enh, "4.2.2");
	l.bytes = 0;
	l.messages = 2;
	u.messages = 2;
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, 0, &enh, &text), 452);
	u.messages = 1;
	assert_int_equal(smtp_rcpt_quota_verdict(&l, &u, UINT64_MAX, &enh, &text), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gathered_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bare_postmaster, setup, teardown),
	    cmocka_unit_test(test_syntax_ok),
	    cmocka_unit_test(test_quota_verdict),
	    cmocka_unit_test(test_postmaster_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
