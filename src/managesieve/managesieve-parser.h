#ifndef TERN_MANAGESIEVE_MANAGESIEVE_PARSER_H
#define TERN_MANAGESIEVE_MANAGESIEVE_PARSER_H

/*
 * The ManageSieve command parser (RFC 5804 section 4): I/O-free, fed bytes
 * as they arrive, one command at a time. A command is a run of tokens
 * separated by spaces and ended by CRLF (a bare LF is accepted):
 *
 *   atom     1*<any CHAR but SP, CR, LF, '"', '{', '}', '(', ')', '\', NUL>
 *   quoted   '"' *(<CHAR but CR, LF, NUL, '"', '\'> / '\' '"' / '\' '\') '"'
 *   literal  '{' number ['+'] '}' CRLF <number octets>
 *
 * Both literal forms are accepted ({n+} is what RFC 5804 clients send; no
 * continuation is ever needed). A literal of more than max_literal octets
 * is an error (MSIEVE_ERR_TOO_BIG): its octets are skipped, then the rest
 * of the line. With a sink set, a literal of at least stream_min octets is
 * not kept: its octets go to the sink as they arrive (PUTSCRIPT into a
 * temporary file) and its token says streamed. Every other error (syntax,
 * more than max_line non-literal octets, more than MSIEVE_MAX_TOKENS
 * tokens, a NUL) skips to the end of the line and is reported there.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIEVE_MAX_TOKENS 8

enum msieve_parse_result {
	MSIEVE_PARSE_NEED_MORE, /* every byte given was consumed; no command yet */
	MSIEVE_PARSE_COMMAND,   /* see msieve_parser_command() */
	MSIEVE_PARSE_ERROR,     /* see msieve_parser_error() */
};

enum msieve_parse_error {
	MSIEVE_ERR_SYNTAX,
	MSIEVE_ERR_TOO_LONG, /* the line (without literals) or too many tokens */
	MSIEVE_ERR_TOO_BIG,  /* a literal over max_literal */
	MSIEVE_ERR_SINK,     /* the sink refused data */
};

enum msieve_token_type { MSIEVE_ATOM, MSIEVE_STRING };

struct msieve_token {
	enum msieve_token_type type;
	const char *data; /* NUL-terminated (a literal may hold NULs: use len);
	                     NULL when streamed */
	size_t len;
	bool literal;  /* a string sent as a literal */
	bool streamed; /* its len octets went to the sink */
};

struct msieve_command {
	struct msieve_token tokens[MSIEVE_MAX_TOKENS];
	size_t count; /* 0 for an empty line */
};

/* The sink of streamed literals: 0, or -1 to refuse (ERR_SINK). */
typedef int msieve_sink_fn(void *ctx, const void *data, size_t len);

struct msieve_parser;

/* A parser with these limits (max_line at least 16). Never NULL. */
struct msieve_parser *msieve_parser_new(size_t max_line, uint64_t max_literal);
/* Free and set *p NULL; NULL is fine. */
void msieve_parser_free(struct msieve_parser **p);
/* Change the literal limit (from the next literal on). */
void msieve_parser_set_max_literal(struct msieve_parser *p, uint64_t max_literal);
/* Stream literals of at least stream_min octets to sink (NULL: keep all). */
void msieve_parser_set_sink(struct msieve_parser *p, uint64_t stream_min, msieve_sink_fn *sink,
                            void *ctx);

/* Feed len bytes; *consumed_r says how many were used: the parser stops
   right after the line end of a command or error, so the caller feeds the
   rest again after handling the event. */
enum msieve_parse_result msieve_parser_feed(struct msieve_parser *p, const void *data, size_t len,
                                            size_t *consumed_r);

/* The last COMMAND: valid until the next feed. */
const struct msieve_command *msieve_parser_command(const struct msieve_parser *p);
/* The last ERROR: its kind and a static text. */
enum msieve_parse_error msieve_parser_error(const struct msieve_parser *p, const char **text_r);

/* True if tok is an atom equal to word, case-insensitively. */
bool msieve_token_is(const struct msieve_token *tok, const char *word);

#endif
