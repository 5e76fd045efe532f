/* The asynchronous login (auth.h): directory lookup, then the cache or a
   password verification on a worker, then the reply. A login in the
   lookup stage is on the auth's list (auth_free() frees it: the directory
   will not call back); one in the verify stage is counted and freed by its
   done() (the pool always runs it). */
#include "auth/auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth-cache.h"
#include "auth/auth-penalty.h"
#include "guard/guard.h"
#include "directory/password.h"
#include "auth/sasl.h"
#include "directory/directory-async.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <sodium.h>

struct auth {
	struct workpool *pool;
	struct directory_async *da;
	struct auth_cache *cache;
	struct login *looking_up; /* logins waiting for the directory */
	unsigned verifying;       /* logins on a worker */
	unsigned long hits;
	bool closed;
	struct auth_penalty *penalty;
	struct guard *guard; /* NULL: none */
	const struct guard_settings *guard_set;
	bool scram_any;       /* at the last check */
	uint64_t scram_check; /* when (auth_cache_now()) */
	bool scram_checking;  /* a check on a worker */
	/* verified against for unknown users, so that they cost what a wrong
	   password costs (no timing oracle) */
	char *dummy_hash;
};

struct login {
	struct auth *auth;
	struct login *prev, *next; /* on looking_up */
	auth_login_cb *cb;
	void *ctx;
	char *password; /* wiped when freed */
	char *service, *peer, *sid;
	struct directory_user *user;
	int verified; /* password_verify() */
	const char *error;
};

static void scram_check_done(void *ctx, int ret, const char *error);

/* Ask the directory on a worker (with its own connections: a second
   connection of this thread's would be one more to keep consistent). */
static void scram_check_start(struct auth *auth)
{
	auth->scram_checking = true;
	auth->scram_check = auth_cache_now();
	directory_async_scram_any(auth->da, scram_check_done, auth);
}

int auth_new(const char *directory_path, struct workpool *pool, const struct auth_settings *set,
             struct shm_table *failures, struct auth **auth_r, const char **error_r)
{
	struct auth *auth = xcalloc(1, sizeof(*auth));

	if (directory_async_open(directory_path, pool, &auth->da, error_r) < 0) {
		free(auth);
		return -1;
	}
	auth->pool = pool;
	auth->cache = auth_cache_new(set->cache_ttl);
	auth->penalty = auth_penalty_new(failures);
	/* the cost of new hashes (a zeroed settings struct: the cheapest) */
	if (password_hash_params("tern dummy password", set->argon2_ops > 0 ? set->argon2_ops : 1,
	                         set->argon2_mem >= 8192 ? set->argon2_mem : 8192,
	                         &auth->dummy_hash, error_r) < 0) {
		directory_async_close(&auth->da);
		auth_cache_free(&auth->cache);
		auth_penalty_free(&auth->penalty);
		free(auth);
		return -1;
	}
	scram_check_start(auth);
	*auth_r = auth;
	return 0;
}

static void login_free(struct login *l)
{
	sasl_secret_free(&l->password);
	directory_user_free(&l->user);
	free(l->service);
	free(l->peer);
	free(l->sid);
	free(l);
}

static void auth_destroy(struct auth *auth)
{
	auth_cache_free(&auth->cache);
	auth_penalty_free(&auth->penalty);
	free(auth->dummy_hash);
	free(auth);
}

void auth_free(struct auth **auth)
{
	struct auth *a;

	if (auth == NULL || *auth == NULL)
		return;
	a = *auth;
	*auth = NULL;
	directory_async_close(&a->da);
	while (a->looking_up != NULL) {
		struct login *l = a->looking_up;

		a->looking_up = l->next;
		login_free(l);
	}
	a->closed = true;
	if (a->verifying == 0)
		auth_destroy(a);
}

static void unlink_login(struct login *l)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		l->auth->looking_up = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

static void reply(struct login *l, enum auth_result result, const char *reason, bool cached)
{
	struct auth_reply r = {
	    .result = result,
	    .user =
	        l->user != NULL && result != AUTH_RESULT_BAD_CREDENTIALS ? l->user->address : NULL,
	    .home_node = NULL,
	    .reason = result == AUTH_RESULT_OK ? NULL : reason,
	    .cached = cached,
	};

	if (result == AUTH_RESULT_TEMPFAIL)
		r.user = NULL;
	l->cb(l->ctx, &r);
	login_free(l);
}

/* The password is right (verified now or cached): the enabled flag
   decides. */
static void reply_verified(struct login *l, bool cached)
{
	if (!l->user->enabled)
		reply(l, AUTH_RESULT_DISABLED, "user disabled", cached);
	else
		reply(l, AUTH_RESULT_OK, NULL, cached);
}

static void verify_work(void *ctx)
{
	struct login *l = ctx;

	if (l->user == NULL) {
		(void)password_verify(l->password, l->auth->dummy_hash, &l->error);
		l->verified = 0;
		return;
	}
	l->verified = password_verify(l->password, l->user->password_hash, &l->error);
}

static void verify_done(void *ctx)
{
	struct login *l = ctx;
	struct auth *auth = l->auth;

	auth->verifying--;
	if (auth->closed) {
		login_free(l);
		if (auth->verifying == 0)
			auth_destroy(auth);
		return;
	}
	if (l->user == NULL) {
		reply(l, AUTH_RESULT_BAD_CREDENTIALS, "unknown user", false);
	} else if (l->verified < 0) {
		reply(l, AUTH_RESULT_BAD_CREDENTIALS, l->error, false);
	} else if (l->verified == 0) {
		reply(l, AUTH_RESULT_BAD_CREDENTIALS, "wrong password", false);
	} else {
		auth_cache_add(auth->cache, l->user->address, l->password, l->user->password_hash,
		               auth_cache_now());
		reply_verified(l, false);
	}
}

static void on_user(void *ctx, int ret, struct directory_user *user, const char *error)
{
	struct login *l = ctx;
	struct auth *auth = l->auth;

	unlink_login(l);
	l->user = user;
	if (ret < 0) {
		log_error(l->sid, "event=auth.directory_error service=%s peer=%s error=\"%s\"",
		          l->service, l->peer, error);
		reply(l, AUTH_RESULT_TEMPFAIL, error, false);
	} else if (ret == 0) {
		/* the same work as a wrong password: no timing oracle */
		auth->verifying++;
		workpool_submit(auth->pool, verify_work, verify_done, l);
	} else if (auth_cache_hit(auth->cache, user->address, l->password, user->password_hash,
	                          auth_cache_now())) {
		auth->hits++;
		reply_verified(l, true);
	} else {
		auth->verifying++;
		workpool_submit(auth->pool, verify_work, verify_done, l);
	}
}

void auth_login(struct auth *auth, const struct auth_request *req, auth_login_cb *cb, void *ctx)
{
	struct login *l = xcalloc(1, sizeof(*l));

	l->auth = auth;
	l->cb = cb;
	l->ctx = ctx;
	l->password = xstrdup(req->password);
	l->service = xstrdup(req->service != NULL ? req->service : "-");
	l->peer = xstrdup(req->peer != NULL ? req->peer : "-");
	l->sid = req->sid != NULL ? xstrdup(req->sid) : NULL;
	l->next = auth->looking_up;
	if (l->next != NULL)
		l->next->prev = l;
	auth->looking_up = l;
	directory_async_user_lookup(auth->da, req->user, on_user, l);
}

unsigned long auth_cache_hits(const struct auth *auth)
{
	return auth->hits;
}

size_t auth_cache_entries(const struct auth *auth)
{
	return auth_cache_count(auth->cache);
}

/* --- SCRAM keys --- */

struct scram_lookup {
	auth_scram_cb *cb;
	void *ctx;
};

static void on_scram_user(void *ctx, int ret, struct directory_user *user, const char *error)
{
	struct scram_lookup *sl = ctx;
	struct auth_scram_reply r = {.result = AUTH_RESULT_BAD_CREDENTIALS};
	struct scram_keys keys;
	const char *why;

	if (ret < 0) {
		r.result = AUTH_RESULT_TEMPFAIL;
		r.reason = error;
	} else if (ret == 0) {
		r.reason = "unknown user";
	} else if (!user->enabled) {
		r.reason = "user disabled";
	} else if (user->scram == NULL) {
		r.reason = "no SCRAM keys (imported hash)";
	} else if (scram_keys_parse(user->scram, &keys, &why) < 0) {
		r.reason = why;
	} else {
		r.result = AUTH_RESULT_OK;
		r.user = user->address;
		r.keys = &keys;
	}
	sl->cb(sl->ctx, &r);
	sodium_memzero(&keys, sizeof(keys));
	directory_user_free(&user);
	free(sl);
}

void auth_scram_lookup(struct auth *auth, const char *user, auth_scram_cb *cb, void *ctx)
{
	struct scram_lookup *sl = xcalloc(1, sizeof(*sl));

	sl->cb = cb;
	sl->ctx = ctx;
	directory_async_user_lookup(auth->da, user, on_scram_user, sl);
}

/* The directory's answer to "does some user have SCRAM keys"; false
   when it fails. A directory probe is lost when auth_free() closes the
   directory first (it then never answers): scram_checking stays set, and
   the handle is destroyed with the last verification. */
static void scram_check_done(void *ctx, int ret, const char *error)
{
	struct auth *auth = ctx;

	auth->scram_checking = false;
	auth->scram_any = ret == 1;
	auth->scram_check = auth_cache_now();
}

bool auth_scram_offered(struct auth *auth)
{
	if (!auth->scram_checking && auth_cache_now() - auth->scram_check >= AUTH_SCRAM_RECHECK_S)
		scram_check_start(auth);
	return auth->scram_any;
}

/* --- failures --- */

void auth_set_guard(struct auth *auth, struct guard *guard, const struct guard_settings *set)
{
	auth->guard = guard;
	auth->guard_set = set;
}

unsigned auth_failure(struct auth *auth, const char *ip)
{
	unsigned ban;

	if (auth->guard != NULL) {
		ban = guard_failure(auth->guard, auth->guard_set, ip, time(NULL));
		if (ban > 0)
			log_warn(NULL, "event=guard.ban ip=%s seconds=%u failures=%u", ip, ban,
			         auth->guard_set->max_failures);
	}
	return auth_penalty_fail(auth->penalty, ip, auth_penalty_now_ms());
}

unsigned auth_failures(struct auth *auth, const char *ip)
{
	return auth_penalty_count(auth->penalty, ip, auth_penalty_now_ms());
}
