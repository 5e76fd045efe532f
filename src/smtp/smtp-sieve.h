#ifndef TERN_SMTP_SMTP_SIEVE_H
#define TERN_SMTP_SMTP_SIEVE_H

/*
 * Sieve at local delivery (docs/sieve.md, "Delivery"): every local
 * delivery (port 25, submission, LMTP, the queue's local delivery) commits
 * through smtp_sieve_commit(), which runs the global before script, the
 * recipient's active script (sieve-store.h) and the global after script,
 * turns the actions into delivery targets (keep, fileinto, flags), and
 * carries out the rest (redirect, vacation, reject) only once the message
 * is durable: either every action of a recipient happens or, when a script
 * fails at run time, the message is kept in INBOX (event=sieve.error).
 * With settings NULL (and no earlier init), or with sieve { enabled = no }, it is a plain
 * delivery_commit() into each recipient's default mailbox.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/settings.h"
#include "store/delivery.h"

/* Once per process (the first smtp_sieve_commit() does it; thread-safe,
   idempotent): read the sieve { } section (settings must be loaded with a
   schema that holds it), open the outbound spool and the SRS secret (for
   redirect and vacation; without them those actions are logged as
   failed, the copies in the mailboxes stay). */
void smtp_sieve_init(const struct tern_settings *settings);

/* One local recipient of a commit. */
struct smtp_sieve_rcpt {
	const char *user;    /* in: the user's address */
	const char *mailbox; /* in: the default mailbox (keep); NULL: INBOX */
	/* in: the caller can refuse this recipient with a 5xx reply (LMTP,
	   the queue, port 25 with this one recipient only); false: a reject
	   becomes a rejection message to the sender through the queue */
	bool can_refuse;
	/* in: the user's quota (store/quota.h, docs/quota.md), given to every
	   target of the user; NULL: none */
	const struct quota_limit *quota;
	/* out: 0 when every action for the user is done (durable), -1 not */
	int ret;
	/* out: with ret -1, a target was refused by the quota (SMTP 552) */
	bool over_quota;
	/* out: the script rejected the message for this recipient (only with
	   can_refuse): the reason (malloc'ed, the caller frees it) */
	char *reject;
	/* out: the delivered files of this recipient (malloc'ed; free with
	   smtp_sieve_rcpt_clear()), for a caller that must take them back */
	char **paths;
	size_t path_count;
	/* out: the queue ids of the messages the scripts sent (redirect,
	   vacation, rejection; malloc'ed, smtp_sieve_rcpt_clear()): the
	   caller tells the queue role (role_notify_message_queued()) */
	char **queued;
	size_t queued_count;
};

/* Free what the outs of count rcpts hold (reject, paths, queued) and zero
   them. */
void smtp_sieve_rcpt_clear(struct smtp_sieve_rcpt *rcpts, size_t count);

/* Deliver d to the count recipients (count > 0) in mode (as
   delivery_commit()): the targets of every recipient's scripts in one
   delivery_commit(); settings: for the first call's smtp_sieve_init()
   (NULL: none, plain delivery unless already initialised); sender is the reverse path ("" for <>).
   Always takes d. Returns 0 when every recipient's ret is 0; -1 with *error_r (static or the
   store's) otherwise. In DELIVERY_ALL_OR_NOTHING a failure leaves nothing delivered and nothing
   sent. Blocking: on a worker thread. */
int smtp_sieve_commit(const struct tern_settings *settings, struct delivery *d, const char *sender,
                      struct smtp_sieve_rcpt *rcpts, size_t count, enum delivery_mode mode,
                      const char **error_r);

/* Compiled-cache figures of this process: scripts compiled, and runs that
   reused a compiled script (docs/sieve.md: cached per path, mtime and
   size). */
void smtp_sieve_cache_stats(unsigned long *compiled_r, unsigned long *reused_r);

#endif
