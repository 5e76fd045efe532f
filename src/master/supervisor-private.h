#ifndef TERN_MASTER_SUPERVISOR_PRIVATE_H
#define TERN_MASTER_SUPERVISOR_PRIVATE_H

/*
 * The supervisor's side of the role channels (supervisor-channel.c): one
 * role_proc per role process, what is queued for it, and the fan-out of
 * notifications. Apart from supervisor.c so a unit test can drive it with
 * socketpairs standing in for role processes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "master/channel.h"
#include "master/role.h"

struct role_proc {
	const struct role_ops *ops;
	unsigned index, count; /* which of the role's processes, of how many */
	pid_t pid;             /* 0 when not running */
	int chan;              /* our end of its channel (non-blocking); -1 when none */
	struct channel_decoder dec;
	struct buf out;     /* encoded messages not yet written to chan */
	int64_t started;    /* ms, monotonic */
	int64_t restart_at; /* ms; 0 = no restart scheduled */
	int64_t backoff;    /* ms of the last restart delay */
	bool old;           /* previous generation, draining after a reload */
};

/* Close our end of p's channel (its process exited or broke the protocol)
   and drop what was queued for it. Nothing happens without a channel. */
void proc_channel_close(struct role_proc *p);

/* Write what is queued for p; what the socket does not take now waits for
   the next call (on POLLOUT). A broken channel is closed and logged (the
   role stops when it sees that). */
void proc_flush(struct role_proc *p);

/* Queue one message for p and write what the socket takes. Returns 0, or
   -1 when p has no channel or no process, or its queue is full (a role
   that does not read: the message is dropped and logged). */
int proc_send(struct role_proc *p, enum channel_type type, const void *payload, size_t len);

/* True if ops handles notifications of type (CHANNEL_MAILBOX_CHANGED:
   mailbox_changed is set; CHANNEL_MESSAGE_QUEUED: message_queued is set;
   any other type: false). */
bool role_takes(const struct role_ops *ops, enum channel_type type);

/* Send msg (a notification from one role process) to every process of
   procs[0..count) whose role takes it: the sender and the other processes
   of its role included, and old ones still draining (their IDLE sessions
   are still there). Processes without a channel are skipped. */
void procs_fan_out(struct role_proc *procs, size_t count, const struct channel_msg *msg);

#endif
