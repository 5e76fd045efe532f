/* The RCPT path the policies share (smtp-rcpt.h). */
#include "smtp/smtp-rcpt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/address.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-policy.h"
#include "smtp/smtp-settings.h"
#include "store/maildir.h"
#include "store/quota-settings.h"

int smtp_rcpt_env_open(struct smtp_rcpt_env *env, const struct tern_settings *settings,
                       struct workpool *pool, const char *event, const char **error_r)
{
	memset(env, 0, sizeof(*env));
	if (directory_async_open(settings->directory_path, pool, &env->dir, error_r) < 0)
		return -1;
	directory_async_set_postmaster(env->dir, smtp_settings(settings)->postmaster);
	env->mail_dir = settings->mail_dir;
	env->hostname = settings->hostname;
	env->event = event;
	quota_warnings_of(settings, &env->quota_warnings);
	return 0;
}

void smtp_rcpt_env_close(struct smtp_rcpt_env *env)
{
	directory_async_close(&env->dir);
}

void smtp_rcpts_init(struct smtp_rcpts *r, const struct smtp_rcpt_env *env, struct smtp_session *s,
                     smtp_rcpt_found_cb *found, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->env = env;
	r->s = s;
	r->found = found;
	r->ctx = ctx;
}

void smtp_rcpts_reset(struct smtp_rcpts *r)
{
	for (size_t i = 0; i < r->users.count; i++) {
		free(r->users.items[i].name);
		free(r->users.items[i].maildir);
	}
	array_free(&r->users);
	for (size_t i = 0; i < r->remotes.count; i++) {
		free(r->remotes.items[i].address);
		free(r->remotes.items[i].alias);
	}
	array_free(&r->remotes);
	for (size_t i = 0; i < r->quotas.count; i++)
		free(r->quotas.items[i].name);
	array_free(&r->quotas);
	r->accepted = 0;
	free(r->addr);
	r->addr = NULL;
	free(r->probe);
	r->probe = NULL;
}

bool smtp_rcpt_syntax_ok(const char *addr)
{
	struct address a;
	const char *reason;
	bool ok;

	if (address_parse_mailbox(addr, strlen(addr), &a, &reason) < 0)
		return false;
	ok = a.domain[0] != '[';
	address_free(&a);
	return ok;
}

void smtp_rcpt_answer(struct smtp_rcpts *r, unsigned code, const char *enhanced, bool with_addr,
                      const char *text)
{
	char *addr = r->addr, *v = log_value(addr, strlen(addr), 300);
	struct smtp_session *s = r->s;

	log_info(smtp_session_sid(s), "event=%s.rcpt to=<%s> result=%s code=%u", r->env->event, v,
	         code < 300 ? "accepted" : "rejected", code);
	free(v);
	if (code < 300)
		r->accepted++;
	/* the reply to a pending stage may free the session and r with it */
	r->addr = NULL;
	free(r->probe);
	r->probe = NULL;
	if (with_addr)
		smtp_stage_reply(s, code, enhanced, "<%s>: %s", addr, text);
	else
		smtp_stage_reply(s, code, enhanced, "%s", text);
	free(addr);
}

bool smtp_rcpt_begin(struct smtp_rcpts *r, const char *addr, bool with_addr)
{
	free(r->addr);
	r->addr = xstrdup(addr);
	free(r->probe);
	r->probe = NULL;
	if (smtp_rcpt_syntax_ok(addr))
		return true;
	smtp_rcpt_answer(r, 501, "5.1.3", with_addr, "Bad recipient address syntax");
	return false;
}

/* The domain of a postmaster@ address, NULL if address is none. */
static const char *postmaster_domain(const char *address)
{
	const char *at = strrchr(address, '@');

	if (at == NULL || at - address != 10 || strncasecmp(address, "postmaster", 10) != 0)
		return NULL;
	return at + 1;
}

char *smtp_rcpt_postmaster_next(const char *probe, const char *hostname)
{
	const char *domain = postmaster_domain(probe), *parent;
	size_t hlen = strlen(hostname), dlen;

	if (domain == NULL)
		return NULL;
	dlen = strlen(domain);
	/* domain is hostname or one of its parents (". + domain" ends it) */
	if (dlen > hlen || strcasecmp(hostname + hlen - dlen, domain) != 0 ||
	    (dlen < hlen && hostname[hlen - dlen - 1] != '.'))
		return NULL;
	parent = strchr(domain, '.');
	if (parent == NULL || strchr(parent + 1, '.') == NULL)
		return NULL;
	return xasprintf("postmaster@%s", parent + 1);
}

/* A non-local postmaster@ of the hostname (or of a parent of it): try the
   next parent. true if a lookup went out. */
static bool postmaster_walk(struct smtp_rcpts *r)
{
	char *next;

	if (r->probe == NULL)
		return false;
	next = smtp_rcpt_postmaster_next(r->probe, r->env->hostname);
	free(r->probe);
	r->probe = next;
	if (next == NULL)
		return false;
	directory_async_resolve(r->env->dir, next, smtp_rcpt_resolved, r);
	return true;
}

unsigned smtp_rcpt_quota_verdict(const struct quota_limit *limit, const struct quota_usage *usage,
                                 uint64_t size, const char **enhanced_r, const char **text_r)
{
	if (quota_full(limit, usage)) {
		*enhanced_r = "4.2.2";
		*text_r = "Mailbox full: over quota";
		return 452;
	}
	if (size > 0 && !quota_fits(limit, usage, size)) {
		*enhanced_r = "5.2.2";
		*text_r = "Mailbox full: the message would exceed the quota";
		return 552;
	}
	return 0;
}

/* Keep the limits of the local users of res for smtp_rcpts_add_user(). */
static void remember_quotas(struct smtp_rcpts *r, const struct directory_resolution *res)
{
	for (size_t i = 0; i < res->local_count && res->local_quota != NULL; i++) {
		struct smtp_rcpt_quota q = {
		    xstrdup(res->local[i]),
		    {res->local_quota[i].bytes, res->local_quota[i].messages, NULL}};

		array_append(&r->quotas, q);
	}
}

/* Quota: the first local user of res that cannot take the message
   answers the RCPT (true). The usage is read from the user's index here,
   on the loop thread: one small SQLite read (docs/quota.md). */
static bool rcpt_over_quota(struct smtp_rcpts *r, const struct directory_resolution *res)
{
	uint64_t size = smtp_session_mail_size(r->s);

	for (size_t i = 0; i < res->local_count && res->local_quota != NULL; i++) {
		const struct directory_quota *q = &res->local_quota[i];
		struct quota_limit limit = {q->bytes, q->messages, NULL};
		struct quota_usage usage;
		const char *error, *enhanced, *text;
		char *path;
		unsigned code;

		if (!quota_limited(&limit) ||
		    maildir_user_path(r->env->mail_dir, res->local[i], &path, &error) < 0)
			continue;
		if (quota_usage_read(path, &usage, &error) < 0) {
			/* unreadable usage: the commit checks again */
			log_warn(smtp_session_sid(r->s), "event=%s.quota_error error=\"%s\"",
			         r->env->event, error);
			free(path);
			continue;
		}
		free(path);
		code = smtp_rcpt_quota_verdict(&limit, &usage, size, &enhanced, &text);
		if (code != 0) {
			smtp_rcpt_answer(r, code, enhanced, true, text);
			return true;
		}
	}
	return false;
}

void smtp_rcpt_resolved(void *ctx, int ret, struct directory_resolution *res, const char *error)
{
	struct smtp_rcpts *r = ctx;

	if (ret < 0) {
		log_error(smtp_session_sid(r->s), "event=%s.directory_error error=\"%s\"",
		          r->env->event, error);
		smtp_rcpt_answer(r, 451, "4.3.0", true, "Temporary lookup failure");
		return;
	}
	if (res->result == DIRECTORY_NOT_LOCAL && postmaster_walk(r))
		return;
	if (res->result == DIRECTORY_UNKNOWN) {
		smtp_rcpt_answer(r, 550, "5.1.1", true, "Recipient address rejected: User unknown");
		return;
	}
	if (res->result == DIRECTORY_LOCAL && rcpt_over_quota(r, res))
		return;
	remember_quotas(r, res);
	r->found(r->ctx, res);
}

void smtp_rcpt_resolve(struct smtp_rcpts *r)
{
	const char *domain = postmaster_domain(r->addr);

	free(r->probe);
	r->probe = NULL;
	if (domain != NULL && strcasecmp(domain, r->env->hostname) == 0)
		r->probe = xstrdup(r->addr);
	directory_async_resolve(r->env->dir, r->addr, smtp_rcpt_resolved, r);
}

int smtp_rcpts_add_user(struct smtp_rcpts *r, const char *name, size_t *index_r)
{
	const char *error;
	char *path;

	if (maildir_user_path(r->env->mail_dir, name, &path, &error) < 0) {
		log_error(smtp_session_sid(r->s), "event=%s.maildir_error user=%s error=%s",
		          r->env->event, name, error);
		return -1;
	}
	for (size_t j = 0; j < r->users.count; j++) {
		if (strcmp(r->users.items[j].maildir, path) == 0) {
			free(path);
			if (index_r != NULL)
				*index_r = j;
			return 0;
		}
	}
	struct quota_limit quota = {0, 0, &r->env->quota_warnings};

	for (size_t i = 0; i < r->quotas.count; i++) {
		if (strcmp(r->quotas.items[i].name, name) == 0) {
			quota.bytes = r->quotas.items[i].limit.bytes;
			quota.messages = r->quotas.items[i].limit.messages;
		}
	}
	array_append(&r->users, ((struct smtp_rcpt_user){xstrdup(name), path, quota}));
	if (index_r != NULL)
		*index_r = r->users.count - 1;
	return 0;
}

int smtp_rcpts_add_users(struct smtp_rcpts *r, const struct directory_resolution *res)
{
	for (size_t i = 0; i < res->local_count; i++) {
		if (smtp_rcpts_add_user(r, res->local[i], NULL) < 0)
			return -1;
	}
	return 0;
}

void smtp_rcpts_add_remote(struct smtp_rcpts *r, const char *address, const char *alias)
{
	for (size_t i = 0; i < r->remotes.count; i++) {
		if (strcasecmp(r->remotes.items[i].address, address) == 0)
			return;
	}
	array_append(&r->remotes,
	             ((struct smtp_rcpt_remote){
	                 xstrdup(address), alias != NULL ? xstrdup(alias) : NULL, r->accepted}));
}
