/* tern queue: what waits in the outbound spool, and what an admin does to
   it (docs/queue.md, "tern queue"). Options, list and show here; the
   actions in cmd-queue-act.c. */
#include "cli/cmd-queue.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "queue/queue-json.h"

static const char usage_text[] =
    "usage: tern queue list [FILTER...] [--json]\n"
    "       tern queue show ID [--json]\n"
    "       tern queue flush [ID... | --all | FILTER...]\n"
    "       tern queue hold|release|delete|bounce ID... | --all | FILTER...\n"
    "       tern queue hold-rule add from ADDRESS | add to-domain DOMAIN\n"
    "       tern queue hold-rule list [--json] | remove N\n"
    "\n"
    "FILTER: --from ADDRESS, --to ADDRESS, --domain DOMAIN (of a recipient),\n"
    "--held, --older-than DURATION (30s, 5m, 2h, 1d).\n"
    "\n"
    "list prints the messages waiting in the outbound queue, oldest first:\n"
    "id, size, arrival (UTC), sender, recipients (as mailq does); show prints\n"
    "one envelope as stored and each recipient's delivery state. flush retries\n"
    "now (no argument: every message); hold keeps a message from delivery\n"
    "until release; delete removes it without a report; bounce gives up now\n"
    "and reports to the sender. hold-rule holds new mail from a sender or to a\n"
    "domain. With a running queue role the role acts; otherwise tern acts on\n"
    "the spool files itself.\n";

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* "30s", "5m", "2h", "1d", "90" (seconds): 0 with *secs_r, or -1. */
static int duration_parse(const char *s, int64_t *secs_r)
{
	char *end;
	unsigned long long n;
	int64_t unit = 1;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	n = strtoull(s, &end, 10);
	if (*end != '\0') {
		const char *units = "smhd";
		static const int64_t factors[] = {1, 60, 3600, 86400};
		const char *u = strchr(units, *end);

		if (u == NULL || end[1] != '\0')
			return -1;
		unit = factors[u - units];
	}
	if (n > (unsigned long long)(INT64_MAX / unit))
		return -1;
	*secs_r = (int64_t)n * unit;
	return 0;
}

/* Options anywhere after the subcommand; the other words into c->args.
   0, or -1 after a message (usage). */
static int parse_options(struct queue_cmd *c, int argc, char **argv)
{
	struct queue_filter *f = &c->filter;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char **value = NULL;

		if (strcmp(a, "--json") == 0)
			c->json = true;
		else if (strcmp(a, "--all") == 0)
			c->all = true;
		else if (strcmp(a, "--held") == 0)
			f->held = f->any = true;
		else if (strcmp(a, "--from") == 0)
			value = &f->from;
		else if (strcmp(a, "--to") == 0)
			value = &f->to;
		else if (strcmp(a, "--domain") == 0)
			value = &f->domain;
		else if (strcmp(a, "--older-than") == 0) {
			if (i + 1 == argc || duration_parse(argv[++i], &f->older_than) < 0) {
				cli_error(
				    "queue: --older-than needs a duration like 30s, 5m, 2h, 1d");
				return -1;
			}
			f->any = true;
		} else if (strncmp(a, "--", 2) == 0) {
			cli_error("queue: unknown option %s", a);
			return -1;
		} else
			array_append(&c->args, a);
		if (value != NULL) {
			if (i + 1 == argc) {
				cli_error("queue: %s needs a value", a);
				return -1;
			}
			*value = argv[++i];
			f->any = true;
		}
	}
	return 0;
}

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : "";
}

bool queue_filter_match(const struct queue_filter *f, const struct spool_envelope *env,
                        const struct queue_state *st, int64_t now)
{
	bool to = f->to == NULL, domain = f->domain == NULL;

	if (f->from != NULL && strcasecmp(f->from, env->sender) != 0)
		return false;
	if (f->held && !st->held)
		return false;
	if (f->older_than > 0 && now - env->arrival < f->older_than)
		return false;
	for (size_t i = 0; i < env->rcpts.count; i++) {
		const char *address = env->rcpts.items[i].address;

		to = to || strcasecmp(address, f->to) == 0;
		domain = domain || strcasecmp(domain_of(address), f->domain) == 0;
	}
	return to && domain;
}

int queue_cmd_read(struct spool *sp, const char *id, struct spool_envelope *env,
                   struct queue_state *st, const char **error_r)
{
	enum spool_error kind;
	char *path;
	int ret;

	if (spool_read(sp, id, env, &kind, error_r) < 0)
		return -1; /* "no such queue entry", "not a queue id", ... */
	path = xasprintf("%s/%s.state", spool_path(sp), id);
	ret = queue_state_read(path, env->rcpts.count, st, error_r);
	free(path);
	if (ret < 0)
		spool_envelope_clear(env);
	return ret;
}

int queue_cmd_select(const struct queue_cmd *c, char ***ids_r, size_t *count_r)
{
	char **ids;
	size_t count, kept = 0;
	const char *error;
	int64_t t = (int64_t)time(NULL);

	if (spool_list(c->spool, &ids, &count, &error) < 0) {
		cli_error("queue: %s", error);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct spool_envelope env;
		struct queue_state st;
		bool keep = false;

		if (queue_cmd_read(c->spool, ids[i], &env, &st, &error) == 0) {
			keep = queue_filter_match(&c->filter, &env, &st, t);
			spool_envelope_clear(&env);
			queue_state_clear(&st);
		}
		if (keep)
			ids[kept++] = ids[i];
		else
			free(ids[i]);
	}
	ids[kept] = NULL;
	*ids_r = ids;
	*count_r = kept;
	return 0;
}

/* An address as a person reads it, control bytes shown as '?'. */
static void put_address(const char *address)
{
	putchar('<');
	for (const unsigned char *p = (const unsigned char *)address; *p != '\0'; p++)
		putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
	putchar('>');
}

static void list_one(const struct spool_envelope *env, const struct queue_state *st)
{
	char when[32] = "-";
	time_t t = (time_t)env->arrival;
	struct tm tm;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%-24s%c%9llu  %s  ", env->id, st->held ? '!' : ' ', (unsigned long long)env->size,
	       when);
	put_address(env->sender);
	putchar('\n');
	for (size_t i = 0; i < env->rcpts.count; i++) {
		printf("%57s", "");
		put_address(env->rcpts.items[i].address);
		if (i < st->rcpts.count && st->rcpts.items[i].status != QUEUE_RCPT_PENDING)
			printf(" (%s)", queue_rcpt_status_name(st->rcpts.items[i].status));
		putchar('\n');
	}
	putchar('\n');
}

static void list_out(const struct queue_cmd *c, struct buf *json, const char *id, size_t *shown,
                     uint64_t *total)
{
	struct spool_envelope env;
	struct queue_state st;
	const char *error;

	if (queue_cmd_read(c->spool, id, &env, &st, &error) < 0) {
		if (c->filter.any)
			return; /* cannot say whether it matches */
		if (c->json) {
			buf_append_str(json, *shown > 0 ? ",\n {\"id\": " : "\n {\"id\": ");
			queue_json_string(json, id);
			buf_append_str(json, ", \"error\": ");
			queue_json_string(json, error);
			buf_append_char(json, '}');
		} else
			printf("%-24s  (%s)\n\n", id, error);
		(*shown)++;
		return;
	}
	if (!queue_filter_match(&c->filter, &env, &st, (int64_t)time(NULL))) {
		/* skipped */
	} else if (c->json) {
		buf_append_str(json, *shown > 0 ? ",\n " : "\n ");
		queue_json_entry(json, &env, &st, false);
		(*shown)++;
	} else {
		if (*shown == 0)
			printf("%-24s %9s  %-20s  %s\n", "ID", "Size", "Arrival",
			       "Sender/Recipients");
		list_one(&env, &st);
		*total += env.size;
		(*shown)++;
	}
	spool_envelope_clear(&env);
	queue_state_clear(&st);
}

static int queue_list(const struct queue_cmd *c)
{
	char **ids;
	size_t count, shown = 0;
	uint64_t total = 0;
	struct buf json = BUF_INIT;
	const char *error;

	if (spool_list(c->spool, &ids, &count, &error) < 0) {
		cli_error("queue: %s", error);
		return 1;
	}
	for (size_t i = 0; i < count; i++)
		list_out(c, &json, ids[i], &shown, &total);
	if (c->json) {
		printf("[%.*s%s]\n", (int)json.len, json.data != NULL ? json.data : "",
		       shown > 0 ? "\n" : "");
	} else if (shown == 0) {
		puts(c->filter.any ? "No message matches" : "Mail queue is empty");
	} else {
		printf("-- %llu bytes in %zu message%s.\n", (unsigned long long)total, shown,
		       shown == 1 ? "" : "s");
	}
	buf_free(&json);
	spool_ids_free(&ids);
	return 0;
}

/* The envelope as stored (it is text, escaped), then each recipient's
   state; or one JSON object. */
static int queue_show(const struct queue_cmd *c, const char *id)
{
	struct spool_envelope env;
	struct queue_state st;
	struct buf out = BUF_INIT;
	const char *error;
	char *path, *data;
	size_t len;
	int ret = 0;

	if (queue_cmd_read(c->spool, id, &env, &st, &error) < 0) {
		cli_error("queue: %s: %s", spool_id_valid(id) ? id : "queue id", error);
		return 1;
	}
	path = xasprintf("%s/%s.env", spool_path(c->spool), id);
	if (c->json) {
		queue_json_entry(&out, &env, &st, true);
		buf_append_char(&out, '\n');
	} else if (read_file(path, 1024 * 1024, &data, &len) < 0) {
		cli_error("queue: %s: cannot read the envelope", id);
		ret = 1;
	} else {
		fwrite(data, 1, len, stdout);
		free(data);
		if (st.held)
			printf("held since %lld\n", (long long)st.held_since);
		queue_state_show(&env, &st, &out);
	}
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	buf_free(&out);
	spool_envelope_clear(&env);
	queue_state_clear(&st);
	free(path);
	return ret;
}

static bool is_action(const char *w)
{
	static const char *const verbs[] = {"flush", "hold", "release", "delete", "bounce"};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(w, verbs[i]) == 0)
			return true;
	return false;
}

/* Whether the words fit the subcommand (before opening anything). */
static bool usage_ok(const struct queue_cmd *c, const char *sub)
{
	if (strcmp(sub, "list") == 0)
		return c->args.count == 0 && !c->all;
	if (strcmp(sub, "show") == 0)
		return c->args.count == 1 && !c->filter.any && !c->all;
	if (strcmp(sub, "hold-rule") == 0)
		return c->args.count >= 1 && !c->filter.any && !c->all;
	if (!is_action(sub) || (c->all && c->args.count > 0) ||
	    (c->filter.any && c->args.count > 0))
		return false;
	return c->args.count > 0 || c->all || c->filter.any || strcmp(sub, "flush") == 0;
}

static int run(struct queue_cmd *c, const char *sub)
{
	if (strcmp(sub, "list") == 0)
		return queue_list(c);
	if (strcmp(sub, "show") == 0)
		return queue_show(c, c->args.items[0]);
	if (strcmp(sub, "hold-rule") == 0)
		return queue_cmd_hold_rule(c);
	return queue_cmd_act(c, sub);
}

int cmd_queue(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct queue_cmd c = {0};
	struct tern_settings *settings;
	const char *error;
	char *dir;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || parse_options(&c, argc, argv) < 0 || !usage_ok(&c, argv[1])) {
		array_free(&c.args);
		return usage_error();
	}
	settings = cli_load_settings(ctx);
	if (settings == NULL) {
		array_free(&c.args);
		return 1;
	}
	dir = spool_dir_path(settings);
	/* a reader: a queue that was never made is empty, not created */
	if (spool_open(dir, false, &c.spool, &error) < 0) {
		cli_error("queue: %s", error);
		ret = 1;
	} else {
		c.settings = settings;
		ret = run(&c, argv[1]);
		spool_free(&c.spool);
	}
	free(dir);
	settings_free(&settings);
	array_free(&c.args);
	return ret;
}
