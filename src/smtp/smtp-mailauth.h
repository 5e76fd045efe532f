#ifndef TERN_SMTP_SMTP_MAILAUTH_H
#define TERN_SMTP_SMTP_MAILAUTH_H

/*
 * Mail authentication of messages received on port 25 (docs/smtp.md), a
 * thin user of src/mailauth/mailauth.h: SPF runs asynchronously from MAIL
 * FROM on, DKIM and ARC hash the message as it streams, and at the end of
 * DATA the session waits (reading paused) for the SPF result and the keys,
 * DMARC runs, and the session gets one verdict and one
 * Authentication-Results field (RFC 8601). Used by the inbound policy
 * (smtp-policy-inbound.c).
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/settings.h"
#include "mailauth/mailauth-settings.h"
#include "mailauth/mailauth.h"

struct dns_resolver;
struct event_base;
struct psl;
struct smtp_session;
struct smtp_mailauth;

/* What to do with the message. */
enum smtp_auth_action {
	SMTP_AUTH_DELIVER, /* into the recipients' inboxes */
	SMTP_AUTH_JUNK,    /* into their .Junk folders (DMARC quarantine) */
	SMTP_AUTH_REJECT,  /* 550 5.7.1 (DMARC reject) */
	SMTP_AUTH_DEFER,   /* 451 4.7.1: a DNS failure decides the outcome */
};

/* The verdict: a DMARC fail with disposition reject gets
   set->dmarc_reject (reject becomes DEFER when temp_could_pass), one with
   quarantine gets set->dmarc_quarantine; a DMARC temperror with nothing
   passed is DEFER when set->dmarc_reject is reject (the unknown policy may
   be reject); everything else is DELIVER. */
enum smtp_auth_action smtp_auth_decide(const struct mailauth_facts *facts,
                                       const struct mailauth_settings *set);

/* "deliver", "junk", "reject", "defer". */
const char *smtp_auth_action_name(enum smtp_auth_action action);

/* What the checks need of the role. */
struct smtp_mailauth_env {
	const struct tern_settings *settings;
	struct psl *psl;               /* DMARC's Organizational Domain */
	struct dns_resolver *resolver; /* SPF, DKIM, DMARC lookups */
	struct event_base *base;
};

/* Start the transaction's checks after MAIL FROM was accepted (the inbound
   policy does so on the smtp service only): SPF of the MAIL FROM identity,
   or of the HELO identity for the null sender. Returns the checks' state
   (free with smtp_mailauth_free()); s must outlive it. */
struct smtp_mailauth *smtp_mailauth_begin(const struct smtp_mailauth_env *env,
                                          struct smtp_session *s);

/* The next decoded bytes of the message (header section and body): hashed
   by the DKIM and ARC verifiers. */
void smtp_mailauth_feed(struct smtp_mailauth *a, const void *data, size_t len);

/* DATA ended with a message fit to store: wait for SPF, the DKIM keys and
   DMARC, then call done(ctx) (always from the event loop, never from
   inside this call). */
void smtp_mailauth_finish(struct smtp_mailauth *a, void (*done)(void *ctx), void *ctx);

/* After done: the action and the Authentication-Results field (name, value
   and CRLF) appended to out; the results are logged with msg_id. */
enum smtp_auth_action smtp_mailauth_result(struct smtp_mailauth *a, const char *msg_id,
                                           struct buf *out);

/* Cancel whatever runs (no callback follows), free and set *a NULL; NULL
   is fine. */
void smtp_mailauth_free(struct smtp_mailauth **a);

#endif
