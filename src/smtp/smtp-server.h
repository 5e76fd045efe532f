#ifndef TERN_SMTP_SMTP_SERVER_H
#define TERN_SMTP_SMTP_SERVER_H

/*
 * The SMTP receiving server: role "smtp" (services smtp, submission,
 * submissions). init opens the directory, the DNS resolver (dns { } in
 * tern.conf) and the Public Suffix List; accept starts one session per
 * connection. A session reads command lines (RFC 5321, pipelined per
 * RFC 2920), streams DATA through the decoder into a delivery, and answers
 * 250 only once the message is durable in every local recipient's Maildir.
 * On the smtp service (port 25) every message is checked with SPF, DKIM
 * and DMARC and gets one Authentication-Results field (smtp-mailauth.h).
 * docs/smtp.md lists the replies and limits.
 *
 * For now submission/submissions run the same code: AUTH is not offered,
 * so relaying is refused there too.
 */

#include "master/role.h"

/* The smtp role (services smtp, submission, submissions). */
extern const struct role_ops smtp_role_ops;

#endif
