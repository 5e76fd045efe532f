#ifndef TERN_SIEVE_SIEVE_LEXER_H
#define TERN_SIEVE_SIEVE_LEXER_H

/*
 * The lexical grammar of RFC 5228 section 8.1: identifiers, tags,
 * numbers with K/M/G, quoted strings (\" and \\ escapes; any other escaped
 * character stands for itself), multi-line text:...CRLF.CRLF with
 * dot-stuffing, # and bracketed comments, and the punctuation [ ] ( ) { }
 * , ;. Works on a whole buffer (the script is small and bounded): there is
 * no "need more", a token cut by the end of input is an error at the
 * position of the token's start.
 */

#include "sieve/sieve.h"

enum sieve_tok {
	SIEVE_TOK_EOF,
	SIEVE_TOK_IDENT,
	SIEVE_TOK_TAG,
	SIEVE_TOK_NUMBER,
	SIEVE_TOK_STRING, /* quoted or multi-line: text holds the value */
	SIEVE_TOK_LBRACKET,
	SIEVE_TOK_RBRACKET,
	SIEVE_TOK_LPAREN,
	SIEVE_TOK_RPAREN,
	SIEVE_TOK_LBRACE,
	SIEVE_TOK_RBRACE,
	SIEVE_TOK_COMMA,
	SIEVE_TOK_SEMICOLON,
};

struct sieve_token {
	enum sieve_tok type;
	unsigned line, column; /* 1-based start */
	char *text;            /* IDENT, TAG (without ':'), STRING: malloc'ed */
	uint64_t number;       /* NUMBER */
};

struct sieve_lexer {
	const char *p, *end;
	unsigned line, column;
};

/* Start lexing len bytes at text. */
void sieve_lexer_init(struct sieve_lexer *lx, const char *text, size_t len);

/* The next token into *tok (tok->text is the caller's to free; NULL for
   tokens without text). Returns 0, or -1 with err filled (a bad
   character, an unterminated string or comment, a number out of range,
   a NUL byte). At the end of input returns 0 with SIEVE_TOK_EOF. */
int sieve_lex_next(struct sieve_lexer *lx, struct sieve_token *tok, struct sieve_error *err);

/* A short name of a token type for messages ("identifier", "';'"). */
const char *sieve_tok_name(enum sieve_tok type);

#endif
