#ifndef TERN_SIEVE_SIEVE_PRIVATE_H
#define TERN_SIEVE_SIEVE_PRIVATE_H

/* The compiled form shared by the parser, the validator and the evaluator. */

#include "sieve/sieve.h"

#include <stdarg.h>

struct sieve_strlist {
	char **items;
	size_t count;
};

enum sieve_arg_type { SIEVE_ARG_TAG, SIEVE_ARG_NUMBER, SIEVE_ARG_STRINGS };

struct sieve_arg {
	enum sieve_arg_type type;
	unsigned line, column;
	bool is_list;            /* a [..] list rather than a single string */
	char *tag;               /* TAG: the name without ':' */
	uint64_t number;         /* NUMBER: with K/M/G applied */
	struct sieve_strlist sl; /* STRINGS */
	bool used;               /* consumed by the validator */
};

enum sieve_match {
	SIEVE_MATCH_IS,
	SIEVE_MATCH_CONTAINS,
	SIEVE_MATCH_MATCHES,
	SIEVE_MATCH_REGEX,
	SIEVE_MATCH_VALUE,
	SIEVE_MATCH_COUNT
};
enum sieve_cmp { SIEVE_CMP_CASEMAP, SIEVE_CMP_OCTET, SIEVE_CMP_NUMERIC };
enum sieve_relop {
	SIEVE_REL_GT,
	SIEVE_REL_GE,
	SIEVE_REL_LT,
	SIEVE_REL_LE,
	SIEVE_REL_EQ,
	SIEVE_REL_NE
};
enum sieve_addrpart {
	SIEVE_ADDR_ALL,
	SIEVE_ADDR_LOCAL,
	SIEVE_ADDR_DOMAIN,
	SIEVE_ADDR_USER,
	SIEVE_ADDR_DETAIL
};

/* What the validator extracted from a node's arguments. */
struct sieve_opts {
	enum sieve_match match;
	enum sieve_relop relop;
	enum sieve_cmp cmp;
	enum sieve_addrpart addrpart;
	enum sieve_body_transform transform;
	struct sieve_arg *content_types; /* body :content */
	bool copy, create, last, once, optional, global, over, under, percent;
	bool is_mime, zone_original, mod_set;
	unsigned index;          /* :index n (0 = none) */
	struct sieve_arg *flags; /* :flags */
	struct sieve_arg *zone;  /* :zone */
	struct sieve_arg *days;  /* vacation :days / :seconds */
	uint64_t seconds;
	bool has_seconds;
	struct sieve_arg *subject, *from, *addresses, *handle, *header_arg, *uniqueid;
	unsigned modifiers; /* set: bit per modifier */
	void **regexes;     /* :regex: a compiled regex_t per constant key, or NULL */
	size_t nregexes;
	struct sieve_arg *pos[4]; /* positional arguments in order */
	size_t npos;
};

enum {
	SIEVE_MOD_LOWER = 1,
	SIEVE_MOD_UPPER = 2,
	SIEVE_MOD_LOWERFIRST = 4,
	SIEVE_MOD_UPPERFIRST = 8,
	SIEVE_MOD_QUOTEWILDCARD = 16,
	SIEVE_MOD_LENGTH = 32,
	SIEVE_MOD_QUOTEREGEX = 64,
	SIEVE_MOD_ENCODEURL = 128
};

/* A command or a test (they share the shape of RFC 5228 section 8.2). */
struct sieve_node {
	char *name;
	unsigned line, column;
	struct sieve_arg *args;
	size_t nargs;
	struct sieve_node *tests; /* test / test-list */
	size_t ntests;
	bool tests_is_list; /* ( ... ) rather than a single test */
	bool has_block;
	struct sieve_node *block; /* commands of the { } block */
	size_t nblock;
	int id; /* the validator's command/test id */
	struct sieve_opts o;
};

/* extension bits */
enum sieve_ext {
	SIEVE_EXT_FILEINTO,
	SIEVE_EXT_REJECT,
	SIEVE_EXT_EREJECT,
	SIEVE_EXT_ENVELOPE,
	SIEVE_EXT_ENCODED,
	SIEVE_EXT_IMAP4FLAGS,
	SIEVE_EXT_BODY,
	SIEVE_EXT_VARIABLES,
	SIEVE_EXT_VACATION,
	SIEVE_EXT_VACATION_SECONDS,
	SIEVE_EXT_RELATIONAL,
	SIEVE_EXT_NUMERIC,
	SIEVE_EXT_SUBADDRESS,
	SIEVE_EXT_COPY,
	SIEVE_EXT_DATE,
	SIEVE_EXT_INDEX,
	SIEVE_EXT_EDITHEADER,
	SIEVE_EXT_MAILBOX,
	SIEVE_EXT_REGEX,
	SIEVE_EXT_INCLUDE,
	SIEVE_EXT_DUPLICATE,
	SIEVE_EXT_SPAMTEST,
	SIEVE_EXT_SPAMTESTPLUS,
	SIEVE_EXT_VIRUSTEST,
	SIEVE_EXT_ENVIRONMENT,
	SIEVE_EXT_TESTSUITE, /* vnd.dovecot.testsuite: only with sieve_compile_testsuite() */
	SIEVE_EXT_COUNT
};

struct sieve_script {
	struct sieve_node *cmds;
	size_t ncmds;
	uint32_t exts; /* bit per enum sieve_ext required */
	struct sieve_limits limits;
	bool testsuite; /* vnd.dovecot.testsuite may be required */
};

/* The hooks of the vnd.dovecot.testsuite commands, for the .svtest
   runner (tests/unit/sieve/). */
struct sieve_testsuite {
	void *ctx;
	/* `test "name" { ... }` ends: failure is NULL when it passed, else
	   the test_fail reason or the run-time error. */
	void (*test_end)(void *ctx, const char *name, const char *failure);
	/* `test_set "item" "value"`: item is "message", "envelope.from",
	   "envelope.to" ...; 0 or -1 with *error_r. */
	int (*set)(void *ctx, const char *item, const char *value, const char **error_r);
};

/* sieve_compile(), with the vnd.dovecot.testsuite extension available. */
int sieve_compile_testsuite(const char *text, size_t len, struct sieve_script **script_r,
                            struct sieve_error *error_r);

/* sieve_run() with the testsuite hooks: each `test` block runs with a
   fresh result and reports to ts. */
int sieve_run_testsuite(const struct sieve_script *script, const struct sieve_message *msg,
                        const struct sieve_testsuite *ts, struct sieve_result *result_r);

/* Fill err with a formatted message at line:column. Always returns -1. */
int sieve_error_set(struct sieve_error *err, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parse text into script->cmds (no validation). 0 or -1 with err. */
int sieve_parse(const char *text, size_t len, const struct sieve_limits *limits,
                struct sieve_script *script, struct sieve_error *err);

/* Check every command and test, resolve tags into node->o, record the
   extensions. 0 or -1 with err. */
int sieve_validate(struct sieve_script *script, struct sieve_error *err);

/* The name of an extension and its lookup; -1 if unknown. */
const char *sieve_ext_name(enum sieve_ext ext);
int sieve_ext_lookup(const char *name);

/* Free the nodes of a parsed tree. */
void sieve_nodes_free(struct sieve_node *nodes, size_t count);
void sieve_strlist_free(struct sieve_strlist *sl);

/* Decode ${hex:..} and ${unicode:..} (RFC 5228 section 2.4.2.4) in s,
   in place. Returns 0, or -1 if a sequence is malformed in a way the RFC
   makes an error (a unicode value above 0x10FFFF or a surrogate). */
int sieve_decode_encoded(char **s);

#endif
