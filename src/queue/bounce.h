#ifndef TERN_QUEUE_BOUNCE_H
#define TERN_QUEUE_BOUNCE_H

/*
 * Bounces, delay warnings and success reports into the spool: which
 * recipients of a queue entry the sender is told about (RFC 3461 NOTIFY),
 * the DSN (dsn.h), its DKIM signature, and the new spool entry that
 * carries it to the sender. The queue role calls bounce_write() when
 * recipients fail permanently or expire (action failed), when a delay
 * warning is due (delayed), or when a recipient that asked NOTIFY=SUCCESS
 * was delivered or relayed. docs/queue.md, "Bounces".
 */

#include <stddef.h>
#include <stdint.h>

#include "queue/dsn.h"
#include "queue/spool-envelope.h"
#include "queue/spool.h"
#include "queue/srs.h"

struct bounce_settings {
	const char *hostname; /* Reporting-MTA, From: MAILER-DAEMON@hostname */
	/* The DKIM key store (dkim-keystore.h: <data_dir>/dkim/): the DSN is
	   signed with the key of the hostname's domain or the nearest parent
	   that has one; NULL or no key: unsigned. */
	const char *data_dir;
	/* A sender that is an SRS address this secret made gets the report at
	   the decoded address; NULL: the sender as it is. */
	const struct srs *srs;
	int64_t now; /* 0: time(NULL) */
};

/* Whether a recipient with NOTIFY bits notify (enum spool_notify, 0:
   none given) is reported for action: failed and delayed unless NEVER or
   a list without them (none given: both), success only when asked. */
bool bounce_wanted(unsigned notify, enum dsn_action action);

/* Write the report about the results (count items, each rcpt one of env's
   recipients) of the entry env, whose data file is data_path (read from
   env->data_skip on), into sp as a new entry: sender <>, one recipient
   (env's sender, SRS-decoded), the DSN DKIM-signed when a key exists.
   Only the results bounce_wanted() picks are reported; nothing is written
   for a null sender or a sender that is MAILER-DAEMON (the original is a
   bounce itself: no loops), nor when no result is picked.
   Returns 1 with *id_r the new entry's id (malloc'ed), 0 when no report
   is needed (*id_r NULL), -1 with *error_r static when the original
   cannot be read or the spool cannot be written (logged). A signing
   failure is logged and the DSN goes unsigned. Blocks (fsync): call it
   off the event loop. */
int bounce_write(struct spool *sp, const struct bounce_settings *set,
                 const struct spool_envelope *env, const char *data_path,
                 const struct dsn_rcpt *results, size_t count, char **id_r, const char **error_r);

#endif
