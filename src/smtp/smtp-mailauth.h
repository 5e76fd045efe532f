#ifndef TERN_SMTP_SMTP_MAILAUTH_H
#define TERN_SMTP_SMTP_MAILAUTH_H

/*
 * Mail authentication of messages received on port 25 (docs/smtp.md), a
 * thin user of src/mailauth/mailauth.h: SPF runs asynchronously from MAIL
 * FROM on, DKIM and ARC hash the message as it streams, and at the end of
 * DATA the session waits (reading paused) for the SPF result and the keys,
 * DMARC runs, and the session gets one verdict and one
 * Authentication-Results field (RFC 8601). Internal to src/smtp/.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/settings.h"
#include "mailauth/mailauth.h"

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
                                       const struct tern_settings *set);

/* "deliver", "junk", "reject", "defer". */
const char *smtp_auth_action_name(enum smtp_auth_action action);

/* Start the transaction's checks after MAIL FROM was accepted (only on the
   smtp service; the session's auth stays NULL elsewhere): SPF of the MAIL
   FROM identity, or of the HELO identity for the null sender. */
void smtp_mailauth_begin(struct smtp_session *s);

/* The next decoded bytes of the message (header section and body): hashed
   by the DKIM and ARC verifiers. */
void smtp_mailauth_feed(struct smtp_session *s, const void *data, size_t len);

/* DATA ended with a message fit to store: wait for SPF, the DKIM keys and
   DMARC, then call done(s) (always from the event loop, never from inside
   this call). The session must be busy (reading paused) meanwhile. */
void smtp_mailauth_finish(struct smtp_session *s, void (*done)(struct smtp_session *s));

/* After done: the action and the Authentication-Results field (name, value
   and CRLF) appended to out; the results are logged. */
enum smtp_auth_action smtp_mailauth_result(struct smtp_session *s, struct buf *out);

/* Cancel whatever runs (no callback follows) and free; sets s->auth NULL. */
void smtp_mailauth_free(struct smtp_session *s);

#endif
