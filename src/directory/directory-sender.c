/* Sender ownership for submission: the rule and the allowed-sender table
   (directory-sender.h). */
#include "directory/directory-sender.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "directory/directory-private.h"
#include "lib/address.h"
#include "lib/xalloc.h"

/* The domain part of a normalised address (after the last '@'). */
static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

static bool entry_matches(const char *entry, const char *address)
{
	if (entry[0] == '@')
		return strcasecmp(entry + 1, domain_of(address)) == 0;
	return strcasecmp(entry, address) == 0;
}

bool directory_sender_rule(const struct sender_facts *f)
{
	if (f->address[0] == '\0' || f->user[0] == '\0')
		return false;
	if (strcasecmp(f->user, f->address) == 0)
		return true;
	if (f->alias_to_user)
		return true;
	for (size_t i = 0; i < f->allowed_count; i++) {
		if (entry_matches(f->allowed[i], f->address))
			return true;
	}
	return false;
}

/* --- normalising, through lib/address.h --- */

/* A mailbox, or with allow_domain "@domain": the normalised text in
 *text_r (malloc'ed), or -1 (kind MALFORMED). */
static int normalize(struct directory *dir, const char *s, bool allow_domain, char **text_r,
                     const char **error_r)
{
	bool domain_only = allow_domain && s[0] == '@';
	char *probe = domain_only ? xasprintf("postmaster%s", s) : xstrdup(s);
	struct address a;
	const char *reason = NULL;
	int ret = address_parse_mailbox(probe, strlen(probe), &a, &reason);

	if (ret == 0 && a.domain[0] == '[') {
		reason = "an address literal is not a mail domain";
		ret = -1;
	}
	if (ret < 0) {
		address_free(&a);
		free(probe);
		directory_fail(dir, DIRECTORY_ERR_MALFORMED, "malformed address \"%.300s\": %s", s,
		               reason);
		*error_r = directory_last_message(dir);
		return -1;
	}
	free(probe);
	*text_r = address_normalize(&a);
	address_free(&a);
	if (domain_only) {
		char *d = xasprintf("@%s", domain_of(*text_r));

		free(*text_r);
		*text_r = d;
	}
	return 0;
}

/* The normalised address of an existing user in *user_r; -1 unknown
   (NOT_FOUND), malformed or a database error. */
static int known_user(struct directory *dir, const char *user, char **user_r, const char **error_r)
{
	int ret;

	if (normalize(dir, user, false, user_r, error_r) < 0)
		return -1;
	ret = dir->ops->user_get(dir, *user_r, NULL);
	if (ret == 1)
		return 0;
	if (ret == 0)
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown user %.300s", *user_r);
	free(*user_r);
	*user_r = NULL;
	*error_r = directory_last_message(dir);
	return -1;
}

/* The user and the entry, both normalised; -1 as known_user(). */
static int user_and_entry(struct directory *dir, const char *user, const char *entry, char **user_r,
                          char **entry_r, const char **error_r)
{
	if (normalize(dir, entry, true, entry_r, error_r) < 0)
		return -1;
	if (known_user(dir, user, user_r, error_r) < 0) {
		free(*entry_r);
		return -1;
	}
	return 0;
}

int directory_sender_allow(struct directory *dir, const char *user, const char *entry,
                           const char **error_r)
{
	char *u, *e;
	int ret;

	if (user_and_entry(dir, user, entry, &u, &e, error_r) < 0)
		return -1;
	ret = dir->ops->sender_add(dir, u, e);
	if (ret < 0 && dir->kind == DIRECTORY_ERR_EXISTS)
		directory_fail(dir, DIRECTORY_ERR_EXISTS, "%s may already send as %s", u, e);
	free(u);
	free(e);
	if (ret < 0)
		*error_r = directory_last_message(dir);
	return ret < 0 ? -1 : 0;
}

int directory_sender_deny(struct directory *dir, const char *user, const char *entry,
                          const char **error_r)
{
	char *u, *e;
	int ret;

	if (user_and_entry(dir, user, entry, &u, &e, error_r) < 0)
		return -1;
	ret = dir->ops->sender_del(dir, u, e);
	if (ret == 0)
		ret = directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "%s has no allowed sender %s", u,
		                     e);
	free(u);
	free(e);
	if (ret < 0)
		*error_r = directory_last_message(dir);
	return ret < 0 ? -1 : 0;
}

int directory_sender_list(struct directory *dir, const char *user, char ***entries_r,
                          size_t *count_r, const char **error_r)
{
	char *u;
	int ret;

	if (known_user(dir, user, &u, error_r) < 0)
		return -1;
	ret = dir->ops->sender_list(dir, u, entries_r, count_r);
	free(u);
	if (ret < 0)
		*error_r = directory_last_message(dir);
	return ret < 0 ? -1 : 0;
}

/* Rule 2's fact: address is an alias source (not a catch-all) whose
   resolution delivers to user. 1, 0, -1. */
static int alias_to_user(struct directory *dir, const char *user, const char *address,
                         const char **error_r)
{
	struct directory_resolution res;
	char **dests = NULL;
	size_t count = 0;
	int found = 0;

	if (dir->ops->alias_destinations(dir, address, &dests, &count) < 0) {
		*error_r = directory_last_message(dir);
		return -1;
	}
	directory_names_free(&dests, count);
	if (count == 0)
		return 0;
	if (directory_resolve(dir, address, &res, error_r) < 0)
		return directory_error_kind(dir) == DIRECTORY_ERR_MALFORMED ? 0 : -1;
	for (size_t i = 0; i < res.local_count && !found; i++)
		found = strcasecmp(res.local[i], user) == 0;
	directory_resolution_free(&res);
	return found;
}

int directory_sender_owns(struct directory *dir, const char *user, const char *address,
                          const char **error_r)
{
	struct sender_facts f = {0};
	char *u = NULL, *a = NULL, **allowed = NULL;
	size_t count = 0;
	int ret;

	if (address[0] == '\0' || normalize(dir, address, false, &a, error_r) < 0)
		return 0;
	if (known_user(dir, user, &u, error_r) < 0) {
		free(a);
		return directory_error_kind(dir) == DIRECTORY_ERR_DATABASE ? -1 : 0;
	}
	ret = alias_to_user(dir, u, a, error_r);
	if (ret >= 0 && dir->ops->sender_list(dir, u, &allowed, &count) < 0) {
		*error_r = directory_last_message(dir);
		ret = -1;
	}
	if (ret >= 0) {
		f = (struct sender_facts){u, a, ret == 1, (const char *const *)allowed, count};
		ret = directory_sender_rule(&f) ? 1 : 0;
	}
	directory_names_free(&allowed, count);
	free(u);
	free(a);
	return ret;
}
