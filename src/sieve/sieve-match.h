#ifndef TERN_SIEVE_SIEVE_MATCH_H
#define TERN_SIEVE_SIEVE_MATCH_H

/* Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric) and
   match types (:is :contains :matches :regex, RFC 5231 :value). */

#include "sieve/sieve-private.h"

#define SIEVE_MATCH_VARS 10

/* The match variables ${0}..${9} (RFC 5229 section 3.2); malloc'ed or
   NULL. */
struct sieve_captures {
	char *v[SIEVE_MATCH_VARS];
};

void sieve_captures_clear(struct sieve_captures *c);

/* Compare a and b with cmp: <0, 0, >0. For i;ascii-numeric a string
   not starting with a digit is positive infinity (RFC 4790 section 9.1). */
int sieve_cmp_order(enum sieve_cmp cmp, const char *a, const char *b);

/* True if relop holds for the order o (the result of a comparison). */
bool sieve_relop_holds(enum sieve_relop relop, int o);

/* Match value against key with match type m (not COUNT) and cmp. When
   cap is non-NULL and the match succeeds, the captures of :matches or
   :regex are stored there (replacing the old ones). Returns 1 on a match,
   0 on none, -1 if key is a bad regular expression. */
int sieve_match_one(enum sieve_match m, enum sieve_cmp cmp, enum sieve_relop relop,
                    const char *value, const char *key, struct sieve_captures *cap);

/* Match value against a compiled regex (from the validator); the
   captures as sieve_match_one. Returns 1 or 0. */
int sieve_match_compiled(const void *regex, const char *value, struct sieve_captures *cap);

/* Quote the wildcards * ? \ of s with a backslash (set :quotewildcard). A
   malloc'ed string. */
char *sieve_quote_wildcards(const char *s);

#endif
