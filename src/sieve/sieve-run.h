#ifndef TERN_SIEVE_SIEVE_RUN_H
#define TERN_SIEVE_SIEVE_RUN_H

/* The state of one run, shared by the evaluator's files. */

#include "sieve/sieve-match.h"
#include "sieve/sieve-private.h"

#include "lib/array.h"

struct sieve_var {
	char *name; /* lower-cased */
	char *value;
};
typedef ARRAY(struct sieve_var) sieve_var_array;

/* One script's variable scope (RFC 5229; RFC 6609 section 3.4 for global). */
struct sieve_scope {
	const struct sieve_script *script;
	sieve_var_array vars;
	ARRAY(char *) globals; /* names declared global here */
	bool variables;        /* the script requires variables */
};

struct sieve_run {
	const struct sieve_message *msg;
	const struct sieve_limits *limits;
	struct sieve_scope *scope;
	sieve_var_array global_vars;
	struct sieve_captures caps;
	ARRAY(struct sieve_action) actions;
	ARRAY(struct sieve_edit) edits;
	ARRAY(char *) dup_ids;
	ARRAY(uint64_t) dup_secs;
	ARRAY(char *) included; /* for include :once */
	char **flags;           /* the internal flags variable (imap4flags) */
	size_t nflags;
	bool implicit_keep;
	bool stopped;
	unsigned include_depth;
	unsigned includes_run;            /* include commands carried out so far */
	const struct sieve_testsuite *ts; /* vnd.dovecot.testsuite hooks, or NULL */
	char *test_failure;               /* the reason test_fail gave */
	char *error;
};

/* Record a run-time error at node n; returns -1. */
int sieve_run_error(struct sieve_run *r, const struct sieve_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The most bytes one string expands to; the rest is cut off. */
#define SIEVE_EXPAND_MAX (256 * 1024)
/* The most include commands one run carries out, so that a script that
   includes itself many times cannot multiply its work (depth alone is
   not enough: n includes per level make n^depth runs). */
#define SIEVE_INCLUDES_MAX 64

/* s with ${...} expanded when the current script requires variables
   (RFC 5229 section 3); malloc'ed. */
char *sieve_expand(struct sieve_run *r, const char *s);

/* The value of variable name in the current scope ("" if unset); a
   pointer into the run's storage. NULL if name is not a variable name. */
const char *sieve_var_get(struct sieve_run *r, const char *name);
/* Set variable name to value (taken over), truncated to the limit. */
void sieve_var_set(struct sieve_run *r, const char *name, char *value);

/* Evaluate a test: 1 true, 0 false, -1 error (r->error set). */
int sieve_eval_test(struct sieve_run *r, const struct sieve_node *t);

/* Run commands; 0, or -1 on error. Stops early on stop (r->stopped) and
   return (*returned). */
int sieve_eval_block(struct sieve_run *r, const struct sieve_node *cmds, size_t n, bool *returned);

/* Forget the actions, edits and flags so far (a testsuite `test` block
   starts afresh). */
void sieve_run_reset(struct sieve_run *r);

/* Run a whole script in a new variable scope: 0, or -1 on error. */
int sieve_run_script(struct sieve_run *r, const struct sieve_script *s);

/* Every value of header name (case-insensitive) as the script sees it:
   the message's, with the run's addheader/deleteheader edits applied. The
   caller frees the array (not the strings, which live in the message or
   the edits). */
size_t sieve_header_values(struct sieve_run *r, const char *name, const char ***values_r);

/* Split a split list of flags (space separated, RFC 5232 section 3) into
   words appended to *flags (deduplicated, case-insensitively). */
void sieve_flags_add(char ***flags, size_t *n, const char *s);
void sieve_flags_remove(char ***flags, size_t *n, const char *s);
/* The flags joined by single spaces; malloc'ed. */
char *sieve_flags_join(char *const *flags, size_t n);
void sieve_flags_free(char ***flags, size_t *n);

/* Parse the addresses of a header value ("A <a@b>, c@d") into malloc'ed
   "local@domain" strings appended to *out. */
void sieve_parse_addresses(const char *value, char ***out, size_t *n);

/* The date parts of RFC 5260 section 4.2 for a time t shown in zone
   (minutes east); NULL for an unknown part. malloc'ed. */
char *sieve_date_part(time_t t, int zone, const char *part);
/* Parse an RFC 5322 date; 0 with *t_r (UTC) and *zone_r, or -1. */
int sieve_parse_date(const char *s, time_t *t_r, int *zone_r);

#endif
