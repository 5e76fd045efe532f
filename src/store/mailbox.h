#ifndef TERN_STORE_MAILBOX_H
#define TERN_STORE_MAILBOX_H

/*
 * A user's mailboxes as IMAP (and POP3) see them: the Maildir++ tree at
 * <mail_dir>/<domain>/<localpart>/ and its index tern-index.db beside it
 * (docs/store.md).
 *
 * Names: INBOX (any case) is the Maildir itself; a folder ".A.B" is shown
 * as "A/B": the hierarchy separator is '/', so '.' cannot appear in a
 * name. Names are stored as the client sends them (modified UTF-7).
 *
 * A struct mailbox is one session's view of one mailbox: its own message
 * sequence numbers (1..count, in UID order) that change only when the
 * session calls mailbox_sync() or mailbox_expunge(). Several views, of one
 * or several struct mail_user in the same process, may be open on the same
 * mailbox; each sees the others' changes at its next sync. Every change runs
 * in an index write transaction (SQLite WAL, BEGIN IMMEDIATE, a busy
 * timeout), so several writer processes are safe; the smtp role only adds
 * files to new/.
 *
 * Only this process's thread that opened a mail_user may use it and its
 * mailboxes. Errors: -1 with *error_r valid until the next call on the same
 * object (the mail_user, or the mailbox).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/maildir.h"

struct mail_user;
struct mailbox;

struct mail_msg {
	uint32_t uid;
	unsigned flags;      /* enum mail_flags; MAIL_RECENT in this view only */
	uint64_t size;       /* file size in bytes: RFC822.SIZE (CRLF stored) */
	time_t internaldate; /* delivery time (file mtime when first seen) */
	uint64_t modseq;     /* last change of this message (CONDSTORE) */
	uint64_t keywords;   /* bit i: the mailbox's keyword i (mailbox_keyword_name()) */
};

/* Distinct keywords a mailbox holds at most (docs/store.md, "Keywords"):
   one bit each in struct mail_msg. */
#define MAIL_KEYWORDS_MAX 64
/* Longest keyword name stored. */
#define MAIL_KEYWORD_NAME_MAX 200

/* What changed since the view's previous sync (see mailbox_sync()). */
struct mailbox_changes {
	/* Sequence numbers to send as "* n EXPUNGE", in sending order: each
	   is valid after the previous ones were sent (descending order). */
	uint32_t *expunged;
	/* The UID of each of them, in the same order (QRESYNC's VANISHED). */
	uint32_t *expunged_uids;
	size_t expunged_count;
	/* Sequence numbers (after the expunges) whose flags changed: send
	   "* n FETCH (FLAGS ...)". Ascending. */
	uint32_t *flags_changed;
	size_t flags_changed_count;
	uint32_t count;  /* the new message count (send "* count EXISTS" if it
	                    grew or anything was expunged) */
	uint32_t recent; /* messages with MAIL_RECENT in this view */
	bool grew;       /* messages were added to the view */
};

/* Open the mailboxes of address: its Maildir (created with INBOX if
   missing) and its index (created, or rebuilt when damaged). On success
   *user_r is new; close it with mail_user_close() after its mailboxes. */
int mail_user_open(const char *mail_dir, const char *address, struct mail_user **user_r,
                   const char **error_r);
/* Close and set *user to NULL; NULL is fine. Every mailbox of the user
   must be closed first. Not for a user from mail_user_acquire(). */
void mail_user_close(struct mail_user **user);

/*
 * Sharing: every session of a user in one process (the imap role) uses the
 * same struct mail_user and so one SQLite connection to its index, instead
 * of one per session. Each session still has its own views (struct
 * mailbox). The index is safe with several writer processes too (WAL, a
 * busy timeout, BEGIN IMMEDIATE for every change), so roles running as
 * several processes each keep their own registry.
 */
struct mail_user_registry;
/* A registry of the users open in this process, whose Maildirs are under
   mail_dir (copied). Never returns NULL. Create it before anything else in
   the process uses SQLite: it sets SQLite up for many idle connections
   (mail_index_process_init() in index.h). */
struct mail_user_registry *mail_user_registry_new(const char *mail_dir);
/* Free the registry and set *registry to NULL; NULL is fine. Users still
   acquired stay valid and are closed by their last mail_user_release(). */
void mail_user_registry_free(struct mail_user_registry **registry);
/* The shared mail_user of address (as mail_user_open(); addresses naming
   the same Maildir, e.g. differing in case, share one): opened on the first
   call, then the same object with one more reference. Release each with
   mail_user_release(). 0, or -1 (nothing acquired) with *error_r valid
   until the next call on the registry. */
int mail_user_acquire(struct mail_user_registry *registry, const char *address,
                      struct mail_user **user_r, const char **error_r);
/* Drop one reference (the caller's views of the user must be closed) and
   set *user to NULL; the last one closes the user. NULL is fine. */
void mail_user_release(struct mail_user **user);
/* The mail of address was changed elsewhere (the channel's "mailbox
   changed"): every view of that user in this process scans the Maildir at
   its next sync (docs/store.md, "Sync"). Nothing if the user is not open. */
void mail_user_registry_notify(struct mail_user_registry *registry, const char *address);
/* Close the index connection of every user of registry that has not used
   it for idle_seconds or more and has no transaction open (a user's views
   stay valid: the next use opens it again; docs/store.md, "Idle users").
   Returns how many were closed. */
size_t mail_user_registry_close_idle(struct mail_user_registry *registry, unsigned idle_seconds);
/* Close user's index connection now unless a transaction is open on it
   (its views stay valid; the next use opens it again), e.g. when a session
   starts waiting in IDLE: an idle phone then holds no SQLite connection,
   and the connection's memory is freed while it is the last thing
   allocated, before later allocations pin it in the heap. Returns true if
   it closed one. */
bool mail_user_index_release(struct mail_user *user);
/* How many users the registry holds open (for tests and metrics). */
size_t mail_user_registry_count(const struct mail_user_registry *registry);

/* The user's Maildir path (valid while the user is open). */
const char *mail_user_path(const struct mail_user *user);

/* The mailbox names: "INBOX" first, then the folders sorted by name
   (folder directories that are symlinks, lack cur/ or have unusable
   names are skipped). On success *names_r is a malloc'ed array of
   *count_r malloc'ed strings (free with mail_user_list_free()). */
int mail_user_list(struct mail_user *user, char ***names_r, size_t *count_r, const char **error_r);
void mail_user_list_free(char **names, size_t count);

/* Create a folder (IMAP CREATE): its Maildir++ directory with cur/ new/
   tmp/ and the maildirfolder marker. -1 if it exists, is INBOX, or the
   name cannot be stored (see maildir_imap_to_folder()). */
int mail_user_create_mailbox(struct mail_user *user, const char *name, const char **error_r);

/* True if the mailbox name exists (INBOX always does). */
bool mail_user_mailbox_exists(struct mail_user *user, const char *name);

/* Delete a folder (IMAP DELETE): its directory and files, and its index
   rows. -1 for INBOX, a missing mailbox, or one with inferior names
   (RFC 3501 6.3.4 lets a server refuse those). Views still open on it
   see it empty at their next sync. */
int mail_user_delete_mailbox(struct mail_user *user, const char *name, const char **error_r);
/* mail_user_delete_mailbox() in two steps, so that removing the files
   (unbounded: one unlink per message) can run off the event loop: the
   first renames the folder out of the tree (it is gone for every view and
   LIST at once) and drops its index rows; on success *trash_r (malloc'ed)
   is the directory left to remove. mail_trash_remove() removes it; it
   touches no mail_user, so any thread may call it. A crash in between
   leaves <Maildir>/tern-deleting.<unique>/ (docs/store.md). */
int mail_user_delete_mailbox_begin(struct mail_user *user, const char *name, char **trash_r,
                                   const char **error_r);
void mail_trash_remove(const char *trash);

/* Rename a folder and its inferiors (IMAP RENAME): the directories are
   renamed, the index rows keep their UIDVALIDITY and UIDs. -1 if old_name
   is missing, new_name (or a renamed inferior) exists or cannot be stored,
   or either is INBOX (not supported yet). */
int mail_user_rename_mailbox(struct mail_user *user, const char *old_name, const char *new_name,
                             const char **error_r);

struct delivery;
/* Commit delivery d (delivery.h; always consumed) into mailbox name, give
   the file the mtime internaldate (0: now) and the stored flags of flags,
   and assign its UID at once (IMAP APPEND with UIDPLUS, RFC 4315). On
   success *uidvalidity_r and *uid_r are the new message's. -1 if the
   mailbox does not exist (check with mail_user_mailbox_exists() first to
   answer [TRYCREATE]) or on an I/O or index error; the message is then
   not stored, except when setting the flags failed after the commit. */
int mail_user_append(struct mail_user *user, const char *name, struct delivery *d, unsigned flags,
                     int64_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r,
                     const char **error_r);

/* mail_user_append() in three steps, so that its fsyncs can run on a
   worker thread. begin (the user's thread) checks the mailbox and takes d
   (always: on -1 it is aborted); on 0 *append_r is new. commit (any thread;
   touches no mail_user) runs delivery_commit(): the message is durable
   when it returns, or not stored at all. finish (the user's thread) frees
   *append and gives the result mail_user_append() gives: the UID and the
   flags, or -1 if the commit or the UID failed. Every begun append must be
   committed and finished. */
struct mail_append;
int mail_user_append_begin(struct mail_user *user, const char *name, struct delivery *d,
                           int64_t internaldate, struct mail_append **append_r,
                           const char **error_r);
void mail_append_commit(struct mail_append *append);
/* finish also stores the keyword_count keywords (names; a message whose
   keywords do not fit the mailbox's limit is stored without them, -1). */
int mail_user_append_finish(struct mail_append **append, unsigned flags,
                            const char *const *keywords, size_t keyword_count,
                            uint32_t *uidvalidity_r, uint32_t *uid_r, const char **error_r);

/* Copy messages seqs[0..count) of the view src into mailbox dest_name
   (IMAP COPY): hard links keeping flags, keywords and INTERNALDATE, made
   durable by one fsync, then given UIDs at once. On success
   *uidvalidity_r is dest's and uids_r[i] (caller's array of count) the
   new UID of seqs[i] (RFC 4315 COPYUID). All or nothing: on failure the
   links made are removed. Errors are src's. dest may be src's mailbox. */
int mailbox_copy(struct mailbox *src, const uint32_t *seqs, size_t count, const char *dest_name,
                 uint32_t *uidvalidity_r, uint32_t *uids_r, const char **error_r);
/* mailbox_copy() in three steps, so that its fsync can run on a worker
   thread. begin makes the links (all or nothing: -1 leaves none) and on
   success gives *copy_r; sync (any thread; touches no mail_user) makes
   them durable; finish (the view's thread, src still open) assigns the
   UIDs as mailbox_copy() does, removes the links if sync or the UIDs
   failed, and frees *copy. Every begun copy must be finished. */
struct mail_copy;
int mailbox_copy_begin(struct mailbox *src, const uint32_t *seqs, size_t count,
                       const char *dest_name, struct mail_copy **copy_r, const char **error_r);
void mail_copy_sync(struct mail_copy *copy);
int mailbox_copy_finish(struct mail_copy **copy, uint32_t *uidvalidity_r, uint32_t *uids_r,
                        const char **error_r);

/* RENAME INBOX (RFC 3501 6.3.5) in three steps, the file work on a worker
   thread. begin (the user's thread) creates the mailbox dest (-1 if it
   cannot: exists, bad name) and gives *move_r; mail_inbox_move_files()
   (any thread; touches no mail_user) renames every file of INBOX's new/
   and cur/ into dest's cur/ keeping its name (flags, keyword letters and
   mtime, so INTERNALDATE, stay) and fsyncs the directories; finish (the
   user's thread) syncs dest (the files get UIDs in delivery order) and
   INBOX (their rows go), sets *moved_r to the number of files moved, and
   frees *move. A message is in INBOX or in dest at every moment. Every
   begun move must be finished; finish's -1 (a file that could not be
   moved, a failed sync) leaves each message where it is, indexed. */
struct mail_inbox_move;
int mail_user_move_inbox_begin(struct mail_user *user, const char *dest,
                               struct mail_inbox_move **move_r, const char **error_r);
void mail_inbox_move_files(struct mail_inbox_move *move);
int mail_user_move_inbox_finish(struct mail_user *user, struct mail_inbox_move **move,
                                size_t *moved_r, const char **error_r);

/* Open a view on a mailbox (name as from mail_user_list(), INBOX in any
   case) and sync it once: the view starts with every message, those new
   to the index marked MAIL_RECENT. readonly refuses flag changes and
   expunges (EXAMINE); syncing still gives new files their UIDs. -1 if the
   mailbox does not exist. On success *box_r is new; close it with
   mailbox_close(). */
int mailbox_open(struct mail_user *user, const char *name, bool readonly, struct mailbox **box_r,
                 const char **error_r);
void mailbox_close(struct mailbox **box);
/* mailbox_open() without its sync: the view may be empty (or a snapshot)
   until the caller's mailbox_sync(). For callers that first bring the
   view up to date with mailbox_sync_step(), yielding between. */
int mailbox_open_unsynced(struct mail_user *user, const char *name, bool readonly,
                          struct mailbox **box_r, const char **error_r);

/* Rows a write transaction changes at most before committing and beginning
   again (default 1000; at least 1). For tests, which make it small to see
   the chunks; call before any mailbox is open. */
void mail_store_set_write_chunk(unsigned rows);

/* Bring the view up to date with the Maildir: move new/ files to cur/,
   give unknown files the next UIDs (in delivery order: mtime, then name),
   forget rows whose file is gone, take flag changes from file names, and
   renumber the view. When nothing can have changed since the view's last
   scan (docs/store.md, "Sync": both directories' mtimes, the user's change
   counter, the index's data_version) the scan is skipped and the changes
   are empty. changes_r may be NULL; otherwise it is filled and must be
   freed with mailbox_changes_free(). */
int mailbox_sync(struct mailbox *box, struct mailbox_changes *changes_r, const char **error_r);
/* mailbox_sync() one pass at a time, for a caller that yields to its
   event loop between passes (SELECT of thousands of new messages): a pass
   changes at most one chunk of index rows (mail_store_set_write_chunk(),
   1000) and commits; the index is consistent after every pass
   (docs/store.md). 1: more is left, the view is as it was (call again);
   0: done, the view is up to date as after mailbox_sync() (its changes are
   not reported: for a view that has sent none yet); -1. */
int mailbox_sync_step(struct mailbox *box, const char **error_r);
void mailbox_changes_free(struct mailbox_changes *changes);

/* The IMAP name (INBOX for the inbox) and the Maildir path. */
const char *mailbox_name(const struct mailbox *box);
const char *mailbox_path(const struct mailbox *box);
bool mailbox_is_readonly(const struct mailbox *box);

uint32_t mailbox_count(const struct mailbox *box);
uint32_t mailbox_uidvalidity(const struct mailbox *box);
/* The UID the next message will get, as of this view's last sync. */
uint32_t mailbox_uidnext(const struct mailbox *box);
uint64_t mailbox_highestmodseq(const struct mailbox *box);

/* Message seq (1..count) of the view, valid until the next sync, expunge or
   set_flags on the view. seq out of range is a bug (abort). */
const struct mail_msg *mailbox_msg(const struct mailbox *box, uint32_t seq);
/* The absolute path of message seq's file as the view last saw it, valid
   until the next call on box. For store tests and diagnostics only: the
   name goes stale when another session changes the flags, so readers use
   mail_msg_open() (mail-msg.h), which finds the file by its key. */
const char *mailbox_msg_path(struct mailbox *box, uint32_t seq);
/* The sequence number of uid in the view, or 0 if it has none. */
uint32_t mailbox_seq_by_uid(const struct mailbox *box, uint32_t uid);

/* How a flag change combines with the message's current flags. */
enum mail_flags_mode {
	MAIL_FLAGS_REPLACE, /* exactly these (IMAP STORE FLAGS) */
	MAIL_FLAGS_ADD,     /* current | these (+FLAGS) */
	MAIL_FLAGS_REMOVE,  /* current & ~these (-FLAGS) */
};
/* The stored flags that mode gives from current (MAIL_RECENT dropped). */
unsigned mail_flags_apply(unsigned current, enum mail_flags_mode mode, unsigned flags);

/* Change message seq's stored flags (MAIL_RECENT is ignored) against
   their current state, not the view's copy: inside one index write
   transaction the file is found by its key, its current name gives the
   current flags, mode combines them with flags, and the file is renamed
   and its row and modseq updated. So a change another session made since
   this view's last sync is kept (A adds \Answered, B removes \Seen:
   both hold). On 1 the view's message (mailbox_msg()) holds the result;
   0 if the file is gone (expunged by another session; the next sync
   reports it); -1 on a read-only view or an I/O or index error. */
int mailbox_update_flags(struct mailbox *box, uint32_t seq, enum mail_flags_mode mode,
                         unsigned flags, const char **error_r);
/* mailbox_update_flags(MAIL_FLAGS_REPLACE): 0 also when the file is gone,
   -1 on error. */
int mailbox_set_flags(struct mailbox *box, uint32_t seq, unsigned flags, const char **error_r);

/* A flag change: the system flags and the keywords each with their mode.
   {MAIL_FLAGS_ADD, 0} leaves them as they are. */
struct mail_flag_change {
	enum mail_flags_mode mode;
	unsigned flags;
	enum mail_flags_mode kw_mode;
	uint64_t keywords;
};
/* mailbox_update_flags() for flags and keywords together: the keyword
   letters of the file name and the index row's mask change with the
   flags, in the same transaction. Same returns. */
int mailbox_change_flags(struct mailbox *box, uint32_t seq, const struct mail_flag_change *ch,
                         const char **error_r);
/* mailbox_change_flags() under CONDSTORE's UNCHANGEDSINCE (RFC 7162
   3.1.3): in the same transaction, if the message's current modseq is
   above unchangedsince nothing is stored and MAIL_FLAGS_MODIFIED is
   returned (the view's message gets that modseq). Else as
   mailbox_change_flags(). */
#define MAIL_FLAGS_MODIFIED 2
int mailbox_change_flags_unchangedsince(struct mailbox *box, uint32_t seq,
                                        const struct mail_flag_change *ch, uint64_t unchangedsince,
                                        const char **error_r);

/*
 * Keywords (docs/store.md, "Keywords"). Each mailbox names up to
 * MAIL_KEYWORDS_MAX keywords; the first 26 are the letters a-z of file
 * names, listed in the mailbox's dovecot-keywords file as Dovecot does.
 */
/* A name that can be stored: 1 to MAIL_KEYWORD_NAME_MAX printable ASCII
   bytes without space (IMAP's atom rules are the caller's). */
bool mail_keyword_valid(const char *name);
/* Keyword idx's name as of the view's last sync or keyword change, or
   NULL if unused (valid until then). */
const char *mailbox_keyword_name(const struct mailbox *box, unsigned idx);
/* The mask of the keyword indexes the view knows names of. */
uint64_t mailbox_keywords_defined(const struct mailbox *box);
/* The index of keyword name (any case) as the view knows it, or -1. */
int mailbox_keyword_find(const struct mailbox *box, const char *name);
/* The mask of the count keywords names, adding those the mailbox does not
   have yet (one index transaction, and dovecot-keywords rewritten when one
   gets a letter). 0; MAIL_KEYWORDS_FULL when the mailbox would exceed
   MAIL_KEYWORDS_MAX keywords (none added); -1 for an invalid name, a
   read-only view needing a new keyword, or an error. */
#define MAIL_KEYWORDS_FULL (-2)
int mailbox_keywords_get(struct mailbox *box, const char *const *names, size_t count,
                         uint64_t *mask_r, const char **error_r);

/* \Recent (RFC 3501 2.3.2): make this view the session's SELECT, before
   its first sync. Its syncs then take every message above the mailbox's
   recent boundary as recent and raise the boundary, in the sync's index
   transaction, so that exactly one such view (of any process) sees a
   message as recent. Other views (EXAMINE, STATUS, the store's own) see
   the messages above the boundary as recent without moving it. */
void mailbox_claim_recent(struct mailbox *box);
/* The messages of the view with MAIL_RECENT (STATUS RECENT). */
uint32_t mailbox_recent_count(const struct mailbox *box);

/* Remove every message of the view that has MAIL_DELETED (IMAP EXPUNGE,
   CLOSE): unlinks the files, updates the index and renumbers the view.
   On success *seqs_r (malloc'ed, may be NULL when *count_r is 0) holds the
   expunged sequence numbers in the order to send them (descending). */
int mailbox_expunge(struct mailbox *box, uint32_t **seqs_r, size_t *count_r, const char **error_r);
/* Like mailbox_expunge(), but only the \Deleted messages whose UID is one
   of the uid_count uids (ascending): UID EXPUNGE (RFC 4315) and MOVE. */
int mailbox_expunge_uids(struct mailbox *box, const uint32_t *uids, size_t uid_count,
                         uint32_t **seqs_r, size_t *count_r, const char **error_r);
/* mailbox_expunge_uids() that also gives the UID of each expunged message:
   (*uids_r)[i] (malloc'ed, NULL when *count_r is 0) is the UID of
   (*seqs_r)[i] (QRESYNC reports expunges as VANISHED UIDs). */
int mailbox_expunge_uids_report(struct mailbox *box, const uint32_t *uids, size_t uid_count,
                                uint32_t **seqs_r, uint32_t **uids_r, size_t *count_r,
                                const char **error_r);

/*
 * CONDSTORE / QRESYNC (RFC 7162; docs/store.md, "Modseq"). Every change of
 * a message (flags, keywords; its arrival) gives it the mailbox's next
 * modseq, and every expunge raises the mailbox's highestmodseq too,
 * remembering the expunged UID with that modseq, whichever session or
 * process made the change (they all go through this code: the mailbox's
 * highestmodseq is raised inside the change's index transaction).
 */
/* The UIDs expunged from the mailbox at a modseq above modseq that the view
   no longer holds, ascending (VANISHED (EARLIER)): *uids_r malloc'ed (NULL
   when *count_r is 0). Expunges another session made since this view's
   last sync are not in the view's messages and are included. 0, or -1. */
int mailbox_vanished_since(struct mailbox *box, uint64_t modseq, uint32_t **uids_r, size_t *count_r,
                           const char **error_r);

/*
 * The FETCH cache (docs/store.md): the rendered ENVELOPE, BODY and
 * BODYSTRUCTURE of each message, kept in its index row. src/imap fills it
 * the first time a FETCH needs a value and reads it afterwards, so a warm
 * FETCH ENVELOPE opens no message file. Message files never change, so an
 * entry never goes stale; it goes with the row (expunge, DELETE) and a
 * rebuilt index starts empty.
 */
enum mail_cache_field {
	MAIL_CACHE_ENVELOPE,
	MAIL_CACHE_BODY,
	MAIL_CACHE_BODYSTRUCTURE,
	/* The header fields SEARCH matches, as src/imap/imap-search-headers.h
	   encodes them (filled by SEARCH and by FETCH's header parse) */
	MAIL_CACHE_SEARCH_HEADERS,
	MAIL_CACHE_FIELDS
};
struct mail_cache_value {
	char *data; /* NULL: not cached; when read, malloc'ed, NUL-terminated */
	size_t len;
};
struct mail_cache {
	struct mail_cache_value field[MAIL_CACHE_FIELDS];
};

/* Read the cache of the count messages first..first+count-1 of the view
   (1 <= first, first + count - 1 <= count of the view) into the caller's
   array caches_r[0..count): fields not cached have data NULL; free each
   with mail_cache_free(). One index query for the whole range, so a FETCH
   of many messages reads the cache in windows. Returns 0, or -1 on an
   index error (caches_r is then all empty). */
int mailbox_cache_get(struct mailbox *box, uint32_t first, uint32_t count,
                      struct mail_cache *caches_r, const char **error_r);
/* Store, in one transaction, the fields whose data is not NULL of
   caches[0..count) (not owned) for messages first..first+count-1; the
   other fields keep their stored value. A message expunged meanwhile is
   fine. Allowed on a read-only view: the cache holds no mailbox state. */
int mailbox_cache_set(struct mailbox *box, uint32_t first, uint32_t count,
                      const struct mail_cache *caches, const char **error_r);
/* Free the fields of *cache and empty it. */
void mail_cache_free(struct mail_cache *cache);

#endif
