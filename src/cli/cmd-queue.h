#ifndef TERN_CLI_CMD_QUEUE_H
#define TERN_CLI_CMD_QUEUE_H

/* Inside `tern queue` (cmd-queue.c: options, list, show; cmd-queue-act.c:
   hold, release, delete, bounce, flush, hold-rule). docs/queue.md. */

#include <stdbool.h>
#include <stdint.h>

#include "lib/array.h"
#include "lib/settings.h"
#include "queue/queue-state.h"
#include "queue/spool.h"

/* Which entries a command is about (list filters, or the targets of an
   action given as filters). */
struct queue_filter {
	const char *from;   /* the sender is this address */
	const char *to;     /* a recipient is this address */
	const char *domain; /* a recipient is in this domain */
	bool held;          /* held entries only */
	int64_t older_than; /* arrived at least this many seconds ago; 0: any */
	bool any;           /* some filter was given */
};

struct queue_cmd {
	const struct tern_settings *settings;
	struct spool *spool;
	struct queue_filter filter;
	bool json;
	bool all;
	ARRAY(const char *) args; /* the words that are not options */
};

/* Whether the entry (env, st) passes f. */
bool queue_filter_match(const struct queue_filter *f, const struct spool_envelope *env,
                        const struct queue_state *st, int64_t now);

/* Read entry id's envelope and state: 0, or -1 with *error_r static. */
int queue_cmd_read(struct spool *sp, const char *id, struct spool_envelope *env,
                   struct queue_state *st, const char **error_r);

/* The ids of every entry passing c->filter (malloc'ed; spool_ids_free). */
int queue_cmd_select(const struct queue_cmd *c, char ***ids_r, size_t *count_r);

/* tern queue hold|release|delete|bounce|flush (verb its word). */
int queue_cmd_act(struct queue_cmd *c, const char *verb);
/* tern queue hold-rule add|list|remove. */
int queue_cmd_hold_rule(struct queue_cmd *c);

#endif
