/* Sieve tests (RFC 5228 section 5 and the extensions' tests). */
#include "sieve/sieve-commands.h"
#include "sieve/sieve-run.h"

#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A list of values a test compares, each malloc'ed. */
struct values {
	char **v;
	size_t n;
};

static void values_add(struct values *vs, char *s)
{
	vs->v = xreallocarray(vs->v, vs->n + 1, sizeof(char *));
	vs->v[vs->n++] = s;
}

static void values_free(struct values *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

/* Expand every string of a string-list argument. */
static void expand_list(struct sieve_run *r, const struct sieve_arg *a, struct values *out)
{
	for (size_t i = 0; a && i < a->sl.count; i++)
		values_add(out, sieve_expand(r, a->sl.items[i]));
}

/* Compare the values with the keys as the node's match type says
   (RFC 5228 section 2.7; RFC 5231 for :count). */
static int match_values(struct sieve_run *r, const struct sieve_node *t, const struct values *vals,
                        const struct sieve_arg *keyarg)
{
	const struct sieve_opts *o = &t->o;
	struct values keys = {0};
	int ret = 0;

	expand_list(r, keyarg, &keys);
	if (o->match == SIEVE_MATCH_COUNT) {
		char cnt[32];
		snprintf(cnt, sizeof(cnt), "%zu", vals->n);
		for (size_t k = 0; k < keys.n && !ret; k++)
			ret = sieve_relop_holds(o->relop, sieve_cmp_order(o->cmp, cnt, keys.v[k]));
		values_free(&keys);
		return ret;
	}
	bool capture = r->scope->variables &&
	               (o->match == SIEVE_MATCH_MATCHES || o->match == SIEVE_MATCH_REGEX);
	for (size_t i = 0; i < vals->n && ret == 0; i++) {
		for (size_t k = 0; k < keys.n && ret == 0; k++) {
			struct sieve_captures *cap = capture ? &r->caps : NULL;
			if (k < o->nregexes && o->regexes[k] != NULL)
				ret = sieve_match_compiled(o->regexes[k], vals->v[i], cap);
			else
				ret = sieve_match_one(o->match, o->cmp, o->relop, vals->v[i],
				                      keys.v[k], cap);
			if (ret < 0)
				ret =
				    sieve_run_error(r, t, "bad regular expression '%s'", keys.v[k]);
		}
	}
	values_free(&keys);
	return ret;
}

/* The header occurrences :index/:last select (RFC 5260 section 6). */
static void header_select(const struct sieve_opts *o, const char **hv, size_t nh, size_t *from,
                          size_t *to)
{
	*from = 0;
	*to = nh;
	if (o->index == 0)
		return;
	if (o->index > nh) {
		*to = 0;
		return;
	}
	*from = o->last ? nh - o->index : o->index - 1;
	*to = *from + 1;
}

static void collect_headers(struct sieve_run *r, const struct sieve_node *t,
                            const struct sieve_arg *names, bool addresses, struct values *out)
{
	struct values hn = {0};

	expand_list(r, names, &hn);
	for (size_t i = 0; i < hn.n; i++) {
		const char **hv;
		size_t nh = sieve_header_values(r, hn.v[i], &hv), from, to;
		header_select(&t->o, hv, nh, &from, &to);
		for (size_t k = from; k < to; k++) {
			if (!addresses) {
				values_add(out, xstrdup(hv[k]));
				continue;
			}
			char **as = NULL;
			size_t na = 0;
			sieve_parse_addresses(hv[k], &as, &na);
			for (size_t a = 0; a < na; a++)
				values_add(out, as[a]);
			free(as);
		}
		free(hv);
	}
	values_free(&hn);
}

/* The address part of addr (RFC 5228 section 2.7.4, RFC 5233); NULL if
   it does not exist (no detail). */
static char *address_part(enum sieve_addrpart part, const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at ? (size_t)(at - addr) : strlen(addr);
	const char *plus;

	/* an invalid address has only :all (RFC 5228 section 2.7.4) */
	if (at == NULL && part != SIEVE_ADDR_ALL)
		return NULL;
	switch (part) {
	case SIEVE_ADDR_LOCAL:
		return xstrndup(addr, llen);
	case SIEVE_ADDR_DOMAIN:
		return xstrdup(at ? at + 1 : "");
	case SIEVE_ADDR_USER:
		plus = memchr(addr, '+', llen);
		return xstrndup(addr, plus ? (size_t)(plus - addr) : llen);
	case SIEVE_ADDR_DETAIL:
		plus = memchr(addr, '+', llen);
		return plus ? xstrndup(plus + 1, llen - (size_t)(plus - addr) - 1) : NULL;
	default:
		return xstrdup(addr);
	}
}

static void apply_address_part(const struct sieve_opts *o, struct values *vs)
{
	struct values out = {0};

	for (size_t i = 0; i < vs->n; i++) {
		char *p = address_part(o->addrpart, vs->v[i]);
		if (p != NULL)
			values_add(&out, p);
	}
	values_free(vs);
	*vs = out;
}

static void envelope_values(struct sieve_run *r, const struct sieve_arg *parts, struct values *out)
{
	struct values pn = {0};

	expand_list(r, parts, &pn);
	for (size_t i = 0; i < pn.n; i++) {
		const char *v = NULL;
		if (strcasecmp(pn.v[i], "from") == 0)
			v = r->msg->envelope_from;
		else if (strcasecmp(pn.v[i], "to") == 0)
			v = r->msg->envelope_to;
		if (v != NULL)
			values_add(out, xstrdup(v));
	}
	values_free(&pn);
}

static int test_exists(struct sieve_run *r, const struct sieve_node *t)
{
	struct values hn = {0};
	int ret = 1;

	expand_list(r, t->o.pos[0], &hn);
	for (size_t i = 0; i < hn.n && ret; i++) {
		const char **hv;
		ret = sieve_header_values(r, hn.v[i], &hv) > 0;
		free(hv);
	}
	values_free(&hn);
	return ret;
}

static int test_body(struct sieve_run *r, const struct sieve_node *t)
{
	struct values types = {0}, vals = {0};
	const char *const *parts = NULL;
	size_t n = 0;

	expand_list(r, t->o.content_types, &types);
	if (r->msg->body)
		n = r->msg->body(r->msg->ctx, t->o.transform, (const char *const *)types.v, types.n,
		                 &parts);
	for (size_t i = 0; i < n; i++)
		values_add(&vals, xstrdup(parts[i]));
	values_free(&types);
	int ret = match_values(r, t, &vals, t->o.pos[0]);
	values_free(&vals);
	return ret;
}

/* The zone a date is shown in: :zone, :originalzone or the local one. */
static int date_zone(struct sieve_run *r, const struct sieve_node *t, int original)
{
	if (t->o.zone) {
		int z = 0;
		const char *s = t->o.zone->sl.items[0];
		int hh = (s[1] - '0') * 10 + (s[2] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
		z = hh * 60 + mm;
		return s[0] == '-' ? -z : z;
	}
	return t->o.zone_original ? original : r->msg->zone_minutes;
}

static int test_date(struct sieve_run *r, const struct sieve_node *t, bool current)
{
	struct values vals = {0};
	const struct sieve_arg *partarg = t->o.pos[current ? 0 : 1];
	char *part = sieve_expand(r, partarg->sl.items[0]);

	if (current) {
		char *v = sieve_date_part(r->msg->now, date_zone(r, t, r->msg->zone_minutes), part);
		if (v)
			values_add(&vals, v);
	} else {
		struct values hv = {0};
		collect_headers(r, t, t->o.pos[0], false, &hv);
		for (size_t i = 0; i < hv.n; i++) {
			time_t when;
			int zone;
			const char *s = hv.v[i];
			/* Received: the date follows the last ';' (RFC 5260 section 4.1) */
			if (strrchr(s, ';'))
				s = strrchr(s, ';') + 1;
			if (sieve_parse_date(s, &when, &zone) < 0)
				continue;
			char *v = sieve_date_part(when, date_zone(r, t, zone), part);
			if (v)
				values_add(&vals, v);
		}
		values_free(&hv);
	}
	free(part);
	int ret = match_values(r, t, &vals, t->o.pos[current ? 1 : 2]);
	values_free(&vals);
	return ret;
}

static int test_mailboxexists(struct sieve_run *r, const struct sieve_node *t)
{
	struct values names = {0};
	int ret = 1;

	expand_list(r, t->o.pos[0], &names);
	for (size_t i = 0; i < names.n && ret; i++)
		ret = r->msg->mailbox_exists && r->msg->mailbox_exists(r->msg->ctx, names.v[i]);
	values_free(&names);
	return ret;
}

/* RFC 7352 section 3: the id is :uniqueid, the :header's value or the
   Message-ID; a message without one is never a duplicate. */
static int test_duplicate(struct sieve_run *r, const struct sieve_node *t)
{
	const struct sieve_opts *o = &t->o;
	char *id = NULL, *handle = sieve_expand(r, o->handle ? o->handle->sl.items[0] : "");

	if (o->uniqueid) {
		id = sieve_expand(r, o->uniqueid->sl.items[0]);
	} else {
		char *name =
		    sieve_expand(r, o->header_arg ? o->header_arg->sl.items[0] : "Message-ID");
		const char **hv;
		if (sieve_header_values(r, name, &hv) > 0)
			id = xstrdup(hv[0]);
		free(hv);
		free(name);
	}
	int ret = 0;
	if (id != NULL) {
		ret = r->msg->duplicate_seen &&
		      r->msg->duplicate_seen(r->msg->ctx, handle, id, o->seconds);
		array_append(&r->dup_ids, xasprintf("%s:%s", handle, id));
		array_append(&r->dup_secs, o->seconds);
	}
	free(id);
	free(handle);
	return ret;
}

static int test_score(struct sieve_run *r, const struct sieve_node *t, bool virus)
{
	const char *s = NULL;
	struct values vals = {0};

	if (virus && r->msg->virustest)
		s = r->msg->virustest(r->msg->ctx);
	else if (!virus && r->msg->spamtest)
		s = r->msg->spamtest(r->msg->ctx, t->o.percent);
	values_add(&vals, xstrdup(s ? s : "0"));
	int ret = match_values(r, t, &vals, t->o.pos[0]);
	values_free(&vals);
	return ret;
}

static int test_environment(struct sieve_run *r, const struct sieve_node *t)
{
	struct values vals = {0};
	char *name = sieve_expand(r, t->o.pos[0]->sl.items[0]);
	const char *v = r->msg->environment ? r->msg->environment(r->msg->ctx, name) : NULL;

	if (v == NULL && strcasecmp(name, "name") == 0)
		v = "Tern";
	else if (v == NULL && strcasecmp(name, "version") == 0)
		v = "0.1";
	else if (v == NULL && strcasecmp(name, "phase") == 0)
		v = "during";
	free(name);
	if (v == NULL)
		return 0;
	values_add(&vals, xstrdup(v));
	int ret = match_values(r, t, &vals, t->o.pos[1]);
	values_free(&vals);
	return ret;
}

static int test_string(struct sieve_run *r, const struct sieve_node *t)
{
	struct values src = {0}, vals = {0};

	expand_list(r, t->o.pos[0], &src);
	for (size_t i = 0; i < src.n; i++) {
		/* :count counts only non-empty strings (RFC 5229 section 5) */
		if (t->o.match == SIEVE_MATCH_COUNT && src.v[i][0] == '\0')
			continue;
		values_add(&vals, xstrdup(src.v[i]));
	}
	values_free(&src);
	int ret = match_values(r, t, &vals, t->o.pos[1]);
	values_free(&vals);
	return ret;
}

static int test_hasflag(struct sieve_run *r, const struct sieve_node *t)
{
	struct values vals = {0};
	char **flags = NULL;
	size_t n = 0;

	if (t->o.npos == 2) {
		struct values names = {0};
		expand_list(r, t->o.pos[0], &names);
		for (size_t i = 0; i < names.n; i++) {
			const char *v = sieve_var_get(r, names.v[i]);
			if (v)
				sieve_flags_add(&flags, &n, v);
		}
		values_free(&names);
	} else {
		for (size_t i = 0; i < r->nflags; i++)
			sieve_flags_add(&flags, &n, r->flags[i]);
	}
	for (size_t i = 0; i < n; i++)
		values_add(&vals, flags[i]);
	free(flags);
	int ret = match_values(r, t, &vals, t->o.pos[t->o.npos - 1]);
	values_free(&vals);
	return ret;
}

static int test_compare(struct sieve_run *r, const struct sieve_node *t)
{
	struct values vals = {0};

	switch (t->id) {
	case SIEVE_TEST_HEADER:
		collect_headers(r, t, t->o.pos[0], false, &vals);
		break;
	case SIEVE_TEST_ADDRESS:
		collect_headers(r, t, t->o.pos[0], true, &vals);
		apply_address_part(&t->o, &vals);
		break;
	default:
		envelope_values(r, t->o.pos[0], &vals);
		apply_address_part(&t->o, &vals);
		break;
	}
	int ret = match_values(r, t, &vals, t->o.pos[1]);
	values_free(&vals);
	return ret;
}

static int test_list(struct sieve_run *r, const struct sieve_node *t, bool all)
{
	for (size_t i = 0; i < t->ntests; i++) {
		int v = sieve_eval_test(r, &t->tests[i]);
		if (v < 0)
			return -1;
		if (all != (v == 1))
			return all ? 0 : 1;
	}
	return all ? 1 : 0;
}

int sieve_eval_test(struct sieve_run *r, const struct sieve_node *t)
{
	switch (t->id) {
	case SIEVE_TEST_HEADER:
	case SIEVE_TEST_ADDRESS:
	case SIEVE_TEST_ENVELOPE:
		return test_compare(r, t);
	case SIEVE_TEST_EXISTS:
		return test_exists(r, t);
	case SIEVE_TEST_SIZE:
		return t->o.over ? r->msg->size > t->o.pos[0]->number
		                 : r->msg->size < t->o.pos[0]->number;
	case SIEVE_TEST_TRUE:
		return 1;
	case SIEVE_TEST_FALSE:
		return 0;
	case SIEVE_TEST_NOT: {
		int v = sieve_eval_test(r, &t->tests[0]);
		return v < 0 ? -1 : !v;
	}
	case SIEVE_TEST_ALLOF:
		return test_list(r, t, true);
	case SIEVE_TEST_ANYOF:
		return test_list(r, t, false);
	case SIEVE_TEST_BODY:
		return test_body(r, t);
	case SIEVE_TEST_DATE:
		return test_date(r, t, false);
	case SIEVE_TEST_CURRENTDATE:
		return test_date(r, t, true);
	case SIEVE_TEST_MAILBOXEXISTS:
		return test_mailboxexists(r, t);
	case SIEVE_TEST_DUPLICATE:
		return test_duplicate(r, t);
	case SIEVE_TEST_SPAMTEST:
		return test_score(r, t, false);
	case SIEVE_TEST_VIRUSTEST:
		return test_score(r, t, true);
	case SIEVE_TEST_ENVIRONMENT:
		return test_environment(r, t);
	case SIEVE_TEST_STRING:
		return test_string(r, t);
	case SIEVE_TEST_HASFLAG:
		return test_hasflag(r, t);
	default:
		return sieve_run_error(r, t, "'%s' is not a test", t->name);
	}
}
