/* The ManageSieve command parser: see managesieve-parser.h. */
#include "managesieve/managesieve-parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

enum pstate {
	P_START, /* between tokens */
	P_ATOM,
	P_QUOTED,
	P_QESC,
	P_LITLEN,  /* after '{' */
	P_LITPLUS, /* after '+' */
	P_LITCR,   /* after '}' */
	P_LITLF,   /* after '}' CR */
	P_LITDATA,
	P_CR,       /* a CR outside a token */
	P_SKIPLIT,  /* skipping a literal too big, then the line */
	P_SKIPLINE, /* an error: skip up to LF */
};

struct ptoken {
	enum msieve_token_type type;
	size_t off, len;
	bool literal, streamed;
};

struct msieve_parser {
	size_t max_line;
	uint64_t max_literal, stream_min;
	msieve_sink_fn *sink;
	void *sink_ctx;
	enum pstate state;
	struct buf data;    /* token bytes, each token NUL-terminated */
	struct buf cmddata; /* those of the last COMMAND */
	struct ptoken toks[MSIEVE_MAX_TOKENS];
	size_t ntoks;
	size_t line_len;   /* non-literal octets of this command */
	uint64_t lit_left; /* literal octets still to come */
	bool lit_stream;
	bool failed; /* an error is pending for the end of the line */
	enum msieve_parse_error err;
	const char *err_text;
	struct msieve_command cmd;
};

struct msieve_parser *msieve_parser_new(size_t max_line, uint64_t max_literal)
{
	struct msieve_parser *p = xcalloc(1, sizeof(*p));

	p->max_line = max_line < 16 ? 16 : max_line;
	p->max_literal = max_literal;
	return p;
}

void msieve_parser_free(struct msieve_parser **p)
{
	if (*p == NULL)
		return;
	buf_free(&(*p)->data);
	buf_free(&(*p)->cmddata);
	free(*p);
	*p = NULL;
}

void msieve_parser_set_max_literal(struct msieve_parser *p, uint64_t max_literal)
{
	p->max_literal = max_literal;
}

void msieve_parser_set_sink(struct msieve_parser *p, uint64_t stream_min, msieve_sink_fn *sink,
                            void *ctx)
{
	p->stream_min = stream_min;
	p->sink = sink;
	p->sink_ctx = ctx;
}

static void fail(struct msieve_parser *p, enum msieve_parse_error err, const char *text)
{
	if (!p->failed) {
		p->failed = true;
		p->err = err;
		p->err_text = text;
	}
	p->state = P_SKIPLINE;
}

static bool atom_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && strchr("\"{}()\\", c) == NULL;
}

/* Open a new token; false (after fail()) if there are too many. */
static bool token_begin(struct msieve_parser *p, enum msieve_token_type type, bool literal)
{
	struct ptoken *t;

	if (p->ntoks == MSIEVE_MAX_TOKENS) {
		fail(p, MSIEVE_ERR_TOO_LONG, "Too many arguments.");
		return false;
	}
	t = &p->toks[p->ntoks++];
	*t = (struct ptoken){.type = type, .off = p->data.len, .literal = literal};
	return true;
}

static void token_add(struct msieve_parser *p, char c)
{
	buf_append_char(&p->data, c);
	p->toks[p->ntoks - 1].len++;
}

static void token_end(struct msieve_parser *p)
{
	buf_append_char(&p->data, '\0');
}

static void reset(struct msieve_parser *p)
{
	buf_clear(&p->data);
	p->ntoks = 0;
	p->line_len = 0;
	p->failed = false;
	p->state = P_START;
}

/* The line ended (its LF consumed): the event. */
static enum msieve_parse_result line_end(struct msieve_parser *p)
{
	if (p->failed) {
		reset(p);
		p->failed = true; /* for msieve_parser_error() until the next feed */
		p->state = P_START;
		return MSIEVE_PARSE_ERROR;
	}
	struct buf swap = p->cmddata;

	p->cmddata = p->data;
	p->data = swap;
	memset(&p->cmd, 0, sizeof(p->cmd));
	for (size_t i = 0; i < p->ntoks; i++) {
		struct msieve_token *t = &p->cmd.tokens[i];

		t->type = p->toks[i].type;
		t->len = p->toks[i].len;
		t->literal = p->toks[i].literal;
		t->streamed = p->toks[i].streamed;
		t->data = t->streamed ? NULL : p->cmddata.data + p->toks[i].off;
	}
	p->cmd.count = p->ntoks;
	reset(p);
	return MSIEVE_PARSE_COMMAND;
}

/* The literal's header ended: decide how its octets go. */
static void literal_begin(struct msieve_parser *p)
{
	if (p->lit_left > p->max_literal) {
		fail(p, MSIEVE_ERR_TOO_BIG, "Literal too big.");
		p->state = P_SKIPLIT;
		return;
	}
	if (!token_begin(p, MSIEVE_STRING, true)) {
		p->state = P_SKIPLIT;
		return;
	}
	p->lit_stream = p->sink != NULL && p->lit_left >= p->stream_min;
	p->toks[p->ntoks - 1].streamed = p->lit_stream;
	if (p->lit_stream)
		p->toks[p->ntoks - 1].len = p->lit_left;
	p->state = P_LITDATA;
	if (p->lit_left == 0) {
		token_end(p);
		p->state = P_START;
	}
}

/* Literal octets: how many of data[0..len) were used. */
static size_t literal_data(struct msieve_parser *p, const char *data, size_t len)
{
	size_t n = len < p->lit_left ? len : (size_t)p->lit_left;

	if (p->state == P_SKIPLIT) {
		/* fall through to the rest of the line */
	} else if (p->lit_stream) {
		if (p->sink(p->sink_ctx, data, n) < 0) {
			fail(p, MSIEVE_ERR_SINK, "Cannot store the literal.");
			p->state = P_SKIPLIT;
		}
	} else {
		buf_append(&p->data, data, n);
		p->toks[p->ntoks - 1].len += n;
	}
	p->lit_left -= n;
	if (p->lit_left == 0) {
		if (p->state == P_SKIPLIT)
			p->state = P_SKIPLINE;
		else {
			token_end(p);
			p->state = P_START;
		}
	}
	return n;
}

/* One octet outside literal data. Returns true at the end of a line. */
static bool octet(struct msieve_parser *p, unsigned char c)
{
	if (p->state == P_SKIPLINE)
		return c == '\n';
	if (++p->line_len > p->max_line) {
		fail(p, MSIEVE_ERR_TOO_LONG, "Line too long.");
		return c == '\n';
	}
	switch (p->state) {
	case P_ATOM:
		if (atom_char(c)) {
			token_add(p, (char)c);
			return false;
		}
		token_end(p);
		p->state = P_START;
		if (c == '"' || c == '{') {
			fail(p, MSIEVE_ERR_SYNTAX, "Missing space after an atom.");
			return false;
		}
		/* fall through */
	case P_START:
		if (c == ' ')
			return false;
		if (c == '\n')
			return true;
		if (c == '\r')
			p->state = P_CR;
		else if (c == '"') {
			if (token_begin(p, MSIEVE_STRING, false))
				p->state = P_QUOTED;
		} else if (c == '{') {
			p->lit_left = 0;
			p->state = P_LITLEN;
		} else if (atom_char(c)) {
			if (token_begin(p, MSIEVE_ATOM, false)) {
				token_add(p, (char)c);
				p->state = P_ATOM;
			}
		} else
			fail(p, MSIEVE_ERR_SYNTAX, "Invalid character.");
		return false;
	case P_CR:
		if (c == '\n')
			return true;
		fail(p, MSIEVE_ERR_SYNTAX, "CR without LF.");
		return false;
	case P_QUOTED:
		if (c == '"') {
			token_end(p);
			p->state = P_START;
		} else if (c == '\\')
			p->state = P_QESC;
		else if (c == '\r' || c == '\n' || c == '\0') {
			fail(p, MSIEVE_ERR_SYNTAX, "Unterminated quoted string.");
			return c == '\n';
		} else
			token_add(p, (char)c);
		return false;
	case P_QESC:
		if (c != '"' && c != '\\') {
			fail(p, MSIEVE_ERR_SYNTAX, "Invalid escape in a quoted string.");
			return c == '\n';
		}
		token_add(p, (char)c);
		p->state = P_QUOTED;
		return false;
	case P_LITLEN:
		if (c >= '0' && c <= '9') {
			if (p->lit_left > (UINT64_MAX - 9) / 10) {
				fail(p, MSIEVE_ERR_TOO_BIG, "Literal too big.");
				return false;
			}
			p->lit_left = p->lit_left * 10 + (c - '0');
		} else if (c == '+')
			p->state = P_LITPLUS;
		else if (c == '}')
			p->state = P_LITCR;
		else {
			fail(p, MSIEVE_ERR_SYNTAX, "Invalid literal.");
			return c == '\n';
		}
		return false;
	case P_LITPLUS:
		if (c == '}')
			p->state = P_LITCR;
		else {
			fail(p, MSIEVE_ERR_SYNTAX, "Invalid literal.");
			return c == '\n';
		}
		return false;
	case P_LITCR:
	case P_LITLF:
		if (c == '\r' && p->state == P_LITCR)
			p->state = P_LITLF;
		else if (c == '\n')
			literal_begin(p);
		else
			fail(p, MSIEVE_ERR_SYNTAX, "Literal without CRLF.");
		return false;
	default:
		return false;
	}
}

enum msieve_parse_result msieve_parser_feed(struct msieve_parser *p, const void *data, size_t len,
                                            size_t *consumed_r)
{
	const char *d = data;
	size_t i = 0;

	if (p->state == P_START && p->ntoks == 0 && p->line_len == 0)
		p->failed = false; /* the last event's error is gone */
	while (i < len) {
		if (p->state == P_LITDATA || p->state == P_SKIPLIT) {
			if (p->lit_left > 0) {
				i += literal_data(p, d + i, len - i);
				continue;
			}
			p->state = p->state == P_SKIPLIT ? P_SKIPLINE : P_START;
		}
		if (octet(p, (unsigned char)d[i++])) {
			*consumed_r = i;
			return line_end(p);
		}
	}
	*consumed_r = i;
	return MSIEVE_PARSE_NEED_MORE;
}

const struct msieve_command *msieve_parser_command(const struct msieve_parser *p)
{
	return &p->cmd;
}

enum msieve_parse_error msieve_parser_error(const struct msieve_parser *p, const char **text_r)
{
	*text_r = p->err_text != NULL ? p->err_text : "Syntax error.";
	return p->err;
}

bool msieve_token_is(const struct msieve_token *tok, const char *word)
{
	return tok->type == MSIEVE_ATOM && strcasecmp(tok->data, word) == 0;
}
