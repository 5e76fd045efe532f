/* The IMAP command table and dispatch (one cmd-*.c file per family). */
#include <string.h>
#include <strings.h>

#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "store/mailbox.h"

struct imap_cmd_def {
	const char *name;
	void (*handler)(struct imap_session *s, const struct imap_cmd *cmd);
	unsigned flags; /* enum imap_cmd_flags */
};

static const struct imap_cmd_def commands[] = {
    /* Any state (RFC 3501 6.1). */
    {"CAPABILITY", cmd_capability, 0},
    {"NOOP", cmd_noop, IMAP_CMD_SYNC},
    {"LOGOUT", cmd_logout, 0},
    /* Not authenticated (6.2). */
    {"STARTTLS", cmd_starttls, IMAP_CMD_NOAUTH},
    {"LOGIN", cmd_login, IMAP_CMD_NOAUTH},
    {"AUTHENTICATE", cmd_authenticate, IMAP_CMD_NOAUTH},
    /* Authenticated (6.3). */
    {"SELECT", cmd_select, IMAP_CMD_AUTH},
    {"EXAMINE", cmd_select, IMAP_CMD_AUTH},
    {"CREATE", cmd_create, IMAP_CMD_AUTH | IMAP_CMD_SYNC | IMAP_CMD_CHANGES},
    {"LIST", cmd_list, IMAP_CMD_AUTH | IMAP_CMD_SYNC},
    {"LSUB", cmd_list, IMAP_CMD_AUTH | IMAP_CMD_SYNC},
    {"STATUS", cmd_status, IMAP_CMD_AUTH | IMAP_CMD_SYNC},
    {"SUBSCRIBE", cmd_subscribe, IMAP_CMD_AUTH | IMAP_CMD_CHANGES},
    {"UNSUBSCRIBE", cmd_subscribe, IMAP_CMD_AUTH | IMAP_CMD_CHANGES},
    {"NAMESPACE", cmd_namespace, IMAP_CMD_AUTH},
    {"IDLE", cmd_idle, IMAP_CMD_AUTH | IMAP_CMD_SYNC},
    {"DELETE", cmd_delete, IMAP_CMD_AUTH | IMAP_CMD_SYNC | IMAP_CMD_CHANGES},
    {"RENAME", cmd_rename, IMAP_CMD_AUTH | IMAP_CMD_SYNC | IMAP_CMD_CHANGES},
    {"APPEND", cmd_append, IMAP_CMD_AUTH | IMAP_CMD_SYNC},
    {"ENABLE", cmd_enable, IMAP_CMD_AUTH},
    {"ID", cmd_id, 0},                               /* RFC 2971: any state */
    {"GETMETADATA", cmd_getmetadata, IMAP_CMD_AUTH}, /* RFC 5464 */
    {"SETMETADATA", cmd_setmetadata, IMAP_CMD_AUTH | IMAP_CMD_CHANGES},
    {"COMPRESS", cmd_compress, IMAP_CMD_AUTH}, /* RFC 4978 */
    {"NOTIFY", cmd_notify, IMAP_CMD_AUTH},     /* RFC 5465 */
    {"GETQUOTA", cmd_getquota, IMAP_CMD_AUTH}, /* RFC 9208 */
    {"GETQUOTAROOT", cmd_getquotaroot, IMAP_CMD_AUTH},
    {"SETQUOTA", cmd_setquota, IMAP_CMD_AUTH},
    /* Selected (6.4). */
    {"CHECK", cmd_noop, IMAP_CMD_SELECTED | IMAP_CMD_SYNC},
    {"CLOSE", cmd_close, IMAP_CMD_SELECTED},
    {"UNSELECT", cmd_unselect, IMAP_CMD_SELECTED},
    {"EXPUNGE", cmd_expunge, IMAP_CMD_SELECTED | IMAP_CMD_SYNC | IMAP_CMD_UID},
    {"COPY", cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_SYNC | IMAP_CMD_UID},
    /* MOVE sends its own EXPUNGEs (RFC 6851 3.3). */
    {"MOVE", cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_SYNC | IMAP_CMD_UID},
    /* No sync around these: RFC 3501 7.4.1 forbids EXPUNGE responses
       while they run. */
    {"FETCH", cmd_fetch, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"STORE", cmd_store, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"SEARCH", cmd_search, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"SORT", cmd_sort, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"THREAD", cmd_thread, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"REPLACE", cmd_replace, IMAP_CMD_SELECTED | IMAP_CMD_SYNC | IMAP_CMD_UID}, /* RFC 8508 */
};

static const struct imap_cmd_def *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* The state check; returns the reason the command is refused, or NULL. */
static const char *state_error(struct imap_session *s, unsigned flags)
{
	if ((flags & IMAP_CMD_NOAUTH) && s->state != IMAP_STATE_NOAUTH)
		return "Already authenticated.";
	if ((flags & (IMAP_CMD_AUTH | IMAP_CMD_SELECTED)) && s->state == IMAP_STATE_NOAUTH)
		return "Not authenticated.";
	if ((flags & IMAP_CMD_SELECTED) && s->state != IMAP_STATE_SELECTED)
		return "No mailbox selected.";
	return NULL;
}

void imap_command_dispatch(struct imap_session *s, const struct imap_command *command)
{
	struct imap_cmd cmd = {command->tag,   command->name, command->args,
	                       command->count, false,         0};
	const struct imap_cmd_def *def;
	const char *error;

	if (strcmp(cmd.name, "UID") == 0) {
		const char *sub = cmd.count > 0 ? imap_arg_atom(&cmd.args[0]) : NULL;

		def = sub == NULL ? NULL : find_command(sub);
		if (def == NULL || !(def->flags & IMAP_CMD_UID)) {
			imap_reply_bad(s, cmd.tag, "Unknown UID command.");
			return;
		}
		cmd.name = def->name;
		cmd.args++;
		cmd.count--;
		cmd.uid = true;
	} else {
		def = find_command(cmd.name);
	}
	if (def == NULL) {
		imap_reply_bad(s, cmd.tag, "Unknown command.");
		return;
	}
	error = state_error(s, def->flags);
	if (error != NULL) {
		imap_reply_bad(s, cmd.tag, error);
		return;
	}
	cmd.flags = def->flags;
	s->cmd_flags = def->flags;
	imap_mailbox_args_clear(s);
	def->handler(s, &cmd);
	if (def->flags & IMAP_CMD_CHANGES)
		imap_notify_changed(s);
}

/* The largest UID of the view, for "*" in UID sets. */
static uint32_t max_uid(struct imap_session *s)
{
	uint32_t count = mailbox_count(s->box);

	return count == 0 ? 0 : mailbox_msg(s->box, count)->uid;
}

int imap_cmd_seqset(struct imap_session *s, const struct imap_cmd *cmd, const struct imap_arg *arg,
                    struct imap_seqset *set_r)
{
	const char *text = imap_arg_atom(arg);
	const char *error = "Invalid sequence set";
	uint32_t count = mailbox_count(s->box);

	if (text != NULL && strcmp(text, "$") == 0) {
		imap_searchres_seqset(s, cmd->uid, set_r);
		return 0;
	}
	if (text != NULL &&
	    imap_seqset_parse(text, cmd->uid ? max_uid(s) : count, set_r, &error) == 0) {
		/* RFC 9051 6.4.8: a message number that does not exist is
		   an error; a UID that does not exist is simply skipped. */
		if (cmd->uid || imap_seqset_max(set_r) <= count)
			return 0;
		imap_seqset_free(set_r);
		error = "Invalid messageset";
	}
	imap_reply_bad(s, cmd->tag, error);
	return -1;
}

bool imap_cmd_seq_matches(struct imap_session *s, const struct imap_cmd *cmd,
                          const struct imap_seqset *set, uint32_t seq)
{
	if (cmd->uid)
		return imap_seqset_contains(set, mailbox_msg(s->box, seq)->uid);
	return imap_seqset_contains(set, seq);
}
