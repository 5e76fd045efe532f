/* The directory's rules over a backend (directory-private.h): address
   normalisation, the checks of each operation, recipient resolution with
   its limits. Nothing here knows how the backend stores things. */
#include "directory/directory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "directory/directory-private.h"
#include "lib/address.h"
#include "lib/log.h"
#include "lib/array.h"
#include "lib/xalloc.h"

/* A growable list of strings, used for resolution. */
struct strlist {
	ARRAY(char *);
};

/* An address after validation: "local@domain" or, for a catch-all source,
   "@domain"; domain points into text. */
struct norm_addr {
	char *text;
	const char *domain;
};

struct directory *directory_new(const struct directory_backend_ops *ops, void *be)
{
	struct directory *dir = xcalloc(1, sizeof(*dir));

	dir->ops = ops;
	dir->be = be;
	return dir;
}

void directory_close(struct directory **dir)
{
	if (dir == NULL || *dir == NULL)
		return;
	(*dir)->ops->close(*dir);
	free((*dir)->error);
	free(*dir);
	*dir = NULL;
}

enum directory_error directory_error_kind(const struct directory *dir)
{
	return dir->kind;
}

const char *directory_last_message(const struct directory *dir)
{
	return dir->error != NULL ? dir->error : "";
}

int directory_fail(struct directory *dir, enum directory_error kind, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("out of memory");
	va_end(ap);
	free(dir->error);
	dir->error = msg;
	dir->kind = kind;
	return -1;
}

/* The message of the failure just recorded, for *error_r; returns -1. */
static int failed(struct directory *dir, const char **error_r)
{
	*error_r = directory_last_message(dir);
	return -1;
}

/* A duplicate reported by the backend gets the rules' message fmt; other
   failures keep theirs. Returns -1. */
static int fail_exists(struct directory *dir, const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_exists(struct directory *dir, const char **error_r, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (dir->kind == DIRECTORY_ERR_EXISTS) {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = xstrdup("already exists");
		va_end(ap);
		free(dir->error);
		dir->error = msg;
	}
	return failed(dir, error_r);
}

static void strlist_add(struct strlist *l, const char *s)
{
	array_append(l, xstrdup(s));
}

static bool strlist_contains(const struct strlist *l, const char *s)
{
	/* ASCII case folded, as the backends compare */
	for (size_t i = 0; i < l->count; i++) {
		if (strcasecmp(l->items[i], s) == 0)
			return true;
	}
	return false;
}

static void strlist_free(struct strlist *l)
{
	directory_names_free(&l->items, l->count);
	array_free(l);
}

void directory_names_free(char ***names, size_t count)
{
	if (names == NULL || *names == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
}

/* --- address validation, through lib/address.h only --- */

static int normalize_mailbox(struct directory *dir, const char *s, struct norm_addr *out,
                             const char **error_r)
{
	struct address addr;
	const char *reason;

	if (address_parse_mailbox(s, strlen(s), &addr, &reason) < 0) {
		directory_fail(dir, DIRECTORY_ERR_MALFORMED, "malformed address \"%.300s\": %s", s,
		               reason);
		return failed(dir, error_r);
	}
	if (addr.domain[0] == '[') {
		address_free(&addr);
		directory_fail(dir, DIRECTORY_ERR_MALFORMED,
		               "malformed address \"%.300s\": an address literal is "
		               "not a mail domain",
		               s);
		return failed(dir, error_r);
	}
	out->text = address_normalize(&addr);
	address_free(&addr);
	/* a quoted local part may hold '@', the domain never does */
	out->domain = strrchr(out->text, '@') + 1;
	return 0;
}

/* A domain name, validated as the domain of a mailbox. */
static int normalize_domain(struct directory *dir, const char *name, char **domain_r,
                            const char **error_r)
{
	char *probe = xasprintf("postmaster@%s", name);
	struct norm_addr na;
	int ret = normalize_mailbox(dir, probe, &na, error_r);

	free(probe);
	if (ret < 0) {
		directory_fail(dir, DIRECTORY_ERR_MALFORMED, "malformed domain name \"%.300s\"",
		               name);
		return failed(dir, error_r);
	}
	*domain_r = xstrdup(na.domain);
	free(na.text);
	return 0;
}

/* An alias source: a mailbox, or "@domain" for a catch-all. */
static int normalize_source(struct directory *dir, const char *s, struct norm_addr *out,
                            const char **error_r)
{
	char *domain;

	if (s[0] != '@')
		return normalize_mailbox(dir, s, out, error_r);
	if (normalize_domain(dir, s + 1, &domain, error_r) < 0)
		return -1;
	out->text = xasprintf("@%s", domain);
	out->domain = out->text + 1;
	free(domain);
	return 0;
}

/* --- domains --- */

/* 1 if domain (normalised) is ours, 0 if not, -1. */
static int domain_ours(struct directory *dir, const char *domain, const char **error_r)
{
	int ret = dir->ops->domain_exists(dir, domain);

	return ret < 0 ? failed(dir, error_r) : ret;
}

/* 0 if domain is ours; otherwise -1, NOT_FOUND or a database error. */
static int domain_known(struct directory *dir, const char *domain, const char **error_r)
{
	int ret = domain_ours(dir, domain, error_r);

	if (ret == 0) {
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown domain %s", domain);
		return failed(dir, error_r);
	}
	return ret == 1 ? 0 : -1;
}

int directory_domain_add(struct directory *dir, const char *name, const char **error_r)
{
	char *domain;
	int ret;

	if (normalize_domain(dir, name, &domain, error_r) < 0)
		return -1;
	ret = dir->ops->domain_add(dir, domain);
	if (ret < 0)
		fail_exists(dir, error_r, "domain %s already exists", domain);
	free(domain);
	return ret;
}

static int domain_del_known(struct directory *dir, const char *domain, bool force,
                            const char **error_r)
{
	uint64_t used = 0;

	if (!force && dir->ops->domain_usage(dir, domain, &used) < 0)
		return failed(dir, error_r);
	if (used > 0) {
		directory_fail(dir, DIRECTORY_ERR_IN_USE,
		               "domain %s still has %llu users and aliases", domain,
		               (unsigned long long)used);
		return failed(dir, error_r);
	}
	return dir->ops->domain_del(dir, domain) < 0 ? failed(dir, error_r) : 0;
}

int directory_domain_del(struct directory *dir, const char *name, bool force, const char **error_r)
{
	char *domain;
	int ret;

	if (normalize_domain(dir, name, &domain, error_r) < 0)
		return -1;
	ret = domain_known(dir, domain, error_r);
	if (ret == 0)
		ret = domain_del_known(dir, domain, force, error_r);
	free(domain);
	return ret;
}

int directory_domain_list(struct directory *dir, char ***names_r, size_t *count_r,
                          const char **error_r)
{
	if (dir->ops->domain_list(dir, names_r, count_r) < 0)
		return failed(dir, error_r);
	return 0;
}

int directory_domain_exists(struct directory *dir, const char *name, const char **error_r)
{
	const char *ignored;
	char *domain;
	int ret;

	if (normalize_domain(dir, name, &domain, &ignored) < 0)
		return 0;
	ret = domain_ours(dir, domain, error_r);
	free(domain);
	return ret;
}

/* --- users --- */

static int quota_value(struct directory *dir, uint64_t quota, uint64_t *value_r,
                       const char **error_r)
{
	if (quota == DIRECTORY_QUOTA_DEFAULT)
		quota = DIRECTORY_DEFAULT_QUOTA_BYTES;
	if (quota > (uint64_t)INT64_MAX) {
		directory_fail(dir, DIRECTORY_ERR_INVALID, "quota too large");
		return failed(dir, error_r);
	}
	*value_r = quota;
	return 0;
}

/* Replace *quota_r by the domain's default when it has one. 0, or -1. */
static int domain_default_quota(struct directory *dir, const char *domain, uint64_t *quota_r,
                                const char **error_r)
{
	uint64_t bytes;
	int ret;

	if (dir->ops->domain_quota_get == NULL)
		return 0;
	ret = dir->ops->domain_quota_get(dir, domain, &bytes);
	if (ret < 0)
		return failed(dir, error_r);
	if (ret == 1)
		*quota_r = bytes;
	return 0;
}

static int check_hash(struct directory *dir, const char *password_hash, const char **error_r)
{
	if (password_hash != NULL && password_hash[0] != '\0')
		return 0;
	directory_fail(dir, DIRECTORY_ERR_INVALID, "empty password hash");
	return failed(dir, error_r);
}

int directory_user_add(struct directory *dir, const char *address, const char *password_hash,
                       uint64_t quota_bytes, const char **error_r)
{
	struct norm_addr na;
	uint64_t quota;
	int ret = -1;

	if (check_hash(dir, password_hash, error_r) < 0 ||
	    quota_value(dir, quota_bytes, &quota, error_r) < 0 ||
	    normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	if (domain_known(dir, na.domain, error_r) == 0 &&
	    (quota_bytes != DIRECTORY_QUOTA_DEFAULT ||
	     domain_default_quota(dir, na.domain, &quota, error_r) == 0)) {
		ret = dir->ops->user_add(dir, na.domain, na.text, password_hash, quota);
		if (ret < 0)
			fail_exists(dir, error_r, "user %s already exists", na.text);
	}
	free(na.text);
	return ret;
}

/* Apply a backend result for one user: 1 done, 0 no such user. */
static int user_result(struct directory *dir, int ret, const char *address, const char **error_r)
{
	if (ret < 0)
		return failed(dir, error_r);
	if (ret == 0) {
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown user %s", address);
		return failed(dir, error_r);
	}
	return 0;
}

/* Set one field of a user (address normalised first). */
static int user_update(struct directory *dir, const char *address, enum directory_user_field field,
                       const char *text, uint64_t num, const char **error_r)
{
	struct norm_addr na;
	int ret;

	if (normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	ret = dir->ops->user_update(dir, na.text, field, text, num);
	ret = user_result(dir, ret, na.text, error_r);
	free(na.text);
	return ret;
}

int directory_user_del(struct directory *dir, const char *address, const char **error_r)
{
	struct norm_addr na;
	int ret;

	if (normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	ret = user_result(dir, dir->ops->user_del(dir, na.text), na.text, error_r);
	free(na.text);
	return ret;
}

int directory_user_set_password(struct directory *dir, const char *address,
                                const char *password_hash, const char **error_r)
{
	if (check_hash(dir, password_hash, error_r) < 0)
		return -1;
	return user_update(dir, address, DIRECTORY_FIELD_PASSWORD, password_hash, 0, error_r);
}

int directory_user_set_scram(struct directory *dir, const char *address, const char *scram,
                             const char **error_r)
{
	return user_update(dir, address, DIRECTORY_FIELD_SCRAM, scram != NULL ? scram : "", 0,
	                   error_r);
}

int directory_scram_any(struct directory *dir, const char **error_r)
{
	int ret = dir->ops->scram_any(dir);

	if (ret < 0)
		*error_r = directory_last_message(dir);
	return ret;
}

int directory_user_set_enabled(struct directory *dir, const char *address, bool enabled,
                               const char **error_r)
{
	return user_update(dir, address, DIRECTORY_FIELD_ENABLED, NULL, enabled ? 1 : 0, error_r);
}

int directory_user_set_quota(struct directory *dir, const char *address, uint64_t quota_bytes,
                             const char **error_r)
{
	uint64_t value;

	if (quota_value(dir, quota_bytes, &value, error_r) < 0)
		return -1;
	return user_update(dir, address, DIRECTORY_FIELD_QUOTA, NULL, value, error_r);
}

int directory_user_set_quota_messages(struct directory *dir, const char *address, uint64_t messages,
                                      const char **error_r)
{
	if (messages > (uint64_t)INT64_MAX) {
		directory_fail(dir, DIRECTORY_ERR_INVALID, "quota too large");
		return failed(dir, error_r);
	}
	return user_update(dir, address, DIRECTORY_FIELD_QUOTA_MESSAGES, NULL, messages, error_r);
}

int directory_domain_quota(struct directory *dir, const char *domain, uint64_t *bytes_r,
                           const char **error_r)
{
	char *norm;
	int ret = 0;

	if (normalize_domain(dir, domain, &norm, error_r) < 0)
		return -1;
	if (domain_known(dir, norm, error_r) < 0)
		ret = -1;
	else if (dir->ops->domain_quota_get != NULL &&
	         (ret = dir->ops->domain_quota_get(dir, norm, bytes_r)) < 0)
		ret = failed(dir, error_r);
	free(norm);
	return ret;
}

int directory_domain_set_quota(struct directory *dir, const char *domain, uint64_t bytes,
                               const char **error_r)
{
	bool clear = bytes == DIRECTORY_QUOTA_DEFAULT;
	char *norm;
	int ret;

	if (dir->ops->domain_quota_set == NULL) {
		directory_fail(dir, DIRECTORY_ERR_INVALID, "no domain quotas in this backend");
		return failed(dir, error_r);
	}
	if (!clear && bytes > (uint64_t)INT64_MAX) {
		directory_fail(dir, DIRECTORY_ERR_INVALID, "quota too large");
		return failed(dir, error_r);
	}
	if (normalize_domain(dir, domain, &norm, error_r) < 0)
		return -1;
	ret = dir->ops->domain_quota_set(dir, norm, bytes, clear);
	if (ret < 0)
		ret = failed(dir, error_r);
	else if (ret == 0) {
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown domain %s", norm);
		ret = failed(dir, error_r);
	} else
		ret = 0;
	free(norm);
	return ret;
}

/* The normalised domain of a list call (NULL for all), which must be ours. */
static int list_domain(struct directory *dir, const char *domain, char **norm_r,
                       const char **error_r)
{
	*norm_r = NULL;
	if (domain == NULL)
		return 0;
	if (normalize_domain(dir, domain, norm_r, error_r) < 0)
		return -1;
	if (domain_known(dir, *norm_r, error_r) < 0) {
		free(*norm_r);
		*norm_r = NULL;
		return -1;
	}
	return 0;
}

int directory_user_list(struct directory *dir, const char *domain, struct directory_user **users_r,
                        size_t *count_r, const char **error_r)
{
	char *norm;
	int ret;

	if (list_domain(dir, domain, &norm, error_r) < 0)
		return -1;
	ret = dir->ops->user_list(dir, norm, users_r, count_r);
	free(norm);
	return ret < 0 ? failed(dir, error_r) : 0;
}

void directory_user_clear(struct directory_user *user)
{
	free(user->address);
	free(user->password_hash);
	free(user->scram);
}

void directory_user_list_free(struct directory_user **users, size_t count)
{
	if (users == NULL || *users == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		directory_user_clear(&(*users)[i]);
	free(*users);
	*users = NULL;
}

int directory_user_lookup(struct directory *dir, const char *address,
                          struct directory_user **user_r, const char **error_r)
{
	struct directory_user user;
	struct norm_addr na;
	const char *ignored;
	int ret;

	if (normalize_mailbox(dir, address, &na, &ignored) < 0)
		return 0;
	ret = dir->ops->user_get(dir, na.text, &user);
	free(na.text);
	if (ret < 0)
		return failed(dir, error_r);
	if (ret == 1) {
		*user_r = xmalloc(sizeof(user));
		**user_r = user;
	}
	return ret;
}

void directory_user_free(struct directory_user **user)
{
	if (user == NULL || *user == NULL)
		return;
	directory_user_clear(*user);
	free(*user);
	*user = NULL;
}

/* --- aliases --- */

/* The destinations of source (normalised), appended to out. */
static int alias_destinations(struct directory *dir, const char *source, struct strlist *out,
                              const char **error_r)
{
	char **items;
	size_t count;

	if (dir->ops->alias_destinations(dir, source, &items, &count) < 0)
		return failed(dir, error_r);
	for (size_t i = 0; i < count; i++)
		strlist_add(out, items[i]);
	directory_names_free(&items, count);
	return 0;
}

/* A destination in one of our domains must receive mail already. */
static int check_destination(struct directory *dir, const struct norm_addr *dest,
                             const char **error_r)
{
	struct directory_resolution res;
	int ret = domain_ours(dir, dest->domain, error_r);

	if (ret <= 0)
		return ret;
	if (directory_resolve(dir, dest->text, &res, error_r) < 0)
		return -1;
	ret = res.result == DIRECTORY_UNKNOWN ? -1 : 0;
	directory_resolution_free(&res);
	if (ret < 0) {
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown destination %s", dest->text);
		return failed(dir, error_r);
	}
	return 0;
}

static int alias_insert(struct directory *dir, const struct norm_addr *src,
                        const struct norm_addr *dest, const char **error_r)
{
	if (domain_known(dir, src->domain, error_r) < 0 ||
	    check_destination(dir, dest, error_r) < 0)
		return -1;
	if (dir->ops->alias_add(dir, src->domain, src->text, dest->text) < 0)
		return fail_exists(dir, error_r, "alias %s -> %s already exists", src->text,
		                   dest->text);
	return 0;
}

int directory_alias_add(struct directory *dir, const char *source, const char *destination,
                        const char **error_r)
{
	struct norm_addr src, dest;
	int ret;

	if (normalize_source(dir, source, &src, error_r) < 0)
		return -1;
	if (normalize_mailbox(dir, destination, &dest, error_r) < 0) {
		free(src.text);
		return -1;
	}
	ret = alias_insert(dir, &src, &dest, error_r);
	free(src.text);
	free(dest.text);
	return ret;
}

static int alias_delete(struct directory *dir, const char *src, const char *dest,
                        const char **error_r)
{
	int changes = dir->ops->alias_del(dir, src, dest);

	if (changes < 0)
		return failed(dir, error_r);
	if (changes > 0)
		return 0;
	if (dest != NULL)
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown alias %s -> %s", src, dest);
	else
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown alias %s", src);
	return failed(dir, error_r);
}

int directory_alias_del(struct directory *dir, const char *source, const char *destination,
                        const char **error_r)
{
	struct norm_addr src, dest = {NULL, NULL};
	int ret = -1;

	if (normalize_source(dir, source, &src, error_r) < 0)
		return -1;
	if (destination == NULL || normalize_mailbox(dir, destination, &dest, error_r) == 0)
		ret = alias_delete(dir, src.text, dest.text, error_r);
	free(src.text);
	free(dest.text);
	return ret;
}

int directory_alias_list(struct directory *dir, const char *domain,
                         struct directory_alias **aliases_r, size_t *count_r, const char **error_r)
{
	char *norm;
	int ret;

	if (list_domain(dir, domain, &norm, error_r) < 0)
		return -1;
	ret = dir->ops->alias_list(dir, norm, aliases_r, count_r);
	free(norm);
	return ret < 0 ? failed(dir, error_r) : 0;
}

void directory_alias_list_free(struct directory_alias **aliases, size_t count)
{
	if (aliases == NULL || *aliases == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free((*aliases)[i].source);
		free((*aliases)[i].destination);
	}
	free(*aliases);
	*aliases = NULL;
}

/* --- recipient resolution --- */

struct resolve_ctx {
	struct directory *dir;
	struct strlist local, remote;
	ARRAY(struct directory_quota) quota; /* of each local user */
	struct strlist expanded;             /* alias sources already expanded: cuts loops */
	const char **error_r;
};

static int resolve_addr(struct resolve_ctx *ctx, const char *addr, int depth);

static bool resolve_full(const struct resolve_ctx *ctx)
{
	return ctx->local.count + ctx->remote.count >= DIRECTORY_RESOLVE_MAX;
}

/* Expand the alias source whose destinations are dests, once. */
static int expand(struct resolve_ctx *ctx, const char *source, const struct strlist *dests,
                  int depth)
{
	if (depth >= DIRECTORY_ALIAS_DEPTH_MAX) {
		char *v = log_value(source, strlen(source), 300);

		log_warn(NULL, "event=directory.alias_cut source=%s reason=depth", v);
		free(v);
		return 0;
	}
	strlist_add(&ctx->expanded, source);
	for (size_t i = 0; i < dests->count; i++) {
		if (resolve_addr(ctx, dests->items[i], depth + 1) < 0)
			return -1;
	}
	return 0;
}

/* The catch-all of domain, when it has one (rule 4). */
static int resolve_catchall(struct resolve_ctx *ctx, const char *domain, int depth)
{
	char *source = xasprintf("@%s", domain);
	struct strlist dests = {ARRAY_INIT};
	int ret = 0;

	if (!strlist_contains(&ctx->expanded, source)) {
		ret = alias_destinations(ctx->dir, source, &dests, ctx->error_r);
		if (ret == 0 && dests.count > 0)
			ret = expand(ctx, source, &dests, depth);
	}
	strlist_free(&dests);
	free(source);
	return ret;
}

/* addr is normalised (it comes from the caller or from the aliases table):
   apply the rules of directory_resolve() from 2 on. */
static int resolve_local(struct resolve_ctx *ctx, const char *addr, const char *domain, int depth)
{
	struct strlist dests = {ARRAY_INIT};
	struct directory_user user;
	int ret;

	if (alias_destinations(ctx->dir, addr, &dests, ctx->error_r) < 0)
		return -1;
	if (dests.count > 0 && !strlist_contains(&ctx->expanded, addr)) {
		ret = expand(ctx, addr, &dests, depth);
		strlist_free(&dests);
		return ret;
	}
	ret = ctx->dir->ops->user_get(ctx->dir, addr, &user);
	if (ret < 0) {
		failed(ctx->dir, ctx->error_r);
	} else if (ret == 1) {
		if (!strlist_contains(&ctx->local, user.address)) {
			strlist_add(&ctx->local, user.address);
			array_append(&ctx->quota, ((struct directory_quota){user.quota_bytes,
			                                                    user.quota_messages}));
		}
		directory_user_clear(&user);
	} else if (dests.count == 0) {
		ret = resolve_catchall(ctx, domain, depth);
	}
	strlist_free(&dests);
	return ret < 0 ? -1 : 0;
}

static int resolve_addr(struct resolve_ctx *ctx, const char *addr, int depth)
{
	const char *domain = strrchr(addr, '@');
	int ret;

	if (domain == NULL || resolve_full(ctx))
		return 0;
	domain++;
	ret = domain_ours(ctx->dir, domain, ctx->error_r);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		if (!strlist_contains(&ctx->remote, addr))
			strlist_add(&ctx->remote, addr);
		return 0;
	}
	return resolve_local(ctx, addr, domain, depth);
}

int directory_resolve(struct directory *dir, const char *address,
                      struct directory_resolution *res_r, const char **error_r)
{
	struct resolve_ctx ctx = {.dir = dir, .error_r = error_r};
	struct norm_addr na;
	int ours, ret;

	memset(res_r, 0, sizeof(*res_r));
	if (normalize_mailbox(dir, address, &na, error_r) < 0)
		return -1;
	ret = ours = domain_ours(dir, na.domain, error_r);
	if (ours == 1)
		ret = resolve_local(&ctx, na.text, na.domain, 0);
	free(na.text);
	strlist_free(&ctx.expanded);
	if (ret < 0) {
		strlist_free(&ctx.local);
		strlist_free(&ctx.remote);
		array_free(&ctx.quota);
		return -1;
	}
	if (ours == 0)
		res_r->result = DIRECTORY_NOT_LOCAL;
	else if (ctx.local.count + ctx.remote.count == 0)
		res_r->result = DIRECTORY_UNKNOWN;
	else
		res_r->result = DIRECTORY_LOCAL;
	res_r->local = array_steal(&ctx.local, &res_r->local_count);
	res_r->local_quota = array_steal(&ctx.quota, &res_r->local_count);
	res_r->remote = array_steal(&ctx.remote, &res_r->remote_count);
	return 0;
}

/* postmaster@<our domain> (local part ASCII case-insensitive), RFC 5321
   section 4.5.1. */
static bool is_postmaster(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL && (size_t)(at - address) == 10 &&
	       strncasecmp(address, "postmaster", 10) == 0;
}

/* The first user of the domain of address, by address; NULL if none. */
static int first_user(struct directory *dir, const char *address, char **user_r,
                      const char **error_r)
{
	struct directory_user *users;
	size_t count;

	*user_r = NULL;
	if (directory_user_list(dir, strrchr(address, '@') + 1, &users, &count, error_r) < 0)
		return -1;
	if (count > 0)
		*user_r = xstrdup(users[0].address);
	directory_user_list_free(&users, count);
	return 0;
}

int directory_resolve_postmaster(struct directory *dir, const char *address, const char *fallback,
                                 struct directory_resolution *res_r, const char **error_r)
{
	char *first = NULL;
	int ret = directory_resolve(dir, address, res_r, error_r);

	if (ret < 0 || res_r->result != DIRECTORY_UNKNOWN || !is_postmaster(address))
		return ret;
	if (fallback == NULL) {
		if (first_user(dir, address, &first, error_r) < 0)
			return -1;
		if (first == NULL)
			return 0;
		fallback = first;
	}
	directory_resolution_free(res_r);
	ret = directory_resolve(dir, fallback, res_r, error_r);
	if (ret == 0 && res_r->result == DIRECTORY_NOT_LOCAL) {
		/* a remote postmaster: forwarded like an alias's target */
		res_r->result = DIRECTORY_LOCAL;
		res_r->remote = xcalloc(1, sizeof(*res_r->remote));
		res_r->remote[0] = xstrdup(fallback);
		res_r->remote_count = 1;
	}
	free(first);
	return ret;
}

void directory_resolution_free(struct directory_resolution *res)
{
	if (res == NULL)
		return;
	directory_names_free(&res->local, res->local_count);
	free(res->local_quota);
	directory_names_free(&res->remote, res->remote_count);
	memset(res, 0, sizeof(*res));
}
