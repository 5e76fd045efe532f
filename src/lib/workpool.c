#include "lib/workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct job {
	struct job *next;
	void (*work)(void *ctx);
	void (*done)(void *ctx);
	void *ctx;
};

/* A FIFO of jobs linked through next. */
struct job_list {
	struct job *head, *tail;
	unsigned count;
};

struct workpool {
	struct event_base *base;
	pthread_mutex_t lock;
	pthread_cond_t have_work; /* signalled when queued grows or on stop */
	pthread_cond_t have_room; /* signalled when queued shrinks */
	pthread_cond_t have_done; /* signalled when finished grows */
	struct job_list queued;   /* waiting for a worker */
	struct job_list finished; /* work done, done() not yet run */
	unsigned pending;         /* submitted, done() not yet run (loop thread) */
	bool stopping;
	int efd; /* eventfd: workers wake the loop when finished grows */
	struct event *ev;
	pthread_t *threads;
	unsigned thread_count;
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->count++;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j == NULL)
		return NULL;
	l->head = j->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->count--;
	return j;
}

static void wake_loop(struct workpool *pool)
{
	uint64_t one = 1;

	/* Cannot fail short of EAGAIN at a counter of 2^64-2, which only
	   means the loop has a wakeup pending anyway. */
	if (write(pool->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_panic("event=workpool.eventfd_write_failed errno=%d", errno);
}

static void *worker_main(void *arg)
{
	struct workpool *pool = arg;
	struct job *j;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->queued.count == 0 && !pool->stopping)
			pthread_cond_wait(&pool->have_work, &pool->lock);
		j = list_pop(&pool->queued);
		if (j == NULL)
			break; /* stopping and nothing left */
		pthread_cond_signal(&pool->have_room);
		pthread_mutex_unlock(&pool->lock);
		j->work(j->ctx);
		pthread_mutex_lock(&pool->lock);
		list_push(&pool->finished, j);
		pthread_cond_signal(&pool->have_done);
		wake_loop(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Run done() for every finished job, on the loop thread, without the lock
   held (done may submit new jobs). */
static void run_finished(struct workpool *pool)
{
	struct job_list done;
	struct job *j;

	pthread_mutex_lock(&pool->lock);
	done = pool->finished;
	pool->finished = (struct job_list){NULL, NULL, 0};
	pthread_mutex_unlock(&pool->lock);
	while ((j = list_pop(&done)) != NULL) {
		pool->pending--;
		if (j->done != NULL)
			j->done(j->ctx);
		free(j);
	}
}

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_panic("event=workpool.eventfd_read_failed errno=%d", errno);
	run_finished(arg);
}

struct workpool *workpool_new(struct event_base *base, unsigned threads)
{
	struct workpool *pool = xcalloc(1, sizeof(*pool));

	pool->base = base;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->have_work, NULL);
	pthread_cond_init(&pool->have_room, NULL);
	pthread_cond_init(&pool->have_done, NULL);
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0)
		log_fatal("event=workpool.eventfd_failed errno=%d", errno);
	pool->ev = event_new(base, pool->efd, EV_READ | EV_PERSIST, on_wakeup, pool);
	if (pool->ev == NULL || event_add(pool->ev, NULL) < 0)
		log_fatal("event=workpool.event_failed");
	pool->thread_count = threads > 0 ? threads : 1;
	pool->threads = xcalloc(pool->thread_count, sizeof(pthread_t));
	for (unsigned i = 0; i < pool->thread_count; i++) {
		int err = pthread_create(&pool->threads[i], NULL, worker_main, pool);
		if (err != 0)
			log_fatal("event=workpool.thread_failed errno=%d", err);
	}
	return pool;
}

void workpool_submit(struct workpool *pool, void (*work)(void *ctx), void (*done)(void *ctx),
                     void *ctx)
{
	struct job *j = xmalloc(sizeof(*j));

	j->work = work;
	j->done = done;
	j->ctx = ctx;
	pool->pending++;
	pthread_mutex_lock(&pool->lock);
	while (pool->queued.count >= WORKPOOL_MAX_QUEUED)
		pthread_cond_wait(&pool->have_room, &pool->lock);
	list_push(&pool->queued, j);
	pthread_cond_signal(&pool->have_work);
	pthread_mutex_unlock(&pool->lock);
}

unsigned workpool_pending(const struct workpool *pool)
{
	return pool->pending;
}

/* Block until every submitted job has finished, running done() callbacks
   as they complete (they may submit more). */
static void drain_all(struct workpool *pool)
{
	while (pool->pending > 0) {
		pthread_mutex_lock(&pool->lock);
		while (pool->finished.count == 0)
			pthread_cond_wait(&pool->have_done, &pool->lock);
		pthread_mutex_unlock(&pool->lock);
		run_finished(pool);
	}
}

void workpool_free(struct workpool **poolp)
{
	struct workpool *pool = *poolp;

	if (pool == NULL)
		return;
	*poolp = NULL;
	drain_all(pool);
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->have_work);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);
	event_free(pool->ev);
	close(pool->efd);
	pthread_cond_destroy(&pool->have_work);
	pthread_cond_destroy(&pool->have_room);
	pthread_cond_destroy(&pool->have_done);
	pthread_mutex_destroy(&pool->lock);
	free(pool->threads);
	free(pool);
}
