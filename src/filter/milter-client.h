#ifndef TERN_FILTER_MILTER_CLIENT_H
#define TERN_FILTER_MILTER_CLIENT_H

/*
 * One SMTP session's conversation with a chain of milters, in order, on
 * the event loop (libevent), over TCP or Unix sockets (docs/filter.md).
 *
 * A stage is a list of steps (a command and the macros sent before it)
 * that every milter of the chain gets in turn: a milter skips the steps it
 * negotiated away (SMFIP_NO*), is not waited for on the ones it said it
 * would not answer (SMFIP_NR_*), and the first reject, tempfail or
 * discard ends the stage. A milter that accepts is left out for the rest
 * of the message (of the session when it accepted the connection). A
 * milter that cannot be reached, times out (timeout per reply, connect
 * timeout for the connection) or breaks the protocol counts as its
 * default action: tempfail (451 4.7.1), reject (550 5.7.1) or accept
 * (left out for the rest of the session).
 *
 * Each milter is connected and negotiated with (SMFIC_OPTNEG) when the
 * first stage reaches it. The modifications the milters ask for at the
 * end of the message are gathered in the result, in order; applying
 * them is the caller's.
 *
 * Loop thread only. One stage at a time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter/filter-settings.h"
#include "lib/buf.h"

struct event_base;

/* One milter of the chain; the strings are the caller's and must outlive
   the session. */
struct milter_def {
	const char *name;
	const char *address; /* "127.0.0.1:11332", "[::1]:11332", "unix:/path" */
	enum milter_default_action default_action;
	unsigned connect_timeout, timeout; /* seconds */
};

enum milter_verdict {
	MILTER_CONTINUE, /* go on (also: every milter accepted) */
	MILTER_REJECT,   /* code and text in the result */
	MILTER_TEMPFAIL, /* code and text in the result */
	MILTER_DISCARD,  /* say 250, deliver nothing */
};

/* A modification (SMFIR_ADDHEADER, INSHEADER, CHGHEADER, ADDRCPT,
   ADDRCPT_PAR, DELRCPT, CHGFROM), fields as in struct milter_reply. */
struct milter_mod {
	char cmd;
	uint32_t index;
	char *name, *value; /* value may be NULL */
};

struct milter_result {
	enum milter_verdict verdict;
	unsigned code;      /* REJECT/TEMPFAIL: 550/451, or the milter's SMFIR_REPLYCODE */
	char *text;         /* "5.7.1 Command rejected", or the milter's text after the code */
	const char *milter; /* the name of the milter that decided, or NULL */
	bool quarantine;    /* SMFIR_QUARANTINE: into Junk */
	char *quarantine_reason;
	struct milter_mod *mods;
	size_t mod_count;
	bool body_replaced; /* SMFIR_REPLBODY: body holds the new body */
	struct buf body;
};

/* A stage: the steps, added in order with milter_stage_add(). */
struct milter_stage {
	struct milter_step *steps;
	size_t count;
};

/* Add a step: the command packet (from the codec, e.g. with
   milter_encode_helo(), copied) and the macros sent before it (count
   pairs, may be 0). Body chunks are SMFIC_BODY steps, one per packet. */
void milter_stage_add(struct milter_stage *st, const struct buf *packet, const char *const *names,
                      const char *const *values, size_t count);
/* Add the body as SMFIC_BODY packets of at most MILTER_CHUNK_MAX bytes
   read from fd (the caller's, open until the stage is done) at offset,
   len bytes: each chunk is read when the previous one was answered, so
   the body is never held whole. */
void milter_stage_add_body_file(struct milter_stage *st, int fd, uint64_t offset, uint64_t len);
void milter_stage_clear(struct milter_stage *st);

struct milter_session;

/* The session's milters (count defs, copied pointers); nothing is
   connected yet. sid prefixes the log lines. */
struct milter_session *milter_session_new(struct event_base *base, const struct milter_def *defs,
                                          size_t count, const char *sid);

/* Send SMFIC_QUIT to the connected milters, close and free. NULL is fine;
   not while a stage is running (see milter_session_run()). */
void milter_session_free(struct milter_session **ms);

/* Called once when a stage is done; res is valid during the call. */
typedef void milter_done_cb(void *ctx, const struct milter_result *res);

/* Run the steps of st (taken: cleared when done) through the chain; done
   is called from the loop (never before this returns). */
void milter_session_run(struct milter_session *ms, struct milter_stage *st, milter_done_cb *done,
                        void *ctx);

/* The transaction ended without a message (RSET, a rejected MAIL): send
   SMFIC_ABORT to the milters that got some of it, and take those that
   accepted the message back. Not while a stage runs. */
void milter_session_abort(struct milter_session *ms);

/* Whether any milter is still to be asked in this session. */
bool milter_session_active(const struct milter_session *ms);

/* Free what res holds (used by tests holding a copy). */
void milter_result_clear(struct milter_result *res);

#endif
