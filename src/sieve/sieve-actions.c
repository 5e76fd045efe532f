/* The result's action list. */
#include "sieve/sieve-actions.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sieve_action_clear(struct sieve_action *a)
{
	free(a->target);
	sieve_flags_free(&a->flags, &a->nflags);
	free(a->subject);
	free(a->from);
	free(a->recipient);
	free(a->handle);
	memset(a, 0, sizeof(*a));
}

static bool is_store(const struct sieve_action *a)
{
	return a->type == SIEVE_ACT_KEEP || a->type == SIEVE_ACT_FILEINTO;
}

static bool is_reject(const struct sieve_action *a)
{
	return a->type == SIEVE_ACT_REJECT || a->type == SIEVE_ACT_EREJECT;
}

/* Mailbox names: INBOX is case-insensitive (RFC 3501 section 5.1). */
static bool same_mailbox(const char *a, const char *b)
{
	if (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0)
		return true;
	return strcmp(a, b) == 0;
}

static const char *type_name(enum sieve_action_type t)
{
	static const char *const names[] = {"keep",   "fileinto", "redirect",
	                                    "reject", "ereject",  "vacation"};
	return names[t];
}

/* A reject excludes every delivery and vacation (RFC 5429 section 2.1). */
static int check_conflicts(struct sieve_run *r, const struct sieve_node *n,
                           const struct sieve_action *act)
{
	for (size_t i = 0; i < r->actions.count; i++) {
		const struct sieve_action *o = &r->actions.items[i];
		bool clash = (is_reject(act) && !is_reject(o)) ||
		             (is_reject(o) && !is_reject(act)) ||
		             (is_reject(act) && is_reject(o)) ||
		             (act->type == SIEVE_ACT_VACATION && o->type == SIEVE_ACT_VACATION);
		if (clash)
			return sieve_run_error(r, n, "%s conflicts with an earlier %s",
			                       type_name(act->type), type_name(o->type));
	}
	return 0;
}

/* Merge into an existing equal action; true if merged. */
static bool merge(struct sieve_run *r, struct sieve_action *act)
{
	for (size_t i = 0; i < r->actions.count; i++) {
		struct sieve_action *o = &r->actions.items[i];
		if (is_store(act) && is_store(o) && same_mailbox(o->target, act->target)) {
			for (size_t f = 0; f < act->nflags; f++)
				sieve_flags_add(&o->flags, &o->nflags, act->flags[f]);
			o->create |= act->create;
			if (act->type == SIEVE_ACT_KEEP)
				o->type = SIEVE_ACT_KEEP;
			return true;
		}
		if (act->type == SIEVE_ACT_REDIRECT && o->type == SIEVE_ACT_REDIRECT &&
		    strcasecmp(o->target, act->target) == 0)
			return true;
	}
	return false;
}

static unsigned count_type(const struct sieve_run *r, enum sieve_action_type t)
{
	unsigned c = 0;

	for (size_t i = 0; i < r->actions.count; i++)
		c += r->actions.items[i].type == t;
	return c;
}

int sieve_action_add(struct sieve_run *r, const struct sieve_node *n, struct sieve_action *act)
{
	act->edits = r->edits.count;
	if (act->type != SIEVE_ACT_VACATION && !act->copy)
		r->implicit_keep = false;
	if (check_conflicts(r, n, act) < 0)
		goto fail;
	if (merge(r, act)) {
		sieve_action_clear(act);
		return 0;
	}
	if (act->type == SIEVE_ACT_REDIRECT &&
	    count_type(r, SIEVE_ACT_REDIRECT) >= r->limits->max_redirects) {
		sieve_run_error(r, n, "too many redirects (limit %u)", r->limits->max_redirects);
		goto fail;
	}
	if (r->actions.count >= r->limits->max_actions) {
		sieve_run_error(r, n, "too many actions (limit %u)", r->limits->max_actions);
		goto fail;
	}
	array_append(&r->actions, *act);
	return 0;
fail:
	sieve_action_clear(act);
	return -1;
}
