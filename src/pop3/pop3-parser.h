#ifndef TERN_POP3_POP3_PARSER_H
#define TERN_POP3_POP3_PARSER_H

/*
 * The POP3 command parser (RFC 1939 3, RFC 2449 3): I/O-free, fed bytes
 * as they arrive, one command line at a time. A line ends with LF (a CR
 * before it is dropped); the keyword is upper-cased (commands are
 * case-insensitive), the arguments are the words after it, separated by
 * runs of spaces. The line as sent (without its line end) is kept too,
 * for AUTH continuation lines, which are not commands.
 *
 * A line longer than the limit (counting its line end) is an error,
 * reported as soon as the limit is reached; the rest of it, up to and
 * including the next LF, is discarded without further events. A line
 * holding a NUL byte is an error when it ends.
 */

#include <stdbool.h>
#include <stddef.h>

/* Arguments kept per command; more make the line an error (RFC 1939
   commands take at most two, AUTH two). */
#define POP3_MAX_ARGS 8

enum pop3_parse_result {
	POP3_PARSE_NEED_MORE, /* every byte given was consumed; no line yet */
	POP3_PARSE_COMMAND,   /* a line: see pop3_parser_command() */
	POP3_PARSE_ERROR,     /* a bad line: see pop3_parser_error() */
};

struct pop3_command {
	const char *name;                /* upper-cased keyword; "" for an empty line */
	const char *args[POP3_MAX_ARGS]; /* NUL-terminated words */
	size_t count;
	const char *rest; /* the line from the first argument on, as sent ("" if none) */
	const char *line; /* the whole line, without CR LF */
	size_t line_len;
};

struct pop3_parser;

/* A parser of lines of at most max_line bytes with their line end
   (at least 3). Never returns NULL. */
struct pop3_parser *pop3_parser_new(size_t max_line);
/* Free and set *p to NULL; NULL is fine. */
void pop3_parser_free(struct pop3_parser **p);
/* Change the line limit (from the next line on). */
void pop3_parser_set_max_line(struct pop3_parser *p, size_t max_line);

/* Feed len bytes of data. *consumed_r says how many were used: the parser
   stops right after the LF of a line (COMMAND or ERROR), or when the
   limit is reached (ERROR), so the caller feeds the rest again after
   handling the event. */
enum pop3_parse_result pop3_parser_feed(struct pop3_parser *p, const void *data, size_t len,
                                        size_t *consumed_r);

/* The command of the last COMMAND result: valid until the next feed. */
const struct pop3_command *pop3_parser_command(const struct pop3_parser *p);

/* Why the last ERROR result: static text. */
const char *pop3_parser_error(const struct pop3_parser *p);

#endif
