/* LIST, LSUB, CREATE, STATUS (RFC 3501 6.3); subscriptions are in
   cmd-folder.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-fetch.h"
#include "imap/imap-list-ext.h"
#include "imap/imap-private.h"
#include "imap/imap-special-use.h"
#include "lib/array.h"
#include "lib/xalloc.h"
#include "store/mail-objects.h"
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
static bool name_matches_raw(const char *pattern, const char *name)
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

/* Patterns are written as the session writes names (UTF-8 once UTF8=ACCEPT
   or IMAP4rev2 is on), so they match the stored name's display form:
   '*' and '%' next to non-ASCII characters could not match inside a
   modified UTF-7 run. */
static bool name_matches(struct imap_session *s, const char *pattern, const char *stored)
{
	char *shown = imap_mailbox_display(s, stored);
	bool match = name_matches_raw(pattern, shown);

	free(shown);
	return match;
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

static bool status_items_valid(const struct imap_arg *items);
static void status_line(struct imap_session *s, struct buf *out, const char *name,
                        const struct imap_arg *items);

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
		if (name_matches(s, pattern, parent) && !listed(subs, sub_count, parent) &&
		    !listed(shown->items, shown->count, parent)) {
			array_append(shown, xstrdup(parent));
			buf_append_str(&b, "* LSUB (\\Noselect) \"/\" ");
			imap_append_mailbox(s, &b, parent);
			buf_append_str(&b, "\r\n");
			imap_write(s, b.data, b.len);
			buf_free(&b);
		}
		*p = HIERARCHY_SEP;
	}
	free(parent);
}

/* ---- extended LIST (RFC 5258, 5819, 6154) ---- */

/* One name LIST may answer for: a mailbox, a subscription, or a superior
   name of either. */
struct list_entry {
	char *name;
	bool exists, subscribed, matched;
	bool has_children;     /* an existing mailbox below */
	bool child_subscribed; /* a subscribed name below */
	bool hidden_sub;       /* a subscribed name below that no pattern matches */
	bool hidden_child;     /* an existing mailbox below that no pattern matches */
};
typedef ARRAY(struct list_entry) entry_array;

/* INBOX first, then byte order (mail_user_list()'s order). */
static int entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* name and each of its superior names (not INBOX's case-folding: "inbox/x"
   is a folder of its own). */
static void entries_add(entry_array *entries, const char *name, bool exists, bool subscribed)
{
	char *copy = xstrdup(name);

	array_append(entries,
	             ((struct list_entry){
	                 .name = xstrdup(name), .exists = exists, .subscribed = subscribed}));
	for (char *p = strrchr(copy, HIERARCHY_SEP); p != NULL; p = strrchr(copy, HIERARCHY_SEP)) {
		*p = '\0';
		array_append(entries, ((struct list_entry){.name = xstrdup(copy)}));
	}
	free(copy);
}

/* Sort and merge the duplicates, ORing what each knew. */
static void entries_merge(entry_array *e)
{
	size_t out = 0;

	if (e->count == 0)
		return;
	qsort(e->items, e->count, sizeof(e->items[0]), entry_cmp);
	for (size_t i = 1; i < e->count; i++) {
		struct list_entry *last = &e->items[out];

		if (strcmp(last->name, e->items[i].name) == 0) {
			last->exists |= e->items[i].exists;
			last->subscribed |= e->items[i].subscribed;
			free(e->items[i].name);
		} else {
			e->items[++out] = e->items[i];
		}
	}
	e->count = out + 1;
}

static bool matches_any(struct imap_session *s, const struct imap_list_params *p, char **full,
                        const char *name)
{
	for (size_t i = 0; i < p->pattern_count; i++) {
		if (name_matches(s, full[i], name))
			return true;
	}
	return false;
}

/* What each entry's inferiors make of it. */
static void entries_relate(entry_array *e)
{
	for (size_t i = 0; i < e->count; i++) {
		const struct list_entry *child = &e->items[i];
		char *copy = xstrdup(child->name);

		for (char *p = strrchr(copy, HIERARCHY_SEP); p != NULL;
		     p = strrchr(copy, HIERARCHY_SEP)) {
			struct list_entry key = {.name = copy}, *parent;

			*p = '\0';
			parent = bsearch(&key, e->items, e->count, sizeof(key), entry_cmp);
			if (parent == NULL)
				continue;
			parent->has_children |= child->exists;
			parent->child_subscribed |= child->subscribed;
			parent->hidden_sub |= child->subscribed && !child->matched;
			parent->hidden_child |= child->exists && !child->matched;
		}
		free(copy);
	}
}

/* Whether LIST answers for e, and with CHILDINFO. */
static bool entry_selected(const struct imap_list_params *p, const struct list_entry *e,
                           unsigned special, bool *childinfo_r)
{
	*childinfo_r = false;
	if (!e->matched)
		return false;
	if (p->sel_special_use && (!e->exists || special == 0))
		return false;
	if (p->sel_subscribed && e->subscribed) {
		*childinfo_r = p->sel_recursive && e->child_subscribed;
		return true;
	}
	if (p->sel_subscribed) {
		/* RECURSIVEMATCH (RFC 5258 3): a parent that is not subscribed
		   itself is shown for the subscribed names below it that the
		   patterns do not show (Dovecot's reading as well). */
		*childinfo_r = p->sel_recursive && e->hidden_sub;
		return *childinfo_r;
	}
	if (p->sel_special_use)
		return true;
	/* A superior name that does not exist is shown when '%' hides the
	   mailboxes below it (RFC 3501 6.3.8). */
	return e->exists || e->hidden_child;
}

static void entry_write(struct imap_session *s, const struct imap_list_params *p,
                        const struct list_entry *e, unsigned special, bool childinfo)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, "* LIST (");
	if (!e->exists)
		/* IMAP4rev2 includes LIST-EXTENDED's \NonExistent (RFC 9051 7.3.1) */
		buf_append_str(&b, p->extended || s->rev2 ? "\\NonExistent " : "\\Noselect ");
	if (p->ret_subscribed && e->subscribed)
		buf_append_str(&b, "\\Subscribed ");
	buf_append_str(&b, e->has_children ? "\\HasChildren" : "\\HasNoChildren");
	if (e->exists && (!p->extended || p->ret_special_use || p->sel_special_use))
		imap_special_use_append(&b, special);
	buf_append_str(&b, ") \"/\" ");
	imap_append_mailbox(s, &b, e->name);
	if (childinfo)
		buf_append_str(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	buf_append_str(&b, "\r\n");
	if (p->ret_status != NULL && e->exists)
		status_line(s, &b, e->name, p->ret_status);
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

static void entries_free(entry_array *e)
{
	for (size_t i = 0; i < e->count; i++)
		free(e->items[i].name);
	array_free(e);
}

/* Answer the LIST of p: -1 (nothing sent) if the mailboxes or the
   subscriptions cannot be read. */
static int imap_list_run(struct imap_session *s, const struct imap_list_params *p)
{
	char **names, **subs = NULL, *full[IMAP_LIST_MAX_PATTERNS];
	size_t count, sub_count = 0;
	entry_array e = ARRAY_INIT;
	struct imap_special_map special;
	const char *error;

	if (mail_user_list(s->user, &names, &count, &error) < 0) {
		log_error(s->sid, "event=imap.list_failed error=\"%s\"", error);
		return -1;
	}
	if (imap_subs_read(s, &subs, &sub_count) < 0) {
		log_error(s->sid, "event=imap.subscriptions_read_failed");
		mail_user_list_free(names, count);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		entries_add(&e, names[i], true, false);
	for (size_t i = 0; i < sub_count; i++)
		entries_add(&e, subs[i], false, true);
	mail_user_list_free(names, count);
	imap_subs_free(subs, sub_count);
	entries_merge(&e);
	for (size_t i = 0; i < p->pattern_count; i++)
		full[i] = xasprintf("%s%s", p->ref, p->patterns[i]);
	for (size_t i = 0; i < e.count; i++)
		e.items[i].matched = matches_any(s, p, full, e.items[i].name);
	entries_relate(&e);
	(void)imap_special_map_read(s, &special);
	for (size_t i = 0; i < e.count; i++) {
		unsigned mask = imap_special_map_get(&special, e.items[i].name);
		bool childinfo;

		if (entry_selected(p, &e.items[i], mask, &childinfo))
			entry_write(s, p, &e.items[i], mask, childinfo);
	}
	imap_special_map_free(&special);
	for (size_t i = 0; i < p->pattern_count; i++)
		free(full[i]);
	entries_free(&e);
	return 0;
}

/* LSUB: the subscribed ones that exist (a subscription to a deleted
   mailbox is not shown); nothing if the file cannot be read. */
static void lsub_names(struct imap_session *s, const char *pattern)
{
	char **names, **subs = NULL;
	size_t count, sub_count = 0;
	const char *error;
	name_array shown = ARRAY_INIT;
	struct imap_special_map special;

	if (mail_user_list(s->user, &names, &count, &error) < 0) {
		log_error(s->sid, "event=imap.list_failed error=\"%s\"", error);
		return;
	}
	if (imap_subs_read(s, &subs, &sub_count) < 0)
		log_error(s->sid, "event=imap.subscriptions_read_failed");
	(void)imap_special_map_read(s, &special);
	for (size_t i = 0; i < count; i++) {
		struct buf b = BUF_INIT;

		if (!listed(subs, sub_count, names[i]))
			continue;
		if (!name_matches(s, pattern, names[i])) {
			lsub_parents(s, pattern, names[i], subs, sub_count, &shown);
			continue;
		}
		buf_printf(&b, "* LSUB (%s",
		           has_children(names, count, names[i]) ? "\\HasChildren"
		                                                : "\\HasNoChildren");
		imap_special_use_append(&b, imap_special_map_get(&special, names[i]));
		buf_append_str(&b, ") \"/\" ");
		imap_append_mailbox(s, &b, names[i]);
		buf_append_str(&b, "\r\n");
		imap_write(s, b.data, b.len);
		buf_free(&b);
	}
	imap_special_map_free(&special);
	mail_user_list_free(names, count);
	imap_subs_free(subs, sub_count);
	for (size_t i = 0; i < shown.count; i++)
		free(shown.items[i]);
	array_free(&shown);
}

void cmd_list(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct imap_list_params p;
	const char *error;
	char *full;

	if (strcmp(cmd->name, "LIST") == 0) {
		if (imap_list_params_parse(cmd->args, cmd->count, &p, &error) < 0 ||
		    (p.ret_status != NULL && !status_items_valid(p.ret_status))) {
			imap_reply_bad(s, cmd->tag,
			               p.ret_status != NULL ? "Invalid status item." : error);
			return;
		}
		if (!p.extended && p.patterns[0][0] == '\0') {
			/* RFC 3501 6.3.8: the hierarchy delimiter and root. */
			imap_printf(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
		} else if (imap_list_run(s, &p) < 0) {
			imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot list the mailboxes.");
			return;
		}
		imap_reply(s, cmd->tag, "OK", "LIST completed.");
		return;
	}
	const char *ref = cmd->count == 2 ? imap_arg_astring(&cmd->args[0]) : NULL;
	const char *pattern = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;

	if (ref == NULL || pattern == NULL) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (pattern[0] == '\0') {
		imap_printf(s, "* LSUB (\\Noselect) \"/\" \"\"\r\n");
	} else {
		full = xasprintf("%s%s", ref, pattern);
		lsub_names(s, full);
		free(full);
	}
	imap_reply(s, cmd->tag, "OK", "LSUB completed.");
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

/* "OK [MAILBOXID (id)] Create completed." (RFC 8474 4.1); without the
   code if the new mailbox's index row cannot be made. */
static void reply_created(struct imap_session *s, const char *tag, const char *name)
{
	struct mailbox *box;
	const char *error;
	char *id = NULL;

	if (mailbox_open_unsynced(s->user, name, true, &box, &error) == 0) {
		if (mailbox_objectid(box, &id, &error) < 0)
			id = NULL;
		mailbox_close(&box);
	}
	if (id != NULL)
		imap_reply(s, tag, "OK", "[MAILBOXID (%s)] Create completed.", id);
	else
		imap_reply(s, tag, "OK", "Create completed.");
	free(id);
}

/* RFC 6154 3: CREATE name (USE (\Archive ...)), the attributes kept in
   tern-special-use (imap-special-use.h); one that cannot be kept is
   refused before anything is created. */
void cmd_create(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *arg = cmd->count >= 1 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL;
	const char *error;
	unsigned use = 0;
	char *name;
	size_t len;
	int ret;

	if (arg == NULL || cmd->count > 2 ||
	    (ret = imap_create_params_parse(cmd->args + 1, cmd->count - 1, &use, &error)) == -1) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (ret == IMAP_CREATE_USEATTR) {
		imap_reply(s, cmd->tag, "NO", "[USEATTR] %s.", error);
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
	/* use 0 drops a line a mailbox of that name deleted outside IMAP
	   left (its failure is harmless then) */
	else if (imap_special_use_set(s, name, use) < 0 && use != 0) {
		/* all or nothing: the mailbox goes again */
		(void)mail_user_delete_mailbox(s->user, name, &error);
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot store the special use.");
	} else {
		create_parents(s, name);
		reply_created(s, cmd->tag, name);
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

/* The messages with flag set (STATUS DELETED). */
static unsigned count_flag(struct mailbox *box, unsigned flag)
{
	unsigned n = 0;

	for (uint32_t seq = 1; seq <= mailbox_count(box); seq++)
		n += (mailbox_msg(box, seq)->flags & flag) != 0;
	return n;
}

/* STATUS SIZE (RFC 8438), MAILBOXID (RFC 8474 4.2), DELETED-STORAGE (RFC
   9208); -1 if item is none. */
static int status_object_item(struct buf *b, struct mailbox *box, const char *item)
{
	const char *error;
	char *id;

	if (strcasecmp(item, "SIZE") == 0) {
		buf_printf(b, "SIZE %llu", (unsigned long long)mailbox_total_size(box));
		return 0;
	}
	/* quota (RFC 9208 4.3, docs/quota.md): what an EXPUNGE would free,
	   in the units of the STORAGE resource (1024 octets) */
	if (strcasecmp(item, "DELETED-STORAGE") == 0) {
		uint64_t deleted = 0;

		for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
			if ((mailbox_msg(box, seq)->flags & MAIL_DELETED) != 0)
				deleted += mailbox_msg(box, seq)->size;
		}
		buf_printf(b, "DELETED-STORAGE %llu", (unsigned long long)(deleted / 1024));
		return 0;
	}
	if (strcasecmp(item, "MAILBOXID") != 0)
		return -1;
	if (mailbox_objectid(box, &id, &error) < 0) {
		buf_append_str(b, "MAILBOXID NIL");
		return 0;
	}
	buf_printf(b, "MAILBOXID (%s)", id);
	free(id);
	return 0;
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
	else if (strcasecmp(item, "DELETED") == 0) /* RFC 9051 6.3.11 */
		buf_printf(b, "DELETED %u", count_flag(box, MAIL_DELETED));
	else if (strcasecmp(item, "HIGHESTMODSEQ") == 0) /* RFC 7162 3.1.2.3 */
		buf_printf(b, "HIGHESTMODSEQ %llu", (unsigned long long)mailbox_highestmodseq(box));
	else
		return status_object_item(b, box, item);
	return 0;
}

static const char *const status_names[] = {"MESSAGES", "RECENT",        "UIDNEXT", "UIDVALIDITY",
                                           "UNSEEN",   "HIGHESTMODSEQ", "DELETED"};

static bool status_items_valid(const struct imap_arg *items)
{
	for (size_t i = 0; i < items->count; i++) {
		const char *item = imap_arg_atom(&items->list[i]);
		size_t k = 0;

		while (item != NULL && k < sizeof(status_names) / sizeof(status_names[0]) &&
		       strcasecmp(item, status_names[k]) != 0)
			k++;
		if (item == NULL || k == sizeof(status_names) / sizeof(status_names[0]))
			return false;
	}
	return true;
}

/* LIST-STATUS (RFC 5819): "* STATUS name (...)" for the listed mailbox
   (items already checked by status_items_valid()); nothing if it cannot be
   opened. */
static void status_line(struct imap_session *s, struct buf *out, const char *name,
                        const struct imap_arg *items)
{
	struct mailbox *box;
	const char *error;

	if (mailbox_open(s->user, name, true, &box, &error) < 0)
		return;
	buf_append_str(out, "* STATUS ");
	imap_append_mailbox(s, out, mailbox_name(box));
	buf_append_str(out, " (");
	for (size_t i = 0; i < items->count; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		(void)status_item(out, box, imap_arg_atom(&items->list[i]));
	}
	buf_append_str(out, ")\r\n");
	mailbox_close(&box);
}

void cmd_status(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *name = cmd->count == 2 ? imap_mailbox_arg(s, &cmd->args[0]) : NULL;
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
	imap_append_mailbox(s, &b, mailbox_name(box));
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
