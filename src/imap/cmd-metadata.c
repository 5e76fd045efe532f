/* GETMETADATA and SETMETADATA (RFC 5464): entries of a mailbox, or of the
   server for the mailbox name "", stored in the user's index
   (mail-objects.h has the limits and the rules for /shared). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "lib/array.h"
#include "store/mail-objects.h"
#include "store/mailbox.h"

/* Entries asked for in one GETMETADATA, or set in one SETMETADATA. */
#define META_MAX_ARGS 256

struct get_opts {
	uint64_t maxsize; /* UINT64_MAX: none */
	int depth;        /* 0, 1, -1 (infinity) */
};

/* A value as a quoted string when it can be one, else a literal. */
static void append_value(struct buf *b, const char *value, size_t len)
{
	bool quotable = len < 1024;

	for (size_t i = 0; i < len && quotable; i++) {
		unsigned char c = (unsigned char)value[i];
		quotable = c >= 0x20 && c < 0x7f;
	}
	if (!quotable) {
		buf_printf(b, "{%zu}\r\n", len);
		buf_append(b, value, len);
		return;
	}
	buf_append_char(b, '"');
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '"' || value[i] == '\\')
			buf_append_char(b, '\\');
		buf_append_char(b, value[i]);
	}
	buf_append_char(b, '"');
}

/* "(MAXSIZE n DEPTH d)" (RFC 5464 4.2.1, 4.2.2): 0, or -1 if malformed. */
static int parse_get_opts(const struct imap_arg *list, struct get_opts *o)
{
	o->maxsize = UINT64_MAX;
	o->depth = 0;
	if (list->count == 0 || list->count % 2 != 0)
		return -1;
	for (size_t i = 0; i < list->count; i += 2) {
		const char *name = imap_arg_atom(&list->list[i]);
		const char *val = imap_arg_atom(&list->list[i + 1]);

		if (name == NULL || val == NULL)
			return -1;
		if (strcasecmp(name, "MAXSIZE") == 0) {
			if (imap_arg_number(&list->list[i + 1], &o->maxsize) < 0)
				return -1;
		} else if (strcasecmp(name, "DEPTH") == 0) {
			if (strcmp(val, "0") == 0)
				o->depth = 0;
			else if (strcmp(val, "1") == 0)
				o->depth = 1;
			else if (strcasecmp(val, "infinity") == 0)
				o->depth = -1;
			else
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* The entry names of an entry or a list of them, into names; -1 if one is
   no valid name. */
static int parse_entries(const struct imap_arg *arg, const char **names, size_t *count_r)
{
	const struct imap_arg *items = arg->type == IMAP_ARG_LIST ? arg->list : arg;
	size_t count = arg->type == IMAP_ARG_LIST ? arg->count : 1;

	if (count == 0 || count > META_MAX_ARGS)
		return -1;
	for (size_t i = 0; i < count; i++) {
		names[i] = imap_arg_astring(&items[i]);
		if (names[i] == NULL || items[i].type == IMAP_ARG_NIL ||
		    !mail_meta_name_valid(names[i]))
			return -1;
	}
	*count_r = count;
	return 0;
}

/* Append the entries of one requested name to b; *longest the biggest
   value left out for MAXSIZE. -1 on a store error. */
static int get_one(struct imap_session *s, const char *mailbox, const char *name,
                   const struct get_opts *o, struct buf *b, uint64_t *longest, bool *first)
{
	struct mail_meta_entry *entries;
	size_t count;
	bool found = false;
	const char *error;

	if (mail_meta_get(s->user, mailbox, name, o->depth, &entries, &count, &error) < 0) {
		log_warn(s->sid, "event=imap.metadata_failed error=\"%s\"", error);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		found = found || strcasecmp(entries[i].name, name) == 0;
		if (entries[i].len > o->maxsize) {
			if (entries[i].len > *longest)
				*longest = entries[i].len;
			continue;
		}
		buf_printf(b, "%s%s ", *first ? "" : " ", entries[i].name);
		append_value(b, entries[i].value, entries[i].len);
		*first = false;
	}
	if (!found) {
		/* the entry itself does not exist: NIL (RFC 5464 4.2) */
		buf_printf(b, "%s%s NIL", *first ? "" : " ", name);
		*first = false;
	}
	mail_meta_free(entries, count);
	return 0;
}

void cmd_getmetadata(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct get_opts o = {UINT64_MAX, 0};
	const char *names[META_MAX_ARGS], *mailbox;
	size_t pos = 0, count;
	uint64_t longest = 0;
	struct buf b = BUF_INIT;
	bool first = true;
	int ret = 0;

	if (cmd->count == 3 &&
	    (cmd->args[0].type != IMAP_ARG_LIST || parse_get_opts(&cmd->args[0], &o) < 0)) {
		imap_reply_bad(s, cmd->tag, "Invalid options.");
		return;
	}
	pos = cmd->count == 3 ? 1 : 0;
	if ((cmd->count != 2 && cmd->count != 3) ||
	    (mailbox = imap_mailbox_arg(s, &cmd->args[pos])) == NULL ||
	    parse_entries(&cmd->args[pos + 1], names, &count) < 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (mailbox[0] != '\0' && !mail_user_mailbox_exists(s->user, mailbox)) {
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	}
	buf_append_str(&b, "* METADATA ");
	imap_append_mailbox(s, &b, mailbox);
	buf_append_str(&b, " (");
	for (size_t i = 0; i < count && ret == 0; i++)
		ret = get_one(s, mailbox, names[i], &o, &b, &longest, &first);
	buf_append_str(&b, ")\r\n");
	if (ret < 0) {
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot read metadata.");
	} else {
		if (!first)
			imap_write(s, b.data, b.len);
		if (longest > 0)
			imap_reply(s, cmd->tag, "OK", "[METADATA LONGENTRIES %llu] Completed.",
			           (unsigned long long)longest);
		else
			imap_reply(s, cmd->tag, "OK", "Getmetadata completed.");
	}
	buf_free(&b);
}

/* The "(entry value ...)" list into changes; -1 if malformed. */
static int parse_changes(const struct imap_arg *list, struct mail_meta_change *changes,
                         size_t *count_r)
{
	size_t count = list->count / 2;

	if (list->type != IMAP_ARG_LIST || list->count == 0 || list->count % 2 != 0 ||
	    count > META_MAX_ARGS)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *name = &list->list[2 * i], *value = &list->list[2 * i + 1];

		changes[i].name = imap_arg_astring(name);
		if (changes[i].name == NULL || name->type == IMAP_ARG_NIL ||
		    !mail_meta_name_valid(changes[i].name))
			return -1;
		if (value->type == IMAP_ARG_NIL) {
			changes[i].value = NULL;
			changes[i].len = 0;
		} else if (value->type == IMAP_ARG_LIST || value->streamed || value->str == NULL) {
			return -1;
		} else {
			changes[i].value = value->str;
			changes[i].len = value->len;
		}
	}
	*count_r = count;
	return 0;
}

void cmd_setmetadata(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct mail_meta_change changes[META_MAX_ARGS];
	const char *mailbox = cmd->count == 2 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL, *error;
	size_t count;
	int ret;

	if (mailbox == NULL || parse_changes(&cmd->args[1], changes, &count) < 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	ret = mail_meta_set(s->user, mailbox, changes, count, &error);
	switch (ret) {
	case 0:
		imap_reply(s, cmd->tag, "OK", "Setmetadata completed.");
		break;
	case MAIL_META_TOOLARGE:
		imap_reply(s, cmd->tag, "NO", "[METADATA MAXSIZE %u] Value too large.",
		           (unsigned)MAIL_META_MAX_VALUE);
		break;
	case MAIL_META_TOOMANY:
		imap_reply(s, cmd->tag, "NO", "[METADATA TOOMANY] Too many entries.");
		break;
	case MAIL_META_READONLY:
		imap_reply(s, cmd->tag, "NO", "[NOPERM] Server /shared entries are read-only.");
		break;
	case MAIL_META_NOMBOX:
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		break;
	default:
		log_warn(s->sid, "event=imap.metadata_failed error=\"%s\"", error);
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot store metadata.");
		break;
	}
}
