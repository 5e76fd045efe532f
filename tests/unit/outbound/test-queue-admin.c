/* Unit tests for src/outbound/queue-admin.c on a real spool in a temporary
   directory: the entry lock, hold/release/flush records (a release makes
   the entry due at once), delete (no report), bounce (a report entry, the
   original gone), unknown ids. */
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
#include "outbound/queue-admin.h"
#include "queue/queue-state.h"

#define MESSAGE "Subject: hi\r\n\r\nhello\r\n"
#define NOW     1764766000

struct fixture {
	char *dir;
	struct spool *sp;
	struct queue_admin a;
	char *id;
};

static char *entry(struct fixture *f, const char *sender)
{
	struct spool_envelope env = {0};
	const char *error;
	char *id;

	env.arrival = NOW - 60;
	env.sender = xstrdup(sender);
	env.client_ip = xstrdup("127.0.0.1");
	spool_envelope_add_rcpt(&env, "bob@other.test", 0, NULL, NULL, NULL);
	spool_envelope_add_rcpt(&env, "carol@other.test", SPOOL_NOTIFY_NEVER, NULL, NULL, NULL);
	assert_int_equal(spool_write_data(f->sp, MESSAGE, strlen(MESSAGE), &env, &error), 0);
	id = xstrdup(env.id);
	spool_envelope_clear(&env);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test-queue-admin-XXXXXX";
	const char *error;
	char *qdir;

	assert_non_null(mkdtemp(tmpl));
	f->dir = xstrdup(tmpl);
	qdir = xasprintf("%s/queue", f->dir);
	assert_int_equal(spool_open(qdir, true, &f->sp, &error), 0);
	free(qdir);
	f->a = (struct queue_admin){.spool = f->sp,
	                            .bounce = {.hostname = "mail.example.test", .data_dir = f->dir},
	                            .now = NOW};
	f->id = entry(f, "alice@example.test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	spool_free(&f->sp);
	free(f->id);
	free(f->dir);
	free(f);
	return 0;
}

static void read_state(struct fixture *f, const char *id, struct queue_state *st)
{
	char *path = xasprintf("%s/%s.state", spool_path(f->sp), id);
	const char *error;

	assert_int_equal(queue_state_read(path, 2, st, &error), 0);
	free(path);
}

static enum queue_answer_kind act(struct fixture *f, enum queue_request_verb verb, const char *id,
                                  char **bounce_id)
{
	const char *error = NULL;
	char *b = NULL;
	enum queue_answer_kind k = queue_admin_act(&f->a, verb, id, &b, &error);

	if (bounce_id != NULL)
		*bounce_id = b;
	else
		free(b);
	return k;
}

static void test_lock(void **state)
{
	struct fixture *f = *state;
	int fd, fd2;

	assert_int_equal(queue_admin_lock(f->sp, f->id, &fd), 1);
	assert_true(fd >= 0);
	/* another open file description: busy */
	assert_int_equal(queue_admin_lock(f->sp, f->id, &fd2), 0);
	assert_int_equal(fd2, -1);
	close(fd);
	assert_int_equal(queue_admin_lock(f->sp, f->id, &fd2), 1);
	close(fd2);
	assert_int_equal(queue_admin_lock(f->sp, "0661ba2fed5bf4f1dab2cf1f", &fd), -1);
}

static void test_hold_release_flush(void **state)
{
	struct fixture *f = *state;
	struct queue_state st;
	char *path = xasprintf("%s/%s.state", spool_path(f->sp), f->id);
	struct buf b = BUF_INIT;
	const char *error;

	/* a deferred recipient: next retry in the future */
	buf_printf(&b, "attempt %d rcpt=0 code=451 status=4.4.1 next=%d\n", NOW - 30, NOW + 300);
	assert_int_equal(queue_state_append(path, &b, &error), 0);
	assert_int_equal(act(f, QUEUE_REQ_HOLD, f->id, NULL), QUEUE_ANSWER_OK);
	read_state(f, f->id, &st);
	assert_true(st.held);
	assert_int_equal(st.held_since, NOW);
	assert_int_equal(st.records, 1);
	queue_state_clear(&st);
	/* holding a held entry adds nothing */
	assert_int_equal(act(f, QUEUE_REQ_HOLD, f->id, NULL), QUEUE_ANSWER_OK);
	read_state(f, f->id, &st);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.rcpts.items[0].next, NOW + 300);
	queue_state_clear(&st);
	/* released: due now */
	assert_int_equal(act(f, QUEUE_REQ_RELEASE, f->id, NULL), QUEUE_ANSWER_OK);
	read_state(f, f->id, &st);
	assert_false(st.held);
	assert_int_equal(st.rcpts.items[0].next, 0);
	queue_state_clear(&st);
	/* a new attempt, then a flush makes it due again */
	assert_int_equal(queue_state_append(path, &b, &error), 0);
	assert_int_equal(act(f, QUEUE_REQ_FLUSH, f->id, NULL), QUEUE_ANSWER_OK);
	read_state(f, f->id, &st);
	assert_int_equal(st.rcpts.items[0].next, 0);
	assert_int_equal(st.rcpts.items[0].attempts, 2);
	queue_state_clear(&st);
	buf_free(&b);
	free(path);
}

static bool exists(struct fixture *f, const char *id, const char *ext)
{
	char *path = xasprintf("%s/%s.%s", spool_path(f->sp), id, ext);
	struct stat st;
	bool ret = stat(path, &st) == 0;

	free(path);
	return ret;
}

static void test_delete(void **state)
{
	struct fixture *f = *state;
	char *bounce_id = NULL;

	assert_int_equal(act(f, QUEUE_REQ_HOLD, f->id, NULL), QUEUE_ANSWER_OK);
	assert_true(exists(f, f->id, "state"));
	assert_int_equal(act(f, QUEUE_REQ_DELETE, f->id, &bounce_id), QUEUE_ANSWER_OK);
	assert_null(bounce_id);
	assert_false(exists(f, f->id, "env"));
	assert_false(exists(f, f->id, "msg"));
	assert_false(exists(f, f->id, "state"));
	assert_int_equal(act(f, QUEUE_REQ_DELETE, f->id, NULL), QUEUE_ANSWER_NOTFOUND);
	assert_int_equal(act(f, QUEUE_REQ_HOLD, "../etc", NULL), QUEUE_ANSWER_NOTFOUND);
}

static void test_bounce(void **state)
{
	struct fixture *f = *state;
	struct spool_envelope env;
	enum spool_error kind;
	const char *error;
	char *bounce_id = NULL, *null_sender;

	assert_int_equal(act(f, QUEUE_REQ_BOUNCE, f->id, &bounce_id), QUEUE_ANSWER_OK);
	assert_non_null(bounce_id);
	assert_false(exists(f, f->id, "env"));
	assert_false(exists(f, f->id, "state"));
	/* the report goes to the sender, from <> (carol asked NOTIFY=NEVER:
	   only bob is in it, which test-bounce.c checks in depth) */
	assert_int_equal(spool_read(f->sp, bounce_id, &env, &kind, &error), 0);
	assert_string_equal(env.sender, "");
	assert_int_equal(env.rcpts.count, 1);
	assert_string_equal(env.rcpts.items[0].address, "alice@example.test");
	spool_envelope_clear(&env);
	free(bounce_id);
	/* no report for a null sender, the entry still goes */
	null_sender = entry(f, "");
	assert_int_equal(act(f, QUEUE_REQ_BOUNCE, null_sender, &bounce_id), QUEUE_ANSWER_OK);
	assert_null(bounce_id);
	assert_false(exists(f, null_sender, "env"));
	free(null_sender);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_release_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounce, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
