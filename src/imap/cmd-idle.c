/* IDLE (RFC 2177): changes are sent until the client says DONE. The
   session is synced at once when a notification says its user's mailbox
   changed (imap_server_mailbox_changed), and every IMAP_IDLE_POLL seconds
   for changes made by other programs. */
#include <stdlib.h>
#include <strings.h>

#include "imap/imap-private.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

static void idle_enter(struct imap_session *s)
{
	struct imap_server *server = s->server;

	if (s->idle_listed)
		return;
	s->idle_prev = NULL;
	s->idle_next = server->idlers;
	if (server->idlers != NULL)
		server->idlers->idle_prev = s;
	server->idlers = s;
	s->idle_listed = true;
}

void imap_idle_leave(struct imap_session *s)
{
	if (!s->idle_listed)
		return;
	if (s->idle_prev != NULL)
		s->idle_prev->idle_next = s->idle_next;
	else
		s->server->idlers = s->idle_next;
	if (s->idle_next != NULL)
		s->idle_next->idle_prev = s->idle_prev;
	s->idle_prev = s->idle_next = NULL;
	s->idle_listed = false;
}

static void idle_poll(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;

	if (s->input == IMAP_INPUT_IDLE && !s->closed)
		(void)imap_session_sync(s);
}

void cmd_idle(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct timeval tv = {IMAP_IDLE_POLL, 0};

	if (cmd->count != 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	free(s->pending_tag);
	s->pending_tag = xstrdup(cmd->tag);
	s->input = IMAP_INPUT_IDLE;
	imap_printf(s, "+ idling\r\n");
	idle_enter(s);
	(void)imap_session_sync(s);
	if (s->user != NULL)
		(void)mail_user_index_release(s->user);
	if (s->timer == NULL)
		s->timer = event_new(s->server->base, -1, EV_PERSIST, idle_poll, s);
	event_add(s->timer, &tv);
}

void cmd_idle_line(struct imap_session *s, const char *line)
{
	char *tag = s->pending_tag;

	s->pending_tag = NULL;
	s->input = IMAP_INPUT_COMMANDS;
	imap_idle_leave(s);
	event_del(s->timer);
	s->cmd_flags = IMAP_CMD_SYNC;
	if (line != NULL && strcasecmp(line, "DONE") == 0)
		imap_reply(s, tag, "OK", "Idle completed.");
	else
		imap_reply_bad(s, tag, "Expected DONE.");
	free(tag);
}
