#ifndef TERN_SMTP_SMTP_POLICY_LMTP_H
#define TERN_SMTP_SMTP_POLICY_LMTP_H

/*
 * The LMTP policy (smtp-policy.h) of the lmtp service: a front MTA (Postfix,
 * a front Tern node) hands over mail it has accepted and checked.
 *   MAIL  only from lmtp.trusted_networks (default loopback) or the Unix
 *         socket; others get 550 5.7.1;
 *   RCPT  resolves the address in the directory as port 25 does: local
 *         users get the message in their INBOX, unknown ones 550 5.1.1,
 *         other domains 550 5.1.2 (LMTP is final delivery: no relay);
 *   DATA  no SPF/DKIM/DMARC (the front did that; its Authentication-Results
 *         stay as they are), the trace fields in front of the header, and
 *         a commit with DELIVERY_PER_TARGET on the role's worker pool; then
 *         one reply per accepted recipient in RCPT order (RFC 2033 section
 *         4.2): 250 for a recipient whose every mailbox has the message
 *         durably, 451 4.3.0 for one whose delivery failed.
 * docs/smtp.md lists the replies.
 */

#include "master/role.h"
#include "smtp/smtp-policy.h"

struct smtp_lmtp;

/* Open what the policy needs for the role (the directory). Returns 0 with
   *lmtp_r set (free with smtp_lmtp_free()), or -1 with *error_r (static)
   set. role must outlive it. */
int smtp_lmtp_new(struct role_ctx *role, struct smtp_lmtp **lmtp_r, const char **error_r);

/* Free and set *lmtp NULL; NULL is fine. No session may be left. */
void smtp_lmtp_free(struct smtp_lmtp **lmtp);

/* The policy for sessions: {&smtp_lmtp_ops, lmtp}. */
extern const struct smtp_policy_ops smtp_lmtp_ops;

#endif
