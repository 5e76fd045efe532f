#ifndef TERN_SIEVE_SIEVE_ACTIONS_H
#define TERN_SIEVE_SIEVE_ACTIONS_H

/* Adding actions to a run's result with the rules of RFC 5228 section
   2.10 (duplicates merged, implicit keep cancelled) and the conflicts of
   RFC 5429 section 2.1 and RFC 5230 section 4.7. */

#include "sieve/sieve-run.h"

/* Add act (its strings taken over) for command n. Returns 0, or -1 with a
   run-time error (a conflict, a limit). */
int sieve_action_add(struct sieve_run *r, const struct sieve_node *n, struct sieve_action *act);

/* Free the strings an action holds. */
void sieve_action_clear(struct sieve_action *a);

#endif
