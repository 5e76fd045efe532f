#ifndef TERN_QUEUE_QUEUE_RETRY_H
#define TERN_QUEUE_QUEUE_RETRY_H

/* The retry schedule of a recipient after temporary failures
   (docs/queue.md): the first retry after `first` seconds, each next one
   after twice the previous, at most `max`; a recipient still failing
   `give_up` seconds after the message arrived expires. */

#include <stdbool.h>
#include <stdint.h>

struct queue_retry_policy {
	unsigned first, max, give_up; /* seconds */
};

/* The wait after the failed attempt number `attempts` (1: the first
   failure): first * 2^(attempts-1), capped at max (and at least 1). */
int64_t queue_retry_delay(const struct queue_retry_policy *p, unsigned attempts);

/* After a temporary failure at now (the recipient's `attempts`-th): true
   when the recipient expired (now is at least arrival + give_up);
   otherwise false with *next_r, the time of the next attempt (never
   later than arrival + give_up, so the last try comes at expiry). */
bool queue_retry_expired(const struct queue_retry_policy *p, int64_t arrival, int64_t now,
                         unsigned attempts, int64_t *next_r);

#endif
