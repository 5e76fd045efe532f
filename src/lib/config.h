#ifndef TERN_LIB_CONFIG_H
#define TERN_LIB_CONFIG_H

/*
 * The generic config file parser: bytes in, a tree of entries out. It knows
 * the syntax only; what the keys mean is settings.c's business.
 *
 *   # a comment, from # to the end of the line
 *   hostname = mail.example.com     # key = value, value trimmed
 *   name = "a # is kept, \" and \\ are escapes"
 *   empty =                         # an empty value
 *   listener smtp {                 # a block: name, optional label, {
 *           address = *:25
 *   }                               # } on its own line closes it
 *
 * Keys and block names are [a-z0-9_]+. A label is any run of characters
 * other than white space, '{', '"' and '#'. Limits: a line is at most
 * CONFIG_MAX_LINE bytes, blocks nest at most CONFIG_MAX_DEPTH deep, a file
 * holds at most CONFIG_MAX_ENTRIES entries (keys and blocks), and NUL bytes
 * are refused. Errors read "name:line: reason".
 *
 * The parser is a state machine that does no I/O: feed it the file's bytes in
 * pieces of any size, then finish it.
 */

#include <stddef.h>

#define CONFIG_MAX_LINE    8192
#define CONFIG_MAX_DEPTH   8
#define CONFIG_MAX_ENTRIES 10000

enum config_entry_type {
	CONFIG_ENTRY_VALUE, /* key = value */
	CONFIG_ENTRY_BLOCK, /* name [label] { children } */
};

struct config_entry {
	enum config_entry_type type;
	char *key;     /* the key or block name; NULL only for the root */
	char *value;   /* VALUE: the value ("" when empty); BLOCK: the label or NULL */
	unsigned line; /* where the entry (or the block's opening line) is */
	struct config_entry **children; /* BLOCK: the entries inside, in order */
	size_t child_count;
	size_t child_cap; /* private: the parser's */
};

struct config_parser;

/* A new parser. name (copied) is used in error messages, normally the file
   path. Never returns NULL. */
struct config_parser *config_parser_new(const char *name);

/* Feed the next len bytes. Returns 0 if all is well so far, or -1 on a syntax
   error with *error_r set to "name:line: reason" (owned by the parser, valid
   until it is freed). After an error, further calls return the same error. */
int config_parser_feed(struct config_parser *parser, const void *data, size_t len,
                       const char **error_r);

/* Signal the end of input. Returns 0 and the tree in *root_r (a BLOCK entry
   with key NULL, owned by the caller: free it with config_entry_free()), or
   -1 with *error_r as for config_parser_feed(). Call it at most once. */
int config_parser_finish(struct config_parser *parser, struct config_entry **root_r,
                         const char **error_r);

/* Free the parser (and any partial tree) and set *parser to NULL. NULL is
   fine. */
void config_parser_free(struct config_parser **parser);

/* Parse a whole buffer in one go. Returns 0 with *root_r as for
   config_parser_finish(), or -1 with *error_r a malloc'ed "name:line: reason"
   that the caller frees. */
int config_parse_buffer(const char *name, const void *data, size_t len,
                        struct config_entry **root_r, char **error_r);

/* A quoted rendering of s for error messages: "..." with \" \\ and \xNN
   escapes, cut after 64 bytes with "..." after the closing quote. Malloc'ed;
   the caller frees it. */
char *config_quote(const char *s);

/* Free an entry and everything below it, and set *entry to NULL. NULL is
   fine. */
void config_entry_free(struct config_entry **entry);

#endif
