#ifndef TERN_STORE_DELIVERY_H
#define TERN_STORE_DELIVERY_H

/*
 * Durable delivery of one message into one or more mailboxes (targets).
 *
 * The body streams into a spool file under <mail_dir>/.spool/ (same file
 * system as the Maildirs, so the file can be hard-linked), then
 * delivery_commit() fsyncs it once, hard-links it into new/ (or cur/, with
 * flags) of every target, fsyncs each of those directories once and unlinks
 * the spool file. A result of 0 means the message is durable in that
 * target: the caller may send its 2xx reply. In DELIVERY_ALL_OR_NOTHING
 * mode nothing is ever half delivered: on failure every link already made
 * is removed again.
 *
 * File names (docs/store.md):
 *   <sec>.M<usec>P<pid>Q<counter>R<random>.<hostname>,S=<size>[:2,<flags>]
 * sec/usec: delivery time; pid: this process; counter: per-process sequence;
 * random: 16 hex digits; hostname with '/' and ':' escaped as \057 and \072
 * (the Maildir convention); S=: the file size in bytes, which Dovecot and
 * Tern read instead of calling stat().
 *
 * Errors are static strings; the details (paths, errno) are logged.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct delivery;
struct quota_limit;

/* Start a delivery: create <mail_dir>/.spool/ (0700) if missing and open a
   new spool file (0600) in it. On success returns 0 and *d_r is a new
   delivery the caller must end with delivery_commit() or delivery_abort().
   On failure returns -1 and sets *error_r. */
int delivery_begin(const char *mail_dir, struct delivery **d_r, const char **error_r);

/* Append len bytes of the message (already in its stored form: CRLF line
   ends). Writes are buffered in 64 KiB chunks; the whole message is never
   held in memory. Returns 0, or -1 with *error_r set (the delivery must then
   be aborted). */
int delivery_write(struct delivery *d, const void *data, size_t len, const char **error_r);

/* The number of bytes written so far (for SIZE limits and quotas). */
uint64_t delivery_size(const struct delivery *d);

/* Give the delivered file this modification time (seconds since the
   epoch; 0 keeps the delivery time). The store takes a message's
   INTERNALDATE from it, so IMAP APPEND sets the client's date here. Applied
   at commit, before the fsync. */
void delivery_set_mtime(struct delivery *d, int64_t mtime);

/* Have the commit write these len bytes (copied) in front of everything
   delivery_write() wrote, in the same file, before the one fsync: the SMTP
   server streams the body to the spool and only knows its header fields
   (Authentication-Results, the filtered header section) at the end. A
   second call replaces the prefix. delivery_size() does not count it; the
   S= of the delivered file does. When the content is still in the write
   buffer (under 64 KiB) this costs one extra write(); otherwise a second
   spool file gets prefix + content (copy_file_range), see docs/store.md. */
void delivery_set_prefix(struct delivery *d, const void *data, size_t len);

/* Where one copy of the message goes: a user's mailbox, with the flags
   (and keywords) it starts with. The strings are the caller's and are only
   read during delivery_commit(). */
struct delivery_target {
	/* The recipient's address: the Maildir is maildir_user_path(mail_dir,
	   user), mail_dir being the one given to delivery_begin(). */
	const char *user;
	/* The IMAP mailbox: NULL or "INBOX" for the Maildir itself, otherwise
	   the Maildir++ folder of maildir_imap_to_folder() ("Junk" gives
	   <Maildir>/.Junk), created (0700, with cur/ new/ tmp/) if missing. */
	const char *mailbox;
	/* MAIL_STORED_FLAGS bits (store/maildir.h). 0: the file goes into new/
	   as <unique>,S=<size>; otherwise into cur/ as
	   <unique>,S=<size>:2,<letters>. */
	unsigned flags;
	/* Keywords (Sieve imap4flags): the first 26 of the mailbox are letters
	   of the file name (a-z, mapped by the mailbox's dovecot-keywords,
	   which gets new ones; docs/store.md, "Keywords"), and the file goes
	   into cur/ as with flags. Others are dropped and counted. */
	const char *const *keywords;
	size_t keyword_count;
	/* Set instead of user and mailbox by the store's own callers that hold
	   an open mail_user (IMAP APPEND): the mailbox's directory. NULL
	   otherwise. */
	const char *maildir;
	/* Quota (docs/quota.md, with user set): NULL for none. Otherwise the
	   target is refused (result over_quota, nothing linked) unless the
	   message fits the user's usage (read from its index), and a delivered
	   copy is counted in the usage until the sync indexes it. Ignored with
	   maildir set (that caller checks through its mail_user). */
	const struct quota_limit *quota;
};

/* What became of one target. */
struct delivery_result {
	/* 0: the message is durable in this target; -1: it is not. */
	int ret;
	/* When ret is -1: why (static string). */
	const char *error;
	/* When ret is 0: the delivered file's absolute path (malloc'ed, free
	   with delivery_results_clear()). */
	char *path;
	/* Keywords of the target that were not stored: no letter left (the
	   index-only keywords need an open mail_user), an invalid name. */
	size_t keywords_dropped;
	/* When ret is -1: the target's quota refused the message (SMTP 552
	   5.2.2); the usage could not be read counts as a failure without
	   it. */
	bool over_quota;
};

/* What a failing target means for the others. */
enum delivery_mode {
	/* SMTP port 25: one reply for the whole message, so a message is
	   delivered to every target or to none (links already made are
	   removed again); every result is then -1. */
	DELIVERY_ALL_OR_NOTHING,
	/* LMTP, Sieve: each target on its own; the ones that got the message
	   keep it and are durable, whatever happened to the others. */
	DELIVERY_PER_TARGET,
};

/* Make the message durable in each of the count targets: the data is
   fsynced once, one hard link is made per target, and every directory that
   got a link (new/, or cur/ for a target with flags) is fsynced before this
   returns, so a caller may send its 2xx for every result that is 0. Always
   frees d, success or not, and removes the spool file. results (count
   entries, the caller's) gets one result per target, in order; free their
   paths with delivery_results_clear().
   Returns 0 when every target got the message; -1 with *error_r set (the
   first failure) otherwise, results telling which did (only with
   DELIVERY_PER_TARGET can some have). count 0 is an error. */
int delivery_commit(struct delivery *d, const struct delivery_target *targets, size_t count,
                    enum delivery_mode mode, struct delivery_result *results, const char **error_r);

/* Make the message (prefix included) durable in the file path as well,
   keeping d for delivery_commit() or delivery_abort(): the spool file is
   fsynced and hard-linked to path, or copied there and the copy fsynced
   when path is on another file system. path must not exist (EEXIST is
   reported as -2, other failures as -1, with *error_r set). The caller
   fsyncs path's directory. *size_r: the file's size. The outbound spool
   (src/queue) takes its copy of a message this way. */
int delivery_link_file(struct delivery *d, const char *path, uint64_t *size_r,
                       const char **error_r);

/* Free the paths of count results and zero them. */
void delivery_results_clear(struct delivery_result *results, size_t count);

/* Give up: unlink the spool file and free the delivery (used as well when a
   message goes over the size limit: nothing of it stays on disk). Sets *d to
   NULL; NULL or *d NULL is fine. */
void delivery_abort(struct delivery **d);

#endif
