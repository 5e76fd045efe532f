#include "mime/mime-section.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/xalloc.h"
#include "mime/mime-rfc822.h"

void mime_section_free(struct mime_section **secp)
{
	struct mime_section *sec = *secp;

	if (sec == NULL)
		return;
	for (size_t i = 0; i < sec->fields.count; i++)
		free(sec->fields.items[i]);
	array_free(&sec->fields);
	free(sec);
	*secp = NULL;
}

static bool take(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *p) < n || strncasecmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static int parse_path(const char **p, const char *end, struct mime_section *sec)
{
	while (*p < end && **p >= '1' && **p <= '9') {
		unsigned long n = 0;

		while (*p < end && **p >= '0' && **p <= '9' && n < 1000000)
			n = n * 10 + (unsigned long)(*(*p)++ - '0');
		if (n >= 1000000 || sec->path_len == MIME_SECTION_MAX_PATH)
			return -1;
		sec->path[sec->path_len++] = (unsigned int)n;
		if (*p == end)
			return 0;
		if (**p != '.')
			return -1;
		if (++(*p) == end)
			return -1;
	}
	return 0;
}

/* IMAP has no comments: only spaces separate the header-list names */
static void skip_sp(struct rfc822_reader *r)
{
	while (!rfc822_eof(r) && *r->p == ' ')
		r->p++;
}

/* "(" astring *(SP astring) ")"; RFC 3501 section 9 header-list */
static int parse_field_list(const char *p, const char *end, struct mime_section *sec)
{
	struct rfc822_reader r;
	struct buf name = BUF_INIT;
	int ret = -1;

	rfc822_reader_init(&r, p, (size_t)(end - p));
	skip_sp(&r);
	if (rfc822_eof(&r) || *r.p++ != '(')
		return -1;
	for (;;) {
		skip_sp(&r);
		if (rfc822_eof(&r) || sec->fields.count == MIME_SECTION_MAX_FIELDS)
			goto out;
		if (*r.p == ')')
			break;
		if (rfc822_read_quoted(&r, &name) == 0 && rfc822_read_atom(&r, &name) == 0)
			goto out;
		array_append(&sec->fields, buf_steal(&name));
	}
	r.p++;
	ret = r.p == r.end && sec->fields.count > 0 ? 0 : -1;
out:
	buf_free(&name);
	return ret;
}

static int parse_text(const char *p, const char *end, struct mime_section *sec)
{
	if (p == end)
		return 0;
	if (take(&p, end, "HEADER.FIELDS.NOT")) {
		sec->kind = MIME_SECTION_FIELDS_NOT;
		return parse_field_list(p, end, sec);
	}
	if (take(&p, end, "HEADER.FIELDS")) {
		sec->kind = MIME_SECTION_FIELDS;
		return parse_field_list(p, end, sec);
	}
	if (take(&p, end, "HEADER"))
		sec->kind = MIME_SECTION_HEADER;
	else if (take(&p, end, "TEXT"))
		sec->kind = MIME_SECTION_TEXT;
	else if (sec->path_len > 0 && take(&p, end, "MIME"))
		sec->kind = MIME_SECTION_MIME;
	else
		return -1;
	return p == end ? 0 : -1;
}

int mime_section_parse(const char *spec, size_t len, struct mime_section **sec_r,
                       const char **error_r)
{
	struct mime_section *sec = xcalloc(1, sizeof(*sec));
	const char *p = spec, *end = spec + len;

	if (parse_path(&p, end, sec) < 0 || parse_text(p, end, sec) < 0) {
		mime_section_free(&sec);
		*error_r = "invalid section";
		return -1;
	}
	*sec_r = sec;
	return 0;
}

static bool is_message(const struct mime_part *part)
{
	return part->parent == NULL || part->parent->kind == MIME_PART_MESSAGE;
}

/* One step of a part path (RFC 3501 section 6.4.5): inside a multipart
   the nth child; a message that is not multipart has only part 1, its own
   body. */
static const struct mime_part *path_step(const struct mime_part *container, unsigned int n)
{
	if (container->kind == MIME_PART_MULTIPART)
		return mime_part_child(container, n);
	if (is_message(container) && n == 1)
		return container;
	return NULL;
}

static const struct mime_part *resolve_path(const struct mime_part *root,
                                            const struct mime_section *sec)
{
	const struct mime_part *cur = root, *container = root;

	for (size_t i = 0; i < sec->path_len; i++) {
		cur = path_step(container, sec->path[i]);
		if (cur == NULL)
			return NULL;
		container = cur->kind == MIME_PART_MESSAGE ? cur->children : cur;
	}
	return cur;
}

struct extents {
	ARRAY(struct mime_extent); /* items, count */
	uint64_t size;
};

static void ext_add(struct extents *e, uint64_t offset, uint64_t size)
{
	if (size == 0)
		return;
	array_append(e, ((struct mime_extent){.offset = offset, .size = size}));
	e->size += size;
}

static bool field_listed(const struct mime_section *sec, const char *name)
{
	for (size_t i = 0; i < sec->fields.count; i++) {
		if (strcasecmp(sec->fields.items[i], name) == 0)
			return true;
	}
	return false;
}

static void header_fields(const struct mime_part *msg, const struct mime_section *sec,
                          struct extents *e)
{
	bool want = sec->kind == MIME_SECTION_FIELDS;

	for (size_t i = 0; i < msg->fields.count; i++) {
		const struct mime_field *f = &msg->fields.items[i];

		if (field_listed(sec, f->name) == want)
			ext_add(e, f->start, f->end - f->start);
	}
	ext_add(e, MIME_EXTENT_CRLF, 2);
}

/* top: no part path, the section names the whole message */
static void section_extents(const struct mime_part *part, bool top, const struct mime_section *sec,
                            struct extents *e)
{
	const struct mime_part *msg = part;

	if (sec->kind == MIME_SECTION_ALL) {
		if (top)
			ext_add(e, part->hdr.start, part->hdr.size + part->body.size);
		else
			ext_add(e, part->body.start, part->body.size);
		return;
	}
	if (sec->kind == MIME_SECTION_MIME) {
		ext_add(e, part->hdr.start, part->hdr.size);
		return;
	}
	/* HEADER and TEXT of a part name its encapsulated message */
	if (!top) {
		if (part->kind != MIME_PART_MESSAGE)
			return;
		msg = part->children;
	}
	if (sec->kind == MIME_SECTION_HEADER)
		ext_add(e, msg->hdr.start, msg->hdr.size);
	else if (sec->kind == MIME_SECTION_TEXT)
		ext_add(e, msg->body.start, msg->body.size);
	else
		header_fields(msg, sec, e);
}

int mime_section_resolve(const struct mime_part *root, const struct mime_section *sec,
                         struct mime_extent **ext_r, size_t *count_r, uint64_t *size_r,
                         const char **error_r)
{
	const struct mime_part *part = resolve_path(root, sec);
	struct extents e = {ARRAY_INIT, 0};

	if (part == NULL) {
		*error_r = "no such part";
		return -1;
	}
	section_extents(part, sec->path_len == 0, sec, &e);
	*ext_r = array_steal(&e, count_r);
	*size_r = e.size;
	return 0;
}

static int source_read(const struct mime_source *src, uint64_t offset, uint64_t len,
                       struct buf *out, const char **error_r)
{
	if (src->read != NULL)
		return src->read(src->ctx, offset, (size_t)len, out, error_r);
	if (offset > src->mem_len || len > src->mem_len - offset) {
		*error_r = "range outside the message";
		return -1;
	}
	buf_append(out, src->mem + offset, (size_t)len);
	return 0;
}

int mime_extents_read(const struct mime_source *src, const struct mime_extent *ext, size_t count,
                      uint64_t origin, uint64_t length, struct buf *out, const char **error_r)
{
	for (size_t i = 0; i < count && length > 0; i++) {
		uint64_t n;

		if (origin >= ext[i].size) {
			origin -= ext[i].size;
			continue;
		}
		n = ext[i].size - origin;
		if (n > length)
			n = length;
		if (ext[i].offset == MIME_EXTENT_CRLF)
			buf_append(out, &"\r\n"[origin], (size_t)n);
		else if (source_read(src, ext[i].offset + origin, n, out, error_r) < 0)
			return -1;
		length -= n;
		origin = 0;
	}
	return 0;
}
