#include "mime/mime-parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime-header.h"

/* Bytes kept from the start of each line: enough for a field name and its
   colon, and for "--" boundary "--" (RFC 2046 allows 70 boundary bytes;
   we accept up to MAX_BOUNDARY). The rest of a long line is streamed. */
#define LINE_KEEP    1024
#define MAX_BOUNDARY 200

enum line_role {
	ROLE_NONE,     /* not classified yet */
	ROLE_FIELD,    /* first line of a header field */
	ROLE_CONT,     /* continuation line of the open field */
	ROLE_BLANK,    /* the empty line ending a header */
	ROLE_BOUNDARY, /* a delimiter line of an open multipart */
	ROLE_BODY,     /* anything else, in a body */
};

struct boundary {
	char *str;
	size_t len;
	struct mime_part *part;
};

struct mime_parser {
	struct mime_limits limits;
	uint64_t off;      /* offset of the next byte */
	uint64_t lf_count; /* LFs before off */
	struct mime_part *root, *cur;
	bool in_header;
	bool broken;
	unsigned int part_count;

	/* the current line */
	uint64_t line_start;
	uint64_t line_lfs; /* lf_count at line_start */
	uint64_t line_len; /* bytes of it seen so far */
	enum line_role role;
	size_t bnd_idx;
	bool bnd_close;
	unsigned int prev_term_len; /* of the previous line: 0, 1 (LF) or 2 (CRLF) */
	bool prev_line_empty;       /* the previous line was only its line end */
	bool last_cr;               /* the byte before the LF was a CR */
	unsigned char last_byte;    /* the last byte fed */
	char line[LINE_KEEP];

	/* the header field being collected */
	bool field_open;
	bool field_trunc;
	uint64_t field_start;
	struct buf field_name;
	struct buf field_value;
	size_t fields_kept;
	size_t bytes_kept;

	ARRAY(struct boundary) bnds;
};

void mime_limits_default(struct mime_limits *limits_r)
{
	limits_r->max_depth = 100;
	limits_r->max_parts = 10000;
	limits_r->max_field_value = 64 * 1024;
	limits_r->max_fields = 10000;
	limits_r->max_header_bytes = 1024 * 1024;
}

/* Children are prepended while parsing (O(1)) and put in order at the
   end; hdr.lines and body.lines hold the LF count at their start until the
   range is closed. */
static struct mime_part *part_new(struct mime_parser *p, struct mime_part *parent, uint64_t start,
                                  uint64_t lfs)
{
	struct mime_part *part = xcalloc(1, sizeof(*part));

	part->parent = parent;
	part->depth = parent == NULL ? 0 : parent->depth + 1;
	part->hdr.start = start;
	part->hdr.lines = lfs;
	if (parent != NULL) {
		part->next = parent->children;
		parent->children = part;
	}
	p->part_count++;
	return part;
}

struct mime_parser *mime_parser_new(const struct mime_limits *limits)
{
	struct mime_parser *p = xcalloc(1, sizeof(*p));

	if (limits != NULL)
		p->limits = *limits;
	else
		mime_limits_default(&p->limits);
	if (p->limits.max_depth == 0)
		p->limits.max_depth = 1;
	p->root = part_new(p, NULL, 0, 0);
	p->cur = p->root;
	p->in_header = true;
	return p;
}

static void trim_value(struct buf *b)
{
	size_t start = 0, end = b->len;

	while (start < end && strchr(" \t\r\n", b->data[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", b->data[end - 1]) != NULL)
		end--;
	b->len = end;
	b->data[end] = '\0';
	buf_consume(b, start);
}

static void set_once(char **dst, const struct buf *value)
{
	if (*dst == NULL)
		*dst = xstrndup(value->data, value->len);
}

static void mime_field_apply_type(struct mime_part *part, const struct buf *value)
{
	if (part->has_content_type)
		return;
	if (mime_content_type_parse(value->data, value->len, &part->type, &part->subtype,
	                            &part->params, &part->param_count) == 0)
		part->has_content_type = true;
}

/* The fields that shape the tree or BODYSTRUCTURE are parsed as they
   complete, whether or not the field is kept; the first one wins. */
static void mime_field_apply(struct mime_part *part, const char *name, const struct buf *value)
{
	if (strncasecmp(name, "Content-", 8) != 0)
		return;
	name += 8;
	if (strcasecmp(name, "Type") == 0)
		mime_field_apply_type(part, value);
	else if (strcasecmp(name, "Transfer-Encoding") == 0)
		set_once(&part->encoding, value);
	else if (strcasecmp(name, "ID") == 0)
		set_once(&part->id, value);
	else if (strcasecmp(name, "Description") == 0)
		set_once(&part->description, value);
	else if (strcasecmp(name, "MD5") == 0)
		set_once(&part->md5, value);
	else if (strcasecmp(name, "Language") == 0)
		set_once(&part->language, value);
	else if (strcasecmp(name, "Location") == 0)
		set_once(&part->location, value);
	else if (strcasecmp(name, "Disposition") == 0 && part->disposition == NULL)
		(void)mime_disposition_parse(value->data, value->len, &part->disposition,
		                             &part->disp_params, &part->disp_param_count);
}

static void field_keep(struct mime_parser *p, uint64_t end)
{
	struct mime_part *part = p->cur;
	size_t bytes = p->field_name.len + p->field_value.len;
	struct mime_field *f;

	if (p->fields_kept >= p->limits.max_fields ||
	    bytes > p->limits.max_header_bytes - p->bytes_kept) {
		part->flags |= MIME_PART_FLAG_FIELDS_DROPPED;
		p->broken = true;
		return;
	}
	f = array_push(&part->fields);
	f->start = p->field_start;
	f->end = end;
	f->truncated = p->field_trunc;
	f->value_len = p->field_value.len;
	f->name = buf_steal(&p->field_name);
	f->value = buf_steal(&p->field_value);
	p->fields_kept++;
	p->bytes_kept += bytes;
}

/* Close the open field, which ended just before offset end. */
static void field_finish(struct mime_parser *p, uint64_t end)
{
	if (!p->field_open)
		return;
	p->field_open = false;
	trim_value(&p->field_value);
	mime_field_apply(p->cur, buf_cstr(&p->field_name), &p->field_value);
	field_keep(p, end);
	buf_clear(&p->field_name);
	buf_clear(&p->field_value);
}

static void field_append(struct mime_parser *p, const char *data, size_t len)
{
	size_t room = p->limits.max_field_value - p->field_value.len;

	if (len > room) {
		len = room;
		p->field_trunc = true;
	}
	buf_append(&p->field_value, data, len);
}

/* Longest open boundary that the line starts with, after "--" (prefix
   match, so trailing junk on a delimiter line is tolerated). Returns the
   stack index or -1. */
static long boundary_find(const struct mime_parser *p, const char *line, size_t len)
{
	long best = -1;

	if (len < 2 || line[0] != '-' || line[1] != '-')
		return -1;
	for (size_t i = p->bnds.count; i-- > 0;) {
		const struct boundary *b = &p->bnds.items[i];

		if (b->len <= len - 2 && memcmp(line + 2, b->str, b->len) == 0 &&
		    (best < 0 || p->bnds.items[best].len < b->len))
			best = (long)i;
	}
	return best;
}

static bool check_boundary(struct mime_parser *p, size_t kept)
{
	long idx = boundary_find(p, p->line, kept);
	size_t after;

	if (idx < 0)
		return false;
	p->bnd_idx = (size_t)idx;
	after = 2 + p->bnds.items[idx].len;
	p->bnd_close = kept >= after + 2 && p->line[after] == '-' && p->line[after + 1] == '-';
	p->role = ROLE_BOUNDARY;
	return true;
}

/* A field name (RFC 5322 section 2.2: printable ASCII but ':'), with the
   obsolete whitespace before the colon (section 4.5). Returns the name
   length, or 0 if the line does not start a field. */
static size_t field_name_len(const char *line, size_t kept, size_t *colon_r)
{
	const char *colon = memchr(line, ':', kept);
	size_t n;

	if (colon == NULL)
		return 0;
	*colon_r = (size_t)(colon - line);
	n = *colon_r;
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)line[i] <= ' ' || (unsigned char)line[i] >= 0x7f)
			return 0;
	}
	return n;
}

static void range_close(struct mime_range *r, uint64_t end, uint64_t lfs)
{
	r->size = end > r->start ? end - r->start : 0;
	r->lines = lfs - r->lines;
}

/* Close a body at end; lfs is the LF count before end. IMAP counts text
   lines, so a last line without its own line end counts too. */
static void part_end(struct mime_parser *p, struct mime_part *part, uint64_t end, uint64_t lfs,
                     bool ends_with_lf)
{
	if (end < part->body.start)
		end = part->body.start;
	range_close(&part->body, end, lfs);
	if (part->body.size > 0 && !ends_with_lf)
		part->body.lines++;
}

static bool encoding_is_identity(const char *enc)
{
	/* RFC 2046 section 5.2.1: message/rfc822 is never encoded; if it is,
	   the body is opaque to us */
	return enc == NULL || strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 ||
	       strcasecmp(enc, "binary") == 0;
}

static void set_default_type(struct mime_part *part)
{
	bool digest = part->parent != NULL && part->parent->kind == MIME_PART_MULTIPART &&
	              mime_part_is(part->parent, "multipart", "digest");

	/* RFC 2045 section 5.2, RFC 2046 section 5.1.5 */
	part->type = xstrdup(digest ? "message" : "text");
	part->subtype = xstrdup(digest ? "rfc822" : "plain");
}

static void push_boundary(struct mime_parser *p, struct mime_part *part, const char *b)
{
	size_t len = strlen(b);

	if (len == 0 || len > MAX_BOUNDARY)
		return;
	array_append(&p->bnds, ((struct boundary){.str = xstrdup(b), .len = len, .part = part}));
	part->kind = MIME_PART_MULTIPART;
}

static bool can_nest(struct mime_parser *p, struct mime_part *part)
{
	if (part->depth + 1 < p->limits.max_depth && p->part_count < p->limits.max_parts)
		return true;
	part->flags |= MIME_PART_FLAG_CAPPED;
	p->broken = true;
	return false;
}

/* The header of the current part ended at end (lfs LFs before it); its
   body starts there. */
static void header_end(struct mime_parser *p, uint64_t end, uint64_t lfs, bool blank)
{
	struct mime_part *part = p->cur;
	const char *b;

	field_finish(p, blank ? p->line_start : end);
	range_close(&part->hdr, end, lfs);
	if (!blank) {
		part->flags |= MIME_PART_FLAG_NO_BLANK_LINE;
		p->broken = true;
	}
	if (!part->has_content_type)
		set_default_type(part);
	part->body.start = end;
	part->body.lines = lfs;
	p->in_header = false;
	if (mime_part_is(part, "multipart", NULL)) {
		b = mime_param_get(part->params, part->param_count, "boundary");
		if (b != NULL && can_nest(p, part))
			push_boundary(p, part, b);
	} else if ((mime_part_is(part, "message", "rfc822") ||
	            mime_part_is(part, "message", "global")) &&
	           encoding_is_identity(part->encoding) && can_nest(p, part)) {
		part->kind = MIME_PART_MESSAGE;
		p->cur = part_new(p, part, end, lfs);
		p->in_header = true;
	}
}

/* Close the parts inside the multipart of stack entry idx, which a
   delimiter line at line_start ends. */
static void boundary_hit(struct mime_parser *p)
{
	struct boundary *b = &p->bnds.items[p->bnd_idx];
	struct mime_part *mp = b->part, *x;
	uint64_t end = p->line_start - p->prev_term_len;

	for (x = p->cur; x != mp; x = x->parent)
		part_end(p, x, end, p->line_start > x->body.start ? p->line_lfs - 1 : p->line_lfs,
		         p->prev_line_empty);
	/* inner multiparts closed without their close delimiter */
	for (size_t i = p->bnds.count; i-- > p->bnd_idx + 1;) {
		p->bnds.items[i].part->flags |= MIME_PART_FLAG_UNTERMINATED;
		p->broken = true;
		free(p->bnds.items[i].str);
	}
	p->bnds.count = p->bnd_idx + 1;
	p->cur = mp;
	p->in_header = false;
	if (p->bnd_close) {
		/* RFC 2046 section 5.1.1: the epilogue follows, where a
		   delimiter means nothing */
		free(b->str);
		p->bnds.count--;
	} else if (p->part_count < p->limits.max_parts) {
		p->cur = part_new(p, mp, p->off, p->lf_count);
		p->in_header = true;
	} else {
		mp->flags |= MIME_PART_FLAG_CAPPED;
		p->broken = true;
	}
}

static void field_begin(struct mime_parser *p, size_t name_len, size_t colon, size_t kept)
{
	field_finish(p, p->line_start);
	p->field_open = true;
	p->field_trunc = false;
	p->field_start = p->line_start;
	buf_append(&p->field_name, p->line, name_len);
	field_append(p, p->line + colon + 1, kept - colon - 1);
}

/* Decide what the current line is from its first bytes (kept of them, the
   whole line when complete). A header line that is not a field ends the
   header without an empty line and is classified again as body. */
static void classify(struct mime_parser *p, bool complete)
{
	size_t kept = p->line_len < LINE_KEEP ? (size_t)p->line_len : LINE_KEEP;
	size_t name_len, colon;

	while (p->in_header) {
		if (p->bnds.count > 0 && check_boundary(p, kept))
			return;
		if (complete && (kept == 1 || (kept == 2 && p->line[0] == '\r')) &&
		    p->line[kept - 1] == '\n') {
			p->role = ROLE_BLANK;
			return;
		}
		if ((p->line[0] == ' ' || p->line[0] == '\t') && p->field_open) {
			p->role = ROLE_CONT;
			field_append(p, p->line, kept);
			return;
		}
		name_len = field_name_len(p->line, kept, &colon);
		if (name_len > 0) {
			p->role = ROLE_FIELD;
			field_begin(p, name_len, colon, kept);
			return;
		}
		header_end(p, p->line_start, p->line_lfs, false);
	}
	p->role = ROLE_BODY;
	if (p->bnds.count > 0)
		(void)check_boundary(p, kept);
}

static bool line_collects(const struct mime_parser *p)
{
	return p->in_header && (p->role == ROLE_FIELD || p->role == ROLE_CONT);
}

static void line_add(struct mime_parser *p, const unsigned char *data, size_t len)
{
	size_t keep = 0;

	if (!p->in_header && p->bnds.count == 0) {
		/* plain body: nothing to look at */
		p->line_len += len;
		return;
	}
	if (p->line_len < LINE_KEEP) {
		keep = LINE_KEEP - (size_t)p->line_len;
		if (keep > len)
			keep = len;
		memcpy(p->line + p->line_len, data, keep);
	}
	for (size_t i = 0; p->in_header && i < len; i++) {
		if (data[i] >= 0x80 || data[i] == 0) {
			p->cur->flags |= MIME_PART_FLAG_HDR_8BIT;
			break;
		}
	}
	p->line_len += len;
	if (p->role == ROLE_NONE) {
		if (p->line_len < LINE_KEEP)
			return;
		classify(p, false);
	}
	if (line_collects(p) && len > keep)
		field_append(p, (const char *)data + keep, len - keep);
}

/* Remove the line terminator that was appended to the field value. */
static void strip_terminator(struct buf *b)
{
	if (b->len > 0 && b->data[b->len - 1] == '\n')
		b->len--;
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->len--;
	b->data[b->len] = '\0';
}

/* The current line ended (complete is false for a last line without LF,
   at finish time). */
static void line_end(struct mime_parser *p, bool complete)
{
	if (p->role == ROLE_NONE && (p->in_header || p->bnds.count > 0))
		classify(p, complete);
	switch (p->role) {
	case ROLE_FIELD:
	case ROLE_CONT:
		if (p->in_header)
			strip_terminator(&p->field_value);
		break;
	case ROLE_BLANK:
		header_end(p, p->off, p->lf_count, true);
		break;
	case ROLE_BOUNDARY:
		/* the delimiter ends the header, and any empty nested
		   message header it opens */
		while (p->in_header)
			header_end(p, p->line_start, p->line_lfs, false);
		boundary_hit(p);
		break;
	default:
		break;
	}
	p->prev_term_len = complete ? (p->last_cr ? 2 : 1) : 0;
	p->prev_line_empty = complete && p->line_len == p->prev_term_len;
	p->role = ROLE_NONE;
	p->line_len = 0;
}

void mime_parser_feed(struct mime_parser *p, const void *data, size_t len)
{
	const unsigned char *d = data;

	while (len > 0) {
		const unsigned char *nl = memchr(d, '\n', len);
		size_t seg = nl != NULL ? (size_t)(nl - d) + 1 : len;

		if (p->line_len == 0) {
			p->line_start = p->off;
			p->line_lfs = p->lf_count;
		}
		line_add(p, d, seg);
		p->off += seg;
		if (nl != NULL) {
			p->last_cr = seg >= 2 ? d[seg - 2] == '\r' : p->last_byte == '\r';
			p->lf_count++;
			line_end(p, true);
		}
		p->last_byte = d[seg - 1];
		d += seg;
		len -= seg;
	}
}

static void children_reverse(struct mime_part *part)
{
	struct mime_part *prev = NULL, *c = part->children, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		c->next = prev;
		prev = c;
		children_reverse(c);
	}
	part->children = prev;
	if (part->children == NULL && part->kind != MIME_PART_LEAF) {
		/* a multipart without any delimiter line is a leaf */
		part->kind = MIME_PART_LEAF;
	}
}

int mime_parser_finish(struct mime_parser *p, struct mime_part **root_r)
{
	if (p->line_len > 0)
		line_end(p, false);
	/* a message cut inside a header: the nested headers are all empty */
	while (p->in_header)
		header_end(p, p->off, p->lf_count, false);
	for (struct mime_part *x = p->cur; x != NULL; x = x->parent)
		part_end(p, x, p->off, p->lf_count, p->last_byte == '\n');
	for (size_t i = 0; i < p->bnds.count; i++) {
		p->bnds.items[i].part->flags |= MIME_PART_FLAG_UNTERMINATED;
		p->broken = true;
	}
	children_reverse(p->root);
	*root_r = p->root;
	p->root = NULL;
	return p->broken ? 1 : 0;
}

void mime_parser_free(struct mime_parser **pp)
{
	struct mime_parser *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->bnds.count; i++)
		free(p->bnds.items[i].str);
	array_free(&p->bnds);
	buf_free(&p->field_name);
	buf_free(&p->field_value);
	if (p->root != NULL) {
		/* never finished: the lists are still reversed, which does not
		   matter for freeing */
		mime_part_free(&p->root);
	}
	free(p);
	*pp = NULL;
}

struct mime_part *mime_parse(const void *data, size_t len, const struct mime_limits *limits)
{
	struct mime_parser *p = mime_parser_new(limits);
	struct mime_part *root;

	mime_parser_feed(p, data, len);
	(void)mime_parser_finish(p, &root);
	mime_parser_free(&p);
	return root;
}
