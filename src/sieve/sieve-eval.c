/* Sieve commands (RFC 5228 sections 3 and 4 and the extensions'). */
#include "sieve/sieve-actions.h"
#include "sieve/sieve-commands.h"
#include "sieve/sieve-run.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sieve_run_error(struct sieve_run *r, const struct sieve_node *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->error == NULL)
		r->error = xasprintf("%u:%u: %s", n->line, n->column, msg);
	return -1;
}

static char *arg_str(struct sieve_run *r, const struct sieve_arg *a)
{
	return sieve_expand(r, a->sl.items[0]);
}

/* The flags of :flags, or the internal variable (RFC 5232 section 5). */
static void action_flags(struct sieve_run *r, const struct sieve_node *n, struct sieve_action *a)
{
	if (!(r->scope->script->exts & (1u << SIEVE_EXT_IMAP4FLAGS)))
		return;
	if (n->o.flags) {
		for (size_t i = 0; i < n->o.flags->sl.count; i++) {
			char *s = sieve_expand(r, n->o.flags->sl.items[i]);
			sieve_flags_add(&a->flags, &a->nflags, s);
			free(s);
		}
		return;
	}
	for (size_t i = 0; i < r->nflags; i++)
		sieve_flags_add(&a->flags, &a->nflags, r->flags[i]);
}

static int cmd_store(struct sieve_run *r, const struct sieve_node *n, bool keep)
{
	struct sieve_action a = {.type = keep ? SIEVE_ACT_KEEP : SIEVE_ACT_FILEINTO};

	a.target = keep ? xstrdup("INBOX") : arg_str(r, n->o.pos[0]);
	a.copy = n->o.copy;
	a.create = n->o.create;
	action_flags(r, n, &a);
	return sieve_action_add(r, n, &a);
}

/* A redirect target must be a mailbox (RFC 5228 section 4.2). */
static bool plausible_address(const char *s)
{
	const char *at = strrchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' && strpbrk(s, " \t\r\n<>,") == NULL;
}

static int cmd_redirect(struct sieve_run *r, const struct sieve_node *n)
{
	struct sieve_action a = {.type = SIEVE_ACT_REDIRECT, .copy = n->o.copy};

	a.target = arg_str(r, n->o.pos[0]);
	if (!plausible_address(a.target)) {
		sieve_run_error(r, n, "redirect: bad address '%s'", a.target);
		free(a.target);
		return -1;
	}
	return sieve_action_add(r, n, &a);
}

static int cmd_reject(struct sieve_run *r, const struct sieve_node *n, bool e)
{
	struct sieve_action a = {.type = e ? SIEVE_ACT_EREJECT : SIEVE_ACT_REJECT};

	a.target = arg_str(r, n->o.pos[0]);
	return sieve_action_add(r, n, &a);
}

static bool header_has(struct sieve_run *r, const char *name)
{
	const char **hv;
	size_t n = sieve_header_values(r, name, &hv);
	free(hv);
	return n > 0;
}

static bool header_is(struct sieve_run *r, const char *name, const char *const *bad, bool neg)
{
	const char **hv;
	size_t n = sieve_header_values(r, name, &hv);
	bool hit = false;

	for (size_t i = 0; i < n && !hit; i++) {
		const char *v = hv[i];
		while (isspace((unsigned char)*v))
			v++;
		for (size_t k = 0; bad[k] && !hit; k++) {
			bool eq = strncasecmp(v, bad[k], strlen(bad[k])) == 0;
			hit = neg ? !eq : eq;
		}
	}
	free(hv);
	return hit;
}

/* a and b are the same address, ignoring case and a "+detail" (user+tag
   delivers to user in Tern, RFC 5233). */
static bool same_user(const char *a, const char *b)
{
	const char *aa = strrchr(a, '@'), *ba = strrchr(b, '@');
	if (aa == NULL || ba == NULL)
		return strcasecmp(a, b) == 0;
	size_t al = strcspn(a, "+@"), bl = strcspn(b, "+@");
	return al == bl && strncasecmp(a, b, al) == 0 && strcasecmp(aa, ba) == 0;
}

/* Is one of the user's addresses in To/Cc/Bcc (RFC 5230 section 4.5)? */
static bool addressed_to_user(struct sieve_run *r, const struct sieve_node *n)
{
	static const char *const hdrs[] = {"to", "cc", "bcc", "resent-to", "resent-cc"};
	ARRAY(char *) mine = ARRAY_INIT;
	bool found = false;

	if (r->msg->envelope_to)
		array_append(&mine, xstrdup(r->msg->envelope_to));
	for (size_t i = 0; n->o.addresses && i < n->o.addresses->sl.count; i++)
		array_append(&mine, sieve_expand(r, n->o.addresses->sl.items[i]));
	for (size_t h = 0; h < 5 && !found; h++) {
		const char **hv;
		size_t nh = sieve_header_values(r, hdrs[h], &hv);
		for (size_t i = 0; i < nh && !found; i++) {
			char **as = NULL;
			size_t na = 0;
			sieve_parse_addresses(hv[i], &as, &na);
			for (size_t a = 0; a < na; a++) {
				for (size_t m = 0; m < mine.count && !found; m++)
					found = same_user(as[a], mine.items[m]);
				free(as[a]);
			}
			free(as);
		}
		free(hv);
	}
	bool none = mine.count == 0;
	for (size_t i = 0; i < mine.count; i++)
		free(mine.items[i]);
	array_free(&mine);
	return found || none;
}

/* Why a vacation reply must not go out (RFC 5230 section 4.6, RFC 3834
   section 2), or NULL. */
static const char *vacation_skip(struct sieve_run *r, const struct sieve_node *n,
                                 const char *sender)
{
	static const char *const no[] = {"no", NULL};
	static const char *const bulk[] = {"bulk", "list", "junk", NULL};

	if (sender == NULL || sender[0] == '\0')
		return "null sender";
	if (strncasecmp(sender, "mailer-daemon@", 14) == 0 ||
	    strncasecmp(sender, "owner-", 6) == 0 || strcasestr(sender, "-request@") != NULL)
		return "sender is a list or a daemon";
	if (header_is(r, "auto-submitted", no, true))
		return "auto-submitted message";
	if (header_has(r, "list-id") || header_has(r, "list-unsubscribe"))
		return "list message";
	if (header_is(r, "precedence", bulk, false))
		return "bulk message";
	if (!addressed_to_user(r, n))
		return "not addressed to the user";
	return NULL;
}

/* The default handle: the parameters that make a reply different
   (RFC 5230 section 4.2). */
static char *vacation_handle(const struct sieve_action *a)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[] = {a->target, a->subject ? a->subject : "", a->from ? a->from : ""};

	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return xasprintf("%016llx%s", (unsigned long long)h, a->mime ? "m" : "");
}

static char *default_subject(struct sieve_run *r)
{
	const char **hv;
	size_t n = sieve_header_values(r, "subject", &hv);
	char *s = xasprintf("Auto: %s", n > 0 ? hv[0] : "");
	free(hv);
	return s;
}

static int cmd_vacation(struct sieve_run *r, const struct sieve_node *n)
{
	const struct sieve_opts *o = &n->o;
	struct sieve_action a = {.type = SIEVE_ACT_VACATION, .mime = o->is_mime};

	a.target = arg_str(r, o->pos[0]);
	a.subject = o->subject ? arg_str(r, o->subject) : default_subject(r);
	a.from = o->from ? arg_str(r, o->from) : NULL;
	a.seconds = o->seconds;
	/* :days 0 is raised to 1 (RFC 5230 section 4.1); :seconds 0 means
	   "always" (RFC 6131 section 2) */
	if (!o->has_seconds && a.seconds < 86400)
		a.seconds = 86400;
	a.handle = o->handle ? arg_str(r, o->handle) : vacation_handle(&a);
	a.recipient = xstrdup(r->msg->envelope_from ? r->msg->envelope_from : "");
	a.skip = vacation_skip(r, n, r->msg->envelope_from);
	if (a.skip == NULL && r->msg->vacation_seen &&
	    r->msg->vacation_seen(r->msg->ctx, a.recipient, a.handle, a.seconds))
		a.skip = "already answered in this period";
	return sieve_action_add(r, n, &a);
}

/* setflag/addflag/removeflag, on a variable or the internal flags. */
static int cmd_flags(struct sieve_run *r, const struct sieve_node *n)
{
	const struct sieve_arg *list = n->o.pos[n->o.npos - 1];
	char **flags = NULL, *var = NULL;
	size_t nflags = 0;

	if (n->o.npos == 2) {
		var = arg_str(r, n->o.pos[0]);
		const char *v = sieve_var_get(r, var);
		if (v == NULL) {
			free(var);
			return sieve_run_error(r, n, "bad variable name");
		}
		sieve_flags_add(&flags, &nflags, v);
	} else {
		flags = r->flags;
		nflags = r->nflags;
	}
	if (n->id == SIEVE_CMD_SETFLAG)
		sieve_flags_free(&flags, &nflags);
	for (size_t i = 0; i < list->sl.count; i++) {
		char *s = sieve_expand(r, list->sl.items[i]);
		if (n->id == SIEVE_CMD_REMOVEFLAG)
			sieve_flags_remove(&flags, &nflags, s);
		else
			sieve_flags_add(&flags, &nflags, s);
		free(s);
	}
	if (var != NULL) {
		sieve_var_set(r, var, sieve_flags_join(flags, nflags));
		sieve_flags_free(&flags, &nflags);
		free(var);
	} else {
		r->flags = flags;
		r->nflags = nflags;
	}
	return 0;
}

/* set modifiers by precedence: lower/upper, then lowerfirst/upperfirst,
   then quotewildcard, then length (RFC 5229 section 4.1). */
static char *apply_modifiers(unsigned mods, char *v)
{
	if (mods & (SIEVE_MOD_LOWER | SIEVE_MOD_UPPER)) {
		for (char *p = v; *p; p++)
			*p = (char)((mods & SIEVE_MOD_LOWER) ? tolower((unsigned char)*p)
			                                     : toupper((unsigned char)*p));
	}
	if (v[0] && (mods & SIEVE_MOD_LOWERFIRST))
		v[0] = (char)tolower((unsigned char)v[0]);
	if (v[0] && (mods & SIEVE_MOD_UPPERFIRST))
		v[0] = (char)toupper((unsigned char)v[0]);
	if (mods & SIEVE_MOD_QUOTEWILDCARD) {
		char *q = sieve_quote_wildcards(v);
		free(v);
		v = q;
	}
	if (mods & SIEVE_MOD_LENGTH) {
		size_t chars = 0;
		for (const char *p = v; *p; p++)
			chars += ((unsigned char)*p & 0xc0) != 0x80;
		free(v);
		v = xasprintf("%zu", chars);
	}
	return v;
}

static int cmd_set(struct sieve_run *r, const struct sieve_node *n)
{
	char *v = arg_str(r, n->o.pos[1]);

	sieve_var_set(r, n->o.pos[0]->sl.items[0], apply_modifiers(n->o.modifiers, v));
	return 0;
}

static bool protected_header(const char *name)
{
	/* RFC 5293 section 4 and 5: never touch trace or auto-reply markers */
	return strcasecmp(name, "received") == 0 || strcasecmp(name, "auto-submitted") == 0;
}

static int cmd_addheader(struct sieve_run *r, const struct sieve_node *n)
{
	char *name = arg_str(r, n->o.pos[0]);

	if (protected_header(name)) {
		free(name);
		return 0;
	}
	struct sieve_edit *e = array_push(&r->edits);
	e->add = true;
	e->name = name;
	e->value = arg_str(r, n->o.pos[1]);
	e->last = n->o.last;
	return 0;
}

static int cmd_deleteheader(struct sieve_run *r, const struct sieve_node *n)
{
	char *name = arg_str(r, n->o.pos[0]);
	struct sieve_edit e = {.name = name, .index = n->o.index, .last = n->o.last};

	if (protected_header(name)) {
		free(name);
		return 0;
	}
	if (n->o.npos == 2) {
		const char **hv;
		size_t nh = sieve_header_values(r, name, &hv);
		e.values = xcalloc(nh + 1, sizeof(char *));
		for (size_t i = 0; i < nh; i++) {
			size_t pos = e.last ? nh - i : i + 1;
			if (e.index && pos != e.index)
				continue;
			for (size_t k = 0; k < n->o.pos[1]->sl.count; k++) {
				char *key = sieve_expand(r, n->o.pos[1]->sl.items[k]);
				int m = sieve_match_one(n->o.match, n->o.cmp, n->o.relop, hv[i],
				                        key, NULL);
				free(key);
				if (m == 1) {
					e.values[e.nvalues++] = xstrdup(hv[i]);
					break;
				}
			}
		}
		free(hv);
		e.index = 0;
	}
	array_append(&r->edits, e);
	return 0;
}

static int run_script(struct sieve_run *r, const struct sieve_script *s);

static bool already_included(struct sieve_run *r, const char *key)
{
	for (size_t i = 0; i < r->included.count; i++) {
		if (strcmp(r->included.items[i], key) == 0)
			return true;
	}
	return false;
}

/* include (RFC 6609 section 3.2): the named script runs in its own
   variable scope; its actions join this result. */
static int cmd_include(struct sieve_run *r, const struct sieve_node *n)
{
	char *name = arg_str(r, n->o.pos[0]);
	char *key = xasprintf("%c%s", n->o.global ? 'g' : 'p', name);
	const struct sieve_script *inc = NULL;
	const char *why = "no include support";
	int ret = 0;

	if (n->o.once && already_included(r, key))
		goto out;
	if (++r->includes_run > SIEVE_INCLUDES_MAX) {
		ret = sieve_run_error(r, n, "too many includes (limit %u)", SIEVE_INCLUDES_MAX);
		goto out;
	}
	if (r->include_depth >= r->limits->max_includes) {
		ret = sieve_run_error(r, n, "include nested too deep (limit %u)",
		                      r->limits->max_includes);
		goto out;
	}
	if (r->msg->include == NULL ||
	    r->msg->include(r->msg->ctx, n->o.global, name, &inc, &why) < 0) {
		if (!n->o.optional)
			ret = sieve_run_error(r, n, "include '%s': %s", name, why);
		goto out;
	}
	if (!already_included(r, key))
		array_append(&r->included, xstrdup(key));
	r->include_depth++;
	ret = run_script(r, inc);
	r->include_depth--;
out:
	free(key);
	free(name);
	return ret;
}

static int cmd_global(struct sieve_run *r, const struct sieve_node *n)
{
	for (size_t i = 0; i < n->o.pos[0]->sl.count; i++)
		array_append(&r->scope->globals, xstrdup(n->o.pos[0]->sl.items[i]));
	return 0;
}

/* vnd.dovecot.testsuite: `test "name" { ... }` runs its block with a
   fresh result; test_fail or a run-time error fails it. */
static int cmd_test(struct sieve_run *r, const struct sieve_node *c)
{
	char *name = arg_str(r, c->o.pos[0]);
	bool returned = false;

	sieve_run_reset(r);
	int ret = sieve_eval_block(r, c->block, c->nblock, &returned);
	const char *failure = NULL;
	if (ret < 0)
		failure = r->test_failure ? r->test_failure : r->error ? r->error : "error";
	if (r->ts && r->ts->test_end)
		r->ts->test_end(r->ts->ctx, name, failure);
	free(r->test_failure);
	r->test_failure = NULL;
	free(r->error);
	r->error = NULL;
	r->stopped = false;
	sieve_run_reset(r);
	free(name);
	return 0;
}

static int cmd_test_set(struct sieve_run *r, const struct sieve_node *c)
{
	char *item = arg_str(r, c->o.pos[0]), *value = arg_str(r, c->o.pos[1]);
	const char *why = "no testsuite";
	int ret = 0;

	if (r->ts == NULL || r->ts->set == NULL || r->ts->set(r->ts->ctx, item, value, &why) < 0)
		ret = sieve_run_error(r, c, "test_set %s: %s", item, why);
	free(item);
	free(value);
	return ret;
}

static int cmd_simple(struct sieve_run *r, const struct sieve_node *c)
{
	switch (c->id) {
	case SIEVE_CMD_KEEP:
		return cmd_store(r, c, true);
	case SIEVE_CMD_FILEINTO:
		return cmd_store(r, c, false);
	case SIEVE_CMD_DISCARD:
		r->implicit_keep = false;
		return 0;
	case SIEVE_CMD_REDIRECT:
		return cmd_redirect(r, c);
	case SIEVE_CMD_REJECT:
	case SIEVE_CMD_EREJECT:
		return cmd_reject(r, c, c->id == SIEVE_CMD_EREJECT);
	case SIEVE_CMD_VACATION:
		return cmd_vacation(r, c);
	case SIEVE_CMD_SETFLAG:
	case SIEVE_CMD_ADDFLAG:
	case SIEVE_CMD_REMOVEFLAG:
		return cmd_flags(r, c);
	case SIEVE_CMD_SET:
		return cmd_set(r, c);
	case SIEVE_CMD_ADDHEADER:
		return cmd_addheader(r, c);
	case SIEVE_CMD_DELETEHEADER:
		return cmd_deleteheader(r, c);
	case SIEVE_CMD_INCLUDE:
		return cmd_include(r, c);
	case SIEVE_CMD_GLOBAL:
		return cmd_global(r, c);
	case SIEVE_CMD_TEST:
		return cmd_test(r, c);
	case SIEVE_CMD_TEST_SET:
		return cmd_test_set(r, c);
	case SIEVE_CMD_TEST_FAIL:
		free(r->test_failure);
		r->test_failure = arg_str(r, c->o.pos[0]);
		return -1;
	default:
		return 0; /* require: done at compile time */
	}
}

int sieve_eval_block(struct sieve_run *r, const struct sieve_node *cmds, size_t n, bool *returned)
{
	bool taken = false; /* an if/elsif of this chain ran its block */

	for (size_t i = 0; i < n && !r->stopped && !*returned; i++) {
		const struct sieve_node *c = &cmds[i];
		int v;
		switch (c->id) {
		case SIEVE_CMD_IF:
			taken = false;
			/* fall through */
		case SIEVE_CMD_ELSIF:
			if (taken)
				break;
			v = sieve_eval_test(r, &c->tests[0]);
			if (v < 0)
				return -1;
			if (v == 0)
				break;
			taken = true;
			if (sieve_eval_block(r, c->block, c->nblock, returned) < 0)
				return -1;
			break;
		case SIEVE_CMD_ELSE:
			if (!taken && sieve_eval_block(r, c->block, c->nblock, returned) < 0)
				return -1;
			taken = true;
			break;
		case SIEVE_CMD_STOP:
			r->stopped = true;
			break;
		case SIEVE_CMD_RETURN:
			*returned = true;
			break;
		default:
			if (cmd_simple(r, c) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

static void scope_free(struct sieve_scope *sc)
{
	for (size_t i = 0; i < sc->vars.count; i++) {
		free(sc->vars.items[i].name);
		free(sc->vars.items[i].value);
	}
	array_free(&sc->vars);
	for (size_t i = 0; i < sc->globals.count; i++)
		free(sc->globals.items[i]);
	array_free(&sc->globals);
}

static int run_script(struct sieve_run *r, const struct sieve_script *s)
{
	struct sieve_scope sc = {.script = s};
	struct sieve_scope *outer = r->scope;
	bool returned = false;

	sc.variables = (s->exts & (1u << SIEVE_EXT_VARIABLES)) != 0;
	r->scope = &sc;
	int ret = sieve_eval_block(r, s->cmds, s->ncmds, &returned);
	r->scope = outer;
	scope_free(&sc);
	return ret;
}

int sieve_run_script(struct sieve_run *r, const struct sieve_script *s)
{
	return run_script(r, s);
}
