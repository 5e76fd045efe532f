#ifndef TERN_MAILAUTH_MAILAUTH_H
#define TERN_MAILAUTH_MAILAUTH_H

/*
 * The mail-authentication pipeline of one received message: SPF, DKIM,
 * DMARC and ARC, and the one Authentication-Results value (RFC 8601) this
 * host gives it. Used by the SMTP server on port 25 and by `tern verify`,
 * so both say the same thing (docs/mailauth.md).
 *
 *   ma = mailauth_new(&params, resolver, base);   (SPF starts now)
 *   mailauth_feed(ma, chunk, len, &error);        (as the message arrives)
 *   mailauth_finish(ma, done, context);           (done() runs from the loop)
 *   ... in done(): mailauth_write_value(), mailauth_get_facts() ...
 *   mailauth_free(&ma);
 *
 * Every check is an I/O-free state machine (spf.h, dkim-verify.h, dmarc.h,
 * arc.h); this object drives their lookups on the asynchronous resolver.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "mailauth/dmarc.h"

struct dns_resolver;
struct event_base;
struct psl;

/* Default and upper bound of the header section kept to find From. */
#define MAILAUTH_DEFAULT_MAX_HEADER (256 * 1024)

/* The connection facts and which checks run; strings are copied. */
struct mailauth_params {
	const char *ip;          /* client address text; NULL: SPF is not checked */
	const char *helo;        /* HELO/EHLO name; NULL or "" when none was given */
	const char *mail_from;   /* MAIL FROM address without <>; NULL or "": null sender */
	const char *authserv_id; /* this host: the A-R authserv-id and SPF's %{r} */
	const struct psl *psl;   /* borrowed, outlives the object; NULL: no PSL */
	bool spf, dkim, dmarc, arc;
	size_t max_header_size; /* header bytes kept for From; 0: the default */
	int dmarc_sample;       /* [0, 100) for tests; -1: random (RFC 7489 6.6.4) */
};

/* The facts the SMTP server's policy decision needs (smtp_auth_decide()). */
struct mailauth_facts {
	bool dmarc_checked;
	enum dmarc_result dmarc;
	enum dmarc_policy disposition; /* dmarc_check_disposition() */
	/* An SPF or DKIM temperror on an identifier that aligns (relaxed) with
	   the From domain: the DMARC fail might be a pass after a retry. */
	bool temp_could_pass;
	/* SPF or some DKIM signature passed. */
	bool any_pass;
};

/* Per-method outcome names for the log: "off" for a check that did not
   run; strings live as long as the object. */
struct mailauth_summary {
	const char *spf, *dkim, *dmarc, *arc;
	size_t signatures;
	const char *from_domain; /* "-" without DMARC */
	const char *disposition; /* "-" without DMARC */
};

struct mailauth;

/* A new pipeline; never NULL. SPF starts at once on resolver (events on
   base); both are borrowed and must outlive the object. */
struct mailauth *mailauth_new(const struct mailauth_params *params, struct dns_resolver *resolver,
                              struct event_base *base);

/* Why SPF could not start (a client address that is not an IP; static
   text), or NULL. The A-R then says spf=none (not checked). */
const char *mailauth_spf_error(const struct mailauth *ma);

/* The next len bytes of the message (header section and body, CRLF or LF
   line ends). Returns 0, or -1 with *error_r (static) when the header
   section is over a limit: the checks go on and report what they can. */
int mailauth_feed(struct mailauth *ma, const void *data, size_t len, const char **error_r);

/* The message ended: look up the DKIM and ARC keys, wait for SPF, run
   DMARC, then call done(context) once, always from the event loop (never
   from inside this call). Call once. */
void mailauth_finish(struct mailauth *ma, void (*done)(void *context), void *context);

/* True once done() was called (or is due). */
bool mailauth_is_done(const struct mailauth *ma);

/* After done: append the Authentication-Results value (authserv-id and
   results, no field name, no final CRLF) to out; with fold each result
   starts on a continuation line. */
void mailauth_write_value(const struct mailauth *ma, struct buf *out, bool fold);

/* After done: the DMARC verdict facts. */
void mailauth_get_facts(const struct mailauth *ma, struct mailauth_facts *facts_r);

/* After done: the outcome in words, for the log. */
void mailauth_get_summary(const struct mailauth *ma, struct mailauth_summary *summary_r);

/* Cancel pending lookups (done is not called) and free; NULL is fine;
   sets *ma NULL. */
void mailauth_free(struct mailauth **ma);

#endif
