#ifndef TERN_DIRECTORY_DIRECTORY_SENDER_H
#define TERN_DIRECTORY_DIRECTORY_SENDER_H

/*
 * Which sender addresses an authenticated user may use (submission, RFC
 * 6409 section 6.1; docs/submission.md). A user owns an address when it
 * is
 *   1. the user's own address;
 *   2. an alias (not a catch-all) that delivers to the user: the alias's
 *      source is exactly the address and its resolution (directory.h,
 *      directory_resolve) has the user among its local recipients;
 *   3. an address the admin allowed for the user (`tern user allow-sender
 *      alice@example.org sales@example.org`), or any address of a domain
 *      allowed as "@example.org" (a domain admin's catch-all).
 * Catch-all aliases give no ownership: a catch-all to the admin would
 * otherwise let the admin send as every unknown address of the domain.
 * Addresses are compared normalised, the local part without regard to
 * ASCII case (as the directory compares them).
 */

#include <stdbool.h>
#include <stddef.h>

#include "directory/directory.h"

/* The facts the rule decides on, gathered from the directory (or a test's
   table). All addresses normalised (address_normalize()). */
struct sender_facts {
	const char *user;    /* the authenticated user's address */
	const char *address; /* the sender to check; "" for the null path */
	/* rule 2: address is an alias source whose resolution delivers to user */
	bool alias_to_user;
	/* rule 3: the user's allowed entries, "a@d" or "@d" */
	const char *const *allowed;
	size_t allowed_count;
};

/* The rule above, a pure function: true if f->user owns f->address. The
   null path "" is never owned (the caller decides about <>). */
bool directory_sender_rule(const struct sender_facts *f);

/* Allow user (an existing user) to send as entry ("a@example.org", or
   "@example.org" for a whole domain; any domain, ours or not). Returns 0,
   or -1: malformed address, unknown user, "a@d may already send as e",
   database error. */
int directory_sender_allow(struct directory *dir, const char *user, const char *entry,
                           const char **error_r);

/* Take back an entry given by directory_sender_allow(). Returns 0, or -1:
   malformed, unknown user, "a@d has no allowed sender e", database
   error. */
int directory_sender_deny(struct directory *dir, const char *user, const char *entry,
                          const char **error_r);

/* The entries of user, sorted: 0 with a malloc'ed array of *count_r
   strings (NULL when none; free with directory_names_free()), or -1:
   malformed, unknown user, database error. */
int directory_sender_list(struct directory *dir, const char *user, char ***entries_r,
                          size_t *count_r, const char **error_r);

/* Whether user owns address (the rule above, with the facts from dir).
   Returns 1 owned, 0 not (also for a malformed address, an unknown user or
   the null path), -1 on a database error. */
int directory_sender_owns(struct directory *dir, const char *user, const char *address,
                          const char **error_r);

#endif
