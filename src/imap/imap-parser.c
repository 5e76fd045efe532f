/* The IMAP command parser: see imap-parser.h. */
#include "imap/imap-parser.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

/* A literal announcement longer than this many digits is refused outright. */
#define MAX_LITERAL_DIGITS 19

enum state {
	ST_LINE_START, /* nothing of a line read yet */
	ST_TAG,
	ST_NAME,
	ST_ARG_START, /* after SP or '(': a token, or ')' */
	ST_ARG_SEP,   /* after a token: SP, ')' or the line end */
	ST_ATOM,
	ST_ATOM_QUOTED,     /* a quoted string inside an atom's [...] */
	ST_ATOM_QUOTED_ESC, /* after a backslash in that quoted string */
	ST_TILDE,           /* after '~' at an argument's start: literal8 or atom */
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LIT_SIZE,  /* digits after '{' */
	ST_LIT_CLOSE, /* after '+': expect '}' */
	ST_LIT_EOL,   /* after '}': expect CRLF */
	ST_LIT_DATA,
	ST_EOL,      /* CR seen at the end of a command: expect LF */
	ST_SKIP,     /* skipping the rest of a bad line */
	ST_SKIP_LIT, /* skipping a non-synchronising literal on a bad line */
};

/* Recogniser for "{n+}" CRLF while skipping a bad line. */
enum skip_phase {
	SKIP_NONE,
	SKIP_DIGITS,  /* after '{' */
	SKIP_PLUS,    /* after '{n+' */
	SKIP_CLOSED,  /* after '{n}' */
	SKIP_NSCLOSED /* after '{n+}' */
};

struct imap_parser {
	struct imap_parser_limits limits;
	struct imap_literal_sink sink;
	bool have_sink;

	enum state state;
	struct buf tok;
	size_t line_len;
	unsigned arg_count;
	uint64_t literal_total;

	struct imap_command cmd;
	struct imap_arg root;    /* the command's top-level arguments */
	struct imap_arg **stack; /* open lists; stack[0] = &root */
	unsigned depth;

	unsigned bracket_depth;
	uint64_t lit_size;
	unsigned lit_digits;
	bool lit8; /* the literal is a literal8 "~{n}" */
	uint64_t lit_left;
	bool lit_nonsync;
	bool lit_streamed;
	bool lit_failed;
	bool eol_cr; /* the CR of the CRLF after '}' was seen */

	enum skip_phase skip_phase;
	uint64_t skip_num;

	const char *error;
	enum imap_parse_error error_kind;
	bool reset_pending; /* a command or error was returned: reset first */
};

static void arg_free(struct imap_arg *arg)
{
	free(arg->str);
	for (size_t i = 0; i < arg->count; i++)
		arg_free(&arg->list[i]);
	free(arg->list);
	memset(arg, 0, sizeof(*arg));
}

static void command_reset(struct imap_parser *p)
{
	free(p->cmd.tag);
	free(p->cmd.name);
	arg_free(&p->root);
	p->root.type = IMAP_ARG_LIST;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->depth = 0;
	p->stack[0] = &p->root;
	p->line_len = 0;
	p->arg_count = 0;
	p->literal_total = 0;
	p->bracket_depth = 0;
	p->error = NULL;
	buf_clear(&p->tok);
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	p->limits = *limits;
	if (p->limits.max_depth == 0)
		p->limits.max_depth = 1;
	p->stack = xcalloc(p->limits.max_depth + 1, sizeof(*p->stack));
	command_reset(p);
	return p;
}

void imap_parser_free(struct imap_parser **parser)
{
	struct imap_parser *p = *parser;

	if (p == NULL)
		return;
	if (p->lit_streamed && p->have_sink)
		p->sink.close(p->sink.ctx);
	command_reset(p);
	buf_free(&p->tok);
	free(p->stack);
	free(p);
	*parser = NULL;
}

void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits)
{
	unsigned max_depth = limits->max_depth == 0 ? 1 : limits->max_depth;

	/* The stack may hold open lists: only ever grow it. */
	if (max_depth > p->limits.max_depth) {
		p->stack = xreallocarray(p->stack, max_depth + 1, sizeof(*p->stack));
		for (unsigned i = p->limits.max_depth + 1; i <= max_depth; i++)
			p->stack[i] = NULL;
	}
	p->limits = *limits;
	p->limits.max_depth = max_depth;
}

void imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink)
{
	p->have_sink = sink != NULL;
	if (sink != NULL)
		p->sink = *sink;
}

const struct imap_command *imap_parser_command(const struct imap_parser *p)
{
	return &p->cmd;
}

const char *imap_parser_error(const struct imap_parser *p, const char **tag_r)
{
	*tag_r = p->cmd.tag;
	return p->error;
}

enum imap_parse_error imap_parser_error_kind(const struct imap_parser *p)
{
	return p->error_kind;
}

uint64_t imap_parser_literal_size(const struct imap_parser *p)
{
	return p->lit_size;
}

bool imap_parser_idle(const struct imap_parser *p)
{
	return p->state == ST_LINE_START;
}

/* RFC 3501 ATOM-CHAR, plus the list wildcards and '\' (flags such as
   \Seen are atoms here) and ']' (allowed in astring). '[' is an atom char
   too; only after a fetch-att name it opens a section (section_opens()). */
static bool is_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){\"", c) == NULL;
}

/* A tag is ASTRING-CHAR except '+' (RFC 3501 tag). */
static bool is_tag_char(unsigned char c)
{
	return is_atom_char(c) && strchr("+%*\\", c) == NULL;
}

/* Go to the error state. The offending byte is not consumed unless it
   ends the line, so the skipper sees it. Returns 0 (bytes consumed). */
static size_t fail_kind(struct imap_parser *p, enum imap_parse_error kind, const char *error,
                        unsigned char c)
{
	p->error = error;
	p->error_kind = kind;
	if (p->lit_streamed) {
		p->sink.close(p->sink.ctx);
		p->lit_streamed = false;
	}
	p->skip_phase = SKIP_NONE;
	if (c == '\n') {
		p->state = ST_LINE_START;
		return 1;
	}
	p->state = ST_SKIP;
	return 0;
}

static size_t fail(struct imap_parser *p, const char *error, unsigned char c)
{
	return fail_kind(p, IMAP_PARSE_ERR_SYNTAX, error, c);
}

/* Append a finished token to the innermost open list. Takes tok's text. */
static struct imap_arg *add_arg(struct imap_parser *p, enum imap_arg_type type)
{
	struct imap_arg *list = p->stack[p->depth];
	/* The public list/count/cap triple, grown as an ARRAY. */
	ARRAY(struct imap_arg) args = {list->list, list->count, list->cap};
	struct imap_arg *arg = array_push(&args);

	list->list = args.items;
	list->count = args.count;
	list->cap = args.cap;
	arg->type = type;
	if (type != IMAP_ARG_LIST) {
		arg->len = p->tok.len;
		arg->str = buf_steal(&p->tok);
	}
	return arg;
}

static bool count_arg(struct imap_parser *p)
{
	return ++p->arg_count <= p->limits.max_args;
}

static void finish_atom(struct imap_parser *p)
{
	enum imap_arg_type type = IMAP_ARG_ATOM;

	if (p->tok.len == 3 && strcasecmp(p->tok.data, "NIL") == 0)
		type = IMAP_ARG_NIL;
	add_arg(p, type);
	p->state = ST_ARG_SEP;
}

/* The command is complete: expose it. */
static enum imap_parse_result complete(struct imap_parser *p)
{
	p->cmd.args = p->root.list;
	p->cmd.count = p->root.count;
	p->state = ST_LINE_START;
	p->reset_pending = true;
	return IMAP_PARSE_COMMAND;
}

/* The line ends at c (CR or LF). Returns the bytes consumed and sets
 *done when the command is complete. */
static size_t line_end(struct imap_parser *p, unsigned char c, bool *done)
{
	if (p->depth > 0)
		return fail(p, "Missing ')'", c);
	if (c == '\r') {
		p->state = ST_EOL;
		return 1;
	}
	*done = true;
	return 1;
}

static size_t on_line_start(struct imap_parser *p, unsigned char c, bool *done)
{
	/* An empty line is ignored, as a stray CRLF between commands. */
	if (c == '\r' || c == '\n')
		return 1;
	p->state = ST_TAG;
	return 0;
}

static size_t on_tag(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == ' ' && p->tok.len > 0) {
		p->cmd.tag = buf_steal(&p->tok);
		p->state = ST_NAME;
		return 1;
	}
	if (!is_tag_char(c))
		return fail(p, "Invalid tag", c);
	buf_append_char(&p->tok, (char)c);
	return 1;
}

static size_t on_name(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == ' ' || c == '\r' || c == '\n') {
		if (p->tok.len == 0)
			return fail(p, "Missing command name", c);
		p->cmd.name = buf_steal(&p->tok);
		if (c != ' ')
			return line_end(p, c, done);
		p->state = ST_ARG_START;
		return 1;
	}
	if (!isalnum(c) && c != '-' && c != '_' && c != '.')
		return fail(p, "Invalid command name", c);
	buf_append_char(&p->tok, (char)toupper(c));
	return 1;
}

static size_t open_list(struct imap_parser *p, unsigned char c)
{
	struct imap_arg *list;

	if (p->depth >= p->limits.max_depth)
		return fail(p, "Lists nested too deeply", c);
	if (!count_arg(p))
		return fail(p, "Too many arguments", c);
	list = add_arg(p, IMAP_ARG_LIST);
	p->stack[++p->depth] = list;
	p->state = ST_ARG_START;
	return 1;
}

static size_t close_list(struct imap_parser *p, unsigned char c)
{
	if (p->depth == 0)
		return fail(p, "Unexpected ')'", c);
	p->depth--;
	p->state = ST_ARG_SEP;
	return 1;
}

static size_t on_arg_start(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == '(')
		return open_list(p, c);
	if (c == ')' && p->stack[p->depth]->count == 0)
		return close_list(p, c);
	/* Tolerate a trailing space at the end of the command line. */
	if ((c == '\r' || c == '\n') && p->depth == 0)
		return line_end(p, c, done);
	if (c != '"' && c != '{' && !is_atom_char(c))
		return fail(p, "Invalid argument", c);
	if (!count_arg(p))
		return fail(p, "Too many arguments", c);
	if (c == '"') {
		p->state = ST_QUOTED;
		return 1;
	}
	if (c == '{') {
		p->lit_size = 0;
		p->lit_digits = 0;
		p->lit_nonsync = false;
		p->lit8 = false;
		p->state = ST_LIT_SIZE;
		return 1;
	}
	if (c == '~') {
		p->state = ST_TILDE;
		return 1;
	}
	p->state = ST_ATOM;
	return 0;
}

static size_t on_arg_sep(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == ' ') {
		p->state = ST_ARG_START;
		return 1;
	}
	if (c == ')')
		return close_list(p, c);
	if (c == '\r' || c == '\n')
		return line_end(p, c, done);
	return fail(p, "Missing space between arguments", c);
}

/* Does a '[' after the atom read so far open a section with spaces,
   lists and quoted strings inside? Only after a fetch-att name of FETCH,
   UID FETCH or NOTIFY (RFC 3501 section, RFC 3516 section-binary); elsewhere '[' is
   an ordinary atom char (SELECT a[b, LIST "" a[b%). */
static bool section_opens(const struct imap_parser *p)
{
	static const char *const names[] = {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK",
	                                    "BINARY.SIZE"};
	const struct imap_arg *first = p->root.count > 0 ? &p->root.list[0] : NULL;
	/* NOTIFY: MessageNew's fetch attributes (RFC 5465 8) */
	bool fetch = strcmp(p->cmd.name, "FETCH") == 0 || strcmp(p->cmd.name, "NOTIFY") == 0 ||
	             (strcmp(p->cmd.name, "UID") == 0 && first != NULL &&
	              first->type == IMAP_ARG_ATOM && strcasecmp(first->str, "FETCH") == 0);

	if (!fetch)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (p->tok.len == strlen(names[i]) && strcasecmp(p->tok.data, names[i]) == 0)
			return true;
	}
	return false;
}

static size_t on_atom(struct imap_parser *p, unsigned char c, bool *done)
{
	if (p->bracket_depth > 0) {
		if (c == '\r' || c == '\n' || c == 0 || c >= 0x80 || c == '{')
			return fail(p, "Missing ']'", c);
		if (c == '[')
			p->bracket_depth++;
		else if (c == ']')
			p->bracket_depth--;
		else if (c == '"')
			p->state = ST_ATOM_QUOTED;
		buf_append_char(&p->tok, (char)c);
		return 1;
	}
	if (c == '[' && section_opens(p)) {
		p->bracket_depth = 1;
		buf_append_char(&p->tok, (char)c);
		return 1;
	}
	if (is_atom_char(c)) {
		buf_append_char(&p->tok, (char)c);
		return 1;
	}
	if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
		finish_atom(p);
		return 0;
	}
	return fail(p, "Invalid character in atom", c);
}

/* A quoted string inside [...] is kept as sent, quotes and backslashes
   included; a backslash escapes the next byte ("x\\" ends after the
   second backslash). */
static size_t on_atom_quoted(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == '\r' || c == '\n' || c == 0)
		return fail(p, "Missing '\"'", c);
	buf_append_char(&p->tok, (char)c);
	if (c == '\\')
		p->state = ST_ATOM_QUOTED_ESC;
	else if (c == '"')
		p->state = ST_ATOM;
	return 1;
}

static size_t on_atom_quoted_esc(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c != '"' && c != '\\')
		return fail(p, "Invalid escape in quoted string", c);
	buf_append_char(&p->tok, (char)c);
	p->state = ST_ATOM_QUOTED;
	return 1;
}

/* After '~' at an argument's start: "~{" opens a literal8 (RFC 3516
   section 4.3); anything else is an atom starting with '~'. */
static size_t on_tilde(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == '{') {
		p->lit_size = 0;
		p->lit_digits = 0;
		p->lit_nonsync = false;
		p->lit8 = true;
		p->state = ST_LIT_SIZE;
		return 1;
	}
	buf_append_char(&p->tok, '~');
	p->state = ST_ATOM;
	return 0;
}

static size_t on_quoted(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == '"') {
		add_arg(p, IMAP_ARG_STRING);
		p->state = ST_ARG_SEP;
		return 1;
	}
	if (c == '\\') {
		p->state = ST_QUOTED_ESC;
		return 1;
	}
	/* RFC 3501 section 4.3: no CR, LF or NUL in a quoted string. 8-bit
	   bytes are UTF-8 under RFC 9051 and are accepted. */
	if (c == '\r' || c == '\n' || c == 0)
		return fail(p, "Invalid character in quoted string", c);
	buf_append_char(&p->tok, (char)c);
	return 1;
}

static size_t on_quoted_esc(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c != '"' && c != '\\')
		return fail(p, "Invalid escape in quoted string", c);
	buf_append_char(&p->tok, (char)c);
	p->state = ST_QUOTED;
	return 1;
}

static size_t on_lit_size(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c >= '0' && c <= '9') {
		if (++p->lit_digits > MAX_LITERAL_DIGITS)
			return fail_kind(p, IMAP_PARSE_ERR_LITERAL_TOO_BIG, "Literal too large", c);
		p->lit_size = p->lit_size * 10 + (uint64_t)(c - '0');
		return 1;
	}
	if (p->lit_digits == 0)
		return fail(p, "Invalid literal size", c);
	if (c == '+') {
		p->lit_nonsync = true;
		p->state = ST_LIT_CLOSE;
		return 1;
	}
	if (c == '}') {
		p->eol_cr = false;
		p->state = ST_LIT_EOL;
		return 1;
	}
	return fail(p, "Invalid literal size", c);
}

static size_t on_lit_close(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c != '}')
		return fail(p, "Invalid literal size", c);
	p->eol_cr = false;
	p->state = ST_LIT_EOL;
	return 1;
}

/* The literal's size is known and its CRLF read: decide whether to take
   it. Returns the event for a synchronising literal, NEED_MORE if the
   bytes just follow. */
static enum imap_parse_result literal_announced(struct imap_parser *p)
{
	const char *error = NULL;

	buf_clear(&p->tok);
	p->lit_left = p->lit_size;
	p->lit_streamed = false;
	p->lit_failed = false;
	p->state = ST_LIT_DATA;
	if (p->lit_size > p->limits.max_literal) {
		error = "Literal too large";
	} else if (p->have_sink) {
		p->cmd.args = p->root.list;
		p->cmd.count = p->root.count;
		p->lit_streamed = p->sink.open(p->sink.ctx, &p->cmd, p->lit_size);
	}
	if (error == NULL && !p->lit_streamed) {
		if (p->lit_size > p->limits.max_literals - p->literal_total ||
		    p->literal_total > p->limits.max_literals)
			error = "Literal too large";
		else
			p->literal_total += p->lit_size;
	}
	if (error != NULL) {
		p->error = error;
		p->error_kind = IMAP_PARSE_ERR_LITERAL_TOO_BIG;
		/* A refused synchronising literal is never sent: the line is
		   over. A non-synchronising one is on its way: skip it. */
		p->skip_phase = SKIP_NONE;
		p->skip_num = p->lit_size;
		p->state = p->lit_nonsync ? ST_SKIP_LIT : ST_LINE_START;
		p->reset_pending = true;
		return IMAP_PARSE_ERROR;
	}
	return p->lit_nonsync ? IMAP_PARSE_NEED_MORE : IMAP_PARSE_CONTINUE;
}

static size_t on_lit_eol(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c == '\r' && !p->eol_cr) {
		p->eol_cr = true;
		return 1;
	}
	if (c != '\n')
		return fail(p, "Literal size not followed by CRLF", c);
	*done = true;
	return 1;
}

static void literal_done(struct imap_parser *p)
{
	struct imap_arg *arg;

	if (p->lit_streamed) {
		p->sink.close(p->sink.ctx);
		buf_clear(&p->tok);
	}
	arg = add_arg(p, IMAP_ARG_LITERAL);
	arg->literal8 = p->lit8;
	if (p->lit_streamed) {
		free(arg->str);
		arg->str = NULL;
		arg->len = p->lit_size;
		arg->streamed = true;
	}
	p->lit_streamed = false;
	p->state = ST_ARG_SEP;
}

/* Literal bytes are taken in bulk rather than one at a time. */
static size_t lit_data(struct imap_parser *p, const unsigned char *data, size_t len)
{
	size_t n = len < p->lit_left ? len : (size_t)p->lit_left;

	if (p->lit_streamed) {
		if (!p->lit_failed && p->sink.write(p->sink.ctx, data, n) < 0)
			p->lit_failed = true;
	} else {
		buf_append(&p->tok, data, n);
	}
	p->lit_left -= n;
	if (p->lit_left == 0) {
		if (p->lit_failed) {
			p->sink.close(p->sink.ctx);
			p->lit_streamed = false;
			p->state = ST_SKIP;
			p->skip_phase = SKIP_NONE;
			p->error = "Literal could not be stored";
			p->error_kind = IMAP_PARSE_ERR_LITERAL_STORE;
		} else {
			literal_done(p);
		}
	}
	return n;
}

static size_t on_eol(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c != '\n')
		return fail(p, "CR not followed by LF", c);
	*done = true;
	return 1;
}

/* Track "{n+}" CRLF at the end of a skipped line, whose literal bytes
   must be skipped too (RFC 7888: the client sends them without waiting). */
static void skip_track(struct imap_parser *p, unsigned char c)
{
	if (c == '{') {
		p->skip_phase = SKIP_DIGITS;
		p->skip_num = 0;
	} else if (p->skip_phase == SKIP_DIGITS && c >= '0' && c <= '9') {
		if (p->skip_num < UINT64_MAX / 10)
			p->skip_num = p->skip_num * 10 + (uint64_t)(c - '0');
	} else if (p->skip_phase == SKIP_DIGITS && c == '+') {
		p->skip_phase = SKIP_PLUS;
	} else if (p->skip_phase == SKIP_DIGITS && c == '}') {
		p->skip_phase = SKIP_CLOSED;
	} else if (p->skip_phase == SKIP_PLUS && c == '}') {
		p->skip_phase = SKIP_NSCLOSED;
	} else if (!(c == '\r' && p->skip_phase >= SKIP_CLOSED)) {
		p->skip_phase = SKIP_NONE;
	}
}

static size_t on_skip(struct imap_parser *p, unsigned char c, bool *done)
{
	if (c != '\n') {
		skip_track(p, c);
		return 1;
	}
	if (p->skip_phase == SKIP_NSCLOSED) {
		p->state = ST_SKIP_LIT;
	} else {
		/* A synchronising literal on a bad line is never sent: the
		   client waits for a continuation that does not come. */
		p->state = ST_LINE_START;
	}
	p->skip_phase = SKIP_NONE;
	return 1;
}

static size_t skip_lit(struct imap_parser *p, size_t len)
{
	size_t n = len < p->skip_num ? len : (size_t)p->skip_num;

	p->skip_num -= n;
	if (p->skip_num == 0)
		p->state = ST_SKIP;
	return n;
}

typedef size_t state_fn(struct imap_parser *p, unsigned char c, bool *done);

static state_fn *const state_fns[] = {
    [ST_LINE_START] = on_line_start,
    [ST_TAG] = on_tag,
    [ST_NAME] = on_name,
    [ST_ARG_START] = on_arg_start,
    [ST_ARG_SEP] = on_arg_sep,
    [ST_ATOM] = on_atom,
    [ST_ATOM_QUOTED] = on_atom_quoted,
    [ST_ATOM_QUOTED_ESC] = on_atom_quoted_esc,
    [ST_TILDE] = on_tilde,
    [ST_QUOTED] = on_quoted,
    [ST_QUOTED_ESC] = on_quoted_esc,
    [ST_LIT_SIZE] = on_lit_size,
    [ST_LIT_CLOSE] = on_lit_close,
    [ST_LIT_EOL] = on_lit_eol,
    [ST_EOL] = on_eol,
    [ST_SKIP] = on_skip,
};

/* One byte of a command line (not literal data). */
static size_t step(struct imap_parser *p, unsigned char c, bool *done)
{
	bool counted = p->state != ST_SKIP && p->state != ST_LINE_START;

	if (counted && ++p->line_len > p->limits.max_line)
		return fail_kind(p, IMAP_PARSE_ERR_LINE_TOO_LONG, "Line too long", c);
	return state_fns[p->state](p, c, done);
}

enum imap_parse_result imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
                                        size_t *consumed_r)
{
	const unsigned char *in = data;
	size_t pos = 0;

	if (p->reset_pending) {
		p->reset_pending = false;
		command_reset(p);
	}
	while (pos < len) {
		enum state before = p->state;
		bool done = false;

		if (p->state == ST_LIT_DATA) {
			pos += lit_data(p, in + pos, len - pos);
		} else if (p->state == ST_SKIP_LIT) {
			pos += skip_lit(p, len - pos);
			continue;
		} else {
			pos += step(p, in[pos], &done);
		}
		if (p->error != NULL && before != ST_SKIP && before != ST_SKIP_LIT &&
		    (p->state == ST_SKIP || p->state == ST_LINE_START)) {
			*consumed_r = pos;
			p->reset_pending = true;
			return IMAP_PARSE_ERROR;
		}
		if (done && before == ST_LIT_EOL) {
			enum imap_parse_result r = literal_announced(p);

			if (r != IMAP_PARSE_NEED_MORE || p->error != NULL) {
				*consumed_r = pos;
				return r;
			}
		} else if (done) {
			*consumed_r = pos;
			return complete(p);
		}
	}
	*consumed_r = pos;
	return IMAP_PARSE_NEED_MORE;
}

const char *imap_arg_astring(const struct imap_arg *arg)
{
	if (arg->type == IMAP_ARG_LIST || arg->streamed || arg->literal8)
		return NULL;
	return arg->str;
}

const char *imap_arg_atom(const struct imap_arg *arg)
{
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return NULL;
	return arg->str;
}

int imap_arg_number(const struct imap_arg *arg, uint64_t *number_r)
{
	uint64_t n = 0;

	if (arg->type != IMAP_ARG_ATOM || arg->len == 0 || arg->len > 19)
		return -1;
	for (size_t i = 0; i < arg->len; i++) {
		if (arg->str[i] < '0' || arg->str[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(arg->str[i] - '0');
	}
	*number_r = n;
	return 0;
}
