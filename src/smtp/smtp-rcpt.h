#ifndef TERN_SMTP_SMTP_RCPT_H
#define TERN_SMTP_SMTP_RCPT_H

/*
 * The RCPT path the policies share (port 25, submission, LMTP): the
 * syntax check, the one asynchronous directory lookup of a recipient, the
 * replies it maps to, and the recipients a transaction gathers (local
 * users once each by Maildir, remote addresses once each for the spool).
 * What a policy does with a local or a non-local result stays its own
 * (the found callback).
 *
 * RFC 5321 4.5.1: postmaster@<hostname> (what the session makes of a bare
 * <Postmaster>, smtp-policy.h) is the postmaster of the server: when the
 * hostname is not a local domain, the lookup goes on with postmaster@ of
 * its parent domains (mail.example.org: example.org), nearest first, and
 * the first local one answers, as postmaster@<local domain> always does
 * (directory_async_resolve(), docs/submission.md).
 *
 * Loop thread only.
 */

#include <stdbool.h>
#include <stddef.h>

#include "directory/directory-async.h"
#include "lib/array.h"
#include "lib/settings.h"
#include "lib/workpool.h"
#include "store/quota-settings.h"
#include "store/quota.h"

struct smtp_session;

/* What a policy's recipients are looked up with, one per policy. */
struct smtp_rcpt_env {
	struct directory_async *dir;
	const char *mail_dir; /* the settings' */
	const char *hostname; /* the settings' */
	const char *event;    /* log prefix: "smtp", "submission", "lmtp" */
	/* quota { warning } of the settings (docs/quota.md) */
	struct quota_warnings quota_warnings;
};

/* Open env->dir on the pool with the postmaster fallback of smtp {
   postmaster }, for the policy whose log lines start with event (static
   text). 0, or -1 with *error_r (static). */
int smtp_rcpt_env_open(struct smtp_rcpt_env *env, const struct tern_settings *settings,
                       struct workpool *pool, const char *event, const char **error_r);

/* Close env->dir (see directory_async_close()); a zeroed env is fine. */
void smtp_rcpt_env_close(struct smtp_rcpt_env *env);

/* A local user the message goes to. */
struct smtp_rcpt_user {
	char *name;
	char *maildir; /* what makes two users the same */
	/* its limits from the directory (docs/quota.md), for the commit's
	   delivery_target.quota */
	struct quota_limit quota;
};

/* A remote recipient, for the outbound spool: an alias's forward target,
   a relayed recipient. */
struct smtp_rcpt_remote {
	char *address;
	char *alias;         /* the RCPT address that expanded to it; NULL: itself */
	unsigned rcpt_index; /* of that RCPT among the accepted ones */
};

/* A user's limits as a lookup gave them. */
struct smtp_rcpt_quota {
	char *name;
	struct quota_limit limit;
};

struct smtp_rcpts;

/* The policy's part of a lookup that found the address local
   (DIRECTORY_LOCAL) or not ours (DIRECTORY_NOT_LOCAL): it must answer with
   smtp_rcpt_answer() (now or later). res is valid during the call. */
typedef void smtp_rcpt_found_cb(void *ctx, const struct directory_resolution *res);

/* One session's recipients: embedded in the policy's session state,
   zeroed, then smtp_rcpts_init(). */
struct smtp_rcpts {
	const struct smtp_rcpt_env *env;
	struct smtp_session *s;
	smtp_rcpt_found_cb *found;
	void *ctx;
	/* the transaction */
	ARRAY(struct smtp_rcpt_user) users;     /* once each, by Maildir */
	ARRAY(struct smtp_rcpt_remote) remotes; /* once each, ASCII case folded */
	unsigned accepted;                      /* RCPTs accepted: the next one's index */
	char *addr;                             /* the RCPT being answered, NULL between */
	char *probe;                            /* the postmaster@ being looked up */
	/* the limits of the local users the transaction's lookups found:
	   where smtp_rcpts_add_user() takes a user's quota from */
	ARRAY(struct smtp_rcpt_quota) quotas;
};

/* Begin r for session s of env; found(ctx, ...) is the policy's part. */
void smtp_rcpts_init(struct smtp_rcpts *r, const struct smtp_rcpt_env *env, struct smtp_session *s,
                     smtp_rcpt_found_cb *found, void *ctx);

/* Forget the transaction's recipients (RSET, a new MAIL, the session's
   end); r stays initialised. */
void smtp_rcpts_reset(struct smtp_rcpts *r);

/* Whether addr (a normalised RCPT address) can be looked up: it parses,
   and its domain is no address literal (the directory keeps none; those
   are syntax errors, 501). */
bool smtp_rcpt_syntax_ok(const char *addr);

/* Take addr (copied) as the RCPT being answered and check its syntax:
   true if it may be looked up, false after answering 501 5.1.3 (with
   "<addr>: " in front of the text if with_addr). */
bool smtp_rcpt_begin(struct smtp_rcpts *r, const char *addr, bool with_addr);

/* Look up r->addr (smtp_rcpt_begin() first) on the worker pool; the stage
   is pending meanwhile, the session lives until its reply. A failed
   lookup is answered 451 4.3.0 (logged), an unknown user 550 5.1.1; a
   local or non-local result goes to the found callback, unless a local
   user of it is over quota (docs/quota.md): 452 4.2.2 when the user's
   usage is at or past a limit, 552 5.2.2 when MAIL SIZE= says the
   message would not fit. */
void smtp_rcpt_resolve(struct smtp_rcpts *r);

/* The same answer for a lookup the policy made itself (the shape of a
   directory_resolve_cb, ctx = r). */
void smtp_rcpt_resolved(void *r, int ret, struct directory_resolution *res, const char *error);

/* Log event=<env->event>.rcpt and answer the RCPT of r->addr with code
   (a 2xx counts it accepted); with_addr: the text is "<address>: text".
   The reply may free the session and r with it: r is not touched after. */
void smtp_rcpt_answer(struct smtp_rcpts *r, unsigned code, const char *enhanced, bool with_addr,
                      const char *text);

/* Whether a user of limit and usage may get a message of SIZE= size
   (0: not given): 0 yes, else the RCPT reply code (452 full, 552 would
   not fit) with *enhanced_r and *text_r (static). */
unsigned smtp_rcpt_quota_verdict(const struct quota_limit *limit, const struct quota_usage *usage,
                                 uint64_t size, const char **enhanced_r, const char **text_r);

/* Add the user name (its Maildir under env->mail_dir) once, with its quota
   as the transaction's lookups found it (unlimited if none did); *index_r
   (may be NULL) is its index in r->users. -1 (logged as
   event=<env->event>.maildir_error) if the name makes no Maildir path. */
int smtp_rcpts_add_user(struct smtp_rcpts *r, const char *name, size_t *index_r);

/* Add every local user of res (smtp_rcpts_add_user()); -1 at the first
   that fails. */
int smtp_rcpts_add_users(struct smtp_rcpts *r, const struct directory_resolution *res);

/* Add a remote recipient (copied) once, with alias (copied, may be NULL)
   and the index of the RCPT being answered (r->accepted). */
void smtp_rcpts_add_remote(struct smtp_rcpts *r, const char *address, const char *alias);

/* The next address the postmaster lookup of the hostname tries after
   probe (postmaster@<domain>): postmaster@<parent of domain> (malloc'ed),
   or NULL when the parent would be a top-level name or probe is not a
   postmaster@ address of hostname or one of its parents. */
char *smtp_rcpt_postmaster_next(const char *probe, const char *hostname);

#endif
