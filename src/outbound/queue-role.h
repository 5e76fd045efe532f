#ifndef TERN_QUEUE_QUEUE_ROLE_H
#define TERN_QUEUE_QUEUE_ROLE_H

/*
 * The queue role: one supervised process without listeners that delivers
 * what waits in <data_dir>/queue/ (docs/queue.md, "Delivery"). It resumes
 * every entry at start, takes new ones when the channel says "message
 * queued", retries temporary failures per recipient on the schedule of
 * queue { }, and removes an entry once every recipient is delivered or
 * failed. `tern queue flush` reaches it through <data_dir>/queue/flush/
 * (queue_flush_request()).
 */

#include "master/role.h"

extern const struct role_ops queue_role_ops;

/* The directory of flush requests: <queue dir>/flush (malloc'ed). */
char *queue_flush_dir(const char *queue_dir);

/* Ask a running queue role to retry entry id now (NULL: every entry):
   a file in the flush directory, which the role watches. Returns 0, or -1
   with a static *error_r (no flush directory: the queue role never ran). */
int queue_flush_request(const char *queue_dir, const char *id, const char **error_r);

#endif
