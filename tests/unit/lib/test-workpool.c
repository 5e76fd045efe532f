/* Unit tests for src/lib/workpool.c: every job's work runs on a worker
   thread and its done runs exactly once on the loop thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "lib/workpool.h"

#define JOBS 5000

struct job_state {
	atomic_int worked;
	int done;
	bool work_on_loop_thread;
	bool done_off_loop_thread;
};

static pthread_t loop_thread;
static struct job_state jobs[JOBS];
static int done_total;
static struct event_base *test_base;

static void work(void *ctx)
{
	struct job_state *j = ctx;

	if (pthread_equal(pthread_self(), loop_thread))
		j->work_on_loop_thread = true;
	atomic_fetch_add(&j->worked, 1);
}

static void done(void *ctx)
{
	struct job_state *j = ctx;

	if (!pthread_equal(pthread_self(), loop_thread))
		j->done_off_loop_thread = true;
	j->done++;
	if (++done_total == JOBS)
		event_base_loopbreak(test_base);
}

static void reset(void)
{
	memset(jobs, 0, sizeof(jobs));
	done_total = 0;
	loop_thread = pthread_self();
}

static void check_jobs(void)
{
	assert_int_equal(done_total, JOBS);
	for (size_t i = 0; i < JOBS; i++) {
		assert_int_equal(atomic_load(&jobs[i].worked), 1);
		assert_int_equal(jobs[i].done, 1);
		assert_false(jobs[i].work_on_loop_thread);
		assert_false(jobs[i].done_off_loop_thread);
	}
}

static void test_jobs_complete_on_loop(void **state)
{
	struct workpool *pool;

	reset();
	test_base = event_base_new();
	pool = workpool_new(test_base, 3);
	for (size_t i = 0; i < JOBS; i++)
		workpool_submit(pool, work, done, &jobs[i]);
	event_base_dispatch(test_base);
	check_jobs();
	assert_int_equal(workpool_pending(pool), 0);
	workpool_free(&pool);
	assert_null(pool);
	workpool_free(&pool);
	event_base_free(test_base);
}

/* workpool_free() finishes what was submitted, done callbacks included,
   even more than the queue bound (submit then waits for room). */
static void test_free_waits(void **state)
{
	struct workpool *pool;

	reset();
	test_base = event_base_new();
	pool = workpool_new(test_base, 1);
	for (size_t i = 0; i < JOBS; i++)
		workpool_submit(pool, work, done, &jobs[i]);
	workpool_free(&pool);
	check_jobs();
	event_base_free(test_base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jobs_complete_on_loop),
	    cmocka_unit_test(test_free_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
