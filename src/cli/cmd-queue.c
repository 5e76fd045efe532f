/* tern queue list|show: what waits in the outbound spool (docs/queue.md). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "outbound/queue-role.h"
#include "queue/queue-state.h"
#include "queue/spool.h"

static const char usage_text[] =
    "usage: tern queue list\n"
    "       tern queue show ID\n"
    "       tern queue flush [ID]\n"
    "\n"
    "list prints every message waiting in the outbound queue, oldest first:\n"
    "its id, size, arrival time (UTC), sender, and recipients (as mailq does).\n"
    "show prints the envelope of one message as it is stored, then each\n"
    "recipient's delivery state (last attempt, next retry).\n"
    "flush asks the running queue role to retry one message (or all) now.\n";

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* An address as a person reads it, control bytes shown as '?'. */
static void put_address(const char *address)
{
	putchar('<');
	for (const unsigned char *p = (const unsigned char *)address; *p != '\0'; p++)
		putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
	putchar('>');
}

static void list_one(struct spool *sp, const char *id, uint64_t *total_r)
{
	struct spool_envelope env;
	enum spool_error kind;
	const char *error;
	char when[32] = "-";
	time_t t;
	struct tm tm;

	if (spool_read(sp, id, &env, &kind, &error) < 0) {
		printf("%-24s  (%s)\n\n", id, error);
		return;
	}
	t = (time_t)env.arrival;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%-24s %9llu  %s  ", env.id, (unsigned long long)env.size, when);
	put_address(env.sender);
	putchar('\n');
	for (size_t i = 0; i < env.rcpts.count; i++) {
		printf("%57s", "");
		put_address(env.rcpts.items[i].address);
		putchar('\n');
	}
	putchar('\n');
	*total_r += env.size;
	spool_envelope_clear(&env);
}

static int queue_list(struct spool *sp)
{
	char **ids;
	size_t count;
	uint64_t total = 0;
	const char *error;

	if (spool_list(sp, &ids, &count, &error) < 0) {
		cli_error("%s", error);
		return 1;
	}
	if (count == 0) {
		puts("Mail queue is empty");
		spool_ids_free(&ids);
		return 0;
	}
	printf("%-24s %9s  %-20s  %s\n", "ID", "Size", "Arrival", "Sender/Recipients");
	for (size_t i = 0; i < count; i++)
		list_one(sp, ids[i], &total);
	printf("-- %llu bytes in %zu message%s.\n", (unsigned long long)total, count,
	       count == 1 ? "" : "s");
	spool_ids_free(&ids);
	return 0;
}

/* Each recipient's last attempt and next retry (queue-state.h). */
static int show_state(struct spool *sp, const char *id, const struct spool_envelope *env)
{
	char *path = xasprintf("%s/%s.state", spool_path(sp), id);
	struct queue_state st;
	struct buf out = BUF_INIT;
	const char *error;

	if (queue_state_read(path, env->rcpts.count, &st, &error) < 0) {
		cli_error("%s: %s", id, error);
		free(path);
		return 1;
	}
	free(path);
	queue_state_show(env, &st, &out);
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	buf_free(&out);
	queue_state_clear(&st);
	return 0;
}

/* Ask the running queue role to retry id (NULL: all) now. */
static int queue_flush(struct spool *sp, const char *id)
{
	const char *error;

	if (queue_flush_request(spool_path(sp), id, &error) < 0) {
		cli_error("flush: %s", error);
		return 1;
	}
	printf("flush requested for %s\n", id != NULL ? id : "every message");
	return 0;
}

/* The envelope as stored (it is text, escaped), once it parses. */
static int queue_show(struct spool *sp, const char *id)
{
	struct spool_envelope env;
	enum spool_error kind;
	const char *error;
	char *path, *data;
	size_t len;
	int ret = 0;

	if (spool_read(sp, id, &env, &kind, &error) < 0) {
		cli_error("%s: %s", spool_id_valid(id) ? id : "queue id", error);
		return 1;
	}
	path = xasprintf("%s/%s.env", spool_path(sp), id);
	if (read_file(path, 1024 * 1024, &data, &len) < 0) {
		cli_error("%s: cannot read the envelope", id);
		ret = 1;
	} else {
		fwrite(data, 1, len, stdout);
		free(data);
		ret = show_state(sp, id, &env);
	}
	spool_envelope_clear(&env);
	free(path);
	return ret;
}

int cmd_queue(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings;
	struct spool *sp;
	const char *error;
	char *dir;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || !((strcmp(argv[1], "list") == 0 && argc == 2) ||
	                  (strcmp(argv[1], "show") == 0 && argc == 3) ||
	                  (strcmp(argv[1], "flush") == 0 && argc <= 3)))
		return usage_error();
	settings = cli_load_settings(ctx);
	if (settings == NULL)
		return 1;
	dir = spool_dir_path(settings);
	settings_free(&settings);
	/* a reader: a queue that was never made is empty, not created */
	if (spool_open(dir, false, &sp, &error) < 0) {
		cli_error("%s", error);
		free(dir);
		return 1;
	}
	free(dir);
	if (argv[1][0] == 'f')
		ret = queue_flush(sp, argc == 3 ? argv[2] : NULL);
	else
		ret = argv[1][0] == 'l' ? queue_list(sp) : queue_show(sp, argv[2]);
	spool_free(&sp);
	return ret;
}
