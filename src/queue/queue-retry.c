/* The retry schedule: see queue-retry.h. */
#include "queue/queue-retry.h"

int64_t queue_retry_delay(const struct queue_retry_policy *p, unsigned attempts)
{
	int64_t d = p->first > 0 ? p->first : 1;

	for (unsigned i = 1; i < attempts && d < (int64_t)p->max; i++)
		d *= 2;
	if (d > (int64_t)p->max)
		d = p->max;
	return d > 0 ? d : 1;
}

bool queue_retry_expired(const struct queue_retry_policy *p, int64_t arrival, int64_t now,
                         unsigned attempts, int64_t *next_r)
{
	int64_t limit = arrival + (int64_t)p->give_up;
	int64_t next;

	if (now >= limit)
		return true;
	next = now + queue_retry_delay(p, attempts);
	*next_r = next < limit ? next : limit;
	return false;
}
