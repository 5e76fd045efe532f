/* bounce-dump DATA_DIR HOSTNAME ENVELOPE DATA ACTION STATUS [DIAGNOSTIC [REMOTE]]:
   a driver for tests/e2e/test_dsn.py, not a unit test. Reads a spool
   envelope file and its data file, reports every recipient with ACTION
   (failed, delayed, delivered, relayed, expanded) and STATUS through
   bounce_write() into DATA_DIR/queue (DKIM keys from DATA_DIR/dkim, the
   SRS secret DATA_DIR/srs.secret), and prints the new entry's id or
   "none". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/bounce.h"

static int parse_action(const char *s, enum dsn_action *action_r)
{
	static const enum dsn_action all[] = {DSN_ACTION_FAILED, DSN_ACTION_DELAYED,
	                                      DSN_ACTION_DELIVERED, DSN_ACTION_RELAYED,
	                                      DSN_ACTION_EXPANDED};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(s, dsn_action_name(all[i])) == 0) {
			*action_r = all[i];
			return 0;
		}
	}
	return -1;
}

static int run(char **argv, int argc, const struct spool_envelope *env, enum dsn_action action)
{
	char *qdir = xasprintf("%s/queue", argv[1]), *secret = srs_secret_path(argv[1]), *id;
	struct spool *sp = NULL;
	struct srs *srs = NULL;
	struct bounce_settings set = {argv[2], argv[1], NULL, 0};
	struct dsn_rcpt *results = xcalloc(env->rcpts.count, sizeof(*results));
	time_t now = time(NULL);
	const char *error;
	int ret;

	if (spool_open(qdir, true, &sp, &error) < 0 || srs_open(secret, &srs, &error) < 0) {
		fprintf(stderr, "bounce-dump: %s\n", error);
		return 1;
	}
	set.srs = srs;
	for (size_t i = 0; i < env->rcpts.count; i++) {
		results[i] = (struct dsn_rcpt){&env->rcpts.items[i],
		                               action,
		                               argv[6],
		                               argc > 7 ? argv[7] : NULL,
		                               argc > 8 ? argv[8] : NULL,
		                               (int64_t)now,
		                               (int64_t)now + 5 * 86400};
	}
	ret = bounce_write(sp, &set, env, argv[4], results, env->rcpts.count, &id, &error);
	if (ret < 0)
		fprintf(stderr, "bounce-dump: %s\n", error);
	else
		printf("%s\n", ret == 1 ? id : "none");
	free(id);
	free(results);
	srs_free(&srs);
	spool_free(&sp);
	free(secret);
	free(qdir);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct spool_envelope env;
	enum dsn_action action;
	const char *error;
	char *text;
	size_t len;
	int ret;

	if (argc < 7 || parse_action(argv[5], &action) < 0) {
		fprintf(stderr, "usage: bounce-dump DATA_DIR HOSTNAME ENVELOPE DATA ACTION STATUS "
		                "[DIAGNOSTIC [REMOTE]]\n");
		return 2;
	}
	if (read_file(argv[3], 1 << 20, &text, &len) < 0 ||
	    spool_envelope_parse(text, len, &env, &error) < 0) {
		fprintf(stderr, "bounce-dump: cannot read the envelope %s\n", argv[3]);
		return 1;
	}
	free(text);
	ret = run(argv, argc, &env, action);
	spool_envelope_clear(&env);
	return ret;
}
