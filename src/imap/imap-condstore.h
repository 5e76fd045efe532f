#ifndef TERN_IMAP_IMAP_CONDSTORE_H
#define TERN_IMAP_IMAP_CONDSTORE_H

/*
 * The arguments CONDSTORE and QRESYNC (RFC 7162) add to SELECT/EXAMINE,
 * FETCH and STORE. Pure parsing, no I/O: each returns 0, or -1 with a
 * static *error_r (the caller answers BAD).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap-parser.h"
#include "imap/imap-seqset.h"

/* mod-sequence-value (RFC 7162 7): 1 to 2^63-1; zero allowed for
   mod-sequence-valzer (UNCHANGEDSINCE 0, SEARCH MODSEQ 0). */
#define IMAP_MODSEQ_MAX ((uint64_t)INT64_MAX)
/* Parse a decimal mod-sequence of 0..IMAP_MODSEQ_MAX from an atom. */
int imap_modseq_parse(const struct imap_arg *arg, uint64_t *modseq_r);

/* SELECT/EXAMINE parameters (RFC 4466 select-params). */
struct imap_select_params {
	bool condstore; /* (CONDSTORE) */
	bool qresync;   /* (QRESYNC (...)) */
	uint32_t uidvalidity;
	uint64_t modseq;
	/* known-uids, or empty (count 0) if not given: every UID */
	struct imap_seqset known_uids;
	/* seq-match-data: the sequence numbers and their UIDs, both in the
	   order given (each malloc'ed, NULL when match_count is 0) */
	uint32_t *match_seqs, *match_uids;
	size_t match_count;
};
/* Parse the optional parameter list after the mailbox name: args[0..count)
   (count 0: no parameters). *p is filled (free with
   imap_select_params_free()); on -1 it is empty. */
int imap_select_params_parse(const struct imap_arg *args, size_t count,
                             struct imap_select_params *p, const char **error_r);
void imap_select_params_free(struct imap_select_params *p);

/* FETCH modifiers (RFC 7162 3.1.4, 3.2.6): "(CHANGEDSINCE n [VANISHED])".
   arg NULL: none (changedsince 0, vanished false). */
int imap_fetch_mods_parse(const struct imap_arg *arg, uint64_t *changedsince_r, bool *vanished_r,
                          const char **error_r);

/* STORE modifiers (RFC 7162 3.1.3): "(UNCHANGEDSINCE n)". *present_r
   tells whether it was given (UNCHANGEDSINCE 0 is valid). */
int imap_store_mods_parse(const struct imap_arg *arg, uint64_t *unchangedsince_r, bool *present_r,
                          const char **error_r);

#endif
