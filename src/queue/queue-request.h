#ifndef TERN_QUEUE_QUEUE_REQUEST_H
#define TERN_QUEUE_QUEUE_REQUEST_H

/*
 * Requests from `tern queue` to a running queue role (docs/queue.md,
 * "Requests"). The CLI writes one line into a new file of the request
 * directory <queue>/flush/ (written as a dot-file, then renamed: the role
 * sees whole files only), named r-<pid>-<random>:
 *
 *   <verb> <target>...\n
 *
 * verb: flush, hold, release, delete, bounce, rules (re-read the hold
 * rules); targets: queue ids, `all`, or `domain=<domain>` (flush only).
 * The role removes the file (whoever removes it owns the request), acts,
 * and writes the answer <queue>/answers/<same name> (again via a dot-file
 * and a rename), one line per entry it touched, then `end`:
 *
 *   ok <id>          done
 *   later <id>       a delivery is in progress; done when it ends
 *   notfound <id>    no such entry
 *   busy <id>        another queue process holds the entry
 *   error <id> <escaped text>
 *   end
 *
 * A request with no running role gets no answer: the CLI first checks
 * whether one runs (queue_role_running()) and otherwise acts on the files
 * itself under the entry lock.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/array.h"
#include "lib/buf.h"

enum queue_request_verb {
	QUEUE_REQ_FLUSH,
	QUEUE_REQ_HOLD,
	QUEUE_REQ_RELEASE,
	QUEUE_REQ_DELETE,
	QUEUE_REQ_BOUNCE,
	QUEUE_REQ_RULES,
};

struct queue_request {
	enum queue_request_verb verb;
	bool all;     /* every entry */
	char *domain; /* flush: entries with a recipient in it; NULL: none */
	ARRAY(char *) ids;
};

enum queue_answer_kind {
	QUEUE_ANSWER_OK,
	QUEUE_ANSWER_LATER,
	QUEUE_ANSWER_NOTFOUND,
	QUEUE_ANSWER_BUSY,
	QUEUE_ANSWER_ERROR,
};

struct queue_answer_item {
	enum queue_answer_kind kind;
	char *id;
	char *text; /* ERROR only, else NULL */
};

struct queue_answer {
	ARRAY(struct queue_answer_item) items;
};

const char *queue_request_verb_name(enum queue_request_verb verb);
/* The verb of a word ("hold"): 0, or -1 when it is none. */
int queue_request_verb_parse(const char *word, enum queue_request_verb *verb_r);
const char *queue_answer_kind_name(enum queue_answer_kind kind);

/* The line of req (LF-terminated) into out. */
void queue_request_format(const struct queue_request *req, struct buf *out);
/* Parse one request file: exactly one line, a known verb, targets that are
   valid ids, `all` or `domain=D` (flush), at least one unless rules.
   Returns 0, or -1 with *error_r static (req is then empty). */
int queue_request_parse(const char *data, size_t len, struct queue_request *req,
                        const char **error_r);
void queue_request_clear(struct queue_request *req);
void queue_request_add_id(struct queue_request *req, const char *id);

void queue_answer_add(struct queue_answer *ans, enum queue_answer_kind kind, const char *id,
                      const char *text);
void queue_answer_format(const struct queue_answer *ans, struct buf *out);
/* Parse an answer; -1 (static *error_r) unless it is complete (`end`). */
int queue_answer_parse(const char *data, size_t len, struct queue_answer *ans,
                       const char **error_r);
void queue_answer_clear(struct queue_answer *ans);

/* <queue_dir>/flush and <queue_dir>/answers (malloc'ed). */
char *queue_request_dir(const char *queue_dir);
char *queue_answer_dir(const char *queue_dir);

/* The lock a running queue role holds (LOCK_SH, for its life):
   <queue_dir>/role.lock. queue_role_lock() takes it for the role: the fd
   to keep open, or -1 (logged by the caller). */
int queue_role_lock(const char *queue_dir);

/* Whether a queue role runs: 1 yes; 0 no, and *fd_r (>= 0, or -1 when no
   role ever ran) holds the lock exclusively so none starts while the
   caller works on the files (close it when done). */
int queue_role_running(const char *queue_dir, int *fd_r);

/* Send req to the running role and wait at most timeout_ms for its
   answer. Returns 0 with *ans filled, or -1 with *error_r static (no
   request directory, cannot write, no answer in time: the request is then
   withdrawn if the role has not taken it yet). */
int queue_request_send(const char *queue_dir, const struct queue_request *req, int timeout_ms,
                       struct queue_answer *ans, const char **error_r);

/* The role's side: write ans as the answer to the request file name. */
int queue_answer_write(const char *queue_dir, const char *name, const struct queue_answer *ans);

/* Whether name is a request file name (r-...), not a legacy flush file. */
bool queue_request_name(const char *name);

#endif
