/* IMAP QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA (refused), and
   the check APPEND and COPY make (NO [OVERQUOTA]). One quota root per user,
   named "" as Dovecot names it, over every mailbox; STORAGE in units of
   1024 octets, MESSAGE in messages (docs/quota.md). The limits come from
   the directory at each use (one keyed SQLite read on the loop thread, so a
   change by `tern user quota` holds at once), the usage from the user's
   index. */
#include <stdlib.h>
#include <string.h>

#include "directory/directory.h"
#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "store/mailbox.h"
#include "store/quota.h"

/* The session user's limits and usage: 0, or -1 (logged). */
static int quota_state(struct imap_session *s, struct quota_limit *limit_r,
                       struct quota_usage *usage_r)
{
	struct imap_server *server = s->server;
	struct directory_user *user = NULL;
	const char *error;
	int ret;

	if (server->quota_dir == NULL &&
	    directory_open(server->settings->directory_path, &server->quota_dir, &error) < 0) {
		log_error(s->sid, "event=imap.quota_error error=\"%s\"", error);
		return -1;
	}
	ret = directory_user_lookup(server->quota_dir, s->username, &user, &error);
	if (ret <= 0) {
		log_error(s->sid, "event=imap.quota_error error=\"%s\"",
		          ret < 0 ? error : "user not in the directory");
		return -1;
	}
	limit_r->bytes = user->quota_bytes;
	limit_r->messages = user->quota_messages;
	directory_user_free(&user);
	if (quota_user_usage(s->user, usage_r, &error) < 0) {
		log_error(s->sid, "event=imap.quota_error error=\"%s\"", error);
		return -1;
	}
	return 0;
}

int imap_quota_allows(struct imap_session *s, const char *tag, uint64_t bytes, uint64_t count)
{
	struct quota_limit limit;
	struct quota_usage usage;

	if (quota_state(s, &limit, &usage) < 0) {
		imap_reply(s, tag, "NO", "[SERVERBUG] Cannot read the quota.");
		return -1;
	}
	if (!quota_limited(&limit))
		return 0;
	/* count messages of bytes in all: as one of bytes after count - 1
	   more messages */
	usage.messages += count > 0 ? count - 1 : 0;
	if (quota_fits(&limit, &usage, bytes))
		return 0;
	imap_reply(s, tag, "NO", "[OVERQUOTA] Quota exceeded.");
	return -1;
}

/* "* QUOTA "" (STORAGE used limit MESSAGE used limit)": the resources
   with a limit. */
static void append_quota(struct buf *b, const struct quota_limit *limit,
                         const struct quota_usage *usage)
{
	const char *sep = "";

	buf_append_str(b, "* QUOTA \"\" (");
	if (limit->bytes != 0) {
		buf_printf(b, "STORAGE %llu %llu",
		           (unsigned long long)((usage->bytes + 1023) / 1024),
		           (unsigned long long)(limit->bytes / 1024));
		sep = " ";
	}
	if (limit->messages != 0)
		buf_printf(b, "%sMESSAGE %llu %llu", sep, (unsigned long long)usage->messages,
		           (unsigned long long)limit->messages);
	buf_append_str(b, ")\r\n");
}

void cmd_getquotaroot(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *mailbox = cmd->count == 1 ? imap_arg_astring(&cmd->args[0]) : NULL;
	struct quota_limit limit;
	struct quota_usage usage;
	struct buf b = BUF_INIT;

	if (mailbox == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (!mail_user_mailbox_exists(s->user, mailbox)) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	if (quota_state(s, &limit, &usage) < 0) {
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot read the quota.");
		return;
	}
	buf_append_str(&b, "* QUOTAROOT ");
	imap_append_astring(&b, mailbox);
	if (quota_limited(&limit)) {
		buf_append_str(&b, " \"\"\r\n");
		append_quota(&b, &limit, &usage);
	} else {
		buf_append_str(&b, "\r\n");
	}
	imap_write(s, b.data, b.len);
	buf_free(&b);
	imap_reply(s, cmd->tag, "OK", "Getquotaroot completed.");
}

void cmd_getquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *root = cmd->count == 1 ? imap_arg_astring(&cmd->args[0]) : NULL;
	struct quota_limit limit;
	struct quota_usage usage;
	struct buf b = BUF_INIT;

	if (root == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (quota_state(s, &limit, &usage) < 0) {
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot read the quota.");
		return;
	}
	if (root[0] != '\0' || !quota_limited(&limit)) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] No such quota root.");
		return;
	}
	append_quota(&b, &limit, &usage);
	imap_write(s, b.data, b.len);
	buf_free(&b);
	imap_reply(s, cmd->tag, "OK", "Getquota completed.");
}

/* RFC 9208 4.1.3: quotas are set by the administrator (`tern user
   quota`), never by a user; QUOTASET is not advertised. */
void cmd_setquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_reply(s, cmd->tag, "NO", "[NOPERM] Only the administrator can set quotas.");
}
