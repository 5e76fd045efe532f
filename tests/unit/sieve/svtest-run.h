#ifndef TERN_TESTS_SIEVE_SVTEST_RUN_H
#define TERN_TESTS_SIEVE_SVTEST_RUN_H

/* A runner for Pigeonhole's .svtest files (the vnd.dovecot.testsuite
   commands test, test_set and test_fail), shared by the unit test
   test-sieve-svtest.c and the sieve-svtest driver. Header-only. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-testmsg.h"
#include "sieve/sieve-private.h"

struct svtest {
	struct testmsg msg;
	char *from, *to;
	FILE *log;
	const char *file;
	unsigned tests, failed;
};

static inline void svtest_end(void *ctx, const char *name, const char *failure)
{
	struct svtest *st = ctx;

	st->tests++;
	if (failure != NULL)
		st->failed++;
	if (st->log && failure)
		fprintf(st->log, "%s: FAIL %s: %s\n", st->file, name, failure);
	else if (st->log)
		fprintf(st->log, "%s: ok %s\n", st->file, name);
}

static inline int svtest_set(void *ctx, const char *item, const char *value, const char **error_r)
{
	struct svtest *st = ctx;

	if (strcmp(item, "message") == 0) {
		testmsg_set_text(&st->msg, value);
	} else if (strcmp(item, "envelope.from") == 0) {
		free(st->from);
		st->from = strdup(value);
		st->msg.m.envelope_from = st->from;
	} else if (strcmp(item, "envelope.to") == 0 || strcmp(item, "envelope.orig_to") == 0) {
		free(st->to);
		st->to = strdup(value);
		st->msg.m.envelope_to = st->to;
	} else {
		*error_r = "unknown item";
		return -1;
	}
	return 0;
}

/* Run the .svtest text (len bytes) named file. Returns 0 with the counts,
   or -1 if it does not compile (the error written to log). */
static inline int svtest_run_text(const char *file, const char *text, size_t len, FILE *log,
                                  unsigned *tests_r, unsigned *failed_r)
{
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_result res;
	struct svtest st = {.log = log, .file = file};
	struct sieve_testsuite ts = {.ctx = &st, .test_end = svtest_end, .set = svtest_set};

	if (sieve_compile_testsuite(text, len, &s, &err) < 0) {
		if (log)
			fprintf(log, "%s:%u:%u: %s\n", file, err.line, err.column, err.message);
		return -1;
	}
	testmsg_init(&st.msg, "", "", NULL, NULL);
	int rc = sieve_run_testsuite(s, &st.msg.m, &ts, &res);
	if (rc < 0) {
		/* an error outside a test block counts as a failed test */
		if (log)
			fprintf(log, "%s: FAIL (top level): %s\n", file, res.error);
		st.failed++;
		st.tests++;
	}
	sieve_result_free(&res);
	testmsg_free(&st.msg);
	free(st.from);
	free(st.to);
	sieve_script_free(&s);
	*tests_r = st.tests;
	*failed_r = st.failed;
	return 0;
}

static inline int svtest_run_file(const char *path, FILE *log, unsigned *tests_r,
                                  unsigned *failed_r)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];

	if (f == NULL) {
		if (log)
			fprintf(log, "%s: cannot open\n", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			text = realloc(text, cap);
		}
		memcpy(text + len, chunk, n);
		len += n;
	}
	fclose(f);
	int rc = svtest_run_text(path, text ? text : "", len, log, tests_r, failed_r);
	free(text);
	return rc;
}

#endif
