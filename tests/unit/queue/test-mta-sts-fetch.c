/* Unit tests for src/queue/mta-sts-fetch.c: the cache rules of RFC 8461
   5.1, with fetches that fail at once (a closed loopback port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "queue/mta-sts-fetch.h"

static const char *const resolve[] = {"mta-sts.example.test:1:127.0.0.1"};

struct fixture {
	char dir[64];
	struct mta_sts_fetch_settings set;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/tern-test-sts-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->set.cache_dir = f->dir;
	f->set.resolve = resolve;
	f->set.resolve_count = 1;
	f->set.port = 1; /* nothing listens: the fetch fails at once */
	f->set.timeout_secs = 5;
	mta_sts_fetch_global_init();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/example.test", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void cache_put(struct fixture *f, const char *id, long long expires)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/example.test", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
	        "id %s\nexpires %lld\nversion: STSv1\nmode: enforce\nmx: mx.example.test\n"
	        "max_age: 86400\n",
	        id, expires);
	fclose(fp);
}

static int get(struct fixture *f, const char *id, time_t now, const char **info)
{
	struct mta_sts_policy *p = NULL;
	int ret = mta_sts_policy_get(&f->set, "example.test", id, now, &p, info);

	if (ret == 1) {
		assert_non_null(p);
		assert_int_equal(p->mode, MTA_STS_MODE_ENFORCE);
		assert_true(mta_sts_policy_allows_mx(p, "mx.example.test"));
	}
	mta_sts_policy_free(&p);
	return ret;
}

static void test_cache_rules(void **state)
{
	struct fixture *f = *state;
	const char *info;

	/* No cache, no TXT: no policy. No cache, a TXT, the fetch fails: none. */
	assert_int_equal(get(f, NULL, 1000, &info), 0);
	assert_int_equal(get(f, "abc", 1000, &info), 0);

	cache_put(f, "abc", 2000);
	assert_int_equal(get(f, "abc", 1000, &info), 1);
	assert_string_equal(info, "cached");
	/* A new id: a fetch, which fails: the cached policy stays in force. */
	assert_int_equal(get(f, "def", 1000, &info), 1);
	assert_string_equal(info, "fetch failed, cached policy kept");
	/* The TXT record gone: still the cached policy until it expires. */
	assert_int_equal(get(f, NULL, 1999, &info), 1);
	assert_int_equal(get(f, NULL, 2000, &info), 0);
	assert_int_equal(get(f, "abc", 2001, &info), 0);
}

static void test_fetch_fails(void **state)
{
	struct fixture *f = *state;
	char *body = NULL;
	size_t len;
	const char *error = NULL;

	assert_int_equal(mta_sts_fetch(&f->set, "example.test", &body, &len, &error), -1);
	assert_non_null(error);
	assert_null(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cache_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
