#ifndef TERN_QUEUE_DSN_H
#define TERN_QUEUE_DSN_H

/*
 * Delivery status notifications (RFC 3464): the text of a bounce, a delay
 * warning or a success report, as one multipart/report message:
 *
 *   1. text/plain: for a person, each recipient and why;
 *   2. message/delivery-status: Reporting-MTA, Original-Envelope-Id
 *      (ENVID), Arrival-Date, then per recipient Original-Recipient (ORCPT),
 *      Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
 *      Last-Attempt-Date, Will-Retry-Until (delays);
 *   3. the original: message/rfc822 when RET=FULL and it is at most
 *      DSN_MAX_FULL bytes (and not BINARYMIME), else its header section as
 *      text/rfc822-headers.
 *
 * When the original needed SMTPUTF8 the parts are RFC 6533's
 * message/global-delivery-status, message/global and
 * message/global-headers. The builder does no I/O: dsn_load_original()
 * reads the original from the spool. docs/queue.md, "Bounces".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "queue/spool-envelope.h"

/* RET=FULL returns the whole original up to this size, the header
   section beyond. */
#define DSN_MAX_FULL (1024 * 1024)
/* The header section returned is cut (at a line end) after this. */
#define DSN_MAX_HEADER (256 * 1024)

/* RFC 3464 2.3.3. */
enum dsn_action {
	DSN_ACTION_FAILED,
	DSN_ACTION_DELAYED,
	DSN_ACTION_DELIVERED,
	DSN_ACTION_RELAYED,
	DSN_ACTION_EXPANDED,
};

/* What happened to one recipient. Strings are borrowed; NULL/0 for
   what is unknown. */
struct dsn_rcpt {
	const struct spool_rcpt *rcpt; /* address, orcpt, alias */
	enum dsn_action action;
	const char *status;       /* "5.1.1"; NULL or malformed: X.0.0 after action */
	const char *diagnostic;   /* the remote reply ("550 5.1.1 User unknown") or our reason */
	const char *remote_mta;   /* the host that gave it */
	int64_t last_attempt;     /* seconds since the epoch */
	int64_t will_retry_until; /* DELAYED: when the queue gives up */
};

struct dsn_params {
	const char *hostname;             /* Reporting-MTA, MAILER-DAEMON@hostname */
	const struct spool_envelope *env; /* the original's envelope */
	const char *to;                   /* To:; NULL: env->sender */
	const struct dsn_rcpt *rcpts;     /* at least one, the ones to report */
	size_t rcpt_count;
	int64_t now; /* Date:, and part of Message-ID */
};

/* The part of the original to return (dsn_load_original()). */
struct dsn_original {
	struct buf data;   /* the whole message, or its header section */
	bool headers_only; /* data is only the header section */
};

/* Read what a DSN returns of the original message: the data file at path
   from byte data_skip on; the whole message when env asks RET=FULL, is
   not BINARYMIME and is at most DSN_MAX_FULL bytes, else the header
   section (up to and without the empty line, at most DSN_MAX_HEADER
   bytes, cut at a line end). Returns 0 with *orig_r filled (clear it with
   dsn_original_clear()), or -1 with *error_r static (logged with the
   path). */
int dsn_load_original(const char *path, const struct spool_envelope *env,
                      struct dsn_original *orig_r, const char **error_r);
void dsn_original_clear(struct dsn_original *orig);

/* Append the DSN for p (the original: orig, may be NULL for none) to out,
   CRLF line ends, header section first. *eight_bit_r: the DSN has 8-bit
   bytes (send it with BODY=8BITMIME; with SMTPUTF8 when the envelope had
   it). Returns 0, or -1 with *error_r static when p is unusable (no
   recipient, no hostname). */
int dsn_compose(const struct dsn_params *p, const struct dsn_original *orig, struct buf *out,
                bool *eight_bit_r, const char **error_r);

/* The word of RFC 3464 2.3.3 ("failed", ...). */
const char *dsn_action_name(enum dsn_action action);

/* Whether s is an enhanced status code class.subject.detail (RFC 3463):
   class 2, 4 or 5, subject and detail 0-999. */
bool dsn_status_valid(const char *s);

/* An RFC 5322 date-time of t in UTC ("Thu, 03 Dec 2026 13:42:00 +0000")
   appended to out. */
void dsn_format_date(int64_t t, struct buf *out);

#endif
