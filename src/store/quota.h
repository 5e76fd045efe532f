#ifndef TERN_STORE_QUOTA_H
#define TERN_STORE_QUOTA_H

/*
 * Quotas (docs/quota.md): the arithmetic of a limit against a usage, and
 * the usage a user's index keeps (schema version 7: a usage row kept by
 * triggers in the transaction that adds or deletes a message row, plus the
 * deliveries not indexed yet, which the next sync takes over).
 *
 * Errors: -1 with *error_r static (details logged).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mail_user;
struct quota_warnings;

/* A user's limits; 0 means unlimited for each. warn: the warning levels
   (quota-settings.h) a delivery checks after it, NULL for none. */
struct quota_limit {
	uint64_t bytes;
	uint64_t messages;
	const struct quota_warnings *warn;
};

/* What a user stores: every message of every mailbox, in file bytes (the
   S= of the file name). warned: the last warning level (a percentage)
   the user was sent, 0 for none. */
struct quota_usage {
	uint64_t bytes;
	uint64_t messages;
	unsigned warned;
};

/* True when there is a limit at all. */
bool quota_limited(const struct quota_limit *limit);

/* True when no message can be added any more: usage at or over a limit
   (RCPT without SIZE answers 452 4.2.2 then). */
bool quota_full(const struct quota_limit *limit, const struct quota_usage *usage);

/* True when one more message of size bytes fits: usage + size <= the byte
   limit and usage + 1 <= the message limit (no overflow for any size). */
bool quota_fits(const struct quota_limit *limit, const struct quota_usage *usage, uint64_t size);

/* The highest of the count warning thresholds (percentages, any order)
   that usage has reached, of bytes or of messages; 0 for none. */
unsigned quota_level(const struct quota_limit *limit, const struct quota_usage *usage,
                     const unsigned *percents, size_t count);

/* Parse "80%" (1..100) into *percent_r. 0, or -1. */
int quota_percent_parse(const char *text, unsigned *percent_r);

/* The usage of the user whose Maildir is maildir (the directory of
   tern-index.db): zero when the Maildir does not exist yet. 0, or -1. */
int quota_usage_read(const char *maildir, struct quota_usage *usage_r, const char **error_r);

/* Count a message just delivered (path: the file in maildir or in one of
   its folders, size: its bytes) until the sync indexes it. 0, or -1 (the
   message stays delivered; the next sync counts it). */
int quota_usage_add_pending(const char *maildir, const char *path, uint64_t size,
                            const char **error_r);

/* After a delivery to user (Maildir root maildir, under mail_dir): when
   its usage has crossed a level of limit->warn upwards since the last
   warning, deliver one warning message into its INBOX (not counted against
   the quota) and store the level; when the usage fell below the stored
   level, lower it, so the next crossing warns again. Two deliveries at once
   warn once (the level is raised by one conditional UPDATE). 1 warned, 0
   nothing to do, -1. */
int quota_warn(const char *mail_dir, const char *user, const char *maildir,
               const struct quota_limit *limit, const char **error_r);

/* Store warned as the user's last warning level. 0, or -1. */
int quota_usage_set_warned(const char *maildir, unsigned warned, const char **error_r);

/* Recompute the usage from the files: sync every mailbox of user (which
   drops the rows of files removed by hand and indexes new ones), forget
   the pending deliveries, and set the usage row to the sum of the rows.
 *usage_r: the result. 0, or -1. */
int quota_recalc(struct mail_user *user, struct quota_usage *usage_r, const char **error_r);

/* The usage as the open user's index holds it (with the pending
   deliveries). 0, or -1. */
int quota_user_usage(struct mail_user *user, struct quota_usage *usage_r, const char **error_r);

#endif
