#ifndef TERN_SMTP_SMTP_SERVER_H
#define TERN_SMTP_SMTP_SERVER_H

/*
 * The SMTP receiving server: role "smtp" (services smtp, submission,
 * submissions). The session here is the protocol (RFC 5321, pipelined per
 * RFC 2920, DATA streamed through the decoder into a spool file); what a
 * MAIL, a RCPT or a message means is asked of the policy the role wires up
 * (smtp-policy.h). init sets up the inbound policy (smtp-policy-inbound.h:
 * the directory, DNS for SPF/DKIM/DMARC, the Public Suffix List) for every
 * service; accept starts one session per connection. docs/smtp.md lists
 * the replies and limits.
 *
 * For now submission/submissions run the same policy: AUTH is not offered,
 * so relaying is refused there too.
 */

#include "master/role.h"
#include "smtp/smtp-policy.h"
#include "smtp/smtp-settings.h"

struct smtp_server;

/* The smtp role (services smtp, submission, submissions). */
extern const struct role_ops smtp_role_ops;

/* A server without the role's resources, whose sessions ask policy (for
   tests and fuzzing: a scripted policy over a socketpair). role->base and
   role->settings are used, role->tls may be NULL, role must outlive it.
   Free with smtp_server_free() once its sessions are gone. */
struct smtp_server *smtp_server_new(struct role_ctx *role, const struct smtp_policy *policy);
void smtp_server_free(struct smtp_server **server);

/* Start a session on fd (connected; the session owns it) as the given
   service, the peer seen as 127.0.0.1. The session ends by itself when the
   connection closes. */
void smtp_server_accept_fd(struct smtp_server *server, int fd, const struct service_def *service);

#endif
