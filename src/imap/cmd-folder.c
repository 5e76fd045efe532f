/* DELETE, RENAME (RFC 3501 6.3.4-5), SUBSCRIBE / UNSUBSCRIBE and the
   subscription list LSUB reads (6.3.6-7, 6.3.9), special-use attributes
   (RFC 6154) and the folders a new account gets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-private.h"
#include "imap/imap-slice.h"
#include "imap/imap-special-use.h"
#include "lib/fsutil.h"
#include "lib/array.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

/* Beside the Maildir, one name per line (names never hold CR or LF: the
   store refuses control bytes). */
#define SUBS_FILE      "tern-subscriptions"
#define SUBS_MAX_BYTES (1024 * 1024)
#define SUBS_MAX_NAMES 10000

/* Created for an account that has no folder yet (as Dovecot's
   auto = create, but only once: a user who deletes one keeps it deleted). */
static const char *const default_folders[] = {"Drafts", "Sent", "Trash", "Junk", "Archive"};

static char *subs_path(struct imap_session *s)
{
	return xasprintf("%s/" SUBS_FILE, mail_user_path(s->user));
}

int imap_subs_read(struct imap_session *s, char ***names_r, size_t *count_r)
{
	char *path = subs_path(s), *data, *line, *save = NULL;
	ARRAY(char *) names = ARRAY_INIT;
	size_t len;

	*names_r = NULL;
	*count_r = 0;
	if (read_file(path, SUBS_MAX_BYTES, &data, &len) < 0) {
		free(path);
		if (errno != ENOENT)
			return -1;
		/* No file yet: only INBOX is subscribed (docs/imap.md). */
		*names_r = xcalloc(1, sizeof(char *));
		(*names_r)[0] = xstrdup("INBOX");
		*count_r = 1;
		return 0;
	}
	free(path);
	for (line = strtok_r(data, "\n", &save); line != NULL && names.count < SUBS_MAX_NAMES;
	     line = strtok_r(NULL, "\n", &save))
		array_append(&names, xstrdup(line));
	free(data);
	*names_r = array_steal(&names, count_r);
	return 0;
}

void imap_subs_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

static int subs_write(struct imap_session *s, char **names, size_t count)
{
	struct buf b = BUF_INIT;
	char *path = subs_path(s);
	int ret;

	for (size_t i = 0; i < count; i++) {
		if (names[i] != NULL)
			buf_printf(&b, "%s\n", names[i]);
	}
	ret = write_file_atomic(path, b.data, b.len, 0600);
	free(path);
	buf_free(&b);
	return ret;
}

/* Add (subscribe) or remove name; INBOX is kept as "INBOX". Without a
   file yet only INBOX counts as subscribed, so the file starts as INBOX
   and the change. */
static int subs_change(struct imap_session *s, const char *name, bool subscribe)
{
	ARRAY(char *) names = ARRAY_INIT;
	size_t i;
	int ret = imap_subs_read(s, &names.items, &names.count);

	if (ret < 0)
		return -1;
	names.cap = names.count; /* imap_subs_read() allocates exactly count */
	for (i = 0; i < names.count && strcmp(names.items[i], name) != 0; i++)
		;
	if (subscribe && i == names.count && names.count < SUBS_MAX_NAMES) {
		array_append(&names, xstrdup(name));
		ret = subs_write(s, names.items, names.count);
	} else if (!subscribe && i < names.count) {
		free(names.items[i]);
		names.items[i] = NULL;
		ret = subs_write(s, names.items, names.count);
	}
	imap_subs_free(names.items, names.count);
	return ret;
}

void cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *arg = cmd->count == 1 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL;
	bool subscribe = strcmp(cmd->name, "SUBSCRIBE") == 0;
	char *dirname;
	const char *error;

	if (arg == NULL || strchr(arg, '\n') != NULL || strchr(arg, '\r') != NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (maildir_is_inbox(arg)) {
		arg = "INBOX";
	} else if (maildir_imap_to_folder(arg, &dirname, &error) == 0) {
		free(dirname);
	} else {
		imap_reply(s, cmd->tag, "NO", "[CANNOT] %s", error);
		return;
	}
	if (subscribe && !mail_user_mailbox_exists(s->user, arg)) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	if (subs_change(s, arg, subscribe) < 0) {
		log_error(s->sid, "event=imap.subscriptions_write_failed errno=%d", errno);
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot save subscriptions.");
		return;
	}
	imap_reply(s, cmd->tag, "OK", "%s completed.", cmd->name);
}

void imap_folders_autocreate(struct imap_session *s)
{
	char **names;
	size_t count;
	const char *error;

	if (mail_user_list(s->user, &names, &count, &error) < 0)
		return;
	mail_user_list_free(names, count);
	if (count > 1)
		return; /* not a new account */
	(void)subs_change(s, "INBOX", true);
	for (size_t i = 0; i < sizeof(default_folders) / sizeof(default_folders[0]); i++) {
		if (mail_user_create_mailbox(s->user, default_folders[i], &error) == 0)
			(void)subs_change(s, default_folders[i], true);
	}
	log_info(s->sid, "event=imap.folders_created");
}

static void trash_work(void *trash)
{
	mail_trash_remove(trash);
}

/* True if some mailbox is below name ("name/..."). */
static bool has_inferiors(struct imap_session *s, const char *name)
{
	size_t len = strlen(name), count;
	const char *error;
	bool found = false;
	char **names;

	if (mail_user_list(s->user, &names, &count, &error) < 0)
		return false;
	for (size_t i = 0; i < count && !found; i++)
		found = strncmp(names[i], name, len) == 0 && names[i][len] == '/';
	mail_user_list_free(names, count);
	return found;
}

void cmd_delete(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *name = cmd->count == 1 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL;
	const char *error;
	char *trash;

	if (name == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (maildir_is_inbox(name)) {
		imap_reply(s, cmd->tag, "NO", "[CANNOT] INBOX cannot be deleted.");
		return;
	}
	if (!mail_user_mailbox_exists(s->user, name)) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	/* Deleting the selected mailbox: leave it first (Dovecot does the
	   same); no untagged responses for it are due any more. */
	if (s->box != NULL && strcmp(mailbox_name(s->box), name) == 0)
		imap_session_unselect(s);
	if (mail_user_delete_mailbox_begin(s->user, name, &trash, &error) < 0) {
		/* RFC 9051 7.1: the code for a mailbox with inferiors */
		imap_reply(s, cmd->tag, "NO", "[%s] %s",
		           s->rev2 && has_inferiors(s, name) ? "HASCHILDREN" : "CANNOT", error);
		return;
	}
	/* The folder is out of the tree already; its files (one unlink per
	   message) go on a worker, not on the loop. */
	workpool_submit(s->server->pool, trash_work, free, trash);
	(void)subs_change(s, name, false);
	if (imap_special_use_set(s, name, 0) < 0)
		log_warn(s->sid, "event=imap.special_use_write_failed errno=%d", errno);
	imap_reply(s, cmd->tag, "OK", "Delete completed.");
}

/* A RENAME INBOX: its files move on a worker, then the index of both
   mailboxes is brought up to date one chunk per slice of the loop. */
struct inbox_move_job {
	struct imap_session *s;
	struct mail_inbox_move *move;
	char *tag, *dest;
	struct mailbox *box; /* the mailbox being synced, or NULL */
	unsigned synced;     /* 0: dest next, 1: INBOX next, 2: both done */
	bool failed;
};

static void inbox_move_work(void *arg)
{
	struct inbox_move_job *job = arg;

	mail_inbox_move_files(job->move);
}

/* The index learns where the files went (the syncs of finish then find
   nothing left to change); the answer. */
static void inbox_move_answer(struct inbox_move_job *job)
{
	struct imap_session *s = job->s;
	const char *error;
	size_t moved;

	if (mail_user_move_inbox_finish(s->user, &job->move, &moved, &error) < 0 || job->failed) {
		log_warn(s->sid, "event=imap.rename_inbox_failed moved=%zu error=\"%s\"", moved,
		         job->failed ? "sync failed" : error);
		imap_reply(s, job->tag, "NO", "[SERVERBUG] Moving the messages failed.");
	} else {
		imap_notify_changed(s);
		imap_reply(s, job->tag, "OK", "Rename completed.");
	}
}

static int inbox_move_step(void *arg, uint64_t deadline)
{
	struct inbox_move_job *job = arg;
	const char *error;

	while (job->synced < 2 && !job->failed) {
		if (job->box == NULL &&
		    mailbox_open_unsynced(job->s->user, job->synced == 0 ? job->dest : "INBOX",
		                          false, &job->box, &error) < 0) {
			job->failed = true;
			break;
		}
		int ret = mailbox_sync_step(job->box, &error);
		if (ret < 0)
			job->failed = true;
		if (ret <= 0) {
			mailbox_close(&job->box);
			job->synced++;
		}
		if (imap_slice_now_usec() >= deadline)
			return 0;
	}
	inbox_move_answer(job);
	return 1;
}

static void inbox_move_free(void *arg)
{
	struct inbox_move_job *job = arg;

	mailbox_close(&job->box);
	if (job->move != NULL) {
		const char *error;
		size_t moved;
		(void)mail_user_move_inbox_finish(job->s->user, &job->move, &moved, &error);
	}
	free(job->tag);
	free(job->dest);
	free(job);
}

/* Back on the loop from the worker. */
static void inbox_move_done(void *arg)
{
	struct inbox_move_job *job = arg;
	struct imap_session *s = job->s;

	if (s->closed) {
		inbox_move_free(job); /* the session is held: its user is still there */
		(void)imap_session_release(s);
		return;
	}
	/* the worker's hold ends before the slices' begins (a release with
	   another hold open would resume reading) */
	(void)imap_session_release(s);
	imap_slice_run(s, inbox_move_step, inbox_move_free, job);
}

/* RFC 3501 6.3.5: renaming INBOX moves its messages to a new mailbox and
   leaves INBOX empty. The files move on a worker (one rename each); the
   session reads no command meanwhile. */
static void rename_inbox(struct imap_session *s, const char *tag, const char *to)
{
	struct inbox_move_job *job;
	struct mail_inbox_move *move;
	const char *error;

	if (mail_user_move_inbox_begin(s->user, to, &move, &error) < 0) {
		imap_reply(s, tag, "NO", "[CANNOT] %s", error);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	*job =
	    (struct inbox_move_job){.s = s, .move = move, .tag = xstrdup(tag), .dest = xstrdup(to)};
	imap_session_hold(s);
	workpool_submit(s->server->pool, inbox_move_work, inbox_move_done, job);
}

void cmd_rename(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *from = cmd->count == 2 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL;
	const char *to = cmd->count == 2 ? imap_mailbox_arg(s, &cmd->args[1]) : NULL;
	const char *error;

	if (from == NULL || to == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (!mail_user_mailbox_exists(s->user, from)) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	if (mail_user_mailbox_exists(s->user, to)) {
		imap_reply(s, cmd->tag, "NO", "[ALREADYEXISTS] Mailbox already exists.");
		return;
	}
	if (maildir_is_inbox(from)) {
		rename_inbox(s, cmd->tag, to);
		return;
	}
	if (mail_user_rename_mailbox(s->user, from, to, &error) < 0) {
		imap_reply(s, cmd->tag, "NO", "[CANNOT] %s", error);
		return;
	}
	if (subs_change(s, from, false) == 0)
		(void)subs_change(s, to, true);
	if (imap_special_use_rename(s, from, to) < 0)
		log_warn(s->sid, "event=imap.special_use_write_failed errno=%d", errno);
	imap_reply(s, cmd->tag, "OK", "Rename completed.");
}
