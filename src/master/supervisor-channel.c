/* The supervisor's side of the role channels: see supervisor-private.h. */
#include "master/supervisor-private.h"

#include <errno.h>
#include <unistd.h>

#include "lib/log.h"

void proc_channel_close(struct role_proc *p)
{
	if (p->chan < 0)
		return;
	close(p->chan);
	p->chan = -1;
	channel_decoder_free(&p->dec);
	buf_free(&p->out);
}

void proc_flush(struct role_proc *p)
{
	while (p->chan >= 0 && p->out.len > 0) {
		ssize_t n = write(p->chan, p->out.data, p->out.len);

		if (n > 0) {
			buf_consume(&p->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		log_warn(NULL, "event=channel.write_failed role=%s pid=%d", p->ops->name,
		         (int)p->pid);
		proc_channel_close(p);
	}
}

int proc_send(struct role_proc *p, enum channel_type type, const void *payload, size_t len)
{
	const char *error;

	if (p->chan < 0 || p->pid <= 0)
		return -1;
	if (p->out.len + CHANNEL_HEADER_SIZE + len > CHANNEL_MAX_OUTPUT) {
		log_warn(NULL, "event=channel.full role=%s pid=%d action=drop", p->ops->name,
		         (int)p->pid);
		return -1;
	}
	if (channel_encode(&p->out, type, payload, len, &error) < 0)
		return -1;
	proc_flush(p);
	return 0;
}

bool role_takes(const struct role_ops *ops, enum channel_type type)
{
	switch (type) {
	case CHANNEL_MAILBOX_CHANGED:
		return ops->mailbox_changed != NULL;
	case CHANNEL_MESSAGE_QUEUED:
		return ops->message_queued != NULL;
	default:
		return false;
	}
}

void procs_fan_out(struct role_proc *procs, size_t count, const struct channel_msg *msg)
{
	for (size_t i = 0; i < count; i++) {
		if (role_takes(procs[i].ops, msg->type))
			(void)proc_send(&procs[i], msg->type, msg->payload, msg->len);
	}
}
