#ifndef TERN_IMAP_IMAP_PARSER_H
#define TERN_IMAP_IMAP_PARSER_H

/*
 * The IMAP command parser: an I/O-free state machine (RFC 3501 section 9,
 * RFC 9051, RFC 7888 literals). It is fed bytes in chunks of any size and
 * produces one command at a time as a tag, an upper-cased command name and
 * a tree of arguments.
 *
 * Tokens: atoms (numbers, sequence sets, flags like \Seen, list patterns
 * with * and % are atoms too), quoted strings, literals {n} and {n+},
 * literal8 ~{n} and ~{n+} (RFC 3516), NIL and parenthesised lists. '[' and
 * ']' are atom chars (SELECT a[b is the mailbox "a[b"), except that in
 * FETCH, UID FETCH and NOTIFY (MessageNew's attributes) an atom BODY, BODY.PEEK, BINARY,
 * BINARY.PEEK or BINARY.SIZE followed by '[' holds a section with spaces, nested lists and quoted
 * strings inside up to the matching ']', as BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100> needs (RFC
 * 3501 fetch-att).
 *
 * After an error the rest of the line is skipped (a non-synchronising
 * literal announced on it is skipped too), so the next command parses
 * normally.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,    /* str: the atom as sent (case preserved) */
	IMAP_ARG_STRING,  /* str: the unescaped quoted string */
	IMAP_ARG_LITERAL, /* str: the literal's bytes (NULL if streamed) */
	IMAP_ARG_NIL,     /* str: "NIL" as sent */
	IMAP_ARG_LIST,    /* list/count: the elements */
};

struct imap_arg {
	enum imap_arg_type type;
	/* Atom, string, literal, NIL: NUL-terminated (a literal may contain
	   NULs before it: use len). */
	char *str;
	size_t len;
	/* Literal: true if the bytes went to the literal sink instead of str. */
	bool streamed;
	/* Literal: true for a literal8 "~{n}" / "~{n+}" (RFC 3516 4.3), whose
	   bytes may include NUL; only APPEND takes one. */
	bool literal8;
	struct imap_arg *list;
	size_t count;
	size_t cap; /* private */
};

struct imap_command {
	char *tag;  /* as sent */
	char *name; /* upper-cased */
	struct imap_arg *args;
	size_t count;
};

struct imap_parser_limits {
	size_t max_line;       /* bytes of one line, literal bytes not counted */
	uint64_t max_literal;  /* bytes of one literal */
	uint64_t max_literals; /* literal bytes held in memory for one command */
	unsigned max_args;     /* arguments in one command, list elements included */
	unsigned max_depth;    /* list nesting */
};

enum imap_parse_result {
	/* All the input given was consumed; feed more. */
	IMAP_PARSE_NEED_MORE,
	/* A command is complete: imap_parser_command(). */
	IMAP_PARSE_COMMAND,
	/* The client announced a synchronising literal of
	   imap_parser_literal_size() bytes that is within the limit: the
	   server must send "+ Ready for literal data" and keep feeding. */
	IMAP_PARSE_CONTINUE,
	/* The command is invalid: imap_parser_error() says why and gives the
	   tag if it was read. The parser skips the rest of the line by
	   itself; keep feeding. */
	IMAP_PARSE_ERROR,
};

/*
 * The streaming hook for large literals (APPEND). Before a literal's bytes
 * are read, open() is called with the command parsed so far and the
 * literal's size; if it returns true, the bytes are passed to write() as
 * they arrive instead of being held in memory (and the max_literals limit
 * does not apply to them), then close() is called. The argument is then a
 * literal with streamed = true and str NULL. write() returning -1 turns the
 * command into an error after the literal's bytes are consumed.
 */
struct imap_literal_sink {
	bool (*open)(void *ctx, const struct imap_command *partial, uint64_t size);
	int (*write)(void *ctx, const void *data, size_t len);
	void (*close)(void *ctx);
	void *ctx;
};

struct imap_parser;

/* A new parser with these limits (copied). Never returns NULL. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
/* Free the parser and everything it returned; sets *parser to NULL.
   NULL is fine. */
void imap_parser_free(struct imap_parser **parser);

/* Change the limits (after login, say); applies from the next token. */
void imap_parser_set_limits(struct imap_parser *parser, const struct imap_parser_limits *limits);
/* Install (or remove, with NULL) the literal sink; copied. */
void imap_parser_set_sink(struct imap_parser *parser, const struct imap_literal_sink *sink);

/*
 * Feed up to len bytes. Parsing stops at the first event, so *consumed_r
 * (always set) may be less than len: call again with the rest. Returns
 * the event (see enum imap_parse_result). A command or an error returned
 * stays valid until the next call.
 */
enum imap_parse_result imap_parser_feed(struct imap_parser *parser, const void *data, size_t len,
                                        size_t *consumed_r);

/* The command just completed (after IMAP_PARSE_COMMAND), owned by the
   parser and valid until the next imap_parser_feed(). */
const struct imap_command *imap_parser_command(const struct imap_parser *parser);

/* After IMAP_PARSE_ERROR: the reason (a static string) and, in *tag_r, the
   tag or NULL if it was not read (reply with "* BAD"). Both are valid until
   the next imap_parser_feed(). */
const char *imap_parser_error(const struct imap_parser *parser, const char **tag_r);

/* What kind of error the last IMAP_PARSE_ERROR was, for callers that act
   on it (the text is for the client and the log only). */
enum imap_parse_error {
	IMAP_PARSE_ERR_SYNTAX,          /* malformed command */
	IMAP_PARSE_ERR_LITERAL_TOO_BIG, /* over max_literal or max_literals (RFC 7889 TOOBIG) */
	IMAP_PARSE_ERR_LINE_TOO_LONG,   /* over max_line */
	IMAP_PARSE_ERR_LITERAL_STORE,   /* the sink's write() failed */
};
enum imap_parse_error imap_parser_error_kind(const struct imap_parser *parser);

/* After IMAP_PARSE_CONTINUE: the announced literal size. */
uint64_t imap_parser_literal_size(const struct imap_parser *parser);

/* True if the parser is between commands (nothing of a new line read). */
bool imap_parser_idle(const struct imap_parser *parser);

/* Argument helpers. imap_arg_astring() accepts an atom, a quoted string, a
   literal held in memory, or NIL (as the atom "NIL"): returns its text, or
   NULL if arg is a list, a streamed literal or a literal8 (not an astring
   in RFC 3516's grammar). */
const char *imap_arg_astring(const struct imap_arg *arg);
/* An atom (or NIL read as an atom), or NULL. */
const char *imap_arg_atom(const struct imap_arg *arg);
/* A number: an atom of 1 to 19 digits (RFC 3501 number, RFC 9051
   number64). Returns 0, or -1 if arg is not one. */
int imap_arg_number(const struct imap_arg *arg, uint64_t *number_r);

#endif
