/* The public entry points: compile, run, free. */
#include "sieve/sieve-actions.h"
#include "sieve/sieve-run.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct sieve_limits sieve_limits_default(void)
{
	struct sieve_limits l = {
	    .max_script_size = 1024 * 1024,
	    .max_nesting = 32,
	    .max_commands = 10000,
	    .max_actions = 64,
	    .max_redirects = 4,
	    .max_includes = 5,
	    .max_variable = 4096,
	};
	return l;
}

static void limits_fill(struct sieve_limits *l, const struct sieve_limits *in)
{
	struct sieve_limits d = sieve_limits_default();

	*l = in ? *in : d;
	if (l->max_script_size == 0)
		l->max_script_size = d.max_script_size;
	if (l->max_nesting == 0)
		l->max_nesting = d.max_nesting;
	if (l->max_commands == 0)
		l->max_commands = d.max_commands;
	if (l->max_actions == 0)
		l->max_actions = d.max_actions;
	if (l->max_redirects == 0)
		l->max_redirects = d.max_redirects;
	if (l->max_includes == 0)
		l->max_includes = d.max_includes;
	if (l->max_variable == 0)
		l->max_variable = d.max_variable;
}

const char *sieve_extensions(void)
{
	return "fileinto reject ereject envelope encoded-character imap4flags body variables "
	       "vacation vacation-seconds relational comparator-i;ascii-numeric subaddress copy "
	       "date index editheader mailbox regex include duplicate spamtest spamtestplus "
	       "virustest environment";
}

static int compile(const char *text, size_t len, const struct sieve_limits *limits, bool testsuite,
                   struct sieve_script **script_r, struct sieve_error *error_r)
{
	struct sieve_script *s = xcalloc(1, sizeof(*s));

	s->testsuite = testsuite;
	memset(error_r, 0, sizeof(*error_r));
	limits_fill(&s->limits, limits);
	*script_r = NULL;
	if (len > 0 && memchr(text, '\0', len) != NULL) {
		const char *z = memchr(text, '\0', len);
		unsigned line = 1, col = 1;
		for (const char *p = text; p < z; p++) {
			line += *p == '\n';
			col = *p == '\n' ? 1 : col + 1;
		}
		sieve_script_free(&s);
		return sieve_error_set(error_r, line, col, "NUL byte in script");
	}
	if (sieve_parse(text, len, &s->limits, s, error_r) < 0 || sieve_validate(s, error_r) < 0) {
		sieve_script_free(&s);
		return -1;
	}
	*script_r = s;
	return 0;
}

int sieve_compile(const char *text, size_t len, const struct sieve_limits *limits,
                  struct sieve_script **script_r, struct sieve_error *error_r)
{
	return compile(text, len, limits, false, script_r, error_r);
}

int sieve_compile_testsuite(const char *text, size_t len, struct sieve_script **script_r,
                            struct sieve_error *error_r)
{
	return compile(text, len, NULL, true, script_r, error_r);
}

void sieve_script_free(struct sieve_script **script)
{
	if (script == NULL || *script == NULL)
		return;
	sieve_nodes_free((*script)->cmds, (*script)->ncmds);
	free(*script);
	*script = NULL;
}

bool sieve_script_requires(const struct sieve_script *script, const char *ext)
{
	int e = sieve_ext_lookup(ext);
	return e >= 0 && (script->exts & (1u << e)) != 0;
}

static void edit_clear(struct sieve_edit *e)
{
	free(e->name);
	free(e->value);
	for (size_t i = 0; i < e->nvalues; i++)
		free(e->values[i]);
	free(e->values);
}

void sieve_run_reset(struct sieve_run *r)
{
	for (size_t i = 0; i < r->actions.count; i++)
		sieve_action_clear(&r->actions.items[i]);
	array_free(&r->actions);
	for (size_t i = 0; i < r->edits.count; i++)
		edit_clear(&r->edits.items[i]);
	array_free(&r->edits);
	sieve_flags_free(&r->flags, &r->nflags);
	r->implicit_keep = true;
}

static void run_free(struct sieve_run *r)
{
	sieve_run_reset(r);
	for (size_t i = 0; i < r->dup_ids.count; i++)
		free(r->dup_ids.items[i]);
	array_free(&r->dup_ids);
	array_free(&r->dup_secs);
	for (size_t i = 0; i < r->included.count; i++)
		free(r->included.items[i]);
	array_free(&r->included);
	for (size_t i = 0; i < r->global_vars.count; i++) {
		free(r->global_vars.items[i].name);
		free(r->global_vars.items[i].value);
	}
	array_free(&r->global_vars);
	sieve_captures_clear(&r->caps);
	free(r->error);
	free(r->test_failure);
}

/* The implicit keep (RFC 5228 section 2.10.2) with the final flags. */
static int add_implicit_keep(struct sieve_run *r)
{
	struct sieve_action a = {.type = SIEVE_ACT_KEEP, .target = xstrdup("INBOX")};
	struct sieve_node where = {.line = 0, .column = 0};

	for (size_t i = 0; i < r->nflags; i++)
		sieve_flags_add(&a.flags, &a.nflags, r->flags[i]);
	return sieve_action_add(r, &where, &a);
}

static void result_take(struct sieve_run *r, struct sieve_result *res)
{
	res->actions = r->actions.items;
	res->nactions = r->actions.count;
	res->edits = r->edits.items;
	res->nedits = r->edits.count;
	res->duplicate_ids = r->dup_ids.items;
	res->nduplicates = r->dup_ids.count;
	res->duplicate_seconds = r->dup_secs.items;
	memset(&r->actions, 0, sizeof(r->actions));
	memset(&r->edits, 0, sizeof(r->edits));
	memset(&r->dup_ids, 0, sizeof(r->dup_ids));
	memset(&r->dup_secs, 0, sizeof(r->dup_secs));
}

static int run(const struct sieve_script *script, const struct sieve_message *msg,
               const struct sieve_testsuite *ts, struct sieve_result *result_r)
{
	struct sieve_run r = {
	    .msg = msg, .limits = &script->limits, .implicit_keep = true, .ts = ts};
	int ret = sieve_run_script(&r, script);

	memset(result_r, 0, sizeof(*result_r));
	if (ret == 0 && r.implicit_keep)
		ret = add_implicit_keep(&r);
	if (ret < 0) {
		/* implicit keep on error: one plain KEEP, nothing else */
		result_r->error = r.error ? r.error : xstrdup("run-time error");
		r.error = NULL;
		run_free(&r);
		result_r->actions = xcalloc(1, sizeof(struct sieve_action));
		result_r->actions[0].type = SIEVE_ACT_KEEP;
		result_r->actions[0].target = xstrdup("INBOX");
		result_r->nactions = 1;
		return -1;
	}
	result_take(&r, result_r);
	run_free(&r);
	return 0;
}

int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
              struct sieve_result *result_r)
{
	return run(script, msg, NULL, result_r);
}

int sieve_run_testsuite(const struct sieve_script *script, const struct sieve_message *msg,
                        const struct sieve_testsuite *ts, struct sieve_result *result_r)
{
	return run(script, msg, ts, result_r);
}

void sieve_result_free(struct sieve_result *res)
{
	for (size_t i = 0; i < res->nactions; i++)
		sieve_action_clear(&res->actions[i]);
	free(res->actions);
	for (size_t i = 0; i < res->nedits; i++)
		edit_clear(&res->edits[i]);
	free(res->edits);
	for (size_t i = 0; i < res->nduplicates; i++)
		free(res->duplicate_ids[i]);
	free(res->duplicate_ids);
	free(res->duplicate_seconds);
	free(res->error);
	memset(res, 0, sizeof(*res));
}
