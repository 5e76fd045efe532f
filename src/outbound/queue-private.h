#ifndef TERN_QUEUE_QUEUE_PRIVATE_H
#define TERN_QUEUE_QUEUE_PRIVATE_H

/* Inside the queue role: the entries it holds (queue-role.c) and the
   delivery jobs that carry their recipients to one destination
   (queue-deliver.c). See docs/queue.md, "Delivery". */

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "lib/array.h"
#include "master/role.h"
#include "queue/queue-hold.h"
#include "queue/queue-mx.h"
#include "queue/queue-request.h"
#include "queue/queue-retry.h"
#include "queue/queue-settings.h"
#include "queue/queue-state.h"
#include "queue/queue-transport.h"
#include "queue/spool.h"
#include "queue/tls-policy.h"
#include "smtp/smtp-client.h"

struct directory;
struct dns_resolver;
struct queue_job;
struct queue_conn;
struct queue_write;

/* One spool entry the role holds in memory. */
struct queue_entry {
	char *id;
	struct spool_envelope env;
	struct queue_state state;
	char *state_path;
	char *data_path;
	unsigned jobs; /* delivery jobs running for it */
	bool gone;     /* removed from the role's list; freed when jobs is 0 */
	/* flock(LOCK_EX) on <id>.env while jobs run: during a reload the
	   draining queue role and the new one never send the same entry */
	int lock_fd;
	int64_t busy_until; /* another process held the lock: not before */
	/* an admin delete/bounce that came while jobs ran: done when they end */
	bool later;
	enum queue_request_verb later_verb;
	/* records on their way to disk (queue-write.c), oldest first: only
	   the first is being written, each counts in jobs */
	ARRAY(struct queue_write *) writes;
};

struct queue_role {
	struct role_ctx *role;
	const struct tern_settings *settings;
	const struct queue_settings *set;
	struct queue_retry_policy retry;
	struct spool *spool;
	struct srs *srs; /* bounces to SRS senders go to the decoded address */
	struct dns_resolver *resolver;
	SSL_CTX *client_tls;           /* NULL: no STARTTLS */
	struct tls_policy *tls_policy; /* per MX host: how TLS must be; NULL: opportunistic */
	struct queue_transport *transport;
	queue_auths auths;     /* queue.auth_file */
	struct directory *dir; /* for local recipients (queue-local.h) */
	const char *helo;
	ARRAY(struct queue_entry *) entries;
	ARRAY(struct queue_job *) waiting; /* jobs waiting for a connection slot */
	ARRAY(struct queue_job *) running;
	struct event *timer;
	struct event *scan_timer;
	int inotify_fd;
	struct event *inotify_ev;
	char *flush_dir;
	int role_lock_fd;              /* LOCK_SH on <queue>/role.lock: a role runs */
	struct queue_hold_rules rules; /* <queue>/rules/hold, applied to new entries */
	int rules_wd;                  /* inotify watch of <queue>/rules/ */
	uint64_t rng;
	bool stopping;
	/* admin requests wait (a few ms each, REQUEST_WAITS at most) while
	   records are on their way to disk, so that an act sees them durable */
	struct event *request_timer;
	unsigned request_waits;
};

/* A delivery job: recipients (indices in the envelope) of one entry,
   all to one destination domain. */
struct queue_job {
	struct queue_role *q;
	struct queue_entry *entry;
	char *domain;
	bool local; /* a domain of ours: queue-local.c, no SMTP */
	ARRAY(unsigned) rcpts;
	/* per job recipient: the outcome so far (code 0: none yet) */
	ARRAY(struct smtp_client_result) results;
	/* routing */
	const struct queue_auth *auth; /* the route's credentials; NULL: no AUTH */
	queue_mx_hosts hosts;
	unsigned port;
	size_t host_i;
	queue_addrs addrs;
	size_t addr_i;
	struct dns_query *mx_query, *a_query, *aaaa_query;
	queue_addrs a_addrs, aaaa_addrs;
	bool a_temp, aaaa_temp;
	/* DNSSEC: the MX answer was secure; an address answer was not */
	bool mx_secure, addr_insecure;
	struct tls_policy_query *tls_query;
	struct tls_decision *decision; /* of the current host, until a conn takes it */
	bool tls_verified;             /* the session's peer was authenticated */
	unsigned pending_lookups;
	struct smtp_client_result last_error; /* the last temporary failure of a host */
	/* the session */
	struct queue_conn *qc;
	struct smtp_client_txn txn;
	ARRAY(unsigned) txn_map; /* txn rcpt -> job rcpt */
	bool txn_done;
	char *mx_name, *mx_ip, *tls;
	int64_t started;
	/* runs on a session an earlier job left idle: a 421 or a loss there
	   before MAIL was accepted (the peer's per-session limit, its idle
	   timeout) means a new connection at once, not a deferral */
	bool reused;
};

/* queue-deliver.c */
struct queue_job *queue_job_new(struct queue_role *q, struct queue_entry *e, const char *domain);
/* Start it (routing, then a connection). Ends with queue_job_finished(). */
void queue_job_start(struct queue_job *job);
/* Take over an idle, ready session of an earlier job to the same
   destination (connection reuse). */
void queue_job_start_on(struct queue_job *job, struct queue_conn *qc);
void queue_job_free(struct queue_job **job);
/* Whether an idle session may carry one more job (fewer transactions
   than queue.max_messages_per_connection so far). */
bool queue_conn_reusable(const struct queue_conn *qc);
/* Close an idle session (QUIT). */
void queue_conn_quit(struct queue_conn *qc);
/* Cancel everything (the role stops). */
void queue_job_abort(struct queue_job *job);

/* queue-role.c: the job is over (results in job->results); qc, if not
   NULL, is an idle session the role may reuse or quit. */
void queue_job_finished(struct queue_job *job, struct queue_conn *qc);

/* queue-role.c: the entry has no job or record in flight any more
   (e->jobs 0): the delay warning, unlock, removal, a pending admin act. */
void queue_entry_settle(struct queue_role *q, struct queue_entry *e);

/* queue-role.c, thread-safe (a worker runs it): write the RFC 3464 report
   of the recipients of env that failed for good (their envelope indices
   and final results) into the spool, as src/queue/bounce.h decides who
   gets one. Returns bounce_write()'s 1 (*id_r the new entry), 0 (none
   needed) or -1 (*error_r static). */
int queue_bounce_write(struct queue_role *q, const struct spool_envelope *env,
                       const char *data_path, const unsigned *rcpt_indices,
                       const struct smtp_client_result *results, size_t count, int64_t now,
                       char **id_r, const char **error_r);
/* queue-role.c, on the loop: a report was written as entry id: load it and
   run it at the next turn of the loop (never inside this call). */
void queue_bounce_queued(struct queue_role *q, const char *id);

/* queue-write.c: the records of one outcome of entry e at time t, written
   on the worker pool in order per entry (one append and fdatasync; the
   report of recipients failed for good first). Fill it, then submit it;
   the caller applies the lines of queue_write_event() to e->state itself
   at once, those of queue_write_failed() are applied when the report is
   written (`failed`) or could not be (`unreported`, retried at ev->next):
   until then those recipients are pending and not due. */
struct queue_write *queue_write_new(struct queue_role *q, struct queue_entry *e, int64_t t);
void queue_write_event(struct queue_write *w, const struct queue_state_event *ev);
void queue_write_failed(struct queue_write *w, const struct queue_state_event *ev,
                        const struct smtp_client_result *res);
bool queue_write_empty(const struct queue_write *w);
/* Queue it behind e's earlier records (e->jobs counts it until its done
   ran queue_entry_settle()); takes w. */
void queue_write_submit(struct queue_write *w);

#endif
