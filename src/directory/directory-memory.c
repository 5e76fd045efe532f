/* The in-memory backend (directory-memory.h): plain arrays, linear search. */
#include "directory/directory-memory.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "directory/directory-private.h"
#include "lib/array.h"
#include "lib/xalloc.h"

struct mem_user {
	char *domain;
	struct directory_user user;
};

struct mem_alias {
	char *domain;
	struct directory_alias alias;
};

struct mem_be {
	ARRAY(char *) domains;
	ARRAY(struct mem_user) users;
	ARRAY(struct mem_alias) aliases; /* in the order they were added */
	/* allowed senders: source is the user, destination the entry */
	ARRAY(struct directory_alias) senders;
};

static struct mem_be *be_of(struct directory *dir)
{
	return dir->be;
}

static ssize_t find_domain(const struct mem_be *be, const char *domain)
{
	for (size_t i = 0; i < be->domains.count; i++) {
		if (strcasecmp(be->domains.items[i], domain) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static ssize_t find_user(const struct mem_be *be, const char *address)
{
	for (size_t i = 0; i < be->users.count; i++) {
		if (strcasecmp(be->users.items[i].user.address, address) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static bool alias_matches(const struct mem_alias *a, const char *source, const char *destination)
{
	return strcasecmp(a->alias.source, source) == 0 &&
	       (destination == NULL || strcasecmp(a->alias.destination, destination) == 0);
}

static void user_copy(const struct directory_user *from, struct directory_user *to)
{
	to->address = xstrdup(from->address);
	to->password_hash = xstrdup(from->password_hash);
	to->quota_bytes = from->quota_bytes;
	to->enabled = from->enabled;
	to->scram = from->scram != NULL ? xstrdup(from->scram) : NULL;
	to->quota_messages = from->quota_messages;
}

static int cmp_names(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_users(const void *a, const void *b)
{
	return strcasecmp(((const struct directory_user *)a)->address,
	                  ((const struct directory_user *)b)->address);
}

static int cmp_aliases(const void *a, const void *b)
{
	const struct directory_alias *x = a, *y = b;
	int c = strcasecmp(x->source, y->source);

	return c != 0 ? c : strcasecmp(x->destination, y->destination);
}

/* --- domains --- */

static int mem_domain_exists(struct directory *dir, const char *domain)
{
	return find_domain(be_of(dir), domain) >= 0;
}

static int mem_domain_add(struct directory *dir, const char *domain)
{
	struct mem_be *be = be_of(dir);

	if (find_domain(be, domain) >= 0)
		return directory_fail(dir, DIRECTORY_ERR_EXISTS, "already exists");
	array_append(&be->domains, xstrdup(domain));
	return 0;
}

static int mem_domain_usage(struct directory *dir, const char *domain, uint64_t *count_r)
{
	struct mem_be *be = be_of(dir);
	uint64_t n = 0;

	for (size_t i = 0; i < be->users.count; i++)
		n += strcasecmp(be->users.items[i].domain, domain) == 0;
	for (size_t i = 0; i < be->aliases.count; i++)
		n += strcasecmp(be->aliases.items[i].domain, domain) == 0;
	*count_r = n;
	return 0;
}

static void free_alias_at(struct mem_be *be, size_t i)
{
	free(be->aliases.items[i].domain);
	free(be->aliases.items[i].alias.source);
	free(be->aliases.items[i].alias.destination);
	array_remove(&be->aliases, i);
}

static void free_sender_at(struct mem_be *be, size_t i)
{
	free(be->senders.items[i].source);
	free(be->senders.items[i].destination);
	array_remove(&be->senders, i);
}

/* Delete user's allowed senders matching entry (every one when NULL). */
static int senders_del(struct mem_be *be, const char *user, const char *entry)
{
	int n = 0;

	for (size_t i = be->senders.count; i-- > 0;) {
		const struct directory_alias *a = &be->senders.items[i];

		if (strcasecmp(a->source, user) == 0 &&
		    (entry == NULL || strcasecmp(a->destination, entry) == 0)) {
			free_sender_at(be, i);
			n++;
		}
	}
	return n;
}

static void free_user_at(struct mem_be *be, size_t i)
{
	senders_del(be, be->users.items[i].user.address, NULL);
	free(be->users.items[i].domain);
	directory_user_clear(&be->users.items[i].user);
	array_remove(&be->users, i);
}

static int mem_domain_del(struct directory *dir, const char *domain)
{
	struct mem_be *be = be_of(dir);
	ssize_t d = find_domain(be, domain);

	if (d < 0)
		return 0;
	for (size_t i = be->users.count; i-- > 0;) {
		if (strcasecmp(be->users.items[i].domain, domain) == 0)
			free_user_at(be, i);
	}
	for (size_t i = be->aliases.count; i-- > 0;) {
		if (strcasecmp(be->aliases.items[i].domain, domain) == 0)
			free_alias_at(be, i);
	}
	free(be->domains.items[d]);
	array_remove(&be->domains, (size_t)d);
	return 1;
}

static int mem_domain_list(struct directory *dir, char ***names_r, size_t *count_r)
{
	struct mem_be *be = be_of(dir);
	ARRAY(char *) names = ARRAY_INIT;

	for (size_t i = 0; i < be->domains.count; i++)
		array_append(&names, xstrdup(be->domains.items[i]));
	if (names.count > 0)
		qsort(names.items, names.count, sizeof(*names.items), cmp_names);
	*names_r = array_steal(&names, count_r);
	return 0;
}

/* --- users --- */

static int mem_user_get(struct directory *dir, const char *address, struct directory_user *user_r)
{
	ssize_t i = find_user(be_of(dir), address);

	if (i < 0)
		return 0;
	if (user_r != NULL)
		user_copy(&be_of(dir)->users.items[i].user, user_r);
	return 1;
}

static int mem_user_add(struct directory *dir, const char *domain, const char *address,
                        const char *password_hash, uint64_t quota_bytes)
{
	struct mem_be *be = be_of(dir);
	struct directory_user user = {
	    (char *)address, (char *)password_hash, quota_bytes, true, NULL, 0};
	struct mem_user *u;

	if (find_user(be, address) >= 0)
		return directory_fail(dir, DIRECTORY_ERR_EXISTS, "already exists");
	u = array_push(&be->users);
	u->domain = xstrdup(domain);
	user_copy(&user, &u->user);
	return 0;
}

static int mem_user_del(struct directory *dir, const char *address)
{
	ssize_t i = find_user(be_of(dir), address);

	if (i < 0)
		return 0;
	free_user_at(be_of(dir), (size_t)i);
	return 1;
}

static int mem_user_update(struct directory *dir, const char *address,
                           enum directory_user_field field, const char *text, uint64_t num)
{
	ssize_t i = find_user(be_of(dir), address);
	struct directory_user *user;

	if (i < 0)
		return 0;
	user = &be_of(dir)->users.items[i].user;
	if (field == DIRECTORY_FIELD_PASSWORD) {
		free(user->password_hash);
		user->password_hash = xstrdup(text);
		free(user->scram);
		user->scram = NULL;
	} else if (field == DIRECTORY_FIELD_SCRAM) {
		free(user->scram);
		user->scram = text[0] != '\0' ? xstrdup(text) : NULL;
	} else if (field == DIRECTORY_FIELD_ENABLED) {
		user->enabled = num != 0;
	} else if (field == DIRECTORY_FIELD_QUOTA_MESSAGES) {
		user->quota_messages = num;
	} else {
		user->quota_bytes = num;
	}
	return 1;
}

static int mem_scram_any(struct directory *dir)
{
	struct mem_be *be = be_of(dir);

	for (size_t i = 0; i < be->users.count; i++) {
		if (be->users.items[i].user.scram != NULL)
			return 1;
	}
	return 0;
}

static int mem_user_list(struct directory *dir, const char *domain, struct directory_user **users_r,
                         size_t *count_r)
{
	struct mem_be *be = be_of(dir);
	ARRAY(struct directory_user) users = ARRAY_INIT;

	for (size_t i = 0; i < be->users.count; i++) {
		if (domain != NULL && strcasecmp(be->users.items[i].domain, domain) != 0)
			continue;
		user_copy(&be->users.items[i].user, array_push(&users));
	}
	if (users.count > 0)
		qsort(users.items, users.count, sizeof(*users.items), cmp_users);
	*users_r = array_steal(&users, count_r);
	return 0;
}

/* --- aliases --- */

static int mem_alias_add(struct directory *dir, const char *domain, const char *source,
                         const char *destination)
{
	struct mem_be *be = be_of(dir);
	struct mem_alias *a;

	for (size_t i = 0; i < be->aliases.count; i++) {
		if (alias_matches(&be->aliases.items[i], source, destination))
			return directory_fail(dir, DIRECTORY_ERR_EXISTS, "already exists");
	}
	a = array_push(&be->aliases);
	a->domain = xstrdup(domain);
	a->alias.source = xstrdup(source);
	a->alias.destination = xstrdup(destination);
	return 0;
}

static int mem_alias_del(struct directory *dir, const char *source, const char *destination)
{
	struct mem_be *be = be_of(dir);
	int n = 0;

	for (size_t i = be->aliases.count; i-- > 0;) {
		if (alias_matches(&be->aliases.items[i], source, destination)) {
			free_alias_at(be, i);
			n++;
		}
	}
	return n;
}

static int mem_alias_destinations(struct directory *dir, const char *source, char ***dests_r,
                                  size_t *count_r)
{
	struct mem_be *be = be_of(dir);
	ARRAY(char *) dests = ARRAY_INIT;

	for (size_t i = 0; i < be->aliases.count; i++) {
		if (!alias_matches(&be->aliases.items[i], source, NULL))
			continue;
		array_append(&dests, xstrdup(be->aliases.items[i].alias.destination));
	}
	*dests_r = array_steal(&dests, count_r);
	return 0;
}

static int mem_alias_list(struct directory *dir, const char *domain,
                          struct directory_alias **aliases_r, size_t *count_r)
{
	struct mem_be *be = be_of(dir);
	ARRAY(struct directory_alias) aliases = ARRAY_INIT;

	for (size_t i = 0; i < be->aliases.count; i++) {
		const struct mem_alias *a = &be->aliases.items[i];
		struct directory_alias *out;

		if (domain != NULL && strcasecmp(a->domain, domain) != 0)
			continue;
		out = array_push(&aliases);
		out->source = xstrdup(a->alias.source);
		out->destination = xstrdup(a->alias.destination);
	}
	if (aliases.count > 0)
		qsort(aliases.items, aliases.count, sizeof(*aliases.items), cmp_aliases);
	*aliases_r = array_steal(&aliases, count_r);
	return 0;
}

/* --- allowed senders --- */

static int mem_sender_add(struct directory *dir, const char *user, const char *entry)
{
	struct mem_be *be = be_of(dir);

	for (size_t i = 0; i < be->senders.count; i++) {
		const struct directory_alias *a = &be->senders.items[i];

		if (strcasecmp(a->source, user) == 0 && strcasecmp(a->destination, entry) == 0)
			return directory_fail(dir, DIRECTORY_ERR_EXISTS, "already exists");
	}
	array_append(&be->senders, ((struct directory_alias){xstrdup(user), xstrdup(entry)}));
	return 0;
}

static int mem_sender_del(struct directory *dir, const char *user, const char *entry)
{
	return senders_del(be_of(dir), user, entry);
}

static int mem_sender_list(struct directory *dir, const char *user, char ***entries_r,
                           size_t *count_r)
{
	struct mem_be *be = be_of(dir);
	ARRAY(char *) list = ARRAY_INIT;

	for (size_t i = 0; i < be->senders.count; i++) {
		if (strcasecmp(be->senders.items[i].source, user) == 0)
			array_append(&list, xstrdup(be->senders.items[i].destination));
	}
	if (list.count > 0)
		qsort(list.items, list.count, sizeof(*list.items), cmp_names);
	*entries_r = array_steal(&list, count_r);
	return 0;
}

static void mem_close(struct directory *dir)
{
	struct mem_be *be = be_of(dir);

	while (be->users.count > 0)
		free_user_at(be, be->users.count - 1);
	while (be->aliases.count > 0)
		free_alias_at(be, be->aliases.count - 1);
	for (size_t i = 0; i < be->domains.count; i++)
		free(be->domains.items[i]);
	array_free(&be->domains);
	array_free(&be->users);
	while (be->senders.count > 0)
		free_sender_at(be, be->senders.count - 1);
	array_free(&be->aliases);
	array_free(&be->senders);
	free(be);
}

static const struct directory_backend_ops memory_ops = {
    .name = "memory",
    .close = mem_close,
    .domain_exists = mem_domain_exists,
    .domain_add = mem_domain_add,
    .domain_usage = mem_domain_usage,
    .domain_del = mem_domain_del,
    .domain_list = mem_domain_list,
    .user_get = mem_user_get,
    .user_add = mem_user_add,
    .user_del = mem_user_del,
    .user_update = mem_user_update,
    .scram_any = mem_scram_any,
    .user_list = mem_user_list,
    .alias_add = mem_alias_add,
    .alias_del = mem_alias_del,
    .alias_destinations = mem_alias_destinations,
    .alias_list = mem_alias_list,
    .sender_add = mem_sender_add,
    .sender_del = mem_sender_del,
    .sender_list = mem_sender_list,
};

void directory_open_memory(struct directory **dir_r)
{
	*dir_r = directory_new(&memory_ops, xcalloc(1, sizeof(struct mem_be)));
}
