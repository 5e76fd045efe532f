/* tern queue hold|release|delete|bounce|flush and hold-rule
   (docs/queue.md, "tern queue"): through the running queue role when
   there is one (a request, queue-request.h), else on the files directly
   under the same locks (queue-admin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd-queue.h"
#include "lib/xalloc.h"
#include "outbound/queue-admin.h"
#include "queue/queue-hold.h"
#include "queue/queue-json.h"
#include "queue/queue-request.h"
#include "queue/srs.h"

#define REQUEST_TIMEOUT_MS 10000

static const char *past(enum queue_request_verb verb)
{
	switch (verb) {
	case QUEUE_REQ_FLUSH:
		return "flushed";
	case QUEUE_REQ_HOLD:
		return "held";
	case QUEUE_REQ_RELEASE:
		return "released";
	case QUEUE_REQ_DELETE:
		return "deleted";
	case QUEUE_REQ_BOUNCE:
		return "bounced";
	case QUEUE_REQ_RULES:
		break;
	}
	return "done";
}

/* One line per answer item; returns 1 when it is a failure. */
static int report(enum queue_request_verb verb, enum queue_answer_kind kind, const char *id,
                  const char *text)
{
	switch (kind) {
	case QUEUE_ANSWER_OK:
		printf("%s %s\n", past(verb), id);
		return 0;
	case QUEUE_ANSWER_LATER:
		printf("%s %s when the delivery in progress ends\n",
		       verb == QUEUE_REQ_DELETE ? "deleting" : "bouncing", id);
		return 0;
	case QUEUE_ANSWER_NOTFOUND:
		cli_error("queue: %s: no such queue entry", id);
		return 1;
	case QUEUE_ANSWER_BUSY:
		cli_error("queue: %s: busy in another queue process, try again", id);
		return 1;
	case QUEUE_ANSWER_ERROR:
		cli_error("queue: %s: %s", id, text != NULL ? text : "failed");
		return 1;
	}
	return 1;
}

/* Through the running role: one request, its answer. */
static int act_by_role(struct queue_cmd *c, struct queue_request *req)
{
	struct queue_answer ans;
	const char *error;
	int failed = 0;

	if (queue_request_send(spool_path(c->spool), req, REQUEST_TIMEOUT_MS, &ans, &error) < 0) {
		cli_error("queue: %s", error);
		return 1;
	}
	for (size_t i = 0; i < ans.items.count; i++) {
		const struct queue_answer_item *it = &ans.items.items[i];

		failed |= report(req->verb, it->kind, it->id, it->text);
	}
	if (ans.items.count == 0 && req->verb != QUEUE_REQ_RULES)
		puts("No message matches");
	queue_answer_clear(&ans);
	return failed;
}

/* No role runs (and none starts: the caller holds role.lock): the files. */
static int act_directly(struct queue_cmd *c, enum queue_request_verb verb, char **ids, size_t count)
{
	struct queue_admin a = {
	    .spool = c->spool,
	    .bounce = {.hostname = c->settings->hostname, .data_dir = c->settings->data_dir}};
	struct srs *srs = NULL;
	char *srs_path = srs_secret_path(c->settings->data_dir);
	const char *error = NULL;
	int failed = 0;

	if (access(srs_path, R_OK) == 0 && srs_open(srs_path, &srs, &error) == 0)
		a.bounce.srs = srs;
	free(srs_path);
	for (size_t i = 0; i < count; i++) {
		char *bounce_id = NULL;
		int fd = -1, locked = queue_admin_lock(c->spool, ids[i], &fd);
		enum queue_answer_kind kind = locked < 0    ? QUEUE_ANSWER_NOTFOUND
		                              : locked == 0 ? QUEUE_ANSWER_BUSY
		                                            : QUEUE_ANSWER_OK;

		error = NULL;
		if (locked == 1)
			kind = queue_admin_act(&a, verb, ids[i], &bounce_id, &error);
		if (fd >= 0)
			close(fd);
		failed |= report(verb, kind, ids[i], error);
		free(bounce_id);
	}
	if (count == 0)
		puts("No message matches");
	srs_free(&srs);
	return failed;
}

/* The entries an action is about: the ids given (checked), or every
   entry passing the filters. NULL-terminated, malloc'ed. */
static char **targets(struct queue_cmd *c, size_t *count_r, int *failed)
{
	char **ids;

	if (c->args.count == 0) {
		if (queue_cmd_select(c, &ids, count_r) < 0)
			return NULL;
		return ids;
	}
	ids = xcalloc(c->args.count + 1, sizeof(*ids));
	*count_r = 0;
	for (size_t i = 0; i < c->args.count; i++) {
		if (spool_id_valid(c->args.items[i]))
			ids[(*count_r)++] = xstrdup(c->args.items[i]);
		else
			*failed |= report(QUEUE_REQ_FLUSH, QUEUE_ANSWER_ERROR, c->args.items[i],
			                  "not a queue id");
	}
	return ids;
}

int queue_cmd_act(struct queue_cmd *c, const char *word)
{
	struct queue_request req = {0};
	size_t count = 0;
	char **ids;
	int failed = 0, lock_fd = -1, ret;

	if (queue_request_verb_parse(word, &req.verb) < 0)
		return 2;
	ids = targets(c, &count, &failed);
	if (ids == NULL)
		return 1;
	if (count == 0 && c->args.count > 0) {
		spool_ids_free(&ids);
		return failed;
	}
	if (queue_role_running(spool_path(c->spool), &lock_fd) == 1) {
		/* every entry: the role's view (it may hold entries the
		   listing above raced with) */
		req.all = c->args.count == 0 && !c->filter.any;
		for (size_t i = 0; i < count && !req.all; i++)
			queue_request_add_id(&req, ids[i]);
		ret =
		    count == 0 && !req.all ? (puts("No message matches"), 0) : act_by_role(c, &req);
	} else {
		ret = act_directly(c, req.verb, ids, count);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	queue_request_clear(&req);
	spool_ids_free(&ids);
	return ret | failed;
}

/* ---- hold rules ---- */

static void rules_print(const struct queue_hold_rules *rules, bool json)
{
	struct buf out = BUF_INIT;

	if (json)
		buf_append_char(&out, '[');
	for (size_t i = 0; i < rules->items.count; i++) {
		const struct queue_hold_rule *r = &rules->items.items[i];

		if (!json) {
			buf_printf(&out, "%zu %s %s\n", i + 1, queue_hold_kind_name(r->kind),
			           r->value);
			continue;
		}
		buf_printf(&out, "%s{\"number\": %zu, \"kind\": ", i > 0 ? ", " : "", i + 1);
		queue_json_string(&out, queue_hold_kind_name(r->kind));
		buf_append_str(&out, ", \"value\": ");
		queue_json_string(&out, r->value);
		buf_append_char(&out, '}');
	}
	if (json)
		buf_append_str(&out, "]\n");
	else if (rules->items.count == 0)
		buf_append_str(&out, "No hold rules\n");
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	buf_free(&out);
}

/* Root edited the rules: the role account must still read them. */
static void rules_give(const char *queue_dir)
{
	struct stat st;
	char *dir = queue_hold_rules_dir(queue_dir), *path = queue_hold_rules_path(queue_dir);

	if (geteuid() == 0 && stat(queue_dir, &st) == 0 && st.st_uid != 0) {
		(void)lchown(dir, st.st_uid, st.st_gid);
		(void)lchown(path, st.st_uid, st.st_gid);
	}
	free(dir);
	free(path);
}

/* Tell a running role to load the rules now (it also watches rules/,
   but then the next message could still race the change). */
static void rules_notify(struct queue_cmd *c)
{
	struct queue_request req = {.verb = QUEUE_REQ_RULES};
	int fd = -1;

	if (queue_role_running(spool_path(c->spool), &fd) == 1)
		(void)act_by_role(c, &req);
	if (fd >= 0)
		close(fd);
}

static int rule_edit(struct queue_cmd *c, size_t del, enum queue_hold_kind kind, const char *value)
{
	struct queue_hold_rules rules = {0};
	const char *error;

	if (queue_hold_rules_edit(spool_path(c->spool), del, kind, value, &rules, &error) < 0) {
		cli_error("queue: hold-rule: %s", error);
		return 1;
	}
	rules_give(spool_path(c->spool));
	if (del == 0)
		printf("added hold rule %zu: %s %s\n", rules.items.count,
		       queue_hold_kind_name(kind), value);
	else
		printf("removed hold rule %zu\n", del);
	queue_hold_rules_clear(&rules);
	rules_notify(c);
	return 0;
}

int queue_cmd_hold_rule(struct queue_cmd *c)
{
	const char *sub = c->args.items[0];
	struct queue_hold_rules rules = {0};
	const char *error;

	if (strcmp(sub, "list") == 0 && c->args.count == 1) {
		if (queue_hold_rules_load(spool_path(c->spool), &rules, &error) < 0) {
			cli_error("queue: hold-rule: %s", error);
			return 1;
		}
		rules_print(&rules, c->json);
		queue_hold_rules_clear(&rules);
		return 0;
	}
	if (strcmp(sub, "add") == 0 && c->args.count == 3) {
		const char *kind = c->args.items[1], *value = c->args.items[2];

		if (strcmp(kind, "from") != 0 && strcmp(kind, "to-domain") != 0) {
			cli_error(
			    "queue: hold-rule: a rule is `from ADDRESS` or `to-domain DOMAIN`");
			return 2;
		}
		if (!queue_hold_value_valid(value)) {
			cli_error("queue: hold-rule: not a valid value: %s", value);
			return 1;
		}
		return rule_edit(c, 0, kind[0] == 'f' ? QUEUE_HOLD_FROM : QUEUE_HOLD_TO_DOMAIN,
		                 value);
	}
	if ((strcmp(sub, "remove") == 0 || strcmp(sub, "del") == 0) && c->args.count == 2) {
		char *end;
		unsigned long n = strtoul(c->args.items[1], &end, 10);

		if (*end != '\0' || n == 0) {
			cli_error(
			    "queue: hold-rule: remove needs a rule number (see hold-rule list)");
			return 1;
		}
		return rule_edit(c, n, QUEUE_HOLD_FROM, NULL);
	}
	cli_error("queue: hold-rule: usage: add from ADDRESS | add to-domain DOMAIN | list | "
	          "remove N");
	return 2;
}
