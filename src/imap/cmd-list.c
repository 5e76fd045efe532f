/* LIST, LSUB, CREATE, STATUS (RFC 3501 6.3); subscriptions are in
   cmd-folder.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "lib/array.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

#define HIERARCHY_SEP '/'

/* RFC 3501 6.3.8: '*' matches anything, '%' anything but the hierarchy
   separator. Iterative with one backtrack point per '*'/'%' so a hostile
   pattern cannot make it exponential. */
static bool pattern_match(const char *pat, const char *name)
{
	const char *star_pat = NULL, *star_name = NULL;
	bool star_crosses = false;

	while (*name != '\0') {
		if (*pat == '*' || *pat == '%') {
			star_crosses = *pat == '*';
			star_pat = ++pat;
			star_name = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star_pat != NULL && (star_crosses || *star_name != HIERARCHY_SEP)) {
			pat = star_pat;
			name = ++star_name;
		} else {
			return false;
		}
	}
	while (*pat == '*' || *pat == '%')
		pat++;
	return *pat == '\0';
}

/* INBOX is case-insensitive (RFC 3501 5.1): match it as "INBOX". */
static bool name_matches(const char *pattern, const char *name)
{
	if (strncasecmp(pattern, "INBOX", 5) == 0 && maildir_is_inbox(name)) {
		char *p = xstrdup(pattern);
		bool match;

		memcpy(p, "INBOX", 5);
		match = pattern_match(p, name);
		free(p);
		return match;
	}
	return pattern_match(pattern, name);
}

static bool has_children(char **names, size_t count, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < count; i++) {
		if (strncmp(names[i], name, len) == 0 && names[i][len] == HIERARCHY_SEP)
			return true;
	}
	return false;
}

static bool listed(char **names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

typedef ARRAY(char *) name_array;

/* LSUB (RFC 3501 6.3.9): a subscribed name the pattern does not match
   (hidden by '%') shows its unsubscribed parents that it does match, once
   each, as \Noselect. */
static void lsub_parents(struct imap_session *s, const char *pattern, const char *name, char **subs,
                         size_t sub_count, name_array *shown)
{
	char *parent = xstrdup(name);

	for (char *p = strchr(parent, HIERARCHY_SEP); p != NULL; p = strchr(p + 1, HIERARCHY_SEP)) {
		struct buf b = BUF_INIT;

		*p = '\0';
		if (name_matches(pattern, parent) && !listed(subs, sub_count, parent) &&
		    !listed(shown->items, shown->count, parent)) {
			array_append(shown, xstrdup(parent));
			buf_append_str(&b, "* LSUB (\\Noselect) \"/\" ");
			imap_append_astring(&b, parent);
			buf_append_str(&b, "\r\n");
			imap_write(s, b.data, b.len);
			buf_free(&b);
		}
		*p = HIERARCHY_SEP;
	}
	free(parent);
}

/* LIST: every mailbox; LSUB: the subscribed ones that exist (a
   subscription to a deleted mailbox is not shown); nothing if the file
   cannot be read. */
static void list_names(struct imap_session *s, const char *kind, const char *pattern)
{
	char **names, **subs = NULL;
	size_t count, sub_count = 0;
	bool lsub = strcmp(kind, "LSUB") == 0;
	const char *error;
	name_array shown = ARRAY_INIT;

	if (mail_user_list(s->user, &names, &count, &error) < 0) {
		log_error(s->sid, "event=imap.list_failed error=\"%s\"", error);
		return;
	}
	if (lsub && imap_subs_read(s, &subs, &sub_count) < 0)
		log_error(s->sid, "event=imap.subscriptions_read_failed");
	for (size_t i = 0; i < count; i++) {
		struct buf b = BUF_INIT;
		const char *special = imap_special_use(names[i]);

		if (lsub && !listed(subs, sub_count, names[i]))
			continue;
		if (!name_matches(pattern, names[i])) {
			if (lsub)
				lsub_parents(s, pattern, names[i], subs, sub_count, &shown);
			continue;
		}
		buf_printf(&b, "* %s (%s%s%s) \"/\" ", kind,
		           has_children(names, count, names[i]) ? "\\HasChildren"
		                                                : "\\HasNoChildren",
		           special != NULL ? " " : "", special != NULL ? special : "");
		imap_append_astring(&b, names[i]);
		buf_append_str(&b, "\r\n");
		imap_write(s, b.data, b.len);
		buf_free(&b);
	}
	mail_user_list_free(names, count);
	imap_subs_free(subs, sub_count);
	for (size_t i = 0; i < shown.count; i++)
		free(shown.items[i]);
	array_free(&shown);
}

void cmd_list(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *ref = cmd->count == 2 ? imap_arg_astring(&cmd->args[0]) : NULL;
	const char *pattern = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;
	char *full;

	if (ref == NULL || pattern == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (pattern[0] == '\0') {
		/* RFC 3501 6.3.8: the hierarchy delimiter and root. */
		imap_printf(s, "* %s (\\Noselect) \"/\" \"\"\r\n", cmd->name);
	} else {
		full = xasprintf("%s%s", ref, pattern);
		list_names(s, cmd->name, full);
		free(full);
	}
	imap_reply(s, cmd->tag, "OK", "%s completed.", cmd->name);
}

/* RFC 3501 6.3.3: the superior names of "A/B/C" are created too, so the
   hierarchy can be renamed and deleted level by level. */
static void create_parents(struct imap_session *s, const char *name)
{
	char *parent = xstrdup(name);
	const char *error;

	for (char *p = strchr(parent, HIERARCHY_SEP); p != NULL; p = strchr(p + 1, HIERARCHY_SEP)) {
		*p = '\0';
		if (!mail_user_mailbox_exists(s->user, parent))
			(void)mail_user_create_mailbox(s->user, parent, &error);
		*p = HIERARCHY_SEP;
	}
	free(parent);
}

void cmd_create(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *arg = cmd->count == 1 ? imap_arg_astring(&cmd->args[0]) : NULL;
	const char *error;
	char *name;
	size_t len;

	if (arg == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	/* RFC 3501 6.3.3: a trailing separator only says the name will have
	   children. */
	name = xstrdup(arg);
	len = strlen(name);
	if (len > 0 && name[len - 1] == HIERARCHY_SEP)
		name[len - 1] = '\0';
	if (maildir_is_inbox(name))
		imap_reply(s, cmd->tag, "NO", "[ALREADYEXISTS] Mailbox already exists.");
	else if (mail_user_mailbox_exists(s->user, name))
		imap_reply(s, cmd->tag, "NO", "[ALREADYEXISTS] Mailbox already exists.");
	else if (mail_user_create_mailbox(s->user, name, &error) < 0)
		imap_reply(s, cmd->tag, "NO", "[CANNOT] %s", error);
	else {
		create_parents(s, name);
		imap_reply(s, cmd->tag, "OK", "Create completed.");
	}
	free(name);
}

static unsigned count_unseen(struct mailbox *box)
{
	unsigned unseen = 0;

	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++)
		unseen += (mailbox_msg(box, seq)->flags & MAIL_SEEN) == 0;
	return unseen;
}

static int status_item(struct buf *b, struct mailbox *box, const char *item)
{
	if (strcasecmp(item, "MESSAGES") == 0)
		buf_printf(b, "MESSAGES %u", mailbox_count(box));
	else if (strcasecmp(item, "RECENT") == 0)
		buf_printf(b, "RECENT %u", mailbox_recent_count(box));
	else if (strcasecmp(item, "UIDNEXT") == 0)
		buf_printf(b, "UIDNEXT %u", mailbox_uidnext(box));
	else if (strcasecmp(item, "UIDVALIDITY") == 0)
		buf_printf(b, "UIDVALIDITY %u", mailbox_uidvalidity(box));
	else if (strcasecmp(item, "UNSEEN") == 0)
		buf_printf(b, "UNSEEN %u", count_unseen(box));
	else if (strcasecmp(item, "HIGHESTMODSEQ") == 0) /* RFC 7162 3.1.2.3 */
		buf_printf(b, "HIGHESTMODSEQ %llu", (unsigned long long)mailbox_highestmodseq(box));
	else
		return -1;
	return 0;
}

void cmd_status(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *name = cmd->count == 2 ? imap_arg_astring(&cmd->args[0]) : NULL;
	const struct imap_arg *items = cmd->count == 2 ? &cmd->args[1] : NULL;
	struct mailbox *box;
	struct buf b = BUF_INIT;
	const char *error;

	if (name == NULL || items->type != IMAP_ARG_LIST || items->count == 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (mailbox_open(s->user, name, true, &box, &error) < 0) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	buf_append_str(&b, "* STATUS ");
	imap_append_astring(&b, mailbox_name(box));
	buf_append_str(&b, " (");
	for (size_t i = 0; i < items->count; i++) {
		const char *item = imap_arg_atom(&items->list[i]);

		if (i > 0)
			buf_append_char(&b, ' ');
		if (item == NULL || status_item(&b, box, item) < 0) {
			mailbox_close(&box);
			buf_free(&b);
			imap_reply_bad(s, cmd->tag, "Invalid status item.");
			return;
		}
	}
	buf_append_str(&b, ")\r\n");
	mailbox_close(&box);
	imap_write(s, b.data, b.len);
	buf_free(&b);
	imap_reply(s, cmd->tag, "OK", "Status completed.");
}
