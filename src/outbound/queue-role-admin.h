#ifndef TERN_OUTBOUND_QUEUE_ROLE_ADMIN_H
#define TERN_OUTBOUND_QUEUE_ROLE_ADMIN_H

/* Inside the queue role: the entry helpers of queue-role.c and the admin
   side of queue-role-admin.c (delay warnings, `tern queue` requests, hold
   rules). docs/queue.md, "Admin records". */

#include <stdbool.h>
#include <stdint.h>

#include "outbound/queue-private.h"

/* ---- queue-role.c ---- */

/* time(NULL). */
int64_t queue_now(void);
/* The entry with this id the role holds; NULL: none. */
struct queue_entry *queue_entry_find(struct queue_role *q, const char *id);
/* Read entry id from the spool into the role's list (hold rules applied
   when it is new); NULL when it is not there or unreadable (logged). */
struct queue_entry *queue_entry_load(struct queue_role *q, const char *id);
/* Take e off the list; freed now, or when its last job ends. */
void queue_entry_drop(struct queue_role *q, struct queue_entry *e);
/* Take e's lock (flock on its .env) and re-read its state: 1 locked, 0
   busy elsewhere (busy_until set), -1 gone. */
int queue_entry_lock(struct queue_role *q, struct queue_entry *e, int64_t t);
void queue_entry_unlock(struct queue_entry *e);
/* Load every committed entry the role does not hold yet. */
void queue_scan(struct queue_role *q);
/* The domain of an address ("" without '@'). */
const char *queue_rcpt_domain(const char *address);

/* ---- queue-role-admin.c ---- */

/* When the delay warning of e falls due; -1: none to send (off, sent,
   held, or no recipient tried and still pending). */
int64_t queue_warn_time(const struct queue_role *q, const struct queue_entry *e);
/* Whether it is due at t. */
bool queue_warn_due(const struct queue_role *q, const struct queue_entry *e, int64_t t);
/* Send it (the caller holds e's lock): one RFC 3464 report, action
   delayed, for every recipient tried and still pending, as NOTIFY asks;
   then the `warned` record so it never goes again. The report's entry is
   loaded (the caller's schedule() runs it). */
void queue_warn(struct queue_role *q, struct queue_entry *e, int64_t t);

/* Take the request file name of the flush directory (dfd), if nobody else
   did (whoever unlinks it owns it), act on it and write the answer. */
void queue_role_request(struct queue_role *q, int dfd, const char *name);
/* A delete/bounce that waited for e's jobs (e->later): do it now. */
void queue_admin_later(struct queue_role *q, struct queue_entry *e);

/* (Re)load <queue>/rules/hold into q->rules (an error is logged, no rules). */
void queue_rules_load(struct queue_role *q);
/* A new entry (no record, never tried) that a hold rule matches is held:
   a hold record under its lock. */
void queue_hold_if_ruled(struct queue_role *q, struct queue_entry *e);

#endif
