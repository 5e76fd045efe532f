/* Directory lookups on the worker pool (directory-async.h). The set of
   idle connections is the only state shared with the workers, under lock;
   the pending count and the closed flag are touched on the loop thread
   only (submit and done both run there). */
#include "directory/directory-async.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "directory/directory-sender.h"
#include "lib/array.h"
#include "lib/xalloc.h"

struct directory_async {
	char *path;
	struct workpool *pool;
	pthread_mutex_t lock;
	ARRAY(struct directory *) idle; /* connections no request is using */
	unsigned pending;               /* requests whose done() has not run */
	char *postmaster;               /* directory_async_set_postmaster() */
	bool closed;
};

enum request_kind { REQUEST_RESOLVE, REQUEST_USER, REQUEST_SCRAM_ANY, REQUEST_SENDERS };

struct request {
	struct directory_async *da;
	enum request_kind kind;
	char *address;
	directory_resolve_cb *resolve_cb;
	directory_user_cb *user_cb;
	directory_senders_cb *senders_cb;
	char **senders; /* REQUEST_SENDERS: the addresses, all to be owned */
	size_t sender_count, sender_total;
	directory_probe_cb *probe_cb;
	void *ctx;
	int ret;
	struct directory_resolution res;
	struct directory_user *user;
	char *error;
};

static void idle_put(struct directory_async *da, struct directory *dir)
{
	pthread_mutex_lock(&da->lock);
	array_append(&da->idle, dir);
	pthread_mutex_unlock(&da->lock);
}

/* An idle connection, or a new one; NULL with *error_r (copied into the
   request) when the database cannot be opened. */
static struct directory *idle_take(struct directory_async *da, const char **error_r)
{
	struct directory *dir = NULL;

	pthread_mutex_lock(&da->lock);
	if (da->idle.count > 0)
		dir = da->idle.items[--da->idle.count];
	pthread_mutex_unlock(&da->lock);
	if (dir == NULL && directory_open(da->path, &dir, error_r) < 0)
		return NULL;
	return dir;
}

int directory_async_open(const char *path, struct workpool *pool, struct directory_async **da_r,
                         const char **error_r)
{
	struct directory_async *da;
	struct directory *dir;

	if (directory_open(path, &dir, error_r) < 0)
		return -1;
	da = xcalloc(1, sizeof(*da));
	da->path = xstrdup(path);
	da->pool = pool;
	pthread_mutex_init(&da->lock, NULL);
	idle_put(da, dir);
	*da_r = da;
	return 0;
}

static void async_free(struct directory_async *da)
{
	for (size_t i = 0; i < da->idle.count; i++)
		directory_close(&da->idle.items[i]);
	array_free(&da->idle);
	pthread_mutex_destroy(&da->lock);
	free(da->postmaster);
	free(da->path);
	free(da);
}

void directory_async_close(struct directory_async **da)
{
	if (da == NULL || *da == NULL)
		return;
	(*da)->closed = true;
	if ((*da)->pending == 0)
		async_free(*da);
	*da = NULL;
}

/* 1 if the user req->address owns every one of req->senders, 0 if not
   (req->sender_count is then the index of the first not owned), -1. */
static int senders_owned(struct directory *dir, struct request *req, const char **error_r)
{
	for (size_t i = 0; i < req->sender_count; i++) {
		int ret = directory_sender_owns(dir, req->address, req->senders[i], error_r);

		if (ret <= 0) {
			req->sender_count = i; /* the first one not owned */
			return ret;
		}
	}
	return 1;
}

static void request_work(void *arg)
{
	struct request *req = arg;
	const char *error = NULL;
	struct directory *dir = idle_take(req->da, &error);

	if (dir == NULL) {
		req->ret = -1;
	} else if (req->kind == REQUEST_RESOLVE) {
		req->ret = directory_resolve_postmaster(dir, req->address, req->da->postmaster,
		                                        &req->res, &error);
	} else if (req->kind == REQUEST_SCRAM_ANY) {
		req->ret = directory_scram_any(dir, &error);
	} else if (req->kind == REQUEST_USER) {
		req->ret = directory_user_lookup(dir, req->address, &req->user, &error);
	} else {
		req->ret = senders_owned(dir, req, &error);
	}
	/* copied: the connection's message changes with its next request */
	if (req->ret < 0)
		req->error = xstrdup(error != NULL ? error : "directory error");
	if (dir != NULL)
		idle_put(req->da, dir);
}

static void request_done(void *arg)
{
	struct request *req = arg;
	struct directory_async *da = req->da;

	if (!da->closed) {
		if (req->kind == REQUEST_RESOLVE)
			req->resolve_cb(req->ctx, req->ret, &req->res, req->error);
		else if (req->kind == REQUEST_SCRAM_ANY)
			req->probe_cb(req->ctx, req->ret, req->error);
		else if (req->kind == REQUEST_USER)
			req->user_cb(req->ctx, req->ret, req->user, req->error);
		else
			req->senders_cb(req->ctx, req->ret, req->ret == 0 ? req->sender_count : 0,
			                req->error);
		req->user = NULL; /* the callback's now */
	}
	directory_resolution_free(&req->res);
	directory_user_free(&req->user);
	directory_names_free(&req->senders, req->sender_total);
	free(req->error);
	free(req->address);
	free(req);
	if (--da->pending == 0 && da->closed)
		async_free(da);
}

static void submit(struct directory_async *da, struct request *req, const char *address)
{
	req->da = da;
	req->address = xstrdup(address);
	da->pending++;
	workpool_submit(da->pool, request_work, request_done, req);
}

void directory_async_resolve(struct directory_async *da, const char *address,
                             directory_resolve_cb *cb, void *ctx)
{
	struct request *req = xcalloc(1, sizeof(*req));

	req->kind = REQUEST_RESOLVE;
	req->resolve_cb = cb;
	req->ctx = ctx;
	submit(da, req, address);
}

void directory_async_user_lookup(struct directory_async *da, const char *address,
                                 directory_user_cb *cb, void *ctx)
{
	struct request *req = xcalloc(1, sizeof(*req));

	req->kind = REQUEST_USER;
	req->user_cb = cb;
	req->ctx = ctx;
	submit(da, req, address);
}

void directory_async_senders_owned(struct directory_async *da, const char *user,
                                   const char *const *addresses, size_t count,
                                   directory_senders_cb *cb, void *ctx)
{
	struct request *req = xcalloc(1, sizeof(*req));

	req->kind = REQUEST_SENDERS;
	req->senders_cb = cb;
	req->ctx = ctx;
	req->senders = xcalloc(count + 1, sizeof(*req->senders));
	for (size_t i = 0; i < count; i++)
		req->senders[i] = xstrdup(addresses[i]);
	req->sender_count = req->sender_total = count;
	submit(da, req, user);
}

void directory_async_scram_any(struct directory_async *da, directory_probe_cb *cb, void *ctx)
{
	struct request *req = xcalloc(1, sizeof(*req));

	req->kind = REQUEST_SCRAM_ANY;
	req->probe_cb = cb;
	req->ctx = ctx;
	submit(da, req, "");
}

void directory_async_set_postmaster(struct directory_async *da, const char *fallback)
{
	free(da->postmaster);
	da->postmaster = fallback != NULL ? xstrdup(fallback) : NULL;
}
