#ifndef TERN_STORE_DELIVERY_H
#define TERN_STORE_DELIVERY_H

/*
 * Durable delivery of one message into one or more Maildirs.
 *
 * The body streams into a spool file under <mail_dir>/.spool/ (same file
 * system as the Maildirs, so the file can be hard-linked), then
 * delivery_commit() fsyncs it once, hard-links it into new/ of every target
 * Maildir, fsyncs each new/ directory once and unlinks the spool file. When
 * delivery_commit() returns 0 the message is durable in every target: the
 * caller may send its 2xx reply. Nothing is ever half delivered: on failure
 * every link already made is removed again.
 *
 * File names in new/ (docs/store.md):
 *   <sec>.M<usec>P<pid>Q<counter>R<random>.<hostname>,S=<size>
 * sec/usec: delivery time; pid: this process; counter: per-process sequence;
 * random: 16 hex digits; hostname with '/' and ':' escaped as \057 and \072
 * (the Maildir convention); S=: the file size in bytes, which Dovecot and
 * Tern read instead of calling stat().
 *
 * Errors are static strings; the details (paths, errno) are logged.
 */

#include <stddef.h>
#include <stdint.h>

struct delivery;

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

/* Make the message durable in each of the count Maildirs (absolute paths of
   a user's Maildir or a Maildir++ folder; missing ones, with their cur/ new/
   tmp/, are created 0700). Always frees d, success or not, and removes the
   spool file. Returns 0 when the message is durable in every Maildir; -1
   with *error_r set when it is in none of them. count 0 is an error. */
int delivery_commit(struct delivery *d, const char *const *maildirs, size_t count,
                    const char **error_r);

/* Like delivery_commit(), and on success stores in *paths_r a malloc'ed
   array of count malloc'ed absolute paths of the delivered files (for logs;
   free with delivery_paths_free()). On failure *paths_r is NULL. */
int delivery_commit_paths(struct delivery *d, const char *const *maildirs, size_t count,
                          char ***paths_r, const char **error_r);

/* Free an array returned by delivery_commit_paths(); NULL is fine. */
void delivery_paths_free(char **paths, size_t count);

/* Give up: unlink the spool file and free the delivery (used as well when a
   message goes over the size limit: nothing of it stays on disk). Sets *d to
   NULL; NULL or *d NULL is fine. */
void delivery_abort(struct delivery **d);

#endif
