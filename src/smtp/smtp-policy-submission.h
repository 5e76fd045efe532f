#ifndef TERN_SMTP_SMTP_POLICY_SUBMISSION_H
#define TERN_SMTP_SMTP_POLICY_SUBMISSION_H

/*
 * The submission policy (smtp-policy.h) of ports 587 and 465 (RFC 6409;
 * docs/submission.md):
 *   MAIL  needs AUTH (530 5.7.0); the user's hourly message limits (451
 *         4.7.1); the envelope sender must be the user's (553 5.7.1; <>
 *         is allowed, for MDNs and the like);
 *   RCPT  at most submission.max_recipients (452 4.5.3); local addresses
 *         resolve in the directory as on port 25 (550 5.1.1 unknown),
 *         remote ones are handed to the outbound spool;
 *   DATA  every From: mailbox must be the user's (550 5.7.1); Message-ID
 *         and Date are added when missing (RFC 6409 8.2, 8.3), a Received
 *         field "with ESMTPSA" on top; the message is DKIM-signed when its
 *         From: domain has a key (the RSA or Ed25519 signature on the
 *         role's worker pool) and committed all or nothing before 250.
 * No SPF, DKIM verification or DMARC: submitted mail is signed, not
 * checked, and gets no Authentication-Results.
 */

#include "master/role.h"
#include "smtp/smtp-policy.h"

struct smtp_submission;

/* Open what the policy needs: the directory (async). Returns 0 with *sub_r
   (free with smtp_submission_free()), or -1 with *error_r (static). role
   must outlive it. */
int smtp_submission_new(struct role_ctx *role, struct smtp_submission **sub_r,
                        const char **error_r);

/* Free and set *sub NULL; NULL is fine. No session may be left. */
void smtp_submission_free(struct smtp_submission **sub);

/* The policy for the submission services: these ops on sub, TLS required
   before AUTH and mail (587; 465 is TLS from the start), AUTH offered. */
struct smtp_policy smtp_submission_policy(struct smtp_submission *sub);

extern const struct smtp_policy_ops smtp_submission_ops;

#endif
