#ifndef TERN_SMTP_SMTP_RATE_H
#define TERN_SMTP_SMTP_RATE_H

/*
 * Counting events per key (a user, an IP) over the last hour, for the
 * submission limits (docs/submission.md). The counts live in a shared
 * table (lib/shm-table.h) the supervisor makes before it forks the roles,
 * so every smtp process counts into the same record per key and the limit
 * holds for the server, not per process. The hour is 60 one-minute
 * buckets, so the window slides by the minute. About SMTP_RATE_KEYS_MAX
 * keys are kept; when a key's set is full, the key idle longest there is
 * forgotten. I/O-free: time is passed in.
 *
 * The check (at MAIL) and the count (after the message is accepted) are
 * two steps, so transactions in flight at once may each pass the check:
 * the limit can be passed by the transactions open at that moment.
 */

#include <stdbool.h>
#include <time.h>

#include "lib/shm-table.h"

#define SMTP_RATE_KEYS_MAX 20000
#define SMTP_RATE_BUCKETS  60

struct smtp_rate;

/* A table for smtp_rate_new to share, for SMTP_RATE_KEYS_MAX keys.
   Returns NULL with a static reason in *error_r. */
struct shm_table *smtp_rate_table_new(const char **error_r);

/* A counter allowing limit events an hour per key (0: no limit), counting
   into shared (not owned, must outlive the result); shared NULL: a table
   of this process alone. Never returns NULL (a table that cannot be
   mapped is fatal). */
struct smtp_rate *smtp_rate_new(unsigned limit, struct shm_table *shared);
void smtp_rate_free(struct smtp_rate **rate);

/* The events of key in the hour before now. */
unsigned smtp_rate_count(struct smtp_rate *rate, const char *key, time_t now);

/* True if one more event of key fits in the limit. */
bool smtp_rate_allows(struct smtp_rate *rate, const char *key, time_t now);

/* Count one event of key at now. */
void smtp_rate_add(struct smtp_rate *rate, const char *key, time_t now);

#endif
