#ifndef TERN_IMAP_IMAP_LIST_EXT_H
#define TERN_IMAP_IMAP_LIST_EXT_H

/*
 * The arguments of extended LIST (RFC 5258, RFC 5819 LIST-STATUS, RFC 6154
 * SPECIAL-USE) and of CREATE's USE parameter (RFC 6154 CREATE-SPECIAL-USE).
 * Pure parsing, no I/O: each returns 0, or -1 with a static *error_r (the
 * caller answers BAD, or NO [USEATTR] where said).
 */

#include <stdbool.h>
#include <stddef.h>

#include "imap/imap-parser.h"

/* The special-use attributes (RFC 6154 2), one bit each. */
enum imap_special_use {
	IMAP_SPECIAL_ALL = 1 << 0,
	IMAP_SPECIAL_ARCHIVE = 1 << 1,
	IMAP_SPECIAL_DRAFTS = 1 << 2,
	IMAP_SPECIAL_FLAGGED = 1 << 3,
	IMAP_SPECIAL_JUNK = 1 << 4,
	IMAP_SPECIAL_SENT = 1 << 5,
	IMAP_SPECIAL_TRASH = 1 << 6,
};
/* The attributes a mailbox here can hold: \All and \Flagged need virtual
   mailboxes, which Tern has not (CREATE with them is NO [USEATTR]). */
#define IMAP_SPECIAL_STORABLE                                                                      \
	(IMAP_SPECIAL_ARCHIVE | IMAP_SPECIAL_DRAFTS | IMAP_SPECIAL_JUNK | IMAP_SPECIAL_SENT |      \
	 IMAP_SPECIAL_TRASH)

/* The bit of attribute name ("\Archive", any case), or 0 if unknown. */
unsigned imap_special_use_bit(const char *name);
/* Append the attributes of mask to out as " \Archive \Sent" (each with a
   leading space, in RFC 6154's order). */
struct buf;
void imap_special_use_append(struct buf *out, unsigned mask);

/* Patterns of one LIST at most (RFC 5258 allows a list of them). */
#define IMAP_LIST_MAX_PATTERNS 64

struct imap_list_params {
	/* selection options */
	bool sel_subscribed, sel_remote, sel_recursive, sel_special_use;
	/* return options (SUBSCRIBED is implied by the SUBSCRIBED selection) */
	bool ret_subscribed, ret_children, ret_special_use;
	/* RETURN (STATUS (...)): the status item list, or NULL */
	const struct imap_arg *ret_status;
	/* any of the RFC 5258 syntax used: selection options, a RETURN, or a
	   list of patterns (the answer then follows RFC 5258) */
	bool extended;
	const char *ref;
	const char *patterns[IMAP_LIST_MAX_PATTERNS]; /* into the arguments */
	size_t pattern_count;
};
/* Parse LIST's arguments args[0..count) (they stay the caller's: p points
   into them). Unknown options, RECURSIVEMATCH without SUBSCRIBED or
   SPECIAL-USE (only SUBSCRIBED gives it CHILDINFO to report), an empty
   pattern list or a malformed RETURN are -1. */
int imap_list_params_parse(const struct imap_arg *args, size_t count, struct imap_list_params *p,
                           const char **error_r);

/* CREATE's optional parameter list (RFC 4466 create-params) args[0..count)
   (count 0: none): "(USE (\Archive ...))" sets *use_r to the attributes'
   mask (0 without USE). -1 for bad syntax (BAD); an unknown attribute, or
   one not in IMAP_SPECIAL_STORABLE, returns -2 (NO [USEATTR]). */
#define IMAP_CREATE_USEATTR (-2)
int imap_create_params_parse(const struct imap_arg *args, size_t count, unsigned *use_r,
                             const char **error_r);

#endif
