#ifndef TERN_MAILAUTH_PSL_H
#define TERN_MAILAUTH_PSL_H

/*
 * The Public Suffix List (https://publicsuffix.org/list/) and the
 * Organizational Domain of RFC 7489 section 3.2.
 *
 * Rules are kept in a hash table keyed by the rule's labels, so a lookup
 * costs one probe per label of the domain. Both sections of the list
 * (ICANN and PRIVATE) are used, as the test vectors of the list do.
 *
 * IDN: the file is UTF-8 and names rules by U-labels. Each rule with a
 * non-ASCII label is stored twice, as written and with every such label
 * converted to its A-label (RFC 3492 Punycode, "xn--"), so a domain matches
 * whether it is written with A-labels or with U-labels. Only ASCII letters
 * are case-folded; a U-label is compared as given (no Unicode
 * normalisation or case mapping, which the list does not need for the
 * lower-case labels it publishes).
 */

#include <stdbool.h>
#include <stddef.h>

/* Debian's copy (package publicsuffix). */
#define PSL_DEFAULT_PATH "/usr/share/publicsuffix/public_suffix_list.dat"
/* Limits: file size, rules, bytes in one rule or one looked-up domain. */
#define PSL_MAX_FILE_SIZE (16 * 1024 * 1024)
#define PSL_MAX_RULES     200000
#define PSL_MAX_NAME      1024

struct psl;

/* A new empty list (only the implicit "*" rule applies); never NULL. */
struct psl *psl_new(void);

/* Add one line of the list format: a rule ("com", "*.ck", "!www.ck"),
   a "//" comment or a blank line (both ignored). Text after the first
   whitespace is ignored, as the format says. Returns 0, or -1 with
   *error_r a static reason (empty label, rule too long, too many rules). */
int psl_add_rule(struct psl *psl, const char *line, size_t len, const char **error_r);

/* Load a list file (PSL_DEFAULT_PATH or one the admin names). Returns 0
   with a new list in *psl_r, or -1 with *error_r a malloc'ed
   "path[:line]: reason" the caller frees. */
int psl_load(const char *path, struct psl **psl_r, char **error_r);

/* Number of rules stored (an IDN rule counts twice). */
size_t psl_count(const struct psl *psl);

/* The public suffix of domain: returns 1 and sets *suffix_r to the point
   inside domain where it starts; 0 if domain is not a valid name (empty,
   an empty label, too long). A trailing dot is not allowed. */
int psl_public_suffix(const struct psl *psl, const char *domain, const char **suffix_r);

/* The Organizational Domain (RFC 7489 3.2): the public suffix plus one
   label. Returns 1 and sets *org_r to the point inside domain where it
   starts (so it keeps domain's case and lives as long as domain); 0 when
   domain is itself a public suffix or not a valid name. */
int psl_org_domain(const struct psl *psl, const char *domain, const char **org_r);

/* Free the list; NULL is fine; sets *psl NULL. */
void psl_free(struct psl **psl);

#endif
