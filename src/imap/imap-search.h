#ifndef TERN_IMAP_IMAP_SEARCH_H
#define TERN_IMAP_IMAP_SEARCH_H

/*
 * The search engine of cmd-search.c, shared with SORT and THREAD
 * (cmd-sort.c): compile the search keys of a command, match them against
 * the selected mailbox in slices of the event loop, and hand the matching
 * message numbers to a callback.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap-private.h"

/* Called once when the search is over, with the matching message numbers
   in ascending order and, when the keys had a MODSEQ (RFC 7162 3.1.5),
   the highest modseq of the matches (else 0); it writes the command's
   tagged reply (tag). */
typedef void imap_search_done_fn(struct imap_session *s, const char *tag, const uint32_t *seqs,
                                 size_t count, uint64_t modseq, void *ctx);

/* Work on the result before done, in the search's slices of the loop:
   work until deadline_usec (CLOCK_MONOTONIC) has passed, then return 0 to
   be called again at a later turn, or 1 when finished. */
typedef int imap_search_step_fn(struct imap_session *s, const uint32_t *seqs, size_t count,
                                void *ctx, uint64_t deadline_usec);

/* Is charset one SEARCH accepts (US-ASCII, UTF-8: both matched as bytes)? */
bool imap_search_charset_ok(const char *charset);

/* Compile the search keys args[0..count) of cmd (no CHARSET) and start
   matching. Returns -1 (nothing written, ctx not taken) if the keys are
   invalid: the caller replies BAD. Returns 0 when started: step(ctx) (if
   not NULL) until it returns 1, then done(ctx) run, now or from later
   turns of the loop (the session is held meanwhile), then ctx_free(ctx);
   if the session closes first only ctx_free runs. */
int imap_search_start(struct imap_session *s, const struct imap_cmd *cmd,
                      const struct imap_arg *args, size_t count, imap_search_step_fn *step,
                      imap_search_done_fn *done, void *ctx, void (*ctx_free)(void *ctx));

/* The RETURN options of ESEARCH (RFC 4731), SEARCHRES (RFC 5182) and
   ESORT (RFC 5267). */
enum imap_return_opt {
	IMAP_RETURN_MIN = 1u << 0,
	IMAP_RETURN_MAX = 1u << 1,
	IMAP_RETURN_ALL = 1u << 2,
	IMAP_RETURN_COUNT = 1u << 3,
	IMAP_RETURN_SAVE = 1u << 4,
};

/* Parse the parenthesised list of a RETURN: 0 with the options ("()" is
   ALL), or -1 for something else or an unknown option. */
int imap_search_return_parse(const struct imap_arg *list, unsigned *opts_r);

/* Write "* ESEARCH (TAG "tag") [UID] MIN.. MAX.. ALL.. COUNT.. [MODSEQ n]"
   (MODSEQ when modseq is not 0, RFC 7162 3.1.5) for the
   result nums[0..count) (message numbers or UIDs, in the order of the
   answer: ascending for SEARCH, the sort order for SORT, whose MIN and MAX
   are the first and the last). MIN, MAX and ALL are left out when nothing
   matched; nothing is written when opts is SAVE alone. */
void imap_esearch_write(struct imap_session *s, const char *tag, bool uid, unsigned opts,
                        const uint32_t *nums, size_t count, uint64_t modseq);

#endif
