/* Unit tests for src/queue/bounce.c (and spool_write_data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-keystore.h"
#include "queue/bounce.h"

#define NOW ((int64_t)1796305503)
static const char MESSAGE[] = "Return-Path: <alice@a.test>\r\n"
                              "From: alice@a.test\r\nSubject: hi\r\n\r\nbody\r\n";
static const char SECRET[] = "bounce test secret 0123456789";

struct fixture {
	char *dir, *data_path;
	struct spool *sp;
	struct srs *srs;
	struct bounce_settings set;
	struct spool_envelope env;
	struct dsn_rcpt results[2];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test-bounce-XXXXXX";
	char *qdir;
	const char *error;

	assert_non_null(mkdtemp(tmpl));
	f->dir = xstrdup(tmpl);
	qdir = xasprintf("%s/queue", f->dir);
	assert_int_equal(spool_open(qdir, true, &f->sp, &error), 0);
	free(qdir);
	f->data_path = xasprintf("%s/orig.msg", f->dir);
	assert_int_equal(write_file_atomic(f->data_path, MESSAGE, strlen(MESSAGE), 0600), 0);
	f->srs = srs_new(SECRET, strlen(SECRET));
	f->set = (struct bounce_settings){"mail.example.test", f->dir, f->srs, NOW};
	f->env.id = xstrdup("0661ba2fed5bf4f1dab2cf1f");
	f->env.arrival = NOW - 60;
	f->env.sender = xstrdup("alice@a.test");
	f->env.client_ip = xstrdup("192.0.2.7");
	f->env.data_skip = strlen("Return-Path: <alice@a.test>\r\n");
	f->env.size = strlen(MESSAGE) - f->env.data_skip;
	spool_envelope_add_rcpt(&f->env, "bob@remote.test", 0, NULL, NULL, NULL);
	spool_envelope_add_rcpt(&f->env, "carol@remote.test", 0, NULL, NULL, NULL);
	for (size_t i = 0; i < 2; i++)
		f->results[i] = (struct dsn_rcpt){&f->env.rcpts.items[i],
		                                  DSN_ACTION_FAILED,
		                                  "5.1.1",
		                                  "550 5.1.1 User unknown",
		                                  "mx.remote.test",
		                                  NOW,
		                                  0};
	*state = f;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	spool_free(&f->sp);
	srs_free(&f->srs);
	spool_envelope_clear(&f->env);
	nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
	free(f->data_path);
	free(f);
	return 0;
}

static size_t queued(struct fixture *f)
{
	char **ids;
	size_t count;
	const char *error;

	assert_int_equal(spool_list(f->sp, &ids, &count, &error), 0);
	spool_ids_free(&ids);
	return count;
}

/* The report bounce_write() made: its envelope and data. */
static char *read_report(struct fixture *f, const char *id, struct spool_envelope *env)
{
	enum spool_error kind;
	const char *error;
	char *path = spool_data_path(f->sp, id), *data;
	size_t len;

	assert_int_equal(spool_read(f->sp, id, env, &kind, &error), 0);
	assert_int_equal(read_file(path, 1 << 20, &data, &len), 0);
	assert_int_equal(env->size, len);
	free(path);
	return data;
}

static void test_wanted(void **state)
{
	static const struct {
		unsigned notify;
		enum dsn_action action;
		bool wanted;
	} cases[] = {
	    {0, DSN_ACTION_FAILED, true},
	    {0, DSN_ACTION_DELAYED, true},
	    {0, DSN_ACTION_DELIVERED, false},
	    {0, DSN_ACTION_RELAYED, false},
	    {SPOOL_NOTIFY_NEVER, DSN_ACTION_FAILED, false},
	    {SPOOL_NOTIFY_NEVER, DSN_ACTION_DELAYED, false},
	    {SPOOL_NOTIFY_FAILURE, DSN_ACTION_FAILED, true},
	    {SPOOL_NOTIFY_FAILURE, DSN_ACTION_DELAYED, false},
	    {SPOOL_NOTIFY_DELAY, DSN_ACTION_DELAYED, true},
	    {SPOOL_NOTIFY_DELAY, DSN_ACTION_FAILED, false},
	    {SPOOL_NOTIFY_SUCCESS, DSN_ACTION_FAILED, false},
	    {SPOOL_NOTIFY_SUCCESS, DSN_ACTION_DELIVERED, true},
	    {SPOOL_NOTIFY_SUCCESS, DSN_ACTION_RELAYED, true},
	    {SPOOL_NOTIFY_SUCCESS, DSN_ACTION_EXPANDED, true},
	    {SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_FAILURE, DSN_ACTION_FAILED, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(bounce_wanted(cases[i].notify, cases[i].action), cases[i].wanted);
}

static void test_bounce_written(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	const char *error;
	char *id, *data;

	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 2, &id, &error), 1);
	assert_int_equal(queued(f), 1);
	data = read_report(f, id, &env);
	assert_string_equal(env.sender, "");
	assert_int_equal(env.rcpts.count, 1);
	assert_string_equal(env.rcpts.items[0].address, "alice@a.test");
	assert_int_equal(env.rcpts.items[0].notify, SPOOL_NOTIFY_NEVER);
	assert_int_equal(env.body, SPOOL_BODY_7BIT);
	assert_int_equal(env.data_skip, 0);
	assert_non_null(strstr(data, "\r\nFinal-Recipient: rfc822; bob@remote.test\r\n"));
	assert_non_null(strstr(data, "\r\nFinal-Recipient: rfc822; carol@remote.test\r\n"));
	assert_non_null(strstr(data, "\r\nStatus: 5.1.1\r\n"));
	/* the headers, not the Return-Path nor the body */
	assert_non_null(strstr(data, "\r\n\r\nFrom: alice@a.test\r\nSubject: hi\r\n"));
	assert_null(strstr(data, "Return-Path"));
	assert_null(strstr(data, "\r\nbody\r\n"));
	/* no key in the store: unsigned */
	assert_null(strstr(data, "DKIM-Signature"));
	free(data);
	free(id);
	spool_envelope_clear(&env);
}

static void test_no_report(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char *id = (char *)"x";

	/* NOTIFY=NEVER on both */
	f->env.rcpts.items[0].notify = SPOOL_NOTIFY_NEVER;
	f->env.rcpts.items[1].notify = SPOOL_NOTIFY_NEVER;
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 2, &id, &error), 0);
	assert_null(id);
	/* SUCCESS only, and they failed */
	f->env.rcpts.items[0].notify = SPOOL_NOTIFY_SUCCESS;
	f->env.rcpts.items[1].notify = SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_DELAY;
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 2, &id, &error), 0);
	/* a null sender, a mailer daemon: the original is a bounce */
	f->env.rcpts.items[0].notify = 0;
	free(f->env.sender);
	f->env.sender = xstrdup("");
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 2, &id, &error), 0);
	free(f->env.sender);
	f->env.sender = xstrdup("Mailer-Daemon@other.test");
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 2, &id, &error), 0);
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 0, &id, &error), 0);
	assert_int_equal(queued(f), 0);
}

static void test_only_picked_reported(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	const char *error;
	char *id, *data;

	f->env.rcpts.items[0].notify = SPOOL_NOTIFY_NEVER;
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 2, &id, &error), 1);
	data = read_report(f, id, &env);
	assert_null(strstr(data, "bob@remote.test"));
	assert_non_null(strstr(data, "Final-Recipient: rfc822; carol@remote.test"));
	free(data);
	free(id);
	spool_envelope_clear(&env);
	/* a success report when asked */
	f->env.rcpts.items[0].notify = SPOOL_NOTIFY_SUCCESS;
	f->results[0].action = DSN_ACTION_RELAYED;
	f->results[0].status = "2.0.0";
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 1, &id, &error), 1);
	data = read_report(f, id, &env);
	assert_non_null(strstr(data, "Subject: Successful Mail Delivery Report\r\n"));
	assert_non_null(strstr(data, "Action: relayed\r\n"));
	free(data);
	free(id);
	spool_envelope_clear(&env);
}

static void test_srs_sender_decoded(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	const char *error;
	char *id, *data, *srs_sender;

	assert_int_equal(
	    srs_forward(f->srs, "alice@a.test", "example.test", (time_t)NOW, &srs_sender, &error),
	    0);
	free(f->env.sender);
	f->env.sender = srs_sender;
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 1, &id, &error), 1);
	data = read_report(f, id, &env);
	assert_string_equal(env.rcpts.items[0].address, "alice@a.test");
	assert_non_null(strstr(data, "\r\nTo: <alice@a.test>\r\n"));
	free(data);
	free(id);
	spool_envelope_clear(&env);
}

static void test_signed(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	EVP_PKEY *pkey;
	const char *error;
	char *id, *data, *path;

	assert_int_equal(dkim_key_generate(DKIM_KEY_ED25519, 0, &pkey, &error), 0);
	assert_int_equal(dkim_key_store(f->dir, "example.test", "sel1", pkey, &path, &error), 0);
	EVP_PKEY_free(pkey);
	free(path);
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 1, &id, &error), 1);
	data = read_report(f, id, &env);
	assert_true(strncmp(data, "DKIM-Signature:", 15) == 0);
	assert_non_null(strstr(data, "d=example.test;"));
	assert_non_null(strstr(data, "s=sel1;"));
	free(data);
	free(id);
	spool_envelope_clear(&env);
}

static void test_unreadable_original(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char *id;

	unlink(f->data_path);
	assert_int_equal(
	    bounce_write(f->sp, &f->set, &f->env, f->data_path, f->results, 1, &id, &error), -1);
	assert_null(id);
	assert_int_equal(queued(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanted),
	    cmocka_unit_test_setup_teardown(test_bounce_written, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_picked_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_srs_sender_decoded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_original, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
