#ifndef TERN_SMTP_SMTP_RATE_H
#define TERN_SMTP_SMTP_RATE_H

/*
 * Counting events per key (a user, an IP) over the last hour, for the
 * submission limits (docs/submission.md). In memory, per process: with N
 * smtp processes each counts its own, so the effective limit is up to N
 * times the setting. The hour is 60 one-minute buckets, so the window
 * slides by the minute. At most SMTP_RATE_KEYS_MAX keys are kept; keys
 * with nothing in the last hour are dropped first, and past the bound
 * the oldest key is forgotten. I/O-free: time is passed in.
 */

#include <stdbool.h>
#include <time.h>

#define SMTP_RATE_KEYS_MAX 20000
#define SMTP_RATE_BUCKETS  60

struct smtp_rate;

/* A counter allowing limit events an hour per key (0: no limit). */
struct smtp_rate *smtp_rate_new(unsigned limit);
void smtp_rate_free(struct smtp_rate **rate);

/* The events of key in the hour before now. */
unsigned smtp_rate_count(struct smtp_rate *rate, const char *key, time_t now);

/* True if one more event of key fits in the limit. */
bool smtp_rate_allows(struct smtp_rate *rate, const char *key, time_t now);

/* Count one event of key at now. */
void smtp_rate_add(struct smtp_rate *rate, const char *key, time_t now);

#endif
