/* Sieve lexer: RFC 5228 section 8.1. */
#include "sieve/sieve-lexer.h"
#include "sieve/sieve-private.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void sieve_lexer_init(struct sieve_lexer *lx, const char *text, size_t len)
{
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->column = 1;
}

const char *sieve_tok_name(enum sieve_tok type)
{
	static const char *const names[] = {
	    "end of script", "identifier", "tag", "number", "string", "'['", "']'",
	    "'('",           "')'",        "'{'", "'}'",    "','",    "';'"};
	return names[type];
}

int sieve_error_set(struct sieve_error *err, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static void advance(struct sieve_lexer *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->column = 1;
	} else {
		lx->column++;
	}
	lx->p++;
}

static bool at(const struct sieve_lexer *lx, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(lx->end - lx->p) >= n && memcmp(lx->p, s, n) == 0;
}

/* Skip white space and comments; -1 on an unterminated bracket comment. */
static int skip_space(struct sieve_lexer *lx, struct sieve_error *err)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			advance(lx);
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx);
		} else if (at(lx, "/*")) {
			unsigned l = lx->line, col = lx->column;
			advance(lx);
			advance(lx);
			while (lx->p < lx->end && !at(lx, "*/"))
				advance(lx);
			if (lx->p >= lx->end)
				return sieve_error_set(err, l, col, "unterminated comment");
			advance(lx);
			advance(lx);
		} else {
			break;
		}
	}
	return 0;
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static char *lex_word(struct sieve_lexer *lx)
{
	const char *s = lx->p;
	while (lx->p < lx->end && ident_char(*lx->p))
		advance(lx);
	return xstrndup(s, (size_t)(lx->p - s));
}

static int lex_number(struct sieve_lexer *lx, struct sieve_token *tok, struct sieve_error *err)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
		unsigned d = (unsigned)(*lx->p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return sieve_error_set(err, tok->line, tok->column, "number too large");
		v = v * 10 + d;
		advance(lx);
	}
	if (lx->p < lx->end) {
		char q = (char)toupper((unsigned char)*lx->p);
		shift = q == 'K' ? 10 : q == 'M' ? 20 : q == 'G' ? 30 : 0;
		if (shift) {
			advance(lx);
			if (v > (UINT64_MAX >> shift))
				return sieve_error_set(err, tok->line, tok->column,
				                       "number too large");
			v <<= shift;
		}
	}
	if (lx->p < lx->end && ident_char(*lx->p))
		return sieve_error_set(err, lx->line, lx->column, "bad character in number");
	tok->type = SIEVE_TOK_NUMBER;
	tok->number = v;
	return 0;
}

static int lex_quoted(struct sieve_lexer *lx, struct sieve_token *tok, struct sieve_error *err)
{
	struct buf b = BUF_INIT;

	advance(lx); /* the opening quote */
	for (;;) {
		if (lx->p >= lx->end) {
			buf_free(&b);
			return sieve_error_set(err, tok->line, tok->column, "unterminated string");
		}
		char c = *lx->p;
		if (c == '"')
			break;
		if (c == '\\') {
			advance(lx);
			if (lx->p >= lx->end)
				continue;
			c = *lx->p;
		}
		if (c == '\0') {
			buf_free(&b);
			return sieve_error_set(err, lx->line, lx->column, "NUL byte in string");
		}
		buf_append_char(&b, c);
		advance(lx);
	}
	advance(lx);
	tok->type = SIEVE_TOK_STRING;
	tok->text = buf_steal(&b);
	return 0;
}

/* text: (SP / HTAB)* (hash-comment / CRLF) *(line) "." CRLF; lines
   starting with "." have it removed (dot-stuffing, section 2.4.2). */
static int lex_multiline(struct sieve_lexer *lx, struct sieve_token *tok, struct sieve_error *err)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < 5; i++)
		advance(lx);
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		advance(lx);
	if (lx->p < lx->end && *lx->p == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			advance(lx);
	}
	if (at(lx, "\r\n"))
		advance(lx);
	if (lx->p >= lx->end || *lx->p != '\n')
		return sieve_error_set(err, lx->line, lx->column,
		                       "expected end of line after text:");
	advance(lx);
	for (;;) {
		if (lx->p >= lx->end) {
			buf_free(&b);
			return sieve_error_set(err, tok->line, tok->column,
			                       "unterminated multi-line string");
		}
		if (at(lx, ".\r\n") || at(lx, ".\n") || (at(lx, ".") && lx->p + 1 == lx->end)) {
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx);
			if (lx->p < lx->end)
				advance(lx);
			break;
		}
		if (*lx->p == '.')
			advance(lx);
		while (lx->p < lx->end && *lx->p != '\n') {
			if (*lx->p == '\0') {
				buf_free(&b);
				return sieve_error_set(err, lx->line, lx->column,
				                       "NUL byte in string");
			}
			buf_append_char(&b, *lx->p);
			advance(lx);
		}
		if (lx->p < lx->end) {
			/* lines end in CRLF in the value (section 2.4.2) */
			if (b.len == 0 || b.data[b.len - 1] != '\r')
				buf_append_char(&b, '\r');
			buf_append_char(&b, '\n');
			advance(lx);
		}
	}
	tok->type = SIEVE_TOK_STRING;
	tok->text = buf_steal(&b);
	return 0;
}

static int lex_punct(struct sieve_lexer *lx, struct sieve_token *tok, struct sieve_error *err)
{
	char c = *lx->p;

	switch (c) {
	case '[':
		tok->type = SIEVE_TOK_LBRACKET;
		break;
	case ']':
		tok->type = SIEVE_TOK_RBRACKET;
		break;
	case '(':
		tok->type = SIEVE_TOK_LPAREN;
		break;
	case ')':
		tok->type = SIEVE_TOK_RPAREN;
		break;
	case '{':
		tok->type = SIEVE_TOK_LBRACE;
		break;
	case '}':
		tok->type = SIEVE_TOK_RBRACE;
		break;
	case ',':
		tok->type = SIEVE_TOK_COMMA;
		break;
	case ';':
		tok->type = SIEVE_TOK_SEMICOLON;
		break;
	default:
		if (isprint((unsigned char)c))
			return sieve_error_set(err, lx->line, lx->column,
			                       "unexpected character '%c'", c);
		return sieve_error_set(err, lx->line, lx->column, "unexpected character 0x%02x",
		                       (unsigned char)c);
	}
	advance(lx);
	return 0;
}

int sieve_lex_next(struct sieve_lexer *lx, struct sieve_token *tok, struct sieve_error *err)
{
	memset(tok, 0, sizeof(*tok));
	if (skip_space(lx, err) < 0)
		return -1;
	tok->line = lx->line;
	tok->column = lx->column;
	if (lx->p >= lx->end) {
		tok->type = SIEVE_TOK_EOF;
		return 0;
	}
	char c = *lx->p;
	if (c == '"')
		return lex_quoted(lx, tok, err);
	if (isdigit((unsigned char)c))
		return lex_number(lx, tok, err);
	if (c == ':') {
		advance(lx);
		if (lx->p >= lx->end || !ident_start(*lx->p))
			return sieve_error_set(err, tok->line, tok->column, "bad tag");
		tok->type = SIEVE_TOK_TAG;
		tok->text = lex_word(lx);
		return 0;
	}
	if (ident_start(c)) {
		if (at(lx, "text:")) {
			const char *q = lx->p + 5;
			while (q < lx->end && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= lx->end || *q == '#' || *q == '\r' || *q == '\n')
				return lex_multiline(lx, tok, err);
		}
		tok->type = SIEVE_TOK_IDENT;
		tok->text = lex_word(lx);
		return 0;
	}
	return lex_punct(lx, tok, err);
}
