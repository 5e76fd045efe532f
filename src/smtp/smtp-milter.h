#ifndef TERN_SMTP_SMTP_MILTER_H
#define TERN_SMTP_SMTP_MILTER_H

/*
 * The milters of tern.conf (`milter NAME { }`, docs/filter.md) in front of
 * a policy: a policy whose stages first run the transaction's events
 * through the milters that serve the session's service, then hand over to
 * the policy it wraps. Connect and HELO go with the first MAIL (the policy
 * has no stage before), MAIL and RCPT at theirs (a reject at RCPT refuses
 * that recipient, at MAIL the transaction), the header, body and end of
 * message at the end of DATA/BDAT before the wrapped policy commits. The
 * milters' modifications are applied to the message first: header fields
 * added, inserted, changed and deleted, the body replaced, the sender
 * changed; quarantine files the message into the recipients' Junk;
 * discard answers 250 and stores nothing; under LMTP the verdict at the
 * end of the message answers every recipient. Recipients added and removed
 * go in msg->milter_rcpts, which the wrapped policy applies to its
 * recipients with smtp_milter_rcpts_apply() before it commits.
 */

#include "lib/settings.h"
#include "smtp/smtp-policy.h"
#include "smtp/smtp-rcpt.h"

struct event_base;
struct smtp_milter;

/* Wrap *policy when some milter serves one of the services that policy
   is for: *policy becomes the wrapper (inner kept inside), *m_r what
   smtp_milter_free() frees; without any milter, *policy and *m_r (NULL)
   are left alone. 0, or -1 with *error_r (static) for a milter whose
   address does not parse. */
int smtp_milter_wrap(struct smtp_policy *policy, const struct tern_settings *settings,
                     struct event_base *base, struct smtp_milter **m_r, const char **error_r);

/* The recipients the milters added and removed (SMFIR_ADDRCPT,
   SMFIR_ADDRCPT_PAR, SMFIR_DELRCPT), addresses without <>. */
struct smtp_milter_rcpts {
	char **add;
	size_t add_count;
	char **del;
	size_t del_count;
};

/* Apply ch to the recipients r of a transaction at the end of DATA: each
   address is looked up in the directory (r->env->dir, on the worker
   pool); a removed one takes the users and forward targets it resolves
   to (a non-local one: itself) out of r, an added one puts them in (a
   non-local one as a remote recipient); an unknown or failed lookup is
   logged and skipped. ch holds one address or more (msg->milter_rcpts
   is NULL otherwise); done(ctx) runs on the loop thread when all are
   done, never before this returns. ch must stay valid until then. */
void smtp_milter_rcpts_apply(struct smtp_rcpts *r, const struct smtp_milter_rcpts *ch,
                             void (*done)(void *ctx), void *ctx);

/* Free the wrapper (NULL is fine), after the sessions. */
void smtp_milter_free(struct smtp_milter **m);

#endif
