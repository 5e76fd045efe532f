/* The config file syntax: a line-at-a-time state machine building a tree. */
#include "lib/config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define QUOTE_MAX 64

struct config_parser {
	char *name;
	struct buf line;  /* the line being collected, without its LF */
	unsigned line_no; /* its number, from 1 */
	struct config_entry *root;
	/* open blocks: stack[0] is the root, stack[depth] the innermost */
	struct config_entry *stack[CONFIG_MAX_DEPTH + 1];
	unsigned depth;
	size_t entry_count;
	char *error;
	bool finished;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *s)
{
	while (is_ws(*s))
		s++;
	return s;
}

/* True if only white space or a comment is left. */
static bool rest_is_empty(const char *s)
{
	s = skip_ws(s);
	return *s == '\0' || *s == '#';
}

char *config_quote(const char *s)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_append_char(&b, '"');
	for (i = 0; s[i] != '\0' && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_append_char(&b, (char)c);
	}
	buf_append_str(&b, s[i] != '\0' ? "\"..." : "\"");
	return buf_steal(&b);
}

static int fail_at(struct config_parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct config_parser *p, unsigned line, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_printf(&b, "%s:%u: ", p->name, line);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(p->error);
	p->error = buf_steal(&b);
	return -1;
}

static struct config_entry *entry_new(enum config_entry_type type, char *key, char *value,
                                      unsigned line)
{
	struct config_entry *e = xcalloc(1, sizeof(*e));

	e->type = type;
	e->key = key;
	e->value = value;
	e->line = line;
	return e;
}

void config_entry_free(struct config_entry **entry)
{
	struct config_entry *e = *entry;

	if (e == NULL)
		return;
	for (size_t i = 0; i < e->child_count; i++)
		config_entry_free(&e->children[i]);
	free(e->children);
	free(e->key);
	free(e->value);
	free(e);
	*entry = NULL;
}

/* Append e to the innermost open block; takes ownership of e. */
static int add_entry(struct config_parser *p, struct config_entry *e)
{
	struct config_entry *block = p->stack[p->depth];
	/* The public children/child_count pair, grown as an ARRAY. */
	ARRAY(struct config_entry *)
	children = {block->children, block->child_count, block->child_cap};

	if (p->entry_count >= CONFIG_MAX_ENTRIES) {
		config_entry_free(&e);
		return fail_at(p, p->line_no, "more than %d entries", CONFIG_MAX_ENTRIES);
	}
	p->entry_count++;
	array_append(&children, e);
	block->children = children.items;
	block->child_count = children.count;
	block->child_cap = children.cap;
	return 0;
}

/* A double-quoted value starting after its opening quote. The escapes are
   \" and \\ only, so a quoted value reads the same in any editor. */
static int parse_quoted(struct config_parser *p, const char *s, char **value_r)
{
	struct buf b = BUF_INIT;

	for (; *s != '"'; s++) {
		if (*s == '\0') {
			buf_free(&b);
			return fail_at(p, p->line_no, "unterminated quoted value");
		}
		if (*s == '\\') {
			s++;
			if (*s != '"' && *s != '\\') {
				buf_free(&b);
				return fail_at(p, p->line_no,
				               "bad escape in quoted value (only \\\" and \\\\)");
			}
		}
		buf_append_char(&b, *s);
	}
	if (!rest_is_empty(s + 1)) {
		buf_free(&b);
		return fail_at(p, p->line_no, "text after the quoted value");
	}
	*value_r = buf_steal(&b);
	return 0;
}

/* The value after "=": quoted, or up to '#' or the line end, trimmed. */
static int parse_value(struct config_parser *p, const char *s, char **value_r)
{
	size_t len;

	s = skip_ws(s);
	if (*s == '"')
		return parse_quoted(p, s + 1, value_r);
	len = strcspn(s, "#");
	while (len > 0 && is_ws(s[len - 1]))
		len--;
	*value_r = xstrndup(s, len);
	return 0;
}

static int add_value(struct config_parser *p, char *key, const char *s)
{
	char *value = NULL;

	if (parse_value(p, s, &value) < 0) {
		free(key);
		return -1;
	}
	return add_entry(p, entry_new(CONFIG_ENTRY_VALUE, key, value, p->line_no));
}

/* "name [label] {": s points after the name. */
static int open_block(struct config_parser *p, char *key, const char *s)
{
	struct config_entry *e;
	char *label = NULL;

	if (*s != '{' && *s != '\0' && *s != '#' && *s != '"') {
		size_t len = strcspn(s, " \t{\"#");
		label = xstrndup(s, len);
		s = skip_ws(s + len);
	}
	if (*s != '{') {
		char *q = config_quote(key);
		fail_at(p, p->line_no, "missing \"=\" after %s", q);
		free(q);
		free(key);
		free(label);
		return -1;
	}
	e = entry_new(CONFIG_ENTRY_BLOCK, key, label, p->line_no);
	if (!rest_is_empty(s + 1)) {
		config_entry_free(&e);
		return fail_at(p, p->line_no, "text after \"{\" (put each entry on its own line)");
	}
	if (p->depth >= CONFIG_MAX_DEPTH) {
		config_entry_free(&e);
		return fail_at(p, p->line_no, "blocks nested deeper than %d", CONFIG_MAX_DEPTH);
	}
	if (add_entry(p, e) < 0)
		return -1;
	p->stack[++p->depth] = e;
	return 0;
}

static int close_block(struct config_parser *p, const char *rest)
{
	if (!rest_is_empty(rest))
		return fail_at(p, p->line_no, "text after \"}\"");
	if (p->depth == 0)
		return fail_at(p, p->line_no, "\"}\" without an open block");
	p->depth--;
	return 0;
}

static int bad_key(struct config_parser *p, const char *s)
{
	char *word = xstrndup(s, strcspn(s, " \t={#"));
	char *q = config_quote(word);

	fail_at(p, p->line_no, "bad key %s (use a-z, 0-9 and _)", q);
	free(q);
	free(word);
	return -1;
}

static int parse_statement(struct config_parser *p, const char *s)
{
	size_t len = strspn(s, KEY_CHARS);
	const char *after = s + len;
	char *key;

	if (len == 0 ||
	    !(is_ws(*after) || *after == '=' || *after == '{' || *after == '\0' || *after == '#'))
		return bad_key(p, s);
	key = xstrndup(s, len);
	after = skip_ws(after);
	if (*after == '=')
		return add_value(p, key, after + 1);
	return open_block(p, key, after);
}

static int process_line(struct config_parser *p)
{
	const char *s;

	/* CRLF files are common when a config was edited on Windows. */
	if (p->line.len > 0 && p->line.data[p->line.len - 1] == '\r')
		p->line.data[--p->line.len] = '\0';
	s = skip_ws(buf_cstr(&p->line));
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '}')
		return close_block(p, s + 1);
	return parse_statement(p, s);
}

struct config_parser *config_parser_new(const char *name)
{
	struct config_parser *p = xcalloc(1, sizeof(*p));

	p->name = xstrdup(name);
	p->line_no = 1;
	p->root = entry_new(CONFIG_ENTRY_BLOCK, NULL, NULL, 0);
	p->stack[0] = p->root;
	return p;
}

static int feed_byte(struct config_parser *p, char c)
{
	if (c == '\0')
		return fail_at(p, p->line_no, "NUL byte");
	if (c != '\n') {
		if (p->line.len >= CONFIG_MAX_LINE)
			return fail_at(p, p->line_no, "line longer than %d bytes", CONFIG_MAX_LINE);
		buf_append_char(&p->line, c);
		return 0;
	}
	if (process_line(p) < 0)
		return -1;
	buf_clear(&p->line);
	p->line_no++;
	return 0;
}

int config_parser_feed(struct config_parser *parser, const void *data, size_t len,
                       const char **error_r)
{
	const char *bytes = data;

	for (size_t i = 0; i < len && parser->error == NULL; i++)
		(void)feed_byte(parser, bytes[i]);
	if (parser->error == NULL && parser->finished)
		fail_at(parser, parser->line_no, "input after the end");
	*error_r = parser->error;
	return parser->error == NULL ? 0 : -1;
}

int config_parser_finish(struct config_parser *parser, struct config_entry **root_r,
                         const char **error_r)
{
	struct config_parser *p = parser;

	if (p->error == NULL && p->finished)
		fail_at(p, p->line_no, "parser finished twice");
	p->finished = true;
	/* A last line without its LF still counts. */
	if (p->error == NULL && p->line.len > 0)
		(void)process_line(p);
	if (p->error == NULL && p->depth > 0) {
		const struct config_entry *open = p->stack[p->depth];
		char *q = config_quote(open->key);
		fail_at(p, open->line, "block %s is not closed", q);
		free(q);
	}
	*error_r = p->error;
	if (p->error != NULL)
		return -1;
	*root_r = p->root;
	p->root = NULL;
	p->depth = 0;
	return 0;
}

void config_parser_free(struct config_parser **parser)
{
	struct config_parser *p = *parser;

	if (p == NULL)
		return;
	config_entry_free(&p->root);
	buf_free(&p->line);
	free(p->error);
	free(p->name);
	free(p);
	*parser = NULL;
}

int config_parse_buffer(const char *name, const void *data, size_t len,
                        struct config_entry **root_r, char **error_r)
{
	struct config_parser *p = config_parser_new(name);
	const char *error;
	int ret;

	ret = config_parser_feed(p, data, len, &error);
	if (ret == 0)
		ret = config_parser_finish(p, root_r, &error);
	if (ret < 0)
		*error_r = xstrdup(error);
	config_parser_free(&p);
	return ret;
}
