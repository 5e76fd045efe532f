/* Unit tests for the commit port 25 and submission share (smtp-commit.c):
   the spool envelope taken from a real session's transaction (DSN
   parameters decoded), and the all-or-nothing order across the Maildirs
   and the spool: both or neither. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>

#include "lib/xalloc.h"
#include "smtp/smtp-commit.h"
#include "store/delivery.h"

#include "smtp-fixture.h"

/* ---- the envelope, from a session ---- */

/* The policy: every RCPT is a remote recipient; at the end of DATA the
   envelope is filled (and kept for the test). */
struct tpolicy {
	struct smtp_fixture_policy base; /* first: the session count */
	struct smtp_rcpts rcpts;
	struct spool_envelope env;
	char id[64];
};

struct fixture {
	struct smtp_fixture sf;
	struct tpolicy tp;
};

static void tp_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	struct tpolicy *tp = ctx;

	smtp_rcpts_add_remote(&tp->rcpts, addr, NULL);
	tp->rcpts.accepted++;
	smtp_stage_reply(s, 250, "2.1.5", "Ok");
}

static void tp_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct tpolicy *tp = ctx;

	delivery_abort(&msg->delivery);
	spool_envelope_clear(&tp->env);
	smtp_commit_fill_envelope(&tp->env, s, msg, &tp->rcpts, 7);
	snprintf(tp->id, sizeof(tp->id), "%s", msg->id);
	smtp_stage_reply(s, 250, "2.0.0", "Ok");
}

static const struct smtp_policy_ops tp_ops = {
    .session_begin = smtp_fixture_session_begin,
    .session_end = smtp_fixture_session_end,
    .rcpt = tp_rcpt,
    .data_end = tp_data_end,
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct smtp_policy policy = {&tp_ops, &f->tp, false, false};

	*state = f;
	return smtp_fixture_start(&f->sf, "smtp-commit", "mx.test", NULL, policy,
	                          &smtp_service_smtp);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret = smtp_fixture_stop(&f->sf, &f->tp.base);

	smtp_rcpts_reset(&f->tp.rcpts);
	spool_envelope_clear(&f->tp.env);
	free(f);
	return ret;
}

static void test_envelope(void **state)
{
	struct fixture *f = *state;
	const struct spool_envelope *env = &f->tp.env;

	smtp_fixture_send(&f->sf, "EHLO c.test\r\n"
	                          "MAIL FROM:<a@b.test> RET=HDRS ENVID=x+2By BODY=8BITMIME\r\n"
	                          "RCPT TO:<r@remote.test> NOTIFY=SUCCESS,FAILURE "
	                          "ORCPT=rfc822;r+2Bo@remote.test\r\n"
	                          "RCPT TO:<s@remote.test>\r\n"
	                          "RCPT TO:<R@remote.test>\r\nDATA\r\n");
	smtp_fixture_send(&f->sf, "Subject: t\r\n\r\nbody\r\n.\r\n");
	smtp_fixture_expect_tail(&f->sf, "250 2.0.0 Ok\r\n");
	assert_string_equal(env->sender, "a@b.test");
	assert_int_equal(env->ret, SPOOL_RET_HDRS);
	assert_string_equal(env->envid, "x+y");
	assert_int_equal(env->body, SPOOL_BODY_8BITMIME);
	assert_false(env->requiretls);
	assert_false(env->smtputf8);
	assert_int_equal(env->data_skip, 7);
	assert_string_equal(env->client_ip, "127.0.0.1");
	assert_string_equal(env->helo, "c.test");
	assert_string_equal(env->smtp_id, f->tp.id);
	assert_null(env->auth_user);
	/* R@ is r@ again (ASCII case folded): two recipients */
	assert_int_equal(env->rcpts.count, 2);
	assert_string_equal(env->rcpts.items[0].address, "r@remote.test");
	assert_int_equal(env->rcpts.items[0].notify, SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_FAILURE);
	assert_string_equal(env->rcpts.items[0].orcpt_type, "rfc822");
	assert_string_equal(env->rcpts.items[0].orcpt, "r+o@remote.test");
	assert_int_equal(env->rcpts.items[0].rcpt_index, 0);
	assert_null(env->rcpts.items[0].alias);
	assert_string_equal(env->rcpts.items[1].address, "s@remote.test");
	assert_int_equal(env->rcpts.items[1].notify, 0);
	assert_null(env->rcpts.items[1].orcpt);
	assert_int_equal(env->rcpts.items[1].rcpt_index, 1);
}

/* ---- the commit ---- */

struct commit_fixture {
	char dir[64];
	struct spool *spool;
};

static int commit_setup(void **state)
{
	struct commit_fixture *f = xcalloc(1, sizeof(*f));
	char *queue;
	const char *error;
	int ret;

	strcpy(f->dir, "/tmp/tern-test-smtp-commit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	queue = xasprintf("%s/queue", f->dir);
	ret = spool_open(queue, true, &f->spool, &error);
	free(queue);
	*state = f;
	return ret;
}

static int commit_teardown(void **state)
{
	struct commit_fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int ret = system(cmd);

	spool_free(&f->spool);
	free(cmd);
	free(f);
	return ret == 0 ? 0 : -1;
}

/* A job for the users and remote recipients given (NULL-ended). */
static struct smtp_commit *job_new(struct commit_fixture *f, const struct smtp_rcpt_user *users,
                                   size_t user_count, const char *const *remotes)
{
	struct smtp_commit *c = xcalloc(1, sizeof(*c));
	const char *error, *text = "Subject: t\r\n\r\nhello\r\n";

	assert_int_equal(delivery_begin(f->dir, &c->delivery, &error), 0);
	assert_int_equal(delivery_write(c->delivery, text, strlen(text), &error), 0);
	c->spool = f->spool;
	c->users = users;
	c->user_count = user_count;
	c->env.sender = xstrdup("a@b.test");
	c->env.client_ip = xstrdup("127.0.0.1");
	for (size_t i = 0; remotes != NULL && remotes[i] != NULL; i++)
		spool_envelope_add_rcpt(&c->env, remotes[i], 0, NULL, NULL, NULL);
	return c;
}

static size_t files_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static size_t spooled(struct commit_fixture *f)
{
	char **ids;
	size_t count;
	const char *error;

	assert_int_equal(spool_list(f->spool, &ids, &count, &error), 0);
	spool_ids_free(&ids);
	return count;
}

static size_t in_new(struct commit_fixture *f, const char *domain, const char *local,
                     const char *folder)
{
	char *path = xasprintf("%s/%s/%s/%snew", f->dir, domain, local, folder);
	size_t n = files_in(path);

	free(path);
	return n;
}

static void test_both(void **state)
{
	struct commit_fixture *f = *state;
	struct smtp_rcpt_user users[] = {{"bob@example.test", NULL, {0, 0, NULL}},
	                                 {"tim@example.test", NULL, {0, 0, NULL}}};
	const char *remotes[] = {"x@remote.test", NULL};
	struct smtp_commit *c = job_new(f, users, 2, remotes);

	smtp_commit_work(c);
	assert_int_equal(c->ret, 0);
	assert_null(c->delivery);
	assert_non_null(c->env.id);
	assert_int_equal(spooled(f), 1);
	assert_int_equal(in_new(f, "example.test", "bob", ""), 1);
	assert_int_equal(in_new(f, "example.test", "tim", ""), 1);
	smtp_commit_clear(c);
	free(c);
}

/* The mailbox goes to every user (DMARC quarantine: Junk); no remote
   recipient: no spool entry. */
static void test_local_only_mailbox(void **state)
{
	struct commit_fixture *f = *state;
	struct smtp_rcpt_user users[] = {{"bob@example.test", NULL, {0, 0, NULL}}};
	struct smtp_commit *c = job_new(f, users, 1, NULL);

	c->mailbox = "Junk";
	smtp_commit_work(c);
	assert_int_equal(c->ret, 0);
	assert_null(c->env.id);
	assert_int_equal(spooled(f), 0);
	assert_int_equal(in_new(f, "example.test", "bob", ".Junk/"), 1);
	assert_int_equal(in_new(f, "example.test", "bob", ""), 0);
	smtp_commit_clear(c);
	free(c);
}

static void test_remote_only(void **state)
{
	struct commit_fixture *f = *state;
	const char *remotes[] = {"x@remote.test", "y@remote.test", NULL};
	struct smtp_commit *c = job_new(f, NULL, 0, remotes);

	smtp_commit_work(c);
	assert_int_equal(c->ret, 0);
	assert_int_equal(spooled(f), 1);
	smtp_commit_clear(c);
	free(c);
}

/* A local delivery that fails takes the prepared spool entry with it, and
   the user that would have got it keeps nothing. */
static void test_local_failure_leaves_nothing(void **state)
{
	struct commit_fixture *f = *state;
	struct smtp_rcpt_user users[] = {{"bob@example.test", NULL, {0, 0, NULL}},
	                                 {"no-domain", NULL, {0, 0, NULL}}};
	const char *remotes[] = {"x@remote.test", NULL};
	struct smtp_commit *c = job_new(f, users, 2, remotes);

	smtp_commit_work(c);
	assert_int_equal(c->ret, -1);
	assert_non_null(c->error);
	assert_null(c->delivery);
	assert_int_equal(spooled(f), 0);
	assert_int_equal(files_in(spool_path(f->spool)), 0); /* no debris either */
	assert_int_equal(in_new(f, "example.test", "bob", ""), 0);
	smtp_commit_clear(c);
	free(c);
}

static void test_no_recipient(void **state)
{
	struct commit_fixture *f = *state;
	struct smtp_commit *c = job_new(f, NULL, 0, NULL);

	smtp_commit_work(c);
	assert_int_equal(c->ret, -1);
	assert_string_equal(c->error, "no recipient");
	assert_null(c->delivery);
	smtp_commit_clear(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_envelope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_both, commit_setup, commit_teardown),
	    cmocka_unit_test_setup_teardown(test_local_only_mailbox, commit_setup, commit_teardown),
	    cmocka_unit_test_setup_teardown(test_remote_only, commit_setup, commit_teardown),
	    cmocka_unit_test_setup_teardown(test_local_failure_leaves_nothing, commit_setup,
	                                    commit_teardown),
	    cmocka_unit_test_setup_teardown(test_no_recipient, commit_setup, commit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
