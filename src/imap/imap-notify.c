/* NOTIFY (RFC 5465) specifications: see imap-notify.h. */
#include "imap/imap-notify.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

static const struct {
	const char *name;
	unsigned event;
} event_names[] = {
    {"MessageNew", NOTIFY_MESSAGE_NEW},
    {"MessageExpunge", NOTIFY_MESSAGE_EXPUNGE},
    {"FlagChange", NOTIFY_FLAG_CHANGE},
    {"MailboxName", NOTIFY_MAILBOX_NAME},
    {"SubscriptionChange", NOTIFY_SUBSCRIPTION_CHANGE},
    {"MailboxMetadataChange", NOTIFY_MAILBOX_METADATA},
    {"ServerMetadataChange", NOTIFY_SERVER_METADATA},
    {"AnnotationChange", 1u << 30}, /* RFC 5465 5.3: never delivered here */
};

static const struct {
	const char *name;
	enum notify_group_kind kind;
} group_names[] = {
    {"SELECTED", NOTIFY_SELECTED},     {"SELECTED-DELAYED", NOTIFY_SELECTED_DELAYED},
    {"INBOXES", NOTIFY_INBOXES},       {"PERSONAL", NOTIFY_PERSONAL},
    {"SUBSCRIBED", NOTIFY_SUBSCRIBED}, {"SUBTREE", NOTIFY_SUBTREE},
    {"MAILBOXES", NOTIFY_MAILBOXES},
};

const char *notify_supported_text(void)
{
	return "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange "
	       "MailboxMetadataChange ServerMetadataChange";
}

static struct imap_arg arg_copy(const struct imap_arg *a)
{
	struct imap_arg c = *a;

	c.str = a->str != NULL ? xstrdup(a->str) : NULL;
	c.list = NULL;
	c.cap = 0;
	if (a->type == IMAP_ARG_LIST && a->count > 0) {
		c.list = xcalloc(a->count, sizeof(*c.list));
		for (size_t i = 0; i < a->count; i++)
			c.list[i] = arg_copy(&a->list[i]);
	}
	return c;
}

static void arg_free(struct imap_arg *a)
{
	for (size_t i = 0; a->type == IMAP_ARG_LIST && i < a->count; i++)
		arg_free(&a->list[i]);
	free(a->list);
	free(a->str);
}

void notify_spec_free(struct notify_spec *spec)
{
	for (size_t i = 0; i < spec->group_count; i++) {
		for (size_t j = 0; j < spec->groups[i].name_count; j++)
			free(spec->groups[i].names[j]);
		free(spec->groups[i].names);
	}
	free(spec->groups);
	if (spec->fetch_atts != NULL) {
		arg_free(spec->fetch_atts);
		free(spec->fetch_atts);
	}
	memset(spec, 0, sizeof(*spec));
}

static char *mailbox_name_copy(const char *name)
{
	return xstrdup(strcasecmp(name, "INBOX") == 0 ? "INBOX" : name);
}

/* one-or-more-mailbox into g. Returns 0 or -1. */
static int parse_mailboxes(const struct imap_arg *arg, struct notify_group *g)
{
	const struct imap_arg *items = arg->type == IMAP_ARG_LIST ? arg->list : arg;
	size_t n = arg->type == IMAP_ARG_LIST ? arg->count : 1;

	if (n == 0)
		return -1;
	g->names = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *name = imap_arg_astring(&items[i]);
		if (name == NULL)
			return -1;
		g->names[g->name_count++] = mailbox_name_copy(name);
	}
	return 0;
}

static unsigned event_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++) {
		if (strcasecmp(name, event_names[i].name) == 0)
			return event_names[i].event;
	}
	return 0;
}

/* The events list (or NONE) of a group. */
static enum notify_parse_result parse_events(const struct imap_arg *arg, struct notify_group *g,
                                             unsigned supported, struct notify_spec *spec,
                                             const char **error_r)
{
	const char *atom = imap_arg_atom(arg);
	bool selected = g->kind == NOTIFY_SELECTED || g->kind == NOTIFY_SELECTED_DELAYED;
	unsigned all = 0;

	if (atom != NULL && strcasecmp(atom, "NONE") == 0)
		return NOTIFY_PARSE_OK;
	*error_r = "Invalid event list.";
	if (arg->type != IMAP_ARG_LIST || arg->count == 0)
		return NOTIFY_PARSE_BAD;
	for (size_t i = 0; i < arg->count; i++) {
		const char *name = imap_arg_atom(&arg->list[i]);
		unsigned bit = name != NULL ? event_bit(name) : 0;

		if (bit == 0)
			return NOTIFY_PARSE_BAD;
		all |= bit;
		if (bit == NOTIFY_MESSAGE_NEW && i + 1 < arg->count &&
		    arg->list[i + 1].type == IMAP_ARG_LIST) {
			if (!selected) {
				*error_r = "Fetch attributes only for the selected mailbox.";
				return NOTIFY_PARSE_BAD;
			}
			if (spec->fetch_atts != NULL) { /* two selected groups: BAD later */
				arg_free(spec->fetch_atts);
				free(spec->fetch_atts);
			}
			spec->fetch_atts = xmalloc(sizeof(*spec->fetch_atts));
			*spec->fetch_atts = arg_copy(&arg->list[++i]);
		}
	}
	/* RFC 5465 5.1, 5.2, 5.3 */
	if (((all & NOTIFY_MESSAGE_NEW) != 0) != ((all & NOTIFY_MESSAGE_EXPUNGE) != 0) ||
	    ((all & NOTIFY_FLAG_CHANGE) && !(all & NOTIFY_MESSAGE_NEW))) {
		*error_r = "MessageNew and MessageExpunge go together; FlagChange needs both.";
		return NOTIFY_PARSE_BAD;
	}
	if ((all & ~supported) != 0) {
		*error_r = "Unsupported event.";
		return NOTIFY_PARSE_BADEVENT;
	}
	g->events = all;
	return NOTIFY_PARSE_OK;
}

/* One "(filter events)" group into g. */
static enum notify_parse_result parse_group(const struct imap_arg *arg, struct notify_group *g,
                                            unsigned supported, struct notify_spec *spec,
                                            const char **error_r)
{
	const char *kind =
	    arg->type == IMAP_ARG_LIST && arg->count > 0 ? imap_arg_atom(&arg->list[0]) : NULL;
	size_t i, want;

	*error_r = "Invalid event group.";
	for (i = 0; kind != NULL && i < sizeof(group_names) / sizeof(group_names[0]); i++) {
		if (strcasecmp(kind, group_names[i].name) == 0)
			break;
	}
	if (kind == NULL || i == sizeof(group_names) / sizeof(group_names[0]))
		return NOTIFY_PARSE_BAD;
	g->kind = group_names[i].kind;
	want = g->kind == NOTIFY_SUBTREE || g->kind == NOTIFY_MAILBOXES ? 3 : 2;
	if (arg->count != want)
		return NOTIFY_PARSE_BAD;
	if (want == 3 && parse_mailboxes(&arg->list[1], g) < 0)
		return NOTIFY_PARSE_BAD;
	return parse_events(&arg->list[want - 1], g, supported, spec, error_r);
}

enum notify_parse_result notify_spec_parse(const struct imap_arg *args, size_t count,
                                           unsigned supported, struct notify_spec *spec,
                                           const char **error_r)
{
	const char *verb = count > 0 ? imap_arg_atom(&args[0]) : NULL;
	enum notify_parse_result r = NOTIFY_PARSE_OK;
	size_t first = 1, selected = 0;

	memset(spec, 0, sizeof(*spec));
	*error_r = "Expected SET or NONE.";
	if (verb != NULL && strcasecmp(verb, "NONE") == 0 && count == 1)
		return NOTIFY_PARSE_OK;
	if (verb == NULL || strcasecmp(verb, "SET") != 0)
		return NOTIFY_PARSE_BAD;
	if (count > 1 && imap_arg_atom(&args[1]) != NULL &&
	    strcasecmp(imap_arg_atom(&args[1]), "STATUS") == 0) {
		spec->status = true;
		first = 2;
	}
	if (first >= count) {
		*error_r = "Missing event groups.";
		return NOTIFY_PARSE_BAD;
	}
	spec->groups = xcalloc(count - first, sizeof(*spec->groups));
	for (size_t i = first; i < count && r == NOTIFY_PARSE_OK; i++) {
		struct notify_group *g = &spec->groups[spec->group_count++];

		r = parse_group(&args[i], g, supported, spec, error_r);
		if (g->kind == NOTIFY_SELECTED || g->kind == NOTIFY_SELECTED_DELAYED)
			selected++;
	}
	if (r == NOTIFY_PARSE_OK && selected > 1) {
		*error_r = "SELECTED given twice.";
		r = NOTIFY_PARSE_BAD;
	}
	if (r != NOTIFY_PARSE_OK)
		notify_spec_free(spec);
	return r;
}

/* Is name one of g's mailboxes, or (SUBTREE) under one? */
static bool group_names_match(const struct notify_group *g, const char *name)
{
	for (size_t i = 0; i < g->name_count; i++) {
		size_t len = strlen(g->names[i]);

		if (strcmp(g->names[i], name) == 0)
			return true;
		if (g->kind == NOTIFY_SUBTREE && strncmp(g->names[i], name, len) == 0 &&
		    name[len] == '/')
			return true;
	}
	return false;
}

unsigned notify_spec_events(const struct notify_spec *spec, const char *name, bool subscribed)
{
	for (size_t i = 0; i < spec->group_count; i++) {
		const struct notify_group *g = &spec->groups[i];
		bool match = false;

		switch (g->kind) {
		case NOTIFY_SELECTED:
		case NOTIFY_SELECTED_DELAYED:
			break;
		case NOTIFY_INBOXES: /* mail is delivered to INBOX only */
			match = strcmp(name, "INBOX") == 0;
			break;
		case NOTIFY_PERSONAL: /* one personal namespace holds them all */
			match = true;
			break;
		case NOTIFY_SUBSCRIBED:
			match = subscribed;
			break;
		case NOTIFY_SUBTREE:
		case NOTIFY_MAILBOXES:
			match = group_names_match(g, name);
			break;
		}
		if (match)
			return g->events;
	}
	return 0;
}

unsigned notify_spec_selected(const struct notify_spec *spec, bool *delayed_r)
{
	*delayed_r = false;
	for (size_t i = 0; i < spec->group_count; i++) {
		if (spec->groups[i].kind == NOTIFY_SELECTED ||
		    spec->groups[i].kind == NOTIFY_SELECTED_DELAYED) {
			*delayed_r = spec->groups[i].kind == NOTIFY_SELECTED_DELAYED;
			return spec->groups[i].events;
		}
	}
	return 0;
}
