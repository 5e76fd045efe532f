#include "mime/mime-text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mime/mime-charset.h"
#include "mime/mime-decode.h"

/* Encoded bytes read from the source per step. */
#define TEXT_CHUNK      (64 * 1024)
#define HTML_MAX_TAG    16
#define HTML_MAX_ENTITY 32

enum html_state {
	H_TEXT,
	H_LT,    /* "<" */
	H_NAME,  /* tag name */
	H_ATTRS, /* inside a tag, after its name */
	H_QUOTE, /* quoted attribute value */
	H_BANG,  /* "<!" */
	H_COMMENT,
	H_DECL,   /* <!DOCTYPE ...>, <?xml ...?>, <![CDATA[ ... */
	H_ENTITY, /* "&" ... */
};

struct mime_html {
	enum html_state state;
	char tag[HTML_MAX_TAG + 1];
	size_t tag_len;
	bool closing;
	char quote;
	unsigned int dashes; /* "-" seen in a row (comments) */
	char entity[HTML_MAX_ENTITY + 1];
	size_t entity_len;
	char skip[HTML_MAX_TAG + 1]; /* inside <script> etc.: its name */
	/* output whitespace: held until visible text follows */
	bool space;
	unsigned int newlines;
	bool started; /* some text was written */
};

static const char *const skip_tags[] = {"script", "style", "title"};

static const char *const block_tags[] = {
    "address", "article", "aside",  "blockquote", "br",    "dd", "div",
    "dl",      "dt",      "footer", "form",       "h1",    "h2", "h3",
    "h4",      "h5",      "h6",     "header",     "hr",    "li", "nav",
    "ol",      "p",       "pre",    "section",    "table", "tr", "ul",
};

static const struct {
	const char *name;
	unsigned int cp;
} entities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", ' '},      {"copy", 0xa9},    {"reg", 0xae},     {"trade", 0x2122}, {"euro", 0x20ac},
    {"pound", 0xa3},    {"yen", 0xa5},     {"cent", 0xa2},    {"sect", 0xa7},    {"deg", 0xb0},
    {"plusmn", 0xb1},   {"times", 0xd7},   {"divide", 0xf7},  {"middot", 0xb7},  {"bull", 0x2022},
    {"hellip", 0x2026}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019},
    {"ldquo", 0x201c},  {"rdquo", 0x201d}, {"laquo", 0xab},   {"raquo", 0xbb},   {"shy", 0xad},
    {"zwnj", 0x200c},   {"zwj", 0x200d},   {"auml", 0xe4},    {"ouml", 0xf6},    {"uuml", 0xfc},
    {"Auml", 0xc4},     {"Ouml", 0xd6},    {"Uuml", 0xdc},    {"szlig", 0xdf},   {"eacute", 0xe9},
    {"egrave", 0xe8},   {"agrave", 0xe0},  {"aacute", 0xe1},  {"ccedil", 0xe7},
};

struct mime_html *mime_html_new(void)
{
	return xcalloc(1, sizeof(struct mime_html));
}

void mime_html_free(struct mime_html **h)
{
	free(*h);
	*h = NULL;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(name, list[i]) == 0)
			return true;
	}
	return false;
}

/* Visible text: write the held whitespace first. */
static void emit(struct mime_html *h, const char *s, size_t len, struct buf *out)
{
	if (h->skip[0] != '\0')
		return;
	if (h->started && h->newlines > 0)
		buf_append(out, "\n\n", h->newlines > 1 ? 2 : 1);
	else if (h->started && h->space)
		buf_append_char(out, ' ');
	h->newlines = 0;
	h->space = false;
	h->started = true;
	buf_append(out, s, len);
}

static void utf8_put(unsigned int cp, char b[4], size_t *len_r)
{
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = (char)cp;
		*len_r = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		*len_r = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		*len_r = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		*len_r = 4;
	}
}

/* The code point of entity name (without "&" and ";"), or 0. */
static unsigned int entity_value(const char *name)
{
	unsigned long v;
	char *end;

	if (name[0] == '#') {
		bool hex = name[1] == 'x' || name[1] == 'X';
		const char *digits = name + (hex ? 2 : 1);

		if (!isxdigit((unsigned char)digits[0]) || strlen(digits) > 8)
			return 0;
		v = strtoul(digits, &end, hex ? 16 : 10);
		return *end == '\0' ? (v == 0 || v > 0x10ffff ? 0xfffd : (unsigned int)v) : 0;
	}
	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
		if (strcmp(name, entities[i].name) == 0)
			return entities[i].cp;
	}
	return 0;
}

static void html_byte(struct mime_html *h, unsigned char c, struct buf *out);

static void entity_end(struct mime_html *h, unsigned char c, struct buf *out)
{
	unsigned int cp;
	char b[4];
	size_t n;

	h->entity[h->entity_len] = '\0';
	h->state = H_TEXT;
	cp = c == ';' ? entity_value(h->entity) : 0;
	if (cp == ' ') {
		h->space = true; /* &nbsp; is whitespace to a reader */
		return;
	}
	if (cp != 0) {
		utf8_put(cp, b, &n);
		emit(h, b, n, out);
		return;
	}
	emit(h, "&", 1, out);
	if (h->entity_len > 0)
		emit(h, h->entity, h->entity_len, out);
	if (c == ';')
		emit(h, ";", 1, out);
	else if (c != 0)
		html_byte(h, c, out);
}

static void entity_byte(struct mime_html *h, unsigned char c, struct buf *out)
{
	if ((isalnum(c) || (c == '#' && h->entity_len == 0)) && h->entity_len < HTML_MAX_ENTITY) {
		h->entity[h->entity_len++] = (char)c;
		return;
	}
	entity_end(h, c, out);
}

static void tag_end(struct mime_html *h)
{
	h->tag[h->tag_len] = '\0';
	h->state = H_TEXT;
	if (h->skip[0] != '\0') {
		if (h->closing && strcasecmp(h->tag, h->skip) == 0)
			h->skip[0] = '\0';
		return;
	}
	if (!h->closing && in_list(h->tag, skip_tags, sizeof(skip_tags) / sizeof(skip_tags[0]))) {
		memcpy(h->skip, h->tag, h->tag_len + 1);
		return;
	}
	if (in_list(h->tag, block_tags, sizeof(block_tags) / sizeof(block_tags[0]))) {
		bool br = strcasecmp(h->tag, "br") == 0;

		/* a paragraph gets an empty line, a list item a line of its own,
		   every <br> one more break */
		if (br)
			h->newlines++;
		else if (strcasecmp(h->tag, "li") == 0)
			h->newlines = h->newlines > 1 ? h->newlines : 1;
		else
			h->newlines = 2;
	} else {
		h->space = true; /* td, span boundaries: keep words apart */
	}
}

static void text_byte(struct mime_html *h, unsigned char c, struct buf *out)
{
	if (c == '<') {
		h->state = H_LT;
	} else if (c == '&' && h->skip[0] == '\0') {
		h->entity_len = 0;
		h->state = H_ENTITY;
	} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
		h->space = true;
	} else if (c != 0) {
		char ch = (char)c;

		emit(h, &ch, 1, out);
	}
}

static void lt_byte(struct mime_html *h, unsigned char c, struct buf *out)
{
	h->tag_len = 0;
	h->closing = false;
	if (c == '/') {
		h->closing = true;
		h->state = H_NAME;
	} else if (isalpha(c)) {
		h->tag[h->tag_len++] = (char)c;
		h->state = H_NAME;
	} else if (c == '!') {
		h->dashes = 0;
		h->state = H_BANG;
	} else if (c == '?') {
		h->state = H_DECL;
	} else {
		/* "a < b": the "<" was text */
		h->state = H_TEXT;
		emit(h, "<", 1, out);
		html_byte(h, c, out);
	}
}

static void name_byte(struct mime_html *h, unsigned char c)
{
	if (isalnum(c)) {
		/* a longer name is cut; it then matches no known tag */
		if (h->tag_len < HTML_MAX_TAG)
			h->tag[h->tag_len++] = (char)c;
		return;
	}
	h->state = H_ATTRS;
	if (c == '>')
		tag_end(h);
}

static void attrs_byte(struct mime_html *h, unsigned char c)
{
	/* script and style are raw text: only "</name" ends them */
	if (h->skip[0] == '\0' && (c == '"' || c == '\'')) {
		h->quote = (char)c;
		h->state = H_QUOTE;
	} else if (c == '>') {
		tag_end(h);
	}
}

static void bang_byte(struct mime_html *h, unsigned char c)
{
	if (c == '-' && ++h->dashes == 2) {
		h->dashes = 0;
		h->state = H_COMMENT;
	} else if (c == '>') {
		h->state = H_TEXT;
	} else if (c != '-') {
		h->state = H_DECL;
	}
}

static void comment_byte(struct mime_html *h, unsigned char c)
{
	if (c == '>' && h->dashes >= 2)
		h->state = H_TEXT;
	h->dashes = c == '-' ? h->dashes + 1 : 0;
}

static void html_byte(struct mime_html *h, unsigned char c, struct buf *out)
{
	switch (h->state) {
	case H_TEXT:
		text_byte(h, c, out);
		break;
	case H_LT:
		lt_byte(h, c, out);
		break;
	case H_NAME:
		name_byte(h, c);
		break;
	case H_ATTRS:
		attrs_byte(h, c);
		break;
	case H_QUOTE:
		if (c == (unsigned char)h->quote)
			h->state = H_ATTRS;
		break;
	case H_BANG:
		bang_byte(h, c);
		break;
	case H_COMMENT:
		comment_byte(h, c);
		break;
	case H_DECL:
		if (c == '>')
			h->state = H_TEXT;
		break;
	case H_ENTITY:
		entity_byte(h, c, out);
		break;
	}
}

void mime_html_feed(struct mime_html *h, const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		html_byte(h, p[i], out);
}

void mime_html_finish(struct mime_html *h, struct buf *out)
{
	if (h->state == H_ENTITY)
		entity_end(h, 0, out);
	else if (h->state == H_LT)
		emit(h, "<", 1, out);
	h->state = H_TEXT;
}

/* ------------------------------------------------------ extraction */

struct extract {
	const struct mime_source *src;
	struct buf *out;
	size_t start;
	size_t max;
	bool full;
	const char **error_r;
};

/* Drop a character cut short at the end of out (after start). */
static void utf8_trim_incomplete(struct buf *out, size_t start)
{
	size_t n = out->len, lead = n;
	unsigned char c;
	size_t want;

	while (lead > start && n - lead < 3 && ((unsigned char)out->data[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == start)
		return;
	c = (unsigned char)out->data[lead - 1];
	want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n - (lead - 1) < want) {
		out->len = lead - 1;
		out->data[out->len] = '\0';
	}
}

/* Append text (LF line ends, no NULs) to the output, up to the cap. */
static void sink(struct extract *x, const char *s, size_t len)
{
	for (size_t i = 0; i < len && !x->full; i++) {
		if (s[i] == '\r' || s[i] == '\0')
			continue;
		if (x->out->len - x->start == x->max) {
			utf8_trim_incomplete(x->out, x->start);
			x->full = true;
			return;
		}
		buf_append_char(x->out, s[i]);
	}
}

struct pipeline {
	struct mime_decoder *dec;
	struct mime_charset_conv *conv;
	struct mime_html *html;
	struct buf a, b, c;
};

/* Pass a.. through the charset and HTML stages to the sink. last: end of
   the body, flush every stage. */
static void pipe_push(struct pipeline *pl, struct extract *x, bool last)
{
	buf_clear(&pl->b);
	mime_charset_conv_feed(pl->conv, pl->a.data, pl->a.len, &pl->b);
	if (last)
		mime_charset_conv_finish(pl->conv, &pl->b);
	if (pl->html == NULL) {
		sink(x, pl->b.data, pl->b.len);
		return;
	}
	buf_clear(&pl->c);
	mime_html_feed(pl->html, pl->b.data, pl->b.len, &pl->c);
	if (last)
		mime_html_finish(pl->html, &pl->c);
	sink(x, pl->c.data, pl->c.len);
}

static int extract_body(struct extract *x, const struct mime_part *part, bool html)
{
	struct pipeline pl = {0};
	struct buf raw = BUF_INIT;
	enum mime_encoding enc = mime_encoding_from_name(part->encoding);
	uint64_t done = 0;
	int ret = 0;

	if (enc == MIME_ENCODING_UNKNOWN)
		return 0;
	pl.dec = mime_decoder_new(enc);
	pl.conv = mime_charset_conv_new(mime_param_get(part->params, part->param_count, "charset"));
	pl.html = html ? mime_html_new() : NULL;
	while (!x->full) {
		uint64_t n =
		    part->body.size - done < TEXT_CHUNK ? part->body.size - done : TEXT_CHUNK;
		struct mime_extent ext = {part->body.start + done, n};
		bool last = done + n == part->body.size;

		buf_clear(&raw);
		if (n > 0 && mime_extents_read(x->src, &ext, 1, 0, n, &raw, x->error_r) < 0) {
			ret = -1;
			break;
		}
		done += n;
		buf_clear(&pl.a);
		mime_decoder_feed(pl.dec, raw.data, raw.len, &pl.a);
		if (last)
			mime_decoder_finish(pl.dec, &pl.a);
		pipe_push(&pl, x, last);
		if (last)
			break;
	}
	mime_decoder_free(&pl.dec);
	mime_charset_conv_free(&pl.conv);
	mime_html_free(&pl.html);
	buf_free(&raw);
	buf_free(&pl.a);
	buf_free(&pl.b);
	buf_free(&pl.c);
	return ret;
}

static bool is_attachment(const struct mime_part *part)
{
	return part->disposition != NULL && strncasecmp(part->disposition, "attachment", 10) == 0;
}

static int extract_part(struct extract *x, const struct mime_part *part);

/* RFC 2046 section 5.1.4: one of the alternatives, the plainest. */
static const struct mime_part *pick_alternative(const struct mime_part *mp)
{
	static const char *const prefs[] = {"plain", "html"};

	for (size_t i = 0; i < 2; i++) {
		for (const struct mime_part *c = mp->children; c != NULL; c = c->next) {
			if (c->kind == MIME_PART_LEAF && mime_part_is(c, "text", prefs[i]))
				return c;
		}
	}
	for (const struct mime_part *c = mp->children; c != NULL; c = c->next) {
		if (c->kind == MIME_PART_MULTIPART)
			return c;
	}
	return mp->children;
}

static int extract_leaf(struct extract *x, const struct mime_part *part)
{
	bool html = mime_part_is(part, "text", "html");

	if (is_attachment(part) || (!html && !mime_part_is(part, "text", "plain")))
		return 0;
	if (x->out->len > x->start)
		sink(x, "\n\n", x->out->data[x->out->len - 1] == '\n' ? 1 : 2);
	return extract_body(x, part, html);
}

static int extract_part(struct extract *x, const struct mime_part *part)
{
	if (x->full || part == NULL)
		return 0;
	if (part->kind == MIME_PART_MESSAGE)
		return extract_part(x, part->children);
	if (part->kind == MIME_PART_LEAF)
		return extract_leaf(x, part);
	if (mime_part_is(part, "multipart", "alternative"))
		return extract_part(x, pick_alternative(part));
	for (const struct mime_part *c = part->children; c != NULL; c = c->next) {
		if (extract_part(x, c) < 0)
			return -1;
	}
	return 0;
}

int mime_text_extract(const struct mime_part *root, const struct mime_source *src, size_t max_len,
                      struct buf *out, const char **error_r)
{
	struct extract x = {src, out, out->len, max_len, false, error_r};

	if (extract_part(&x, root) < 0)
		return -1;
	return x.full ? 1 : 0;
}
