#ifndef TERN_STORE_MAILBOX_PRIVATE_H
#define TERN_STORE_MAILBOX_PRIVATE_H

/* Internals shared by mailbox.c and mailbox-sync.c. */

#include <sys/types.h>
#include <time.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "store/dovecot-uidlist.h"
#include "store/index.h"
#include "store/mailbox.h"

#define INDEX_FILE "tern-index.db" /* in the user's Maildir */

/* Rows a write transaction changes at most before it commits and begins
   again (docs/store.md, "Bounded write transactions"): a sync adding
   thousands of files, an expunge of thousands of messages hold the lock
   one chunk at a time, so another process's session waits for one chunk,
   not the whole change. mail_store_set_write_chunk() changes it (tests). */
#define MAIL_WRITE_CHUNK 1000
extern unsigned mail_write_chunk;

struct mail_user_registry;
struct view_snapshot;

struct mail_user {
	char *path; /* the user's Maildir */
	/* NULL while closed for idleness (mail_user_registry_close_idle());
	   reached through mail_user_index(), which opens it again. */
	struct mail_index *index;
	uint64_t index_opens; /* bumped at each open of index */
	time_t index_used;    /* CLOCK_MONOTONIC seconds of its last use */
	unsigned open_boxes;
	/* Bumped by every change of mailbox state this process commits
	   through index (and by mail_user_registry_notify()): a view whose
	   last scan saw another value must scan again (mailbox-sync.c). */
	uint64_t changes;
	/* The messages of the last view closed with a trusted stamp, for
	   the next view opened on that mailbox (SELECT again): NULL if none. */
	struct view_snapshot *snapshot;
	struct buf error;
	/* Shared users (mail_user_acquire()): NULL registry for one opened
	   alone with mail_user_open(). */
	struct mail_user_registry *registry;
	unsigned refs;
	struct mail_user *next; /* in its registry bucket */
};

/* One message of a view: what mailbox_msg() returns, plus its file name in
   cur/ as last seen. */
struct view_msg {
	struct mail_msg msg;
	char *fname;
};

/* A directory as a scan saw it, before reading it. */
struct dir_stamp {
	dev_t dev;
	ino_t ino; /* 0: the directory did not exist */
	struct timespec mtime;
};

/* What a view's last full sync was based on: if nothing of it moved, the
   Maildir and the index are as that sync left them and the next sync can
   skip the scan (the rule and its reasons: docs/store.md, "Sync"). */
struct sync_stamp {
	struct dir_stamp cur, new;
	uint64_t changes;      /* the user's changes counter after the sync */
	uint64_t data_version; /* the index's, inside the sync's transaction */
	uint64_t index_opens;  /* the connection data_version was read on */
	bool valid;            /* false: the next sync scans */
};

struct mailbox {
	struct mail_user *user;
	char *name;     /* IMAP name */
	char *path;     /* Maildir path */
	char *cur_path; /* <path>/cur */
	char *new_path; /* <path>/new */
	bool readonly;
	struct sync_stamp stamp;
	struct index_box ibox; /* as of the last sync or change */
	struct view_msg *msgs; /* ordered by UID; seq n is msgs[n - 1] */
	uint32_t count;
	/* The session's SELECT: its syncs take the messages above the
	   mailbox's recent_uid as its \Recent (mailbox_claim_recent()). */
	bool claim_recent;
	/* The mailbox's keyword names by index (mailbox-keywords.c), as of
	   the last sync or keyword change; NULL: unused. */
	char *kw_names[MAIL_KEYWORDS_MAX];
	struct buf scratch; /* mailbox_msg_path() results */
	struct buf error;
};

/* The user's index connection, opened again if it was closed for
   idleness: 0 and *index_r (owned by user, valid until the next
   mail_user_registry_close_idle(), which never closes it inside a
   transaction), or -1 with *error_r. Every function that begins to use the
   index calls it; code inside a transaction begun on its result may use
   user->index. */
int mail_user_index(struct mail_user *user, struct mail_index **index_r, const char **error_r);

/* A folder Dovecot used (docs/store.md "Taking over a Dovecot Maildir"):
   its dovecot-uidlist into *list, unless the folder was taken over before
   (its marker file) or has none. Returns 0, or -1 with *list empty. */
int mailbox_import_load(const struct mailbox *box, struct dovecot_uidlist *list);

/* The first sync gave imported files their Dovecot UIDs and committed:
   leave the marker, so an index built again later starts afresh. */
void mailbox_import_done(const struct mailbox *box, size_t imported);

/* Set box's error text to "<what>: <strerror(errno)>" and return -1. */
int mailbox_fail_errno(struct mailbox *box, const char *what, const char **error_r);
/* Copy an error of another object into box's error and return -1. */
int mailbox_fail(struct mailbox *box, const char *error, const char **error_r);

/* The Maildir path of an existing mailbox (malloc'ed), or NULL with
 *error_r static ("no such mailbox", or why the name cannot be stored). */
char *mailbox_dir(struct mail_user *user, const char *name, const char **error_r);

/* An operation on a message file: path is <cur>/<name>. Returns 0 done,
   or -1 with errno (ENOENT: no file of that name). */
typedef int view_file_op(struct mailbox *box, const char *path, const char *name, void *ctx);
/* Run op on vm's file, found by its key (mailbox-file.c): by the name vm
   remembers, then (ENOENT) the name the index holds, then a scan of cur/
   for its base; vm->fname follows the name found. 1 done, 0 the file is
   gone (expunged), -1 with box's error. */
int view_msg_file_op(struct mailbox *box, struct view_msg *vm, view_file_op *op, void *ctx,
                     const char **error_r);

/* mailbox-sync.c: true if nothing changed since the view's last scan (the
   stamp holds), so the view is up to date without a scan. */
bool mailbox_sync_unchanged(struct mailbox *box);

/* mailbox.c: keep a closing view's messages for the next view of the
   same mailbox (takes box->msgs if its stamp is trusted); give them to a
   new view if nothing changed since (true), else false. */
void view_snapshot_keep(struct mailbox *box);
bool view_snapshot_take(struct mailbox *box);
void view_snapshot_free(struct view_snapshot **snapshot);

/* mailbox-keywords.c. Inside an index transaction: read the mailbox's
   keywords (index and dovecot-keywords; box->ibox.id must be valid) into
   box->kw_names. */
int keywords_load(struct mailbox *box, const char **error_r);
void keywords_clear(struct mailbox *box);
/* For a delivery, which holds no index (delivery.c): the letters (bit i:
   'a' + i) of the count keywords names in the Maildir maildir, adding
   those it lacks to its dovecot-keywords while it has free letters.
   *dropped_r: how many got no letter (no free letter left, or an invalid
   name; the index-only keywords need the index). 0, or -1 with errno
   (then no letter and every keyword dropped). */
int maildir_keyword_letters(const char *maildir, const char *const *names, size_t count,
                            uint32_t *letters_r, size_t *dropped_r);

/* Free a view's messages. */
void view_msgs_free(struct view_msg *msgs, uint32_t count);

#endif
