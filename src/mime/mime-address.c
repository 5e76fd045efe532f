#include "mime/mime-address.h"

#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime-rfc822.h"

#define MAX_ADDRESSES 10000

struct addr_list {
	ARRAY(struct mime_address); /* items, count */
};

/* The words before a '<', ':' or '@': as a display name (words joined by
   one space) and as a local part (joined as written, quoted strings kept
   quoted). */
struct words {
	struct buf display;
	struct buf local;
	struct buf comment;
	size_t count;
};

static struct mime_address *list_add(struct addr_list *l)
{
	return array_push(l);
}

static char *steal_or_null(struct buf *b)
{
	if (b->len == 0) {
		buf_free(b);
		return NULL;
	}
	return buf_steal(b);
}

static void quote_local(struct buf *out, const char *s, size_t len)
{
	buf_append_char(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, s[i]);
	}
	buf_append_char(out, '"');
}

static void words_read(struct rfc822_reader *r, struct words *w)
{
	struct buf word = BUF_INIT;

	for (;;) {
		const char *before = r->p;
		bool spaced;

		rfc822_skip_cfws(r, &w->comment);
		spaced = r->p != before;
		if (rfc822_eof(r))
			break;
		buf_clear(&word);
		if (*r->p == '.') {
			r->p++;
			buf_append_char(&w->display, '.');
			buf_append_char(&w->local, '.');
			continue;
		}
		if (rfc822_read_quoted(r, &word) > 0) {
			quote_local(&w->local, word.data == NULL ? "" : word.data, word.len);
		} else if (rfc822_read_atom(r, &word) > 0) {
			buf_append(&w->local, word.data, word.len);
		} else {
			break;
		}
		if (w->display.len > 0 && (spaced || w->display.data[w->display.len - 1] != '.'))
			buf_append_char(&w->display, ' ');
		buf_append(&w->display, word.data == NULL ? "" : word.data, word.len);
		w->count++;
	}
	buf_free(&word);
}

static void words_free(struct words *w)
{
	buf_free(&w->display);
	buf_free(&w->local);
	buf_free(&w->comment);
}

static void domain_read(struct rfc822_reader *r, struct buf *out, struct buf *comment)
{
	for (;;) {
		rfc822_skip_cfws(r, comment);
		if (rfc822_eof(r))
			return;
		if (*r->p == '.') {
			buf_append_char(out, '.');
			r->p++;
		} else if (rfc822_read_domain_literal(r, out) == 0 &&
		           rfc822_read_atom(r, out) == 0) {
			return;
		}
	}
}

static void address_finish(struct mime_address *a, struct buf *local, struct buf *domain)
{
	a->mailbox = buf_steal(local);
	a->domain = buf_steal(domain);
}

/* "<" [route ":"] addr-spec ">", at the '<'. */
static void angle_read(struct rfc822_reader *r, struct mime_address *a)
{
	struct buf route = BUF_INIT, domain = BUF_INIT;
	struct words w = {BUF_INIT, BUF_INIT, BUF_INIT, 0};

	r->p++;
	rfc822_skip_cfws(r, NULL);
	/* RFC 5322 section 4.4 obs-route: "@a,@b:" */
	while (!rfc822_eof(r) && (*r->p == '@' || *r->p == ',')) {
		buf_append_char(&route, *r->p++);
		domain_read(r, &route, NULL);
	}
	if (!rfc822_eof(r) && *r->p == ':' && route.len > 0)
		r->p++;
	a->route = steal_or_null(&route);
	words_read(r, &w);
	if (!rfc822_eof(r) && *r->p == '@') {
		r->p++;
		domain_read(r, &domain, NULL);
	}
	address_finish(a, &w.local, &domain);
	while (!rfc822_eof(r) && *r->p != '>' && *r->p != ',')
		r->p++;
	if (!rfc822_eof(r) && *r->p == '>')
		r->p++;
	words_free(&w);
}

static void mailbox_read(struct rfc822_reader *r, struct addr_list *l, struct words *w)
{
	struct mime_address *a = list_add(l);
	struct buf domain = BUF_INIT;

	if (!rfc822_eof(r) && *r->p == '<') {
		a->name = steal_or_null(&w->display);
		angle_read(r, a);
		/* a comment after the angle address can still name it */
		rfc822_skip_cfws(r, &w->comment);
		if (a->name == NULL)
			a->name = steal_or_null(&w->comment);
		return;
	}
	if (!rfc822_eof(r) && *r->p == '@') {
		r->p++;
		domain_read(r, &domain, &w->comment);
	}
	rfc822_skip_cfws(r, &w->comment);
	a->name = steal_or_null(&w->comment);
	address_finish(a, &w->local, &domain);
}

static void address_read(struct rfc822_reader *r, struct addr_list *l, bool in_group);

static void group_read(struct rfc822_reader *r, struct addr_list *l, struct words *w)
{
	struct mime_address *a = list_add(l);

	a->mailbox = buf_steal(&w->display);
	a->group_start = true;
	r->p++;
	for (;;) {
		rfc822_skip_cfws(r, NULL);
		if (rfc822_eof(r) || *r->p == ';')
			break;
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		address_read(r, l, true);
	}
	if (!rfc822_eof(r))
		r->p++;
	list_add(l)->group_end = true;
}

static void address_read(struct rfc822_reader *r, struct addr_list *l, bool in_group)
{
	struct words w = {BUF_INIT, BUF_INIT, BUF_INIT, 0};
	const char *start = r->p;

	words_read(r, &w);
	if (!rfc822_eof(r) && *r->p == ':' && !in_group && l->count + 2 < MAX_ADDRESSES)
		group_read(r, l, &w);
	else if (w.count > 0 || (!rfc822_eof(r) && (*r->p == '<' || *r->p == '@')))
		mailbox_read(r, l, &w);
	words_free(&w);
	/* junk that starts no address: skip it to make progress */
	if (r->p == start && !rfc822_eof(r))
		r->p++;
}

void mime_address_list_parse(const char *value, size_t len, struct mime_address **list_r,
                             size_t *count_r)
{
	struct rfc822_reader r;
	struct addr_list l = {ARRAY_INIT};

	rfc822_reader_init(&r, value, len);
	for (;;) {
		rfc822_skip_cfws(&r, NULL);
		if (rfc822_eof(&r) || l.count >= MAX_ADDRESSES)
			break;
		if (*r.p == ',' || *r.p == ';') {
			r.p++;
			continue;
		}
		address_read(&r, &l, false);
	}
	*list_r = array_steal(&l, count_r);
}

void mime_address_list_free(struct mime_address **list, size_t count)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free((*list)[i].name);
		free((*list)[i].route);
		free((*list)[i].mailbox);
		free((*list)[i].domain);
	}
	free(*list);
	*list = NULL;
}
