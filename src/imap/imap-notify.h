#ifndef TERN_IMAP_IMAP_NOTIFY_H
#define TERN_IMAP_IMAP_NOTIFY_H
/*
 * NOTIFY (RFC 5465) specifications: the parse of `NOTIFY SET [STATUS]
 * (group events) ...` from the parser's argument tree, and which events a
 * mailbox gets. Pure: no session, no I/O (cmd-notify.c delivers them).
 */
#include <stdbool.h>
#include <stddef.h>

#include "imap/imap-parser.h"

enum notify_group_kind {
	NOTIFY_SELECTED,
	NOTIFY_SELECTED_DELAYED,
	NOTIFY_INBOXES,
	NOTIFY_PERSONAL,
	NOTIFY_SUBSCRIBED,
	NOTIFY_SUBTREE,
	NOTIFY_MAILBOXES,
};

enum notify_event {
	NOTIFY_MESSAGE_NEW = 1u << 0,
	NOTIFY_MESSAGE_EXPUNGE = 1u << 1,
	NOTIFY_FLAG_CHANGE = 1u << 2,
	NOTIFY_MAILBOX_NAME = 1u << 3,
	NOTIFY_SUBSCRIPTION_CHANGE = 1u << 4,
	NOTIFY_MAILBOX_METADATA = 1u << 5,
	NOTIFY_SERVER_METADATA = 1u << 6,
};
#define NOTIFY_MESSAGE_EVENTS (NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE | NOTIFY_FLAG_CHANGE)

struct notify_group {
	enum notify_group_kind kind;
	char **names; /* SUBTREE, MAILBOXES: the mailboxes (INBOX upper-cased) */
	size_t name_count;
	unsigned events; /* enum notify_event; 0 for NONE */
};

struct notify_spec {
	bool status; /* SET STATUS: send the watched mailboxes' STATUS at once */
	struct notify_group *groups;
	size_t group_count;
	/* MessageNew's fetch attributes of the SELECTED group (a deep copy of
	   the list), or NULL. */
	struct imap_arg *fetch_atts;
};

enum notify_parse_result {
	NOTIFY_PARSE_OK,
	NOTIFY_PARSE_BAD,      /* syntax, or a rule of RFC 5465 broken: *error_r */
	NOTIFY_PARSE_BADEVENT, /* an event this server does not deliver */
};

/* Parse the arguments after "NOTIFY" (args[0] is SET or NONE). NONE gives
   NOTIFY_PARSE_OK with no groups. On anything but OK, *error_r is static
   text and spec is left empty. RFC 5465 rules checked: MessageNew and
   MessageExpunge come together, FlagChange needs both, fetch attributes
   only in SELECTED/SELECTED-DELAYED, at most one selected group.
   supported: the events this server delivers (enum notify_event). */
enum notify_parse_result notify_spec_parse(const struct imap_arg *args, size_t count,
                                           unsigned supported, struct notify_spec *spec,
                                           const char **error_r);
void notify_spec_free(struct notify_spec *spec);

/* The events the spec asks for on a mailbox that is not the selected one:
   those of the first non-selected group matching name (subscribed: is it
   subscribed). 0 if none. */
unsigned notify_spec_events(const struct notify_spec *spec, const char *name, bool subscribed);

/* The events of the SELECTED or SELECTED-DELAYED group; 0 if none.
 *delayed_r: it is SELECTED-DELAYED. */
unsigned notify_spec_selected(const struct notify_spec *spec, bool *delayed_r);

/* The supported events as the BADEVENT response code lists them. */
const char *notify_supported_text(void);

#endif
