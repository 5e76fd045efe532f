#ifndef TERN_MAILAUTH_AUTH_RESULTS_H
#define TERN_MAILAUTH_AUTH_RESULTS_H

/*
 * Authentication-Results (RFC 8601): a writer for the header this host adds
 * to every message received on port 25, and a parser, used to find (and
 * remove) headers from outside that claim this host's authserv-id
 * (RFC 8601 section 5) and to read results in tests.
 *
 * Both work on the field value only (after "Authentication-Results:"). The
 * parser takes a whole unfolded or folded value: header values come
 * complete and bounded from the MIME header parser, so there is no
 * "need more" state; it does no I/O.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/array.h"
#include "lib/buf.h"

/* Limits of the parser: value bytes, result entries, properties per
   entry, comment nesting. */
#define AUTH_RESULTS_MAX_LEN     16384
#define AUTH_RESULTS_MAX_ENTRIES 64
#define AUTH_RESULTS_MAX_PROPS   16
#define AUTH_RESULTS_MAX_NESTING 16

/* --- writer --- */

struct auth_results_writer {
	struct buf *out;
	unsigned entries;
	bool fold;
};

/* Start a value in out (appended): the authserv-id, quoted if it is not a
   token (RFC 8601 2.2). With fold, each result starts on a new line
   ("\r\n\t"), so the header stays under 78 columns in the usual case. */
void auth_results_writer_init(struct auth_results_writer *w, struct buf *out,
                              const char *authserv_id, bool fold);

/* Append "; method=result (comment) ptype.property=value ...". comment
   may be NULL. The variable arguments are pairs of const char *: a
   "ptype.property" name and its value, ended by a NULL name; a pair whose
   value is NULL is left out. Values are written bare when they are a
   token or a [local-part] "@" domain-name, else as a quoted-string;
   control characters are replaced by spaces. */
void auth_results_add(struct auth_results_writer *w, const char *method, const char *result,
                      const char *comment, ...) __attribute__((sentinel));

/* End the value: "; none" when no result was added (RFC 8601 2.2
   no-result). */
void auth_results_writer_finish(struct auth_results_writer *w);

/* --- parser --- */

struct auth_results_prop {
	char *ptype;    /* "smtp", "header", "body", "policy", lower-case */
	char *property; /* "mailfrom", "d", ... as written */
	char *value;    /* unquoted */
};

struct auth_results_entry {
	char *method; /* lower-case, version removed */
	char *result; /* lower-case */
	char *reason; /* reason= value, or NULL */
	struct auth_results_prop props[AUTH_RESULTS_MAX_PROPS];
	size_t prop_count;
};

struct auth_results {
	char *authserv_id;                        /* unquoted, as written */
	unsigned version;                         /* 1 unless given */
	ARRAY(struct auth_results_entry) entries; /* none for "none" */
};

/* Parse a whole value. Returns 0 with a new result in *ar_r, or -1 with
 *error_r a static reason (nothing allocated). */
int auth_results_parse(const char *value, size_t len, struct auth_results **ar_r,
                       const char **error_r);

/* Only the authserv-id, leading comments and quoted forms handled; the rest
   of the value is not looked at. Returns 0 and appends the id to id_out,
   or -1 with *error_r. */
int auth_results_authserv_id(const char *value, size_t len, struct buf *id_out,
                             const char **error_r);

/* True if the value's authserv-id equals authserv_id (case-insensitive, as
   host names are). A value whose id cannot be parsed is not a claim. */
bool auth_results_claims(const char *value, size_t len, const char *authserv_id);

/* The first property ptype.property of entry, or NULL. */
const char *auth_results_prop_value(const struct auth_results_entry *entry, const char *ptype,
                                    const char *property);

/* Free; NULL is fine; sets *ar NULL. */
void auth_results_free(struct auth_results **ar);

#endif
