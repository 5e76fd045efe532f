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
 * discard answers 250 and stores nothing. Recipient changes are logged,
 * not applied (docs/filter.md, "Left").
 */

#include "lib/settings.h"
#include "smtp/smtp-policy.h"

struct event_base;
struct smtp_milter;

/* Wrap *policy when some milter serves one of the services that policy
   is for: *policy becomes the wrapper (inner kept inside), *m_r what
   smtp_milter_free() frees; without any milter, *policy and *m_r (NULL)
   are left alone. 0, or -1 with *error_r (static) for a milter whose
   address does not parse. */
int smtp_milter_wrap(struct smtp_policy *policy, const struct tern_settings *settings,
                     struct event_base *base, struct smtp_milter **m_r, const char **error_r);

/* Free the wrapper (NULL is fine), after the sessions. */
void smtp_milter_free(struct smtp_milter **m);

#endif
