/* NOTIFY (RFC 5465): the session side. A change notification for the user
   (imap_server_mailbox_changed, from any session, delivery or process)
   makes every NOTIFY session of that user compare a snapshot of its
   watched mailboxes (names, subscriptions, counts) with the last one and
   send what differs: `* STATUS` for other mailboxes, `* LIST` for names
   and subscriptions, and for the selected mailbox the usual EXISTS /
   EXPUNGE / FETCH FLAGS plus a FETCH of MessageNew's attributes. The
   channel carries only the user: the snapshot diff finds which mailbox
   changed. Sent only between commands (or in IDLE); a notification that
   comes while a command runs is retried shortly after. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-fetch.h"
#include "imap/imap-notify.h"
#include "imap/imap-private.h"
#include "lib/xalloc.h"
#include "store/mail-objects.h"
#include "store/mailbox.h"

/* Output queued for the client beyond which notifications overflow
   (RFC 5465 5.8: the client is not reading). */
#define NOTIFY_MAX_PENDING (256 * 1024)
/* Notification lines of one check beyond which they overflow. */
#define NOTIFY_MAX_LINES 1000
/* Retry while a command runs, in microseconds. */
#define NOTIFY_RETRY_USEC 200000

/* What the delivered events cover. */
#define NOTIFY_SUPPORTED                                                                           \
	(NOTIFY_MESSAGE_EVENTS | NOTIFY_MAILBOX_NAME | NOTIFY_SUBSCRIPTION_CHANGE |                \
	 NOTIFY_MAILBOX_METADATA | NOTIFY_SERVER_METADATA)

struct box_status {
	char *name;
	uint32_t messages, uidnext, unseen, uidvalidity;
	uint64_t modseq;
};

/* The metadata entries of a mailbox ("" for the server): names and a hash
   of each value (enough to tell which changed, without keeping values). */
struct meta_state {
	char *mailbox;
	char **names; /* sorted, as mail_meta_get gives them */
	uint64_t *hashes;
	size_t count;
};

struct notify_snap {
	char **names; /* every mailbox, sorted */
	size_t name_count;
	char **subs; /* subscribed names, sorted */
	size_t sub_count;
	struct box_status *boxes; /* mailboxes with message events, sorted */
	size_t box_count;
	struct meta_state *metas; /* mailboxes with MailboxMetadataChange, the server */
	size_t meta_count;
};

struct imap_notify {
	struct notify_spec spec;
	struct imap_session *prev, *next; /* on server->notifiers */
	struct notify_snap snap;
	struct event *retry;
	unsigned lines; /* written by the check running */
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_name(char **names, size_t count, const char *name)
{
	return bsearch(&name, names, count, sizeof(char *), str_cmp) != NULL;
}

static void snap_free(struct notify_snap *snap)
{
	mail_user_list_free(snap->names, snap->name_count);
	imap_subs_free(snap->subs, snap->sub_count);
	for (size_t i = 0; i < snap->box_count; i++)
		free(snap->boxes[i].name);
	free(snap->boxes);
	for (size_t i = 0; i < snap->meta_count; i++) {
		for (size_t j = 0; j < snap->metas[i].count; j++)
			free(snap->metas[i].names[j]);
		free(snap->metas[i].names);
		free(snap->metas[i].hashes);
		free(snap->metas[i].mailbox);
	}
	free(snap->metas);
	memset(snap, 0, sizeof(*snap));
}

static int box_read(struct imap_session *s, const char *name, struct box_status *b)
{
	struct mailbox *box;
	const char *error;

	if (mailbox_open(s->user, name, true, &box, &error) < 0)
		return -1;
	b->name = xstrdup(name);
	b->messages = mailbox_count(box);
	b->uidnext = mailbox_uidnext(box);
	b->uidvalidity = mailbox_uidvalidity(box);
	b->modseq = mailbox_highestmodseq(box);
	b->unseen = 0;
	for (uint32_t seq = 1; seq <= b->messages; seq++)
		b->unseen += (mailbox_msg(box, seq)->flags & MAIL_SEEN) == 0;
	mailbox_close(&box);
	return 0;
}

static uint64_t value_hash(const char *value, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)value[i]) * 1099511628211ULL;
	return h ^ len;
}

/* The /private and /shared entries of mailbox ("" : the server). */
static void meta_read(struct imap_session *s, const char *mailbox, struct meta_state *m)
{
	static const char *const roots[] = {"/private", "/shared"};
	const char *error;

	m->mailbox = xstrdup(mailbox);
	for (size_t r = 0; r < 2; r++) {
		struct mail_meta_entry *e;
		size_t n;

		if (mail_meta_get(s->user, mailbox, roots[r], -1, &e, &n, &error) < 0)
			continue;
		m->names = xreallocarray(m->names, m->count + n, sizeof(char *));
		m->hashes = xreallocarray(m->hashes, m->count + n, sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			m->names[m->count] = xstrdup(e[i].name);
			m->hashes[m->count++] = value_hash(e[i].value, e[i].len);
		}
		mail_meta_free(e, n);
	}
}

static bool any_group_has(const struct notify_spec *spec, unsigned event)
{
	for (size_t i = 0; i < spec->group_count; i++) {
		if (spec->groups[i].events & event)
			return true;
	}
	return false;
}

static bool is_selected(struct imap_session *s, const char *name)
{
	return s->box != NULL && strcmp(mailbox_name(s->box), name) == 0;
}

/* The user's mailboxes, subscriptions and watched counts now. */
static int snap_take(struct imap_session *s, const struct notify_spec *spec,
                     struct notify_snap *snap)
{
	const char *error;

	memset(snap, 0, sizeof(*snap));
	if (mail_user_list(s->user, &snap->names, &snap->name_count, &error) < 0)
		return -1;
	if (imap_subs_read(s, &snap->subs, &snap->sub_count) < 0) {
		snap->subs = NULL;
		snap->sub_count = 0;
	}
	qsort(snap->names, snap->name_count, sizeof(char *), str_cmp);
	qsort(snap->subs, snap->sub_count, sizeof(char *), str_cmp);
	snap->boxes = xcalloc(snap->name_count + 1, sizeof(*snap->boxes));
	for (size_t i = 0; i < snap->name_count; i++) {
		const char *name = snap->names[i];
		bool sub = has_name(snap->subs, snap->sub_count, name);

		if ((notify_spec_events(spec, name, sub) & NOTIFY_MESSAGE_EVENTS) == 0 ||
		    is_selected(s, name))
			continue;
		if (box_read(s, name, &snap->boxes[snap->box_count]) == 0)
			snap->box_count++;
	}
	snap->metas = xcalloc(snap->name_count + 1, sizeof(*snap->metas));
	if (any_group_has(spec, NOTIFY_SERVER_METADATA))
		meta_read(s, "", &snap->metas[snap->meta_count++]);
	for (size_t i = 0; i < snap->name_count; i++) {
		const char *name = snap->names[i];
		bool sub = has_name(snap->subs, snap->sub_count, name);

		if (notify_spec_events(spec, name, sub) & NOTIFY_MAILBOX_METADATA)
			meta_read(s, name, &snap->metas[snap->meta_count++]);
	}
	return 0;
}

static const struct box_status *find_box(const struct notify_snap *snap, const char *name)
{
	for (size_t i = 0; i < snap->box_count; i++) {
		if (strcmp(snap->boxes[i].name, name) == 0)
			return &snap->boxes[i];
	}
	return NULL;
}

static void send_status(struct imap_session *s, const struct box_status *b)
{
	struct buf out = BUF_INIT;

	buf_append_str(&out, "* STATUS ");
	imap_append_astring(&out, b->name);
	buf_printf(&out, " (MESSAGES %u UIDNEXT %u UNSEEN %u", b->messages, b->uidnext, b->unseen);
	if (s->condstore)
		buf_printf(&out, " HIGHESTMODSEQ %llu", (unsigned long long)b->modseq);
	buf_append_str(&out, ")\r\n");
	imap_write(s, out.data, out.len);
	buf_free(&out);
	s->notify->lines++;
}

static void send_list(struct imap_session *s, const char *attrs, const char *name)
{
	struct buf out = BUF_INIT;

	buf_printf(&out, "* LIST (%s) \"/\" ", attrs);
	imap_append_astring(&out, name);
	buf_append_str(&out, "\r\n");
	imap_write(s, out.data, out.len);
	buf_free(&out);
	s->notify->lines++;
}

/* MailboxName and SubscriptionChange between two snapshots. */
static void diff_names(struct imap_session *s, const struct notify_snap *old,
                       const struct notify_snap *now)
{
	const struct notify_spec *spec = &s->notify->spec;

	for (size_t i = 0; i < now->name_count; i++) {
		const char *name = now->names[i];
		bool sub = has_name(now->subs, now->sub_count, name);
		if (!has_name(old->names, old->name_count, name) &&
		    (notify_spec_events(spec, name, sub) & NOTIFY_MAILBOX_NAME))
			send_list(s, "", name);
	}
	for (size_t i = 0; i < old->name_count; i++) {
		const char *name = old->names[i];
		bool sub = has_name(old->subs, old->sub_count, name);
		if (!has_name(now->names, now->name_count, name) &&
		    (notify_spec_events(spec, name, sub) & NOTIFY_MAILBOX_NAME))
			send_list(s, "\\NonExistent", name);
	}
	for (size_t i = 0; i < now->sub_count; i++) {
		const char *name = now->subs[i];
		if (!has_name(old->subs, old->sub_count, name) &&
		    (notify_spec_events(spec, name, true) & NOTIFY_SUBSCRIPTION_CHANGE))
			send_list(s, "\\Subscribed", name);
	}
	for (size_t i = 0; i < old->sub_count; i++) {
		const char *name = old->subs[i];
		if (!has_name(now->subs, now->sub_count, name) &&
		    (notify_spec_events(spec, name, false) & NOTIFY_SUBSCRIPTION_CHANGE))
			send_list(s, "", name);
	}
}

/* STATUS for the watched mailboxes whose counts changed. */
static void diff_boxes(struct imap_session *s, const struct notify_snap *old,
                       const struct notify_snap *now)
{
	for (size_t i = 0; i < now->box_count; i++) {
		const struct box_status *b = &now->boxes[i], *was = find_box(old, b->name);
		unsigned ev = notify_spec_events(&s->notify->spec, b->name,
		                                 has_name(now->subs, now->sub_count, b->name));
		bool counts, flags;

		if (was == NULL)
			continue; /* newly watched: this is its baseline */
		counts = b->messages != was->messages || b->uidnext != was->uidnext ||
		         b->uidvalidity != was->uidvalidity;
		flags = b->unseen != was->unseen || (s->condstore && b->modseq != was->modseq);
		if ((counts && (ev & (NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE))) ||
		    (flags && (ev & NOTIFY_FLAG_CHANGE)))
			send_status(s, b);
	}
}

static const struct meta_state *find_meta(const struct notify_snap *snap, const char *mailbox)
{
	for (size_t i = 0; i < snap->meta_count; i++) {
		if (strcmp(snap->metas[i].mailbox, mailbox) == 0)
			return &snap->metas[i];
	}
	return NULL;
}

/* Is entry i of a in b with the same value? */
static bool meta_same(const struct meta_state *a, size_t i, const struct meta_state *b)
{
	for (size_t j = 0; j < b->count; j++) {
		if (strcmp(a->names[i], b->names[j]) == 0)
			return a->hashes[i] == b->hashes[j];
	}
	return false;
}

static bool meta_has(const struct meta_state *m, const char *name)
{
	for (size_t j = 0; j < m->count; j++) {
		if (strcmp(m->names[j], name) == 0)
			return true;
	}
	return false;
}

/* MailboxMetadataChange / ServerMetadataChange: `* METADATA mailbox
   entry ...` with the names of the entries set, changed or removed
   (RFC 5464 4.4.2's unsolicited form, RFC 5465 5.6). */
static void diff_metas(struct imap_session *s, const struct notify_snap *old,
                       const struct notify_snap *now)
{
	for (size_t i = 0; i < now->meta_count; i++) {
		const struct meta_state *m = &now->metas[i], *was = find_meta(old, m->mailbox);
		struct buf out = BUF_INIT;
		size_t head;

		if (was == NULL)
			continue; /* newly watched: this is its baseline */
		buf_append_str(&out, "* METADATA ");
		imap_append_astring(&out, m->mailbox);
		head = out.len;
		for (size_t j = 0; j < m->count; j++) { /* set or changed */
			if (!meta_same(m, j, was))
				buf_printf(&out, " %s", m->names[j]);
		}
		for (size_t j = 0; j < was->count; j++) { /* removed */
			if (!meta_has(m, was->names[j]))
				buf_printf(&out, " %s", was->names[j]);
		}
		if (out.len > head) {
			buf_append_str(&out, "\r\n");
			imap_write(s, out.data, out.len);
			s->notify->lines++;
		}
		buf_free(&out);
	}
}

/* MessageNew with fetch attributes: FETCH the messages after UID last in
   the selected mailbox. The tag "*" (no client tag can be one) makes the
   closing reply an untagged "* OK". */
static void fetch_new(struct imap_session *s, uint32_t after_uid)
{
	char set[32];
	struct imap_arg args[2];
	struct imap_cmd cmd;

	snprintf(set, sizeof(set), "%u:*", after_uid + 1);
	memset(args, 0, sizeof(args));
	args[0].type = IMAP_ARG_ATOM;
	args[0].str = set;
	args[0].len = strlen(set);
	args[1] = *s->notify->spec.fetch_atts;
	memset(&cmd, 0, sizeof(cmd));
	cmd.tag = "*";
	cmd.name = "FETCH";
	cmd.args = args;
	cmd.count = 2;
	cmd.uid = true;
	cmd.flags = IMAP_CMD_SELECTED | IMAP_CMD_UID;
	s->cmd_flags = cmd.flags;
	cmd_fetch(s, &cmd);
}

static uint32_t last_uid(struct imap_session *s)
{
	uint32_t count = mailbox_count(s->box);

	return count == 0 ? 0 : mailbox_msg(s->box, count)->uid;
}

/* The selected mailbox: its updates at once (SELECTED; SELECTED-DELAYED
   keeps them for the next command, so no expunge is sent unasked). */
static void notify_selected(struct imap_session *s)
{
	bool delayed;
	unsigned ev = notify_spec_selected(&s->notify->spec, &delayed);
	uint32_t before;

	if (s->box == NULL || delayed || (ev & NOTIFY_MESSAGE_EVENTS) == 0)
		return;
	before = last_uid(s);
	if (imap_session_sync(s) < 0 || s->notify == NULL)
		return;
	if (s->notify->spec.fetch_atts != NULL && (ev & NOTIFY_MESSAGE_NEW) && last_uid(s) > before)
		fetch_new(s, before);
}

static void notify_overflow(struct imap_session *s)
{
	imap_printf(s, "* OK [NOTIFICATIONOVERFLOW] Too many notifications; NOTIFY is off.\r\n");
	log_info(s->sid, "event=imap.notify_overflow");
	imap_notify_free(s);
}

static void notify_check(struct imap_session *s)
{
	struct imap_notify *n = s->notify;
	struct notify_snap now;

	if (conn_output_pending(s->conn) > NOTIFY_MAX_PENDING) {
		notify_overflow(s);
		return;
	}
	n->lines = 0;
	if (snap_take(s, &n->spec, &now) == 0) {
		diff_names(s, &n->snap, &now);
		diff_boxes(s, &n->snap, &now);
		diff_metas(s, &n->snap, &now);
		snap_free(&n->snap);
		n->snap = now;
	}
	if (n->lines > NOTIFY_MAX_LINES) {
		notify_overflow(s);
		return;
	}
	notify_selected(s);
}

static bool notify_can_send(struct imap_session *s)
{
	if (s->busy || s->closed || s->append != NULL || s->state == IMAP_STATE_LOGOUT)
		return false;
	return s->input == IMAP_INPUT_IDLE ||
	       (s->input == IMAP_INPUT_COMMANDS && imap_parser_idle(s->parser));
}

static void notify_poke(struct imap_session *s)
{
	struct timeval tv = {0, NOTIFY_RETRY_USEC};

	if (notify_can_send(s))
		notify_check(s);
	else
		event_add(s->notify->retry, &tv);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;

	if (s->notify != NULL && !s->closed)
		notify_poke(s);
}

void imap_notify_wake(struct imap_server *server, const char *user)
{
	struct imap_session *next;

	for (struct imap_session *s = server->notifiers; s != NULL; s = next) {
		next = s->notify->next; /* an overflow takes s off the list */
		if (s->username != NULL && strcasecmp(s->username, user) == 0)
			notify_poke(s);
	}
}

void imap_notify_free(struct imap_session *s)
{
	struct imap_notify *n = s->notify;

	if (n == NULL)
		return;
	if (n->prev != NULL)
		n->prev->notify->next = n->next;
	else
		s->server->notifiers = n->next;
	if (n->next != NULL)
		n->next->notify->prev = n->prev;
	event_free(n->retry);
	snap_free(&n->snap);
	notify_spec_free(&n->spec);
	free(n);
	s->notify = NULL;
}

static void notify_start(struct imap_session *s, const struct notify_spec *spec)
{
	struct imap_notify *n = xcalloc(1, sizeof(*n));

	n->spec = *spec;
	n->retry = evtimer_new(s->server->base, retry_cb, s);
	if (n->retry == NULL)
		log_fatal("event=imap.alloc_failed");
	n->next = s->server->notifiers;
	if (n->next != NULL)
		n->next->notify->prev = s;
	s->server->notifiers = s;
	s->notify = n;
	(void)snap_take(s, &n->spec, &n->snap);
	if (spec->status) {
		for (size_t i = 0; i < n->snap.box_count; i++)
			send_status(s, &n->snap.boxes[i]);
	}
}

void cmd_notify(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct notify_spec spec;
	struct fetch_request req;
	const char *error;

	switch (notify_spec_parse(cmd->args, cmd->count, NOTIFY_SUPPORTED, &spec, &error)) {
	case NOTIFY_PARSE_OK:
		break;
	case NOTIFY_PARSE_BAD:
		imap_reply_bad(s, cmd->tag, error);
		return;
	case NOTIFY_PARSE_BADEVENT:
		imap_reply(s, cmd->tag, "NO", "[BADEVENT (%s)] %s", notify_supported_text(), error);
		return;
	}
	if (spec.fetch_atts != NULL) {
		if (imap_fetch_parse(spec.fetch_atts, true, &req, &error) < 0) {
			notify_spec_free(&spec);
			imap_reply_bad(s, cmd->tag, error);
			return;
		}
		imap_fetch_request_free(&req);
	}
	imap_notify_free(s);
	if (spec.group_count > 0)
		notify_start(s, &spec);
	imap_reply(s, cmd->tag, "OK", "NOTIFY completed.");
}
