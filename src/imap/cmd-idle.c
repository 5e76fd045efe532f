/* IDLE (RFC 2177): the mailbox is synced every IMAP_IDLE_POLL seconds and
   changes are sent until the client says DONE. */
#include <stdlib.h>
#include <strings.h>

#include "imap/imap-private.h"
#include "lib/xalloc.h"

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
	(void)imap_session_sync(s);
	if (s->timer == NULL)
		s->timer = event_new(s->server->base, -1, EV_PERSIST, idle_poll, s);
	event_add(s->timer, &tv);
}

void cmd_idle_line(struct imap_session *s, const char *line)
{
	char *tag = s->pending_tag;

	s->pending_tag = NULL;
	s->input = IMAP_INPUT_COMMANDS;
	event_del(s->timer);
	s->cmd_flags = IMAP_CMD_SYNC;
	if (line != NULL && strcasecmp(line, "DONE") == 0)
		imap_reply(s, tag, "OK", "Idle completed.");
	else
		imap_reply_bad(s, tag, "Expected DONE.");
	free(tag);
}
