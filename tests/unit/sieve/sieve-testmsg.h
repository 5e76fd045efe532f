#ifndef TERN_TESTS_SIEVE_TESTMSG_H
#define TERN_TESTS_SIEVE_TESTMSG_H

/* A struct sieve_message over a message held in memory, for the unit
   tests and the fuzz targets: a header block "Name: value\n..." (no
   folding), a body text, and a few knobs. Header-only include file. */

#include "sieve/sieve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TESTMSG_MAX 64

struct testmsg {
	char *names[TESTMSG_MAX];
	char *values[TESTMSG_MAX];
	size_t n;
	const char *found[TESTMSG_MAX];
	const char *body;
	const char *raw;
	const char *mailboxes; /* space separated existing mailboxes */
	const char *spam, *virus;
	const char *seen_ids; /* space separated ids duplicate_seen answers true for */
	const char *env_domain;
	bool vacation_seen;
	struct sieve_script *inc_script; /* what include returns */
	char *owned_body;                /* set by testmsg_set_text() */
	struct sieve_message m;
};

static inline size_t testmsg_header(void *ctx, const char *name, const char *const **values_r)
{
	struct testmsg *t = ctx;
	size_t c = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (strcasecmp(t->names[i], name) == 0)
			t->found[c++] = t->values[i];
	}
	*values_r = t->found;
	return c;
}

static inline size_t testmsg_body(void *ctx, enum sieve_body_transform tr, const char *const *types,
                                  size_t ntypes, const char *const **parts_r)
{
	struct testmsg *t = ctx;

	(void)ntypes;
	(void)types;
	if (tr == SIEVE_BODY_RAW) {
		t->found[0] = t->raw ? t->raw : t->body;
	} else if (tr == SIEVE_BODY_CONTENT && ntypes > 0 && strcmp(types[0], "text") != 0 &&
	           strcmp(types[0], "text/plain") != 0 && types[0][0] != '\0') {
		return 0;
	} else {
		t->found[0] = t->body;
	}
	*parts_r = t->found;
	return t->found[0] ? 1 : 0;
}

static inline bool word_in(const char *list, const char *w)
{
	size_t wl = strlen(w);

	for (const char *p = list; p && *p;) {
		size_t l = strcspn(p, " ");
		if (l == wl && strncmp(p, w, l) == 0)
			return true;
		p += l;
		p += strspn(p, " ");
	}
	return false;
}

static inline bool testmsg_mailbox(void *ctx, const char *name)
{
	return word_in(((struct testmsg *)ctx)->mailboxes, name);
}

static inline bool testmsg_dup(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	(void)handle;
	(void)seconds;
	return word_in(((struct testmsg *)ctx)->seen_ids, id);
}

static const char *testmsg_spam(void *ctx, bool percent)
{
	(void)percent;
	return ((struct testmsg *)ctx)->spam;
}

static const char *testmsg_virus(void *ctx)
{
	return ((struct testmsg *)ctx)->virus;
}

static const char *testmsg_env(void *ctx, const char *name)
{
	struct testmsg *t = ctx;
	return strcasecmp(name, "domain") == 0 ? t->env_domain : NULL;
}

static inline bool testmsg_vacation_seen(void *ctx, const char *sender, const char *handle,
                                         uint64_t seconds)
{
	(void)sender;
	(void)handle;
	(void)seconds;
	return ((struct testmsg *)ctx)->vacation_seen;
}

static inline int testmsg_include(void *ctx, bool global, const char *name,
                                  const struct sieve_script **script_r, const char **error_r)
{
	struct testmsg *t = ctx;

	(void)global;
	if (t->inc_script == NULL || strcmp(name, "missing") == 0) {
		*error_r = "no such script";
		return -1;
	}
	*script_r = t->inc_script;
	return 0;
}

/* Set up t from a header block; from/to are the envelope. */
static inline void testmsg_parse_headers(struct testmsg *t, const char *headers)
{
	for (const char *p = headers; p && *p && t->n < TESTMSG_MAX;) {
		size_t l = strcspn(p, "\n");
		const char *colon = memchr(p, ':', l);
		if (colon) {
			const char *v = colon + 1;
			while (*v == ' ')
				v++;
			t->names[t->n] = strndup(p, (size_t)(colon - p));
			t->values[t->n] = strndup(v, l - (size_t)(v - p));
			t->n++;
		}
		p += l;
		if (*p == '\n')
			p++;
	}
}

static inline void testmsg_init(struct testmsg *t, const char *headers, const char *body,
                                const char *from, const char *to)
{
	memset(t, 0, sizeof(*t));
	testmsg_parse_headers(t, headers);
	t->body = body;
	t->m.ctx = t;
	t->m.header = testmsg_header;
	t->m.body = testmsg_body;
	t->m.envelope_from = from;
	t->m.envelope_to = to;
	t->m.size = (headers ? strlen(headers) : 0) + (body ? strlen(body) : 0);
	t->m.now = 1700000000; /* 2023-11-14 22:13:20 UTC */
	t->m.zone_minutes = 60;
	t->m.mailbox_exists = testmsg_mailbox;
	t->m.duplicate_seen = testmsg_dup;
	t->m.spamtest = testmsg_spam;
	t->m.virustest = testmsg_virus;
	t->m.environment = testmsg_env;
	t->m.vacation_seen = testmsg_vacation_seen;
	t->m.include = testmsg_include;
}

static inline void testmsg_clear_headers(struct testmsg *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->names[i]);
		free(t->values[i]);
	}
	t->n = 0;
}

static inline void testmsg_free(struct testmsg *t)
{
	testmsg_clear_headers(t);
	free(t->owned_body);
	sieve_script_free(&t->inc_script);
}

/* The header block of a whole message text with CR removed and folded
   lines joined (RFC 5322 section 2.2.3), malloc'ed; *body_r points to
   what follows the empty line. */
static inline char *testmsg_unfold(const char *msg, const char **body_r)
{
	size_t len = strlen(msg), off = 0;
	char *h = malloc(len + 1);
	const char *p = msg;

	*body_r = msg + len;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t l = eol ? (size_t)(eol - p) : strlen(p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0) {
			*body_r = eol ? eol + 1 : p + strlen(p);
			break;
		}
		if ((*p == ' ' || *p == '\t') && off > 0)
			off--; /* join with the line before: drop its '\n' */
		memcpy(h + off, p, l);
		off += l;
		h[off++] = '\n';
		p = eol ? eol + 1 : p + strlen(p);
	}
	h[off] = '\0';
	return h;
}

/* Replace the message by a whole message text (test_set "message"). */
static inline void testmsg_set_text(struct testmsg *t, const char *text)
{
	const char *body;
	char *h = testmsg_unfold(text, &body);

	testmsg_clear_headers(t);
	testmsg_parse_headers(t, h);
	free(h);
	free(t->owned_body);
	t->owned_body = strdup(body);
	t->body = t->owned_body;
	t->m.size = strlen(text);
}

/* The actions of a result as one line: "keep[\\Seen] fileinto:Junk:copy
   redirect:a@b vacation:...", or "error: ..." followed by the actions. */
static inline void testmsg_summary(const struct sieve_result *res, char *out, size_t size)
{
	static const char *const names[] = {"keep",   "fileinto", "redirect",
	                                    "reject", "ereject",  "vacation"};
	size_t off = 0;

	out[0] = '\0';
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int w_ = snprintf(out + off, off < size ? size - off : 0, __VA_ARGS__);            \
		if (w_ > 0)                                                                        \
			off += (size_t)w_;                                                         \
	} while (0)
	if (res->error)
		PUT("error ");
	for (size_t i = 0; i < res->nactions; i++) {
		const struct sieve_action *a = &res->actions[i];
		PUT("%s%s", i ? " " : "", names[a->type]);
		if (a->type != SIEVE_ACT_KEEP)
			PUT(":%s", a->target);
		if (a->copy)
			PUT(":copy");
		if (a->create)
			PUT(":create");
		if (a->nflags) {
			PUT("[");
			for (size_t f = 0; f < a->nflags; f++)
				PUT("%s%s", f ? " " : "", a->flags[f]);
			PUT("]");
		}
		if (a->type == SIEVE_ACT_VACATION) {
			PUT("|%s|%llu", a->subject, (unsigned long long)a->seconds);
			if (a->from)
				PUT("|from=%s", a->from);
			if (a->skip)
				PUT("|skip=%s", a->skip);
		}
	}
	for (size_t i = 0; i < res->nedits; i++) {
		const struct sieve_edit *e = &res->edits[i];
		PUT(" %s:%s", e->add ? "add" : "del", e->name);
		if (e->value)
			PUT("=%s", e->value);
		for (size_t k = 0; k < e->nvalues; k++)
			PUT("=%s", e->values[k]);
	}
#undef PUT
}

#endif
