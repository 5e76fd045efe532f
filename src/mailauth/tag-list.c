/* The tag=value list parser of RFC 6376 section 3.2. */

#include "mailauth/tag-list.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct tag_parser {
	const char *s;
	size_t len, pos;
	unsigned flags;
	struct tag_list *list;
};

static bool is_ws(unsigned char c)
{
	/* FWS is [*WSP CRLF] 1*WSP; folding CR and LF are whitespace here. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

static bool is_value_char(unsigned char c)
{
	/* VALCHAR (%x21-3A / %x3C-7E) plus UTF-8 bytes (RFC 8616). */
	return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80;
}

static void skip_ws(struct tag_parser *p)
{
	while (p->pos < p->len && is_ws((unsigned char)p->s[p->pos]))
		p->pos++;
}

static int parse_name(struct tag_parser *p, size_t *start_r, size_t *end_r, const char **error_r)
{
	*start_r = p->pos;
	if (p->pos >= p->len || !is_alpha((unsigned char)p->s[p->pos])) {
		*error_r = "bad tag name";
		return -1;
	}
	while (p->pos < p->len && is_name_char((unsigned char)p->s[p->pos]))
		p->pos++;
	*end_r = p->pos;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '=') {
		*error_r = "missing '=' after tag name";
		return -1;
	}
	p->pos++;
	return 0;
}

/* Scan the value up to ';' or the end; whitespace around it is excluded. */
static int parse_value(struct tag_parser *p, size_t *start_r, size_t *end_r, const char **error_r)
{
	skip_ws(p);
	*start_r = p->pos;
	*end_r = p->pos;
	while (p->pos < p->len && p->s[p->pos] != ';') {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (is_value_char(c))
			*end_r = p->pos;
		else if (!is_ws(c)) {
			*error_r = "bad character in tag value";
			return -1;
		}
	}
	return 0;
}

static bool has_tag(const struct tag_list *list, const char *name, size_t len)
{
	for (size_t i = 0; i < list->tags.count; i++) {
		if (strlen(list->tags.items[i].name) == len &&
		    memcmp(list->tags.items[i].name, name, len) == 0)
			return true;
	}
	return false;
}

static int parse_spec(struct tag_parser *p, const char **error_r)
{
	size_t name_start, name_end, value_start, value_end;
	struct tag *tag;

	if (parse_name(p, &name_start, &name_end, error_r) < 0 ||
	    parse_value(p, &value_start, &value_end, error_r) < 0)
		return -1;
	if (has_tag(p->list, p->s + name_start, name_end - name_start)) {
		*error_r = "duplicate tag";
		return -1;
	}
	if (p->list->tags.count >= TAG_LIST_MAX_TAGS) {
		*error_r = "too many tags";
		return -1;
	}
	tag = array_push(&p->list->tags);
	tag->name = xstrndup(p->s + name_start, name_end - name_start);
	tag->value = xstrndup(p->s + value_start, value_end - value_start);
	tag->value_len = value_end - value_start;
	tag->value_start = value_start;
	tag->value_end = value_end;
	return 0;
}

static int parse_all(struct tag_parser *p, const char **error_r)
{
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len)
			return 0;
		if (p->s[p->pos] == ';') {
			if ((p->flags & TAG_LIST_ALLOW_EMPTY) == 0) {
				*error_r = "empty tag";
				return -1;
			}
			p->pos++;
			continue;
		}
		if (parse_spec(p, error_r) < 0)
			return -1;
		if (p->pos < p->len)
			p->pos++; /* the ';' that ended the value */
	}
}

int tag_list_parse_flags(const char *s, size_t len, unsigned flags, struct tag_list *list_r,
                         const char **error_r)
{
	struct tag_parser p = {.s = s, .len = len, .flags = flags, .list = list_r};

	*list_r = (struct tag_list){ARRAY_INIT};
	if (len > TAG_LIST_MAX_LEN) {
		*error_r = "tag list too long";
		return -1;
	}
	if (memchr(s, '\0', len) != NULL) {
		*error_r = "NUL in tag list";
		return -1;
	}
	if (parse_all(&p, error_r) < 0) {
		tag_list_free(list_r);
		return -1;
	}
	return 0;
}

int tag_list_parse(const char *s, size_t len, struct tag_list *list_r, const char **error_r)
{
	return tag_list_parse_flags(s, len, 0, list_r, error_r);
}

const struct tag *tag_list_get(const struct tag_list *list, const char *name)
{
	for (size_t i = 0; i < list->tags.count; i++) {
		if (strcmp(list->tags.items[i].name, name) == 0)
			return &list->tags.items[i];
	}
	return NULL;
}

const char *tag_list_value(const struct tag_list *list, const char *name)
{
	const struct tag *tag = tag_list_get(list, name);

	return tag == NULL ? NULL : tag->value;
}

void tag_value_compact(const char *value, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (!is_ws((unsigned char)value[i]))
			buf_append_char(out, value[i]);
	}
	buf_reserve(out, 0);
}

void tag_list_free(struct tag_list *list)
{
	for (size_t i = 0; i < list->tags.count; i++) {
		free(list->tags.items[i].name);
		free(list->tags.items[i].value);
	}
	array_free(&list->tags);
}
