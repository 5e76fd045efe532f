#ifndef TERN_SMTP_SMTP_COMMIT_H
#define TERN_SMTP_SMTP_COMMIT_H

/*
 * The end of a transaction for port 25 and submission: one reply for the
 * whole message, so all or nothing across the local Maildirs and the
 * outbound spool (docs/queue.md). The order: the spool entry is prepared
 * (durable, invisible), the local copies are delivered, then the entry is
 * committed; a failure before that removes what was made (the Maildir
 * copies are unlinked again, best effort, if the spool commit fails).
 *
 * Use: fill a zeroed struct smtp_commit on the loop thread (the envelope
 * with smtp_commit_fill_envelope()), run smtp_commit_work() on a worker
 * (workpool_submit(pool, smtp_commit_work, done, c)), read ret and error
 * in done, then smtp_commit_clear().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/spool.h"
#include "smtp/smtp-policy.h"
#include "smtp/smtp-rcpt.h"

struct smtp_commit {
	/* in: the spool for the remote recipients (may be NULL without any) */
	struct spool *spool;
	/* in: the message; taken (freed by the work or smtp_commit_clear()) */
	struct delivery *delivery;
	/* in: the local users, read on the worker: they must not change until
	   done runs */
	const struct smtp_rcpt_user *users;
	size_t user_count;
	const char *mailbox; /* in: each user's mailbox; NULL: INBOX */
	/* in: the remote recipients; none: no spool entry. env.id is the
	   queue id after a commit that made one */
	struct spool_envelope env;
	void *owner; /* the caller's, untouched */
	/* sieve (smtp-sieve.h): the settings for the glue (NULL: no Sieve)
	   and the envelope sender the scripts see */
	const struct tern_settings *settings;
	const char *sender;
	/* out, sieve: the script of the only local recipient rejected the
	   message (ret 0, nothing delivered): 550 5.7.1 with this reason
	   (freed by smtp_commit_clear()) */
	char *reject;
	/* out, sieve: queue ids of what the scripts sent (redirect, vacation),
	   for role_notify_message_queued() in done; freed by clear */
	char **queued;
	size_t queued_count;
	/* out: 0 when the message is durable everywhere, -1 with error
	   (static or the delivery's/spool's, valid until clear) */
	int ret;
	const char *error;
	/* out: with ret -1, a user's quota refused the message (552 5.2.2,
	   docs/quota.md) */
	bool over_quota;
};

/* The commit itself, blocking (fsync): on a worker thread. No recipient
   at all is a failure ("no recipient"). */
void smtp_commit_work(void *c);

/* The envelope of the remote recipients r->remotes into env (zeroed):
   the message's sender, extensions and DSN parameters (RFC 3461: NOTIFY,
   ORCPT decoded from xtext, RET, ENVID), the session's peer, HELO and
   SASL user; data_skip bytes of the stored message (local delivery's
   Return-Path) are not relayed. On the loop thread: the session's strings
   are not for the worker. */
void smtp_commit_fill_envelope(struct spool_envelope *env, struct smtp_session *s,
                               const struct smtp_message *msg, const struct smtp_rcpts *r,
                               uint64_t data_skip);

/* Free what c holds (the delivery if still there, the envelope). */
void smtp_commit_clear(struct smtp_commit *c);

#endif
