#ifndef TERN_QUEUE_QUEUE_HOLD_H
#define TERN_QUEUE_QUEUE_HOLD_H

/*
 * Hold rules (`tern queue hold-rule`): a new queue entry whose sender is a
 * rule's address, or with a recipient in a rule's domain, is held when the
 * queue role first picks it up (docs/queue.md, "Hold rules"). Stored in
 * <queue>/rules/hold, a text file replaced atomically, one rule a line:
 *
 *   from alice@example.org
 *   to-domain other.test
 *
 * Rules are numbered from 1 in file order. Values hold no space or
 * control byte and are compared ignoring ASCII case.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/array.h"
#include "lib/buf.h"

struct spool_envelope;

enum queue_hold_kind {
	QUEUE_HOLD_FROM,      /* the envelope sender */
	QUEUE_HOLD_TO_DOMAIN, /* the domain of any recipient */
};

struct queue_hold_rule {
	enum queue_hold_kind kind;
	char *value;
};

struct queue_hold_rules {
	ARRAY(struct queue_hold_rule) items;
};

/* <queue_dir>/rules (the directory the queue role watches) and the file
   in it (malloc'ed). */
char *queue_hold_rules_dir(const char *queue_dir);
char *queue_hold_rules_path(const char *queue_dir);

/* The word of a kind ("from", "to-domain"). */
const char *queue_hold_kind_name(enum queue_hold_kind kind);

/* Whether value may be stored (1-255 bytes, no byte <= 0x20 nor 0x7F). */
bool queue_hold_value_valid(const char *value);

/* Parse a rules file into rules (empty first). Empty lines and lines
   starting with '#' are skipped. Returns 0, or -1 with *line_r the 1-based
   line and *error_r static on a line that is not a rule. */
int queue_hold_rules_parse(const char *data, size_t len, struct queue_hold_rules *rules,
                           size_t *line_r, const char **error_r);
void queue_hold_rules_format(const struct queue_hold_rules *rules, struct buf *out);
void queue_hold_rules_clear(struct queue_hold_rules *rules);

/* Append a copy of the rule. */
void queue_hold_rules_add(struct queue_hold_rules *rules, enum queue_hold_kind kind,
                          const char *value);

/* Load the rules of queue_dir (a missing file: none). Returns 0, or -1
   with *error_r static. */
int queue_hold_rules_load(const char *queue_dir, struct queue_hold_rules *rules,
                          const char **error_r);

/* Change the stored rules under an flock on the rules directory: add one
   (kind, value) when del is 0, else remove rule number del (1-based).
   The file is replaced atomically (written, fsynced, renamed, directory
   fsynced), so a reader sees the old rules or the new ones. *rules_r gets
   the rules as stored afterwards. Returns 0, -1 with *error_r static
   (del out of range: "no such rule"). */
int queue_hold_rules_edit(const char *queue_dir, size_t del, enum queue_hold_kind kind,
                          const char *value, struct queue_hold_rules *rules_r,
                          const char **error_r);

/* The 1-based number of the first rule env matches, 0: none. */
size_t queue_hold_match(const struct queue_hold_rules *rules, const struct spool_envelope *env);

#endif
