#include "mime/mime-part.h"

#include <stdlib.h>
#include <strings.h>

#include "lib/buf.h"
#include "mime/mime-header.h"

static void part_free_fields(struct mime_part *part)
{
	for (size_t i = 0; i < part->fields.count; i++) {
		free(part->fields.items[i].name);
		free(part->fields.items[i].value);
	}
	array_free(&part->fields);
}

static void part_free_one(struct mime_part *part)
{
	part_free_fields(part);
	free(part->type);
	free(part->subtype);
	mime_params_free(&part->params, part->param_count);
	free(part->encoding);
	free(part->id);
	free(part->description);
	free(part->md5);
	free(part->language);
	free(part->location);
	free(part->disposition);
	mime_params_free(&part->disp_params, part->disp_param_count);
	free(part);
}

void mime_part_free(struct mime_part **partp)
{
	struct mime_part *part = *partp, *child, *next;

	if (part == NULL)
		return;
	/* Depth is capped by the parser (struct mime_limits), so recursion
	   is bounded. */
	for (child = part->children; child != NULL; child = next) {
		next = child->next;
		mime_part_free(&child);
	}
	part_free_one(part);
	*partp = NULL;
}

const struct mime_field *mime_part_field(const struct mime_part *part, const char *name)
{
	for (size_t i = 0; i < part->fields.count; i++) {
		if (strcasecmp(part->fields.items[i].name, name) == 0)
			return &part->fields.items[i];
	}
	return NULL;
}

const char *mime_param_get(const struct mime_param *params, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

bool mime_part_is(const struct mime_part *part, const char *type, const char *subtype)
{
	return strcasecmp(part->type, type) == 0 &&
	       (subtype == NULL || strcasecmp(part->subtype, subtype) == 0);
}

size_t mime_part_child_count(const struct mime_part *part)
{
	size_t n = 0;

	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		n++;
	return n;
}

struct mime_part *mime_part_child(const struct mime_part *part, size_t n)
{
	struct mime_part *c = part->children;

	if (n == 0)
		return NULL;
	while (c != NULL && --n > 0)
		c = c->next;
	return c;
}

static void dump_one(const struct mime_part *part, struct buf *out)
{
	static const char *const kinds[] = {"leaf", "multipart", "message"};

	buf_printf(out, "%*s%s %s/%s hdr=%llu+%llu/%llu body=%llu+%llu/%llu flags=%x\n",
	           (int)part->depth * 2, "", kinds[part->kind], part->type, part->subtype,
	           (unsigned long long)part->hdr.start, (unsigned long long)part->hdr.size,
	           (unsigned long long)part->hdr.lines, (unsigned long long)part->body.start,
	           (unsigned long long)part->body.size, (unsigned long long)part->body.lines,
	           part->flags);
	for (size_t i = 0; i < part->fields.count; i++) {
		const struct mime_field *f = &part->fields.items[i];

		buf_printf(out, "%*s  [%llu,%llu) %s%s: ", (int)part->depth * 2, "",
		           (unsigned long long)f->start, (unsigned long long)f->end,
		           f->truncated ? "(cut) " : "", f->name);
		buf_append(out, f->value, f->value_len);
		buf_append_char(out, '\n');
	}
}

void mime_part_dump(const struct mime_part *part, struct buf *out)
{
	dump_one(part, out);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		mime_part_dump(c, out);
}
