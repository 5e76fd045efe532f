#ifndef TERN_QUEUE_QUEUE_STATE_H
#define TERN_QUEUE_QUEUE_STATE_H

/*
 * The per-recipient delivery state of a spool entry: <id>.state beside
 * the envelope, append-only, one event per line (docs/queue.md):
 *
 *   attempt 1764766000 rcpt=0 code=451 status=4.4.1 next=1764766300 mx=mx.other.test
 *           ip=192.0.2.1 tls=none text=Try%20again%20later
 *   done 1764766300 rcpt=0 code=250 status=2.0.0 mx=... ip=... tls=dane tls_verified=yes
 *           text=...
 *   failed 1764766300 rcpt=1 code=550 status=5.1.1 ... text=...
 *   unreported 1764766300 rcpt=1 code=550 status=5.1.1 next=1764766600 ... text=...
 *
 * `unreported`: the recipient failed for good but its bounce could not
 * be written; it stays pending (not delivered again: only the bounce is
 * retried at next, from this line's code, status and text) until a
 * `failed` line says the report went out.
 * (one line each; values escaped as the envelope's: bytes 0x00-0x20,
 * 0x7F and '%' as %XX). rcpt is the index in the envelope's rcpt list.
 * A recipient's state is the last of its lines; `done` and `failed` are
 * final. A partial last line (a crash while appending) and malformed
 * lines are skipped (counted), so the state can only lose a record, which
 * means a retry, never a lost message. tls is how the session's TLS was
 * (tls_policy_describe: none, opportunistic, dane, mta-sts); tls_verified
 * (yes/no, only beside a tls other than none; absent in older records,
 * read as no) whether the peer's certificate was authenticated.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"
#include "lib/buf.h"

enum queue_rcpt_status {
	QUEUE_RCPT_PENDING, /* not tried, or failed temporarily: retried */
	QUEUE_RCPT_DONE,    /* delivered (a 2xx at the end of DATA) */
	QUEUE_RCPT_FAILED,  /* failed permanently or expired: bounced */
};

enum queue_event_kind {
	QUEUE_EVENT_ATTEMPT, /* a temporary failure; next says when again */
	QUEUE_EVENT_DONE,
	QUEUE_EVENT_FAILED,
	QUEUE_EVENT_UNREPORTED, /* failed, the bounce not written yet; next: retry it */
};

/* One line. Strings may be NULL (written as absent). */
struct queue_state_event {
	enum queue_event_kind kind;
	int64_t time;
	unsigned rcpt;
	unsigned code;      /* SMTP code, 0: none (e.g. a DNS failure) */
	const char *status; /* enhanced status "4.4.1" */
	int64_t next;       /* attempts and unreported only */
	const char *mx, *ip, *tls, *text;
	bool tls_verified; /* written only when tls is set and not "none" */
};

struct queue_rcpt_state {
	enum queue_rcpt_status status;
	unsigned attempts; /* lines seen for it */
	int64_t last;      /* time of the last line, 0: never tried */
	int64_t next;      /* earliest next attempt (pending); 0: now */
	unsigned code;
	char enhanced[16];
	char *mx, *ip, *tls, *text; /* of the last line; NULL: none */
	bool tls_verified;
	/* pending only for its bounce (an `unreported` line): never delivered
	   again; code, enhanced and text are the failure to report */
	bool unreported;
};

struct queue_state {
	ARRAY(struct queue_rcpt_state) rcpts;
	size_t malformed; /* lines skipped (partial or not readable) */
	/* entry records (below): the last hold/release decides */
	bool held;
	int64_t held_since; /* time of the hold record that holds it */
	int64_t released;   /* time of the last release record, 0: none */
	int64_t warned;     /* time of the delay warning, 0: none sent */
	size_t records;     /* entry records seen */
};

/* Entry records: lines about the whole entry, not one recipient
   (docs/queue.md, "Admin records"): `hold T`, `release T` (an admin or a
   hold rule held it / let it go), `warned T` (the delay warning went
   out, never again), `flush T` (every pending recipient is due now). */
enum queue_record_kind {
	QUEUE_RECORD_HOLD,
	QUEUE_RECORD_RELEASE,
	QUEUE_RECORD_WARNED,
	QUEUE_RECORD_FLUSH,
};

/* Append the record as one line (LF-terminated) to out. */
void queue_state_format_record(enum queue_record_kind kind, int64_t t, struct buf *out);

/* Apply a record to st (hold/release set held, warned sets warned, flush
   makes every pending recipient due now). */
void queue_state_apply_record(struct queue_state *st, enum queue_record_kind kind, int64_t t);

/* A state for rcpt_count recipients, all pending and untried. */
void queue_state_init(struct queue_state *st, size_t rcpt_count);
void queue_state_clear(struct queue_state *st);

/* Apply one event (an rcpt out of range is ignored: returns -1). A final
   state never changes again (-1 too). */
int queue_state_apply(struct queue_state *st, const struct queue_state_event *ev);

/* Append ev as one line (LF-terminated) to out. */
void queue_state_format(const struct queue_state_event *ev, struct buf *out);

/* Parse len bytes of a state file into st (initialised for rcpt_count
   recipients first). Never fails: unreadable lines are counted in
   st->malformed and skipped. */
void queue_state_parse(const char *data, size_t len, size_t rcpt_count, struct queue_state *st);

/* Read the file at path into st (a missing file is an untried state).
   Returns 0, or -1 with a static *error_r on an I/O error. */
int queue_state_read(const char *path, size_t rcpt_count, struct queue_state *st,
                     const char **error_r);

/* Append lines (whole LF-terminated lines) to the file at path (created
   0600), after an LF of its own when the file ends in a partial line,
   and fdatasync it. Returns 0, or -1 with a static *error_r. */
int queue_state_append(const char *path, const struct buf *lines, const char **error_r);

/* Whether every recipient is final. */
bool queue_state_finished(const struct queue_state *st);

/* The word of a status ("pending", "done", "failed"). */
const char *queue_rcpt_status_name(enum queue_rcpt_status s);

struct spool_envelope;
/* For `tern queue show`: one line per recipient of env with its state in
   st: "<address> pending attempts=2 last=2026-12-03T13:40:00Z code=451
   status=4.4.1 next=... mx=... ip=... tls=... text=..." (values escaped
   as in the file, so safe on a terminal). */
void queue_state_show(const struct spool_envelope *env, const struct queue_state *st,
                      struct buf *out);

#endif
