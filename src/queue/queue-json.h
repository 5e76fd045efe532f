#ifndef TERN_QUEUE_QUEUE_JSON_H
#define TERN_QUEUE_QUEUE_JSON_H

/*
 * `tern queue list --json` and `show --json` (docs/queue.md, "tern
 * queue"): one JSON object per entry, the fields a script needs:
 *
 *   {"id": "...", "arrival": 1764766000, "arrival_utc": "2026-12-03T13:40:00Z",
 *    "size": 10240, "sender": "alice@example.org", "held": false,
 *    "held_since": 0, "warned": 0,
 *    "recipients": [{"address": "bob@other.test", "status": "pending",
 *                    "attempts": 1, "last": 1764766000, "next": 1764766300,
 *                    "code": 451, "enhanced": "4.4.1", "text": "...",
 *                    "mx": "...", "ip": "...", "tls": "none"}]}
 *
 * ("sender" is "" for the null sender; absent strings are null; "next" 0
 * means now.) The full form (show) adds the envelope's other fields:
 * "ret", "envid", "body", "requiretls", "smtputf8", "auth", "client",
 * "helo", "smtp_id", "data_skip", and per recipient "notify", "orcpt",
 * "alias". Strings are escaped (RFC 8259); bytes that are not UTF-8
 * become U+FFFD, so the output always parses.
 */

#include <stdbool.h>

#include "lib/buf.h"

struct spool_envelope;
struct queue_state;

/* s as a JSON string (with the quotes) into out; NULL: null. */
void queue_json_string(struct buf *out, const char *s);

/* The object of entry env with state st into out (no newline). */
void queue_json_entry(struct buf *out, const struct spool_envelope *env,
                      const struct queue_state *st, bool full);

#endif
