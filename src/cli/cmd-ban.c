/* tern ban list|add|del: the guard's bans in the directory database
   (src/guard/guard-store.h). A running server applies changes within
   GUARD_SYNC_SECONDS, and its own bans appear here within that time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "directory/directory.h"
#include "guard/guard-settings.h"
#include "guard/guard-store.h"

static const char usage_text[] =
    "usage: tern ban list\n"
    "       tern ban add ADDRESS [--for DURATION]\n"
    "       tern ban del ADDRESS\n"
    "\n"
    "An IPv4 address bans itself, an IPv6 address its /64. add bans for\n"
    "guard { ban_time } unless --for says (30m, 2h, 7d); a longer ban in\n"
    "force is kept. A running server applies a change within 5 seconds.\n";

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static void print_ban(const struct guard_ban *ban, const char *reason, void *context)
{
	char when[32];
	struct tm tm;

	(void)context;
	gmtime_r(&ban->until, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s until=%s offences=%u reason=%s\n", ban->key, when, ban->offences, reason);
}

static int ban_run(struct guard_store *store, const struct guard_settings *set, char **argv,
                   uint64_t seconds)
{
	char *error = NULL;
	int ret;

	if (strcmp(argv[1], "list") == 0)
		ret = guard_store_list(store, time(NULL), print_ban, NULL, &error);
	else if (strcmp(argv[1], "add") == 0)
		ret = guard_store_add(store, argv[2],
		                      time(NULL) + (time_t)(seconds > 0 ? seconds : set->ban_time),
		                      "admin", &error);
	else if ((ret = guard_store_lift(store, argv[2], &error)) == 0) {
		cli_error("ban del: %s is not banned", argv[2]);
		return 1;
	}
	if (ret < 0) {
		cli_error("ban %s: %s", argv[1], error);
		free(error);
		return 1;
	}
	return 0;
}

/* Check the arguments before touching the config: usage errors exit 2. */
static int parse_args(int argc, char **argv, uint64_t *seconds_r)
{
	*seconds_r = 0;
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return 0;
	if (argc == 3 && strcmp(argv[1], "del") == 0)
		return 0;
	if (strcmp(argv[1], "add") != 0 || (argc != 3 && argc != 5))
		return -1;
	if (argc == 5 && (strcmp(argv[3], "--for") != 0 ||
	                  settings_parse_duration(argv[4], seconds_r) < 0 || *seconds_r == 0))
		return -1;
	return 0;
}

int cmd_ban(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings = NULL;
	struct directory *dir = NULL;
	struct guard_store *store = NULL;
	uint64_t seconds;
	char *error = NULL;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || parse_args(argc, argv, &seconds) < 0)
		return usage_error();
	/* opening the directory makes (or migrates) the table */
	if (cli_open_directory(ctx, &settings, &dir) < 0)
		return 1;
	directory_close(&dir);
	if (guard_store_open(settings->directory_path, &store, &error) < 0) {
		cli_error("%s", error);
		free(error);
		settings_free(&settings);
		return 1;
	}
	ret = ban_run(store, guard_settings(settings), argv, seconds);
	guard_store_close(&store);
	settings_free(&settings);
	return ret;
}
