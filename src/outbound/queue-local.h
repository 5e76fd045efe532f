#ifndef TERN_QUEUE_QUEUE_LOCAL_H
#define TERN_QUEUE_QUEUE_LOCAL_H

/* Recipients of a spool entry in a domain this server hosts (a bounce to a
   local sender, an alias's local part): delivered into their Maildirs as
   the smtp role does (directory_resolve, then delivery_commit), not over
   SMTP. Runs on the queue role's loop: a local delivery costs a few ms of
   fsyncs, during which the loop waits (docs/queue.md). */

#include <stdbool.h>

struct queue_role;
struct queue_job;
struct directory;

/* Whether domain is one of ours (a database error counts as remote and
   is logged). */
bool queue_local_domain(struct directory *dir, const char *domain);

/* Deliver every recipient of job locally, filling job->results: 250 2.0.0
   when durable, 550 5.1.1 for an address nobody receives, 451 4.3.0 on a
   store or database failure. Mailbox-changed notifications go out. */
void queue_local_deliver(struct queue_role *q, struct queue_job *job);

#endif
