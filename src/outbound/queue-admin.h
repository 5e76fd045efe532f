#ifndef TERN_OUTBOUND_QUEUE_ADMIN_H
#define TERN_OUTBOUND_QUEUE_ADMIN_H

/*
 * What `tern queue hold|release|delete|bounce|flush` do to one entry's
 * files (docs/queue.md, "Admin records"). The same code runs in the queue
 * role (on a request) and in the CLI when no role runs; the caller holds
 * the entry lock (queue_admin_lock(), the flock the role's jobs take).
 */

#include <stdint.h>

#include "queue/bounce.h"
#include "queue/queue-request.h"
#include "queue/spool.h"

struct queue_admin {
	struct spool *spool;
	struct bounce_settings bounce; /* for QUEUE_REQ_BOUNCE */
	int64_t now;                   /* 0: time(NULL) */
};

/* Lock entry id (flock LOCK_EX|LOCK_NB on <id>.env). Returns 1 with *fd_r
   (close it to unlock), 0 when another process holds it, -1 when the
   entry does not exist. */
int queue_admin_lock(struct spool *sp, const char *id, int *fd_r);

/* Do verb to entry id (locked by the caller):
   - hold / release: a hold or release record, when it changes anything;
   - flush: a flush record (every pending recipient due now);
   - delete: the entry removed (envelope, data, state), no report;
   - bounce: every pending recipient fails now (554 5.0.0, "delivery
     given up by the administrator"), a report to the sender as NOTIFY
     asks (bounce_write(); *bounce_id_r the new entry, or NULL), then the
     entry removed.
   Returns QUEUE_ANSWER_OK, NOTFOUND, or ERROR with *error_r static. */
enum queue_answer_kind queue_admin_act(const struct queue_admin *a, enum queue_request_verb verb,
                                       const char *id, char **bounce_id_r, const char **error_r);

/* Give the files of entry id (envelope, data, state) to the owner of the
   queue directory, when we run as root (the CLI) and it is not root. */
void queue_admin_give_files(struct spool *sp, const char *id);

#endif
