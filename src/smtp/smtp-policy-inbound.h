#ifndef TERN_SMTP_SMTP_POLICY_INBOUND_H
#define TERN_SMTP_SMTP_POLICY_INBOUND_H

/*
 * The inbound policy (smtp-policy.h) of port 25, used for now by the
 * submission ports too (no AUTH yet, so they relay nothing either):
 *   MAIL  starts mail authentication on the smtp service (smtp-mailauth.h);
 *   RCPT  resolves the address in the directory: local users get the
 *         message in their INBOX, the remote targets of aliases go into
 *         the outbound spool (queue/spool.h), unknown ones 550 5.1.1, other
 *         domains 554 5.7.1 (no open relay; smtp.trusted_networks relay
 *         into the spool);
 *   DATA  waits for SPF/DKIM/DMARC, applies the verdict (reject, defer, the
 *         Junk folder for quarantine), writes trace fields, our
 *         Authentication-Results and the filtered header section in front
 *         of the body, and commits all or nothing (Maildirs and spool) on
 *         the role's worker pool before answering 250.
 * docs/smtp.md lists the replies.
 */

#include "master/role.h"
#include "smtp/smtp-policy.h"

struct smtp_inbound;

/* Open what the policy needs for the role: the directory, the DNS resolver
   (dns { }), the Public Suffix List (missing: DMARC uses the last two
   labels). Returns 0 with *in_r set (free with smtp_inbound_free()), or -1
   with *error_r (static) set. role must outlive it. */
int smtp_inbound_new(struct role_ctx *role, struct smtp_inbound **in_r, const char **error_r);

/* Free and set *in NULL; NULL is fine. No session may be left. */
void smtp_inbound_free(struct smtp_inbound **in);

/* The policy for sessions: {&smtp_inbound_ops, in}. */
extern const struct smtp_policy_ops smtp_inbound_ops;

#endif
